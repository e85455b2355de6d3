using static Kgglm.Kernels.KernelArguments;

namespace Kgglm.Kernels.Cpu;

/// <summary>
/// The SIMD CPU engine: the default, deterministic backend. This part holds memory and
/// threading; the matmuls live in <c>CpuKernels.MatMul.cs</c> and the other ops in
/// <c>CpuKernels.Ops.cs</c>, each calling the op files of <c>Ops/</c>.
/// </summary>
public sealed unsafe partial class CpuKernels : IKernels
{
    private readonly WorkerPool _pool;

    /// <summary>
    /// A CPU engine on <paramref name="threads"/> threads at <paramref name="simd"/>.
    /// </summary>
    /// <param name="threads">Worker threads, the caller's included (≥ 1).</param>
    /// <param name="simd">Instruction set of the fast paths; null takes the best available.</param>
    public CpuKernels(int threads, SimdLevel? simd = null)
    {
        SimdLevel level = simd ?? SimdDetection.Best;
        if (!SimdDetection.IsSupported(level))
        {
            throw new PlatformNotSupportedException($"this CPU cannot run {level} kernels");
        }

        Simd = level;
        _pool = new WorkerPool(threads);
        _matMul = new MatMulJob(threads);
    }

    /// <summary>Instruction set the fast paths use.</summary>
    public SimdLevel Simd { get; }

    /// <summary>Number of threads.</summary>
    public int Threads => _pool.Threads;

    /// <inheritdoc/>
    public string Name => $"cpu-{Simd.ToString().ToLowerInvariant()} ({Threads} threads)";

    /// <inheritdoc/>
    public DeviceArena CreateArena(string name, long floatCapacity) =>
        new CpuArena(name, floatCapacity);

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        CheckLength(source.Length, destination.Length);
        source.CopyTo(CpuArena.Span(destination));
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<int> source, IntTensor destination)
    {
        CheckLength(source.Length, destination.Length);
        source.CopyTo(CpuArena.Span(destination));
    }

    /// <inheritdoc/>
    public void Download(Tensor source, Span<float> destination)
    {
        CheckLength(destination.Length, source.Length);
        CpuArena.Span(source).CopyTo(destination);
    }

    /// <inheritdoc/>
    public void Fill(float value, Tensor destination)
    {
        float* p = CpuArena.Pointer(destination);
        new Span<float>(p, checked((int)destination.Length)).Fill(value);
    }

    /// <inheritdoc/>
    public void Copy(Tensor source, long n, Tensor destination)
    {
        Buffer.MemoryCopy(
            CpuArena.Pointer(source), CpuArena.Pointer(destination),
            destination.Length * sizeof(float), n * sizeof(float));
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _pool.Dispose();
        _matMul.Dispose();
    }
}
