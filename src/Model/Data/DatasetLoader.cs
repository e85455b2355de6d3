using System.Diagnostics;

namespace Kgglm.Data;

/// <summary>
/// Reads a dataset folder and applies hopwise's processing in order: read, filter (empty ids,
/// <c>rm_dup_inter</c>, <c>val_interval</c>, k-core, KG filters, link filter), remap ids, split,
/// build the graph and the vocabulary.
/// </summary>
internal static class DatasetLoader
{
    /// <summary>The raw columns of .inter, as interner ids (-1 = empty field).</summary>
    sealed class RawInter
    {
        public readonly List<int> User = [];
        public readonly List<int> Item = [];
        public readonly Dictionary<string, List<double>> Floats = new(StringComparer.Ordinal);
        public int Rows;
    }

    sealed class RawKg
    {
        public readonly List<int> Head = [];
        public readonly List<int> Relation = [];
        public readonly List<int> Tail = [];
    }

    public static Dataset Load(string folder, string name, DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var fields = options.Fields;
        var columns = options.LoadColumns;
        string PathOf(string ext) => Path.Combine(folder, $"{name}.{ext}");
        string interPath = PathOf("inter"), kgPath = PathOf("kg"), linkPath = PathOf("link");
        var stats = new LoadCounts();

        // 1. Read. Users of .inter and .user share one interner; ids follow first appearance.
        var users = new TokenInterner();
        var items = new TokenInterner();
        var entities = new TokenInterner();
        var relations = new TokenInterner();
        var inter = ReadInter(interPath, options, users, items);
        var userOnly = new List<int>();
        string userPath = PathOf("user");
        if ((columns.AllColumns || columns.User is not null) && File.Exists(userPath))
        {
            using var reader = AtomicFileReader.Open(userPath, options.Format);
            int col = reader.RequireColumn(fields.UserId);
            while (reader.ReadRow())
            {
                var field = reader.Field(col);
                if (!field.IsEmpty)
                {
                    userOnly.Add(users.GetOrAdd(field));
                }
            }
        }
        var kg = ReadKg(kgPath, options, entities, relations);
        var (linkItem, linkEntity) = ReadLinks(linkPath, options, items, entities, stats);

        stats.Stage("read", clock);
        // 2. Filter interactions, then the KG, then links; `rows` and `triples` index raw rows.
        var rows = new List<int>(inter.Rows);
        var userCol = inter.User;
        var itemCol = inter.Item;
        for (int k = 0; k < inter.Rows; k++)
        {
            if (userCol[k] >= 0 && itemCol[k] >= 0)
            {
                rows.Add(k);
            }
        }
        stats.EmptyIdRows = inter.Rows - rows.Count;
        inter.Floats.TryGetValue(fields.Time, out var time);
        rows = RemoveDuplicates(rows, inter, time, options.Filters.RemoveDuplicates);
        rows = FilterValues(rows, inter, options.Filters, interPath);
        rows = FilterInteractionCounts(rows, inter, users.Count, items.Count, options.Filters);
        var triples = FilterTriples(kg, entities.Count, relations.Count, options.Filters);
        stats.InteractionsBeforeLinkFilter = rows.Count;

        var itemToEntity = new int[items.Count];
        var entityToItem = new int[entities.Count];
        Array.Fill(itemToEntity, -1);
        Array.Fill(entityToItem, -1);
        for (int k = 0; k < linkItem.Count; k++)
        {
            // A later line for the same item or entity wins, as in hopwise's dicts.
            itemToEntity[linkItem[k]] = linkEntity[k];
            entityToItem[linkEntity[k]] = linkItem[k];
        }
        var itemPresent = new bool[items.Count];
        foreach (int k in rows)
        {
            itemPresent[itemCol[k]] = true;
        }
        var entityPresent = new bool[entities.Count];
        foreach (int k in triples)
        {
            entityPresent[kg.Head[k]] = entityPresent[kg.Tail[k]] = true;
        }
        for (int i = 0; i < items.Count; i++)
        {
            int e = itemToEntity[i];
            if (e >= 0 && (!itemPresent[i] || !entityPresent[e]))
            {
                itemToEntity[i] = -1;
                entityToItem[e] = -1;
                stats.LinksFiltered++;
            }
        }
        rows = rows.FindAll(k => itemToEntity[itemCol[k]] >= 0);
        stats.LinksKept = itemToEntity.Count(e => e >= 0);
        if (rows.Count == 0)
        {
            throw new DataFormatException(interPath, 0,
                $"expected at least one interaction after filtering, found none ({inter.Rows} "
                + $"read, {stats.InteractionsBeforeLinkFilter} before the link filter, "
                + $"{stats.LinksKept} links kept)");
        }

        stats.Stage("filter", clock);
        // 3. Remap. Users: first appearance in the kept rows, then users only in .user.
        var userId = new int[users.Count];
        var userRaw = new List<string> { IdMap.PadToken };
        void AssignUser(int raw)
        {
            if (userId[raw] == 0)
            {
                userId[raw] = userRaw.Count;
                userRaw.Add(users.GetString(raw));
            }
        }
        foreach (int k in rows)
        {
            AssignUser(userCol[k]);
        }
        foreach (int raw in userOnly)
        {
            AssignUser(raw);
        }

        // Items: first appearance, then a stable reorder with unlinked items first.
        var firstSeenItems = new List<int>();
        var seen = new bool[items.Count];
        foreach (int k in rows)
        {
            if (!seen[itemCol[k]])
            {
                seen[itemCol[k]] = true;
                firstSeenItems.Add(itemCol[k]);
            }
        }
        var itemOrder = firstSeenItems.Where(i => itemToEntity[i] < 0)
            .Concat(firstSeenItems.Where(i => itemToEntity[i] >= 0)).ToList();
        var itemId = new int[items.Count];
        var itemRaw = new List<string>(itemOrder.Count + 1) { IdMap.PadToken };
        var entityRaw = new List<string>(itemOrder.Count + 1) { IdMap.PadToken };
        var entityId = new int[entities.Count];
        Array.Fill(entityId, -1);
        foreach (int raw in itemOrder)
        {
            itemId[raw] = itemRaw.Count;
            itemRaw.Add(items.GetString(raw));
            int e = itemToEntity[raw];
            if (e >= 0)
            {
                entityId[e] = itemId[raw];
            }
            // An unlinked item is a virtual entity named like the item.
            entityRaw.Add(e >= 0 ? entities.GetString(e) : items.GetString(raw));
        }
        int itemCount = itemRaw.Count;

        // Entities not linked to an item: ids from itemCount, all heads first, then all tails.
        void AssignEntity(int raw)
        {
            if (entityId[raw] < 0)
            {
                entityId[raw] = entityRaw.Count;
                entityRaw.Add(entities.GetString(raw));
            }
        }
        foreach (int k in triples)
        {
            AssignEntity(kg.Head[k]);
        }
        foreach (int k in triples)
        {
            AssignEntity(kg.Tail[k]);
        }

        // Relations: [PAD], KG relations by first appearance, inverses, the UI relation last.
        var relationId = new int[relations.Count];
        var relationRaw = new List<string> { IdMap.PadToken };
        foreach (int k in triples)
        {
            int r = kg.Relation[k];
            if (relationId[r] == 0)
            {
                relationId[r] = relationRaw.Count;
                relationRaw.Add(relations.GetString(r));
            }
        }
        int kgRelations = relationRaw.Count - 1;
        bool reverse = options.Kg.ReverseRelations;
        if (reverse)
        {
            for (int r = 1; r <= kgRelations; r++)
            {
                relationRaw.Add(relationRaw[r] + "_r");
            }
        }
        int uiRelation = relationRaw.Count;
        relationRaw.Add(options.Kg.UiRelation);

        stats.Stage("remap", clock);
        // 4. Internal arrays: interactions in kept order, triples in .kg order (+ reversed).
        int n = rows.Count;
        var interUser = new int[n];
        var interItem = new int[n];
        inter.Floats.TryGetValue(fields.Rating, out var rating);
        var ratings = rating is null ? null : new double[n];
        var timestamps = time is null ? null : new double[n];
        for (int k = 0; k < n; k++)
        {
            int row = rows[k];
            interUser[k] = userId[userCol[row]];
            interItem[k] = itemId[itemCol[row]];
            if (ratings is not null)
            {
                ratings[k] = rating![row];
            }
            if (timestamps is not null)
            {
                timestamps[k] = time![row];
            }
        }
        int t = triples.Count, tripleCount = reverse ? 2 * t : t;
        var heads = new int[tripleCount];
        var rels = new int[tripleCount];
        var tails = new int[tripleCount];
        for (int k = 0; k < t; k++)
        {
            int row = triples[k];
            heads[k] = entityId[kg.Head[row]];
            rels[k] = relationId[kg.Relation[row]];
            tails[k] = entityId[kg.Tail[row]];
            if (reverse)
            {
                heads[t + k] = tails[k];
                rels[t + k] = rels[k] + kgRelations;
                tails[t + k] = heads[k];
            }
        }

        stats.Stage("arrays", clock);
        // 5. Split, graph from train only, vocabulary.
        int userCount = userRaw.Count, entityCount = entityRaw.Count;
        var splits = Splitter.Split(interUser, timestamps, userCount, options.Split, options.Seed,
            interPath);
        Interactions Take(int[] index)
        {
            return new Interactions(
                [.. index.Select(k => interUser[k])],
                [.. index.Select(k => interItem[k])],
                ratings is null ? null : [.. index.Select(k => ratings[k])],
                timestamps is null ? null : [.. index.Select(k => timestamps[k])]);
        }
        var all = new Interactions(interUser, interItem, ratings, timestamps);
        var train = Take(splits[0]);
        var valid = Take(splits[1]);
        var test = Take(splits[2]);
        stats.Stage("split", clock);
        var kgTriples = new KgTriples(heads, rels, tails);
        var graph = KnowledgeGraph.Build(userCount, itemCount, entityCount, relationRaw.Count,
            uiRelation, train, kgTriples);
        stats.Stage("graph", clock);
        var vocabulary = Vocabulary.Build(userCount, itemCount, entityCount, relationRaw.Count);
        stats.Stage("vocabulary", clock);
        var titles = ReadTitles(PathOf("item"), options, itemRaw);

        stats.InteractionsRead = inter.Rows;
        stats.KgRelations = kgRelations;
        stats.Elapsed = clock.Elapsed;
        return new Dataset(name, folder, options,
            new IdMap([.. userRaw]), new IdMap([.. itemRaw]), new IdMap([.. entityRaw]),
            new IdMap([.. relationRaw]), uiRelation, all, train, valid, test, kgTriples, graph,
            vocabulary, titles, stats);
    }

