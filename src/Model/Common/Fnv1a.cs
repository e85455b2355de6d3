namespace Kgglm.Common;

/// <summary>
/// 64-bit FNV-1a, for fingerprints in file headers (stable across runs and machines).
/// </summary>
public struct Fnv1a
{
    private ulong _hash;

    /// <summary>An empty hash.</summary>
    public Fnv1a() => _hash = 0xCBF29CE484222325UL;

    /// <summary>The hash so far.</summary>
    public readonly ulong Value => _hash;

    /// <summary>Adds one 64-bit value, little-endian.</summary>
    public void Add(long value)
    {
        for (int i = 0; i < 8; i++)
        {
            _hash = (_hash ^ (byte)(value >> (8 * i))) * 0x100000001B3UL;
        }
    }

    /// <summary>Adds the UTF-16 code units of a string and a terminator.</summary>
    public void Add(string text)
    {
        foreach (char ch in text)
        {
            Add(ch);
        }

        Add(-1);
    }
}
