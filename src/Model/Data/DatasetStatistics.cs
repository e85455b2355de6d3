using System.Globalization;

namespace Kgglm.Data;

/// <summary>
/// What hopwise prints about a dataset, plus the graph, split, vocabulary and link-filter counts.
/// Counts "with [PAD]" are hopwise's <c>*_num</c>; plain counts are real ids.
/// </summary>
public sealed class DatasetStatistics
{
    internal DatasetStatistics(Dataset d, LoadCounts counts)
    {
        Name = d.Name;
        UserIds = d.Users.Count;
        ItemIds = d.Items.Count;
        EntityIds = d.Entities.Count;
        RelationIds = d.Relations.Count;
        KgRelations = counts.KgRelations;
        InteractionsRead = counts.InteractionsRead;
        InteractionCount = d.Interactions.Count;
        DroppedByLinkFilter = counts.InteractionsBeforeLinkFilter - d.Interactions.Count;
        TripleCount = d.Triples.Count;
        NodeCount = d.Graph.NodeCount;
        EdgeCount = d.Graph.EdgeCount;
        TrainCount = d.Train.Count;
        ValidCount = d.Valid.Count;
        TestCount = d.Test.Count;
        VocabularySize = d.Vocabulary.Count;
        VocabularyFingerprint = d.Vocabulary.Fingerprint;
        LinksRead = counts.LinksRead;
        LinksKept = counts.LinksKept;
        LinksUnknownItem = counts.LinksUnknownItem;
        LinksUnknownEntity = counts.LinksUnknownEntity;
        LinksFiltered = counts.LinksFiltered;
        LoadTime = counts.Elapsed;
        StageTimes = counts.Stages;

        var users = new HashSet<int>();
        var items = new HashSet<int>();
        foreach (int u in d.Interactions.Users)
        {
            users.Add(u);
        }
        foreach (int i in d.Interactions.Items)
        {
            items.Add(i);
        }
        ActiveUsers = users.Count;
        ActiveItems = items.Count;

        var warnings = new List<string>();
        if (counts.FirstUnknownItemLine is { } item)
        {
            warnings.Add($"{item}; {counts.LinksUnknownItem} such link line(s) dropped");
        }
        if (counts.FirstUnknownEntityLine is { } entity)
        {
            warnings.Add($"{entity}; {counts.LinksUnknownEntity} such link line(s) dropped");
        }
        if (counts.EmptyIdRows > 0)
        {
            warnings.Add($"{counts.EmptyIdRows} interaction(s) with an empty user or item dropped");
        }
        Warnings = warnings;
    }

    /// <summary>Dataset name.</summary>
    public string Name { get; }

    /// <summary>hopwise <c>user_num</c> (incl. [PAD]).</summary>
    public int UserIds { get; }

    /// <summary>hopwise <c>item_num</c> (incl. [PAD]).</summary>
    public int ItemIds { get; }

    /// <summary>hopwise <c>entity_num</c> (incl. [PAD]).</summary>
    public int EntityIds { get; }

    /// <summary>hopwise <c>relation_num</c> (incl. [PAD] and the UI relation).</summary>
    public int RelationIds { get; }

    /// <summary>Distinct KG relations.</summary>
    public int KgRelations { get; }

    /// <summary>Users with at least one interaction.</summary>
    public int ActiveUsers { get; }

    /// <summary>Items with at least one interaction.</summary>
    public int ActiveItems { get; }

    /// <summary>Rows of .inter.</summary>
    public int InteractionsRead { get; }

    /// <summary>Interactions after every filter.</summary>
    public int InteractionCount { get; }

    /// <summary>Interactions dropped because their item has no kept link.</summary>
    public int DroppedByLinkFilter { get; }

    /// <summary>KG triples (incl. reversed ones with kg_reverse_r).</summary>
    public int TripleCount { get; }

    /// <summary>Graph nodes (incl. the PAD user and PAD item nodes).</summary>
    public int NodeCount { get; }

    /// <summary>Graph edges.</summary>
    public int EdgeCount { get; }

    /// <summary>Train interactions.</summary>
    public int TrainCount { get; }

    /// <summary>Valid interactions.</summary>
    public int ValidCount { get; }

