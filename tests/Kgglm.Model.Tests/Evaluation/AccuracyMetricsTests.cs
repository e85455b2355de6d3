using Kgglm.Evaluation;

namespace Kgglm.Tests.Evaluation;

/// <summary>Per-user accuracy metrics on R(u) = {2, 5, 9}, L = [7, 2, 4, 5].</summary>
public sealed class AccuracyMetricsTests
{
    static readonly int[] Positives = [2, 5, 9];
    static readonly int[] List = [7, 2, 4, 5];
    const double Tolerance = 1e-12;

    [Fact]
    public void Cut_at_three_sees_the_hit_at_rank_two()
    {
        Assert.Equal(1.0, AccuracyMetrics.Hit(Positives, List, 3));
        Assert.Equal(0.5, AccuracyMetrics.Mrr(Positives, List, 3));          // 1 / 2
        Assert.Equal(1.0 / 3, AccuracyMetrics.Recall(Positives, List, 3), Tolerance);
        Assert.Equal(1.0 / 3, AccuracyMetrics.Precision(Positives, List, 3), Tolerance);

        // DCG = 1/log2(3) = 0.630930; IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.130930.
        Assert.Equal(0.2960819109658652, AccuracyMetrics.Ndcg(Positives, List, 3), Tolerance);

        // AP: Precision@2 = 1/2 at the one hit, over min(|R|, k) = 3.
        Assert.Equal(0.5 / 3, AccuracyMetrics.Map(Positives, List, 3), Tolerance);
    }

    [Fact]
    public void K_larger_than_the_list_counts_missing_slots_as_misses()
    {
        Assert.Equal(1.0, AccuracyMetrics.Hit(Positives, List, 10));
        Assert.Equal(0.5, AccuracyMetrics.Mrr(Positives, List, 10));
        Assert.Equal(2.0 / 3, AccuracyMetrics.Recall(Positives, List, 10), Tolerance);

        // Two hits over k = 10 slots, though only 4 are filled.
        Assert.Equal(0.2, AccuracyMetrics.Precision(Positives, List, 10), Tolerance);

        // DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677; IDCG over min(3, 10) = 3 ranks.
        Assert.Equal(0.49818925746641285, AccuracyMetrics.Ndcg(Positives, List, 10), Tolerance);

        // AP = (1/2 + 2/4) / min(3, 10).
        Assert.Equal(1.0 / 3, AccuracyMetrics.Map(Positives, List, 10), Tolerance);
    }

    [Fact]
    public void Empty_and_missing_lists_score_zero()
    {
        int[] empty = [], misses = [1, 3];
        foreach (var list in new[] { empty, misses })
        {
            Assert.Equal(0.0, AccuracyMetrics.Hit(Positives, list, 10));
            Assert.Equal(0.0, AccuracyMetrics.Mrr(Positives, list, 10));
            Assert.Equal(0.0, AccuracyMetrics.Recall(Positives, list, 10));
            Assert.Equal(0.0, AccuracyMetrics.Precision(Positives, list, 10));
            Assert.Equal(0.0, AccuracyMetrics.Ndcg(Positives, list, 10));
            Assert.Equal(0.0, AccuracyMetrics.Map(Positives, list, 10));
        }
    }

    [Fact]
    public void Map_normalises_by_k_when_positives_outnumber_it()
    {
        // k = 1, hit at rank 1: AP = (1/1) / min(3, 1) = 1.
        Assert.Equal(1.0, AccuracyMetrics.Map(Positives, [2, 7], 1));

        // Perfect list of all positives: AP = (1 + 1 + 1) / 3 = 1; NDCG = 1.
        Assert.Equal(1.0, AccuracyMetrics.Map(Positives, [9, 2, 5], 10), Tolerance);
        Assert.Equal(1.0, AccuracyMetrics.Ndcg(Positives, [9, 2, 5], 10), Tolerance);
    }
}
