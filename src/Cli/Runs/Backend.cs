using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Gpu;

namespace Kgglm.Cli.Runs;

/// <summary>Chooses the compute backend named by <c>--device</c>.</summary>
internal static class Backend
{
    /// <summary>
    /// The backend for <paramref name="device"/>: <c>cpu</c> is the SIMD engine on
    /// <paramref name="threads"/> threads; <c>cuda</c> is the ILGPU backend on the first CUDA
    /// device, refused in one line when there is none; <c>auto</c> takes CUDA when a device is
    /// found and the SIMD engine otherwise, and says which (ILGPU's own CPU accelerator is for
    /// tests only: it is orders of magnitude slower than the SIMD engine).
    /// </summary>
    public static IKernels Create(string device, int threads) => Create(device, threads, out _);

    /// <summary>
    /// As <see cref="Create(string, int)"/>; <paramref name="description"/> names the backend
    /// for the startup table, with the reason when <c>auto</c> fell back to the CPU.
    /// </summary>
    public static IKernels Create(string device, int threads, out string description)
    {
        if (device == "cpu")
        {
            var cpu = new CpuKernels(threads);
            description = cpu.Name;
            return cpu;
        }

        if (IlgpuKernels.TryCreateCuda(out IlgpuKernels? cuda, out string reason))
        {
            description = cuda!.Name;
            return cuda;
        }

        if (device == "cuda")
        {
            throw new KgglmException($"--device cuda: {reason}");
        }

        var fallback = new CpuKernels(threads);
        description = $"{fallback.Name}, the SIMD CPU engine (device auto: {reason})";
        return fallback;
    }
}
