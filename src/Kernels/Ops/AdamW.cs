using System.Numerics;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// One AdamW step, PyTorch's <c>torch.optim.AdamW</c> formula (single-tensor, no amsgrad), with
/// the step constants computed in double on the host as PyTorch does in Python floats:
/// <code>
/// g      = grad · gradScale
/// param  = param · (1 - lr·wd)                       (decoupled weight decay, applied first)
/// m      = β1·m + (1 - β1)·g
/// v      = β2·v + (1 - β2)·g²
/// param -= (lr / (1 - β1^t)) · m / (√v / √(1 - β2^t) + ε)
/// </code>
/// which is IKernels' <c>param -= lr·(m̂ / (√v̂ + ε) + wd·param)</c> with the decay taken on
/// the old parameter. param, grad, m, v: [n]; grad is read only.
/// </summary>
internal static unsafe class AdamW
{
    /// <summary>The float constants of one step.</summary>
    public readonly record struct Constants(
        float Decay, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
        float StepSize, float Bc2Sqrt, float Epsilon, float GradScale)
    {
        public static Constants From(AdamWStep s)
        {
            double bc1 = 1.0 - Math.Pow(s.Beta1, s.Step);
            double bc2 = 1.0 - Math.Pow(s.Beta2, s.Step);
            return new Constants(
                (float)(1.0 - (double)s.LearningRate * s.WeightDecay), s.Beta1, 1f - s.Beta1,
                s.Beta2, 1f - s.Beta2, (float)(s.LearningRate / bc1), (float)Math.Sqrt(bc2),
                s.Epsilon, s.GradScale);
        }
    }

    /// <summary>Elements [start, end).</summary>
    public static void Step(
        float* param, float* grad, float* m, float* v, long start, long end, in Constants k,
        SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                Core<Vector512<float>, Simd512>(param, grad, m, v, start, end, k);
                break;
            case SimdLevel.Avx2:
                Core<Vector256<float>, Simd256>(param, grad, m, v, start, end, k);
                break;
            default:
                Core<Vector<float>, SimdVector>(param, grad, m, v, start, end, k);
                break;
        }
    }

    private static void Core<TVec, TS>(
        float* param, float* grad, float* m, float* v, long start, long end, in Constants k)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        long i = start;
        TVec gs = TS.Splat(k.GradScale), decay = TS.Splat(k.Decay);
        TVec b1 = TS.Splat(k.Beta1), c1 = TS.Splat(k.OneMinusBeta1);
        TVec b2 = TS.Splat(k.Beta2), c2 = TS.Splat(k.OneMinusBeta2);
        TVec step = TS.Splat(k.StepSize), bc2 = TS.Splat(k.Bc2Sqrt), eps = TS.Splat(k.Epsilon);
        for (; i + TS.Count <= end; i += TS.Count)
        {
            TVec g = TS.Mul(TS.Load(grad + i), gs);
            TVec mi = TS.Fma(b1, TS.Load(m + i), TS.Mul(c1, g));
            TVec vi = TS.Fma(b2, TS.Load(v + i), TS.Mul(c2, TS.Mul(g, g)));
            TVec denom = TS.Add(TS.Div(TS.Sqrt(vi), bc2), eps);
            TVec p = TS.Mul(TS.Load(param + i), decay);
            TS.Store(TS.Sub(p, TS.Div(TS.Mul(step, mi), denom)), param + i);
            TS.Store(mi, m + i);
            TS.Store(vi, v + i);
        }

        for (; i < end; i++)
        {
            float g = grad[i] * k.GradScale;
            float mi = MathF.FusedMultiplyAdd(k.Beta1, m[i], k.OneMinusBeta1 * g);
            float vi = MathF.FusedMultiplyAdd(k.Beta2, v[i], k.OneMinusBeta2 * (g * g));
            float denom = MathF.Sqrt(vi) / k.Bc2Sqrt + k.Epsilon;
            param[i] = param[i] * k.Decay - k.StepSize * mi / denom;
            m[i] = mi;
            v[i] = vi;
        }
    }

    /// <summary>float64 reference of one step on every element.</summary>
    public static void Reference(
        Span<double> param, ReadOnlySpan<float> grad, Span<double> m, Span<double> v,
        AdamWStep s)
    {
        double bc1 = 1.0 - Math.Pow(s.Beta1, s.Step);
        double bc2 = 1.0 - Math.Pow(s.Beta2, s.Step);
        for (int i = 0; i < param.Length; i++)
        {
            double g = (double)grad[i] * s.GradScale;
            m[i] = s.Beta1 * m[i] + (1.0 - s.Beta1) * g;
            v[i] = s.Beta2 * v[i] + (1.0 - s.Beta2) * g * g;
            double mHat = m[i] / bc1, vHat = v[i] / bc2;
            param[i] -= s.LearningRate * (mHat / (Math.Sqrt(vHat) + s.Epsilon)
                + s.WeightDecay * param[i]);
        }
    }
}
