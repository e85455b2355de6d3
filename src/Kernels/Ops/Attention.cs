using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// Causal multi-head self-attention for short sequences (T ≤ 64), one (batch, head) pair per
/// work item: its whole T×T block fits in L1, so the scores never leave the core.
/// Forward, per head with q, k, v: [T, HS] read from qkv: [B, T, 3C] (q at columns [0, C),
/// k at [C, 2C), v at [2C, 3C), head h at h·HS):
/// <c>P = softmax(q·kᵀ/√HS + causal mask)</c> saved in probabilities: [B, NH, T, T] (upper
/// triangle 0); <c>Pd = P · keep / (1 - p)</c> (dropout element = flat index into
/// probabilities); <c>out = Pd·v</c> into output: [B, T, C].
/// Backward (dQkv overwritten): <c>dPd = dOut·vᵀ</c>, <c>dv = Pdᵀ·dOut</c>,
/// <c>dP = dPd · keep / (1 - p)</c>, <c>dS = P ⊙ (dP - rowsum(P ⊙ dP))</c>,
/// <c>dq = dS·k/√HS</c>, <c>dk = dSᵀ·q/√HS</c>.
/// </summary>
internal static unsafe class Attention
{
    /// <summary>Longest sequence the stack buffers hold.</summary>
    public const int MaxT = 64;

