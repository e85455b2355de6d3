using System.Runtime.InteropServices;
using Kgglm.Kernels.Ops;

namespace Kgglm.Kernels.Cpu;

/// <summary>
/// The matmuls of the CPU engine: size checks at the boundary, then <see cref="MatMul"/> on the
/// worker pool.
/// </summary>
public sealed unsafe partial class CpuKernels
{
    /// <summary>Below this many multiply-adds a matmul runs on the calling thread alone.</summary>
    private const long SerialWork = 1L << 20;

    private readonly MatMulJob _matMul;
    private readonly BiasBackwardJob _biasBackward = new();
    private readonly PackRightJob _packRight = new();

    /// <inheritdoc/>
    public void MatMulNN(
        Tensor a, Tensor b, Tensor bias, int m, int k, int n, Tensor c, bool accumulate)
    {
        CheckSizes(m, k, n);
        CheckTensor(a, nameof(a), "M", m, "K", k);
        CheckTensor(b, nameof(b), "K", k, "N", n);
        CheckTensor(c, nameof(c), "M", m, "N", n);
        if (!bias.IsEmpty)
        {
            CheckTensor(bias, nameof(bias), "N", n);
        }

        RunMatMul(MatMulLayout.NN, a, b, bias, m, k, n, c, accumulate, null);
    }

    /// <inheritdoc/>
    public void MatMulNT(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate)
    {
        CheckSizes(m, k, n);
        CheckTensor(a, nameof(a), "M", m, "K", k);
        CheckTensor(b, nameof(b), "N", n, "K", k);
        CheckTensor(c, nameof(c), "M", m, "N", n);
        RunMatMul(MatMulLayout.NT, a, b, default, m, k, n, c, accumulate, null);
    }

    /// <inheritdoc/>
    public void MatMulTN(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate)
    {
        CheckSizes(m, k, n);
        CheckTensor(a, nameof(a), "K", k, "M", m);
        CheckTensor(b, nameof(b), "K", k, "N", n);
        CheckTensor(c, nameof(c), "M", m, "N", n);
        RunMatMul(MatMulLayout.TN, a, b, default, m, k, n, c, accumulate, null);
    }

    /// <inheritdoc/>
    public PackedOperand PackRight(Tensor b, MatMulLayout layout, int k, int n)
    {
        CheckSizes(0, k, n);
        if (layout == MatMulLayout.NT)
        {
            CheckTensor(b, nameof(b), "N", n, "K", k);
        }
        else
        {
            CheckTensor(b, nameof(b), "K", k, "N", n);
        }

        MicroKernel kernel = MicroKernel.For(Simd);
        var packed = new CpuPackedOperand(layout, k, n, kernel.NR, this);
        if (k > 0 && n > 0)
        {
            // Panels split over the pool (the transposing NT copy is scalar: 80 ms for the
            // 35,609-token head on one thread).
            PackRightJob job = _packRight;
            job.Problem = MatMulProblem.Create(
                layout, null, CpuArena.Pointer(b), null, 0, k, n, null, false);
            job.NR = kernel.NR;
            job.Destination = packed.Panels;
            int panels = (n + kernel.NR - 1) / kernel.NR;
            if ((long)k * n < SerialWork)
            {
                job.Execute(0, panels);
            }
            else
            {
                _pool.Run(job, panels);
            }
        }

        return packed;
    }

    /// <inheritdoc/>
    public void MatMulPacked(
        Tensor a, PackedOperand b, Tensor bias, int m, Tensor c, bool accumulate)
    {
        if (b is not CpuPackedOperand packed || packed.Owner != this)
        {
            throw new ArgumentException("b was not packed by this engine", nameof(b));
        }

        int k = b.K, n = b.N;
        CheckSizes(m, k, n);
        CheckTensor(a, nameof(a), "M", m, "K", k);
        CheckTensor(c, nameof(c), "M", m, "N", n);
        if (!bias.IsEmpty)
        {
            CheckTensor(bias, nameof(bias), "N", n);
        }

        ObjectDisposedException.ThrowIf(packed.Panels == null, b);
        RunMatMul(b.Layout, a, default, bias, m, k, n, c, accumulate, packed.Panels);
    }

    /// <inheritdoc/>
    public void BiasBackward(Tensor dOutput, int m, int n, Tensor dBias)
    {
        CheckSizes(m, 0, n);
        CheckTensor(dOutput, nameof(dOutput), "M", m, "N", n);
        CheckTensor(dBias, nameof(dBias), "N", n);
        if (m == 0 || n == 0)
        {
            return;
        }

        BiasBackwardJob job = _biasBackward;
        job.DOutput = CpuArena.Pointer(dOutput);
        job.DBias = CpuArena.Pointer(dBias);
        job.M = m;
        job.N = n;
        int chunks = (n + BiasBackwardJob.Columns - 1) / BiasBackwardJob.Columns;
        if ((long)m * n < SerialWork)
        {
            job.Execute(0, chunks);
        }
        else
        {
            _pool.Run(job, chunks);
        }
    }

    private static void CheckSizes(int m, int k, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
    }

    // The message is built only on failure, so a valid call allocates nothing.
    private static void CheckTensor(
        Tensor t, string name, string rows, long rowCount, string cols = "", long colCount = 1)
    {
        long expected = rowCount * colCount;
        if (t.Length < expected)
        {
            string shape = cols.Length == 0
                ? $"[{rows}={rowCount}]"
                : $"[{rows}={rowCount}, {cols}={colCount}]";
            throw new ArgumentException(
                $"{name} must hold {shape} = {expected} floats, found {t.Length}", name);
        }
    }

