using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kgglm.Configuration;

/// <summary>
/// One command-line setting, e.g. <c>--learning-rate 1e-4</c> → (learning_rate, 1e-4).
/// </summary>
/// <param name="Key">The hopwise key (dotted when nested).</param>
/// <param name="Value">The value as written (parsed as YAML, so lists and maps work).</param>
/// <param name="Origin">Where it came from, for messages (e.g. "--learning-rate").</param>
public readonly record struct ConfigOverride(string Key, string Value, string Origin);

/// <summary>
/// Resolves the configuration: built-in defaults &lt; YAML files in the order given &lt;
/// command-line settings (later wins). Every value is checked against its key's kind and bounds;
/// unknown keys are errors naming the file and line.
/// </summary>
public static class ConfigResolver
{
    /// <summary>
    /// Resolves defaults, then <paramref name="files"/>, then <paramref name="overrides"/>.
    /// </summary>
    public static ResolvedConfig Resolve(
        IEnumerable<string> files, IEnumerable<ConfigOverride> overrides)
    {
        var values = new Dictionary<string, ConfigEntry>(StringComparer.Ordinal);
        foreach (ConfigKey key in ConfigKeys.All)
        {
            object? value = key.Default is null
                ? null
                : Convert(key, ParseYamlText(key.Default, "default"), "built-in default");
            values[key.Name] = new ConfigEntry(key, value, "default");
        }

        foreach (string file in files)
        {
            foreach ((string name, YamlNode node, string where) in ReadFile(file))
            {
                ConfigKey key = ConfigKeys.Find(name) ?? throw Unknown(name, where);
                values[name] = new ConfigEntry(key, Convert(key, node, where),
                    Path.GetFileName(file));
            }
        }

        foreach (ConfigOverride o in overrides)
        {
            ConfigKey key = ConfigKeys.Find(o.Key) ?? throw Unknown(o.Key, o.Origin);
            YamlNode node = ParseYamlText(o.Value, o.Origin);
            values[o.Key] = new ConfigEntry(key, Convert(key, node, o.Origin), "command line");
        }

        return new ResolvedConfig(values);
    }

