using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static System.Runtime.Intrinsics.X86.Fma;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// The AVX2/FMA register tile of <see cref="MatMul"/>: 6 rows × 16 columns of C in 12 ymm
/// accumulators (2 per row); per k, two 8-float loads of the packed B panel and 6 broadcasts.
/// </summary>
/// <remarks>The same FMA chain per element as <see cref="MatMulAvx512"/>.</remarks>
internal static unsafe class MatMulAvx2
{
    /// <summary>Rows of the register tile.</summary>
    public const int MR = 6;

    /// <summary>Columns of the register tile.</summary>
    public const int NR = 16;

    /// <summary>
    /// c[6, 16] = (load ? c : 0) (+ bias[16]) + Σ_k pa[k, 0..6) ⊗ pb[k, 0..16), k ascending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel6x16(
        float* pa, float* pb, nint kc, float* c, nint ldc, float* bias, bool load)
    {
        Vector256<float> c0a, c0b, c1a, c1b, c2a, c2b;
        Vector256<float> c3a, c3b, c4a, c4b, c5a, c5b;
        if (load)
        {
            c0a = Vector256.Load(c); c0b = Vector256.Load(c + 8);
            c1a = Vector256.Load(c + ldc); c1b = Vector256.Load(c + ldc + 8);
            c2a = Vector256.Load(c + (2 * ldc)); c2b = Vector256.Load(c + (2 * ldc) + 8);
            c3a = Vector256.Load(c + (3 * ldc)); c3b = Vector256.Load(c + (3 * ldc) + 8);
            c4a = Vector256.Load(c + (4 * ldc)); c4b = Vector256.Load(c + (4 * ldc) + 8);
            c5a = Vector256.Load(c + (5 * ldc)); c5b = Vector256.Load(c + (5 * ldc) + 8);
        }
        else
        {
            c0a = Vector256<float>.Zero; c0b = Vector256<float>.Zero;
            c1a = Vector256<float>.Zero; c1b = Vector256<float>.Zero;
            c2a = Vector256<float>.Zero; c2b = Vector256<float>.Zero;
            c3a = Vector256<float>.Zero; c3b = Vector256<float>.Zero;
            c4a = Vector256<float>.Zero; c4b = Vector256<float>.Zero;
            c5a = Vector256<float>.Zero; c5b = Vector256<float>.Zero;
        }

        if (bias != null)
        {
            Vector256<float> bias0 = Vector256.Load(bias);
            Vector256<float> bias1 = Vector256.Load(bias + 8);
            c0a += bias0; c0b += bias1;
            c1a += bias0; c1b += bias1;
            c2a += bias0; c2b += bias1;
            c3a += bias0; c3b += bias1;
            c4a += bias0; c4b += bias1;
            c5a += bias0; c5b += bias1;
        }

        for (nint k = 0; k < kc; k++)
        {
            Vector256<float> b0 = Vector256.Load(pb);
            Vector256<float> b1 = Vector256.Load(pb + 8);
            Vector256<float> a0 = Vector256.Create(pa[0]);
            c0a = MultiplyAdd(a0, b0, c0a); c0b = MultiplyAdd(a0, b1, c0b);
            Vector256<float> a1 = Vector256.Create(pa[1]);
            c1a = MultiplyAdd(a1, b0, c1a); c1b = MultiplyAdd(a1, b1, c1b);
            Vector256<float> a2 = Vector256.Create(pa[2]);
            c2a = MultiplyAdd(a2, b0, c2a); c2b = MultiplyAdd(a2, b1, c2b);
            Vector256<float> a3 = Vector256.Create(pa[3]);
            c3a = MultiplyAdd(a3, b0, c3a); c3b = MultiplyAdd(a3, b1, c3b);
            Vector256<float> a4 = Vector256.Create(pa[4]);
            c4a = MultiplyAdd(a4, b0, c4a); c4b = MultiplyAdd(a4, b1, c4b);
            Vector256<float> a5 = Vector256.Create(pa[5]);
            c5a = MultiplyAdd(a5, b0, c5a); c5b = MultiplyAdd(a5, b1, c5b);
            pa += 6;
            pb += 16;
        }

        c0a.Store(c); c0b.Store(c + 8);
        c1a.Store(c + ldc); c1b.Store(c + ldc + 8);
        c2a.Store(c + (2 * ldc)); c2b.Store(c + (2 * ldc) + 8);
        c3a.Store(c + (3 * ldc)); c3b.Store(c + (3 * ldc) + 8);
        c4a.Store(c + (4 * ldc)); c4b.Store(c + (4 * ldc) + 8);
        c5a.Store(c + (5 * ldc)); c5b.Store(c + (5 * ldc) + 8);
    }
}
