using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// The ops of incremental (key/value-cached) decoding, inference only, so forward only.
/// <para><b>AttentionDecode</b>: every row n brings one new position t. qkv: [N, 3C] of the new
/// tokens (q, k, v blocks of C, head h at h·HS). The cache is a set of slots of 2C floats (k at
/// [0, C), v at [C, 2C)); the slot of node s at position j starts at j·positionStride + s·2C.
/// Row n's earlier positions are the nodes ancestors[n, j] (ancestors: [N, t]); its new k, v go
/// to node n of position t. The op writes that slot, then, per head,
/// <c>out = softmax(q·K[0..t]ᵀ/√HS) · V[0..t]</c> into output: [N, C]. Rows whose paths share
/// a prefix share its slots, so re-selecting beams copies nothing. Work item = (row, head),
/// which owns exactly the slice of the slot it writes.</para>
/// <para><b>RowLogSumExp</b>: <c>lse[i] = max_j x[i,j] + log Σ_j exp(x[i,j] − max)</c>, x: [M, N],
/// one row per work item, summed in column order.</para>
/// <para><b>GatherRows</b>: <c>destination[i, :] = source[indices[i], :]</c> for rows of width W;
/// width 1 gathers single elements by flat index.</para>
/// </summary>
internal static unsafe class Decode
{
    /// <summary>Work items [start, end) of the N·NH (row, head) pairs.</summary>
    public static void AttentionForward(
        float* qkv, int* ancestors, int t, int C, int NH, float* cache, long positionStride,
        int start, int end, float* output)
    {
        Debug.Assert(t < Attention.MaxT && C % NH == 0);
        int HS = C / NH;
        float scale = 1f / MathF.Sqrt(HS);
        float* scores = stackalloc float[Attention.MaxT];
        float** slots = stackalloc float*[Attention.MaxT];
        for (int nh = start; nh < end; nh++)
        {
            int n = nh / NH, h = nh % NH;
            float* q = qkv + ((long)n * 3 * C) + (h * HS);
            for (int j = 0; j < t; j++)
            {
                long node = ancestors[((long)n * t) + j];
                slots[j] = cache + (j * positionStride) + (node * 2 * C) + (h * HS);
            }

            // This position's k and v go to the row's own slot.
            float* own = cache + (t * positionStride) + ((long)n * 2 * C) + (h * HS);
            slots[t] = own;
            Buffer.MemoryCopy(q + C, own, HS * sizeof(float), HS * sizeof(float));
            Buffer.MemoryCopy(q + (2 * C), own + C, HS * sizeof(float), HS * sizeof(float));

            float max = float.NegativeInfinity;
            for (int t2 = 0; t2 <= t; t2++)
            {
                float sc = Dot(q, slots[t2], HS) * scale;
                scores[t2] = sc;
                max = MathF.Max(max, sc);
            }

            float sum = 0f;
            for (int t2 = 0; t2 <= t; t2++)
            {
                float e = SimdMath.Exp(scores[t2] - max);
                scores[t2] = e;
                sum += e;
            }

            float inv = 1f / sum;
            float* y = output + ((long)n * C) + (h * HS);
            new Span<float>(y, HS).Clear();
            for (int t2 = 0; t2 <= t; t2++)
            {
                Axpy(scores[t2] * inv, slots[t2] + C, y, HS);
            }
        }
    }

