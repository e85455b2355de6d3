namespace Kgglm.Evaluation;

/// <summary>
/// The ranking-accuracy metrics of SPEC §7 (hopwise's <c>TopkMetric</c>s), per user. Notation:
/// <c>L</c> the user's ranked list, <c>hit(j)</c> = L[j] ∈ R(u) for the 1-based rank j (false
/// where the list is shorter than j: a missing slot is a miss), <c>R(u)</c> the positives
/// (never empty for an evaluated user). Each metric is averaged over the evaluated users,
/// users without recommendations scoring 0.
/// </summary>
public static class AccuracyMetrics
{
    /// <summary><c>Hit@k = 1[∃ j ≤ k: hit(j)]</c>.</summary>
    public static double Hit(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k) =>
        FirstHit(positives, items, k) > 0 ? 1.0 : 0.0;

    /// <summary><c>MRR@k = 1 / r</c> for the first hit rank <c>r ≤ k</c>, else 0.</summary>
    public static double Mrr(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k)
    {
        int first = FirstHit(positives, items, k);
        return first > 0 ? 1.0 / first : 0.0;
    }

    /// <summary><c>Recall@k = Σ_{j ≤ k} hit(j) / |R(u)|</c>.</summary>
    public static double Recall(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k) =>
        (double)Hits(positives, items, k) / positives.Length;

    /// <summary>
    /// <c>Precision@k = Σ_{j ≤ k} hit(j) / k</c>: divided by k even for a shorter list, as
    /// hopwise divides by the columns of its top-k matrix.
    /// </summary>
    public static double Precision(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k) =>
        (double)Hits(positives, items, k) / k;

    /// <summary>
    /// <c>NDCG@k = DCG / IDCG</c>, <c>DCG = Σ_{j ≤ k, hit(j)} 1/log2(j+1)</c>,
    /// <c>IDCG = Σ_{j=1}^{min(|R(u)|, k)} 1/log2(j+1)</c>.
    /// </summary>
    public static double Ndcg(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k)
    {
        double dcg = 0;
        int n = Math.Min(k, items.Count);
        for (int j = 1; j <= n; j++)
        {
            if (positives.BinarySearch(items[j - 1]) >= 0)
            {
                dcg += 1.0 / Math.Log2(j + 1);
            }
        }
        double idcg = 0;
        int ideal = Math.Min(positives.Length, k);
        for (int j = 1; j <= ideal; j++)
        {
            idcg += 1.0 / Math.Log2(j + 1);
        }
        return dcg / idcg;
    }

    /// <summary>
    /// <c>MAP@k = Σ_{j ≤ k, hit(j)} Precision@j / min(|R(u)|, k)</c>: hopwise's average
    /// precision, normalised by the number of hits a list of k could hold at most.
    /// </summary>
    public static double Map(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k)
    {
        double sum = 0;
        int hits = 0;
        int n = Math.Min(k, items.Count);
        for (int j = 1; j <= n; j++)
        {
            if (positives.BinarySearch(items[j - 1]) >= 0)
            {
                hits++;
                sum += (double)hits / j;
            }
        }
        return sum / Math.Min(positives.Length, k);
    }

    /// <summary>Number of hits among the first k ranks.</summary>
    static int Hits(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k)
    {
        int hits = 0;
        int n = Math.Min(k, items.Count);
        for (int j = 0; j < n; j++)
        {
            if (positives.BinarySearch(items[j]) >= 0)
            {
                hits++;
            }
        }
        return hits;
    }

    /// <summary>1-based rank of the first hit within the first k ranks, 0 when none.</summary>
    static int FirstHit(ReadOnlySpan<int> positives, IReadOnlyList<int> items, int k)
    {
        int n = Math.Min(k, items.Count);
        for (int j = 0; j < n; j++)
        {
            if (positives.BinarySearch(items[j]) >= 0)
            {
                return j + 1;
            }
        }
        return 0;
    }
}
