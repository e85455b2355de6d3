using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Bench.Kernels;

/// <summary>The memory-bound ops benchmarked, at the default model's sizes.</summary>
public enum MemoryOp
{
    /// <summary>LayerNorm forward over [2304, 768].</summary>
    LayerNormForward,

    /// <summary>LayerNorm backward over [2304, 768].</summary>
    LayerNormBackward,

    /// <summary>gelu_new forward over [2304, 3072].</summary>
    GeluForward,

    /// <summary>gelu_new backward over [2304, 3072].</summary>
    GeluBackward,

    /// <summary>Residual add over [2304, 768].</summary>
    Add,

    /// <summary>Dropout forward (p = 0.1) over [2304, 768].</summary>
    Dropout,

    /// <summary>Cross-entropy pass 1 over logits [2304, 4096].</summary>
    CrossEntropyStatistics,

    /// <summary>AdamW over one 768 × 3072 weight.</summary>
    AdamW,
}

/// <summary>
/// GB/s of the element-wise and row-wise ops (bytes each must read and write once, over the
/// mean time), to compare with the machine's memory bandwidth. Short in-process job.
/// </summary>
[Config(typeof(Config))]
public class ElementwiseBenchmark
{
    private const int Rows = 2304, C = 768;
    private CpuKernels? _k;
    private DeviceArena? _arena;
    private Tensor _x, _y, _z, _w, _b, _mean, _rstd, _dw, _db, _m, _v;
    private IntTensor _targets;

    /// <summary>The op.</summary>
    [ParamsAllValues]
    public MemoryOp Op { get; set; }

    /// <summary>Threads of the CPU engine.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Bytes the op must move at least once (reads + writes).</summary>
    public static double Bytes(MemoryOp op) => 4.0 * op switch
    {
        MemoryOp.LayerNormForward => 2.0 * Rows * C,
        MemoryOp.LayerNormBackward => 4.0 * Rows * C,
        MemoryOp.GeluForward => 2.0 * Rows * 4 * C,
        MemoryOp.GeluBackward => 3.0 * Rows * 4 * C,
        MemoryOp.Add => 3.0 * Rows * C,
        MemoryOp.Dropout => 2.0 * Rows * C,
        MemoryOp.CrossEntropyStatistics => 1.0 * Rows * 4096,
        _ => 7.0 * C * 4 * C,
    };

    [GlobalSetup]
    public void Setup()
    {
        _k = new CpuKernels(Threads);
        long big = (long)Rows * 4096;
        _arena = _k.CreateArena("bench", (3 * big) + (6 * 4 * (long)C * C) + (16 * Rows) + 4096);
        _x = _arena.AllocateFloat(big);
        _y = _arena.AllocateFloat(big);
        _z = _arena.AllocateFloat(big);
        _w = _arena.AllocateFloat(4 * C * C);
        _b = _arena.AllocateFloat(4 * C * C);
        _m = _arena.AllocateFloat(4 * C * C);
        _v = _arena.AllocateFloat(4 * C * C);
        _dw = _arena.AllocateFloat(C);
        _db = _arena.AllocateFloat(C);
        _mean = _arena.AllocateFloat(Rows);
        _rstd = _arena.AllocateFloat(Rows);
        _targets = _arena.AllocateInt(Rows);
        var rng = new Random(1);
        foreach (Tensor t in new[] { _x, _y, _w, _b })
        {
            float[] values = new float[t.Length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(rng.NextDouble() - 0.5);
            }

            _k.Upload(values, t);
        }

        _k.Upload(Enumerable.Range(0, Rows).Select(i => i % 4096).ToArray(), _targets);
        _k.LayerNormForward(_x, _w, _b, Rows, C, _z, _mean, _rstd);
    }

    [Benchmark]
    public void Run()
    {
        CpuKernels k = _k!;
        switch (Op)
        {
            case MemoryOp.LayerNormForward:
                k.LayerNormForward(_x, _w, _b, Rows, C, _z, _mean, _rstd);
                break;
            case MemoryOp.LayerNormBackward:
                k.LayerNormBackward(_y, _x, _w, _mean, _rstd, Rows, C, _z, _dw, _db);
                break;
            case MemoryOp.GeluForward:
                k.GeluForward(_x, (long)Rows * 4 * C, _z);
                break;
            case MemoryOp.GeluBackward:
                k.GeluBackward(_y, _x, (long)Rows * 4 * C, _z);
                break;
            case MemoryOp.Add:
                k.Add(_x, _y, (long)Rows * C, _z);
                break;
            case MemoryOp.Dropout:
                k.DropoutForward(_x, (long)Rows * C, new DropoutSpec(0.1f, 1, 2, 3), _z);
                break;
            case MemoryOp.CrossEntropyStatistics:
                k.CrossEntropyStatistics(_x, _targets, Rows, 4096, 0, _mean, _rstd,
                    _z.Slice(0, Rows));
                break;
            default:
                k.AdamW(_w, _b, _m, _v, 4L * C * C,
                    new AdamWStep(1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f, 10, 1f));
                break;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _arena?.Dispose();
        _k?.Dispose();
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun
                .WithWarmupCount(2)
                .WithIterationCount(5)
                .WithToolchain(InProcessEmitToolchain.Instance));
            AddColumn(new GigabytesColumn());
        }
    }
}

/// <summary>Bytes moved over the mean time of an <see cref="ElementwiseBenchmark"/> case.</summary>
public sealed class GigabytesColumn : RateColumn
{
    public override string Id => nameof(GigabytesColumn);

    public override string ColumnName => "GB/s";

    public override string Legend =>
        "bytes read and written once, over the mean time, in 10⁹ bytes per second";

    protected override double? Work(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters["Op"] is MemoryOp op ? ElementwiseBenchmark.Bytes(op) : null;
}