    /// <summary>Rows [start, end) of x: [M, N]; lse: [M].</summary>
    public static void RowLogSumExp(
        float* x, int N, int start, int end, float* lse, SimdLevel simd = SimdLevel.Vector)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                RowLogSumExpCore<Vector512<float>, Simd512>(x, N, start, end, lse);
                break;
            case SimdLevel.Avx2:
                RowLogSumExpCore<Vector256<float>, Simd256>(x, N, start, end, lse);
                break;
            default:
                RowLogSumExpCore<Vector<float>, SimdVector>(x, N, start, end, lse);
                break;
        }
    }

    /// <summary>
    /// The max is exact in any order; the exponentials are computed a register at a time and
    /// then added to the float64 sum one by one in column order, so the result does not depend
    /// on the register width beyond the exponential's own rounding.
    /// </summary>
    private static void RowLogSumExpCore<TVec, TS>(float* x, int N, int start, int end, float* lse)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        int w = TS.Count;
        float* e = stackalloc float[64];
        for (int i = start; i < end; i++)
        {
            float* r = x + ((long)i * N);
            float max = float.NegativeInfinity;
            int j = 0;
            if (N >= w)
            {
                TVec m = TS.Load(r);
                for (j = w; j + w <= N; j += w)
                {
                    m = TS.Max(m, TS.Load(r + j));
                }

                max = TS.MaxAcross(m);
            }

            for (; j < N; j++)
            {
                max = MathF.Max(max, r[j]);
            }

            // float64 accumulation: 35,609 terms summed in column order.
            double sum = 0;
            TVec shift = TS.Splat(max);
            for (j = 0; j + w <= N; j += w)
            {
                TS.Store(SimdMath.Exp<TVec, TS>(TS.Sub(TS.Load(r + j), shift)), e);
                for (int l = 0; l < w; l++)
                {
                    sum += e[l];
                }
            }

            for (; j < N; j++)
            {
                sum += SimdMath.Exp(r[j] - max);
            }

            lse[i] = max + (float)Math.Log(sum);
        }
    }

    /// <summary>Rows [start, end); source: [*, W]; indices: [M]; destination: [M, W].</summary>
    public static void GatherRows(
        float* source, int* indices, long W, int start, int end, float* destination)
    {
        for (int i = start; i < end; i++)
        {
            Buffer.MemoryCopy(
                source + (indices[i] * W), destination + (i * W), W * sizeof(float),
                W * sizeof(float));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
        {
            acc = Vector.FusedMultiplyAdd(
                Vector.Load(a + i), Vector.Load(b + i), acc);
        }

        float s = Vector.Sum(acc);
        for (; i < n; i++)
        {
            s = MathF.FusedMultiplyAdd(a[i], b[i], s);
        }

        return s;
    }

    /// <summary><c>y += alpha·x</c> over n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float alpha, float* x, float* y, int n)
    {
        var va = new Vector<float>(alpha);
        int i = 0;
        for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
        {
            Vector.FusedMultiplyAdd(va, Vector.Load(x + i), Vector.Load(y + i)).Store(y + i);
        }

        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
        }
    }

    /// <summary>
    /// float64 reference of <see cref="AttentionForward"/> on all N rows (same layouts; the
    /// cache is updated at the rows' slots of position t).
    /// </summary>
    public static void ReferenceAttention(
        ReadOnlySpan<double> qkv, ReadOnlySpan<int> ancestors, int N, int t, int C, int NH,
        Span<double> cache, long positionStride, Span<double> output)
    {
        int HS = C / NH;
        double scale = 1.0 / Math.Sqrt(HS);
        var s = new double[t + 1];
        var slot = new long[t + 1];
        for (int n = 0; n < N; n++)
        {
            for (int j = 0; j < t; j++)
            {
                slot[j] = (j * positionStride) + ((long)ancestors[(n * t) + j] * 2 * C);
            }

            slot[t] = (t * positionStride) + ((long)n * 2 * C);
            for (int c = 0; c < C; c++)
            {
                cache[(int)(slot[t] + c)] = qkv[(n * 3 * C) + C + c];
                cache[(int)(slot[t] + C + c)] = qkv[(n * 3 * C) + (2 * C) + c];
            }

            for (int h = 0; h < NH; h++)
            {
                double max = double.NegativeInfinity;
                for (int t2 = 0; t2 <= t; t2++)
                {
                    double dot = 0;
                    for (int i = 0; i < HS; i++)
                    {
                        dot += qkv[(n * 3 * C) + (h * HS) + i]
                            * cache[(int)(slot[t2] + (h * HS) + i)];
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
                    double y = 0;
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        y += s[t2] / sum * cache[(int)(slot[t2] + C + (h * HS) + i)];
                    }

                    output[(n * C) + (h * HS) + i] = y;
                }
            }
        }
    }

    /// <summary>float64 reference of <see cref="RowLogSumExp"/>.</summary>
    public static void ReferenceRowLogSumExp(ReadOnlySpan<double> x, int M, int N, Span<double> lse)
    {
        for (int i = 0; i < M; i++)
        {
            ReadOnlySpan<double> r = x.Slice(i * N, N);
            double max = double.NegativeInfinity;
            foreach (double v in r)
            {
                max = Math.Max(max, v);
            }

            double sum = 0;
            foreach (double v in r)
            {
                sum += Math.Exp(v - max);
            }

            lse[i] = max + Math.Log(sum);
        }
    }
}
