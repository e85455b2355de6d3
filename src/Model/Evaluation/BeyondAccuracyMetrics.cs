namespace Kgglm.Evaluation;

/// <summary>
/// hopwise's beyond-accuracy metrics (reference §7.3), over the evaluated users' top-k lists.
/// <c>top-k(u)</c> is the first min(k, |L(u)|) items of u's list; <c>pop(i)</c> the number of
/// train interactions of item i; <c>N</c> = item_num (item ids including [PAD]); <c>U</c> the
/// evaluated users.
/// <para>
/// hopwise's top-k matrix always has k columns (slots it could not fill hold arbitrary items);
/// Kgglm's lists may be shorter, so the "per slot" averages below divide by the slots actually
/// filled, and a user with an empty list contributes 0.
/// </para>
/// </summary>
public static class BeyondAccuracyMetrics
{
    /// <summary>hopwise's default <c>tail_ratio</c>.</summary>
    public const double DefaultTailRatio = 0.1;

    /// <summary><c>ItemCoverage@k = |∪_u top-k(u)| / N</c>.</summary>
    public static double ItemCoverage(EvaluationInput input, int k)
    {
        ArgumentNullException.ThrowIfNull(input);
        var covered = new bool[input.ItemCount];
        int distinct = 0;
        foreach (int u in input.EvaluatedUsers)
        {
            var items = input.ItemsOf(u);
            for (int j = 0; j < Math.Min(k, items.Count); j++)
            {
                if (!covered[items[j]])
                {
                    covered[items[j]] = true;
                    distinct++;
                }
            }
        }
        return (double)distinct / input.ItemCount;
    }

    /// <summary>
    /// <c>AveragePopularity@k = mean_u mean_{i ∈ top-k(u)} pop(i)</c> (smaller is better).
    /// </summary>
    public static double AveragePopularity(EvaluationInput input, int k)
    {
        ArgumentNullException.ThrowIfNull(input);
        var pop = input.ItemCounts.ToArray();
        return MeanOverSlots(input, k, item => pop[item]);
    }

    /// <summary>
    /// <c>ShannonEntropy@k = (−Σ_i p(i) ln p(i)) / m</c> with <c>p(i)</c> = occurrences of i in
    /// all top-k lists / the number of filled slots, and m the number of distinct items: hopwise
    /// divides the entropy by m (not a standard entropy).
    /// </summary>
    public static double ShannonEntropy(EvaluationInput input, int k)
    {
        var counts = Occurrences(input, k, out int total);
        if (total == 0)
        {
            return 0;
        }
        double entropy = 0;
        int distinct = 0;
        foreach (int c in counts)
        {
            if (c > 0)
            {
                double p = (double)c / total;
                entropy -= p * Math.Log(p);
                distinct++;
            }
        }
        return entropy / distinct;
    }

    /// <summary>
    /// <c>GiniIndex@k = Σ_{r=1}^{m} (2(N − m + r) − N − 1) c_(r) / T / N</c>, with
    /// <c>c_(1) ≤ … ≤ c_(m)</c> the occurrence counts of the m distinct recommended items (the
    /// N − m never recommended count 0 and sort first) and T the number of filled slots
    /// (smaller is better).
    /// </summary>
    public static double GiniIndex(EvaluationInput input, int k)
    {
        var counts = Occurrences(input, k, out int total);
        if (total == 0)
        {
            return 0;
        }
        var sorted = counts.Where(c => c > 0).Order().ToArray();
        int n = input.ItemCount, m = sorted.Length;
        double sum = 0;
        for (int r = 1; r <= m; r++)
        {
            sum += (2.0 * (n - m + r) - n - 1) * sorted[r - 1];
        }
        return sum / total / n;
    }

    /// <summary>
    /// <c>TailPercentage@k = mean_u |top-k(u) ∩ T| / |top-k(u)|</c>, T the long-tail items of
    /// <see cref="TailItems"/>.
    /// </summary>
    public static double TailPercentage(EvaluationInput input, int k, double tailRatio)
    {
        var tail = TailItems(input, tailRatio);
        return MeanOverSlots(input, k, item => tail[item] ? 1 : 0);
    }