    /// <summary>Work items [start, end) of the B·NH (batch, head) pairs.</summary>
    public static void Forward(
        float* qkv, int T, int C, int NH, DropoutSpec dropout, int start, int end, float* output,
        float* probabilities, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                ForwardCore<Vector512<float>, Simd512>(
                    qkv, T, C, NH, dropout, start, end, output, probabilities);
                break;
            case SimdLevel.Avx2:
                ForwardCore<Vector256<float>, Simd256>(
                    qkv, T, C, NH, dropout, start, end, output, probabilities);
                break;
            default:
                ForwardCore<Vector<float>, SimdVector>(
                    qkv, T, C, NH, dropout, start, end, output, probabilities);
                break;
        }
    }

    /// <summary>Work items [start, end); dOutput: [B, T, C]; dQkv: [B, T, 3C] (=).</summary>
    public static void Backward(
        float* dOutput, float* qkv, float* probabilities, int T, int C, int NH,
        DropoutSpec dropout, int start, int end, float* dQkv, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                BackwardCore<Vector512<float>, Simd512>(
                    dOutput, qkv, probabilities, T, C, NH, dropout, start, end, dQkv);
                break;
            case SimdLevel.Avx2:
                BackwardCore<Vector256<float>, Simd256>(
                    dOutput, qkv, probabilities, T, C, NH, dropout, start, end, dQkv);
                break;
            default:
                BackwardCore<Vector<float>, SimdVector>(
                    dOutput, qkv, probabilities, T, C, NH, dropout, start, end, dQkv);
                break;
        }
    }

    private static void ForwardCore<TVec, TS>(
        float* qkv, int T, int C, int NH, DropoutSpec dropout, int start, int end, float* output,
        float* probabilities)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        Debug.Assert(T <= MaxT && C % NH == 0);
        int HS = C / NH;
        float scale = 1f / MathF.Sqrt(HS);
        bool drop = dropout.IsActive;
        DropoutKey key = drop ? DropoutKey.From(dropout) : default;
        float keepScale = drop ? DropoutKey.Scale(dropout.P) : 1f;
        float* scores = stackalloc float[MaxT];
        for (int bh = start; bh < end; bh++)
        {
            int b = bh / NH, h = bh % NH;
            float* baseQ = qkv + (long)b * T * 3 * C + h * HS;
            float* probs = probabilities + (long)bh * T * T;
            for (int t = 0; t < T; t++)
            {
                float* q = baseQ + (long)t * 3 * C;
                float max = float.NegativeInfinity;
                for (int t2 = 0; t2 <= t; t2++)
                {
                    float s = Dot<TVec, TS>(q, baseQ + (long)t2 * 3 * C + C, HS) * scale;
                    scores[t2] = s;
                    max = MathF.Max(max, s);
                }

                float sum = 0f;
                for (int t2 = 0; t2 <= t; t2++)
                {
                    float e = SimdMath.Exp(scores[t2] - max);
                    scores[t2] = e;
                    sum += e;
                }

                float inv = 1f / sum;
                float* y = output + ((long)b * T + t) * C + h * HS;
                new Span<float>(y, HS).Clear();
                float* pRow = probs + (long)t * T;
                for (int t2 = 0; t2 < T; t2++)
                {
                    float pr = t2 <= t ? scores[t2] * inv : 0f;
                    pRow[t2] = pr;
                    if (t2 > t)
                    {
                        continue;
                    }

                    float pd = drop ? pr * key.Factor((long)bh * T * T + t * T + t2,
                        dropout.P, keepScale) : pr;
                    Axpy<TVec, TS>(pd, baseQ + (long)t2 * 3 * C + 2 * C, y, HS);
                }
            }
        }
    }

    private static void BackwardCore<TVec, TS>(
        float* dOutput, float* qkv, float* probabilities, int T, int C, int NH,
        DropoutSpec dropout, int start, int end, float* dQkv)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        int HS = C / NH;
        float scale = 1f / MathF.Sqrt(HS);
        bool drop = dropout.IsActive;
        DropoutKey key = drop ? DropoutKey.From(dropout) : default;
        float keepScale = drop ? DropoutKey.Scale(dropout.P) : 1f;
        float* dP = stackalloc float[MaxT];
        for (int bh = start; bh < end; bh++)
        {
            int b = bh / NH, h = bh % NH;
            long rowBase = (long)b * T * 3 * C + h * HS;
            float* baseQ = qkv + rowBase;
            float* baseDq = dQkv + rowBase;
            float* probs = probabilities + (long)bh * T * T;
            for (int t = 0; t < T; t++)
            {
                float* d = baseDq + (long)t * 3 * C;
                new Span<float>(d, HS).Clear();
                new Span<float>(d + C, HS).Clear();
                new Span<float>(d + 2 * C, HS).Clear();
            }

            for (int t = 0; t < T; t++)
            {
                float* dy = dOutput + ((long)b * T + t) * C + h * HS;
                float* pRow = probs + (long)t * T;

                // Through out = Pd·v: dPd[t2] = dy·v[t2], dv[t2] += Pd[t2]·dy.
                float rowDot = 0f;
                for (int t2 = 0; t2 <= t; t2++)
                {
                    float factor = drop
                        ? key.Factor((long)bh * T * T + t * T + t2, dropout.P, keepScale) : 1f;
                    float* v = baseQ + (long)t2 * 3 * C + 2 * C;
                    float dpd = Dot<TVec, TS>(dy, v, HS);
                    Axpy<TVec, TS>(pRow[t2] * factor, dy, baseDq + (long)t2 * 3 * C + 2 * C, HS);
                    dP[t2] = dpd * factor;
                    rowDot = MathF.FusedMultiplyAdd(pRow[t2], dP[t2], rowDot);
                }

                // Through the softmax and the scale: dS = P·(dP - rowDot)/√HS.
                float* q = baseQ + (long)t * 3 * C;
                float* dq = baseDq + (long)t * 3 * C;
                for (int t2 = 0; t2 <= t; t2++)
                {
                    float ds = pRow[t2] * (dP[t2] - rowDot) * scale;
                    Axpy<TVec, TS>(ds, baseQ + (long)t2 * 3 * C + C, dq, HS);
                    Axpy<TVec, TS>(ds, q, baseDq + (long)t2 * 3 * C + C, HS);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot<TVec, TS>(float* a, float* b, int n)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        TVec acc = TS.Splat(0f);
        int i = 0;
        for (; i + TS.Count <= n; i += TS.Count)
        {
            acc = TS.Fma(TS.Load(a + i), TS.Load(b + i), acc);
        }

        float s = TS.Sum(acc);
        for (; i < n; i++)
        {
            s = MathF.FusedMultiplyAdd(a[i], b[i], s);
        }

        return s;
    }

    /// <summary><c>y += alpha·x</c> over n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy<TVec, TS>(float alpha, float* x, float* y, int n)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        TVec va = TS.Splat(alpha);
        int i = 0;
        for (; i + TS.Count <= n; i += TS.Count)
        {
            TS.Store(TS.Fma(va, TS.Load(x + i), TS.Load(y + i)), y + i);
        }

        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
        }
    }

    /// <summary>float64 reference forward (same shapes; dropout mask from the same key).</summary>
    public static void ReferenceForward(
        ReadOnlySpan<double> qkv, int B, int T, int C, int NH, DropoutSpec dropout,
        Span<double> output, Span<double> probabilities)
    {
        int HS = C / NH;
        double scale = 1.0 / Math.Sqrt(HS);
        DropoutKey key = DropoutKey.From(dropout);
        double keepScale = 1.0 / (1.0 - dropout.P);
        var s = new double[T];
        for (int b = 0; b < B; b++)
        {
            for (int h = 0; h < NH; h++)
            {
                int bh = b * NH + h;
                for (int t = 0; t < T; t++)
                {
                    double max = double.NegativeInfinity;
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        double dot = 0;
                        for (int i = 0; i < HS; i++)
                        {
                            dot += qkv[(b * T + t) * 3 * C + h * HS + i]
                                * qkv[(b * T + t2) * 3 * C + C + h * HS + i];
                        }

                        s[t2] = dot * scale;
                        max = Math.Max(max, s[t2]);
                    }

                    double sum = 0;
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        s[t2] = Math.Exp(s[t2] - max);
                        sum += s[t2];
                    }

                    for (int i = 0; i < HS; i++)
                    {
                        output[(b * T + t) * C + h * HS + i] = 0;
                    }

                    for (int t2 = 0; t2 < T; t2++)
                    {
                        double p = t2 <= t ? s[t2] / sum : 0;
                        int e = (bh * T + t) * T + t2;
                        probabilities[e] = p;
                        double pd = !dropout.IsActive ? p
                            : key.Uniform(e) >= dropout.P ? p * keepScale : 0;
                        for (int i = 0; t2 <= t && i < HS; i++)
                        {
                            output[(b * T + t) * C + h * HS + i] +=
                                pd * qkv[(b * T + t2) * 3 * C + 2 * C + h * HS + i];
                        }
                    }
                }
            }
        }
    }

    /// <summary>float64 reference backward; dQkv overwritten.</summary>
    public static void ReferenceBackward(
        ReadOnlySpan<double> dOutput, ReadOnlySpan<double> qkv,
        ReadOnlySpan<double> probabilities, int B, int T, int C, int NH, DropoutSpec dropout,
        Span<double> dQkv)
    {
        int HS = C / NH;
        double scale = 1.0 / Math.Sqrt(HS);
        DropoutKey key = DropoutKey.From(dropout);
        double keepScale = 1.0 / (1.0 - dropout.P);
        dQkv.Clear();
        var dP = new double[T];
        for (int b = 0; b < B; b++)
        {
            for (int h = 0; h < NH; h++)
            {
                int bh = b * NH + h;
                for (int t = 0; t < T; t++)
                {
                    int qOff = (b * T + t) * 3 * C + h * HS;
                    double rowDot = 0;
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        int e = (bh * T + t) * T + t2;
                        double factor = !dropout.IsActive ? 1
                            : key.Uniform(e) >= dropout.P ? keepScale : 0;
                        int vOff = (b * T + t2) * 3 * C + 2 * C + h * HS;
                        double dpd = 0;
                        for (int i = 0; i < HS; i++)
                        {
                            double dy = dOutput[(b * T + t) * C + h * HS + i];
                            dpd += dy * qkv[vOff + i];
                            dQkv[vOff + i] += probabilities[e] * factor * dy;
                        }

                        dP[t2] = dpd * factor;
                        rowDot += probabilities[e] * dP[t2];
                    }

                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        int e = (bh * T + t) * T + t2;
                        double ds = probabilities[e] * (dP[t2] - rowDot) * scale;
                        int kOff = (b * T + t2) * 3 * C + C + h * HS;
                        for (int i = 0; i < HS; i++)
                        {
                            dQkv[qOff + i] += ds * qkv[kOff + i];
                            dQkv[kOff + i] += ds * qkv[qOff + i];
                        }
                    }
                }
            }
        }
    }
}
