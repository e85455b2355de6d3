namespace Kgglm.Data;

/// <summary>
/// Everything that decides how a dataset folder becomes ids, splits and a graph. Each concern is
/// its own record; every default is hopwise's effective value for KGGLM on ml-100k, so
/// <c>new DatasetOptions()</c> reproduces hopwise's numbers.
/// </summary>
public sealed record DatasetOptions
{
    /// <summary>Column names of the atomic files (<c>*_FIELD</c> keys).</summary>
    public FieldNames Fields { get; init; } = new();

    /// <summary>Which columns of which files are read (<c>load_col</c>).</summary>
    public LoadColumns LoadColumns { get; init; } = new();

    /// <summary>
    /// Separators of the atomic files (<c>field_separator</c>, <c>seq_separator</c>).
    /// </summary>
    public FileFormat Format { get; init; } = new();

    /// <summary>Interaction and KG filters, applied in SPEC order.</summary>
    public FilterOptions Filters { get; init; } = new();

    /// <summary>Relation options of the knowledge graph.</summary>
    public KgOptions Kg { get; init; } = new();

    /// <summary>How interactions are split into train / valid / test (<c>eval_args</c>).</summary>
    public SplitOptions Split { get; init; } = new();

    /// <summary>
    /// <c>seed</c>, default 2024: seeds the <see cref="SplitOrder.Random"/> shuffle.
    /// </summary>
    public int Seed { get; init; } = 2024;
}

/// <summary>
/// Column names of the atomic files; all ids in these columns are opaque strings.
/// </summary>
public sealed record FieldNames
{
    /// <summary><c>USER_ID_FIELD</c>, default <c>user_id</c> (.inter and .user).</summary>
    public string UserId { get; init; } = "user_id";

    /// <summary><c>ITEM_ID_FIELD</c>, default <c>item_id</c> (.inter, .link and .item).</summary>
    public string ItemId { get; init; } = "item_id";

    /// <summary><c>RATING_FIELD</c>, default <c>rating</c> (.inter, optional).</summary>
    public string Rating { get; init; } = "rating";

    /// <summary>
    /// <c>TIME_FIELD</c>, default <c>timestamp</c> (.inter, optional unless TO order).
    /// </summary>
    public string Time { get; init; } = "timestamp";

    /// <summary><c>HEAD_ENTITY_ID_FIELD</c>, default <c>head_id</c> (.kg).</summary>
    public string HeadEntityId { get; init; } = "head_id";

    /// <summary><c>RELATION_ID_FIELD</c>, default <c>relation_id</c> (.kg).</summary>
    public string RelationId { get; init; } = "relation_id";

    /// <summary><c>TAIL_ENTITY_ID_FIELD</c>, default <c>tail_id</c> (.kg).</summary>
    public string TailEntityId { get; init; } = "tail_id";

    /// <summary><c>ENTITY_ID_FIELD</c>, default <c>entity_id</c> (.link).</summary>
    public string EntityId { get; init; } = "entity_id";
}

/// <summary>
/// <c>load_col</c>: the columns read from each file. A null list for .user means the file is
/// not read (hopwise reads only the files named in <c>load_col</c>); the required columns of
/// .inter, .kg and .link are always read. Defaults are hopwise's ml-100k values.
/// </summary>
public sealed record LoadColumns
{
    /// <summary>
    /// hopwise <c>load_col: None</c>: every column of every present file is read and the lists
    /// below are ignored. Default false.
    /// </summary>
    public bool AllColumns { get; init; }

    /// <summary>
    /// <c>load_col.inter</c>, default <c>[user_id, item_id, rating, timestamp]</c>.
    /// </summary>
    public IReadOnlyList<string>? Inter { get; init; } =
        ["user_id", "item_id", "rating", "timestamp"];

    /// <summary><c>load_col.kg</c>, default <c>[head_id, relation_id, tail_id]</c>.</summary>
    public IReadOnlyList<string>? Kg { get; init; } = ["head_id", "relation_id", "tail_id"];

    /// <summary><c>load_col.link</c>, default <c>[item_id, entity_id]</c>.</summary>
    public IReadOnlyList<string>? Link { get; init; } = ["item_id", "entity_id"];

    /// <summary>
    /// <c>load_col.user</c>, default <c>[user_id, gender, age]</c>; users that occur only in
    /// .user get ids after the users of .inter. Null: .user is not read.
    /// </summary>
    public IReadOnlyList<string>? User { get; init; } = ["user_id", "gender", "age"];
}

/// <summary>Separators of the atomic files.</summary>
public sealed record FileFormat
{
    /// <summary><c>field_separator</c>, default a tab.</summary>
    public string FieldSeparator { get; init; } = "\t";

    /// <summary>
    /// <c>seq_separator</c>, default a space: separates the items of <c>token_seq</c> and
    /// <c>float_seq</c> fields. Kgglm keeps sequence fields as text (titles), so it only matters
    /// for how titles are displayed.
    /// </summary>
    public string SeqSeparator { get; init; } = " ";
}

