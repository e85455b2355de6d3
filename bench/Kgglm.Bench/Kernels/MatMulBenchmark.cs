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
using Kgglm.Kernels.Ops;

namespace Kgglm.Bench.Kernels;

/// <summary>
/// The CPU matmuls at the model's shapes (M = 2304 tokens = batch 256 × 9), on 1 and 2 threads,
/// with a GFLOP/s column (2·M·K·N / mean time). A short job: the whole set runs in a few
/// minutes; numbers on a shared machine are only as quiet as the machine.
/// </summary>
[Config(typeof(ShortConfig))]
public class MatMulBenchmark
{
    private CpuKernels? _kernels;
    private DeviceArena? _arena;
    private Tensor _a;
    private Tensor _b;
    private Tensor _bias;
    private Tensor _c;

    /// <summary>Every layer's forward and both backward matmuls, and the tied head.</summary>
    public static IEnumerable<MatMulShape> Shapes() =>
    [
        new(MatMulLayout.NN, 2304, 768, 768),    // attn.c_proj forward
        new(MatMulLayout.NN, 2304, 768, 2304),   // attn.c_attn forward
        new(MatMulLayout.NN, 2304, 768, 3072),   // mlp.c_fc forward
        new(MatMulLayout.NN, 2304, 3072, 768),   // mlp.c_proj forward
        new(MatMulLayout.NN, 2304, 4096, 768),   // head dH += dLogits · wte, one vocab chunk
        new(MatMulLayout.NT, 2304, 768, 35609),  // head logits = h · wteᵀ, whole vocabulary
        new(MatMulLayout.NT, 2304, 768, 4096),   // head logits, one vocab chunk
        new(MatMulLayout.NT, 2304, 3072, 768),   // mlp.c_fc dX
        new(MatMulLayout.NT, 2304, 768, 3072),   // mlp.c_proj dX
        new(MatMulLayout.TN, 768, 2304, 768),    // attn.c_proj dW
        new(MatMulLayout.TN, 768, 2304, 3072),   // mlp.c_fc dW
        new(MatMulLayout.TN, 3072, 2304, 768),   // mlp.c_proj dW
        new(MatMulLayout.TN, 4096, 2304, 768),   // head dWte += dLogitsᵀ · h, one vocab chunk
    ];

    /// <summary>Layout and sizes of the matmul.</summary>
    [ParamsSource(nameof(Shapes))]
    public MatMulShape Shape { get; set; } = new(MatMulLayout.NN, 1, 1, 1);

    /// <summary>Threads of the CPU engine.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (MatMulLayout _, int m, int k, int n) = Shape;
        _kernels = new CpuKernels(Threads);
        long floats = ((long)m * k) + ((long)k * n) + ((long)m * n) + n + 64;
        _arena = _kernels.CreateArena("bench", floats);
        _a = _arena.AllocateFloat((long)m * k);
        _b = _arena.AllocateFloat((long)k * n);
        _bias = _arena.AllocateFloat(n);
        _c = _arena.AllocateFloat((long)m * n);
        Random rng = new(1);
        foreach (Tensor t in new[] { _a, _b, _bias })
        {
            float[] values = new float[t.Length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(rng.NextDouble() - 0.5);
            }

            _kernels.Upload(values, t);
        }
    }

    [Benchmark]
    public void MatMul()
    {
        (MatMulLayout layout, int m, int k, int n) = Shape;
        switch (layout)
        {
            case MatMulLayout.NN:
                _kernels!.MatMulNN(_a, _b, _bias, m, k, n, _c, false);
                break;
            case MatMulLayout.NT:
                _kernels!.MatMulNT(_a, _b, m, k, n, _c, false);
                break;
            default:
                _kernels!.MatMulTN(_a, _b, m, k, n, _c, true);
                break;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _arena?.Dispose();
        _kernels?.Dispose();
    }

    /// <summary>One warm-up and three measured iterations, in process, plus GFLOP/s.</summary>
    internal sealed class ShortConfig : ManualConfig
    {
        public ShortConfig()
        {
            AddJob(Job.ShortRun
                .WithWarmupCount(1)
                .WithIterationCount(3)
                .WithToolchain(InProcessEmitToolchain.Instance));
            AddColumn(new GflopsColumn());
        }
    }
}

