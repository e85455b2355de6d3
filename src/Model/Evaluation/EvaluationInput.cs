using Kgglm.Data;

namespace Kgglm.Evaluation;

/// <summary>
/// Everything the metrics read: the train graph, the train interactions (popularity, history,
/// timestamps), the positives of the evaluated split, and the recommendations of its users.
/// <para>
/// The evaluated users are those with at least one positive (one interaction in the split),
/// in ascending id order. A recommendation for any other user is ignored; an evaluated user
/// without one counts as an empty list.
/// </para>
/// </summary>
public sealed class EvaluationInput
{
    readonly UserRecommendation?[] _byUser;   // [UserCount]
    readonly int[] _evaluatedUsers;
    readonly int[] _itemCounts;               // [ItemCount] train interactions per item
    Dictionary<(int User, int Item), double>? _lir;
    double[]? _sep;

    /// <summary>
    /// Scores <paramref name="recommendations"/> against <paramref name="split"/> of
    /// <paramref name="dataset"/>.
    /// </summary>
    public EvaluationInput(Dataset dataset, EvaluationSplit split,
        IReadOnlyList<UserRecommendation> recommendations)
        : this(CheckNotNull(dataset).Graph, dataset.Train,
            split == EvaluationSplit.Valid ? dataset.ValidItems : dataset.TestItems,
            recommendations)
    {
    }

    /// <summary>
    /// Scores <paramref name="recommendations"/> against <paramref name="positives"/> (per user,
    /// the items of the evaluated split), with popularity, history and timestamps from
    /// <paramref name="train"/> and degrees and node kinds from <paramref name="graph"/> (built
    /// from the same train interactions). Throws <see cref="ArgumentException"/> when a
    /// recommendation is malformed (an id out of range, a repeated item or user, a path that
    /// does not run from the user to its item).
    /// </summary>
    public EvaluationInput(KnowledgeGraph graph, Interactions train, ItemSets positives,
        IReadOnlyList<UserRecommendation> recommendations)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(positives);
        ArgumentNullException.ThrowIfNull(recommendations);
        if (positives.UserCount != graph.UserCount)
        {
            throw new ArgumentException($"positives cover {positives.UserCount} users, the graph " +
                $"{graph.UserCount}", nameof(positives));
        }
        Graph = graph;
        Train = train;
        Positives = positives;
        TrainItems = ItemSets.From(train, graph.UserCount);

        _itemCounts = new int[graph.ItemCount];
        foreach (int item in train.Items)
        {
            _itemCounts[item]++;
        }

        var evaluated = new List<int>();
        for (int u = 1; u < graph.UserCount; u++)
        {
            if (positives[u].Length > 0)
            {
                evaluated.Add(u);
            }
        }
        _evaluatedUsers = [.. evaluated];

        _byUser = new UserRecommendation?[graph.UserCount];
        foreach (var rec in recommendations)
        {
            Validate(rec);
            _byUser[rec.User] = rec;
        }
    }

    /// <summary>The collaborative KG of the train split.</summary>
    public KnowledgeGraph Graph { get; }

    /// <summary>Train interactions (popularity, LIR timestamps).</summary>
    public Interactions Train { get; }

    /// <summary>Per user, the items of the evaluated split: R(u).</summary>
    public ItemSets Positives { get; }

    /// <summary>Per user, the sorted distinct train items (Serendipity's history).</summary>
    public ItemSets TrainItems { get; }

    /// <summary>Users with at least one positive, ascending: the users metrics average over.
    /// </summary>
    public ReadOnlySpan<int> EvaluatedUsers => _evaluatedUsers;

    /// <summary>Train interactions per item id (hopwise <c>item_counter</c>; 0 when none).
    /// </summary>
    public ReadOnlySpan<int> ItemCounts => _itemCounts;

    /// <summary>hopwise <c>item_num</c>: item ids including [PAD].</summary>
    public int ItemCount => Graph.ItemCount;

    /// <summary>The recommendation of <paramref name="user"/>, null when it has none.</summary>
    public UserRecommendation? RecommendationOf(int user) => _byUser[user];

    /// <summary>Ranked items of <paramref name="user"/> (empty when it has no recommendation).
    /// </summary>
    internal IReadOnlyList<int> ItemsOf(int user) => _byUser[user]?.Items ?? [];

    /// <summary>LIR(u, item) of every train interaction, built on first use.</summary>
    internal Dictionary<(int User, int Item), double> LinkingInteractionRecency =>
        _lir ??= PathQualityMetrics.BuildLir(this);

    /// <summary>[NodeCount] SEP of every graph node (0 for nodes without edges).</summary>
    internal double[] SharedEntityPopularity => _sep ??= PathQualityMetrics.BuildSep(Graph);

    void Validate(UserRecommendation rec)
    {
        ArgumentNullException.ThrowIfNull(rec);
        var g = Graph;
        if (rec.User <= 0 || rec.User >= g.UserCount)
        {
            throw new ArgumentException($"recommendation for user {rec.User}: expected an id in " +
                $"1..{g.UserCount - 1}", nameof(rec));
        }
        if (_byUser[rec.User] is not null)
        {
            throw new ArgumentException($"user {rec.User} has two recommendations", nameof(rec));
        }
        ArgumentNullException.ThrowIfNull(rec.Items);
        ArgumentNullException.ThrowIfNull(rec.Paths);
        if (rec.Items.Count != rec.Paths.Count)
        {
            throw new ArgumentException($"user {rec.User}: {rec.Items.Count} items but " +
                $"{rec.Paths.Count} paths; expected one path per item", nameof(rec));
        }

        var seen = new HashSet<int>();
        for (int j = 0; j < rec.Items.Count; j++)
        {
            int item = rec.Items[j];
            if (item <= 0 || item >= g.ItemCount || !seen.Add(item))
            {
                throw new ArgumentException($"user {rec.User}, rank {j + 1}: item {item} is out " +
                    $"of 1..{g.ItemCount - 1} or repeated", nameof(rec));
            }
            ValidatePath(rec.User, j, item, rec.Paths[j]);
        }
    }

    void ValidatePath(int user, int rank, int item, RecommendedPath path)
    {
        var g = Graph;
        string where = $"user {user}, rank {rank + 1}";
        if (path?.Nodes is null || path.Relations is null)
        {
            throw new ArgumentException($"{where}: the path is missing", nameof(path));
        }
        if (path.Nodes.Length < 2 || path.Nodes.Length != path.Relations.Length + 1)
        {
            throw new ArgumentException($"{where}: expected hops + 1 nodes for hops ≥ 1 " +
                $"relations, found {path.Nodes.Length} nodes and {path.Relations.Length} " +
                "relations", nameof(path));
        }
        if (path.Nodes[0] != g.UserNode(user) || path.Nodes[^1] != g.ItemNode(item))
        {
            throw new ArgumentException($"{where}: the path must run from node " +
                $"{g.UserNode(user)} (the user) to node {g.ItemNode(item)} (item {item})",
                nameof(path));
        }
        foreach (int node in path.Nodes)
        {
            if (node < 0 || node >= g.NodeCount)
            {
                throw new ArgumentException($"{where}: node {node} is out of 0..{g.NodeCount - 1}",
                    nameof(path));
            }
        }
        foreach (int relation in path.Relations)
        {
            if (relation <= 0 || relation >= g.RelationCount)
            {
                throw new ArgumentException($"{where}: relation {relation} is out of " +
                    $"1..{g.RelationCount - 1}", nameof(path));
            }
        }
    }

    static Dataset CheckNotNull(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return dataset;
    }
}
