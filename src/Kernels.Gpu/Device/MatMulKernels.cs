using ILGPU;

namespace Kgglm.Kernels.Gpu.Device;

/// <summary>
/// The three matmul layouts as one strided kernel: <c>A(i, p) = a[i·aRow + p·aCol]</c>,
/// <c>B(p, j) = b[p·bRow + j·bCol]</c>. NN: a [M, K], b [K, N]; NT: b [N, K]; TN: a [K, M].
/// </summary>
/// <param name="M">Rows of C.</param>
/// <param name="K">Inner dimension.</param>
/// <param name="N">Columns of C.</param>
/// <param name="ARow">Stride of A's row index.</param>
/// <param name="ACol">Stride of A's column (k) index.</param>
/// <param name="BRow">Stride of B's row (k) index.</param>
/// <param name="BCol">Stride of B's column index.</param>
/// <param name="Accumulate">1: C is added to; 0: C is overwritten.</param>
/// <param name="HasBias">1: bias [N] is added to every row.</param>
internal readonly record struct MatMulArgs(
    int M, int K, int N, int ARow, int ACol, int BRow, int BCol, int Accumulate, int HasBias);

/// <summary>
/// Shared-memory tiled matmul. A group of tile × tile threads owns a tile × tile block of C; per
/// step it stages a tile of A and a tile of B in shared memory (dynamic, 2·tile² floats, so one
/// compiled kernel serves every tile size: 4 on ILGPU's CPU accelerator, 16 on CUDA). Each thread
/// keeps one running sum and adds k = 0, 1, ..., K-1 in order, so every element is the same
/// sequential sum whatever the tile size: deterministic, no atomics.
/// </summary>
internal static class MatMulKernels
{
    /// <summary>a, b as <see cref="MatMulArgs"/>; bias: [N] or a dummy; c: [M, N].</summary>
    public static void MatMul(
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, ArrayView<float> c,
        MatMulArgs g)
    {
        int tile = Group.DimX;
        ArrayView<float> shared = SharedMemory.GetDynamic<float>();
        ArrayView<float> tileA = shared.SubView(0, tile * tile);
        ArrayView<float> tileB = shared.SubView(tile * tile, tile * tile);
        int tx = Group.IdxX, ty = Group.IdxY;
        int col = (Grid.IdxX * tile) + tx;
        int row = (Grid.IdxY * tile) + ty;
        float sum = 0f;
        for (int k0 = 0; k0 < g.K; k0 += tile)
        {
            // Thread (ty, tx) stages A(row, k0 + tx) and B(k0 + ty, col); zero past the edges.
            int ka = k0 + tx;
            tileA[(ty * tile) + tx] = row < g.M && ka < g.K
                ? a[((long)row * g.ARow) + ((long)ka * g.ACol)] : 0f;
            int kb = k0 + ty;
            tileB[(ty * tile) + tx] = kb < g.K && col < g.N
                ? b[((long)kb * g.BRow) + ((long)col * g.BCol)] : 0f;
            Group.Barrier();

            // Only the k inside [0, K): the sum has exactly K terms, in order.
            int steps = Math.Min(tile, g.K - k0);
            for (int p = 0; p < steps; p++)
            {
                sum += tileA[(ty * tile) + p] * tileB[(p * tile) + tx];
            }

            Group.Barrier();
        }

        if (row < g.M && col < g.N)
        {
            long o = ((long)row * g.N) + col;
            float start = g.Accumulate != 0 ? c[o] : 0f;
            if (g.HasBias != 0)
            {
                start += bias[col];
            }

            c[o] = start + sum;
        }
    }

    /// <summary>
    /// One thread per column j: <c>dBias[j] += Σ_i dOutput[i, j]</c>, rows 0..M-1 in order.
    /// dOutput: [M, N]; dBias: [N].
    /// </summary>
    public static void BiasBackward(
        Index1D j, ArrayView<float> dOutput, ArrayView<float> dBias, int m, int n)
    {
        float s = 0f;
        for (int i = 0; i < m; i++)
        {
            s += dOutput[((long)i * n) + j];
        }

        dBias[j] += s;
    }
}
