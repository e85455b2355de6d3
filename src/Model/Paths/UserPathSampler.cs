using Kgglm.Common;
using Kgglm.Configuration;
using Kgglm.Data;

namespace Kgglm.Paths;

/// <summary>
/// The fine-tuning corpus: 3-hop user → item paths <c>U –R_ui– I_a –r– X –r'– I_t</c>.
/// </summary>
/// <remarks>
/// <para><b>simple-ui</b> (default): the candidates of user u are the simple vertex paths
/// (u, a, X, t) with a ≠ t train items of u and X a common neighbour of a and t other than u
/// (an entity, an item, or a user: a collaborative path; users are left out when
/// <c>collaborative_path</c> is off). Grouping by the middle node, user u has
/// Σ_X c_X·(c_X − 1) candidates where c_X = |train(u) ∩ N(X)|, so they are counted in
/// O(Σ deg(a)) and drawn uniformly (X with weight c_X·(c_X − 1), then an ordered pair of its
/// items) without being materialised: ml-100k has about 389 million. <c>MAX_PATHS_PER_USER</c>
/// distinct candidates are drawn per user (all of them when fewer exist). When several edges
/// join two nodes of a path, the relation is the one of an edge drawn uniformly among them.</para>
/// <para><b>constrained-rw</b>: hopwise's constrained random walk: from a random train item of
/// u, step to a non-item node (a user other than u, or an entity), then to an item other than
/// the start (a train item of u with <c>restrict_by_phase</c>); up to
/// <c>MAX_RW_PATHS_PER_HOP</c> neighbours tried per hop; stop at <c>MAX_PATHS_PER_USER</c>
/// distinct paths or after <c>MAX_CONSECUTIVE_INVALID</c> failed starts.</para>
/// <para>User u draws from stream u of the seed, so the corpus does not depend on threads.</para>
/// </remarks>
public static class UserPathSampler
{
    private const ulong Purpose = 0x5553;

    /// <summary>
    /// Samples every user's paths and hands [n, T] blocks to <paramref name="append"/>.
    /// </summary>
    public static void Sample(
        Dataset dataset, SamplingConfig config, int contextLength, ulong seed, int threads,
        Action<ReadOnlySpan<int>> append, Action<int, int>? progress = null)
    {
        if (config.PathHopLength != 3)
        {
            throw new KgglmException(
                $"config key 'path_hop_length': fine-tuning paths are user → item → node → item " +
                $"(3 hops); found {config.PathHopLength}");
        }

        KnowledgeGraph g = dataset.Graph;
        int users = g.UserCount;
        var unique = new UniqueNeighbours(g);
        PathSampling.Run(
            users, threads,
            (u, output) =>
            {
                if (u == 0 || dataset.TrainItems[u].Length == 0)
                {
                    return;
                }

                var rng = SplitMix64.Stream(seed, Purpose, (ulong)u);
                if (config.Strategy == "constrained-rw")
                {
                    ConstrainedWalks(dataset, unique, config, contextLength, u, ref rng, output);
                }
                else
                {
                    SimpleUi(dataset, unique, config, contextLength, u, ref rng, output);
                }
            },
            append,
            done => progress?.Invoke(done, users));
    }

    /// <summary>Counts the simple-ui candidates of user <paramref name="u"/>.</summary>
    public static long CountCandidates(Dataset dataset, int u, bool collaborative)
    {
        var middles = Middles.Build(dataset, new UniqueNeighbours(dataset.Graph), u, collaborative);
        return middles.Total;
    }

    private static void SimpleUi(
        Dataset d, UniqueNeighbours unique, SamplingConfig config, int T, int u,
        ref SplitMix64 rng, List<int> output)
    {
        KnowledgeGraph g = d.Graph;
        Middles m = Middles.Build(d, unique, u, config.CollaborativePath);
        if (m.Total == 0)
        {
            return;
        }

        var chosen = new HashSet<(int A, int X, int T)>();
        var order = new List<(int A, int X, int T)>();
        if (m.Total <= config.MaxPathsPerUser)
        {
            // Few candidates: take all of them, in (X, a, t) order.
            for (int xi = 0; xi < m.Nodes.Count; xi++)
            {
                List<int> items = m.Items[xi];
                foreach (int a in items)
                {
                    foreach (int t in items)
                    {
                        if (a != t)
                        {
                            order.Add((a, m.Nodes[xi], t));
                        }
                    }
                }
            }
        }
        else
        {
            while (order.Count < config.MaxPathsPerUser)
            {
                long r = rng.NextLong(m.Total);
                int xi = m.Find(r);
                List<int> items = m.Items[xi];
                int a = items[rng.NextInt(items.Count)];
                int t = items[rng.NextInt(items.Count - 1)];
                if (t == a)
                {
                    t = items[^1];
                }

                var key = (a, m.Nodes[xi], t);
                if (chosen.Add(key))
                {
                    order.Add(key);
                }
            }
        }

        Span<int> nodes = stackalloc int[4];
        Span<int> relations = stackalloc int[3];
        foreach ((int a, int x, int t) in order)
        {
            nodes[0] = u;
            nodes[1] = a;
            nodes[2] = x;
            nodes[3] = t;
            relations[0] = d.UiRelation;
            relations[1] = EdgeRelation(g, a, x, ref rng);
            relations[2] = EdgeRelation(g, x, t, ref rng);
            PathSampling.AppendPath(d.Vocabulary, nodes, relations, T, output);
        }
    }