    /// <summary>
    /// hopwise's long tail, drawn from the items with at least one train interaction: with
    /// <c>tail_ratio</c> ρ &gt; 1, the items with pop(i) ≤ ρ; with 0 &lt; ρ ≤ 1, the first
    /// max(⌊n ρ⌋, 1) of the n such items sorted by (pop, id) ascending; ρ ≤ 0 means 0.1.
    /// </summary>
    /// <returns>[N] true for a tail item.</returns>
    public static bool[] TailItems(EvaluationInput input, double tailRatio)
    {
        ArgumentNullException.ThrowIfNull(input);
        var pop = input.ItemCounts;
        var tail = new bool[input.ItemCount];
        double ratio = tailRatio > 0 ? tailRatio : DefaultTailRatio;
        var counted = new List<int>();
        for (int i = 0; i < pop.Length; i++)
        {
            if (pop[i] > 0)
            {
                counted.Add(i);
            }
        }
        if (ratio > 1)
        {
            foreach (int i in counted)
            {
                tail[i] = pop[i] <= ratio;
            }
            return tail;
        }
        var counts = input.ItemCounts.ToArray();
        var byPopularity = counted.OrderBy(i => counts[i]).ThenBy(i => i).ToArray();
        int cut = Math.Min(Math.Max((int)(byPopularity.Length * ratio), 1), byPopularity.Length);
        for (int r = 0; r < cut; r++)
        {
            tail[byPopularity[r]] = true;
        }
        return tail;
    }

    /// <summary>
    /// <c>Serendipity@k = mean_u (1 − |top-k(u) ∩ PopTop_K(u)| / |top-k(u)|)</c>, PopTop_K(u)
    /// the K = max(topk) most popular items outside u's train history, ties broken toward the
    /// higher item id (what reversing hopwise's ascending argsort gives).
    /// </summary>
    public static double Serendipity(EvaluationInput input, int k, int maxK)
    {
        ArgumentNullException.ThrowIfNull(input);
        var counts = input.ItemCounts.ToArray();
        var byPopularity = Enumerable.Range(1, input.ItemCount - 1)
            .OrderByDescending(i => counts[i]).ThenByDescending(i => i).ToArray();
        var popTop = new HashSet<int>();
        double sum = 0;
        foreach (int u in input.EvaluatedUsers)
        {
            var items = input.ItemsOf(u);
            int n = Math.Min(k, items.Count);
            if (n == 0)
            {
                continue;
            }

            // hopwise zeroes the user's history in the popularity row, then takes its top K.
            popTop.Clear();
            var history = input.TrainItems[u];
            for (int r = 0; r < byPopularity.Length && popTop.Count < maxK; r++)
            {
                if (history.BinarySearch(byPopularity[r]) < 0)
                {
                    popTop.Add(byPopularity[r]);
                }
            }
            int common = 0;
            for (int j = 0; j < n; j++)
            {
                common += popTop.Contains(items[j]) ? 1 : 0;
            }
            sum += 1 - (double)common / n;
        }
        return Mean(sum, input);
    }

    /// <summary>
    /// <c>Novelty@k = mean_u mean_{j ≤ K} (1 − (pop(i_j) − min_pop) / (max_pop − min_pop))</c>
    /// over the first K = max(topk) items whatever k is (as hopwise computes it), with
    /// min_pop = 0 unless every item id (the [PAD] item included) has train interactions, and
    /// max_pop the largest count. When max_pop = min_pop every item's novelty is taken as 1.
    /// </summary>
    public static double Novelty(EvaluationInput input, int k, int maxK)
    {
        ArgumentNullException.ThrowIfNull(input);
        _ = k;
        var counts = input.ItemCounts.ToArray();
        int min = counts.All(c => c > 0) ? counts.Min() : 0;
        int max = counts.Max();
        double range = max - min;
        return MeanOverSlots(input, maxK,
            item => range > 0 ? 1 - (counts[item] - min) / range : 1.0);
    }

    /// <summary>mean_u mean_{i ∈ top-k(u)} value(i); empty lists count 0.</summary>
    static double MeanOverSlots(EvaluationInput input, int k, Func<int, double> value)
    {
        double sum = 0;
        foreach (int u in input.EvaluatedUsers)
        {
            var items = input.ItemsOf(u);
            int n = Math.Min(k, items.Count);
            if (n == 0)
            {
                continue;
            }
            double user = 0;
            for (int j = 0; j < n; j++)
            {
                user += value(items[j]);
            }
            sum += user / n;
        }
        return Mean(sum, input);
    }

    /// <summary>[N] occurrences of each item in the top-k lists; total = filled slots.</summary>
    static int[] Occurrences(EvaluationInput input, int k, out int total)
    {
        ArgumentNullException.ThrowIfNull(input);
        var counts = new int[input.ItemCount];
        total = 0;
        foreach (int u in input.EvaluatedUsers)
        {
            var items = input.ItemsOf(u);
            for (int j = 0; j < Math.Min(k, items.Count); j++)
            {
                counts[items[j]]++;
                total++;
            }
        }
        return counts;
    }

    static double Mean(double sum, EvaluationInput input) =>
        input.EvaluatedUsers.Length == 0 ? 0 : sum / input.EvaluatedUsers.Length;
}
