using Kgglm.Configuration;
using Kgglm.Decoding;

namespace Kgglm.Evaluation;

/// <summary>
/// Evaluates a recommender on a split: decode every user of the split (history masked: train
/// for valid, train ∪ valid for test), then the metrics of SPEC §7 on the ranked lists and
/// their explanation paths.
/// </summary>
public static class RecommendationEvaluation
{
    /// <summary>Decoder options from the generation keys.</summary>
    /// <remarks>hopwise decodes <c>eval_batch_size</c> (4096) users at once; the decoder's
    /// logits buffer holds users × beams × V floats, so at most 32 users go together.</remarks>
    public static DecodeOptions Options(GenerationConfig g, EvaluationConfig e) => new(
        g.NumBeams, g.NumBeamGroups, g.DiversityPenalty, g.PathsPerUser,
        g.Postprocessor == "BeamSearch" ? PathScoring.BeamSearch : PathScoring.Cumulative,
        Math.Clamp(e.EvalBatchSize, 1, 32));

    /// <summary>
    /// A note when <paramref name="topk"/> asks for more items than decoding can return: each
    /// returned path gives at most one item, so a list holds at most <c>paths_per_user</c>
    /// items and the missing slots count as misses. Null when there is nothing to say.
    /// </summary>
    public static string? TopKNote(GenerationConfig g, int topk) =>
        topk <= g.PathsPerUser
            ? null
            : $"note: top-{topk} lists need {topk} paths per user but paths_per_user is " +
              $"{g.PathsPerUser}, so each list holds at most {g.PathsPerUser} items and the " +
              "rest count as misses; raise path_generation_args.paths_per_user (and num_beams)";

    /// <summary>Decodes and scores <paramref name="split"/>.</summary>
    /// <returns>The rounded metrics and the recommendations behind them.</returns>
    public static (MetricResults Metrics, IReadOnlyList<UserRecommendations> Recommendations) Run(
        Recommender recommender, EvaluationSplit split, EvaluationConfig config)
    {
        var evaluator = new Evaluator(config);
        int topk = config.TopK.Max();
        IReadOnlyList<UserRecommendations> decoded = recommender.RecommendAll(
            split == EvaluationSplit.Valid ? RecommendationSplit.Valid : RecommendationSplit.Test,
            topk);
        var lists = decoded.Select(ToEvaluation).ToList();
        var input = new EvaluationInput(recommender.Dataset, split, lists);
        return (evaluator.Evaluate(input), decoded);
    }

    /// <summary>The metrics' view of one user's decoded recommendations.</summary>
    public static UserRecommendation ToEvaluation(UserRecommendations r) => new(
        r.User,
        r.Items.Select(i => i.Item).ToList(),
        r.Items.Select(i => new RecommendedPath(i.Path.Nodes, i.Path.Relations, i.Path.Score))
            .ToList());
}