    static RawInter ReadInter(string path, DatasetOptions options, TokenInterner users,
        TokenInterner items)
    {
        using var reader = AtomicFileReader.Open(path, options.Format);
        int userCol = reader.RequireColumn(options.Fields.UserId);
        int itemCol = reader.RequireColumn(options.Fields.ItemId);
        var raw = new RawInter();
        var floatCols = new List<(int Column, List<double> Values)>();
        var load = options.LoadColumns;
        for (int c = 0; c < reader.Names.Count; c++)
        {
            if (reader.Types[c] == FieldType.Float
                && (load.AllColumns || load.Inter is null || load.Inter.Contains(reader.Names[c])))
            {
                var values = new List<double>();
                raw.Floats[reader.Names[c]] = values;
                floatCols.Add((c, values));
            }
        }
        while (reader.ReadRow())
        {
            var user = reader.Field(userCol);
            var item = reader.Field(itemCol);
            raw.User.Add(user.IsEmpty ? -1 : users.GetOrAdd(user));
            raw.Item.Add(item.IsEmpty ? -1 : items.GetOrAdd(item));
            foreach (var (column, values) in floatCols)
            {
                values.Add(reader.Float(column));
            }
        }
        raw.Rows = raw.User.Count;
        return raw;
    }

    static RawKg ReadKg(string path, DatasetOptions options, TokenInterner entities,
        TokenInterner relations)
    {
        using var reader = AtomicFileReader.Open(path, options.Format);
        var f = options.Fields;
        int headCol = reader.RequireColumn(f.HeadEntityId);
        int relCol = reader.RequireColumn(f.RelationId);
        int tailCol = reader.RequireColumn(f.TailEntityId);
        var kg = new RawKg();
        while (reader.ReadRow())
        {
            var head = reader.Field(headCol);
            var rel = reader.Field(relCol);
            var tail = reader.Field(tailCol);
            if (head.IsEmpty || rel.IsEmpty || tail.IsEmpty)
            {
                throw new DataFormatException(path, reader.LineNumber,
                    $"expected non-empty {f.HeadEntityId}, {f.RelationId} and {f.TailEntityId}, "
                    + "found an empty field");
            }
            kg.Head.Add(entities.GetOrAdd(head));
            kg.Relation.Add(relations.GetOrAdd(rel));
            kg.Tail.Add(entities.GetOrAdd(tail));
        }
        return kg;
    }

