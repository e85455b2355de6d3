using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>How the two operands of a matmul are stored (C is always row-major [M, N]).</summary>
public enum MatMulLayout
{
    /// <summary>a [M, K], b [K, N]: a linear layer's forward, <c>dH = dLogits · wte</c>.</summary>
    NN,

    /// <summary>a [M, K], b [N, K] read transposed: <c>dX = dY · Wᵀ</c>, the tied head.</summary>
    NT,

    /// <summary>a [K, M] read transposed, b [K, N]: weight gradients <c>dW = Xᵀ · dY</c>.</summary>
    TN,
}

/// <summary>
/// One matmul <c>C[M, N] = (Accumulate ? C : 0) + Bias[N] + A[M, K] · B[K, N]</c> as strided
/// views: <c>A[i, k] = A[i·ARow + k·ACol]</c>, <c>B[k, j] = B[k·BRow + j·BCol]</c>, one of each
/// pair of strides being 1. C is row-major with leading dimension N.
/// </summary>
internal unsafe struct MatMulProblem
{
    public float* A;
    public nint ARow;
    public nint ACol;
    public float* B;
    public nint BRow;
    public nint BCol;

    /// <summary>
    /// B pre-arranged by <see cref="MatMul.PackRight"/> as [⌈N/NR⌉][K, NR] panels, or null: B is
    /// then read through B/BRow/BCol and packed block by block.
    /// </summary>
    public float* PackedB;

    /// <summary>[N], or null for no bias.</summary>
    public float* Bias;

    /// <summary>[M, N].</summary>
    public float* C;
    public int M;
    public int K;
    public int N;
    public bool Accumulate;

    /// <summary>The strides of <paramref name="layout"/> over dense operands.</summary>
    public static MatMulProblem Create(
        MatMulLayout layout, float* a, float* b, float* bias, int m, int k, int n, float* c,
        bool accumulate)
    {
        MatMulProblem p = new()
        {
            A = a,
            B = b,
            Bias = bias,
            C = c,
            M = m,
            K = k,
            N = n,
            Accumulate = accumulate,
        };
        (p.ARow, p.ACol) = layout == MatMulLayout.TN ? (1, m) : ((nint)k, 1);
        (p.BRow, p.BCol) = layout == MatMulLayout.NT ? (1, k) : ((nint)n, 1);
        return p;
    }
}

/// <summary>
/// A register-tile kernel:
/// <c>c[MR, NR] = (load ? c : 0) (+ bias[NR]) + Σ_k pa[k, MR] ⊗ pb[k, NR]</c> over one K block;
/// pa and pb packed and zero-padded, c with row stride ldc.
/// </summary>
internal readonly unsafe struct MicroKernel
{
    public readonly int MR;
    public readonly int NR;
    public readonly delegate*<float*, float*, nint, float*, nint, float*, bool, void> Run;

    private MicroKernel(
        int mr, int nr, delegate*<float*, float*, nint, float*, nint, float*, bool, void> run)
    {
        MR = mr;
        NR = nr;
        Run = run;
    }

    /// <summary>The tile of <paramref name="level"/>.</summary>
    public static MicroKernel For(SimdLevel level) => level switch
    {
        SimdLevel.Avx512 => new(MatMulAvx512.MR, MatMulAvx512.NR, &MatMulAvx512.Kernel12x32),
        SimdLevel.Avx2 => new(MatMulAvx2.MR, MatMulAvx2.NR, &MatMulAvx2.Kernel6x16),
        _ => new(MatMulVector.MR, MatMulVector.NR, &MatMulVector.Kernel4xV2),
    };
}

/// <summary>
/// One thread's packing buffers, native and 64-byte aligned, sized once for the largest tile
/// so that a matmul allocates nothing.
/// </summary>
internal sealed unsafe class MatMulWorkspace : IDisposable
{
    // Largest MR and NR of any MicroKernel (Vector<float> of up to 512 bits included).
    private const int MaxMR = 16;
    private const int MaxNR = 64;

