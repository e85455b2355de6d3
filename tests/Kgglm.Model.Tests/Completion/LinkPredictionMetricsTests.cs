using Kgglm.Completion;

namespace Kgglm.Tests.Completion;

/// <summary>Filtered tail-prediction metrics on rankings computed by hand.</summary>
public sealed class LinkPredictionMetricsTests
{
    // Candidates 0..4 by score: 0 (0.9), 2 (0.7), 1 (0.5), 4 (0.3), 3 (0.1).
    private static readonly float[] Scores = [0.9f, 0.5f, 0.7f, 0.1f, 0.3f];

    [Fact]
    public void One_true_tail_is_ranked_by_the_candidates_above_it()
    {
        QueryRanking q = LinkPredictionMetrics.Rank(Scores, [], [2]);
        Assert.Equal(new QueryRanking(2, 0b10, 1), q);
        var m = new LinkPredictionMetrics();
        m.Add(q);
        var r = m.Results();
        Assert.Equal(0.5, r["mrr"]);
        Assert.Equal(0.5, r["mrr@10"]);
        Assert.Equal(0, r["hit@1"]);
        Assert.Equal(1, r["hit@3"]);
        Assert.Equal(2, r["mean_rank"]);
        Assert.Equal(Math.Round(1 / Math.Log2(3), 4), r["ndcg@10"]);
    }

    [Fact]
    public void Banned_candidates_leave_the_ranking_but_a_banned_truth_stays()
    {
        Assert.Equal(1, LinkPredictionMetrics.Rank(Scores, [0], [2]).FirstHitRank);
        Assert.Equal(1, LinkPredictionMetrics.Rank(Scores, [0], [0]).FirstHitRank);
        Assert.Equal(3, LinkPredictionMetrics.Rank(Scores, [1], [4]).FirstHitRank);
    }

    [Fact]
    public void Several_true_tails_give_the_first_hit_and_every_hit_of_the_top_10()
    {
        // Ban 0: order 2, 1, 4, 3; truths 1 and 3 at ranks 2 and 4.
        QueryRanking q = LinkPredictionMetrics.Rank(Scores, [0], [3, 1]);
        Assert.Equal(new QueryRanking(2, 0b1010, 2), q);
        var m = new LinkPredictionMetrics();
        m.Add(q);
        double ideal = 1 + (1 / Math.Log2(3));
        double dcg = (1 / Math.Log2(3)) + (1 / Math.Log2(5));
        Assert.Equal(Math.Round(dcg / ideal, 4), m.Results()["ndcg@10"]);
    }

    [Fact]
    public void Ties_go_to_the_lower_candidate_index()
    {
        float[] flat = [1f, 1f, 1f, 1f];
        Assert.Equal(3, LinkPredictionMetrics.Rank(flat, [], [2]).FirstHitRank);
        Assert.Equal(2, LinkPredictionMetrics.Rank(flat, [0], [2]).FirstHitRank);
    }

    [Fact]
    public void Averages_over_queries_and_mrr_at_10_drops_late_hits()
    {
        // Twelve candidates, truth last: rank 12 (outside the top 10).
        float[] many = Enumerable.Range(0, 12).Select(i => 12f - i).ToArray();
        var m = new LinkPredictionMetrics();
        m.Add(LinkPredictionMetrics.Rank(many, [], [0]));
        m.Add(LinkPredictionMetrics.Rank(many, [], [1]));
        m.Add(LinkPredictionMetrics.Rank(many, [], [11]));
        var r = m.Results(6);
        Assert.Equal(3, m.Queries);
        Assert.Equal(Math.Round((1 + 0.5 + (1 / 12.0)) / 3, 6), r["mrr"]);
        Assert.Equal(Math.Round(1.5 / 3, 6), r["mrr@10"]);
        Assert.Equal(Math.Round(1 / 3.0, 6), r["hit@1"]);
        Assert.Equal(Math.Round(2 / 3.0, 6), r["hit@10"]);
        Assert.Equal(5, r["mean_rank"]);
        Assert.Equal(Math.Round((1 + (1 / Math.Log2(3))) / 3, 6), r["ndcg@10"]);
    }

    [Fact]
    public void A_query_without_true_tails_is_refused() =>
        Assert.Throws<ArgumentException>(() => LinkPredictionMetrics.Rank(Scores, [], []));
}
