using Kgglm.Common;

namespace Kgglm.Data;

/// <summary>
/// The KG triples split into train / valid / test for knowledge completion (tail prediction).
/// <para>
/// Either read as given from <c>NAME.kg_train</c>, <c>NAME.kg_valid</c>, <c>NAME.kg_test</c>
/// (atomic files with the .kg header; all three must be present) or drawn from the dataset's
/// triples by a seeded shuffle. The unit of the seeded split is the undirected edge
/// <c>{h, r, t}</c>: every copy of (h, r, t) and of (t, r, h) goes to the same side, because the
/// graph lists an edge at both ends and the fine-tuning corpus walks it both ways; splitting the
/// two directions apart would put the test answer <c>h r t</c> in the training paths.
/// </para>
/// </summary>
public sealed class KgSplit
{
    private const ulong Purpose = 0x4B47; // "KG": the stream of the triple split

    /// <summary>File suffixes of a dataset that ships its own split.</summary>
    public static IReadOnlyList<string> FileSuffixes { get; } = ["kg_train", "kg_valid", "kg_test"];

    internal KgSplit(KgTriples train, KgTriples valid, KgTriples test, string source)
    {
        Train = train;
        Valid = valid;
        Test = test;
        Source = source;
    }

    /// <summary>Triples the model may see: graph, walks, paths, banned tails.</summary>
    public KgTriples Train { get; }

    /// <summary>Held-out triples for validation.</summary>
    public KgTriples Valid { get; }

    /// <summary>Held-out triples for the test.</summary>
    public KgTriples Test { get; }

    /// <summary>How the split was made (printed in logs), e.g. "seeded 0.8/0.1/0.1".</summary>
    public string Source { get; }

    /// <summary>
    /// The split of <paramref name="dataset"/>: its shipped files when present, else a seeded
    /// split of its triples by <paramref name="ratios"/> (train, valid, test; normalised).
    /// </summary>
    public static KgSplit For(Dataset dataset, IReadOnlyList<double> ratios, int seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return FromFiles(dataset) ?? Seeded(dataset, ratios, seed);
    }

    /// <summary>
    /// Seeded split of the triples by undirected edge (see the class remarks). Edge groups are
    /// listed in first-appearance order, shuffled with the seed's split stream, and cut at
    /// <c>floor(n·r0/Σr)</c> and <c>floor(n·(r0+r1)/Σr)</c>. With <c>kg_reverse_r</c> the
    /// inverse triples (the second half) follow their originals into the same side.
    /// </summary>
    public static KgSplit Seeded(Dataset dataset, IReadOnlyList<double> ratios, int seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(ratios);
        if (ratios.Count != 3 || ratios.Any(r => r < 0 || !double.IsFinite(r)) || ratios.Sum() <= 0)
        {
            throw new ArgumentException(
                $"expected three non-negative ratios, found [{string.Join(", ", ratios)}]",
                nameof(ratios));
        }

        KgTriples all = dataset.Triples;
        bool reverse = dataset.Options.Kg.ReverseRelations;
        int n = reverse ? all.Count / 2 : all.Count;

        // 1. Group the triples by undirected edge (r, min(h, t), max(h, t)).
        var groupOf = new int[n];
        var groups = new Dictionary<(int, int, int), int>();
        for (int k = 0; k < n; k++)
        {
            int h = all.Heads[k], r = all.Relations[k], t = all.Tails[k];
            var key = (r, Math.Min(h, t), Math.Max(h, t));
            if (!groups.TryGetValue(key, out int g))
            {
                g = groups.Count;
                groups.Add(key, g);
            }

            groupOf[k] = g;
        }

        // 2. Shuffle the groups and cut by the ratios: side[g] = 0 train, 1 valid, 2 test.
        int count = groups.Count;
        var order = Enumerable.Range(0, count).ToArray();
        SplitMix64.Stream((ulong)seed, Purpose, 0).Shuffle(order.AsSpan());
        double sum = ratios.Sum();
        int trainEnd = (int)Math.Floor(count * ratios[0] / sum);
        int validEnd = Math.Max(trainEnd, (int)Math.Floor(count * (ratios[0] + ratios[1]) / sum));
        var side = new byte[count];
        for (int i = 0; i < count; i++)
        {
            side[order[i]] = (byte)(i < trainEnd ? 0 : i < validEnd ? 1 : 2);
        }

        // 3. The triples of each side in row order (inverses of train triples kept in train).
        var parts = new[] { new List<int>(), new List<int>(), new List<int>() };
        for (int k = 0; k < n; k++)
        {
            parts[side[groupOf[k]]].Add(k);
        }

        if (reverse)
        {
            parts[0].AddRange(parts[0].Select(k => k + n).ToList());
        }

        string text = string.Join("/", ratios.Select(r => (r / sum).ToString("0.###",
            System.Globalization.CultureInfo.InvariantCulture)));
        return new KgSplit(Take(all, parts[0]), Take(all, parts[1]), Take(all, parts[2]),
            $"seeded {text} by undirected edge, seed {seed}");
    }

    /// <summary>
    /// The split shipped as <c>NAME.kg_train</c>, <c>NAME.kg_valid</c>, <c>NAME.kg_test</c> in
    /// the dataset folder, or null when none of them exists. Ids are mapped with the dataset's
    /// entity and relation maps (built from <c>NAME.kg</c>, which must therefore name every
    /// entity of the three files); an unknown id is an error naming file and line.
    /// </summary>
    public static KgSplit? FromFiles(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        string[] paths = FileSuffixes
            .Select(s => Path.Combine(dataset.Folder, $"{dataset.Name}.{s}")).ToArray();
        int present = paths.Count(File.Exists);
        if (present == 0)
        {
            return null;
        }

        if (present < paths.Length)
        {
            string missing = paths.First(p => !File.Exists(p));
            throw new DataFormatException(missing, 0,
                "a dataset that ships a KG split needs all of .kg_train, .kg_valid and .kg_test; " +
                "this one is missing");
        }

        KgTriples[] sides = paths.Select(p => Read(p, dataset)).ToArray();
        return new KgSplit(sides[0], sides[1], sides[2], $"files {dataset.Name}.kg_*");
    }

    private static KgTriples Read(string path, Dataset d)
    {
        using var reader = AtomicFileReader.Open(path, d.Options.Format);
        FieldNames f = d.Options.Fields;
        int headCol = reader.RequireColumn(f.HeadEntityId);
        int relCol = reader.RequireColumn(f.RelationId);
        int tailCol = reader.RequireColumn(f.TailEntityId);
        List<int> heads = [], relations = [], tails = [];
        while (reader.ReadRow())
        {
            int Id(IdMap map, int column, string what)
            {
                string raw = reader.FieldString(column);
                return map.TryGetId(raw, out int id) && id > 0 ? id
                    : throw new DataFormatException(path, reader.LineNumber,
                        $"{what} '{raw}' does not occur in {d.Name}.kg");
            }

            heads.Add(Id(d.Entities, headCol, "entity"));
            relations.Add(Id(d.Relations, relCol, "relation"));
            tails.Add(Id(d.Entities, tailCol, "entity"));
        }

        return new KgTriples([.. heads], [.. relations], [.. tails]);
    }

    private static KgTriples Take(KgTriples all, List<int> rows)
    {
        var heads = new int[rows.Count];
        var relations = new int[rows.Count];
        var tails = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            heads[i] = all.Heads[rows[i]];
            relations[i] = all.Relations[rows[i]];
            tails[i] = all.Tails[rows[i]];
        }

        return new KgTriples(heads, relations, tails);
    }
}
