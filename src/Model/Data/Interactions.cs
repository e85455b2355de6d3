namespace Kgglm.Data;

/// <summary>
/// A list of interactions as parallel arrays of internal ids, in split order (users grouped in
/// order of first appearance after the shuffle or sort, each user's rows contiguous).
/// </summary>
public sealed class Interactions
{
    readonly int[] _users;
    readonly int[] _items;
    readonly double[]? _ratings;
    readonly double[]? _timestamps;

    internal Interactions(int[] users, int[] items, double[]? ratings, double[]? timestamps)
    {
        _users = users;
        _items = items;
        _ratings = ratings;
        _timestamps = timestamps;
    }

    /// <summary>Number of interactions.</summary>
    public int Count => _users.Length;

    /// <summary>[Count] internal user ids.</summary>
    public ReadOnlySpan<int> Users => _users;

    /// <summary>[Count] internal item ids.</summary>
    public ReadOnlySpan<int> Items => _items;

    /// <summary>True when the rating column was loaded.</summary>
    public bool HasRatings => _ratings is not null;

    /// <summary>[Count] raw ratings (not normalised); empty when not loaded.</summary>
    public ReadOnlySpan<double> Ratings => _ratings;

    /// <summary>True when the timestamp column was loaded.</summary>
    public bool HasTimestamps => _timestamps is not null;

    /// <summary>[Count] raw timestamps (not normalised); empty when not loaded.</summary>
    public ReadOnlySpan<double> Timestamps => _timestamps;
}

/// <summary>
/// Per user, the sorted distinct items of one split: CSR over users, so lookups are a binary
/// search and no per-user object exists.
/// </summary>
public sealed class ItemSets
{
    readonly int[] _offsets;   // [UserCount + 1]
    readonly int[] _items;     // [total] sorted within each user

    ItemSets(int[] offsets, int[] items)
    {
        _offsets = offsets;
        _items = items;
    }

    /// <summary>Number of users (ids incl. [PAD]).</summary>
    public int UserCount => _offsets.Length - 1;

    /// <summary>Total number of (user, item) pairs.</summary>
    public int PairCount => _items.Length;

    /// <summary>The sorted distinct items of <paramref name="user"/>.</summary>
    public ReadOnlySpan<int> this[int user] =>
        _items.AsSpan(_offsets[user], _offsets[user + 1] - _offsets[user]);

    /// <summary>
    /// True when <paramref name="user"/> has <paramref name="item"/> in this split.
    /// </summary>
    public bool Contains(int user, int item) => this[user].BinarySearch(item) >= 0;

    /// <summary>Groups <paramref name="interactions"/> by user; duplicates collapse.</summary>
    public static ItemSets From(Interactions interactions, int userCount)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        var users = interactions.Users;
        var items = interactions.Items;
        var offsets = new int[userCount + 1];
        foreach (int u in users)
        {
            offsets[u + 1]++;
        }
        for (int u = 0; u < userCount; u++)
        {
            offsets[u + 1] += offsets[u];
        }
        var fill = offsets[..^1];
        var all = new int[users.Length];
        for (int k = 0; k < users.Length; k++)
        {
            all[fill[users[k]]++] = items[k];
        }

        // Sort each user's run and squeeze out duplicates, compacting in place.
        var compact = new int[userCount + 1];
        int write = 0;
        for (int u = 0; u < userCount; u++)
        {
            var run = all.AsSpan(offsets[u], offsets[u + 1] - offsets[u]);
            run.Sort();
            compact[u] = write;
            for (int k = 0; k < run.Length; k++)
            {
                if (k == 0 || run[k] != run[k - 1])
                {
                    all[write++] = run[k];
                }
            }
        }
        compact[userCount] = write;
        return new ItemSets(compact, all[..write]);
    }
}
