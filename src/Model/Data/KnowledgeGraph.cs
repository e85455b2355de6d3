namespace Kgglm.Data;

/// <summary>What a graph node stands for.</summary>
public enum NodeKind : byte
{
    /// <summary>A user (node = user id).</summary>
    User,

    /// <summary>An item (node = user count + item id).</summary>
    Item,

    /// <summary>A KG entity that is not an item (node = user count + entity id).</summary>
    Entity,
}

/// <summary>
/// The collaborative knowledge graph of the train split, as CSR adjacency.
/// <para>
/// Node numbering is hopwise's vertex layout: users <c>0..U-1</c> (node 0 = [PAD] user), items
/// <c>U..U+I-1</c> (node U = [PAD] item), pure entities <c>U+e</c> for entity ids
/// <c>I ≤ e &lt; E</c>; so an entity id is its node minus U and <see cref="NodeCount"/> = U + E.
/// U, I, E count ids including [PAD]; PAD nodes have no edges.
/// </para>
/// <para>
/// Edges, in this order: one per train interaction (user, item) with the UI relation, then one
/// per KG triple (head, tail) with its relation (reversed triples follow when
/// <c>kg_reverse_r</c> is on). Edges are undirected and multi-edges are kept: each edge is listed
/// at both ends (twice at a self-loop's node). <see cref="Neighbours(int)"/> lists a node's
/// edges in edge order; <see cref="Neighbours(int, int)"/> reads a second copy of each list
/// sorted by (relation, neighbour).
/// </para>
/// </summary>
public sealed class KnowledgeGraph
{
    readonly int[] _offsets;        // [NodeCount + 1] start of each node's run in the arrays below
    readonly int[] _neighbour;      // [2 * EdgeCount] in edge order per node
    readonly int[] _relation;       // [2 * EdgeCount] parallel to _neighbour
    readonly int[] _edge;           // [2 * EdgeCount] parallel to _neighbour
    readonly int[] _sortedNeighbour; // [2 * EdgeCount] per node sorted by (relation, neighbour)
    readonly int[] _sortedRelation;  // [2 * EdgeCount] parallel to _sortedNeighbour
    readonly int[] _edgeSource;     // [EdgeCount]
    readonly int[] _edgeTarget;     // [EdgeCount]
    readonly int[] _edgeRelation;   // [EdgeCount]

    KnowledgeGraph(int userCount, int itemCount, int entityCount, int relationCount,
        int[] edgeSource, int[] edgeTarget, int[] edgeRelation)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        EntityCount = entityCount;
        RelationCount = relationCount;
        NodeCount = userCount + entityCount;
        _edgeSource = edgeSource;
        _edgeTarget = edgeTarget;
        _edgeRelation = edgeRelation;

        // Counting sort of the edge ends by node keeps each node's run in edge order.
        int edges = edgeSource.Length;
        _offsets = new int[NodeCount + 1];
        for (int e = 0; e < edges; e++)
        {
            _offsets[edgeSource[e] + 1]++;
            _offsets[edgeTarget[e] + 1]++;
        }
        for (int v = 0; v < NodeCount; v++)
        {
            _offsets[v + 1] += _offsets[v];
        }
        var fill = _offsets[..^1];
        _neighbour = new int[2 * edges];
        _relation = new int[2 * edges];
        _edge = new int[2 * edges];
        for (int e = 0; e < edges; e++)
        {
            int a = edgeSource[e], b = edgeTarget[e], r = edgeRelation[e];
            int k = fill[a]++;
            _neighbour[k] = b;
            _relation[k] = r;
            _edge[k] = e;
            k = fill[b]++;
            _neighbour[k] = a;
            _relation[k] = r;
            _edge[k] = e;
        }

