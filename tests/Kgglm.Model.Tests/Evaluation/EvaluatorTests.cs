using Kgglm.Configuration;
using Kgglm.Evaluation;
using static Kgglm.Tests.Evaluation.MetricsFixture;

namespace Kgglm.Tests.Evaluation;

/// <summary>The evaluator on <see cref="MetricsFixture"/>: averaging, order, rounding, errors.
/// </summary>
public sealed class EvaluatorTests
{
    static readonly string[] Accuracy = ["Recall", "MRR", "NDCG", "Hit", "Precision", "MAP"];

    [Fact]
    public void Accuracy_metrics_average_over_users_with_positives_in_config_order()
    {
        var results = new Evaluator(Accuracy, [1, 3], 4).Evaluate(Default());

        // u1: R = {4, 5}, L = [5, 4]    k=1: hit@1; k=3: hits at 1, 2
        // u2: R = {2},    L = [3, 2, 5] k=1: miss;  k=3: hit at 2
        // u3 has no positives: not evaluated although it has a list. n = 2.
        var expected = new (string, double)[]
        {
            ("recall@1", 0.25),       // (1/2 + 0) / 2
            ("recall@3", 1.0),        // (2/2 + 1/1) / 2
            ("mrr@1", 0.5),           // (1 + 0) / 2
            ("mrr@3", 0.75),          // (1 + 1/2) / 2
            ("ndcg@1", 0.5),          // (1/1 + 0) / 2
            ("ndcg@3", 0.8155),       // (1 + (1/log2 3) / 1) / 2 = 0.815465
            ("hit@1", 0.5),
            ("hit@3", 1.0),
            ("precision@1", 0.5),     // (1/1 + 0/1) / 2
            ("precision@3", 0.5),     // (2/3 + 1/3) / 2
            ("map@1", 0.5),           // (1/min(2,1) + 0) / 2
            ("map@3", 0.75),          // ((1 + 2/2)/min(2,3) + (1/2)/min(1,3)) / 2
        };
        Assert.Equal(expected.Select(e => e.Item1), results.Keys);
        foreach (var (key, value) in expected)
        {
            Assert.Equal(value, results[key]);
        }
    }

    [Fact]
    public void Users_without_positives_are_ignored_and_users_without_lists_score_zero()
    {
        var evaluator = new Evaluator(["Recall", "NDCG"], [3], 4);
        var all = evaluator.Evaluate(Default());
        var withoutU3 = evaluator.Evaluate(Input(U1(), U2()));
        Assert.Equal(all, withoutU3);

        // u2 without a list still counts: recall@3 = (1 + 0) / 2, ndcg@3 = (1 + 0) / 2.
        var withoutU2 = evaluator.Evaluate(Input(U1(), U3()));
        Assert.Equal(0.5, withoutU2["recall@3"]);
        Assert.Equal(0.5, withoutU2["ndcg@3"]);

        // Nobody has a list: every value is 0.
        Assert.All(evaluator.Evaluate(Input()).Values, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Values_are_rounded_to_the_configured_places()
    {
        // ndcg@3 = 0.8154648767857288.
        Assert.Equal(0.82, new Evaluator(["NDCG"], [3], 2).Evaluate(Default())["ndcg@3"]);
        Assert.Equal(1.0, new Evaluator(["NDCG"], [3], 0).Evaluate(Default())["ndcg@3"]);
        Assert.Equal(0.815465, new Evaluator(["NDCG"], [3], 6).Evaluate(Default())["ndcg@3"]);

        // numpy's rule: rint(x · 10^d) / 10^d, halves to even; 2.675 · 100 is exactly 267.5
        // in binary, so 2.68 (Python's exact round says 2.67).
        Assert.Equal(0.12, Evaluator.Round(0.125, 2));
        Assert.Equal(0.38, Evaluator.Round(0.375, 2));
        Assert.Equal(2.68, Evaluator.Round(2.675, 2));
        Assert.Equal(0.0312, Evaluator.Round(0.03125, 4));
    }

    [Fact]
    public void Names_are_case_insensitive_and_repeats_are_dropped()
    {
        var evaluator = new Evaluator(["ndcg", "NDCG", "hit"], [3, 3], 4);
        Assert.Equal(["ndcg@3", "hit@3"], evaluator.Evaluate(Default()).Keys);
    }

    [Fact]
    public void Unknown_metric_names_itself_and_the_known_ones()
    {
        var e = Assert.Throws<ConfigException>(() => new Evaluator(["Recall", "nDCGG"], [10], 4));
        Assert.Contains("'nDCGG'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'metrics'", e.Message, StringComparison.Ordinal);
        foreach (var metric in MetricRegistry.Metrics)
        {
            Assert.Contains(metric.Name, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Bad_cut_offs_and_rounding_are_config_errors()
    {
        Assert.Throws<ConfigException>(() => new Evaluator(["Recall"], [0], 4));
        Assert.Throws<ConfigException>(() => new Evaluator(["Recall"], [], 4));
        Assert.Throws<ConfigException>(() => new Evaluator(["Recall"], [10], -1));
        Assert.Throws<ConfigException>(() => new Evaluator([], [10], 4));
    }

    [Fact]
    public void Config_record_drives_the_evaluator()
    {
        var config = new EvaluationConfig(["Hit", "Precision"], [1, 3], "hit@3", 4, 4096);
        var results = new Evaluator(config).Evaluate(Default());
        Assert.Equal(["hit@1", "hit@3", "precision@1", "precision@3"], results.Keys);
    }

    [Fact]
    public void Malformed_recommendations_are_refused()
    {
        // Two items, one path.
        Assert.Throws<ArgumentException>(() => Input(new UserRecommendation(1, [5, 4],
            [Path([1, 7, 11, 9], [Ui, 2, 2])])));

        // The path ends on item 4, the list says item 5.
        Assert.Throws<ArgumentException>(() => Input(new UserRecommendation(1, [5],
            [Path([1, 6, 10, 8], [Ui, 1, 1])])));

        // The path starts at user 2.
        Assert.Throws<ArgumentException>(() => Input(new UserRecommendation(1, [5],
            [Path([2, 8, 10, 9], [Ui, 1, 1])])));

        // A repeated item, the [PAD] item, a repeated user, an unknown relation.
        Assert.Throws<ArgumentException>(() => Input(new UserRecommendation(1, [5, 5],
            [Path([1, 7, 11, 9], [Ui, 2, 2]), Path([1, 7, 11, 9], [Ui, 2, 2])])));
        Assert.Throws<ArgumentException>(() => Input(new UserRecommendation(1, [0],
            [Path([1, 7, 11, 4], [Ui, 2, 2])])));
        Assert.Throws<ArgumentException>(() => Input(U1(), U1()));
        Assert.Throws<ArgumentException>(() => Input(new UserRecommendation(1, [5],
            [Path([1, 7, 11, 9], [Ui, 2, 9])])));
    }
}
