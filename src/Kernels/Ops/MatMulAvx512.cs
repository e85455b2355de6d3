using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static System.Runtime.Intrinsics.X86.Avx512F;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// The AVX-512 register tile of <see cref="MatMul"/>: 12 rows × 32 columns of C held in 24 zmm
/// accumulators (2 per row), fed per k by two 16-float loads of the packed B panel and 12
/// broadcasts of the packed A micro-panel. 24 + 2 + 1 registers of the 32 leave no spills.
/// </summary>
/// <remarks>
/// Every element of the tile is one fused multiply-add chain over k in ascending order, started
/// from C (or 0) plus the bias, exactly as <see cref="MatMulVector"/> and <see cref="MatMulAvx2"/>
/// do it, so the three instruction sets give bitwise identical results.
/// </remarks>
internal static unsafe class MatMulAvx512
{
    /// <summary>Rows of the register tile.</summary>
    public const int MR = 12;

    /// <summary>Columns of the register tile.</summary>
    public const int NR = 32;

    /// <summary>
    /// c[12, 32] = (load ? c : 0) (+ bias[32]) + Σ_k pa[k, 0..12) ⊗ pb[k, 0..32), k ascending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel12x32(
        float* pa, float* pb, nint kc, float* c, nint ldc, float* bias, bool load)
    {
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b;
        Vector512<float> c6a, c6b, c7a, c7b, c8a, c8b, c9a, c9b, c10a, c10b, c11a, c11b;
        if (load)
        {
            c0a = Vector512.Load(c); c0b = Vector512.Load(c + 16);
            c1a = Vector512.Load(c + ldc); c1b = Vector512.Load(c + ldc + 16);
            c2a = Vector512.Load(c + (2 * ldc)); c2b = Vector512.Load(c + (2 * ldc) + 16);
            c3a = Vector512.Load(c + (3 * ldc)); c3b = Vector512.Load(c + (3 * ldc) + 16);
            c4a = Vector512.Load(c + (4 * ldc)); c4b = Vector512.Load(c + (4 * ldc) + 16);
            c5a = Vector512.Load(c + (5 * ldc)); c5b = Vector512.Load(c + (5 * ldc) + 16);
            c6a = Vector512.Load(c + (6 * ldc)); c6b = Vector512.Load(c + (6 * ldc) + 16);
            c7a = Vector512.Load(c + (7 * ldc)); c7b = Vector512.Load(c + (7 * ldc) + 16);
            c8a = Vector512.Load(c + (8 * ldc)); c8b = Vector512.Load(c + (8 * ldc) + 16);
            c9a = Vector512.Load(c + (9 * ldc)); c9b = Vector512.Load(c + (9 * ldc) + 16);
            c10a = Vector512.Load(c + (10 * ldc)); c10b = Vector512.Load(c + (10 * ldc) + 16);
            c11a = Vector512.Load(c + (11 * ldc)); c11b = Vector512.Load(c + (11 * ldc) + 16);
        }
        else
        {
            c0a = Vector512<float>.Zero; c0b = Vector512<float>.Zero;
            c1a = Vector512<float>.Zero; c1b = Vector512<float>.Zero;
            c2a = Vector512<float>.Zero; c2b = Vector512<float>.Zero;
            c3a = Vector512<float>.Zero; c3b = Vector512<float>.Zero;
            c4a = Vector512<float>.Zero; c4b = Vector512<float>.Zero;
            c5a = Vector512<float>.Zero; c5b = Vector512<float>.Zero;
            c6a = Vector512<float>.Zero; c6b = Vector512<float>.Zero;
            c7a = Vector512<float>.Zero; c7b = Vector512<float>.Zero;
            c8a = Vector512<float>.Zero; c8b = Vector512<float>.Zero;
            c9a = Vector512<float>.Zero; c9b = Vector512<float>.Zero;
            c10a = Vector512<float>.Zero; c10b = Vector512<float>.Zero;
            c11a = Vector512<float>.Zero; c11b = Vector512<float>.Zero;
        }

        if (bias != null)
        {
            Vector512<float> bias0 = Vector512.Load(bias);
            Vector512<float> bias1 = Vector512.Load(bias + 16);
            c0a += bias0; c0b += bias1;
            c1a += bias0; c1b += bias1;
            c2a += bias0; c2b += bias1;
            c3a += bias0; c3b += bias1;
            c4a += bias0; c4b += bias1;
            c5a += bias0; c5b += bias1;
            c6a += bias0; c6b += bias1;
            c7a += bias0; c7b += bias1;
            c8a += bias0; c8b += bias1;
            c9a += bias0; c9b += bias1;
            c10a += bias0; c10b += bias1;
            c11a += bias0; c11b += bias1;
        }

        for (nint k = 0; k < kc; k++)
        {
            Vector512<float> b0 = Vector512.Load(pb);
            Vector512<float> b1 = Vector512.Load(pb + 16);
            Vector512<float> a0 = Vector512.Create(pa[0]);
            c0a = FusedMultiplyAdd(a0, b0, c0a); c0b = FusedMultiplyAdd(a0, b1, c0b);
            Vector512<float> a1 = Vector512.Create(pa[1]);
            c1a = FusedMultiplyAdd(a1, b0, c1a); c1b = FusedMultiplyAdd(a1, b1, c1b);
            Vector512<float> a2 = Vector512.Create(pa[2]);
            c2a = FusedMultiplyAdd(a2, b0, c2a); c2b = FusedMultiplyAdd(a2, b1, c2b);
            Vector512<float> a3 = Vector512.Create(pa[3]);
            c3a = FusedMultiplyAdd(a3, b0, c3a); c3b = FusedMultiplyAdd(a3, b1, c3b);
            Vector512<float> a4 = Vector512.Create(pa[4]);
            c4a = FusedMultiplyAdd(a4, b0, c4a); c4b = FusedMultiplyAdd(a4, b1, c4b);
            Vector512<float> a5 = Vector512.Create(pa[5]);
            c5a = FusedMultiplyAdd(a5, b0, c5a); c5b = FusedMultiplyAdd(a5, b1, c5b);
            Vector512<float> a6 = Vector512.Create(pa[6]);
            c6a = FusedMultiplyAdd(a6, b0, c6a); c6b = FusedMultiplyAdd(a6, b1, c6b);
            Vector512<float> a7 = Vector512.Create(pa[7]);
            c7a = FusedMultiplyAdd(a7, b0, c7a); c7b = FusedMultiplyAdd(a7, b1, c7b);
            Vector512<float> a8 = Vector512.Create(pa[8]);
            c8a = FusedMultiplyAdd(a8, b0, c8a); c8b = FusedMultiplyAdd(a8, b1, c8b);
            Vector512<float> a9 = Vector512.Create(pa[9]);
            c9a = FusedMultiplyAdd(a9, b0, c9a); c9b = FusedMultiplyAdd(a9, b1, c9b);
            Vector512<float> a10 = Vector512.Create(pa[10]);
            c10a = FusedMultiplyAdd(a10, b0, c10a); c10b = FusedMultiplyAdd(a10, b1, c10b);
            Vector512<float> a11 = Vector512.Create(pa[11]);
            c11a = FusedMultiplyAdd(a11, b0, c11a); c11b = FusedMultiplyAdd(a11, b1, c11b);
            pa += 12;
            pb += 32;
        }

        c0a.Store(c); c0b.Store(c + 16);
        c1a.Store(c + ldc); c1b.Store(c + ldc + 16);
        c2a.Store(c + (2 * ldc)); c2b.Store(c + (2 * ldc) + 16);
        c3a.Store(c + (3 * ldc)); c3b.Store(c + (3 * ldc) + 16);
        c4a.Store(c + (4 * ldc)); c4b.Store(c + (4 * ldc) + 16);
        c5a.Store(c + (5 * ldc)); c5b.Store(c + (5 * ldc) + 16);
        c6a.Store(c + (6 * ldc)); c6b.Store(c + (6 * ldc) + 16);
        c7a.Store(c + (7 * ldc)); c7b.Store(c + (7 * ldc) + 16);
        c8a.Store(c + (8 * ldc)); c8b.Store(c + (8 * ldc) + 16);
        c9a.Store(c + (9 * ldc)); c9b.Store(c + (9 * ldc) + 16);
        c10a.Store(c + (10 * ldc)); c10b.Store(c + (10 * ldc) + 16);
        c11a.Store(c + (11 * ldc)); c11b.Store(c + (11 * ldc) + 16);
    }
}
