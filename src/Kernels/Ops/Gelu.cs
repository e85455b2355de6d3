using System.Numerics;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// GPT-2's <c>gelu_new</c>: <c>y = 0.5·x·(1 + tanh(u))</c>, <c>u = s·(x + 0.044715·x³)</c>,
/// <c>s = √(2/π)</c>. The fast path uses the identity <c>0.5·(1 + tanh(u)) = σ(2u) =
/// 1 / (1 + e^(-2u))</c>, which has no cancellation for negative x (1 + tanh(u) → 0 would lose
/// every digit there), with the vector exp of <see cref="SimdMath"/>: ≤ ~1e-6 relative error.
/// Backward: <c>y' = σ + x·σ·(1 - σ)·2u'</c>, <c>u' = s·(1 + 3·0.044715·x²)</c>,
/// <c>1 - σ = e·σ</c> with <c>e = e^(-2u)</c>.
/// </summary>
internal static unsafe class Gelu
{
    private const float S = 0.7978845608028654f; // √(2/π)
    private const float A = 0.044715f;

    /// <summary>x, output: [n] (may alias); elements [start, end).</summary>
    public static void Forward(float* x, long start, long end, float* output, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                ForwardCore<Vector512<float>, Simd512>(x, start, end, output);
                break;
            case SimdLevel.Avx2:
                ForwardCore<Vector256<float>, Simd256>(x, start, end, output);
                break;
            default:
                ForwardCore<Vector<float>, SimdVector>(x, start, end, output);
                break;
        }
    }

    /// <summary>
    /// dOutput, x, dInput: [n]; <c>dInput = dOutput · gelu'(x)</c> (overwrite; may alias
    /// dOutput); elements [start, end).
    /// </summary>
    public static void Backward(
        float* dOutput, float* x, long start, long end, float* dInput, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                BackwardCore<Vector512<float>, Simd512>(dOutput, x, start, end, dInput);
                break;
            case SimdLevel.Avx2:
                BackwardCore<Vector256<float>, Simd256>(dOutput, x, start, end, dInput);
                break;
            default:
                BackwardCore<Vector<float>, SimdVector>(dOutput, x, start, end, dInput);
                break;
        }
    }

    private static void ForwardCore<TVec, TS>(float* x, long start, long end, float* y)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        long i = start;
        for (; i + TS.Count <= end; i += TS.Count)
        {
            TVec v = TS.Load(x + i);
            TVec minusTwoU = TS.Mul(
                TS.Mul(v, TS.Splat(-2f * S)), TS.Fma(TS.Mul(v, v), TS.Splat(A), TS.Splat(1f)));
            TVec e = SimdMath.Exp<TVec, TS>(minusTwoU);
            TS.Store(TS.Div(v, TS.Add(TS.Splat(1f), e)), y + i);
        }

        for (; i < end; i++)
        {
            float v = x[i];
            float e = SimdMath.Exp(v * (-2f * S) * MathF.FusedMultiplyAdd(v * v, A, 1f));
            y[i] = v / (1f + e);
        }
    }

    private static void BackwardCore<TVec, TS>(
        float* dy, float* x, long start, long end, float* dx)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        long i = start;
        for (; i + TS.Count <= end; i += TS.Count)
        {
            TVec v = TS.Load(x + i);
            TVec v2 = TS.Mul(v, v);
            TVec minusTwoU = TS.Mul(
                TS.Mul(v, TS.Splat(-2f * S)), TS.Fma(v2, TS.Splat(A), TS.Splat(1f)));
            TVec e = SimdMath.Exp<TVec, TS>(minusTwoU);
            TVec sigma = TS.Div(TS.Splat(1f), TS.Add(TS.Splat(1f), e));
            TVec twoDu = TS.Fma(v2, TS.Splat(2f * S * 3f * A), TS.Splat(2f * S));
            // σ + x·σ·(eσ)·2u'
            TVec grad = TS.Fma(TS.Mul(TS.Mul(v, sigma), TS.Mul(e, sigma)), twoDu, sigma);
            TS.Store(TS.Mul(TS.Load(dy + i), grad), dx + i);
        }

        for (; i < end; i++)
        {
            float v = x[i];
            float v2 = v * v;
            float e = SimdMath.Exp(v * (-2f * S) * MathF.FusedMultiplyAdd(v2, A, 1f));
            float sigma = 1f / (1f + e);
            float twoDu = MathF.FusedMultiplyAdd(v2, 2f * S * 3f * A, 2f * S);
            float grad = MathF.FusedMultiplyAdd(v * sigma * (e * sigma), twoDu, sigma);
            dx[i] = dy[i] * grad;
        }
    }

    /// <summary>float64 reference forward, the tanh form of the definition.</summary>
    public static double Reference(double x)
    {
        double s = Math.Sqrt(2.0 / Math.PI);
        return 0.5 * x * (1.0 + Math.Tanh(s * (x + 0.044715 * x * x * x)));
    }

    /// <summary>float64 reference derivative of <see cref="Reference"/>.</summary>
    public static double ReferenceDerivative(double x)
    {
        double s = Math.Sqrt(2.0 / Math.PI);
        double th = Math.Tanh(s * (x + 0.044715 * x * x * x));
        double du = s * (1.0 + 3.0 * 0.044715 * x * x);
        return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du;
    }
}