/// <summary>
/// The matmuls of one decode step (640 rows = 32 users × 20 beams; 1280 = 64 users) on 2
/// threads, plain (B re-packed every call) against <see cref="IKernels.MatMulPacked"/> (B
/// packed once, as the decoder does for a multi-batch decode).
/// </summary>
[Config(typeof(MatMulBenchmark.ShortConfig))]
public class DecodeMatMulBenchmark
{
    private CpuKernels? _kernels;
    private DeviceArena? _arena;
    private PackedOperand? _packed;
    private Tensor _a;
    private Tensor _b;
    private Tensor _c;

    /// <summary>A block's four linear layers and the tied head, at two batch sizes.</summary>
    public static IEnumerable<MatMulShape> Shapes() =>
        new[] { 640, 1280 }.SelectMany(m => new MatMulShape[]
        {
            new(MatMulLayout.NN, m, 768, 2304),   // attn.c_attn
            new(MatMulLayout.NN, m, 768, 768),    // attn.c_proj
            new(MatMulLayout.NN, m, 768, 3072),   // mlp.c_fc
            new(MatMulLayout.NN, m, 3072, 768),   // mlp.c_proj
            new(MatMulLayout.NT, m, 768, 35609),  // head
        });

    /// <summary>Layout and sizes of the matmul.</summary>
    [ParamsSource(nameof(Shapes))]
    public MatMulShape Shape { get; set; } = new(MatMulLayout.NN, 1, 1, 1);

    /// <summary>Whether B is packed once (true) or per call (false).</summary>
    [Params(false, true)]
    public bool Packed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (MatMulLayout layout, int m, int k, int n) = Shape;
        _kernels = new CpuKernels(2);
        _arena = _kernels.CreateArena("bench", ((long)m * k) + ((long)k * n) + ((long)m * n) + 64);
        _a = _arena.AllocateFloat((long)m * k);
        _b = _arena.AllocateFloat((long)k * n);
        _c = _arena.AllocateFloat((long)m * n);
        Random rng = new(1);
        foreach (Tensor t in new[] { _a, _b })
        {
            float[] values = new float[t.Length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(rng.NextDouble() - 0.5);
            }

            _kernels.Upload(values, t);
        }

        _packed = Packed ? _kernels.PackRight(_b, layout, k, n) : null;
    }

    [Benchmark]
    public void MatMul()
    {
        (MatMulLayout layout, int m, int k, int n) = Shape;
        if (_packed is not null)
        {
            _kernels!.MatMulPacked(_a, _packed, default, m, _c, false);
        }
        else if (layout == MatMulLayout.NN)
        {
            _kernels!.MatMulNN(_a, _b, default, m, k, n, _c, false);
        }
        else
        {
            _kernels!.MatMulNT(_a, _b, m, k, n, _c, false);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _packed?.Dispose();
        _arena?.Dispose();
        _kernels?.Dispose();
    }
}

/// <summary>A matmul's layout and sizes, shown as e.g. <c>NT 2304x768x35609</c> (M×K×N).</summary>
public sealed record MatMulShape(MatMulLayout Layout, int M, int K, int N)
{
    /// <summary>Multiply-adds counted twice.</summary>
    public double Flops => 2.0 * M * K * N;

    public override string ToString() => $"{Layout} {M}x{K}x{N}";
}

/// <summary>
/// 2·M·K·N over the mean time of a benchmark that has a <see cref="MatMulShape"/> parameter.
/// </summary>
public sealed class GflopsColumn : RateColumn
{
    public override string Id => nameof(GflopsColumn);

    public override string ColumnName => "GFLOP/s";

    public override string Legend =>
        "2·M·K·N / mean time, in 10⁹ floating-point operations per second";

    protected override double? Work(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters["Shape"] is MatMulShape shape ? shape.Flops : null;
}
