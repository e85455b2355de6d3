namespace Kgglm.Data;

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
            new Kgglm.Common.SplitMix64((ulong)seed).Shuffle(order);
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