        // The relation-sorted copy: key (relation, neighbour) packed in a long, sorted per node
        // in one buffer of the largest degree (no whole-graph temporary).
        _sortedNeighbour = new int[2 * edges];
        _sortedRelation = new int[2 * edges];
        int maxDegree = 0;
        for (int v = 0; v < NodeCount; v++)
        {
            maxDegree = Math.Max(maxDegree, _offsets[v + 1] - _offsets[v]);
        }
        var keys = new long[maxDegree];
        for (int v = 0; v < NodeCount; v++)
        {
            int start = _offsets[v], degree = _offsets[v + 1] - start;
            for (int k = 0; k < degree; k++)
            {
                keys[k] = ((long)_relation[start + k] << 32) | (uint)_neighbour[start + k];
            }
            keys.AsSpan(0, degree).Sort();
            for (int k = 0; k < degree; k++)
            {
                _sortedRelation[start + k] = (int)(keys[k] >> 32);
                _sortedNeighbour[start + k] = (int)keys[k];
            }
        }
    }

    /// <summary>User ids including [PAD] (hopwise <c>user_num</c>).</summary>
    public int UserCount { get; }

    /// <summary>Item ids including [PAD] (hopwise <c>item_num</c>).</summary>
    public int ItemCount { get; }

    /// <summary>Entity ids including [PAD] and the item ids (hopwise <c>entity_num</c>).</summary>
    public int EntityCount { get; }

    /// <summary>Relation ids including [PAD] and the UI relation.</summary>
    public int RelationCount { get; }

    /// <summary>Nodes: UserCount + EntityCount.</summary>
    public int NodeCount { get; }

    /// <summary>Undirected edges (train interactions + KG triples).</summary>
    public int EdgeCount => _edgeSource.Length;

    /// <summary>Node of user <paramref name="user"/>.</summary>
    public int UserNode(int user) => user;

    /// <summary>Node of item <paramref name="item"/>.</summary>
    public int ItemNode(int item) => UserCount + item;

    /// <summary>
    /// Node of entity <paramref name="entity"/> (an item node when entity &lt; ItemCount).
    /// </summary>
    public int EntityNode(int entity) => UserCount + entity;

    /// <summary>What <paramref name="node"/> stands for.</summary>
    public NodeKind Kind(int node) => node < UserCount ? NodeKind.User
        : node < UserCount + ItemCount ? NodeKind.Item : NodeKind.Entity;

    /// <summary>
    /// The user, item or entity id of <paramref name="node"/>, per <see cref="Kind"/>.
    /// </summary>
    public int InternalId(int node) => node < UserCount ? node : node - UserCount;

    /// <summary>Number of edge ends at <paramref name="node"/> (multi-edges counted).</summary>
    public int Degree(int node) => _offsets[node + 1] - _offsets[node];

    /// <summary>Neighbours of <paramref name="node"/>, one per edge end, in edge order.</summary>
    public ReadOnlySpan<int> Neighbours(int node) =>
        _neighbour.AsSpan(_offsets[node], Degree(node));

    /// <summary>Relations parallel to <see cref="Neighbours(int)"/>.</summary>
    public ReadOnlySpan<int> NeighbourRelations(int node) =>
        _relation.AsSpan(_offsets[node], Degree(node));

    /// <summary>Edge ids parallel to <see cref="Neighbours(int)"/>.</summary>
    public ReadOnlySpan<int> NeighbourEdges(int node) =>
        _edge.AsSpan(_offsets[node], Degree(node));

    /// <summary>
    /// Neighbours of <paramref name="node"/> through <paramref name="relation"/>, sorted ascending,
    /// with multiplicity (one per edge).
    /// </summary>
    public ReadOnlySpan<int> Neighbours(int node, int relation)
    {
        var (start, length) = RelationRun(node, relation);
        return _sortedNeighbour.AsSpan(start, length);
    }

    /// <summary>
    /// Relations of <paramref name="node"/>'s edge ends sorted by (relation, neighbour);
    /// parallel to <see cref="SortedNeighbours"/>.
    /// </summary>
    public ReadOnlySpan<int> SortedRelations(int node) =>
        _sortedRelation.AsSpan(_offsets[node], Degree(node));

    /// <summary>Neighbours of <paramref name="node"/> sorted by (relation, neighbour).</summary>
    public ReadOnlySpan<int> SortedNeighbours(int node) =>
        _sortedNeighbour.AsSpan(_offsets[node], Degree(node));

    /// <summary>True when an edge with <paramref name="relation"/> joins <paramref name="a"/>
    /// and <paramref name="b"/>.</summary>
    public bool HasEdge(int a, int relation, int b) => Neighbours(a, relation).BinarySearch(b) >= 0;

    /// <summary>
    /// First endpoint of edge <paramref name="edge"/> (the user, or the KG head).
    /// </summary>
    public int EdgeSource(int edge) => _edgeSource[edge];

    /// <summary>
    /// Second endpoint of edge <paramref name="edge"/> (the item, or the KG tail).
    /// </summary>
    public int EdgeTarget(int edge) => _edgeTarget[edge];

    /// <summary>Relation of edge <paramref name="edge"/>.</summary>
    public int EdgeRelation(int edge) => _edgeRelation[edge];

    (int Start, int Length) RelationRun(int node, int relation)
    {
        int lo = _offsets[node], hi = _offsets[node + 1];
        var relations = _sortedRelation;
        int first = LowerBound(relations, lo, hi, relation);
        int last = LowerBound(relations, first, hi, relation + 1);
        return (first, last - first);
    }

    static int LowerBound(int[] values, int lo, int hi, int value)
    {
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (values[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    /// <summary>
    /// Builds the graph from train interactions and KG triples (internal ids; heads and tails are
    /// entity ids).
    /// </summary>
    public static KnowledgeGraph Build(int userCount, int itemCount, int entityCount,
        int relationCount, int uiRelation, Interactions train, KgTriples triples)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(triples);
        int edges = train.Count + triples.Count;
        var source = new int[edges];
        var target = new int[edges];
        var relation = new int[edges];
        var users = train.Users;
        var items = train.Items;
        for (int k = 0; k < train.Count; k++)
        {
            source[k] = users[k];
            target[k] = userCount + items[k];
            relation[k] = uiRelation;
        }
        var heads = triples.Heads;
        var rels = triples.Relations;
        var tails = triples.Tails;
        for (int k = 0; k < triples.Count; k++)
        {
            source[train.Count + k] = userCount + heads[k];
            target[train.Count + k] = userCount + tails[k];
            relation[train.Count + k] = rels[k];
        }
        return new KnowledgeGraph(userCount, itemCount, entityCount, relationCount,
            source, target, relation);
    }
}

/// <summary>
/// The KG triples after filtering and remapping, in .kg row order (internal ids).
/// </summary>
public sealed class KgTriples
{
    readonly int[] _heads;
    readonly int[] _relations;
    readonly int[] _tails;

    internal KgTriples(int[] heads, int[] relations, int[] tails)
    {
        _heads = heads;
        _relations = relations;
        _tails = tails;
    }

    /// <summary>
    /// Number of triples (reversed ones included when <c>kg_reverse_r</c> is on).
    /// </summary>
    public int Count => _heads.Length;

    /// <summary>[Count] head entity ids.</summary>
    public ReadOnlySpan<int> Heads => _heads;

    /// <summary>[Count] relation ids.</summary>
    public ReadOnlySpan<int> Relations => _relations;

    /// <summary>[Count] tail entity ids.</summary>
    public ReadOnlySpan<int> Tails => _tails;
}
