namespace Kgglm.Kernels;

/// <summary>
/// A contiguous float32 range inside a <see cref="DeviceArena"/>: what every kernel reads and
/// writes. A tensor is a plain view (arena, offset, length, all in elements); its shape is not
/// stored, kernels take sizes as arguments and document the shape they expect.
/// </summary>
public readonly struct Tensor
{
    /// <summary>
    /// Creates a view of <paramref name="length"/> floats at <paramref name="offset"/>.
    /// </summary>
    public Tensor(DeviceArena arena, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (offset < 0 || length < 0 || offset + length > arena.FloatCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(length), $"view [{offset}, {offset + length}) outside arena '{arena.Name}'");
        }

        Arena = arena;
        Offset = offset;
        Length = length;
    }

    /// <summary>The arena that owns the memory; null for the empty tensor.</summary>
    public DeviceArena? Arena { get; }

    /// <summary>Start of the view, in float elements from the arena's base.</summary>
    public long Offset { get; }

    /// <summary>Number of float elements.</summary>
    public long Length { get; }

    /// <summary>
    /// True for <c>default(Tensor)</c>: an absent optional argument (no bias, ...).
    /// </summary>
    public bool IsEmpty => Arena is null;

    /// <summary>
    /// A sub-view of <paramref name="length"/> floats starting at <paramref name="start"/>.
    /// </summary>
    public Tensor Slice(long start, long length)
    {
        if (Arena is null || start < 0 || length < 0 || start + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(start));
        }

        return new Tensor(Arena, Offset + start, length);
    }
}

/// <summary>
/// A contiguous int32 range inside a <see cref="DeviceArena"/>: token ids, labels.
/// </summary>
public readonly struct IntTensor
{
    /// <summary>
    /// Creates a view of <paramref name="length"/> ints at <paramref name="offset"/>.
    /// </summary>
    /// <remarks>
    /// Offsets count 4-byte elements, the same unit as float tensors of the arena.
    /// </remarks>
    public IntTensor(DeviceArena arena, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (offset < 0 || length < 0 || offset + length > arena.FloatCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(length), $"view [{offset}, {offset + length}) outside arena '{arena.Name}'");
        }

        Arena = arena;
        Offset = offset;
        Length = length;
    }

    /// <summary>The arena that owns the memory; null for the empty tensor.</summary>
    public DeviceArena? Arena { get; }

    /// <summary>Start of the view, in 4-byte elements from the arena's base.</summary>
    public long Offset { get; }

    /// <summary>Number of int elements.</summary>
    public long Length { get; }

    /// <summary>True for <c>default(IntTensor)</c>: an absent optional argument.</summary>
    public bool IsEmpty => Arena is null;

    /// <summary>
    /// A sub-view of <paramref name="length"/> ints starting at <paramref name="start"/>.
    /// </summary>
    public IntTensor Slice(long start, long length)
    {
        if (Arena is null || start < 0 || length < 0 || start + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(start));
        }

        return new IntTensor(Arena, Offset + start, length);
    }
}
