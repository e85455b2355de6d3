using Kgglm.Evaluation;
using static Kgglm.Tests.Evaluation.MetricsFixture;

namespace Kgglm.Tests.Evaluation;

/// <summary>
/// Beyond-accuracy metrics on <see cref="MetricsFixture"/>: evaluated users u1 [5, 4] and
/// u2 [3, 2, 5]; N = 6 item ids; pop: i1 2, i2 2, i3 1, i4 1, i5 0.
/// </summary>
public sealed class BeyondAccuracyMetricsTests
{
    const double Tolerance = 1e-12;
    readonly EvaluationInput _input = Default();

    [Fact]
    public void Item_coverage_counts_distinct_items_over_item_num()
    {
        // k=1: {5, 3} → 2/6; k=3: {5, 4, 3, 2} → 4/6 (u3's item 1 is not evaluated).
        Assert.Equal(2.0 / 6, BeyondAccuracyMetrics.ItemCoverage(_input, 1), Tolerance);
        Assert.Equal(4.0 / 6, BeyondAccuracyMetrics.ItemCoverage(_input, 3), Tolerance);
    }

    [Fact]
    public void Average_popularity_divides_by_filled_slots()
    {
        // k=1: (pop 5 + pop 3) / 2 = (0 + 1) / 2.
        Assert.Equal(0.5, BeyondAccuracyMetrics.AveragePopularity(_input, 1), Tolerance);

        // k=3: u1 (0 + 1) / 2 slots = 0.5; u2 (1 + 2 + 0) / 3 = 1; mean 0.75.
        Assert.Equal(0.75, BeyondAccuracyMetrics.AveragePopularity(_input, 3), Tolerance);
    }

    [Fact]
    public void Shannon_entropy_is_divided_by_the_distinct_items()
    {
        // k=1: p = 1/2, 1/2 → H = ln 2, over 2 items.
        Assert.Equal(Math.Log(2) / 2, BeyondAccuracyMetrics.ShannonEntropy(_input, 1), Tolerance);

        // k=3: item 5 twice, 4, 3, 2 once in 5 slots → −(0.4 ln 0.4 + 3 · 0.2 ln 0.2) / 4
        //      = 1.332179 / 4.
        Assert.Equal(0.33304476005253053, BeyondAccuracyMetrics.ShannonEntropy(_input, 3),
            Tolerance);
    }

    [Fact]
    public void Gini_index_weights_sorted_counts_by_their_place_among_all_items()
    {
        // k=1: counts [1, 1], m = 2, N = 6: ((2·5 − 7)·1 + (2·6 − 7)·1) / 2 / 6 = 8 / 12.
        Assert.Equal(8.0 / 12, BeyondAccuracyMetrics.GiniIndex(_input, 1), Tolerance);

        // k=3: counts [1, 1, 1, 2], m = 4: (−1 + 1 + 3 + 5·2) / 5 / 6 = 13 / 30.
        Assert.Equal(13.0 / 30, BeyondAccuracyMetrics.GiniIndex(_input, 3), Tolerance);
    }

    [Fact]
    public void Tail_is_the_least_popular_tenth_of_the_counted_items()
    {
        // Counted items 1..4; cut = max(⌊4 · 0.1⌋, 1) = 1 of (pop, id) order i3, i4, i1, i2.
        var tail = BeyondAccuracyMetrics.TailItems(_input, 0.1);
        Assert.Equal([false, false, false, true, false, false], tail);

        // k=1: u1 [5] 0, u2 [3] 1 → 0.5; k=3: u1 0/2, u2 1/3 → 1/6.
        Assert.Equal(0.5, BeyondAccuracyMetrics.TailPercentage(_input, 1, 0.1), Tolerance);
        Assert.Equal(1.0 / 6, BeyondAccuracyMetrics.TailPercentage(_input, 3, 0.1), Tolerance);

        // ρ > 1 is a count: pop ≤ 1 → items 3, 4 (item 5 has no train count, so no tail).
        // k=3: u1 [5, 4] 1/2, u2 [3, 2, 5] 1/3 → 5/12.
        Assert.Equal(5.0 / 12, BeyondAccuracyMetrics.TailPercentage(_input, 3, 1.5), Tolerance);
    }

    [Fact]
    public void Serendipity_compares_with_the_most_popular_unseen_items()
    {
        // Popularity order (count desc, id desc): 2, 1, 4, 3, 5.
        // K = 3: u1 (history 1, 2, 3) → {4, 5}; u2 (history 1, 4) → {2, 3, 5}: every
        // recommended item is popular → 0 at every k.
        Assert.Equal(0.0, BeyondAccuracyMetrics.Serendipity(_input, 1, 3));
        Assert.Equal(0.0, BeyondAccuracyMetrics.Serendipity(_input, 3, 3));

        // K = 1: u1 {4}: [5, 4] → 1 − 1/2; u2 {2}: [3, 2, 5] → 1 − 1/3; mean 7/12.
        Assert.Equal(7.0 / 12, BeyondAccuracyMetrics.Serendipity(_input, 3, 1), Tolerance);
    }

    [Fact]
    public void Novelty_uses_every_slot_up_to_max_k()
    {
        // min_pop = 0 ([PAD] and i5 have no count), max_pop = 2: novelty = 1 − pop / 2:
        // i5 1, i4 0.5, i3 0.5, i2 0. u1 (1 + 0.5) / 2 = 0.75; u2 (0.5 + 0 + 1) / 3 = 0.5.
        Assert.Equal(0.625, BeyondAccuracyMetrics.Novelty(_input, 3, 3), Tolerance);

        // hopwise ignores k: the same value at k = 1.
        Assert.Equal(0.625, BeyondAccuracyMetrics.Novelty(_input, 1, 3), Tolerance);
    }

    [Fact]
    public void Empty_lists_score_zero()
    {
        var empty = Input(new UserRecommendation(1, [], []));
        Assert.Equal(0.0, BeyondAccuracyMetrics.ItemCoverage(empty, 3));
        Assert.Equal(0.0, BeyondAccuracyMetrics.AveragePopularity(empty, 3));
        Assert.Equal(0.0, BeyondAccuracyMetrics.ShannonEntropy(empty, 3));
        Assert.Equal(0.0, BeyondAccuracyMetrics.GiniIndex(empty, 3));
        Assert.Equal(0.0, BeyondAccuracyMetrics.TailPercentage(empty, 3, 0.1));
        Assert.Equal(0.0, BeyondAccuracyMetrics.Serendipity(empty, 3, 3));
        Assert.Equal(0.0, BeyondAccuracyMetrics.Novelty(empty, 3, 3));
    }

    [Fact]
    public void Evaluator_reports_them_with_k()
    {
        string[] names = ["ItemCoverage", "AveragePopularity", "GiniIndex", "ShannonEntropy",
            "TailPercentage", "Serendipity", "Novelty"];
        var results = new Evaluator(names, [1, 3], 4).Evaluate(_input);
        Assert.Equal(0.3333, results["itemcoverage@1"]);
        Assert.Equal(0.6667, results["itemcoverage@3"]);
        Assert.Equal(0.75, results["averagepopularity@3"]);
        Assert.Equal(0.4333, results["giniindex@3"]);
        Assert.Equal(0.333, results["shannonentropy@3"]);
        Assert.Equal(0.1667, results["tailpercentage@3"]);
        Assert.Equal(0.0, results["serendipity@3"]);
        Assert.Equal(0.625, results["novelty@1"]);
        Assert.Equal(14, results.Count);
    }
}
