using System.Runtime.Intrinsics;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// Σ x² in float64 with a fixed summation structure, so the global gradient norm is the same
/// for any thread count and any <see cref="SimdLevel"/>: the array is cut into blocks of
/// <see cref="BlockSize"/> elements; inside a block, element j (counted from the block start)
/// goes to lane j mod 16 of 16 double accumulators, each summed in order; the 16 lanes are then
/// added in order 0..15, and the caller adds the block sums in block order. A float's square is
/// exact in double, so an FMA and a multiply-then-add give the same bits.
/// </summary>
internal static unsafe class GradNorm
{
    /// <summary>Elements per block (the unit of parallel work).</summary>
    public const int BlockSize = 16384;

    private const int Lanes = 16;

    /// <summary>Σ x² over block <paramref name="block"/> of x: [n].</summary>
    public static double Block(float* x, long n, long block, SimdLevel simd)
    {
        long start = block * BlockSize;
        long end = Math.Min(n, start + BlockSize);
        double* lanes = stackalloc double[Lanes];
        long i = start;
        if (simd == SimdLevel.Avx512)
        {
            Vector512<double> a0 = Vector512<double>.Zero, a1 = Vector512<double>.Zero;
            for (; i + Lanes <= end; i += Lanes)
            {
                (Vector512<double> lo, Vector512<double> hi) =
                    Vector512.Widen(Vector512.Load(x + i));
                a0 = Vector512.FusedMultiplyAdd(lo, lo, a0);
                a1 = Vector512.FusedMultiplyAdd(hi, hi, a1);
            }

            a0.Store(lanes);
            a1.Store(lanes + 8);
        }
        else if (simd == SimdLevel.Avx2)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + Lanes <= end; i += Lanes)
            {
                (Vector256<double> l0, Vector256<double> h0) =
                    Vector256.Widen(Vector256.Load(x + i));
                (Vector256<double> l1, Vector256<double> h1) =
                    Vector256.Widen(Vector256.Load(x + i + 8));
                a0 = Vector256.FusedMultiplyAdd(l0, l0, a0);
                a1 = Vector256.FusedMultiplyAdd(h0, h0, a1);
                a2 = Vector256.FusedMultiplyAdd(l1, l1, a2);
                a3 = Vector256.FusedMultiplyAdd(h1, h1, a3);
            }

            a0.Store(lanes);
            a1.Store(lanes + 4);
            a2.Store(lanes + 8);
            a3.Store(lanes + 12);
        }
        else
        {
            new Span<double>(lanes, Lanes).Clear();
        }

        // Scalar rest (the whole block at SimdLevel.Vector), continuing the lane pattern.
        for (; i < end; i++)
        {
            double v = x[i];
            lanes[(i - start) % Lanes] += v * v;
        }

        double sum = 0;
        for (int lane = 0; lane < Lanes; lane++)
        {
            sum += lanes[lane];
        }

        return sum;
    }

    /// <summary>Number of blocks of an array of n elements.</summary>
    public static long BlockCount(long n) => (n + BlockSize - 1) / BlockSize;

    /// <summary>float64 reference: one plain sequential sum.</summary>
    public static double Reference(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        return sum;
    }
}
