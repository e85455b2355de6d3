using System.Globalization;

namespace Kgglm.Configuration;

/// <summary>The downstream task a model is fine-tuned and evaluated for.</summary>
public enum DownstreamTask
{
    /// <summary>Items for users by constrained path generation (hopwise's only task).</summary>
    Recommendation,

    /// <summary>Knowledge completion: tail prediction on a held-out split of the triples.</summary>
    LinkPrediction,
}

/// <summary>The task keys (<c>task</c>, <c>kg_split</c>).</summary>
/// <param name="Task">Recommendation (default) or link prediction.</param>
/// <param name="KgSplit">Train / valid / test ratios of the seeded triple split
/// (<c>kg_split</c>, [0.8, 0.1, 0.1]); unused when the dataset ships its split files.</param>
public sealed record TaskConfig(DownstreamTask Task, IReadOnlyList<double> KgSplit)
{
    /// <summary>The <c>task</c> value of link prediction.</summary>
    public const string LinkPredictionName = "link-prediction";

    /// <summary>Reads and checks the task keys.</summary>
    public static TaskConfig From(ResolvedConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        DownstreamTask task = c.String("task") == LinkPredictionName
            ? DownstreamTask.LinkPrediction
            : DownstreamTask.Recommendation;
        IReadOnlyList<string> texts = c.Strings("kg_split");
        var ratios = new double[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            if (!double.TryParse(texts[i], NumberStyles.Float, CultureInfo.InvariantCulture,
                    out ratios[i]) || ratios[i] < 0 || !double.IsFinite(ratios[i]))
            {
                throw new ConfigException(
                    $"key 'kg_split': expected non-negative numbers, found '{texts[i]}' " +
                    $"({c.Origin("kg_split")})");
            }
        }

        if (ratios.Length != 3 || ratios[0] <= 0 || ratios[2] <= 0)
        {
            throw new ConfigException(
                "key 'kg_split': expected three ratios [train, valid, test] with train and test " +
                $"above 0, found [{string.Join(", ", texts)}] ({c.Origin("kg_split")})");
        }

        return new TaskConfig(task, ratios);
    }
}