    // Links whose item never occurs in .inter or whose entity never occurs in .kg are dropped
    // here (the link filter would drop them anyway); they are counted, with the first line.
    static (List<int> Items, List<int> Entities) ReadLinks(string path, DatasetOptions options,
        TokenInterner items, TokenInterner entities, LoadCounts stats)
    {
        using var reader = AtomicFileReader.Open(path, options.Format);
        int itemCol = reader.RequireColumn(options.Fields.ItemId);
        int entityCol = reader.RequireColumn(options.Fields.EntityId);
        var linkItems = new List<int>();
        var linkEntities = new List<int>();
        while (reader.ReadRow())
        {
            stats.LinksRead++;
            int item = items.Find(reader.Field(itemCol));
            int entity = entities.Find(reader.Field(entityCol));
            if (item < 0)
            {
                stats.LinksUnknownItem++;
                stats.FirstUnknownItemLine ??= $"{path}:{reader.LineNumber}: item "
                    + $"'{reader.FieldString(itemCol)}' never occurs in the interactions";
            }
            else if (entity < 0)
            {
                stats.LinksUnknownEntity++;
                stats.FirstUnknownEntityLine ??= $"{path}:{reader.LineNumber}: entity "
                    + $"'{reader.FieldString(entityCol)}' never occurs in the KG";
            }
            else
            {
                linkItems.Add(item);
                linkEntities.Add(entity);
            }
        }
        return (linkItems, linkEntities);
    }

