namespace Kgglm.Kernels.Gpu.Tests;

/// <summary>Whether this machine has a CUDA device, probed once per test run.</summary>
internal static class Cuda
{
    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (!IlgpuKernels.TryCreateCuda(out IlgpuKernels? kernels, out string reason))
        {
            return reason;
        }

        kernels!.Dispose();
        return null;
    });

    /// <summary>Why the CUDA tests are skipped; null when a device is present.</summary>
    public static string? SkipReason => Missing.Value;

    /// <summary>Opens the device (the probe said there is one).</summary>
    public static IKernels Open() => IlgpuKernels.TryCreateCuda(out IlgpuKernels? k, out string why)
        ? k! : throw new InvalidOperationException(why);
}

/// <summary>
/// A fact that is skipped, with the probe's reason, when no CUDA device is present.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (Cuda.SkipReason is { } reason)
        {
            Skip = $"CUDA: {reason}";
        }
    }
}

/// <summary>
/// A theory that is skipped, with the probe's reason, when no CUDA device is present.
/// </summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (Cuda.SkipReason is { } reason)
        {
            Skip = $"CUDA: {reason}";
        }
    }
}
