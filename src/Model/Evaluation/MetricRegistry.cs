using Kgglm.Configuration;

namespace Kgglm.Evaluation;

/// <summary>The family a metric belongs to (SPEC §7).</summary>
public enum MetricKind
{
    /// <summary>Ranking accuracy against the split's positives.</summary>
    Accuracy,

    /// <summary>Properties of the recommended lists beyond accuracy (popularity, diversity).
    /// </summary>
    BeyondAccuracy,

    /// <summary>Properties of the explanation paths.</summary>
    PathQuality,
}

/// <summary>What one metric needs besides the k it is reported at.</summary>
/// <param name="Input">Graph, train data, positives and recommendations.</param>
/// <param name="MaxK">The largest configured cut-off (hopwise's <c>max(topk)</c>).</param>
/// <param name="TailRatio">hopwise's <c>tail_ratio</c> for TailPercentage.</param>
public sealed record MetricContext(EvaluationInput Input, int MaxK, double TailRatio);

/// <summary>One metric as it is named in <c>metrics:</c> and computed.</summary>
/// <param name="Name">hopwise's spelling, e.g. <c>NDCG</c>.</param>
/// <param name="Kind">Its family.</param>
/// <param name="SmallerIsBetter">True where hopwise marks the metric <c>smaller</c>.</param>
/// <param name="Compute">The value at cut-off k, averaged as the metric defines, not rounded.
/// </param>
public sealed record MetricInfo(
    string Name, MetricKind Kind, bool SmallerIsBetter, Func<MetricContext, int, double> Compute)
{
    /// <summary>The result key at cut-off <paramref name="k"/>: <c>ndcg@10</c>.</summary>
    public string Key(int k) => $"{Name.ToLowerInvariant()}@{k}";
}

/// <summary>
/// Every metric Kgglm computes, looked up by name case-insensitively (hopwise lower-cases the
/// names of <c>metrics:</c>).
/// </summary>
public static class MetricRegistry
{
    static readonly MetricInfo[] All =
    [
        Accuracy("Recall", AccuracyMetrics.Recall),
        Accuracy("MRR", AccuracyMetrics.Mrr),
        Accuracy("NDCG", AccuracyMetrics.Ndcg),
        Accuracy("Hit", AccuracyMetrics.Hit),
        Accuracy("Precision", AccuracyMetrics.Precision),
        Accuracy("MAP", AccuracyMetrics.Map),

        new("ItemCoverage", MetricKind.BeyondAccuracy, false,
            (c, k) => BeyondAccuracyMetrics.ItemCoverage(c.Input, k)),
        new("AveragePopularity", MetricKind.BeyondAccuracy, true,
            (c, k) => BeyondAccuracyMetrics.AveragePopularity(c.Input, k)),
        new("GiniIndex", MetricKind.BeyondAccuracy, true,
            (c, k) => BeyondAccuracyMetrics.GiniIndex(c.Input, k)),
        new("ShannonEntropy", MetricKind.BeyondAccuracy, false,
            (c, k) => BeyondAccuracyMetrics.ShannonEntropy(c.Input, k)),
        new("TailPercentage", MetricKind.BeyondAccuracy, false,
            (c, k) => BeyondAccuracyMetrics.TailPercentage(c.Input, k, c.TailRatio)),
        new("Serendipity", MetricKind.BeyondAccuracy, false,
            (c, k) => BeyondAccuracyMetrics.Serendipity(c.Input, k, c.MaxK)),
        new("Novelty", MetricKind.BeyondAccuracy, false,
            (c, k) => BeyondAccuracyMetrics.Novelty(c.Input, k, c.MaxK)),

        Path("LIR", PathQualityMetrics.Lir),
        Path("SEP", PathQualityMetrics.Sep),
        Path("LID", PathQualityMetrics.Lid),
        Path("SED", PathQualityMetrics.Sed),
        Path("LITD", PathQualityMetrics.Litd),
        Path("SETD", PathQualityMetrics.Setd),
        Path("PTD", PathQualityMetrics.Ptd),
        Path("PTC", PathQualityMetrics.Ptc),
        Path("PPT", PathQualityMetrics.Ppt),
        new("Fidelity", MetricKind.PathQuality, false,
            (c, k) => PathQualityMetrics.Fidelity(c.Input, k)),
    ];

    /// <summary>Every metric in hopwise's spelling, accuracy first.</summary>
    public static IReadOnlyList<MetricInfo> Metrics => All;

    /// <summary>The metric named <paramref name="name"/> (any case), false when unknown.</summary>
    public static bool TryGet(string name, out MetricInfo metric)
    {
        ArgumentNullException.ThrowIfNull(name);
        metric = All.FirstOrDefault(m =>
            string.Equals(m.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))!;
        return metric is not null;
    }

    /// <summary>
    /// The metric named <paramref name="name"/>; an unknown one is a
    /// <see cref="ConfigException"/> naming it and listing the known names.
    /// </summary>
    public static MetricInfo Get(string name) => TryGet(name, out var metric) ? metric
        : throw new ConfigException($"key 'metrics': unknown metric '{name}'; known metrics: " +
            string.Join(", ", All.Select(m => m.Name)));

    static MetricInfo Accuracy(string name, PerUserMetric perUser) =>
        new(name, MetricKind.Accuracy, false, (c, k) =>
        {
            // Users without recommendations have an empty list: every metric scores it 0.
            var input = c.Input;
            double sum = 0;
            foreach (int u in input.EvaluatedUsers)
            {
                sum += perUser(input.Positives[u], input.ItemsOf(u), k);
            }
            return input.EvaluatedUsers.Length == 0 ? 0 : sum / input.EvaluatedUsers.Length;
        });

    // Path-quality values do not depend on k (hopwise reports the same value at every k).
    static MetricInfo Path(string name, Func<EvaluationInput, double> compute) =>
        new(name, MetricKind.PathQuality, false, (c, _) => compute(c.Input));

    delegate double PerUserMetric(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k);
}
