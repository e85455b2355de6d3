using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// Input embedding: <c>output[b,t] = (wte[tokens[b,t]] + wpe[t]) + wte[types[b,t]]</c>, the type
/// term absent when there are no types. Backward is a scatter-add (parameter rule +=):
/// <c>dWte[tokens[b,t]] += dOutput[b,t]</c>, <c>dWte[types[b,t]] += dOutput[b,t]</c>,
/// <c>dWpe[t] += dOutput[b,t]</c>. For determinism the backward is split by output columns: a
/// thread owns columns [c0, c1) of every row of dWte and dWpe and walks (b, t) in order, token
/// before type, so every element receives its contributions in one order for any thread count.
/// </summary>
internal static unsafe class Embedding
{
    /// <summary>
    /// Rows [rowStart, rowEnd) of the B·T rows. tokens, types: [B·T] (types null = no type term);
    /// wte: [V, C]; wpe: [maxT, C]; output: [B·T, C].
    /// </summary>
    public static void Forward(
        int* tokens, int* types, float* wte, float* wpe, int T, int C, int rowStart, int rowEnd,
        float* output, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                ForwardCore<Vector512<float>, Simd512>(
                    tokens, types, wte, wpe, T, C, rowStart, rowEnd, output);
                break;
            case SimdLevel.Avx2:
                ForwardCore<Vector256<float>, Simd256>(
                    tokens, types, wte, wpe, T, C, rowStart, rowEnd, output);
                break;
            default:
                ForwardCore<Vector<float>, SimdVector>(
                    tokens, types, wte, wpe, T, C, rowStart, rowEnd, output);
                break;
        }
    }

    /// <summary>
    /// Columns [colStart, colEnd) of the scatter-add over all B·T rows in (b, t) order.
    /// dOutput: [B·T, C]; dWte: [V, C]; dWpe: [maxT, C].
    /// </summary>
    public static void Backward(
        float* dOutput, int* tokens, int* types, int BT, int T, int C, int colStart, int colEnd,
        float* dWte, float* dWpe, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                BackwardCore<Vector512<float>, Simd512>(
                    dOutput, tokens, types, BT, T, C, colStart, colEnd, dWte, dWpe);
                break;
            case SimdLevel.Avx2:
                BackwardCore<Vector256<float>, Simd256>(
                    dOutput, tokens, types, BT, T, C, colStart, colEnd, dWte, dWpe);
                break;
            default:
                BackwardCore<Vector<float>, SimdVector>(
                    dOutput, tokens, types, BT, T, C, colStart, colEnd, dWte, dWpe);
                break;
        }
    }

    private static void ForwardCore<TVec, TS>(
        int* tokens, int* types, float* wte, float* wpe, int T, int C, int rowStart, int rowEnd,
        float* output)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            float* tok = wte + (long)tokens[row] * C;
            float* pos = wpe + (long)(row % T) * C;
            float* y = output + (long)row * C;
            int i = 0;
            if (types == null)
            {
                for (; i + TS.Count <= C; i += TS.Count)
                {
                    TS.Store(TS.Add(TS.Load(tok + i), TS.Load(pos + i)), y + i);
                }

                for (; i < C; i++)
                {
                    y[i] = tok[i] + pos[i];
                }

                continue;
            }

            float* typ = wte + (long)types[row] * C;
            for (; i + TS.Count <= C; i += TS.Count)
            {
                TVec s = TS.Add(TS.Load(tok + i), TS.Load(pos + i));
                TS.Store(TS.Add(s, TS.Load(typ + i)), y + i);
            }

            for (; i < C; i++)
            {
                y[i] = tok[i] + pos[i] + typ[i];
            }
        }
    }

    private static void BackwardCore<TVec, TS>(
        float* dOutput, int* tokens, int* types, int BT, int T, int C, int colStart, int colEnd,
        float* dWte, float* dWpe)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        Debug.Assert(colStart <= colEnd && colEnd <= C);
        for (int row = 0; row < BT; row++)
        {
            float* d = dOutput + (long)row * C;
            float* tok = dWte + (long)tokens[row] * C;
            float* typ = types == null ? null : dWte + (long)types[row] * C;
            float* pos = dWpe + (long)(row % T) * C;

            // Element-wise adds: the vector width does not change any element's order.
            int i = colStart;
            for (; i + TS.Count <= colEnd; i += TS.Count)
            {
                TVec g = TS.Load(d + i);
                TS.Store(TS.Add(TS.Load(tok + i), g), tok + i);
                if (typ != null)
                {
                    TS.Store(TS.Add(TS.Load(typ + i), g), typ + i);
                }

                TS.Store(TS.Add(TS.Load(pos + i), g), pos + i);
            }

            for (; i < colEnd; i++)
            {
                tok[i] += d[i];
                if (typ != null)
                {
                    typ[i] += d[i];
                }

                pos[i] += d[i];
            }
        }
    }

    /// <summary>float64 reference forward; types empty = no type term.</summary>
    public static void ReferenceForward(
        ReadOnlySpan<int> tokens, ReadOnlySpan<int> types, ReadOnlySpan<float> wte,
        ReadOnlySpan<float> wpe, int B, int T, int C, Span<double> output)
    {
        for (int row = 0; row < B * T; row++)
        {
            for (int i = 0; i < C; i++)
            {
                double v = (double)wte[tokens[row] * C + i] + wpe[row % T * C + i];
                if (!types.IsEmpty)
                {
                    v += wte[types[row] * C + i];
                }

                output[row * C + i] = v;
            }
        }
    }

    /// <summary>float64 reference backward (+= into dWte, dWpe).</summary>
    public static void ReferenceBackward(
        ReadOnlySpan<float> dOutput, ReadOnlySpan<int> tokens, ReadOnlySpan<int> types, int B,
        int T, int C, Span<double> dWte, Span<double> dWpe)
    {
        for (int row = 0; row < B * T; row++)
        {
            for (int i = 0; i < C; i++)
            {
                double g = dOutput[row * C + i];
                dWte[tokens[row] * C + i] += g;
                if (!types.IsEmpty)
                {
                    dWte[types[row] * C + i] += g;
                }

                dWpe[row % T * C + i] += g;
            }
        }
    }
}
