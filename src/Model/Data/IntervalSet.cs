using System.Globalization;

namespace Kgglm.Data;

/// <summary>One interval of an <see cref="IntervalSet"/>; infinite bounds are ±∞.</summary>
/// <param name="Low">Lower bound.</param>
/// <param name="LowInclusive">True for <c>[</c>, false for <c>(</c>.</param>
/// <param name="High">Upper bound.</param>
/// <param name="HighInclusive">True for <c>]</c>, false for <c>)</c>.</param>
public readonly record struct Interval(
    double Low, bool LowInclusive, double High, bool HighInclusive)
{
    /// <summary>True when <paramref name="value"/> lies in the interval (NaN never does).</summary>
    public bool Contains(double value) =>
        (LowInclusive ? value >= Low : value > Low)
        && (HighInclusive ? value <= High : value < High);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(LowInclusive ? '[' : '(')}{Bound(Low)},{Bound(High)}{(HighInclusive ? ']' : ')')}");

    static string Bound(double x) => double.IsPositiveInfinity(x) ? "inf"
        : double.IsNegativeInfinity(x) ? "-inf" : x.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// A union of intervals in hopwise's syntax: <c>"[3,inf)"</c>, <c>"(0,10];[20,30)"</c>; brackets
/// <c>[ ]</c> include the bound, <c>( )</c> exclude it, <c>inf</c> / <c>-inf</c> are infinite.
/// </summary>
public sealed record IntervalSet(IReadOnlyList<Interval> Intervals)
{
    /// <summary>True when any interval contains <paramref name="value"/>.</summary>
    public bool Contains(double value)
    {
        foreach (var interval in Intervals)
        {
            if (interval.Contains(value))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Parses hopwise's interval syntax; throws <see cref="FormatException"/>.</summary>
    public static IntervalSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var intervals = new List<Interval>();
        foreach (var raw in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var part = raw.Trim();
            int comma = part.IndexOf(',', StringComparison.Ordinal);
            if (part.Length < 5 || comma < 0 || part[0] is not ('[' or '(')
                || part[^1] is not (']' or ')'))
            {
                throw new FormatException(
                    $"interval: expected '[low,high)' with [ ( ) ], found '{part}' in '{text}'");
            }
            double low = ParseBound(part[1..comma], text);
            double high = ParseBound(part[(comma + 1)..^1], text);
            if (low > high)
            {
                throw new FormatException(
                    $"interval: expected low <= high, found '{part}' in '{text}'");
            }
            intervals.Add(new Interval(low, part[0] == '[', high, part[^1] == ']'));
        }
        if (intervals.Count == 0)
        {
            throw new FormatException($"interval: expected at least one interval, found '{text}'");
        }
        return new IntervalSet(intervals);
    }

    static double ParseBound(string s, string text)
    {
        s = s.Trim();
        if (s is "inf" or "+inf")
        {
            return double.PositiveInfinity;
        }
        if (s == "-inf")
        {
            return double.NegativeInfinity;
        }
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double x))
        {
            return x;
        }
        throw new FormatException($"interval: expected a number or inf, found '{s}' in '{text}'");
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join(';', Intervals);
}
