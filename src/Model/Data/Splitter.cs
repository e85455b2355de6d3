namespace Kgglm.Data;

/// <summary>
/// The seeded generator behind <c>order: RO</c>: SplitMix64 (Steele, Lea, Flood 2014) seeded with
/// the run's seed, Fisher–Yates from the last index down, bounded draws by Lemire's
/// multiply-and-reject. torch.randperm cannot be reproduced without torch, so membership differs
/// from hopwise's; the per-user counts do not depend on the permutation.
/// </summary>
internal struct SplitMix64
{
    ulong _state;

    public SplitMix64(long seed) => _state = (ulong)seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound), no modulo bias.</summary>
    public int NextBelow(int bound)
    {
        ulong high = Math.BigMul(Next(), (ulong)bound, out ulong low);
        if (low < (ulong)bound)
        {
            ulong threshold = (0UL - (ulong)bound) % (ulong)bound;
            while (low < threshold)
            {
                high = Math.BigMul(Next(), (ulong)bound, out low);
            }
        }
        return (int)high;
    }

    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextBelow(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}

/// <summary>
/// hopwise's <c>eval_args</c> split of one interaction list into train, valid, test.
/// </summary>
internal static class Splitter
{
    /// <summary>
    /// Row indices of train, valid and test. Rows are ordered (shuffled or sorted by time),
    /// grouped by user in order of first appearance, and each group is cut into contiguous parts.
    /// </summary>
    public static int[][] Split(ReadOnlySpan<int> users, ReadOnlySpan<double> timestamps,
        int userCount, SplitOptions options, int seed, string interPath)
    {
        int n = users.Length;
        var order = new int[n];
        for (int k = 0; k < n; k++)
        {
            order[k] = k;
        }
        if (options.Order == SplitOrder.Random)
        {
            new SplitMix64(seed).Shuffle(order);
        }
        else
        {
            if (timestamps.Length != n)
            {
                throw new DataFormatException(interPath, 1,
                    "expected a float timestamp column for eval_args order TO, found none");
            }
            // Sorting (time, row) pairs makes the order stable without a stable sort.
            var pairs = new (double Time, int Row)[n];
            for (int k = 0; k < n; k++)
            {
                pairs[k] = (timestamps[k], k);
            }
            Array.Sort(pairs);
            for (int k = 0; k < n; k++)
            {
                order[k] = pairs[k].Row;
            }
        }

        // Groups: users in order of first appearance in `order`, rows kept in order inside.
        var groupStarts = new List<int>();
        int[] grouped;
        if (options.GroupByUser)
        {
            var count = new int[userCount];
            var rank = new int[userCount];
            Array.Fill(rank, -1);
            var firstSeen = new List<int>();
            foreach (int row in order)
            {
                int u = users[row];
                if (count[u]++ == 0)
                {
                    rank[u] = firstSeen.Count;
                    firstSeen.Add(u);
                }
            }
            var start = new int[firstSeen.Count + 1];
            for (int g = 0; g < firstSeen.Count; g++)
            {
                start[g + 1] = start[g] + count[firstSeen[g]];
            }
            var fill = start[..^1];
            grouped = new int[n];
            foreach (int row in order)
            {
                grouped[fill[rank[users[row]]]++] = row;
            }
            groupStarts.AddRange(start);
        }
        else
        {
            grouped = order;
            groupStarts.Add(0);
            groupStarts.Add(n);
        }

        var parts = new List<int>[] { new(), new(), new() };
        Span<int> cnt = stackalloc int[3];
        for (int g = 0; g + 1 < groupStarts.Count; g++)
        {
            var group = grouped.AsSpan(groupStarts[g], groupStarts[g + 1] - groupStarts[g]);
            if (options.Mode == SplitMode.Ratio)
            {
                RatioCounts(group.Length, options.Ratios, cnt);
            }
            else
            {
                LeaveOneOutCounts(group.Length, options.LeaveOneOut, cnt);
            }
            int offset = 0;
            for (int p = 0; p < 3; p++)
            {
                foreach (int row in group.Slice(offset, cnt[p]))
                {
                    parts[p].Add(row);
                }
                offset += cnt[p];
            }
        }
        return [.. parts.Select(p => p.ToArray())];
    }

    // hopwise `_calcu_split_ids`: floor every ratio but the first, train takes the rest, then
    // (from the last part backwards) a part whose share is in (0, 1) takes one row from train
    // while train keeps more than one. Two ratios mean train and test.
    static void RatioCounts(int total, IReadOnlyList<double> ratios, Span<int> cnt)
    {
        if (ratios.Count is not (2 or 3))
        {
            throw new ArgumentException(
                $"eval_args split RS: expected 2 or 3 ratios, found {ratios.Count}");
        }
        double sum = 0;
        foreach (double r in ratios)
        {
            sum += r;
        }
        int parts = ratios.Count;
        Span<double> share = stackalloc double[parts];
        Span<int> c = stackalloc int[parts];
        for (int i = 0; i < parts; i++)
        {
            share[i] = ratios[i] / sum;
            c[i] = (int)(share[i] * total);
        }
        int rest = 0;
        for (int i = 1; i < parts; i++)
        {
            rest += c[i];
        }
        c[0] = total - rest;
        for (int i = 1; i < parts; i++)
        {
            if (c[0] <= 1)
            {
                break;
            }
            double x = share[parts - i] * total;
            if (x > 0 && x < 1)
            {
                c[parts - i]++;
                c[0]--;
            }
        }
        cnt[0] = c[0];
        cnt[1] = parts == 3 ? c[1] : 0;
        cnt[2] = parts == 3 ? c[2] : c[1];
    }

    // hopwise `_split_index_by_leave_one_out`: the last rows go out, but a user keeps at least
    // one train row; valid_only leaves test empty, test_only leaves valid empty.
    static void LeaveOneOutCounts(int total, LeaveOneOutMode mode, Span<int> cnt)
    {
        int leave = mode == LeaveOneOutMode.ValidAndTest ? 2 : 1;
        int legal = Math.Max(0, Math.Min(leave, total - 1));
        cnt[0] = total - legal;
        switch (mode)
        {
            case LeaveOneOutMode.ValidAndTest:
                // With room for one only, it goes to the last part (test).
                cnt[1] = legal == 2 ? 1 : 0;
                cnt[2] = legal >= 1 ? 1 : 0;
                break;
            case LeaveOneOutMode.ValidOnly:
                cnt[1] = legal;
                cnt[2] = 0;
                break;
            default:
                cnt[1] = 0;
                cnt[2] = legal;
                break;
        }
    }
}