/// <summary>How duplicate (user, item) interactions are treated (<c>rm_dup_inter</c>).</summary>
public enum DuplicatePolicy
{
    /// <summary><c>rm_dup_inter: None</c> (default): duplicates are kept.</summary>
    Keep,

    /// <summary>
    /// <c>rm_dup_inter: first</c>: the earliest occurrence (by timestamp) is kept.
    /// </summary>
    First,

    /// <summary><c>rm_dup_inter: last</c>: the latest occurrence (by timestamp) is kept.</summary>
    Last,
}

/// <summary>
/// Interaction and KG filters; ml-100k defaults: none (only the link filter runs).
/// </summary>
public sealed record FilterOptions
{
    /// <summary><c>rm_dup_inter</c>, default <see cref="DuplicatePolicy.Keep"/>.</summary>
    public DuplicatePolicy RemoveDuplicates { get; init; } = DuplicatePolicy.Keep;

    /// <summary>
    /// <c>val_interval</c>, default none: per float column of .inter, the values kept, e.g.
    /// <c>rating → [3,inf)</c>. A row is kept when every listed column lies in its set.
    /// </summary>
    public IReadOnlyDictionary<string, IntervalSet> ValueIntervals { get; init; } =
        new Dictionary<string, IntervalSet>();

    /// <summary><c>user_inter_num_interval</c>, default null: k-core bound on users.</summary>
    public IntervalSet? UserInteractionCount { get; init; }

    /// <summary><c>item_inter_num_interval</c>, default null: k-core bound on items.</summary>
    public IntervalSet? ItemInteractionCount { get; init; }

    /// <summary>
    /// <c>entity_kg_num_interval</c>, default null: bound on the triples an entity occurs in
    /// (as head plus as tail).
    /// </summary>
    public IntervalSet? EntityTripleCount { get; init; }

    /// <summary>
    /// <c>relation_kg_num_interval</c>, default null: bound on triples per relation.
    /// </summary>
    public IntervalSet? RelationTripleCount { get; init; }
}

/// <summary>Relation options of the knowledge graph.</summary>
public sealed record KgOptions
{
    /// <summary>
    /// <c>kg_reverse_r</c>, default false: adds, per KG relation r, an inverse relation named
    /// <c>r + "_r"</c> and the reversed triples (placed before the UI relation).
    /// </summary>
    public bool ReverseRelations { get; init; }

    /// <summary>
    /// <c>ui_relation</c>, default <c>[UI-Relation]</c>: the user–item relation name.
    /// </summary>
    public string UiRelation { get; init; } = "[UI-Relation]";
}

/// <summary>How interactions are split (<c>eval_args.split</c>).</summary>
public enum SplitMode
{
    /// <summary><c>RS</c>: by ratio, per group (default <c>[0.8, 0.1, 0.1]</c>).</summary>
    Ratio,

    /// <summary><c>LS</c>: leave one out, per group.</summary>
    LeaveOneOut,
}

/// <summary>The <c>LS</c> variants of hopwise.</summary>
public enum LeaveOneOutMode
{
    /// <summary><c>valid_and_test</c>: last → test, second to last → valid.</summary>
    ValidAndTest,

    /// <summary><c>valid_only</c>: last → valid; test is empty.</summary>
    ValidOnly,

    /// <summary><c>test_only</c>: last → test; valid is empty.</summary>
    TestOnly,
}

/// <summary><c>eval_args.order</c>.</summary>
public enum SplitOrder
{
    /// <summary><c>RO</c> (default): a seeded shuffle before splitting.</summary>
    Random,

    /// <summary><c>TO</c>: a stable sort by timestamp before splitting.</summary>
    Time,
}

/// <summary>
/// <c>eval_args</c>: split, grouping and order. Default <c>RS [0.8,0.1,0.1], user, RO</c>.
/// </summary>
public sealed record SplitOptions
{
    /// <summary>
    /// <c>split</c> key: <c>RS</c> or <c>LS</c>; default <see cref="SplitMode.Ratio"/>.
    /// </summary>
    public SplitMode Mode { get; init; } = SplitMode.Ratio;

    /// <summary>
    /// <c>split.RS</c>, default <c>[0.8, 0.1, 0.1]</c>: train, valid, test ratios (normalised to
    /// sum 1). Two ratios mean train and test, with an empty valid split.
    /// </summary>
    public IReadOnlyList<double> Ratios { get; init; } = [0.8, 0.1, 0.1];

    /// <summary><c>split.LS</c>, default <see cref="LeaveOneOutMode.ValidAndTest"/>.</summary>
    public LeaveOneOutMode LeaveOneOut { get; init; } = LeaveOneOutMode.ValidAndTest;

    /// <summary>
    /// <c>group_by</c>, default true (<c>user</c>): each user's interactions are split on their
    /// own; false (<c>None</c>) splits the whole interaction list at once.
    /// </summary>
    public bool GroupByUser { get; init; } = true;

    /// <summary><c>order</c>, default <see cref="SplitOrder.Random"/>.</summary>
    public SplitOrder Order { get; init; } = SplitOrder.Random;
}
