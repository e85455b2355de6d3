using ILGPU;
using ILGPU.Runtime;

namespace Kgglm.Kernels.Gpu;

/// <summary>
/// An arena in one device buffer of floats (<c>MemoryBuffer1D&lt;float, Stride1D.Dense&gt;</c>),
/// zeroed at creation. Float tensors are sub-views of it; int tensors are the same sub-views
/// reinterpreted with <c>ArrayView&lt;float&gt;.Cast&lt;int&gt;()</c>: both are 4 bytes, so an
/// offset counts the same elements for both, as <see cref="IntTensor"/> requires.
/// </summary>
internal sealed class IlgpuArena : DeviceArena
{
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;

    /// <summary>
    /// Allocates <paramref name="floatCapacity"/> floats on <paramref name="accelerator"/>.
    /// </summary>
    public IlgpuArena(Accelerator accelerator, string name, long floatCapacity)
        : base(name, floatCapacity)
    {
        Accelerator = accelerator;
        _buffer = accelerator.Allocate1D<float>(Math.Max(1, floatCapacity));
        _buffer.MemSetToZero();
        accelerator.Synchronize();
    }

    /// <summary>The accelerator that owns the memory.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The whole arena.</summary>
    public ArrayView<float> View =>
        (_buffer ?? throw new ObjectDisposedException(Name)).View.AsContiguous();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _buffer?.Dispose();
        _buffer = null;
    }
}
