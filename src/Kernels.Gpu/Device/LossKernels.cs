using ILGPU;

namespace Kgglm.Kernels.Gpu.Device;

/// <summary>
/// Chunked softmax cross-entropy (the CPU engine's <c>Ops/CrossEntropy.cs</c> formulas), the
/// global squared norm and AdamW. Row statistics run one thread per row over the chunk in column
/// order; the squared norm keeps the CPU engine's fixed block structure exactly, so its float64
/// result is bitwise the CPU engine's.
/// </summary>
internal static class LossKernels
{
    /// <summary>
    /// Elements per block of the squared norm (the CPU engine's GradNorm.BlockSize).
    /// </summary>
    public const int NormBlock = 16384;

    /// <summary>Lanes per block (element j of a block goes to lane j mod 16).</summary>
    public const int NormLanes = 16;

    /// <summary>
    /// One thread per row of logits: [M, Vc] for ids v0..v0+Vc-1: folds the chunk into rowMax,
    /// rowSum: [M] (reset at v0 = 0) and captures targetLogit: [M].
    /// </summary>
    public static void Statistics(
        Index1D row, ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> rowMax,
        ArrayView<float> rowSum, ArrayView<float> targetLogit, int vc, int v0)
    {
        long o = (long)row.X * vc;
        float oldMax = v0 == 0 ? float.NegativeInfinity : rowMax[row];
        float oldSum = v0 == 0 ? 0f : rowSum[row];
        if (v0 == 0)
        {
            targetLogit[row] = 0f;
        }

        float chunkMax = float.NegativeInfinity;
        for (int j = 0; j < vc; j++)
        {
            chunkMax = MathF.Max(chunkMax, logits[o + j]);
        }

        float newMax = MathF.Max(oldMax, chunkMax);
        float sum = 0f;
        for (int j = 0; j < vc; j++)
        {
            sum += MathF.Exp(logits[o + j] - newMax);
        }

        rowSum[row] = oldSum == 0f ? sum : (oldSum * MathF.Exp(oldMax - newMax)) + sum;
        rowMax[row] = newMax;
        int target = targets[row];
        if (target >= v0 && target < v0 + vc)
        {
            targetLogit[row] = logits[o + target - v0];
        }
    }

    /// <summary>
    /// One thread per row: <c>losses = log(rowSum) + rowMax - targetLogit</c>, 0 where the
    /// target is ignoreIndex. All [M].
    /// </summary>
    public static void Loss(
        Index1D i, ArrayView<float> rowMax, ArrayView<float> rowSum, ArrayView<float> targetLogit,
        ArrayView<int> targets, ArrayView<float> losses, int ignoreIndex) =>
        losses[i] = targets[i] == ignoreIndex
            ? 0f : MathF.Log(rowSum[i]) + rowMax[i] - targetLogit[i];

    /// <summary>
    /// One thread per element of logits, dLogits: [M, Vc] (may alias):
    /// <c>dLogits = scale·(softmax - onehot(target))</c>, 0 on ignored rows.
    /// </summary>
    public static void Backward(
        Index1D i, ArrayView<float> logits, ArrayView<float> rowMax, ArrayView<float> rowSum,
        ArrayView<int> targets, ArrayView<float> dLogits, int vc, int v0, float scale,
        int ignoreIndex)
    {
        int row = i / vc, j = i % vc;
        int target = targets[row];
        if (target == ignoreIndex)
        {
            dLogits[i] = 0f;
            return;
        }

        float d = MathF.Exp(logits[i] - rowMax[row]) * (scale / rowSum[row]);
        if (target - v0 == j)
        {
            d -= scale;
        }

        dLogits[i] = d;
    }

    /// <summary>
    /// One thread per (block, lane): Σ x² over the block's elements lane, lane + 16, ... in order,
    /// in float64 (a float's square is exact in double). x: [n]; lanes: [blocks·16].
    /// </summary>
    public static void NormLanesKernel(
        Index1D i, ArrayView<float> x, ArrayView<double> lanes, long n)
    {
        long start = (long)(i.X / NormLanes) * NormBlock;
        long end = Math.Min(n, start + NormBlock);
        double s = 0;
        for (long e = start + (i.X % NormLanes); e < end; e += NormLanes)
        {
            double v = x[e];
            s += v * v;
        }

        lanes[i] = s;
    }

    /// <summary>
    /// One thread: each block's lanes 0..15 in order, then the blocks in order, into result[0].
    /// </summary>
    public static void NormReduce(
        Index1D i, ArrayView<double> lanes, ArrayView<double> result, int blocks)
    {
        double total = 0;
        for (int b = 0; b < blocks; b++)
        {
            double block = 0;
            for (int lane = 0; lane < NormLanes; lane++)
            {
                block += lanes[((long)b * NormLanes) + lane];
            }

            total += block;
        }

        result[i] = total;
    }

    /// <summary>
    /// One thread per element of param, grad, m, v: [n]: the CPU engine's AdamW step
    /// (decay on the old parameter, bias corrections folded into the constants).
    /// </summary>
    public static void AdamW(
        Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m,
        ArrayView<float> v, AdamArgs k)
    {
        float g = grad[i] * k.GradScale;
        float mi = (k.Beta1 * m[i]) + (k.OneMinusBeta1 * g);
        float vi = (k.Beta2 * v[i]) + (k.OneMinusBeta2 * (g * g));
        float denom = (MathF.Sqrt(vi) / k.Bc2Sqrt) + k.Epsilon;
        param[i] = (param[i] * k.Decay) - (k.StepSize * mi / denom);
        m[i] = mi;
        v[i] = vi;
    }
}

/// <summary>The float constants of one AdamW step (see the CPU engine's AdamW.Constants).</summary>
internal readonly record struct AdamArgs(
    float Decay, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
    float StepSize, float Bc2Sqrt, float Epsilon, float GradScale)
{
    /// <summary>
    /// The constants of <paramref name="step"/>, computed as the CPU engine does.
    /// </summary>
    public static AdamArgs From(AdamWStep step)
    {
        Ops.AdamW.Constants c = Ops.AdamW.Constants.From(step);
        return new AdamArgs(
            c.Decay, c.Beta1, c.OneMinusBeta1, c.Beta2, c.OneMinusBeta2, c.StepSize, c.Bc2Sqrt,
            c.Epsilon, c.GradScale);
    }
}
