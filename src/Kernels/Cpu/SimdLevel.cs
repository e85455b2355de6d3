using System.Runtime.Intrinsics.X86;

namespace Kgglm.Kernels.Cpu;

/// <summary>The instruction set a CPU kernel's fast path uses; chosen at run time.</summary>
public enum SimdLevel
{
    /// <summary><c>Vector&lt;float&gt;</c>: portable last fallback.</summary>
    Vector,

    /// <summary>AVX2 with FMA, 8 floats per register.</summary>
    Avx2,

    /// <summary>AVX-512F, 16 floats per register.</summary>
    Avx512,
}

/// <summary>Detection of the best <see cref="SimdLevel"/> of this machine.</summary>
public static class SimdDetection
{
    /// <summary>The widest level this CPU supports.</summary>
    public static SimdLevel Best =>
        Avx512F.IsSupported ? SimdLevel.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? SimdLevel.Avx2
        : SimdLevel.Vector;

    /// <summary>True when this CPU can run <paramref name="level"/>.</summary>
    public static bool IsSupported(SimdLevel level) => level switch
    {
        SimdLevel.Avx512 => Avx512F.IsSupported,
        SimdLevel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };
}
