namespace Kgglm.Kernels;

/// <summary>
/// One block of backend memory, sized once, from which tensors are carved by a bump allocator.
/// The model uses one arena each for parameters, gradients, optimiser moments and activations.
/// Every allocation starts on a 64-byte boundary (a cache line, one AVX-512 register).
/// </summary>
public abstract class DeviceArena : IDisposable
{
    private long _used;

    /// <summary>Creates an arena of <paramref name="floatCapacity"/> 4-byte elements.</summary>
    protected DeviceArena(string name, long floatCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(floatCapacity);
        Name = name;
        FloatCapacity = floatCapacity;
    }

    /// <summary>What the arena holds ("parameters", "activations", ...), for messages.</summary>
    public string Name { get; }

    /// <summary>Capacity in 4-byte elements.</summary>
    public long FloatCapacity { get; }

    /// <summary>Elements handed out so far, alignment padding included.</summary>
    public long Used => _used;

    /// <summary>
    /// Elements needed for <paramref name="count"/> elements plus alignment padding.
    /// </summary>
    public static long Padded(long count) => (count + 15) & ~15L;

    /// <summary>
    /// Hands out the next <paramref name="count"/> floats, 64-byte aligned, zeroed.
    /// </summary>
    public Tensor AllocateFloat(long count) => new(this, Take(count), count);

    /// <summary>
    /// Hands out the next <paramref name="count"/> ints, 64-byte aligned, zeroed.
    /// </summary>
    public IntTensor AllocateInt(long count) => new(this, Take(count), count);

    /// <summary>Releases the memory; every tensor of the arena becomes invalid.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the backend memory.</summary>
    protected abstract void Dispose(bool disposing);

    private long Take(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long start = _used;
        long next = start + Padded(count);
        if (next > FloatCapacity)
        {
            throw new InvalidOperationException(
                $"arena '{Name}' is full: {count} more elements asked, " +
                $"{FloatCapacity - start} of {FloatCapacity} left");
        }

        _used = next;
        return start;
    }
}
