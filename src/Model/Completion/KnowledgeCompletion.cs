using Kgglm.Configuration;
using Kgglm.Data;

namespace Kgglm.Completion;

/// <summary>
/// The dataset as the link-prediction task sees it: the KG split made (or read from the
/// dataset's <c>.kg_train/.kg_valid/.kg_test</c> files) and the triples and graph restricted to
/// its train side, so that pre-training walks, fine-tuning paths and banned tails never contain
/// a valid or test triple. Recommendation leaves the dataset as loaded.
/// </summary>
public static class KnowledgeCompletion
{
    /// <summary>
    /// The dataset for the task of <paramref name="config"/>: unchanged for recommendation or
    /// when it already carries a split, else <see cref="Dataset.ForLinkPrediction"/> of the split
    /// made with the config's <c>kg_split</c> and <c>seed</c>.
    /// </summary>
    public static Dataset Prepare(Dataset dataset, ResolvedConfig config)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(config);
        TaskConfig task = TaskConfig.From(config);
        if (task.Task != DownstreamTask.LinkPrediction || dataset.KgSplit is not null)
        {
            return dataset;
        }

        KgSplit split = KgSplit.For(dataset, task.KgSplit, config.Int("seed"));
        return dataset.ForLinkPrediction(split);
    }
}