    private static void ConstrainedWalks(
        Dataset d, UniqueNeighbours unique, SamplingConfig config, int T, int u,
        ref SplitMix64 rng, List<int> output)
    {
        KnowledgeGraph g = d.Graph;
        ReadOnlySpan<int> train = d.TrainItems[u];
        var seen = new HashSet<(int, int, int, int, int)>();
        int invalid = 0;
        Span<int> nodes = stackalloc int[4];
        Span<int> relations = stackalloc int[3];
        while (seen.Count < config.MaxPathsPerUser && invalid < config.MaxConsecutiveInvalid)
        {
            int a = g.ItemNode(train[rng.NextInt(train.Length)]);
            bool found = false;
            ReadOnlySpan<int> first = g.Neighbours(a);
            ReadOnlySpan<int> firstRel = g.NeighbourRelations(a);
            for (int i = 0; i < config.MaxRwPathsPerHop && !found; i++)
            {
                int e1 = rng.NextInt(first.Length);
                int x = first[e1];
                NodeKind kind = g.Kind(x);
                if (kind == NodeKind.Item || x == u
                    || (kind == NodeKind.User && !config.CollaborativePath))
                {
                    continue;
                }

                ReadOnlySpan<int> second = g.Neighbours(x);
                ReadOnlySpan<int> secondRel = g.NeighbourRelations(x);
                for (int j = 0; j < config.MaxRwPathsPerHop && !found; j++)
                {
                    int e2 = rng.NextInt(second.Length);
                    int t = second[e2];
                    if (g.Kind(t) != NodeKind.Item || t == a
                        || (config.RestrictByPhase && train.BinarySearch(g.InternalId(t)) < 0))
                    {
                        continue;
                    }

                    var key = (a, firstRel[e1], x, secondRel[e2], t);
                    if (seen.Add(key))
                    {
                        nodes[0] = u;
                        nodes[1] = a;
                        nodes[2] = x;
                        nodes[3] = t;
                        relations[0] = d.UiRelation;
                        relations[1] = firstRel[e1];
                        relations[2] = secondRel[e2];
                        PathSampling.AppendPath(d.Vocabulary, nodes, relations, T, output);
                        found = true;
                    }
                }
            }

            invalid = found ? 0 : invalid + 1;
        }

        _ = unique;
    }

    /// <summary>The relation of an edge drawn uniformly among those joining a and b.</summary>
    private static int EdgeRelation(KnowledgeGraph g, int a, int b, ref SplitMix64 rng)
    {
        ReadOnlySpan<int> neighbours = g.Neighbours(a);
        ReadOnlySpan<int> relations = g.NeighbourRelations(a);
        int count = 0;
        foreach (int n in neighbours)
        {
            if (n == b)
            {
                count++;
            }
        }

        int pick = count > 1 ? rng.NextInt(count) : 0;
        for (int i = 0; i < neighbours.Length; i++)
        {
            if (neighbours[i] == b && pick-- == 0)
            {
                return relations[i];
            }
        }

        throw new InvalidOperationException($"no edge between nodes {a} and {b}");
    }

    /// <summary>
    /// Per node, its distinct neighbours in ascending order (multi-edges collapsed).
    /// </summary>
    private sealed class UniqueNeighbours
    {
        private readonly int[] _offsets;
        private readonly int[] _nodes;

        public UniqueNeighbours(KnowledgeGraph g)
        {
            _offsets = new int[g.NodeCount + 1];
            var all = new List<int>();
            var scratch = new List<int>();
            for (int v = 0; v < g.NodeCount; v++)
            {
                scratch.Clear();
                scratch.AddRange(g.Neighbours(v));
                scratch.Sort();
                int last = -1;
                foreach (int n in scratch)
                {
                    if (n != last)
                    {
                        all.Add(n);
                        last = n;
                    }
                }

                _offsets[v + 1] = all.Count;
            }

            _nodes = [.. all];
        }

        public ReadOnlySpan<int> this[int node] =>
            _nodes.AsSpan(_offsets[node], _offsets[node + 1] - _offsets[node]);
    }

    /// <summary>The middle nodes X of a user's candidates with their train items.</summary>
    private sealed class Middles
    {
        public List<int> Nodes { get; } = [];

        public List<List<int>> Items { get; } = [];

        public List<long> Prefix { get; } = [];

        public long Total { get; private set; }

        public static Middles Build(Dataset d, UniqueNeighbours unique, int u, bool collaborative)
        {
            KnowledgeGraph g = d.Graph;
            var byNode = new Dictionary<int, List<int>>();
            foreach (int item in d.TrainItems[u])
            {
                int a = g.ItemNode(item);
                foreach (int x in unique[a])
                {
                    if (x == u || (!collaborative && g.Kind(x) == NodeKind.User))
                    {
                        continue;
                    }

                    if (!byNode.TryGetValue(x, out List<int>? list))
                    {
                        byNode[x] = list = [];
                    }

                    list.Add(a);
                }
            }

            var m = new Middles();
            foreach (int x in byNode.Keys.Order())
            {
                List<int> items = byNode[x];
                if (items.Count < 2)
                {
                    continue;
                }

                m.Nodes.Add(x);
                m.Items.Add(items);
                m.Total += (long)items.Count * (items.Count - 1);
                m.Prefix.Add(m.Total);
            }

            return m;
        }

        /// <summary>Index of the middle node owning candidate rank r (0 ≤ r &lt; Total).</summary>
        public int Find(long r)
        {
            int lo = 0, hi = Prefix.Count - 1;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (Prefix[mid] > r)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return lo;
        }
    }
}