    public MatMulWorkspace()
    {
        PackedA = Allocate((MatMul.MC + MaxMR) * MatMul.KC);
        PackedB = Allocate(MatMul.KC * (MatMul.NC + MaxNR));
        Tile = Allocate(MaxMR * MaxNR);
        BiasTile = Allocate(MaxNR);
    }

    /// <summary>[MC / MR][KC, MR]: one block of A as MR-high micro-panels, k-major.</summary>
    public float* PackedA { get; private set; }

    /// <summary>[NC / NR][KC, NR]: one block of B as NR-wide panels, k-major.</summary>
    public float* PackedB { get; private set; }

    /// <summary>[MR, NR]: an edge tile of C, padded.</summary>
    public float* Tile { get; private set; }

    /// <summary>
    /// [rows / MR][KC, MR]: every micro-panel of A for one K block when B is pre-packed (see
    /// <see cref="MatMul.ComputePrepacked"/>); grown on first use to the largest chunk seen.
    /// </summary>
    public float* RowPanels { get; private set; }

    private long _rowPanelFloats;

    /// <summary>Makes <see cref="RowPanels"/> hold at least <paramref name="floats"/>.</summary>
    public void EnsureRowPanels(long floats)
    {
        if (floats <= _rowPanelFloats)
        {
            return;
        }

        NativeMemory.AlignedFree(RowPanels);
        RowPanels = Allocate(floats);
        _rowPanelFloats = floats;
    }

    /// <summary>[NR]: the bias of an edge tile, padded.</summary>
    public float* BiasTile { get; private set; }

    public void Dispose()
    {
        NativeMemory.AlignedFree(PackedA);
        NativeMemory.AlignedFree(PackedB);
        NativeMemory.AlignedFree(Tile);
        NativeMemory.AlignedFree(BiasTile);
        NativeMemory.AlignedFree(RowPanels);
        PackedA = PackedB = Tile = BiasTile = RowPanels = null;
        _rowPanelFloats = 0;
    }

    private static float* Allocate(long floats)
    {
        nuint bytes = (nuint)floats * sizeof(float);
        float* p = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(p, bytes);
        return p;
    }
}

/// <summary>
/// Matrix multiplication on the CPU: the float64 references (the test oracle) and the blocked,
/// packed SIMD driver.
/// </summary>
/// <remarks>
/// <para>Order of operations, the same for every instruction set, thread count and tiling:
/// <c>s = (accumulate ? c : 0) + bias; for k = 0..K-1: s = fma(A[i,k], B[k,j], s); c = s</c>.
/// K is cut into blocks of <see cref="KC"/>, but between blocks the running sum is stored in C
/// as the float it already is, so blocking changes nothing. Threads own disjoint tiles of C and
/// never split K. Edge tiles run the same kernel on zero-padded panels through a padded tile,
/// so an element's chain is the same whichever tile, full or partial, it falls in.</para>
/// <para>Loop order per thread (rows [r0, r1), columns [c0, c1) of C): column blocks of NC →
/// K blocks of KC → pack B[KC, NC] into NR-wide panels → row blocks of MC → pack A[MC, KC] into
/// MR-high micro-panels → every NR panel × every micro-panel: one kernel call, the next C tile
/// prefetched meanwhile.</para>
/// </remarks>
internal static unsafe class MatMul
{
    // Blocking (measured on the 2-core Zen 4 host, whose zmm and ymm FMA rates are equal:
    // ~115 GFLOP/s per core). Fewer, deeper K blocks won because C is then re-read less often;
    // a B block of KC·NC·4 = 3 MB per thread streams from L3 in NR-wide panels while the A
    // micro-panel stays close. None of these changes a result bit (see the remarks).

    /// <summary>K block: the depth of one packed panel.</summary>
    public const int KC = 768;

    /// <summary>Column block: the width of one packed B block (a multiple of every NR).</summary>
    public const int NC = 1024;

    /// <summary>
    /// Row block: rows of A packed together (a multiple of every MR). One or two micro-panels
    /// measured best: each B panel is then used by MC rows before the next one streams in.
    /// </summary>
    public const int MC = 12;

    // ---- float64 references --------------------------------------------------------------------

