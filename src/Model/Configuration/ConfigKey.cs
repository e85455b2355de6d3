using System.Globalization;

namespace Kgglm.Configuration;

/// <summary>What kind of value a configuration key takes.</summary>
public enum ConfigKind
{
    /// <summary>A whole number within [Min, Max].</summary>
    Int,

    /// <summary>A real number within [Min, Max].</summary>
    Float,

    /// <summary>true / false.</summary>
    Bool,

    /// <summary>Free text.</summary>
    String,

    /// <summary>One of <see cref="ConfigKey.Choices"/> (case-sensitive, as hopwise).</summary>
    Choice,

    /// <summary>A list of strings, e.g. <c>[Recall, NDCG]</c>.</summary>
    StringList,

    /// <summary>A list of whole numbers, e.g. <c>[10, 20]</c>.</summary>
    IntList,

    /// <summary>A nested mapping kept whole (replaced, not merged), e.g. <c>load_col</c>.</summary>
    Map,

    /// <summary>
    /// A hop range written <c>"(min,max)"</c>, as hopwise's <c>pretrain_hop_length</c>.
    /// </summary>
    Range,
}

/// <summary>
/// One configuration key: its hopwise name (dotted for nested keys, e.g.
/// <c>path_sample_args.strategy</c>), kind, default, bounds and meaning.
/// </summary>
/// <param name="Name">The hopwise key; nested keys are dotted.</param>
/// <param name="Kind">The value's kind.</param>
/// <param name="Default">The default as YAML text (<c>null</c> for no value).</param>
/// <param name="Doc">What the key does, for the CLI reference.</param>
public sealed record ConfigKey(string Name, ConfigKind Kind, string? Default, string Doc)
{
    /// <summary>Smallest allowed value (Int, Float, IntList elements).</summary>
    public double Min { get; init; } = double.NegativeInfinity;

    /// <summary>Largest allowed value (Int, Float, IntList elements).</summary>
    public double Max { get; init; } = double.PositiveInfinity;

    /// <summary>
    /// True when the lower bound itself is excluded (e.g. a learning rate &gt; 0).
    /// </summary>
    public bool MinExclusive { get; init; }

    /// <summary>Allowed values of a <see cref="ConfigKind.Choice"/> key.</summary>
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>True when <c>null</c> / <c>~</c> / <c>None</c> is allowed.</summary>
    public bool Nullable { get; init; }

    /// <summary>Which printed group the key belongs to.</summary>
    public string Group { get; init; } = "General";

    /// <summary>The command-line spelling: kebab-case of the last dotted part.</summary>
    public string OptionName => "--" + Name[(Name.LastIndexOf('.') + 1)..]
        .Replace('_', '-').ToLowerInvariant();

    /// <summary>What the key expects, for error messages.</summary>
    public string Expectation => Kind switch
    {
        ConfigKind.Int => "an integer" + RangeText(),
        ConfigKind.Float => "a number" + RangeText(),
        ConfigKind.Bool => "true or false",
        ConfigKind.String => "a string",
        ConfigKind.Choice => "one of " + string.Join(", ", Choices),
        ConfigKind.StringList => "a list of strings like [a, b]",
        ConfigKind.IntList => "a list of integers like [10, 20]" + RangeText(),
        ConfigKind.Map => "a mapping",
        ConfigKind.Range => "a range \"(min,max)\" of integers" + RangeText(),
        _ => Kind.ToString(),
    } + (Nullable ? " (or null)" : string.Empty);

    private string RangeText()
    {
        bool hasMin = !double.IsNegativeInfinity(Min);
        bool hasMax = !double.IsPositiveInfinity(Max);
        string min = Min.ToString(CultureInfo.InvariantCulture);
        string max = Max.ToString(CultureInfo.InvariantCulture);
        string lower = MinExclusive ? ">" : "≥";
        return (hasMin, hasMax) switch
        {
            (true, true) => $" in [{min}, {max}]".Replace("[", MinExclusive ? "(" : "[",
                StringComparison.Ordinal),
            (true, false) => $" {lower} {min}",
            (false, true) => $" ≤ {max}",
            _ => string.Empty,
        };
    }
}
