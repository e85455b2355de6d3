using Kgglm.Kernels.Ops;
using static Kgglm.Kernels.KernelArguments;

namespace Kgglm.Kernels.Cpu;

/// <summary>
/// The incremental-decoding kernels of the CPU engine (<see cref="Decode"/>): argument checks,
/// then one <see cref="DecodeJob"/> on the pool, split over rows (or (row, head) pairs) only, so
/// every thread count gives the same bits.
/// </summary>
public sealed unsafe partial class CpuKernels
{
    private readonly DecodeJob _decodeJob = new();

    /// <inheritdoc/>
    public void AttentionDecode(
        Tensor qkv, IntTensor ancestors, int N, int t, int C, int NH, long positionStride,
        Tensor cache, Tensor output)
    {
        CheckAttentionDecode(qkv, ancestors, N, t, C, NH, positionStride, cache, output);
        if (t > 0)
        {
            CheckIds(ancestors, N * t, positionStride / (2 * C), nameof(ancestors));
        }

        DecodeJob j = _decodeJob;
        j.Kind = DecodeKind.Attention;
        j.P0 = CpuArena.Pointer(qkv);
        j.P1 = CpuArena.Pointer(cache);
        j.P2 = CpuArena.Pointer(output);
        j.I0 = t == 0 ? null : CpuArena.Pointer(ancestors);
        j.T = t;
        j.C = C;
        j.NH = NH;
        j.Width = positionStride;
        _pool.Run(j, N * NH);
    }

    /// <inheritdoc/>
    public void RowLogSumExp(Tensor x, int m, int n, Tensor lse)
    {
        CheckRowLogSumExp(x, m, n, lse);
        DecodeJob j = _decodeJob;
        j.Kind = DecodeKind.LogSumExp;
        j.Simd = Simd;
        j.P0 = CpuArena.Pointer(x);
        j.P1 = CpuArena.Pointer(lse);
        j.C = n;
        _pool.Run(j, m);
    }

    /// <inheritdoc/>
    public void GatherRows(Tensor source, IntTensor indices, int m, long width, Tensor destination)
    {
        NonNegative(m, nameof(m));
        Positive(checked((int)Math.Min(width, int.MaxValue)), nameof(width));
        Need(indices, m, nameof(indices));
        Need(destination, m * width, nameof(destination));
        if (source.Arena == destination.Arena && source.Offset < destination.Offset + (m * width)
            && destination.Offset < source.Offset + source.Length)
        {
            throw new ArgumentException("GatherRows: source and destination overlap");
        }

        CheckIds(indices, m, source.Length / width, nameof(indices));
        DecodeJob j = _decodeJob;
        j.Kind = DecodeKind.Gather;
        j.P0 = CpuArena.Pointer(source);
        j.I0 = CpuArena.Pointer(indices);
        j.P1 = CpuArena.Pointer(destination);
        j.Width = width;
        _pool.Run(j, m);
    }

    private enum DecodeKind
    {
        Attention,
        LogSumExp,
        Gather,
    }

    /// <summary>The arguments of the decode op being run, as plain fields.</summary>
    private sealed class DecodeJob : ParallelJob
    {
        public DecodeKind Kind;
        public float* P0, P1, P2;
        public int* I0;
        public int T, C, NH;
        public long Width;
        public SimdLevel Simd;

        public override void Execute(int start, int end)
        {
            switch (Kind)
            {
                case DecodeKind.Attention:
                    Decode.AttentionForward(P0, I0, T, C, NH, P1, Width, start, end, P2);
                    break;
                case DecodeKind.LogSumExp:
                    Decode.RowLogSumExp(P0, C, start, end, P1, Simd);
                    break;
                case DecodeKind.Gather:
                    Decode.GatherRows(P0, I0, Width, start, end, P1);
                    break;
            }
        }
    }
}