    // hopwise sorts by time before dropping duplicates, so the kept rows come out in time order.
    static List<int> RemoveDuplicates(List<int> rows, RawInter inter, List<double>? time,
        DuplicatePolicy policy)
    {
        if (policy == DuplicatePolicy.Keep)
        {
            return rows;
        }
        if (time is not null)
        {
            rows = [.. rows.OrderBy(k => time[k])];
        }
        var seen = new HashSet<long>();
        var kept = new List<int>(rows.Count);
        bool last = policy == DuplicatePolicy.Last;
        for (int j = 0; j < rows.Count; j++)
        {
            int k = rows[last ? rows.Count - 1 - j : j];
            if (seen.Add(((long)inter.User[k] << 32) | (uint)inter.Item[k]))
            {
                kept.Add(k);
            }
        }
        if (last)
        {
            kept.Reverse();
        }
        return kept;
    }

    static List<int> FilterValues(List<int> rows, RawInter inter, FilterOptions filters,
        string path)
    {
        foreach (var (field, set) in filters.ValueIntervals)
        {
            if (!inter.Floats.TryGetValue(field, out var values))
            {
                throw new DataFormatException(path, 1,
                    $"expected a loaded float column '{field}' for val_interval, found columns "
                    + $"'{string.Join(", ", inter.Floats.Keys)}'");
            }
            rows = rows.FindAll(k => set.Contains(values[k]));
        }
        return rows;
    }

