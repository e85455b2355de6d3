using System.Globalization;
using System.Text;

namespace Kgglm.Configuration;

/// <summary>
/// The configuration after defaults, files and command line were merged and checked: typed
/// read access, a printable table and a YAML export that <c>--config-files</c> reads back.
/// </summary>
public sealed class ResolvedConfig
{
    private readonly Dictionary<string, ConfigEntry> _entries;

    internal ResolvedConfig(Dictionary<string, ConfigEntry> entries) => _entries = entries;

    /// <summary>Every key in print order with its value and origin.</summary>
    public IEnumerable<ConfigEntry> Entries => ConfigKeys.All.Select(k => _entries[k.Name]);

    /// <summary>The entry of <paramref name="key"/>.</summary>
    public ConfigEntry this[string key] =>
        _entries.TryGetValue(key, out ConfigEntry? e) ? e : throw new KeyNotFoundException(key);

    /// <summary>An integer key.</summary>
    public int Int(string key) => checked((int)(long)Value(key));

    /// <summary>A 64-bit integer key.</summary>
    public long Long(string key) => (long)Value(key);

    /// <summary>An integer key that may be null.</summary>
    public int? IntOrNull(string key) => _entries[key].Value is long v ? checked((int)v) : null;

    /// <summary>A float key.</summary>
    public double Float(string key) => (double)Value(key);

    /// <summary>A float key that may be null.</summary>
    public double? FloatOrNull(string key) => _entries[key].Value as double?;

    /// <summary>A boolean key.</summary>
    public bool Bool(string key) => (bool)Value(key);

    /// <summary>A string or choice key.</summary>
    public string String(string key) => (string)Value(key);

    /// <summary>A string key that may be null.</summary>
    public string? StringOrNull(string key) => _entries[key].Value as string;

    /// <summary>A string-list key.</summary>
    public IReadOnlyList<string> Strings(string key) => (string[])Value(key);

    /// <summary>An integer-list key.</summary>
    public IReadOnlyList<int> Ints(string key) => (int[])Value(key);

    /// <summary>A range key.</summary>
    public HopRange Range(string key) => (HopRange)Value(key);

    /// <summary>A mapping key as nested dictionaries / lists / strings, or null.</summary>
    public IReadOnlyDictionary<string, object?>? Map(string key) =>
        _entries[key].Value as Dictionary<string, object?>;

    /// <summary>Where the value of <paramref name="key"/> came from.</summary>
    public string Origin(string key) => _entries[key].Origin;

    /// <summary>A copy with <paramref name="overrides"/> applied on top (tune trials).</summary>
    public ResolvedConfig With(IEnumerable<ConfigOverride> overrides)
    {
        ResolvedConfig extra = ConfigResolver.Resolve([], overrides);
        var merged = new Dictionary<string, ConfigEntry>(_entries, StringComparer.Ordinal);
        foreach (ConfigEntry e in extra.Entries.Where(e => e.Origin != "default"))
        {
            merged[e.Key.Name] = e;
        }

        return new ResolvedConfig(merged);
    }

    /// <summary>
    /// A value as YAML flow text (<c>0.0002</c>, <c>[Recall, NDCG]</c>, <c>null</c>).
    /// </summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => double.IsPositiveInfinity(d) ? "inf"
            : double.IsNegativeInfinity(d) ? "-inf"
            : d.ToString("R", CultureInfo.InvariantCulture),
        string s => NeedsQuotes(s) ? "\"" + Escape(s) + "\"" : s,
        string[] list => "[" + string.Join(", ", list.Select(Format)) + "]",
        int[] list => "[" + string.Join(", ", list) + "]",
        HopRange r => $"\"{r}\"",
        IReadOnlyDictionary<string, object?> map =>
            "{" + string.Join(", ",
                map.Select(kv => $"{Format(kv.Key)}: {FormatPlain(kv.Value)}")) + "}",
        IEnumerable<object?> seq => "[" + string.Join(", ", seq.Select(FormatPlain)) + "]",
        _ => value.ToString() ?? "null",
    };

    /// <summary>
    /// A value inside a mapping: its scalars came from YAML as text, so numbers stay unquoted
    /// (they read back the same either way).
    /// </summary>
    private static string FormatPlain(object? value) =>
        value is string s && double.TryParse(
                s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? s
            : Format(value);

    /// <summary>The whole configuration as YAML (nested keys nested), readable back.</summary>
    public string ToYaml()
    {
        var sb = new StringBuilder();
        sb.Append("# Kgglm resolved configuration\n");
        string? parent = null;
        foreach (ConfigEntry e in Entries)
        {
            int dot = e.Key.Name.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0)
            {
                string p = e.Key.Name[..dot];
                if (p != parent)
                {
                    sb.Append(p).Append(":\n");
                    parent = p;
                }

                sb.Append("  ").Append(e.Key.Name[(dot + 1)..]).Append(": ")
                    .Append(Format(e.Value)).Append('\n');
            }
            else
            {
                parent = null;
                sb.Append(e.Key.Name).Append(": ").Append(Format(e.Value)).Append('\n');
            }
        }

        return sb.ToString();
    }

    /// <summary>The configuration table printed at start: group, key, value, origin.</summary>
    public string ToTable(IEnumerable<string>? groups = null)
    {
        var wanted = groups?.ToHashSet(StringComparer.Ordinal);
        var rows = Entries.Where(e => wanted is null || wanted.Contains(e.Key.Group)).ToList();
        int width = rows.Count == 0 ? 10 : rows.Max(e => e.Key.Name.Length);
        var sb = new StringBuilder();
        foreach (IGrouping<string, ConfigEntry> group in rows.GroupBy(e => e.Key.Group))
        {
            sb.Append(group.Key).Append(" hyper-parameters\n");
            foreach (ConfigEntry e in group)
            {
                string origin = e.Origin == "default" ? string.Empty : $"  ({e.Origin})";
                sb.Append("  ").Append(e.Key.Name.PadRight(width)).Append("  ")
                    .Append(Format(e.Value)).Append(origin).Append('\n');
            }
        }

        return sb.ToString();
    }

    private object Value(string key)
    {
        ConfigEntry e = _entries[key];
        return e.Value ?? throw new ConfigException(
            $"config key '{key}' has no value ({e.Origin})");
    }

    private static bool NeedsQuotes(string s) =>
        s.Length == 0 || s.Trim() != s
        || s.IndexOfAny(['\t', ':', '#', '[', ']', '{', '}', ',', '"', '\'']) >= 0
        || s is "null" or "true" or "false" or "~"
        || double.TryParse(s, CultureInfo.InvariantCulture, out _);

    private static string Escape(string s) =>
        s.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\t", "\\t", StringComparison.Ordinal);
}
