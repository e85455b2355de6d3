namespace Kgglm.Kernels;

/// <summary>Names the instruction sets this process can use, for the startup table.</summary>
public static class BackendInfo
{
    /// <summary>The widest SIMD level available: "avx512", "avx2" or "vector".</summary>
    public static string SimdLevel =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "avx512"
        : System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported
            ? "avx2"
            : "vector";
}
