using System.Text;

namespace Kgglm.Data;

/// <summary>
/// Interns raw ids read as UTF-8 bytes: ids 0, 1, … in order of first <see cref="GetOrAdd"/>.
/// An open-addressing hash table over a byte arena, so reading a file allocates nothing per field;
/// strings are made only on request, once per distinct id.
/// </summary>
internal sealed class TokenInterner
{
    byte[] _bytes = new byte[1 << 12];   // every distinct key, back to back
    int _used;
    int[] _start = new int[64];          // [Count] arena offset of id
    int[] _length = new int[64];         // [Count] byte length of id
    int[] _hash = new int[64];           // [Count] hash of id, to rehash without rereading
    int[] _slots = new int[128];         // open-addressing table: id + 1, 0 = empty
    int _count;

    /// <summary>Number of distinct ids.</summary>
    public int Count => _count;

    /// <summary>The bytes of id <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> Bytes(int id) => _bytes.AsSpan(_start[id], _length[id]);

    /// <summary>The id as a string (allocates).</summary>
    public string GetString(int id) => Encoding.UTF8.GetString(Bytes(id));

    /// <summary>The id of <paramref name="key"/>, adding it when new.</summary>
    public int GetOrAdd(ReadOnlySpan<byte> key)
    {
        int hash = Hash(key);
        int mask = _slots.Length - 1;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask)
        {
            int entry = _slots[slot];
            if (entry == 0)
            {
                int id = Add(key, hash);
                _slots[slot] = id + 1;
                if (_count * 2 > _slots.Length)
                {
                    Grow();
                }
                return id;
            }
            int candidate = entry - 1;
            if (_hash[candidate] == hash && Bytes(candidate).SequenceEqual(key))
            {
                return candidate;
            }
        }
    }

    /// <summary>The id of <paramref name="key"/>, or -1 when it was never added.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        int hash = Hash(key);
        int mask = _slots.Length - 1;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask)
        {
            int entry = _slots[slot];
            if (entry == 0)
            {
                return -1;
            }
            int candidate = entry - 1;
            if (_hash[candidate] == hash && Bytes(candidate).SequenceEqual(key))
            {
                return candidate;
            }
        }
    }

    /// <summary>The id of a string key, or -1.</summary>
    public int Find(string key) => Find(Encoding.UTF8.GetBytes(key));

    // HashCode is seeded per process: lookups stay deterministic (ids follow insertion order,
    // never hash order) and crafted ids cannot force collisions.
    static int Hash(ReadOnlySpan<byte> key)
    {
        var hc = new HashCode();
        hc.AddBytes(key);
        return hc.ToHashCode() & int.MaxValue;
    }

    int Add(ReadOnlySpan<byte> key, int hash)
    {
        if (_used + key.Length > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + key.Length));
        }
        key.CopyTo(_bytes.AsSpan(_used));
        if (_count == _start.Length)
        {
            Array.Resize(ref _start, _count * 2);
            Array.Resize(ref _length, _count * 2);
            Array.Resize(ref _hash, _count * 2);
        }
        _start[_count] = _used;
        _length[_count] = key.Length;
        _hash[_count] = hash;
        _used += key.Length;
        return _count++;
    }

    void Grow()
    {
        _slots = new int[_slots.Length * 2];
        int mask = _slots.Length - 1;
        for (int id = 0; id < _count; id++)
        {
            int slot = _hash[id] & mask;
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }
            _slots[slot] = id + 1;
        }
    }
}
