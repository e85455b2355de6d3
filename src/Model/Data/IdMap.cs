namespace Kgglm.Data;

/// <summary>
/// Internal id ↔ raw id (the opaque string of the dataset files) for one id space. Id 0 is
/// <c>[PAD]</c>. The raw → id direction is built on first use.
/// </summary>
public sealed class IdMap
{
    /// <summary>The raw name of id 0 in every id space.</summary>
    public const string PadToken = "[PAD]";

    readonly string[] _raw;
    Dictionary<string, int>? _ids;

    internal IdMap(string[] raw) => _raw = raw;

    /// <summary>Number of ids, [PAD] included.</summary>
    public int Count => _raw.Length;

    /// <summary>The raw id of internal id <paramref name="id"/>.</summary>
    public string this[int id] => _raw[id];

    /// <summary>All raw ids, indexed by internal id.</summary>
    public IReadOnlyList<string> Raw => _raw;

    /// <summary>The internal id of <paramref name="raw"/>, false when it has none.</summary>
    public bool TryGetId(string raw, out int id)
    {
        if (_ids is null)
        {
            var ids = new Dictionary<string, int>(_raw.Length, StringComparer.Ordinal);
            for (int i = _raw.Length - 1; i >= 0; i--)
            {
                ids[_raw[i]] = i;
            }
            _ids = ids;
        }
        return _ids.TryGetValue(raw, out id);
    }

    /// <summary>
    /// The internal id of <paramref name="raw"/>; throws <see cref="KeyNotFoundException"/>.
    /// </summary>
    public int GetId(string raw) => TryGetId(raw, out int id) ? id
        : throw new KeyNotFoundException($"expected a known raw id, found '{raw}'");
}
