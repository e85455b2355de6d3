using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// The vector operations the op kernels are written against. Each op has one generic fast path
/// <c>Core&lt;TVec, TS&gt;</c>; the JIT specialises it for each implementation below (value-type
/// generics), so the three <see cref="SimdLevel"/>s share one body and one summation order per
/// width.
/// </summary>
/// <typeparam name="TVec">The register type: Vector512, Vector256 or Vector of float.</typeparam>
internal unsafe interface ISimd<TVec>
    where TVec : struct
{
    /// <summary>Floats per register.</summary>
    static abstract int Count { get; }

    static abstract TVec Load(float* p);

    static abstract void Store(TVec v, float* p);

    static abstract TVec Splat(float x);

    static abstract TVec Add(TVec a, TVec b);

    static abstract TVec Sub(TVec a, TVec b);

    static abstract TVec Mul(TVec a, TVec b);

    static abstract TVec Div(TVec a, TVec b);

    /// <summary><c>a·b + c</c> with one rounding.</summary>
    static abstract TVec Fma(TVec a, TVec b, TVec c);

    static abstract TVec Max(TVec a, TVec b);

    static abstract TVec Min(TVec a, TVec b);

    static abstract TVec Sqrt(TVec a);

    /// <summary>Horizontal sum (a fixed lane order per width).</summary>
    static abstract float Sum(TVec a);

    /// <summary>Horizontal maximum.</summary>
    static abstract float MaxAcross(TVec a);

    /// <summary>
    /// <c>2^n</c> where <paramref name="t"/> = <c>n + 1.5·2^23</c> (the round-to-integer trick of
    /// <see cref="SimdMath.Exp{TVec, TS}"/>): the integer sits in the low mantissa bits of t.
    /// </summary>
    static abstract TVec Pow2FromMagic(TVec t);

    /// <summary>
    /// Dropout factors of elements e0 .. e0+Count-1 under <paramref name="key"/>: scale where
    /// the element is kept, 0 where dropped. The lanes must share <c>e0 &gt;&gt; 32</c>.
    /// </summary>
    static abstract TVec DropoutFactor(long e0, DropoutKey key, float p, float scale);
}

/// <summary>Scalar helpers of the kernels, bit-compatible with the vector versions.</summary>
internal static class SimdMath
{
    // exp(x) = 2^n · exp(r), n = round(x·log2 e), r = x - n·ln 2 split in two (Cody-Waite) so
    // r is exact to float precision; exp(r) on |r| ≤ ln2/2 by its degree-7 Taylor polynomial
    // (truncation 5e-9), so the result is within a few float ulps (≤ 3e-7 relative).
    public const float ExpLow = -87.33654f;   // 2^-126 · exp(r): the smallest normal result
    public const float ExpHigh = 88.0f;       // n ≤ 127, no overflow
    public const float Magic = 12582912f;     // 1.5 · 2^23
    public const float Log2E = 1.44269504f;
    public const float Ln2Hi = 0.693359375f;  // 8 significant bits: n·Ln2Hi is exact
    public const float Ln2Lo = -2.12194440e-4f;

    private const float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720;
    private const float C7 = 1f / 5040;

    /// <summary>Vector exp (clamped to [ExpLow, ExpHigh]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Exp<TVec, TS>(TVec x)
        where TVec : struct
        where TS : ISimd<TVec>
    {
        x = TS.Min(TS.Max(x, TS.Splat(ExpLow)), TS.Splat(ExpHigh));
        TVec t = TS.Fma(x, TS.Splat(Log2E), TS.Splat(Magic));
        TVec n = TS.Sub(t, TS.Splat(Magic));
        TVec r = TS.Fma(n, TS.Splat(-Ln2Hi), x);
        r = TS.Fma(n, TS.Splat(-Ln2Lo), r);
        TVec q = TS.Fma(TS.Splat(C7), r, TS.Splat(C6));
        q = TS.Fma(q, r, TS.Splat(C5));
        q = TS.Fma(q, r, TS.Splat(C4));
        q = TS.Fma(q, r, TS.Splat(C3));
        q = TS.Fma(q, r, TS.Splat(C2));
        q = TS.Fma(q, r, TS.Splat(1f));
        q = TS.Fma(q, r, TS.Splat(1f));
        return TS.Mul(q, TS.Pow2FromMagic(t));
    }

    /// <summary>The same computation as <see cref="Exp{TVec, TS}"/> on one float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        x = MathF.Min(MathF.Max(x, ExpLow), ExpHigh);
        float t = MathF.FusedMultiplyAdd(x, Log2E, Magic);
        float n = t - Magic;
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float q = MathF.FusedMultiplyAdd(C7, r, C6);
        q = MathF.FusedMultiplyAdd(q, r, C5);
        q = MathF.FusedMultiplyAdd(q, r, C4);
        q = MathF.FusedMultiplyAdd(q, r, C3);
        q = MathF.FusedMultiplyAdd(q, r, C2);
        q = MathF.FusedMultiplyAdd(q, r, 1f);
        q = MathF.FusedMultiplyAdd(q, r, 1f);
        return q * Pow2FromMagic(t);
    }

    /// <summary>Scalar <see cref="ISimd{TVec}.Pow2FromMagic"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pow2FromMagic(float t) =>
        BitConverter.Int32BitsToSingle(
            (BitConverter.SingleToInt32Bits(t) - MagicBits + 127) << 23);

    /// <summary>Bit pattern of <see cref="Magic"/>.</summary>
    public const int MagicBits = 0x4B400000;
}