    // k-core: drop users and items whose interaction count is out of bounds until none is.
    static List<int> FilterInteractionCounts(List<int> rows, RawInter inter, int users,
        int items, FilterOptions filters)
    {
        var userBound = filters.UserInteractionCount;
        var itemBound = filters.ItemInteractionCount;
        if (userBound is null && itemBound is null)
        {
            return rows;
        }
        while (true)
        {
            var userCount = new int[users];
            var itemCount = new int[items];
            foreach (int k in rows)
            {
                userCount[inter.User[k]]++;
                itemCount[inter.Item[k]]++;
            }
            var next = rows.FindAll(k =>
                (userBound is null || userBound.Contains(userCount[inter.User[k]]))
                && (itemBound is null || itemBound.Contains(itemCount[inter.Item[k]])));
            if (next.Count == rows.Count)
            {
                return rows;
            }
            rows = next;
        }
    }

    // KG filters: drop triples of entities / relations whose triple count is out of bounds.
    static List<int> FilterTriples(RawKg kg, int entities, int relations, FilterOptions filters)
    {
        var rows = Enumerable.Range(0, kg.Head.Count).ToList();
        var entityBound = filters.EntityTripleCount;
        var relationBound = filters.RelationTripleCount;
        if (entityBound is null && relationBound is null)
        {
            return rows;
        }
        while (true)
        {
            var entityCount = new int[entities];
            var relationCount = new int[relations];
            foreach (int k in rows)
            {
                entityCount[kg.Head[k]]++;
                entityCount[kg.Tail[k]]++;
                relationCount[kg.Relation[k]]++;
            }
            var next = rows.FindAll(k =>
                (entityBound is null || (entityBound.Contains(entityCount[kg.Head[k]])
                    && entityBound.Contains(entityCount[kg.Tail[k]])))
                && (relationBound is null
                    || relationBound.Contains(relationCount[kg.Relation[k]])));
            if (next.Count == rows.Count)
            {
                return rows;
            }
            rows = next;
        }
    }

    // Titles are for display only: .item never changes ids. The title column is the first
    // whose name contains "title", else none.
    static string?[] ReadTitles(string path, DatasetOptions options, List<string> itemRaw)
    {
        var titles = new string?[itemRaw.Count];
        if (!File.Exists(path))
        {
            return titles;
        }
        using var reader = AtomicFileReader.Open(path, options.Format);
        int itemCol = reader.ColumnOf(options.Fields.ItemId);
        int titleCol = -1;
        for (int c = 0; c < reader.Names.Count && titleCol < 0; c++)
        {
            if (reader.Names[c].Contains("title", StringComparison.OrdinalIgnoreCase))
            {
                titleCol = c;
            }
        }
        if (itemCol < 0 || titleCol < 0)
        {
            return titles;
        }
        var ids = new IdMap([.. itemRaw]);
        while (reader.ReadRow())
        {
            if (ids.TryGetId(reader.FieldString(itemCol), out int id) && id > 0)
            {
                titles[id] = reader.FieldString(titleCol);
            }
        }
        return titles;
    }
}

/// <summary>Counts gathered while loading, for <see cref="DatasetStatistics"/>.</summary>
internal sealed class LoadCounts
{
    public int InteractionsRead;
    public int EmptyIdRows;
    public int InteractionsBeforeLinkFilter;
    public int LinksRead;
    public int LinksKept;
    public int LinksUnknownItem;
    public int LinksUnknownEntity;
    public int LinksFiltered;
    public string? FirstUnknownItemLine;
    public string? FirstUnknownEntityLine;
    public int KgRelations;
    public TimeSpan Elapsed;
    public readonly List<(string Stage, TimeSpan Time)> Stages = [];
    TimeSpan _last;

    /// <summary>Records the time since the previous stage ended.</summary>
    public void Stage(string name, Stopwatch clock)
    {
        Stages.Add((name, clock.Elapsed - _last));
        _last = clock.Elapsed;
    }
}