    private void RunMatMul(
        MatMulLayout layout, Tensor a, Tensor b, Tensor bias, int m, int k, int n, Tensor c,
        bool accumulate, float* packedB)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        // With k = 0 the operands may be absent (empty tensors): C only gets its start value.
        float* pa = k == 0 ? null : CpuArena.Pointer(a);
        float* pb = k == 0 || packedB != null ? null : CpuArena.Pointer(b);
        MatMulJob job = _matMul;
        job.Problem = MatMulProblem.Create(
            layout, pa, pb, CpuArena.PointerOrNull(bias), m, k, n, CpuArena.Pointer(c), accumulate);
        job.Problem.PackedB = k == 0 ? null : packedB;
        job.Kernel = MicroKernel.For(Simd);

        // Split the longer side of C: a row split makes every thread pack all of B [K, N], a
        // column split all of A [M, K], so the split along the larger of M and N duplicates the
        // smaller operand (measured 15-30% on dW shapes, where M or N is 3072-4096). A packed B
        // costs nothing to share, so then rows are split whenever there are enough of them.
        int rowTiles = (m + job.Kernel.MR - 1) / job.Kernel.MR;
        int columnTiles = (n + job.Kernel.NR - 1) / job.Kernel.NR;
        job.SplitRows = rowTiles >= 2 * Threads
            && (packedB != null || m >= n || columnTiles < 2 * Threads);
        if ((long)m * n * Math.Max(k, 1) < SerialWork || Threads == 1)
        {
            job.Parts = 1;
            job.Execute(0, 1);
        }
        else
        {
            job.Parts = Threads;
            _pool.Run(job, Threads);
        }
    }

    /// <summary>
    /// One matmul over the pool: piece t of <see cref="Parts"/> owns a contiguous range of row
    /// (or column) tiles of C and packs into workspace t. Pieces never share an output element.
    /// </summary>
    private sealed class MatMulJob : ParallelJob, IDisposable
    {
        private readonly MatMulWorkspace[] _workspaces;

        public MatMulJob(int threads)
        {
            _workspaces = new MatMulWorkspace[threads];
            for (int t = 0; t < threads; t++)
            {
                _workspaces[t] = new MatMulWorkspace();
            }
        }

        public MatMulProblem Problem;
        public MicroKernel Kernel;
        public bool SplitRows;
        public int Parts;

        public override void Execute(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                if (SplitRows)
                {
                    (int r0, int r1) = Range(Problem.M, Kernel.MR, t);
                    MatMul.Compute(Problem, Kernel, r0, r1, 0, Problem.N, _workspaces[t]);
                }
                else
                {
                    (int c0, int c1) = Range(Problem.N, Kernel.NR, t);
                    MatMul.Compute(Problem, Kernel, 0, Problem.M, c0, c1, _workspaces[t]);
                }
            }
        }

        public void Dispose()
        {
            foreach (MatMulWorkspace ws in _workspaces)
            {
                ws.Dispose();
            }
        }

        // Piece t of Parts over `size` in whole tiles of `tile`.
        private (int Start, int End) Range(int size, int tile, int t)
        {
            long tiles = (size + tile - 1) / tile;
            int start = (int)Math.Min(size, tile * (tiles * t / Parts));
            int end = (int)Math.Min(size, tile * (tiles * (t + 1) / Parts));
            return (start, end);
        }
    }

    /// <summary>Panel ranges of <see cref="PackRight"/>; each panel is one thread's.</summary>
    private sealed class PackRightJob : ParallelJob
    {
        public MatMulProblem Problem;
        public int NR;
        public float* Destination;

        public override void Execute(int start, int end) =>
            MatMul.PackRight(Problem, NR, start, end, Destination);
    }

    /// <summary>Column chunks of <see cref="BiasBackward"/>; each column is one thread's.</summary>
    private sealed class BiasBackwardJob : ParallelJob
    {
        public const int Columns = 64;

        public float* DOutput;
        public float* DBias;
        public int M;
        public int N;

        public override void Execute(int start, int end)
        {
            int j1 = (int)Math.Min(N, (long)end * Columns);
            MatMul.BiasBackward(DOutput, M, N, start * Columns, j1, DBias);
        }
    }
}

/// <summary>
/// A right operand in the register-tile panels of one <see cref="CpuKernels"/>' micro-kernel:
/// [⌈N/NR⌉][K, NR] in 64-byte aligned native memory.
/// </summary>
internal sealed unsafe class CpuPackedOperand : PackedOperand
{
    public CpuPackedOperand(MatMulLayout layout, int k, int n, int nr, CpuKernels owner)
        : base(layout, k, n)
    {
        Owner = owner;
        long floats = Math.Max(1, MatMul.PackedRightLength(k, n, nr));
        Panels = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
    }

    ~CpuPackedOperand() => Release();

    /// <summary>The engine whose tile width this layout has.</summary>
    public CpuKernels Owner { get; }

    /// <summary>The panels; null once released.</summary>
    public float* Panels { get; private set; }

    /// <inheritdoc/>
    protected override void Release()
    {
        NativeMemory.AlignedFree(Panels);
        Panels = null;
    }
}
