using ILGPU;

namespace Kgglm.Kernels.Gpu.Device;

/// <summary>The sizes of one decoding attention call.</summary>
/// <param name="T">The new position t (the cache holds 0..t after the append).</param>
/// <param name="C">Channels.</param>
/// <param name="NH">Heads.</param>
/// <param name="HS">Head size C / NH.</param>
/// <param name="PositionStride">Floats between position j's slots and position j+1's.</param>
/// <param name="Scale">1 / √HS.</param>
internal readonly record struct DecodeArgs(
    int T, int C, int NH, int HS, long PositionStride, float Scale);

/// <summary>
/// Key/value-cached decoding (inference only) and the helpers of beam search. The cache is a
/// tree of slots of 2C floats (k at [0, C), v at [C, 2C)); node s of position j starts at
/// j·positionStride + s·2C, and row n's position j &lt; t is node ancestors[n, j] ([N, t]).
/// <see cref="Append"/>, <see cref="Probabilities"/> and <see cref="Output"/> run in that order
/// on one stream: write k, v to node n of position t; per (row, head) the softmax over
/// positions 0..t into a scratch [N, NH, 64]; per output element <c>Σ_t2 p[t2]·V[t2]</c>.
/// </summary>
internal static class DecodeKernels
{
    /// <summary>Longest cached sequence (the scratch row length).</summary>
    public const int MaxT = 64;

    /// <summary>One thread per (n, c) of qkv: [N, 3C]: copies k, v into node n of position t.
    /// </summary>
    public static void Append(Index1D i, ArrayView<float> qkv, ArrayView<float> cache, DecodeArgs g)
    {
        int n = i / g.C, c = i % g.C;
        long at = (g.T * g.PositionStride) + ((long)n * 2 * g.C) + c;
        cache[at] = qkv[((long)n * 3 * g.C) + g.C + c];
        cache[at + g.C] = qkv[((long)n * 3 * g.C) + (2 * g.C) + c];
    }

    /// <summary>One thread per (n, h): softmax(q·K[0..t]ᵀ/√HS) into scores: [N, NH, 64].</summary>
    public static void Probabilities(
        Index1D nh, ArrayView<float> qkv, ArrayView<float> cache, ArrayView<int> ancestors,
        ArrayView<float> scores, DecodeArgs g)
    {
        int n = nh / g.NH, h = nh % g.NH;
        long q = ((long)n * 3 * g.C) + (h * g.HS);
        long s0 = (long)nh.X * MaxT;
        float max = float.NegativeInfinity;
        for (int t2 = 0; t2 <= g.T; t2++)
        {
            long k = Slot(ancestors, n, t2, g) + (h * g.HS);
            float dot = 0f;
            for (int i = 0; i < g.HS; i++)
            {
                dot += qkv[q + i] * cache[k + i];
            }

            float s = dot * g.Scale;
            scores[s0 + t2] = s;
            max = MathF.Max(max, s);
        }

        float sum = 0f;
        for (int t2 = 0; t2 <= g.T; t2++)
        {
            float e = MathF.Exp(scores[s0 + t2] - max);
            scores[s0 + t2] = e;
            sum += e;
        }

        float inv = 1f / sum;
        for (int t2 = 0; t2 <= g.T; t2++)
        {
            scores[s0 + t2] *= inv;
        }
    }

    /// <summary>
    /// One thread per (n, c) of output: [N, C]: <c>Σ_{t2 ≤ t} p[t2]·V[t2, c]</c>.
    /// </summary>
    public static void Output(
        Index1D i, ArrayView<float> cache, ArrayView<int> ancestors, ArrayView<float> scores,
        ArrayView<float> output, DecodeArgs g)
    {
        int n = i / g.C, c = i % g.C;
        long s0 = (((long)n * g.NH) + (c / g.HS)) * MaxT;
        float y = 0f;
        for (int t2 = 0; t2 <= g.T; t2++)
        {
            y += scores[s0 + t2] * cache[Slot(ancestors, n, t2, g) + g.C + c];
        }

        output[i] = y;
    }

    /// <summary>The first float of row n's slot at position j (its own node at t).</summary>
    private static long Slot(ArrayView<int> ancestors, int n, int j, DecodeArgs g)
    {
        long node = j == g.T ? n : ancestors[((long)n * g.T) + j];
        return (j * g.PositionStride) + (node * 2 * g.C);
    }

    /// <summary>
    /// One thread per row of x: [M, N]: <c>lse = max + log Σ exp(x - max)</c>, the sum in
    /// float64 in column order (as the CPU engine), lse: [M].
    /// </summary>
    public static void RowLogSumExp(Index1D row, ArrayView<float> x, ArrayView<float> lse, int n)
    {
        long o = (long)row.X * n;
        float max = float.NegativeInfinity;
        for (int j = 0; j < n; j++)
        {
            max = MathF.Max(max, x[o + j]);
        }

        double sum = 0;
        for (int j = 0; j < n; j++)
        {
            sum += MathF.Exp(x[o + j] - max);
        }

        // One double log per row: negligible next to the n exps.
        lse[row] = max + (float)Math.Log(sum);
    }

    /// <summary>
    /// One thread per element of destination: [M, W]: <c>destination[i, w] =
    /// source[indices[i], w]</c>; indices: [M].
    /// </summary>
    public static void GatherRows(
        Index1D i, ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination,
        long width)
    {
        long row = i / width, w = i % width;
        destination[i] = source[(indices[row] * width) + w];
    }
}
