using System.Numerics;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// The residual stream's element-wise ops. Forward <c>output = a + b</c>; its backward is the
/// identity on both inputs, which the model expresses with <see cref="Accumulate"/>
/// (<c>destination += source</c>, the residual gradient rule).
/// </summary>
internal static unsafe class Residual
{
    /// <summary>a, b, output: [n] (output may alias either); elements [start, end).</summary>
    public static void Add(float* a, float* b, long start, long end, float* output, SimdLevel simd)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
                AddCore<Vector512<float>, Simd512>(a, b, start, end, output);
                break;
            case SimdLevel.Avx2:
                AddCore<Vector256<float>, Simd256>(a, b, start, end, output);
                break;
            default:
                AddCore<Vector<float>, SimdVector>(a, b, start, end, output);
                break;
        }
    }

    /// <summary><c>destination += source</c>, both [n]; elements [start, end).</summary>
    public static void Accumulate(
        float* source, long start, long end, float* destination, SimdLevel simd) =>
        Add(destination, source, start, end, destination, simd);

    private static void AddCore<TVec, TS>(float* a, float* b, long start, long end, float* y)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        long i = start;
        for (; i + 4 * TS.Count <= end; i += 4 * TS.Count)
        {
            TS.Store(TS.Add(TS.Load(a + i), TS.Load(b + i)), y + i);
            TS.Store(
                TS.Add(TS.Load(a + i + TS.Count), TS.Load(b + i + TS.Count)), y + i + TS.Count);
            TS.Store(
                TS.Add(TS.Load(a + i + 2 * TS.Count), TS.Load(b + i + 2 * TS.Count)),
                y + i + 2 * TS.Count);
            TS.Store(
                TS.Add(TS.Load(a + i + 3 * TS.Count), TS.Load(b + i + 3 * TS.Count)),
                y + i + 3 * TS.Count);
        }

        for (; i + TS.Count <= end; i += TS.Count)
        {
            TS.Store(TS.Add(TS.Load(a + i), TS.Load(b + i)), y + i);
        }

        for (; i < end; i++)
        {
            y[i] = a[i] + b[i];
        }
    }

    /// <summary>float64 reference of <see cref="Add"/>.</summary>
    public static void AddReference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<double> y)
    {
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = (double)a[i] + b[i];
        }
    }
}
