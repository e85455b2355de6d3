using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using static Kgglm.Kernels.KernelArguments;

namespace Kgglm.Kernels.Gpu;

/// <summary>
/// The ILGPU backend: every op of <see cref="IKernels"/> as an ILGPU kernel, run on CUDA or, in
/// tests, on ILGPU's CPU accelerator (slow: every emulated thread is a real thread; use small
/// shapes). Kernels are compiled and loaded once, in the constructor; a call only launches on the
/// accelerator's default stream, so calls run in order and asynchronously with respect to the
/// host. Only <see cref="Download"/> and <see cref="SquaredNorm"/> wait for the device.
/// This part holds device selection, memory and the kernel table; the ops are in
/// <c>IlgpuKernels.Ops.cs</c>, the kernels in <c>Device/</c>.
/// </summary>
public sealed partial class IlgpuKernels : IKernels
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly bool _ownsContext;

    private IlgpuKernels(Context context, Accelerator accelerator, string name, bool ownsContext)
    {
        _context = context;
        _accelerator = accelerator;
        _ownsContext = ownsContext;
        Name = name;

        // The largest square tile whose tile² threads fit a group, at most 16 × 16.
        int tile = 16;
        while (tile > 1 && tile * tile > accelerator.MaxNumThreadsPerGroup)
        {
            tile /= 2;
        }

        MatMulTile = tile;
        _table = new KernelTable(accelerator);
        _dummy = accelerator.Allocate1D<float>(16);
        _dummy.MemSetToZero();
        _normResult = accelerator.Allocate1D<double>(1);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>
    /// Side of the matmul thread tile on this accelerator (4 on the CPU, 16 on CUDA).
    /// </summary>
    public int MatMulTile { get; }

    /// <summary>The accelerator the kernels run on.</summary>
    internal Accelerator Accelerator => _accelerator;

    /// <summary>
    /// Opens the first CUDA device. ILGPU's <c>Context.Create(b =&gt; b.Cuda())</c> silently
    /// gives a CPU-only context without a GPU (or without libcuda), so the CUDA device count is
    /// checked here and <paramref name="reason"/> says in one line why none could be used.
    /// </summary>
    /// <returns>True with <paramref name="kernels"/> set when a CUDA device was opened.</returns>
    public static bool TryCreateCuda(out IlgpuKernels? kernels, out string reason)
    {
        kernels = null;
        Context? context = null;
        try
        {
            context = Context.Create(b => b.Cuda().CPU().EnableAlgorithms());
            if (context.GetCudaDevices().Count == 0)
            {
                reason = "no CUDA device found (no NVIDIA GPU, or the CUDA driver is not "
                    + "installed)";
                context.Dispose();
                return false;
            }

            CudaAccelerator accelerator = context.CreateCudaAccelerator(0);
            kernels = new IlgpuKernels(context, accelerator, $"cuda: {accelerator.Name}", true);
            reason = "";
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException
            or DllNotFoundException or CudaException or TypeInitializationException)
        {
            context?.Dispose();
            reason = $"CUDA device could not be opened: {e.Message}";
            return false;
        }
    }

    /// <summary>
    /// ILGPU's CPU accelerator (the default CPU device: warp 4, groups of at most 16 threads),
    /// for tests of the ILGPU kernels without a GPU. Orders of magnitude slower than the SIMD
    /// engine: small shapes only.
    /// </summary>
    public static IlgpuKernels CreateCpuAccelerator()
    {
        Context context = Context.Create(b => b.DefaultCPU().EnableAlgorithms());
        CPUAccelerator accelerator = context.CreateCPUAccelerator(0);
        return new IlgpuKernels(context, accelerator, "ilgpu-cpu (tests)", true);
    }

    /// <inheritdoc/>
    public DeviceArena CreateArena(string name, long floatCapacity) =>
        new IlgpuArena(_accelerator, name, floatCapacity);

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        CheckLength(source.Length, destination.Length);
        if (source.Length > 0)
        {
            View(destination).CopyFromCPU(_accelerator.DefaultStream, source);

            // The span may be reused by the caller as soon as this returns.
            _accelerator.DefaultStream.Synchronize();
        }
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<int> source, IntTensor destination)
    {
        CheckLength(source.Length, destination.Length);
        if (source.Length > 0)
        {
            View(destination).CopyFromCPU(_accelerator.DefaultStream, source);
            _accelerator.DefaultStream.Synchronize();
        }
    }

    /// <inheritdoc/>
    public void Download(Tensor source, Span<float> destination)
    {
        CheckLength(destination.Length, source.Length);
        if (destination.Length > 0)
        {
            View(source).CopyToCPU(_accelerator.DefaultStream, destination);
        }

        _accelerator.DefaultStream.Synchronize();
    }

    /// <inheritdoc/>
    public void Fill(float value, Tensor destination)
    {
        if (destination.Length > 0)
        {
            _table.Fill(Elements(destination.Length), View(destination), value);
        }
    }

    /// <inheritdoc/>
    public void Copy(Tensor source, long n, Tensor destination)
    {
        Need(source, n, nameof(source));
        Need(destination, n, nameof(destination));
        if (n > 0)
        {
            _table.Copy(Elements(n), View(source, n), View(destination, n));
        }
    }

    /// <inheritdoc/>
    public void Synchronize() => _accelerator.Synchronize();

    /// <inheritdoc/>
    public void Dispose()
    {
        _dummy.Dispose();
        _normResult.Dispose();
        _scratch?.Dispose();
        _normLanes?.Dispose();
        _accelerator.Dispose();
        if (_ownsContext)
        {
            _context.Dispose();
        }
    }

    /// <summary>The device view of <paramref name="t"/>.</summary>
    internal static ArrayView<float> View(Tensor t) =>
        Arena(t.Arena).View.SubView(t.Offset, t.Length);

    /// <summary>The first <paramref name="n"/> elements of <paramref name="t"/>.</summary>
    internal static ArrayView<float> View(Tensor t, long n) =>
        Arena(t.Arena).View.SubView(t.Offset, n);

    /// <summary>The device view of <paramref name="t"/>, the arena's floats read as ints.</summary>
    internal static ArrayView<int> View(IntTensor t) =>
        Arena(t.Arena).View.SubView(t.Offset, t.Length).Cast<int>();

    private static IlgpuArena Arena(DeviceArena? arena) => arena as IlgpuArena
        ?? throw new ArgumentException(arena is null
            ? "empty tensor" : $"tensor of arena '{arena.Name}' is not in ILGPU memory");

    /// <summary>A launch extent of n elements (an Index1D is an int).</summary>
    private static Index1D Elements(long n) => n <= int.MaxValue
        ? new Index1D((int)n)
        : throw new ArgumentException($"n = {n}: more elements than one ILGPU launch takes");
}