    /// <summary>
    /// <c>(accumulate ? c0 : 0) + bias + Σ_k A[i,k]·B[k,j]</c> in float64 for
    /// <paramref name="layout"/>: a is [M, K] (NN, NT) or [K, M] (TN); b is [K, N] (NN, TN) or
    /// [N, K] (NT); bias is [N] or empty; c0 is [M, N] (read only when accumulating).
    /// </summary>
    /// <returns>C as [M, N] doubles.</returns>
    public static double[] Reference(
        MatMulLayout layout, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias,
        int m, int k, int n, ReadOnlySpan<float> c0, bool accumulate)
    {
        double[] c = new double[(long)m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = accumulate ? c0[(i * n) + j] : 0.0;
                s += bias.IsEmpty ? 0.0 : bias[j];
                for (int p = 0; p < k; p++)
                {
                    double x = layout == MatMulLayout.TN ? a[(p * m) + i] : a[(i * k) + p];
                    double y = layout == MatMulLayout.NT ? b[(j * k) + p] : b[(p * n) + j];
                    s += x * y;
                }

                c[(i * n) + j] = s;
            }
        }

        return c;
    }

    /// <summary>
    /// <c>dBias0[j] + Σ_i dOutput[i, j]</c> in float64; dOutput [M, N], dBias0 [N].
    /// </summary>
    public static double[] ReferenceBiasBackward(
        ReadOnlySpan<float> dOutput, int m, int n, ReadOnlySpan<float> dBias0)
    {
        double[] dBias = new double[n];
        for (int j = 0; j < n; j++)
        {
            double s = dBias0[j];
            for (int i = 0; i < m; i++)
            {
                s += dOutput[(i * n) + j];
            }

            dBias[j] = s;
        }

        return dBias;
    }

    // ---- fast path -----------------------------------------------------------------------------

    /// <summary>
    /// Computes rows [r0, r1) × columns [c0, c1) of <paramref name="p"/>'s C with
    /// <paramref name="kernel"/>, packing into <paramref name="ws"/>.
    /// </summary>
    public static void Compute(
        in MatMulProblem p, in MicroKernel kernel, int r0, int r1, int c0, int c1,
        MatMulWorkspace ws)
    {
        if (r0 >= r1 || c0 >= c1)
        {
            return;
        }

        if (p.K == 0)
        {
            InitializeOnly(p, r0, r1, c0, c1);
            return;
        }

        if (p.PackedB != null)
        {
            ComputePrepacked(p, kernel, r0, r1, c0, c1, ws);
            return;
        }

        int mr = kernel.MR;
        int nr = kernel.NR;
        Debug.Assert(NC % nr == 0 && mr <= 16 && nr <= 64, "tile larger than the workspace");
        for (int jc = c0; jc < c1; jc += NC)
        {
            int nc = Math.Min(NC, c1 - jc);
            int panels = (nc + nr - 1) / nr;
            // K blocks of equal size (at most KC): a short last block would pay a whole C
            // tile's load and store for few FMAs. Block boundaries never change a result: the
            // accumulator is float32 in registers and in C alike, so the chain over k is the
            // same whether or not it passes through memory.
            int kBlocks = (p.K + KC - 1) / KC;
            int kcStep = (p.K + kBlocks - 1) / kBlocks;
            for (int pc = 0; pc < p.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, p.K - pc);

                // The first K block starts from 0 or C, plus the bias; later ones continue C.
                bool first = pc == 0;
                bool load = !first || p.Accumulate;
                float* bias = first ? p.Bias : null;
                if (p.BCol == 1)
                {
                    PackBRows(p, pc, kc, jc, nc, nr, ws.PackedB);
                }
                else
                {
                    for (int q = 0; q < panels; q++)
                    {
                        int j = jc + (q * nr);
                        int cols = Math.Min(nr, jc + nc - j);
                        PackBColumns(p, pc, kc, j, cols, nr, ws.PackedB + (q * kc * nr));
                    }
                }

                for (int ic = r0; ic < r1; ic += MC)
                {
                    int mc = Math.Min(MC, r1 - ic);
                    int microPanels = (mc + mr - 1) / mr;
                    for (int s = 0; s < microPanels; s++)
                    {
                        int i = ic + (s * mr);
                        PackA(p, i, Math.Min(mr, r1 - i), pc, kc, mr, ws.PackedA + (s * kc * mr));
                    }

                    for (int q = 0; q < panels; q++)
                    {
                        int j = jc + (q * nr);
                        int cols = Math.Min(nr, jc + nc - j);
                        float* pb = ws.PackedB + (q * kc * nr);
                        float* bj = bias == null ? null : bias + j;
                        for (int s = 0; s < microPanels; s++)
                        {
                            int i = ic + (s * mr);
                            int rows = Math.Min(mr, r1 - i);
                            float* pa = ws.PackedA + (s * kc * mr);
                            float* c = p.C + ((long)i * p.N) + j;
                            if (load)
                            {
                                // The tile after this one: below it, or the top of the next panel.
                                float* next = s + 1 < microPanels ? c + (mr * p.N)
                                    : q + 1 < panels ? p.C + ((long)ic * p.N) + j + nr : null;
                                int nextRows = s + 1 < microPanels ? Math.Min(mr, r1 - i - mr) : mr;
                                PrefetchTile(next, p.N, Math.Min(nextRows, mc), nr);
                            }

                            if (rows == mr && cols == nr)
                            {
                                kernel.Run(pa, pb, kc, c, p.N, bj, load);
                            }
                            else
                            {
                                EdgeTile(kernel, ws, pa, pb, kc, c, p.N, rows, cols, bj, load);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Rows of A packed at once by <see cref="ComputePrepacked"/> (4.5 MB at KC).
    /// </summary>
    public const int RowChunk = 1536;

    /// <summary>Floats of <see cref="PackRight"/>'s result: ⌈N/NR⌉ panels of [K, NR].</summary>
    public static long PackedRightLength(int k, int n, int nr) =>
        (long)((n + nr - 1) / nr) * nr * k;

    /// <summary>
    /// Panels [q0, q1) of <paramref name="p"/>'s whole B as [⌈N/NR⌉][K, NR] panels (columns past
    /// N zero), the layout the K-block packing produces, so that any K block of panel q is the
    /// contiguous <c>dst + (q·K + pc)·NR</c>. dst: <see cref="PackedRightLength"/> floats; the
    /// panel ranges of different threads never overlap.
    /// </summary>
    public static void PackRight(in MatMulProblem p, int nr, int q0, int q1, float* dst)
    {
        float* first = dst + ((long)q0 * p.K * nr);
        if (p.BCol == 1)
        {
            int j0 = q0 * nr;
            PackBRows(p, 0, p.K, j0, Math.Min(p.N, q1 * nr) - j0, nr, first);
            return;
        }

        for (int q = q0; q < q1; q++)
        {
            int j = q * nr;
            PackBColumns(p, 0, p.K, j, Math.Min(nr, p.N - j), nr, dst + ((long)q * p.K * nr));
        }
    }

    /// <summary>
    /// <see cref="Compute"/> with B already packed (inference weights): nothing of B is copied,
    /// and A is packed once per K block for up to <see cref="RowChunk"/> rows instead of once
    /// per column block (a 640-row decode step re-packed A 18 times per thread for the head).
    /// Same kernel calls on the same panels, so the same bits. Column offsets must be whole
    /// tiles (they are: threads split C in whole tiles).
    /// </summary>
    private static void ComputePrepacked(
        in MatMulProblem p, in MicroKernel kernel, int r0, int r1, int c0, int c1,
        MatMulWorkspace ws)
    {
        int mr = kernel.MR;
        int nr = kernel.NR;
        Debug.Assert(c0 % nr == 0, "a column range starts on a panel");
        int kBlocks = (p.K + KC - 1) / KC;
        int kcStep = (p.K + kBlocks - 1) / kBlocks;
        ws.EnsureRowPanels((long)Math.Min(RowChunk, r1 - r0 + mr) * kcStep);
        for (int rc = r0; rc < r1; rc += RowChunk)
        {
            int rowsEnd = Math.Min(r1, rc + RowChunk);
            int microPanels = (rowsEnd - rc + mr - 1) / mr;
            for (int pc = 0; pc < p.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, p.K - pc);
                bool load = pc != 0 || p.Accumulate;
                float* bias = pc == 0 ? p.Bias : null;
                for (int s = 0; s < microPanels; s++)
                {
                    int i = rc + (s * mr);
                    PackA(p, i, Math.Min(mr, rowsEnd - i), pc, kc, mr,
                        ws.RowPanels + ((long)s * kc * mr));
                }

                // Column blocks of NC keep the B panels an A micro-panel meets within L3.
                for (int jc = c0; jc < c1; jc += NC)
                {
                    int jEnd = Math.Min(c1, jc + NC);
                    for (int s = 0; s < microPanels; s++)
                    {
                        int i = rc + (s * mr);
                        int rows = Math.Min(mr, rowsEnd - i);
                        float* pa = ws.RowPanels + ((long)s * kc * mr);
                        for (int j = jc; j < jEnd; j += nr)
                        {
                            int cols = Math.Min(nr, jEnd - j);
                            float* pb = p.PackedB + ((((long)(j / nr) * p.K) + pc) * nr);
                            float* bj = bias == null ? null : bias + j;
                            float* c = p.C + ((long)i * p.N) + j;
                            if (rows == mr && cols == nr)
                            {
                                kernel.Run(pa, pb, kc, c, p.N, bj, load);
                            }
                            else
                            {
                                EdgeTile(kernel, ws, pa, pb, kc, c, p.N, rows, cols, bj, load);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// <c>dBias[j] += Σ_i dOutput[i, j]</c> for columns [j0, j1): each column summed in float32
    /// from 0 in row order 0..M-1, then added to dBias. dOutput [M, N], dBias [N].
    /// </summary>
    public static void BiasBackward(float* dOutput, int m, int n, int j0, int j1, float* dBias)
    {
        int w = Vector<float>.Count;
        int j = j0;
        for (; j + w <= j1; j += w)
        {
            Vector<float> s = Vector<float>.Zero;
            for (int i = 0; i < m; i++)
            {
                s += Vector.Load(dOutput + ((long)i * n) + j);
            }

            (Vector.Load(dBias + j) + s).Store(dBias + j);
        }

        for (; j < j1; j++)
        {
            float s = 0f;
            for (int i = 0; i < m; i++)
            {
                s += dOutput[((long)i * n) + j];
            }

            dBias[j] += s;
        }
    }

    /// <summary>
    /// Asks for the next C tile while this one computes (C is re-read once per K block, from L3
    /// or memory). Measured neutral on the Zen 4 host, whose prefetchers already follow C; kept
    /// for CPUs whose first loads of the tile would stall every accumulator.
    /// </summary>
    private static void PrefetchTile(float* c, nint ldc, int rows, int nr)
    {
        if (!Sse.IsSupported || c == null)
        {
            return;
        }

        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < nr; j += 16)
            {
                Sse.Prefetch0(c + (i * ldc) + j);
            }
        }
    }

    /// <summary>K = 0: <c>c = (accumulate ? c : 0) + bias</c> on the block.</summary>
    private static void InitializeOnly(in MatMulProblem p, int r0, int r1, int c0, int c1)
    {
        for (int i = r0; i < r1; i++)
        {
            float* c = p.C + ((long)i * p.N);
            for (int j = c0; j < c1; j++)
            {
                float s = p.Accumulate ? c[j] : 0f;
                c[j] = p.Bias == null ? s : s + p.Bias[j];
            }
        }
    }

    /// <summary>
    /// A partial tile: copy C (or zeros) into a padded [MR, NR] tile, run the full kernel on it,
    /// copy the valid [rows, cols] back. The padded bias keeps <c>0 + bias</c> the first add.
    /// </summary>
    private static void EdgeTile(
        in MicroKernel kernel, MatMulWorkspace ws, float* pa, float* pb, int kc, float* c, nint ldc,
        int rows, int cols, float* bias, bool load)
    {
        int mr = kernel.MR;
        int nr = kernel.NR;
        float* t = ws.Tile;
        for (int i = 0; i < mr; i++)
        {
            for (int j = 0; j < nr; j++)
            {
                t[(i * nr) + j] = load && i < rows && j < cols ? c[(i * ldc) + j] : 0f;
            }
        }

        float* tileBias = null;
        if (bias != null)
        {
            tileBias = ws.BiasTile;
            for (int j = 0; j < nr; j++)
            {
                tileBias[j] = j < cols ? bias[j] : 0f;
            }
        }

        kernel.Run(pa, pb, kc, t, nr, tileBias, true);
        for (int i = 0; i < rows; i++)
        {
            new ReadOnlySpan<float>(t + (i * nr), cols)
                .CopyTo(new Span<float>(c + (i * ldc), cols));
        }
    }

    /// <summary>
    /// dst[k, MR] = A[i0 + 0..rows, pc + k] for k in [0, kc), rows past <paramref name="rows"/>
    /// zero.
    /// </summary>
    private static void PackA(
        in MatMulProblem p, int i0, int rows, int pc, int kc, int mr, float* dst)
    {
        if (p.ARow == 1)
        {
            // TN: a row of a [K, M] holds MR consecutive A rows at one k.
            for (int k = 0; k < kc; k++)
            {
                float* src = p.A + ((pc + k) * p.ACol) + i0;
                float* d = dst + (k * mr);
                int i = 0;
                for (; i < rows; i++)
                {
                    d[i] = src[i];
                }

                for (; i < mr; i++)
                {
                    d[i] = 0f;
                }
            }

            return;
        }

        // NN, NT: each A row is contiguous in k; scatter it into column i of the panel.
        for (int i = 0; i < mr; i++)
        {
            if (i < rows)
            {
                float* src = p.A + ((i0 + i) * p.ARow) + pc;
                for (int k = 0; k < kc; k++)
                {
                    dst[(k * mr) + i] = src[k];
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    dst[(k * mr) + i] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// NN, TN (B rows contiguous in j): panel q of dst gets dst[q][k, NR] = B[pc + k, j0 + q·NR
    /// + 0..NR) for k in [0, kc), columns past <paramref name="nc"/> zero. Each B row segment is
    /// read once, front to back, in whole vectors (a per-panel copy measured ~8% of a matmul).
    /// </summary>
    private static void PackBRows(
        in MatMulProblem p, int pc, int kc, int j0, int nc, int nr, float* dst)
    {
        int w = Vector<float>.Count;
        Debug.Assert(nr % w == 0, "a panel is whole vectors");
        int fullPanels = nc / nr;
        int tail = nc - (fullPanels * nr);
        for (int k = 0; k < kc; k++)
        {
            float* src = p.B + ((pc + k) * p.BRow) + j0;
            float* d = dst + (k * nr);
            for (int q = 0; q < fullPanels; q++)
            {
                float* from = src + (q * nr);
                float* to = d + (q * kc * nr);
                for (int t = 0; t < nr; t += w)
                {
                    Vector.Load(from + t).Store(to + t);
                }
            }

            if (tail > 0)
            {
                float* from = src + (fullPanels * nr);
                float* to = d + (fullPanels * kc * nr);
                for (int t = 0; t < nr; t++)
                {
                    to[t] = t < tail ? from[t] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// NT (B column j is row j of b [N, K], contiguous in k): dst[k, NR] = B[pc + k, j0 + 0..cols]
    /// for k in [0, kc), columns past <paramref name="cols"/> zero.
    /// </summary>
    private static void PackBColumns(
        in MatMulProblem p, int pc, int kc, int j0, int cols, int nr, float* dst)
    {
        for (int j = 0; j < nr; j++)
        {
            if (j < cols)
            {
                float* src = p.B + ((j0 + j) * p.BCol) + pc;
                for (int k = 0; k < kc; k++)
                {
                    dst[(k * nr) + j] = src[k];
                }
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    dst[(k * nr) + j] = 0f;
                }
            }
        }
    }
}
