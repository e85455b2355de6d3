using System.Globalization;
using Kgglm.Configuration;

namespace Kgglm.Tuning;

/// <summary>How a tuned parameter is drawn (hopwise's params-file types).</summary>
public enum ParamKind
{
    /// <summary>One of a list of values: <c>choice [v1,v2,...]</c>.</summary>
    Choice,

    /// <summary>A real number in [low, high]: <c>uniform low,high</c>.</summary>
    Uniform,

    /// <summary><c>round(uniform(low, high) / q) * q</c>: <c>quniform low,high,q</c>.</summary>
    QUniform,

    /// <summary><c>e^uniform(low, high)</c>; low and high are natural-log exponents.</summary>
    LogUniform,
}

/// <summary>
/// One tuned parameter: a config key and the distribution its trial values come from.
/// </summary>
/// <param name="Name">The config key (hopwise name, dotted when nested).</param>
/// <param name="Kind">The distribution.</param>
/// <param name="Choices">Choice: the values as YAML text, in file order.</param>
/// <param name="Low">Uniform kinds: the lower bound (an exponent for LogUniform).</param>
/// <param name="High">Uniform kinds: the upper bound (an exponent for LogUniform).</param>
/// <param name="Q">QUniform: the step.</param>
/// <param name="IsInteger">The key takes integers: numeric draws are rounded.</param>
public sealed record SearchParam(
    string Name, ParamKind Kind, IReadOnlyList<string> Choices, double Low, double High, double Q,
    bool IsInteger)
{
    /// <summary>The value of a numeric draw <paramref name="x"/> (already in the key's space) as
    /// YAML text: integers for integer keys, round-trip doubles otherwise.</summary>
    public string Format(double x)
    {
        if (Kind == ParamKind.QUniform)
        {
            x = Math.Round(x / Q) * Q;
        }

        return IsInteger
            ? ((long)Math.Round(x)).ToString(CultureInfo.InvariantCulture)
            : x.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>The distribution as the params file writes it, for tables.</summary>
    public override string ToString() => Kind switch
    {
        ParamKind.Choice => $"{Name} choice [{string.Join(",", Choices)}]",
        ParamKind.Uniform => Invariant($"{Name} uniform {Low},{High}"),
        ParamKind.QUniform => Invariant($"{Name} quniform {Low},{High},{Q}"),
        _ => Invariant($"{Name} loguniform {Low},{High}"),
    };

    private static string Invariant(FormattableString s) =>
        s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One trial's parameter values (YAML text), in the params file's order.</summary>
/// <param name="Values">(key, value) pairs.</param>
public sealed record ParamSet(IReadOnlyList<KeyValuePair<string, string>> Values)
{
    /// <summary>The value of <paramref name="name"/>.</summary>
    public string this[string name] => Values.First(v => v.Key == name).Value;

    /// <summary>The values as configuration settings that override the fixed ones.</summary>
    public IEnumerable<ConfigOverride> Overrides(string origin) =>
        Values.Select(v => new ConfigOverride(v.Key, v.Value, $"{origin} {v.Key}"));

    /// <summary><c>name=value, ...</c>: how trials are printed and compared.</summary>
    public override string ToString() =>
        string.Join(", ", Values.Select(v => $"{v.Key}={v.Value}"));
}

/// <summary>Every tuned parameter of a study, as read from a params file.</summary>
/// <param name="Params">The parameters in file order.</param>
/// <param name="Source">The file they came from, for messages.</param>
public sealed record SearchSpace(IReadOnlyList<SearchParam> Params, string Source)
{
    /// <summary>True when every parameter is a choice, so the grid is finite.</summary>
    public bool IsGrid => Params.All(p => p.Kind == ParamKind.Choice);

    /// <summary>Combinations of the grid (the product of the choice counts).</summary>
    public long GridSize =>
        Params.Aggregate(1L, (n, p) => checked(n * Math.Max(1, p.Choices.Count)));

    /// <summary>
    /// The <paramref name="index"/>-th grid combination, the last parameter varying fastest (as
    /// nested loops over the file's lines).
    /// </summary>
    public ParamSet GridPoint(long index)
    {
        var values = new KeyValuePair<string, string>[Params.Count];
        for (int i = Params.Count - 1; i >= 0; i--)
        {
            IReadOnlyList<string> c = Params[i].Choices;
            values[i] = new(Params[i].Name, c[(int)(index % c.Count)]);
            index /= c.Count;
        }

        return new ParamSet(values);
    }
}
