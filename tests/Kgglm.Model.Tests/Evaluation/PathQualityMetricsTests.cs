using Kgglm;
using Kgglm.Evaluation;
using static Kgglm.Tests.Evaluation.MetricsFixture;

namespace Kgglm.Tests.Evaluation;

/// <summary>
/// Path metrics on <see cref="MetricsFixture"/>'s five evaluated paths:
/// <code>
/// u1  p1 [U1, I3 (7), E7 (11), I5]  rels [UI, r2, r2]
///     p2 [U1, I2 (6), E6 (10), I4]  rels [UI, r1, r1]
/// u2  q1 [U2, I1 (5), U1 (1),  I3]  rels [UI, UI, UI]
///     q2 [U2, I1 (5), E6 (10), I2]  rels [UI, r1, r1]
///     q3 [U2, I4 (8), E6 (10), I5]  rels [UI, r1, r1]
/// </code>
/// </summary>
public sealed class PathQualityMetricsTests
{
    const double Tolerance = 1e-12;
    readonly EvaluationInput _input = Default();

    [Fact]
    public void Normalized_ema_matches_pandas_span_n()
    {
        // α = 2/4: EMA of [10, 20, 30] = 10, (20 + 10/2)/1.5, (30 + 25/2)/1.75
        //        = 10, 50/3, 170/7 → min-max [0, (20/3)/(100/7) = 7/15, 1].
        var ema = PathQualityMetrics.NormalizedEma([10, 20, 30]);
        Assert.Equal(0.0, ema[0]);
        Assert.Equal(7.0 / 15, ema[1], Tolerance);
        Assert.Equal(1.0, ema[2]);

        // All equal: replaced by ranks 0, 1 → EMA 0, 1/(4/3) → [0, 1]. One value → 0.
        Assert.Equal([0.0, 1.0], PathQualityMetrics.NormalizedEma([5, 5]));
        Assert.Equal([0.0], PathQualityMetrics.NormalizedEma([7]));

        // α = 2/8 over [2, 2, 2, 2, 3, 3, 4]: EMA 2, 2, 2, 2, 2.32778, 2.53222, 2.95570.
        var degrees = PathQualityMetrics.NormalizedEma([2, 2, 2, 2, 3, 3, 4]);
        double[] expected = [0, 0, 0, 0, 0.34298069721933677, 0.5568979719923116, 1];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], degrees[i], 1e-12);
        }
    }

    [Fact]
    public void Lir_averages_the_recency_of_linking_interactions()
    {
        // u1's train items by time: i1 @10, i2 @20, i3 @30 → LIR 0, 0.466667, 1.
        // u2: i1 @5, i4 @5, equal times → ranks → LIR(i1) 0, LIR(i4) 1.
        // Linking items: p1 i3 1, p2 i2 0.466667, q1 i1 0, q2 i1 0, q3 i4 1 → 2.466667 / 5.
        Assert.Equal(0.49333333333333335, PathQualityMetrics.Lir(_input), Tolerance);
    }

    [Fact]
    public void Lir_needs_timestamps()
    {
        var train = Train(timestamps: false);
        var input = new EvaluationInput(Graph(train), train, Test(), [U1()]);
        var e = Assert.Throws<KgglmException>(() => PathQualityMetrics.Lir(input));
        Assert.Contains("timestamp", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sep_ranks_degrees_within_users_and_within_items_and_entities()
    {
        // Users by degree: u3 1, u2 2, u1 3 → [0, 0.466667, 1].
        // Items/entities in first-appearance order I1 3, I2 3, I3 2, I4 2, E6 4, I5 2, E7 2,
        // stably sorted: I3, I4, I5, E7 (2), I1, I2 (3), E6 (4) → the EMA of the test above.
        var sep = _input.SharedEntityPopularity;
        Assert.Equal(1.0, sep[1]);
        Assert.Equal(7.0 / 15, sep[2], Tolerance);
        Assert.Equal(0.0, sep[3]);
        Assert.Equal(0.34298069721933677, sep[5], 1e-12);     // I1
        Assert.Equal(0.5568979719923116, sep[6], 1e-12);      // I2
        Assert.Equal(1.0, sep[10]);                           // E6
        Assert.Equal(0.0, sep[11]);                           // E7

        // Shared entities: E7 0, E6 1, U1 1, E6 1, E6 1 → 4 / 5.
        Assert.Equal(0.8, PathQualityMetrics.Sep(_input), Tolerance);
    }

    [Fact]
    public void Diversity_metrics_average_over_users_with_paths()
    {
        // LID: u1 {I3, I2} 2/2; u2 {I1, I4} 2/3 → 5/6.
        Assert.Equal(5.0 / 6, PathQualityMetrics.Lid(_input), Tolerance);

        // SED: u1 {E7, E6} 2/2; u2 {U1, E6} 2/3 → 5/6.
        Assert.Equal(5.0 / 6, PathQualityMetrics.Sed(_input), Tolerance);

        // LITD: linking nodes all items: u1 1/2, u2 1/3 → 5/12.
        Assert.Equal(5.0 / 12, PathQualityMetrics.Litd(_input), Tolerance);

        // SETD: u1 {entity} 1/2; u2 {user, entity} 2/3 → 7/12.
        Assert.Equal(7.0 / 12, PathQualityMetrics.Setd(_input), Tolerance);

        // PTD (relation_num 4): u1 {r2, r1} 2/min(2, 4); u2 {UI, r1} 2/min(3, 4) → 5/6.
        Assert.Equal(5.0 / 6, PathQualityMetrics.Ptd(_input), Tolerance);

        // PTC: u1 n = (1, 1): 1 − 0/2 = 1; u2 n = (1, 2): 1 − 2/6 → (1 + 2/3) / 2.
        Assert.Equal(5.0 / 6, PathQualityMetrics.Ptc(_input), Tolerance);

        // PPT (L = 4 nodes + 3 relations = 7): u1 2 patterns / 2; u2 2 / 3 → 5/6.
        Assert.Equal(5.0 / 6, PathQualityMetrics.Ppt(_input), Tolerance);
    }

    [Fact]
    public void Fidelity_divides_paths_by_k_and_caps_the_mean()
    {
        // k=3: (2/3 + 3/3) / 2; k=1: (2 + 3) / 2 capped at 1.
        Assert.Equal(5.0 / 6, PathQualityMetrics.Fidelity(_input, 3), Tolerance);
        Assert.Equal(1.0, PathQualityMetrics.Fidelity(_input, 1));
    }

    [Fact]
    public void Single_paths_and_users_without_paths()
    {
        // Only u2 keeps a path list, of one path: u1 (no recommendation) is left out of the
        // per-user means. PTC of one path is 0, every ratio 1/1.
        var input = Input(new UserRecommendation(2, [2], [Path([2, 5, 10, 6], [Ui, 1, 1])]));
        Assert.Equal(1.0, PathQualityMetrics.Lid(input));
        Assert.Equal(0.0, PathQualityMetrics.Ptc(input));
        Assert.Equal(1.0, PathQualityMetrics.Ppt(input));
        Assert.Equal(1.0 / 3, PathQualityMetrics.Fidelity(input, 3), Tolerance);

        // No paths at all: every metric 0.
        var none = Input();
        Assert.Equal(0.0, PathQualityMetrics.Lir(none));
        Assert.Equal(0.0, PathQualityMetrics.Sep(none));
        Assert.Equal(0.0, PathQualityMetrics.Lid(none));
        Assert.Equal(0.0, PathQualityMetrics.Fidelity(none, 10));
    }

    [Fact]
    public void Evaluator_reports_the_same_value_at_every_k()
    {
        string[] names = ["LIR", "SEP", "LID", "SED", "LITD", "SETD", "PTD", "PTC", "PPT",
            "Fidelity"];
        var results = new Evaluator(names, [1, 3], 4).Evaluate(_input);
        Assert.Equal(0.4933, results["lir@1"]);
        Assert.Equal(0.4933, results["lir@3"]);
        Assert.Equal(0.8, results["sep@3"]);
        Assert.Equal(0.4167, results["litd@3"]);
        Assert.Equal(0.5833, results["setd@3"]);
        Assert.Equal(0.8333, results["ppt@3"]);
        Assert.Equal(1.0, results["fidelity@1"]);
        Assert.Equal(0.8333, results["fidelity@3"]);
        Assert.Equal(20, results.Count);
    }
}
