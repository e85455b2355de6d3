using Kgglm.Common;
using Kgglm.Configuration;
using Kgglm.Data;

namespace Kgglm.Paths;

/// <summary>
/// The pre-training corpus: random walks over the KG edges of the graph (never user–item
/// edges). Every item and entity node with a KG edge starts <c>pretrain_paths</c> walks; a walk
/// draws its hop count uniformly from <c>pretrain_hop_length</c>, steps to a uniformly chosen
/// incident KG edge (multi-edges count once each) and records that edge's relation; it may
/// revisit nodes. A walk equal to one its start node already drew is redrawn up to
/// <c>MAX_RW_TRIES_PER_IID</c> times, then dropped. Start node i draws from stream i of the
/// seed, so the corpus does not depend on the number of threads.
/// </summary>
public static class PretrainWalkSampler
{
    private const ulong Purpose = 0x5052;

    /// <summary>
    /// Samples every walk and hands [n, T] token blocks to <paramref name="append"/>.
    /// </summary>
    /// <param name="dataset">The dataset (its train graph and vocabulary).</param>
    /// <param name="config">Sampling keys.</param>
    /// <param name="contextLength">T = 2·path_hop_length + 3.</param>
    /// <param name="seed">Run seed.</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="append">Receives the paths in start-node order.</param>
    /// <param name="progress">Start nodes done so far.</param>
    public static void Sample(
        Dataset dataset, SamplingConfig config, int contextLength, ulong seed, int threads,
        Action<ReadOnlySpan<int>> append, Action<int, int>? progress = null)
    {
        KnowledgeGraph g = dataset.Graph;
        int ui = dataset.UiRelation;

        // Start nodes: items (not the [PAD] item) and pure entities, in node order.
        int first = g.ItemNode(1);
        int count = g.NodeCount - first;
        HopRange hops = config.PretrainHops;
        PathSampling.Run(
            count, threads,
            (unit, output) =>
            {
                int start = first + unit;
                if (KgDegree(g, start, ui) == 0)
                {
                    return;
                }

                var rng = SplitMix64.Stream(seed, Purpose, (ulong)start);
                Span<int> nodes = stackalloc int[hops.Max + 1];
                Span<int> relations = stackalloc int[hops.Max];
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (int w = 0; w < config.PretrainPaths; w++)
                {
                    for (int attempt = 0; attempt < config.MaxRwTriesPerIid; attempt++)
                    {
                        int h = hops.Min + rng.NextInt(hops.Max - hops.Min + 1);
                        nodes[0] = start;
                        for (int i = 0; i < h; i++)
                        {
                            (nodes[i + 1], relations[i]) = Step(g, nodes[i], ui, ref rng);
                        }

                        string key = Key(nodes[..(h + 1)], relations[..h]);
                        if (seen.Add(key))
                        {
                            PathSampling.AppendPath(
                                dataset.Vocabulary, nodes[..(h + 1)], relations[..h], contextLength,
                                output);
                            break;
                        }
                    }
                }
            },
            append,
            done => progress?.Invoke(done, count));
    }

    /// <summary>Number of KG (non user–item) edges at <paramref name="node"/>.</summary>
    internal static int KgDegree(KnowledgeGraph g, int node, int uiRelation)
    {
        int n = 0;
        foreach (int r in g.NeighbourRelations(node))
        {
            if (r != uiRelation)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>One uniform step along a KG edge; the node stays put if it has none.</summary>
    private static (int Node, int Relation) Step(
        KnowledgeGraph g, int node, int ui, ref SplitMix64 rng)
    {
        ReadOnlySpan<int> neighbours = g.Neighbours(node);
        ReadOnlySpan<int> relations = g.NeighbourRelations(node);
        int k = KgDegree(g, node, ui);
        int pick = rng.NextInt(k);
        for (int i = 0; i < neighbours.Length; i++)
        {
            if (relations[i] != ui && pick-- == 0)
            {
                return (neighbours[i], relations[i]);
            }
        }

        throw new InvalidOperationException($"node {node} has no KG edge to walk");
    }

    private static string Key(ReadOnlySpan<int> nodes, ReadOnlySpan<int> relations)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < nodes.Length; i++)
        {
            sb.Append(nodes[i]).Append(i < relations.Length ? $":{relations[i]}:" : string.Empty);
        }

        return sb.ToString();
    }
}
