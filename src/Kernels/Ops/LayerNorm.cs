using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// LayerNorm over the last dimension (ε = 1e-5):
/// <c>xhat = (x - mean)·rstd</c>, <c>rstd = 1/√(var + ε)</c> (biased variance),
/// <c>output = xhat·weight + bias</c>.
/// Backward (gradient rule: dInput +=, it is the residual stream's gradient; dWeight, dBias +=):
/// <c>dxhat = dOutput·weight</c>,
/// <c>dInput += rstd·(dxhat - mean(dxhat) - xhat·mean(dxhat·xhat))</c>,
/// <c>dWeight += Σ_rows dOutput·xhat</c>, <c>dBias += Σ_rows dOutput</c>. The cross-row sums are
/// split by columns (each thread owns a column range and adds rows 0..N-1 in order), so they are
/// the same for any thread count.
/// </summary>
internal static unsafe class LayerNorm
{
    public const float Epsilon = 1e-5f;

    /// <summary>
    /// Rows [rowStart, rowEnd) of x: [N, C] into output: [N, C]; weight, bias: [C];
    /// mean, rstd: [N] saved for backward.
    /// </summary>
    public static void Forward(
        float* x, float* weight, float* bias, int C, int rowStart, int rowEnd, float* output,
        float* mean, float* rstd, SimdLevel simd)
    {
        Debug.Assert(C > 0 && rowStart <= rowEnd);
        switch (simd)
        {
            case SimdLevel.Avx512:
                ForwardCore<Vector512<float>, Simd512>(
                    x, weight, bias, C, rowStart, rowEnd, output, mean, rstd);
                break;
            case SimdLevel.Avx2:
                ForwardCore<Vector256<float>, Simd256>(
                    x, weight, bias, C, rowStart, rowEnd, output, mean, rstd);
                break;
            default:
                ForwardCore<Vector<float>, SimdVector>(
                    x, weight, bias, C, rowStart, rowEnd, output, mean, rstd);
                break;
        }
    }