    /// <summary>Parses one value written as YAML text (a command-line value).</summary>
    private static YamlNode ParseYamlText(string text, string where)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0
                ? new YamlScalarNode(string.Empty)
                : stream.Documents[0].RootNode;
        }
        catch (YamlException ex)
        {
            // A value like `a:b` is not valid flow YAML, but it is a fine plain string.
            _ = ex;
            return new YamlScalarNode(text) { Style = ScalarStyle.DoubleQuoted };
        }
    }

    private static IEnumerable<(string Name, YamlNode Node, string Where)> ReadFile(string file)
    {
        if (!File.Exists(file))
        {
            throw new ConfigException($"config file not found: {file}");
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(file);
            stream.Load(reader);
        }
        catch (YamlException ex)
        {
            throw new ConfigException(
                $"{file}:{ex.Start.Line}: not valid YAML: {FirstLine(ex.Message)}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode
            { Value: null or "" })
        {
            yield break;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigException($"{file}:1: expected a mapping of key: value lines");
        }

        foreach ((YamlNode k, YamlNode v) in root.Children)
        {
            string name = ((YamlScalarNode)k).Value ?? string.Empty;
            string where = $"{file}:{k.Start.Line}";
            if (ConfigKeys.NestedParents.Contains(name) && v is YamlMappingNode nested)
            {
                // Nested hopwise mappings are merged key by key (only `split` is replaced whole).
                foreach ((YamlNode ck, YamlNode cv) in nested.Children)
                {
                    string child = $"{name}.{((YamlScalarNode)ck).Value}";
                    yield return (child, cv, $"{file}:{ck.Start.Line}");
                }
            }
            else
            {
                yield return (name, v, where);
            }
        }
    }

    private static ConfigException Unknown(string name, string where)
    {
        string? hint = ConfigKeys.Suggest(name);
        return new ConfigException(
            $"{where}: unknown config key '{name}'" +
            (hint is null ? string.Empty : $" (did you mean '{hint}'?)"));
    }

    private static object? Convert(ConfigKey key, YamlNode node, string where)
    {
        ConfigException Bad(string found) => new(
            $"{where}: key '{key.Name}': expected {key.Expectation}, found {found}");

        if (IsNull(node))
        {
            return key.Nullable || key.Kind == ConfigKind.String
                ? (key.Kind == ConfigKind.String && !key.Nullable ? string.Empty : null)
                : throw Bad("null");
        }

        switch (key.Kind)
        {
            case ConfigKind.Int:
                {
                    string text = Scalar(node) ?? throw Bad(Describe(node));
                    if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture,
                            out long value))
                    {
                        throw Bad($"'{text}'");
                    }

                    CheckBounds(key, value, Bad);
                    return value;
                }

            case ConfigKind.Float:
                {
                    string text = Scalar(node) ?? throw Bad(Describe(node));
                    if (!TryParseFloat(text, out double value))
                    {
                        throw Bad($"'{text}'");
                    }

                    CheckBounds(key, value, Bad);
                    return value;
                }

            case ConfigKind.Bool:
                {
                    string text = Scalar(node) ?? throw Bad(Describe(node));
                    return text.ToLowerInvariant() switch
                    {
                        "true" or "yes" or "on" => true,
                        "false" or "no" or "off" => false,
                        _ => throw Bad($"'{text}'"),
                    };
                }

            case ConfigKind.String:
                return Scalar(node) ?? throw Bad(Describe(node));

            case ConfigKind.Choice:
                {
                    string text = Scalar(node) ?? throw Bad(Describe(node));
                    return key.Choices.Contains(text, StringComparer.Ordinal)
                        ? text
                        : throw Bad($"'{text}'");
                }

            case ConfigKind.StringList:
                return List(node).Select(n => Scalar(n) ?? throw Bad(Describe(n))).ToArray();

            case ConfigKind.IntList:
                return List(node).Select(n =>
                {
                    string text = Scalar(n) ?? throw Bad(Describe(n));
                    if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture,
                            out int value))
                    {
                        throw Bad($"'{text}'");
                    }

                    CheckBounds(key, value, Bad);
                    return value;
                }).ToArray();

            case ConfigKind.Map:
                return node is YamlMappingNode map ? ToPlain(map) : throw Bad(Describe(node));

            case ConfigKind.Range:
                {
                    string text = node is YamlSequenceNode seq
                        ? string.Join(",", seq.Children.Select(Scalar))
                        : Scalar(node) ?? throw Bad(Describe(node));
                    string[] parts = text.Trim().Trim('(', ')', '[', ']').Split(',');
                    if (parts.Length != 2
                        || !int.TryParse(parts[0].Trim(), CultureInfo.InvariantCulture, out int lo)
                        || !int.TryParse(parts[1].Trim(), CultureInfo.InvariantCulture, out int hi)
                        || lo > hi)
                    {
                        throw Bad($"'{text}'");
                    }

                    CheckBounds(key, lo, Bad);
                    CheckBounds(key, hi, Bad);
                    return new HopRange(lo, hi);
                }

            default:
                throw new InvalidOperationException(key.Kind.ToString());
        }
    }

    private static void CheckBounds(ConfigKey key, double value, Func<string, ConfigException> bad)
    {
        bool belowMin = key.MinExclusive ? value <= key.Min : value < key.Min;
        if (belowMin || value > key.Max || double.IsNaN(value))
        {
            throw bad(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Parses a float the way hopwise's YAML (and Python) writes them, inf included.
    /// </summary>
    internal static bool TryParseFloat(string text, out double value)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t is "inf" or "+inf" or ".inf")
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (t is "-inf" or "-.inf")
        {
            value = double.NegativeInfinity;
            return true;
        }

        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsNull(YamlNode node) => node is YamlScalarNode s
        && s.Style is ScalarStyle.Plain or ScalarStyle.Any
        && (s.Value is null or "" or "~" or "null" or "Null" or "NULL" or "None");

    private static string? Scalar(YamlNode node) =>
        node is YamlScalarNode s ? s.Value ?? string.Empty : null;

    private static IEnumerable<YamlNode> List(YamlNode node) => node switch
    {
        YamlSequenceNode seq => seq.Children,
        YamlScalarNode s => ParseYamlText($"[{s.Value}]", "list") is YamlSequenceNode inner
            ? inner.Children
            : [s],
        _ => [node],
    };

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        YamlScalarNode s => $"'{s.Value}'",
        _ => node.NodeType.ToString(),
    };

    private static object? ToPlain(YamlNode node) => node switch
    {
        YamlMappingNode m => m.Children.ToDictionary(
            kv => ((YamlScalarNode)kv.Key).Value ?? string.Empty, kv => ToPlain(kv.Value),
            StringComparer.Ordinal),
        YamlSequenceNode s => s.Children.Select(ToPlain).ToList(),
        _ when IsNull(node) => null,
        YamlScalarNode s => s.Value,
        _ => null,
    };

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}

/// <summary>An inclusive range of hop counts, e.g. pre-training walks of 3 to 3 hops.</summary>
/// <param name="Min">Fewest hops.</param>
/// <param name="Max">Most hops.</param>
public readonly record struct HopRange(int Min, int Max)
{
    /// <inheritdoc/>
    public override string ToString() => $"({Min},{Max})";
}

/// <summary>A resolved key: its value and where that value came from.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The typed value (long, double, bool, string, string[], int[], map,
/// range).</param>
/// <param name="Origin">"default", a file name or "command line".</param>
public sealed record ConfigEntry(ConfigKey Key, object? Value, string Origin);
