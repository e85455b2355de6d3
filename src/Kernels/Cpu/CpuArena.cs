using System.Runtime.InteropServices;

namespace Kgglm.Kernels.Cpu;

/// <summary>An arena in 64-byte-aligned native memory, zeroed at creation.</summary>
internal sealed unsafe class CpuArena : DeviceArena
{
    private float* _base;

    /// <summary>Allocates <paramref name="floatCapacity"/> floats of native memory.</summary>
    public CpuArena(string name, long floatCapacity)
        : base(name, floatCapacity)
    {
        nuint bytes = (nuint)Math.Max(64, floatCapacity * sizeof(float));
        _base = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_base, bytes);
        GC.AddMemoryPressure((long)bytes);
        Bytes = (long)bytes;
    }

    /// <summary>Size of the native block in bytes.</summary>
    public long Bytes { get; }

    /// <summary>First element of the arena.</summary>
    public float* Base => _base;

    /// <summary>Pointer to the first float of <paramref name="tensor"/>.</summary>
    public static float* Pointer(Tensor tensor)
    {
        if (tensor.Arena is not CpuArena arena)
        {
            throw new ArgumentException(
                tensor.IsEmpty
                    ? "empty tensor"
                    : $"tensor of arena '{tensor.Arena!.Name}' is not in CPU memory",
                nameof(tensor));
        }

        return arena._base + tensor.Offset;
    }

    /// <summary>Pointer to the first int of <paramref name="tensor"/>.</summary>
    public static int* Pointer(IntTensor tensor)
    {
        if (tensor.Arena is not CpuArena arena)
        {
            throw new ArgumentException(
                tensor.IsEmpty
                    ? "empty tensor"
                    : $"tensor of arena '{tensor.Arena!.Name}' is not in CPU memory",
                nameof(tensor));
        }

        return (int*)(arena._base + tensor.Offset);
    }

    /// <summary>Pointer, or null for an absent optional tensor.</summary>
    public static float* PointerOrNull(Tensor tensor) => tensor.IsEmpty ? null : Pointer(tensor);

    /// <summary>Pointer, or null for an absent optional tensor.</summary>
    public static int* PointerOrNull(IntTensor tensor) => tensor.IsEmpty ? null : Pointer(tensor);

    /// <summary>The tensor's memory as a span (tests, host-side code).</summary>
    public static Span<float> Span(Tensor tensor) =>
        new(Pointer(tensor), checked((int)tensor.Length));

    /// <summary>The tensor's memory as a span (tests, host-side code).</summary>
    public static Span<int> Span(IntTensor tensor) =>
        new(Pointer(tensor), checked((int)tensor.Length));

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (_base != null)
        {
            NativeMemory.AlignedFree(_base);
            _base = null;
            GC.RemoveMemoryPressure(Bytes);
        }
    }
}