    /// <summary>Test interactions.</summary>
    public int TestCount { get; }

    /// <summary>Tokens.</summary>
    public int VocabularySize { get; }

    /// <summary><see cref="Vocabulary.Fingerprint"/>.</summary>
    public ulong VocabularyFingerprint { get; }

    /// <summary>Lines of .link.</summary>
    public int LinksRead { get; }

    /// <summary>Items with a kept link.</summary>
    public int LinksKept { get; }

    /// <summary>Link lines whose item never occurs in .inter (dropped, not an error).</summary>
    public int LinksUnknownItem { get; }

    /// <summary>Link lines whose entity never occurs in .kg (dropped).</summary>
    public int LinksUnknownEntity { get; }

    /// <summary>Links dropped because filters removed their item or entity.</summary>
    public int LinksFiltered { get; }

    /// <summary>Wall time of the load (noisy).</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>Wall time per load stage (read, filter, remap, arrays, split, graph,
    /// vocab).</summary>
    public IReadOnlyList<(string Stage, TimeSpan Time)> StageTimes { get; }

    /// <summary>
    /// Things a user may want to know, each naming <c>file:line</c> where it can.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// hopwise's sparsity: 1 − interactions / (user_num · item_num), PAD included.
    /// </summary>
    public double Sparsity => 1.0 - (double)InteractionCount / ((double)UserIds * ItemIds);

    /// <summary>Interactions per active user (hopwise "average actions of users").</summary>
    public double AverageActionsOfUsers => (double)InteractionCount / Math.Max(1, ActiveUsers);

    /// <summary>Interactions per active item.</summary>
    public double AverageActionsOfItems => (double)InteractionCount / Math.Max(1, ActiveItems);

    /// <summary>hopwise's KG average degree: 2 · triples / entity_num.</summary>
    public double KgAverageDegree => 2.0 * TripleCount / EntityIds;

    /// <summary>The figures as (label, value) rows for a table.</summary>
    public IReadOnlyList<(string Label, string Value)> Rows()
    {
        static string N(long x) => x.ToString("N0", CultureInfo.InvariantCulture);
        static string F(double x, string format) =>
            x.ToString(format, CultureInfo.InvariantCulture);
        return
        [
            ("dataset", Name),
            ("users", $"{N(UserIds - 1)} ({N(UserIds)} ids with [PAD])"),
            ("items", $"{N(ItemIds - 1)} ({N(ItemIds)} ids with [PAD])"),
            ("interactions", $"{N(InteractionCount)} of {N(InteractionsRead)} read, "
                + $"{N(DroppedByLinkFilter)} dropped by the link filter"),
            ("sparsity", F(100 * Sparsity, "0.000") + " %"),
            ("average actions of users", F(AverageActionsOfUsers, "0.00")),
            ("average actions of items", F(AverageActionsOfItems, "0.00")),
            ("entities", $"{N(EntityIds - 1)} ({N(EntityIds)} ids with [PAD])"),
            ("relations", $"{N(KgRelations)} in the KG ({N(RelationIds)} ids with [PAD] "
                + "and the UI relation)"),
            ("triples", N(TripleCount)),
            ("KG average degree", F(KgAverageDegree, "0.00")),
            ("links", $"{N(LinksKept)} kept of {N(LinksRead)} read; dropped: "
                + $"{N(LinksUnknownItem)} item not in .inter, "
                + $"{N(LinksUnknownEntity)} entity not in .kg, {N(LinksFiltered)} filtered"),
            ("graph", $"{N(NodeCount)} nodes, {N(EdgeCount)} edges (train split)"),
            ("split train / valid / test", $"{N(TrainCount)} / {N(ValidCount)} / {N(TestCount)}"),
            ("vocabulary", $"{N(VocabularySize)} tokens, fingerprint "
                + VocabularyFingerprint.ToString("x16", CultureInfo.InvariantCulture)),
            ("load time", F(LoadTime.TotalMilliseconds, "0") + " ms ("
                + string.Join(", ", StageTimes.Select(s =>
                    s.Stage + " " + F(s.Time.TotalMilliseconds, "0")))
                + ")"),
        ];
    }
}
