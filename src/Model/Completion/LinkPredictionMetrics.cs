using Kgglm.Evaluation;

namespace Kgglm.Completion;

/// <summary>The ranking of one (head, relation) query.</summary>
/// <param name="FirstHitRank">1-based rank of the best-ranked true tail among the allowed
/// candidates (banned ones removed).</param>
/// <param name="TopHits">Hit vector of the first 10 ranks (bit i: rank i + 1 is a true
/// tail).</param>
/// <param name="Truths">Distinct true tails of the query.</param>
public readonly record struct QueryRanking(int FirstHitRank, int TopHits, int Truths);

/// <summary>
/// Filtered tail-prediction metrics, averaged over queries (one per distinct (head, relation)
/// of the split, all its true tails ranked together, as the KGGLM paper's evaluation does).
/// <para>
/// Candidates are ordered by score, descending, ties by candidate index ascending (so a run is
/// deterministic); banned candidates (the known train tails, never a true tail) are removed.
/// With f the rank of the first true tail and h the hit vector of ranks 1..10:
/// <c>mrr</c> = 1/f; <c>mrr@10</c> = 1/f when f ≤ 10, else 0 (the paper's "MRR");
/// <c>hit@k</c> = [f ≤ k]; <c>mean_rank</c> = f (over the full ranking, so always defined);
/// <c>ndcg@10</c> = Σ_i h_i / log2(i + 1) over the ideal Σ_{i ≤ min(|T|, 10)} 1 / log2(i + 1)
/// (the standard ideal, as SPEC §7; the paper's ideal counts only the hits found).
/// </para>
/// </summary>
public sealed class LinkPredictionMetrics
{
    /// <summary>Ranks whose hits <see cref="QueryRanking.TopHits"/> records.</summary>
    public const int TopK = 10;

    private double _reciprocal, _reciprocalAt10, _rank, _ndcg;
    private long _hit1, _hit3, _hit10;

    /// <summary>Queries added.</summary>
    public int Queries { get; private set; }

    /// <summary>
    /// Ranks one query. <paramref name="scores"/> holds one score per candidate;
    /// <paramref name="banned"/> and <paramref name="truths"/> are candidate indices (a truth
    /// that is also banned stays a candidate: the filtered setting never removes the target).
    /// </summary>
    /// <param name="scores">[candidates] model scores (any monotone transform of p).</param>
    /// <param name="banned">Candidate indices removed from the ranking.</param>
    /// <param name="truths">Candidate indices of the true tails (at least one).</param>
    public static QueryRanking Rank(
        ReadOnlySpan<float> scores, ReadOnlySpan<int> banned, ReadOnlySpan<int> truths)
    {
        if (truths.IsEmpty)
        {
            throw new ArgumentException("a query needs at least one true tail", nameof(truths));
        }

        // Removed: banned candidates that are not truths.
        var removed = new HashSet<int>();
        foreach (int b in banned)
        {
            removed.Add(b);
        }

        var truthSet = new HashSet<int>();
        foreach (int t in truths)
        {
            truthSet.Add(t);
            removed.Remove(t);
        }

        // The best true tail: highest score, ties to the lower index.
        int best = -1;
        foreach (int t in truthSet)
        {
            if (best < 0 || Before(scores, t, best))
            {
                best = t;
            }
        }

        // First-hit rank: allowed candidates ordered before the best true tail, plus one.
        int rank = 1;
        float bestScore = scores[best];
        for (int j = 0; j < scores.Length; j++)
        {
            if ((scores[j] > bestScore || (scores[j] == bestScore && j < best))
                && !removed.Contains(j))
            {
                rank++;
            }
        }

        // Hits in the top 10: the rank of each truth that can still be among them.
        int hits = 0;
        if (rank <= TopK)
        {
            foreach (int t in truthSet)
            {
                int position = 1;
                for (int j = 0; j < scores.Length && position <= TopK; j++)
                {
                    if (Before(scores, j, t) && !removed.Contains(j))
                    {
                        position++;
                    }
                }

                if (position <= TopK)
                {
                    hits |= 1 << (position - 1);
                }
            }
        }

        return new QueryRanking(rank, hits, truthSet.Count);
    }

    /// <summary>Adds one query's ranking.</summary>
    public void Add(QueryRanking q)
    {
        int f = q.FirstHitRank;
        _reciprocal += 1.0 / f;
        _reciprocalAt10 += f <= TopK ? 1.0 / f : 0;
        _rank += f;
        _hit1 += f <= 1 ? 1 : 0;
        _hit3 += f <= 3 ? 1 : 0;
        _hit10 += f <= 10 ? 1 : 0;
        double dcg = 0, ideal = 0;
        for (int i = 0; i < TopK; i++)
        {
            double gain = 1.0 / Math.Log2(i + 2);
            dcg += (q.TopHits >> i & 1) != 0 ? gain : 0;
            ideal += i < q.Truths ? gain : 0;
        }

        _ndcg += dcg / ideal;
        Queries++;
    }

    /// <summary>
    /// The metrics a validation can select on (higher is better; mean_rank is not one).
    /// </summary>
    public static readonly IReadOnlyList<string> SelectionMetrics =
        ["mrr", "mrr@10", "hit@1", "hit@3", "hit@10", "ndcg@10"];

    /// <summary>
    /// The averages as <c>mrr, mrr@10, hit@1, hit@3, hit@10, ndcg@10, mean_rank</c>, rounded to
    /// <paramref name="decimals"/> places (NaN when no query was added).
    /// </summary>
    public MetricResults Results(int decimals = 4)
    {
        double n = Queries;
        var results = new MetricResults();
        void Add(string key, double total) =>
            results.Add(key, n > 0 ? Math.Round(total / n, decimals) : double.NaN);
        Add("mrr", _reciprocal);
        Add("mrr@10", _reciprocalAt10);
        Add("hit@1", _hit1);
        Add("hit@3", _hit3);
        Add("hit@10", _hit10);
        Add("ndcg@10", _ndcg);
        Add("mean_rank", _rank);
        return results;
    }

    private static bool Before(ReadOnlySpan<float> scores, int a, int b) =>
        scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
}
