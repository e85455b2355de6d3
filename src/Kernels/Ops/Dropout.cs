using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// The dropout mask as a pure function of (seed, step, stream, element), so forward and backward
/// agree, any thread count gives the same mask and no mask is stored. The exact construction,
/// which every backend reproduces bit for bit (integer operations and one exact conversion):
/// <code>
/// splitmix64(z): z += 0x9E3779B97F4A7C15; z = (z ^ z&gt;&gt;30) * 0xBF58476D1CE4E5B9;
///                z = (z ^ z&gt;&gt;27) * 0x94D049BB133111EB; return z ^ z&gt;&gt;31   (mod 2^64)
/// k  = splitmix64(splitmix64(splitmix64(seed) ^ (ulong)step) ^ (ulong)stream)
/// K0 = (uint)k, K1 = (uint)(k &gt;&gt; 32)                                        (once per call)
/// fmix32(h): h ^= h&gt;&gt;16; h *= 0x85EBCA6B; h ^= h&gt;&gt;13; h *= 0xC2B2AE35;
///            h ^= h&gt;&gt;16                                            (mod 2^32)
/// element e (ulong): h = fmix32((uint)e ^ K0); h = fmix32(h ^ (uint)(e &gt;&gt; 32) ^ K1)
/// u = (float)(h &gt;&gt; 8) * 2^-24  (exact: a 24-bit integer times a power of two; u in [0, 1))
/// keep iff u ≥ p; a kept element is multiplied by scale = 1f / (1f - p) (float arithmetic).
/// </code>
/// For a fixed high word the map from the low word to h is a bijection, so the 2^32 elements of a
/// range draw every h once: the keep rate is exact in the large and close in the small.
/// </summary>
/// <param name="K0">Low half of the per-call key.</param>
/// <param name="K1">High half of the per-call key.</param>
internal readonly record struct DropoutKey(uint K0, uint K1)
{
    /// <summary>2^-24: maps a 24-bit integer into [0, 1).</summary>
    public const float Unit = 1f / 16777216f;

    /// <summary>The key of one dropout site at one step.</summary>
    public static DropoutKey From(DropoutSpec spec)
    {
        ulong k = SplitMix64(SplitMix64(SplitMix64(spec.Seed) ^ (ulong)spec.Step)
            ^ (ulong)spec.Stream);
        return new DropoutKey((uint)k, (uint)(k >> 32));
    }

    /// <summary>The float multiplier of kept elements, 1 / (1 - p).</summary>
    public static float Scale(float p) => 1f / (1f - p);

    /// <summary>u in [0, 1) of element <paramref name="e"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Uniform(long e)
    {
        uint h = Fmix((uint)e ^ K0);
        h = Fmix(h ^ (uint)((ulong)e >> 32) ^ K1);
        return (h >> 8) * Unit;
    }

    /// <summary>scale where element <paramref name="e"/> is kept, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Factor(long e, float p, float scale) => Uniform(e) >= p ? scale : 0f;

    public static ulong SplitMix64(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Fmix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        return h ^ (h >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Fmix(Vector512<uint> h)
    {
        h ^= h >> 16;
        h *= Vector512.Create(0x85EBCA6Bu);
        h ^= h >> 13;
        h *= Vector512.Create(0xC2B2AE35u);
        return h ^ (h >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Fmix(Vector256<uint> h)
    {
        h ^= h >> 16;
        h *= Vector256.Create(0x85EBCA6Bu);
        h ^= h >> 13;
        h *= Vector256.Create(0xC2B2AE35u);
        return h ^ (h >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<uint> Fmix(Vector<uint> h)
    {
        h ^= Vector.ShiftRightLogical(h, 16);
        h *= new Vector<uint>(0x85EBCA6Bu);
        h ^= Vector.ShiftRightLogical(h, 13);
        h *= new Vector<uint>(0xC2B2AE35u);
        return h ^ Vector.ShiftRightLogical(h, 16);
    }
}

/// <summary>
/// Inverted dropout: <c>output = x · keep(e) / (1 - p)</c> where e is the flat element index.
/// Backward is the same product on the gradient (<c>dInput = dOutput · keep(e) / (1 - p)</c>,
/// overwritten), so both share <see cref="Apply"/>.
/// </summary>
internal static unsafe class Dropout
{
    /// <summary>
    /// x, output: [n] (may alias); processes elements [start, end). p = 0 copies.
    /// </summary>
    public static void Forward(
        float* x, long start, long end, DropoutSpec spec, float* output, SimdLevel simd) =>
        Apply(x, start, end, spec, output, simd);

    /// <summary>dOutput, dInput: [n] (may alias); elements [start, end); dInput =.</summary>
    public static void Backward(
        float* dOutput, long start, long end, DropoutSpec spec, float* dInput, SimdLevel simd) =>
        Apply(dOutput, start, end, spec, dInput, simd);

    private static void Apply(
        float* x, long start, long end, DropoutSpec spec, float* y, SimdLevel simd)
    {
        if (!spec.IsActive)
        {
            if (x != y)
            {
                Buffer.MemoryCopy(x + start, y + start, (end - start) * 4, (end - start) * 4);
            }

            return;
        }

        DropoutKey key = DropoutKey.From(spec);
        switch (simd)
        {
            case SimdLevel.Avx512:
                Core<Vector512<float>, Simd512>(x, start, end, key, spec.P, y);
                break;
            case SimdLevel.Avx2:
                Core<Vector256<float>, Simd256>(x, start, end, key, spec.P, y);
                break;
            default:
                Core<Vector<float>, SimdVector>(x, start, end, key, spec.P, y);
                break;
        }
    }

    private static void Core<TVec, TS>(
        float* x, long start, long end, DropoutKey key, float p, float* y)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        float scale = DropoutKey.Scale(p);
        long i = start;
        for (; i + TS.Count <= end; i += TS.Count)
        {
            if ((ulong)i >> 32 != (ulong)(i + TS.Count - 1) >> 32)
            {
                break; // the lanes would straddle a high word: finish this block in scalar
            }

            TS.Store(TS.Mul(TS.Load(x + i), TS.DropoutFactor(i, key, p, scale)), y + i);
        }

        for (; i < end; i++)
        {
            y[i] = x[i] * key.Factor(i, p, scale);
        }
    }

    /// <summary>float64 reference: the same mask (it is exact), the product in double.</summary>
    public static void Reference(ReadOnlySpan<float> x, DropoutSpec spec, Span<double> y)
    {
        DropoutKey key = DropoutKey.From(spec);
        double scale = 1.0 / (1.0 - spec.P);
        for (int i = 0; i < x.Length; i++)
        {
            bool keep = !spec.IsActive || key.Uniform(i) >= spec.P;
            y[i] = keep ? x[i] * (spec.IsActive ? scale : 1.0) : 0.0;
        }
    }
}