    /// <summary>
    /// Phase 1 of backward, rows [rowStart, rowEnd): <c>dInput += ...</c>. dOutput, x, dInput:
    /// [N, C]; weight: [C]; mean, rstd: [N].
    /// </summary>
    public static void BackwardInput(
        float* dOutput, float* x, float* weight, float* mean, float* rstd, int C, int rowStart,
        int rowEnd, float* dInput, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                BackwardInputCore<Vector512<float>, Simd512>(
                    dOutput, x, weight, mean, rstd, C, rowStart, rowEnd, dInput);
                break;
            case SimdLevel.Avx2:
                BackwardInputCore<Vector256<float>, Simd256>(
                    dOutput, x, weight, mean, rstd, C, rowStart, rowEnd, dInput);
                break;
            default:
                BackwardInputCore<Vector<float>, SimdVector>(
                    dOutput, x, weight, mean, rstd, C, rowStart, rowEnd, dInput);
                break;
        }
    }

    /// <summary>
    /// Phase 2 of backward, columns [colStart, colEnd) over all N rows in order:
    /// <c>dWeight += Σ dOutput·xhat</c>, <c>dBias += Σ dOutput</c>. dWeight, dBias: [C].
    /// </summary>
    public static void BackwardParameters(
        float* dOutput, float* x, float* mean, float* rstd, int N, int C, int colStart,
        int colEnd, float* dWeight, float* dBias, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                BackwardParametersCore<Vector512<float>, Simd512>(
                    dOutput, x, mean, rstd, N, C, colStart, colEnd, dWeight, dBias);
                break;
            case SimdLevel.Avx2:
                BackwardParametersCore<Vector256<float>, Simd256>(
                    dOutput, x, mean, rstd, N, C, colStart, colEnd, dWeight, dBias);
                break;
            default:
                BackwardParametersCore<Vector<float>, SimdVector>(
                    dOutput, x, mean, rstd, N, C, colStart, colEnd, dWeight, dBias);
                break;
        }
    }

    private static void ForwardCore<TVec, TS>(
        float* x, float* weight, float* bias, int C, int rowStart, int rowEnd, float* output,
        float* mean, float* rstd)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            float* xr = x + (long)row * C;
            float* yr = output + (long)row * C;

            // Two passes (mean, then squared deviations) so large means do not cancel.
            float m = Sum<TVec, TS>(xr, C) / C;
            TVec vm = TS.Splat(m);
            TVec acc = TS.Splat(0f);
            int i = 0;
            for (; i + TS.Count <= C; i += TS.Count)
            {
                TVec d = TS.Sub(TS.Load(xr + i), vm);
                acc = TS.Fma(d, d, acc);
            }

            float var = TS.Sum(acc);
            for (; i < C; i++)
            {
                float d = xr[i] - m;
                var = MathF.FusedMultiplyAdd(d, d, var);
            }

            float s = 1f / MathF.Sqrt(var / C + Epsilon);
            TVec vs = TS.Splat(s);
            i = 0;
            for (; i + TS.Count <= C; i += TS.Count)
            {
                TVec xhat = TS.Mul(TS.Sub(TS.Load(xr + i), vm), vs);
                TS.Store(TS.Fma(xhat, TS.Load(weight + i), TS.Load(bias + i)), yr + i);
            }

            for (; i < C; i++)
            {
                yr[i] = MathF.FusedMultiplyAdd((xr[i] - m) * s, weight[i], bias[i]);
            }

            mean[row] = m;
            rstd[row] = s;
        }
    }

    private static void BackwardInputCore<TVec, TS>(
        float* dOutput, float* x, float* weight, float* mean, float* rstd, int C, int rowStart,
        int rowEnd, float* dInput)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            float* dy = dOutput + (long)row * C;
            float* xr = x + (long)row * C;
            float* dx = dInput + (long)row * C;
            float m = mean[row];
            float s = rstd[row];
            TVec vm = TS.Splat(m);
            TVec vs = TS.Splat(s);

            // Row means of dxhat and dxhat·xhat.
            TVec accD = TS.Splat(0f);
            TVec accDx = TS.Splat(0f);
            int i = 0;
            for (; i + TS.Count <= C; i += TS.Count)
            {
                TVec xhat = TS.Mul(TS.Sub(TS.Load(xr + i), vm), vs);
                TVec dxhat = TS.Mul(TS.Load(dy + i), TS.Load(weight + i));
                accD = TS.Add(accD, dxhat);
                accDx = TS.Fma(dxhat, xhat, accDx);
            }

            float sumD = TS.Sum(accD);
            float sumDx = TS.Sum(accDx);
            for (; i < C; i++)
            {
                float xhat = (xr[i] - m) * s;
                float dxhat = dy[i] * weight[i];
                sumD += dxhat;
                sumDx = MathF.FusedMultiplyAdd(dxhat, xhat, sumDx);
            }

            float meanD = sumD / C;
            float meanDx = sumDx / C;
            TVec vMeanD = TS.Splat(meanD);
            TVec vMeanDx = TS.Splat(meanDx);
            i = 0;
            for (; i + TS.Count <= C; i += TS.Count)
            {
                TVec xhat = TS.Mul(TS.Sub(TS.Load(xr + i), vm), vs);
                TVec dxhat = TS.Mul(TS.Load(dy + i), TS.Load(weight + i));
                TVec g = TS.Sub(TS.Sub(dxhat, vMeanD), TS.Mul(xhat, vMeanDx));
                TS.Store(TS.Fma(g, vs, TS.Load(dx + i)), dx + i);
            }

            for (; i < C; i++)
            {
                float xhat = (xr[i] - m) * s;
                float g = dy[i] * weight[i] - meanD - xhat * meanDx;
                dx[i] = MathF.FusedMultiplyAdd(g, s, dx[i]);
            }
        }
    }

    private static void BackwardParametersCore<TVec, TS>(
        float* dOutput, float* x, float* mean, float* rstd, int N, int C, int colStart,
        int colEnd, float* dWeight, float* dBias)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        // A column block of one register: its two sums stay in registers over all rows.
        int c = colStart;
        for (; c + TS.Count <= colEnd; c += TS.Count)
        {
            TVec accW = TS.Splat(0f);
            TVec accB = TS.Splat(0f);
            for (int row = 0; row < N; row++)
            {
                long o = (long)row * C + c;
                TVec dy = TS.Load(dOutput + o);
                TVec xhat = TS.Mul(
                    TS.Sub(TS.Load(x + o), TS.Splat(mean[row])), TS.Splat(rstd[row]));
                accW = TS.Fma(dy, xhat, accW);
                accB = TS.Add(accB, dy);
            }

            TS.Store(TS.Add(TS.Load(dWeight + c), accW), dWeight + c);
            TS.Store(TS.Add(TS.Load(dBias + c), accB), dBias + c);
        }

        for (; c < colEnd; c++)
        {
            float accW = 0f, accB = 0f;
            for (int row = 0; row < N; row++)
            {
                long o = (long)row * C + c;
                float xhat = (x[o] - mean[row]) * rstd[row];
                accW = MathF.FusedMultiplyAdd(dOutput[o], xhat, accW);
                accB += dOutput[o];
            }

            dWeight[c] += accW;
            dBias[c] += accB;
        }
    }

    private static float Sum<TVec, TS>(float* p, int n)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        TVec acc = TS.Splat(0f);
        int i = 0;
        for (; i + TS.Count <= n; i += TS.Count)
        {
            acc = TS.Add(acc, TS.Load(p + i));
        }

        float s = TS.Sum(acc);
        for (; i < n; i++)
        {
            s += p[i];
        }

        return s;
    }

    /// <summary>float64 reference forward; x: [N, C]; output: [N, C]; mean, rstd: [N].</summary>
    public static void ReferenceForward(
        ReadOnlySpan<double> x, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, int N,
        int C, Span<double> output, Span<double> mean, Span<double> rstd)
    {
        for (int row = 0; row < N; row++)
        {
            ReadOnlySpan<double> xr = x.Slice(row * C, C);
            double m = 0;
            for (int i = 0; i < C; i++)
            {
                m += xr[i];
            }

            m /= C;
            double v = 0;
            for (int i = 0; i < C; i++)
            {
                v += (xr[i] - m) * (xr[i] - m);
            }

            double s = 1.0 / Math.Sqrt(v / C + Epsilon);
            for (int i = 0; i < C; i++)
            {
                output[row * C + i] = (xr[i] - m) * s * weight[i] + bias[i];
            }

            mean[row] = m;
            rstd[row] = s;
        }
    }

    /// <summary>float64 reference backward (same accumulation rule: all three +=).</summary>
    public static void ReferenceBackward(
        ReadOnlySpan<double> dOutput, ReadOnlySpan<double> x, ReadOnlySpan<double> weight,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd, int N, int C, Span<double> dInput,
        Span<double> dWeight, Span<double> dBias)
    {
        for (int row = 0; row < N; row++)
        {
            double meanD = 0, meanDx = 0;
            for (int i = 0; i < C; i++)
            {
                double xhat = (x[row * C + i] - mean[row]) * rstd[row];
                double dxhat = dOutput[row * C + i] * weight[i];
                meanD += dxhat;
                meanDx += dxhat * xhat;
            }

            meanD /= C;
            meanDx /= C;
            for (int i = 0; i < C; i++)
            {
                double xhat = (x[row * C + i] - mean[row]) * rstd[row];
                double dy = dOutput[row * C + i];
                dInput[row * C + i] += (dy * weight[i] - meanD - xhat * meanDx) * rstd[row];
                dWeight[i] += dy * xhat;
                dBias[i] += dy;
            }
        }
    }
}
