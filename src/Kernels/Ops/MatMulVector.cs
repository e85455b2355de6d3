using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kgglm.Kernels.Ops;

/// <summary>
/// The portable register tile of <see cref="MatMul"/>: 4 rows × 2 <c>Vector&lt;float&gt;</c> of
/// C in 8 accumulators, for CPUs without AVX2. <see cref="Vector.FusedMultiplyAdd(Vector{float},
/// Vector{float}, Vector{float})"/> rounds once, as the AVX kernels do, so the result is the same
/// bits (it is emulated, slowly but exactly, where the hardware has no FMA).
/// </summary>
internal static unsafe class MatMulVector
{
    /// <summary>Rows of the register tile.</summary>
    public const int MR = 4;

    /// <summary>Columns of the register tile: two vectors (16 with 256-bit vectors).</summary>
    public static int NR => 2 * Vector<float>.Count;

    /// <summary>
    /// c[4, NR] = (load ? c : 0) (+ bias[NR]) + Σ_k pa[k, 0..4) ⊗ pb[k, 0..NR), k ascending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel4xV2(
        float* pa, float* pb, nint kc, float* c, nint ldc, float* bias, bool load)
    {
        int w = Vector<float>.Count;
        Vector<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b;
        if (load)
        {
            c0a = Vector.Load(c); c0b = Vector.Load(c + w);
            c1a = Vector.Load(c + ldc); c1b = Vector.Load(c + ldc + w);
            c2a = Vector.Load(c + (2 * ldc)); c2b = Vector.Load(c + (2 * ldc) + w);
            c3a = Vector.Load(c + (3 * ldc)); c3b = Vector.Load(c + (3 * ldc) + w);
        }
        else
        {
            c0a = c0b = c1a = c1b = c2a = c2b = c3a = c3b = Vector<float>.Zero;
        }

        if (bias != null)
        {
            Vector<float> bias0 = Vector.Load(bias);
            Vector<float> bias1 = Vector.Load(bias + w);
            c0a += bias0; c0b += bias1;
            c1a += bias0; c1b += bias1;
            c2a += bias0; c2b += bias1;
            c3a += bias0; c3b += bias1;
        }

        for (nint k = 0; k < kc; k++)
        {
            Vector<float> b0 = Vector.Load(pb);
            Vector<float> b1 = Vector.Load(pb + w);
            Vector<float> a0 = new(pa[0]);
            c0a = Vector.FusedMultiplyAdd(a0, b0, c0a); c0b = Vector.FusedMultiplyAdd(a0, b1, c0b);
            Vector<float> a1 = new(pa[1]);
            c1a = Vector.FusedMultiplyAdd(a1, b0, c1a); c1b = Vector.FusedMultiplyAdd(a1, b1, c1b);
            Vector<float> a2 = new(pa[2]);
            c2a = Vector.FusedMultiplyAdd(a2, b0, c2a); c2b = Vector.FusedMultiplyAdd(a2, b1, c2b);
            Vector<float> a3 = new(pa[3]);
            c3a = Vector.FusedMultiplyAdd(a3, b0, c3a); c3b = Vector.FusedMultiplyAdd(a3, b1, c3b);
            pa += MR;
            pb += 2 * w;
        }

        c0a.Store(c); c0b.Store(c + w);
        c1a.Store(c + ldc); c1b.Store(c + ldc + w);
        c2a.Store(c + (2 * ldc)); c2b.Store(c + (2 * ldc) + w);
        c3a.Store(c + (3 * ldc)); c3b.Store(c + (3 * ldc) + w);
    }
}