/// <summary>AVX-512F: 16 floats.</summary>
internal readonly unsafe struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => 16;

    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    public static void Store(Vector512<float> v, float* p) => v.Store(p);

    public static Vector512<float> Splat(float x) => Vector512.Create(x);

    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;

    public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;

    public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;

    public static Vector512<float> Fma(
        Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Vector512.FusedMultiplyAdd(a, b, c);

    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) =>
        Vector512.Max(a, b);

    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) =>
        Vector512.Min(a, b);

    public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);

    public static float Sum(Vector512<float> a) => Vector512.Sum(a);

    public static float MaxAcross(Vector512<float> a)
    {
        Vector256<float> m = Vector256.Max(a.GetLower(), a.GetUpper());
        return Simd256.MaxAcross(m);
    }

    public static Vector512<float> Pow2FromMagic(Vector512<float> t) =>
        ((t.AsInt32() - Vector512.Create(SimdMath.MagicBits - 127)) << 23).AsSingle();

    public static Vector512<float> DropoutFactor(long e0, DropoutKey key, float p, float scale)
    {
        Vector512<uint> lo = Vector512.Create((uint)e0) + Vector512<uint>.Indices;
        Vector512<uint> h = DropoutKey.Fmix(lo ^ Vector512.Create(key.K0));
        h = DropoutKey.Fmix(h ^ Vector512.Create((uint)((ulong)e0 >> 32) ^ key.K1));
        Vector512<float> u =
            Vector512.ConvertToSingle((h >> 8).AsInt32()) * Vector512.Create(DropoutKey.Unit);
        return Vector512.ConditionalSelect(
            Vector512.GreaterThanOrEqual(u, Vector512.Create(p)),
            Vector512.Create(scale), Vector512<float>.Zero);
    }
}

/// <summary>AVX2 + FMA: 8 floats.</summary>
internal readonly unsafe struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => 8;

    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    public static void Store(Vector256<float> v, float* p) => v.Store(p);

    public static Vector256<float> Splat(float x) => Vector256.Create(x);

    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;

    public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;

    public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;

    public static Vector256<float> Fma(
        Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Vector256.FusedMultiplyAdd(a, b, c);

    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) =>
        Vector256.Max(a, b);

    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) =>
        Vector256.Min(a, b);

    public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);

    public static float Sum(Vector256<float> a) => Vector256.Sum(a);

    public static float MaxAcross(Vector256<float> a)
    {
        Vector128<float> m = Vector128.Max(a.GetLower(), a.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }

    public static Vector256<float> Pow2FromMagic(Vector256<float> t) =>
        ((t.AsInt32() - Vector256.Create(SimdMath.MagicBits - 127)) << 23).AsSingle();

    public static Vector256<float> DropoutFactor(long e0, DropoutKey key, float p, float scale)
    {
        Vector256<uint> lo = Vector256.Create((uint)e0) + Vector256<uint>.Indices;
        Vector256<uint> h = DropoutKey.Fmix(lo ^ Vector256.Create(key.K0));
        h = DropoutKey.Fmix(h ^ Vector256.Create((uint)((ulong)e0 >> 32) ^ key.K1));
        Vector256<float> u =
            Vector256.ConvertToSingle((h >> 8).AsInt32()) * Vector256.Create(DropoutKey.Unit);
        return Vector256.ConditionalSelect(
            Vector256.GreaterThanOrEqual(u, Vector256.Create(p)),
            Vector256.Create(scale), Vector256<float>.Zero);
    }
}

/// <summary>Portable <see cref="Vector{T}"/>: the last fallback (and its test).</summary>
internal readonly unsafe struct SimdVector : ISimd<Vector<float>>
{
    public static int Count => Vector<float>.Count;

    public static Vector<float> Load(float* p) => Vector.Load(p);

    public static void Store(Vector<float> v, float* p) => v.Store(p);

    public static Vector<float> Splat(float x) => new(x);

    public static Vector<float> Add(Vector<float> a, Vector<float> b) => a + b;

    public static Vector<float> Sub(Vector<float> a, Vector<float> b) => a - b;

    public static Vector<float> Mul(Vector<float> a, Vector<float> b) => a * b;

    public static Vector<float> Div(Vector<float> a, Vector<float> b) => a / b;

    public static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) =>
        Vector.FusedMultiplyAdd(a, b, c);

    public static Vector<float> Max(Vector<float> a, Vector<float> b) => Vector.Max(a, b);

    public static Vector<float> Min(Vector<float> a, Vector<float> b) => Vector.Min(a, b);

    public static Vector<float> Sqrt(Vector<float> a) => Vector.SquareRoot(a);

    public static float Sum(Vector<float> a) => Vector.Sum(a);

    public static float MaxAcross(Vector<float> a)
    {
        float m = a[0];
        for (int i = 1; i < Vector<float>.Count; i++)
        {
            m = MathF.Max(m, a[i]);
        }

        return m;
    }

    public static Vector<float> Pow2FromMagic(Vector<float> t) =>
        Vector.AsVectorSingle(Vector.ShiftLeft(
            Vector.AsVectorInt32(t) - new Vector<int>(SimdMath.MagicBits - 127), 23));

    public static Vector<float> DropoutFactor(long e0, DropoutKey key, float p, float scale)
    {
        Vector<uint> lo = new Vector<uint>((uint)e0) + Vector<uint>.Indices;
        Vector<uint> h = DropoutKey.Fmix(lo ^ new Vector<uint>(key.K0));
        h = DropoutKey.Fmix(h ^ new Vector<uint>((uint)((ulong)e0 >> 32) ^ key.K1));
        Vector<float> u = Vector.ConvertToSingle(
            Vector.AsVectorInt32(Vector.ShiftRightLogical(h, 8)))
            * new Vector<float>(DropoutKey.Unit);
        return Vector.ConditionalSelect(
            Vector.GreaterThanOrEqual(u, new Vector<float>(p)),
            new Vector<float>(scale), Vector<float>.Zero);
    }
}
