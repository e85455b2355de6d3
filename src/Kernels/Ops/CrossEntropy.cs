using System.Numerics;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// Softmax cross-entropy over a vocabulary processed in chunks [v0, v0 + Vc), so the M × V
/// logits are never held at once. Pass 1 (<see cref="Statistics"/>) folds each chunk into the
/// running row max and Σ exp(logit - max) (the online softmax rescaling
/// <c>sum = sum·e^(oldMax - newMax) + Σ_chunk e^(l - newMax)</c>) and captures the target's logit;
/// <see cref="Loss"/> gives <c>log(sum) + max - targetLogit</c>; pass 2 (<see cref="Backward"/>)
/// turns a recomputed chunk into <c>dLogits = scale·(softmax - onehot(target))</c>
/// (overwritten, may alias the logits). Rows are independent, so threads split rows and every
/// row's reduction order is fixed.
/// </summary>
internal static unsafe class CrossEntropy
{
    /// <summary>
    /// Rows [rowStart, rowEnd). logits: [M, Vc]; targets: [M]; rowMax, rowSum, targetLogit: [M]
    /// (reset when v0 = 0; targetLogit is 0 until the target's chunk is seen).
    /// </summary>
    public static void Statistics(
        float* logits, int* targets, int vc, int v0, int rowStart, int rowEnd, float* rowMax,
        float* rowSum, float* targetLogit, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                StatisticsCore<Vector512<float>, Simd512>(
                    logits, targets, vc, v0, rowStart, rowEnd, rowMax, rowSum, targetLogit);
                break;
            case SimdLevel.Avx2:
                StatisticsCore<Vector256<float>, Simd256>(
                    logits, targets, vc, v0, rowStart, rowEnd, rowMax, rowSum, targetLogit);
                break;
            default:
                StatisticsCore<Vector<float>, SimdVector>(
                    logits, targets, vc, v0, rowStart, rowEnd, rowMax, rowSum, targetLogit);
                break;
        }
    }

    /// <summary>
    /// Rows [rowStart, rowEnd): <c>losses = log(rowSum) + rowMax - targetLogit</c>, 0 on rows
    /// whose target is <paramref name="ignoreIndex"/>. All arguments [M].
    /// </summary>
    public static void Loss(
        float* rowMax, float* rowSum, float* targetLogit, int* targets, int ignoreIndex,
        int rowStart, int rowEnd, float* losses)
    {
        for (int i = rowStart; i < rowEnd; i++)
        {
            losses[i] = targets[i] == ignoreIndex
                ? 0f : MathF.Log(rowSum[i]) + rowMax[i] - targetLogit[i];
        }
    }

    /// <summary>
    /// Rows [rowStart, rowEnd) of one chunk: logits, dLogits: [M, Vc] (may alias); rowMax,
    /// rowSum: [M] final statistics; <c>dLogits = scale·(softmax - onehot)</c>, 0 on ignored rows.
    /// </summary>
    public static void Backward(
        float* logits, float* rowMax, float* rowSum, int* targets, int vc, int v0, float scale,
        int ignoreIndex, int rowStart, int rowEnd, float* dLogits, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                BackwardCore<Vector512<float>, Simd512>(
                    logits, rowMax, rowSum, targets, vc, v0, scale, ignoreIndex, rowStart,
                    rowEnd, dLogits);
                break;
            case SimdLevel.Avx2:
                BackwardCore<Vector256<float>, Simd256>(
                    logits, rowMax, rowSum, targets, vc, v0, scale, ignoreIndex, rowStart,
                    rowEnd, dLogits);
                break;
            default:
                BackwardCore<Vector<float>, SimdVector>(
                    logits, rowMax, rowSum, targets, vc, v0, scale, ignoreIndex, rowStart,
                    rowEnd, dLogits);
                break;
        }
    }

    private static void StatisticsCore<TVec, TS>(
        float* logits, int* targets, int vc, int v0, int rowStart, int rowEnd, float* rowMax,
        float* rowSum, float* targetLogit)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            float* l = logits + (long)row * vc;
            float oldMax = v0 == 0 ? float.NegativeInfinity : rowMax[row];
            float oldSum = v0 == 0 ? 0f : rowSum[row];
            if (v0 == 0)
            {
                targetLogit[row] = 0f;
            }

            // Chunk max, then Σ exp(l - newMax) with the vector exp.
            TVec vmax = TS.Splat(float.NegativeInfinity);
            int i = 0;
            for (; i + TS.Count <= vc; i += TS.Count)
            {
                vmax = TS.Max(vmax, TS.Load(l + i));
            }

            float chunkMax = TS.MaxAcross(vmax);
            for (; i < vc; i++)
            {
                chunkMax = MathF.Max(chunkMax, l[i]);
            }

            float newMax = MathF.Max(oldMax, chunkMax);
            TVec vNewMax = TS.Splat(newMax);
            TVec acc = TS.Splat(0f);
            i = 0;
            for (; i + TS.Count <= vc; i += TS.Count)
            {
                acc = TS.Add(acc, SimdMath.Exp<TVec, TS>(TS.Sub(TS.Load(l + i), vNewMax)));
            }

            float sum = TS.Sum(acc);
            for (; i < vc; i++)
            {
                sum += SimdMath.Exp(l[i] - newMax);
            }

            rowSum[row] = oldSum == 0f ? sum : oldSum * SimdMath.Exp(oldMax - newMax) + sum;
            rowMax[row] = newMax;
            int target = targets[row];
            if (target >= v0 && target < v0 + vc)
            {
                targetLogit[row] = l[target - v0];
            }
        }
    }

    private static void BackwardCore<TVec, TS>(
        float* logits, float* rowMax, float* rowSum, int* targets, int vc, int v0, float scale,
        int ignoreIndex, int rowStart, int rowEnd, float* dLogits)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            float* l = logits + (long)row * vc;
            float* d = dLogits + (long)row * vc;
            int target = targets[row];
            if (target == ignoreIndex)
            {
                new Span<float>(d, vc).Clear();
                continue;
            }

            float factor = scale / rowSum[row];
            float max = rowMax[row];
            TVec vFactor = TS.Splat(factor);
            TVec vMax = TS.Splat(max);
            int i = 0;
            for (; i + TS.Count <= vc; i += TS.Count)
            {
                TVec e = SimdMath.Exp<TVec, TS>(TS.Sub(TS.Load(l + i), vMax));
                TS.Store(TS.Mul(e, vFactor), d + i);
            }

            for (; i < vc; i++)
            {
                d[i] = SimdMath.Exp(l[i] - max) * factor;
            }

            if (target >= v0 && target < v0 + vc)
            {
                d[target - v0] -= scale;
            }
        }
    }

    /// <summary>
    /// float64 reference over the whole vocabulary at once. logits: [M, V]; losses: [M];
    /// dLogits: [M, V] with <c>scale·(softmax - onehot)</c>, 0 (and loss 0) on ignored rows.
    /// </summary>
    public static void Reference(
        ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int M, int V, int ignoreIndex,
        double scale, Span<double> losses, Span<double> dLogits)
    {
        for (int row = 0; row < M; row++)
        {
            ReadOnlySpan<float> l = logits.Slice(row * V, V);
            if (targets[row] == ignoreIndex)
            {
                losses[row] = 0;
                dLogits.Slice(row * V, V).Clear();
                continue;
            }

            double max = double.NegativeInfinity;
            for (int i = 0; i < V; i++)
            {
                max = Math.Max(max, l[i]);
            }

            double sum = 0;
            for (int i = 0; i < V; i++)
            {
                sum += Math.Exp(l[i] - max);
            }

            losses[row] = Math.Log(sum) + max - l[targets[row]];
            for (int i = 0; i < V; i++)
            {
                double p = Math.Exp(l[i] - max) / sum;
                dLogits[row * V + i] = scale * (p - (i == targets[row] ? 1 : 0));
            }
        }
    }
}
