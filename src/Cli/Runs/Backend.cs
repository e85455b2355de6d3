using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Cli.Runs;

/// <summary>Chooses the compute backend named by <c>--device</c>.</summary>
internal static class Backend
{
    /// <summary>
    /// The backend for <paramref name="device"/> on <paramref name="threads"/> threads.
    /// </summary>
    public static IKernels Create(string device, int threads)
    {
        return device switch
        {
            // TODO: the ILGPU CUDA backend is a separate piece of work; until it lands, cuda is
            // refused in one line and auto means the SIMD CPU engine.
            "cuda" => throw new KgglmException(
                "--device cuda: this build has no CUDA backend yet; use --device cpu or auto"),
            _ => new CpuKernels(threads),
        };
    }
}
