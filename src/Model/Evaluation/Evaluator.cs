using Kgglm.Configuration;

namespace Kgglm.Evaluation;

/// <summary>
/// Computes the configured metrics at every configured cut-off, averaged over the evaluated
/// users and rounded as hopwise rounds them. Results are ordered as hopwise orders them: metric
/// by metric in <c>metrics</c> order, each at every k in <c>topk</c> order.
/// </summary>
public sealed class Evaluator
{
    /// <summary>
    /// The evaluator of <paramref name="config"/> (metrics, topk, metric_decimal_place);
    /// <paramref name="tailRatio"/> is hopwise's <c>tail_ratio</c>.
    /// </summary>
    public Evaluator(EvaluationConfig config,
        double tailRatio = BeyondAccuracyMetrics.DefaultTailRatio)
        : this(CheckNotNull(config).Metrics, config.TopK, config.DecimalPlaces, tailRatio)
    {
    }

    /// <summary>
    /// The evaluator of <paramref name="metrics"/> (hopwise names, any case; repeats ignored)
    /// at cut-offs <paramref name="topK"/>, rounded to <paramref name="decimalPlaces"/>. Throws
    /// <see cref="ConfigException"/> on an unknown metric or a bad cut-off or rounding.
    /// </summary>
    public Evaluator(IReadOnlyList<string> metrics, IReadOnlyList<int> topK, int decimalPlaces,
        double tailRatio = BeyondAccuracyMetrics.DefaultTailRatio)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(topK);
        if (metrics.Count == 0)
        {
            throw new ConfigException("key 'metrics': expected at least one metric");
        }
        if (topK.Count == 0 || topK.Any(k => k < 1))
        {
            throw new ConfigException($"key 'topk' ([{string.Join(", ", topK)}]): expected " +
                "one or more cut-offs ≥ 1");
        }
        if (decimalPlaces is < 0 or > 15)
        {
            throw new ConfigException($"key 'metric_decimal_place' ({decimalPlaces}): expected " +
                "0..15");
        }
        Metrics = metrics.Select(MetricRegistry.Get).Distinct().ToArray();
        TopK = topK.Distinct().ToArray();
        DecimalPlaces = decimalPlaces;
        TailRatio = tailRatio;
    }

    /// <summary>The metrics computed, in configuration order.</summary>
    public IReadOnlyList<MetricInfo> Metrics { get; }

    /// <summary>The cut-offs, in configuration order.</summary>
    public IReadOnlyList<int> TopK { get; }

    /// <summary>Decimal places of the reported values.</summary>
    public int DecimalPlaces { get; }

    /// <summary>hopwise's <c>tail_ratio</c>.</summary>
    public double TailRatio { get; }

    /// <summary>Every metric at every cut-off, keyed <c>name@k</c> in lower case.</summary>
    public MetricResults Evaluate(EvaluationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var context = new MetricContext(input, TopK.Max(), TailRatio);
        var results = new MetricResults();
        foreach (var metric in Metrics)
        {
            foreach (int k in TopK)
            {
                results.Add(metric.Key(k), Round(metric.Compute(context, k), DecimalPlaces));
            }
        }
        return results;
    }

    /// <summary>
    /// numpy's <c>round(x, d)</c>, which hopwise applies to every metric: <c>rint(x · 10^d) /
    /// 10^d</c>, halves to even. It differs from Python's exact <c>round</c> only where
    /// x · 10^d rounds onto a half: 2.675 · 100 is 267.5 in binary, so 2.68 (Python: 2.67).
    /// </summary>
    public static double Round(double value, int decimals)
    {
        double scale = Math.Pow(10, decimals);
        return Math.Round(value * scale, MidpointRounding.ToEven) / scale;
    }

    static EvaluationConfig CheckNotNull(EvaluationConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config;
    }
}
