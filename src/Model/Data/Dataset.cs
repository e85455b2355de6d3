namespace Kgglm.Data;

/// <summary>
/// A loaded dataset: id maps, interactions per split, KG triples, the train graph, the
/// vocabulary and display titles. Ids are hopwise's internal ids (0 = [PAD] in every space);
/// graph nodes follow <see cref="KnowledgeGraph"/>'s layout; tokens follow
/// <see cref="Vocabulary"/>.
/// </summary>
public sealed class Dataset
{
    readonly string?[] _titles;
    readonly LoadCounts _counts;

    internal Dataset(string name, string folder, DatasetOptions options, IdMap users, IdMap items,
        IdMap entities, IdMap relations, int uiRelation, Interactions all, Interactions train,
        Interactions valid, Interactions test, KgTriples triples, KnowledgeGraph graph,
        Vocabulary vocabulary, string?[] titles, LoadCounts counts)
    {
        Name = name;
        Folder = folder;
        Options = options;
        Users = users;
        Items = items;
        Entities = entities;
        Relations = relations;
        UiRelation = uiRelation;
        Interactions = all;
        Train = train;
        Valid = valid;
        Test = test;
        Triples = triples;
        Graph = graph;
        Vocabulary = vocabulary;
        _titles = titles;
        _counts = counts;
        TrainItems = ItemSets.From(train, users.Count);
        ValidItems = ItemSets.From(valid, users.Count);
        TestItems = ItemSets.From(test, users.Count);
        Statistics = new DatasetStatistics(this, counts);
    }

    /// <summary>
    /// Loads <c>folder/name.inter</c>, <c>.kg</c>, <c>.link</c> (required) and <c>.user</c>,
    /// <c>.item</c> (optional). Throws <see cref="DataFormatException"/> on bad input.
    /// </summary>
    public static Dataset Load(string folder, string name, DatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(name);
        return DatasetLoader.Load(folder, name, options ?? new DatasetOptions());
    }

    /// <summary>Loads a dataset found by <see cref="DatasetLocator"/>.</summary>
    public static Dataset Load(DatasetLocation location, DatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        return Load(location.Folder, location.Name, options);
    }

    /// <summary>Dataset name (file stem).</summary>
    public string Name { get; }

    /// <summary>Folder holding the atomic files.</summary>
    public string Folder { get; }

    /// <summary>Options it was loaded with.</summary>
    public DatasetOptions Options { get; }

    /// <summary>User ids (hopwise <c>user_num</c> = Count, [PAD] included).</summary>
    public IdMap Users { get; }

    /// <summary>Item ids (hopwise <c>item_num</c> = Count).</summary>
    public IdMap Items { get; }

    /// <summary>
    /// Entity ids (hopwise <c>entity_num</c> = Count): ids below <c>Items.Count</c> are the
    /// items (named by their linked KG entity), the rest pure KG entities.
    /// </summary>
    public IdMap Entities { get; }

    /// <summary>
    /// Relation names: [PAD], KG relations, inverses (kg_reverse_r), UI relation.
    /// </summary>
    public IdMap Relations { get; }

    /// <summary>Id of the user–item relation (<c>Relations.Count - 1</c>; 25 on ml-100k).</summary>
    public int UiRelation { get; }

    /// <summary>All interactions after filtering, in file order (before the split).</summary>
    public Interactions Interactions { get; }

    /// <summary>Train split.</summary>
    public Interactions Train { get; }

    /// <summary>Valid split.</summary>
    public Interactions Valid { get; }

    /// <summary>Test split.</summary>
    public Interactions Test { get; }

    /// <summary>Per user, sorted train items (history masked at validation).</summary>
    public ItemSets TrainItems { get; }

    /// <summary>Per user, sorted valid items.</summary>
    public ItemSets ValidItems { get; }

    /// <summary>Per user, sorted test items.</summary>
    public ItemSets TestItems { get; }

    /// <summary>KG triples in entity ids (never split).</summary>
    public KgTriples Triples { get; }

    /// <summary>The collaborative KG of the train split.</summary>
    public KnowledgeGraph Graph { get; }

    /// <summary>Token ids.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Counts and derived figures, as hopwise prints them.</summary>
    public DatasetStatistics Statistics { get; }

    /// <summary>
    /// The KG split of the link-prediction task, or null for recommendation. When set,
    /// <see cref="Triples"/> holds only its train triples and <see cref="Graph"/> is built from
    /// them, so valid and test triples are in no walk, path or banned set.
    /// </summary>
    public KgSplit? KgSplit { get; private init; }

    /// <summary>
    /// This dataset for link prediction: the same ids, interactions and vocabulary, with the
    /// triples and the graph restricted to <paramref name="split"/>'s train triples.
    /// </summary>
    public Dataset ForLinkPrediction(KgSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var graph = KnowledgeGraph.Build(Users.Count, Items.Count, Entities.Count,
            Relations.Count, UiRelation, Train, split.Train);
        return new Dataset(Name, Folder, Options, Users, Items, Entities, Relations, UiRelation,
            Interactions, Train, Valid, Test, split.Train, graph, Vocabulary, _titles, _counts)
        {
            KgSplit = split,
        };
    }

    /// <summary>Title of item <paramref name="item"/> from .item, null when unknown.</summary>
    public string? ItemTitle(int item) => _titles[item];

    /// <summary>Titles by item id (null where unknown).</summary>
    public IReadOnlyList<string?> ItemTitles => _titles;
}
