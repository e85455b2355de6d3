using Kgglm.Data;

namespace Kgglm.Evaluation;

/// <summary>
/// hopwise's path-quality (explainability) metrics (reference §7.4), computed over every path of
/// every evaluated user (one per recommended item, not cut at k: the value is the same for every
/// k except Fidelity's divisor). For a path <c>U –r1→ LI –…→ SE –r_h→ I</c>: the linking
/// interaction LI is <c>Nodes[1]</c>, the shared entity SE is <c>Nodes[^2]</c>, the path type
/// is the last relation <c>Relations[^1]</c>.
/// <para>
/// The per-user metrics average over the users that have at least one path, LIR and SEP over
/// all paths, as hopwise does (its path list simply has no entry for a user without paths).
/// Kgglm compares nodes by graph node id, so a user, an item and an entity that share an
/// internal id stay distinct (hopwise compares bare ids).
/// </para>
/// </summary>
public static class PathQualityMetrics
{
    /// <summary>
    /// <c>LIR = mean over paths whose LI is an item of LIR(u, LI)</c>, where per user the train
    /// interactions sorted by (timestamp, item id) get <see cref="NormalizedEma"/> of their
    /// timestamps (0 = oldest, 1 = most recent); a linking item outside u's train history
    /// scores 0. Needs the timestamp column.
    /// </summary>
    public static double Lir(EvaluationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var lir = input.LinkingInteractionRecency;
        var g = input.Graph;
        double sum = 0;
        int count = 0;
        foreach (var (user, path) in Paths(input))
        {
            int li = path.Nodes[1];
            if (g.Kind(li) == NodeKind.Item)
            {
                sum += lir.GetValueOrDefault((user, g.InternalId(li)));
                count++;
            }
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>
    /// <c>SEP = mean over paths of SEP(SE)</c>: within each namespace of hopwise's CKG dict
    /// (users; items and entities together), nodes sorted by degree ascending (ties in order
    /// of first appearance in the graph's edge list, as Python's stable sort leaves them) get
    /// <see cref="NormalizedEma"/> of their degrees.
    /// </summary>
    public static double Sep(EvaluationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var sep = input.SharedEntityPopularity;
        double sum = 0;
        int count = 0;
        foreach (var (_, path) in Paths(input))
        {
            sum += sep[path.Nodes[^2]];
            count++;
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary><c>LID = mean_u |distinct LI| / |P(u)|</c>.</summary>
    public static double Lid(EvaluationInput input) =>
        PerUser(input, paths => Distinct(paths, p => p.Nodes[1]) / paths.Count);

    /// <summary><c>SED = mean_u |distinct SE| / |P(u)|</c>.</summary>
    public static double Sed(EvaluationInput input) =>
        PerUser(input, paths => Distinct(paths, p => p.Nodes[^2]) / paths.Count);

    /// <summary><c>LITD = mean_u |distinct kinds of LI| / |P(u)|</c> (user, item, entity).
    /// </summary>
    public static double Litd(EvaluationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var g = input.Graph;
        return PerUser(input, paths => Distinct(paths, p => (int)g.Kind(p.Nodes[1])) / paths.Count);
    }

    /// <summary><c>SETD = mean_u |distinct kinds of SE| / |P(u)|</c>.</summary>
    public static double Setd(EvaluationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var g = input.Graph;
        return PerUser(input,
            paths => Distinct(paths, p => (int)g.Kind(p.Nodes[^2])) / paths.Count);
    }

    /// <summary>
    /// <c>PTD = mean_u |distinct path types| / min(|P(u)|, relation_num)</c>, relation_num the
    /// relation ids including [PAD] and the UI relation (hopwise's <c>max_path_type</c>).
    /// </summary>
    public static double Ptd(EvaluationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int types = input.Graph.RelationCount;
        return PerUser(input,
            paths => Distinct(paths, p => p.Relations[^1]) / Math.Min(paths.Count, types));
    }

    /// <summary>
    /// <c>PTC = mean_u (1 − Σ_t n_t (n_t − 1) / (N (N − 1)))</c>, n_t the paths of type t and
    /// N = |P(u)| (Simpson's concentration); 0 for a user with one path.
    /// </summary>
    public static double Ptc(EvaluationInput input) => PerUser(input, paths =>
    {
        int n = paths.Count;
        if (n <= 1)
        {
            return 0;
        }
        double same = 0;
        foreach (var group in paths.GroupBy(p => p.Relations[^1]))
        {
            double c = group.Count();
            same += c * (c - 1);
        }
        return 1 - same / ((double)n * (n - 1));
    });

    /// <summary>
    /// <c>PPT = mean_u min(|distinct relation patterns r1…rh| / min(|P(u)|, L), 1)</c>, L the
    /// tokens of the longest path without [BOS]/[EOS] (2·hops + 1 = 7: hopwise's
    /// <c>context_length − 2</c>). Patterns compare relation ids (hopwise joins relation names
    /// with "_", which can only merge patterns by accident).
    /// </summary>
    public static double Ppt(EvaluationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int longest = 0;
        foreach (var (_, path) in Paths(input))
        {
            longest = Math.Max(longest, path.Nodes.Length + path.Relations.Length);
        }
        return PerUser(input, paths =>
        {
            double patterns = Distinct(paths, p => string.Join(',', p.Relations));
            return Math.Min(patterns / Math.Min(paths.Count, longest), 1.0);
        });
    }

    /// <summary>
    /// <c>Fidelity@k = min(mean_u |items with a path| / k, 1)</c> over users with at least one
    /// path (every Kgglm item carries its path, so this is mean list length / k, capped).
    /// </summary>
    public static double Fidelity(EvaluationInput input, int k) =>
        Math.Min(PerUser(input, paths => (double)paths.Count / k), 1.0);

    /// <summary>
    /// hopwise's <c>normalized_ema</c>: pandas <c>ewm(span = n, adjust = True).mean()</c> of the
    /// values (α = 2 / (n + 1), <c>y_t = Σ_{i ≤ t} (1 − α)^i x_{t−i} / Σ_{i ≤ t} (1 − α)^i</c>),
    /// then min-max normalised. When all values are equal they are replaced by 0, 1, …, n − 1.
    /// A single value normalises to 0 (hopwise divides 0 by 0: LIR then keeps its 0, SEP's mean
    /// would become NaN).
    /// </summary>
    public static double[] NormalizedEma(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        var ema = new double[n];
        if (n == 0)
        {
            return ema;
        }
        bool constant = true;
        for (int t = 1; t < n; t++)
        {
            constant &= values[t] == values[0];
        }

        double alpha = 2.0 / (n + 1), decay = 1 - alpha, numerator = 0, denominator = 0;
        for (int t = 0; t < n; t++)
        {
            double x = constant ? t : values[t];
            numerator = x + decay * numerator;
            denominator = 1 + decay * denominator;
            ema[t] = numerator / denominator;
        }

        double min = ema.Min(), max = ema.Max();
        for (int t = 0; t < n; t++)
        {
            ema[t] = max > min ? (ema[t] - min) / (max - min) : 0;
        }
        return ema;
    }

    /// <summary>LIR of every (user, train item); a repeated pair keeps its latest timestamp.
    /// </summary>
    internal static Dictionary<(int User, int Item), double> BuildLir(EvaluationInput input)
    {
        var train = input.Train;
        if (!train.HasTimestamps)
        {
            throw new KgglmException("metric LIR needs interaction timestamps: load the " +
                "TIME_FIELD column of the .inter file, or drop LIR from 'metrics'");
        }

        // Latest timestamp per (user, item), then per user the (timestamp, item) order.
        var latest = new Dictionary<(int User, int Item), double>();
        var users = train.Users;
        var items = train.Items;
        var times = train.Timestamps;
        for (int r = 0; r < train.Count; r++)
        {
            var key = (users[r], items[r]);
            if (!latest.TryGetValue(key, out double t) || times[r] > t)
            {
                latest[key] = times[r];
            }
        }

        var lir = new Dictionary<(int User, int Item), double>(latest.Count);
        foreach (var group in latest.GroupBy(p => p.Key.User))
        {
            var ordered = group.OrderBy(p => p.Value).ThenBy(p => p.Key.Item).ToArray();
            var ema = NormalizedEma(ordered.Select(p => p.Value).ToArray());
            for (int j = 0; j < ordered.Length; j++)
            {
                lir[ordered[j].Key] = ema[j];
            }
        }
        return lir;
    }

    /// <summary>[NodeCount] SEP of every node with edges; 0 for the others.</summary>
    internal static double[] BuildSep(KnowledgeGraph graph)
    {
        // First appearance in edge order (source, then target), as hopwise fills its dict.
        var seen = new bool[graph.NodeCount];
        var userNodes = new List<int>();
        var entityNodes = new List<int>();
        for (int e = 0; e < graph.EdgeCount; e++)
        {
            foreach (int node in (ReadOnlySpan<int>)[graph.EdgeSource(e), graph.EdgeTarget(e)])
            {
                if (!seen[node])
                {
                    seen[node] = true;
                    (graph.Kind(node) == NodeKind.User ? userNodes : entityNodes).Add(node);
                }
            }
        }

        var sep = new double[graph.NodeCount];
        foreach (var nodes in (List<int>[])[userNodes, entityNodes])
        {
            var ordered = nodes.OrderBy(graph.Degree).ToArray();   // stable
            var ema = NormalizedEma(ordered.Select(v => (double)graph.Degree(v)).ToArray());
            for (int j = 0; j < ordered.Length; j++)
            {
                sep[ordered[j]] = ema[j];
            }
        }
        return sep;
    }

    /// <summary>(user, path) for every path of every evaluated user.</summary>
    static IEnumerable<(int User, RecommendedPath Path)> Paths(EvaluationInput input)
    {
        foreach (int u in input.EvaluatedUsers.ToArray())
        {
            if (input.RecommendationOf(u) is { } rec)
            {
                foreach (var path in rec.Paths)
                {
                    yield return (u, path);
                }
            }
        }
    }

    /// <summary>mean over evaluated users with ≥ 1 path of value(their paths); 0 when none.
    /// </summary>
    static double PerUser(EvaluationInput input, Func<IReadOnlyList<RecommendedPath>, double> value)
    {
        ArgumentNullException.ThrowIfNull(input);
        double sum = 0;
        int users = 0;
        foreach (int u in input.EvaluatedUsers)
        {
            if (input.RecommendationOf(u) is { Paths.Count: > 0 } rec)
            {
                sum += value(rec.Paths);
                users++;
            }
        }
        return users == 0 ? 0 : sum / users;
    }

    static double Distinct<T>(IReadOnlyList<RecommendedPath> paths, Func<RecommendedPath, T> key)
        => paths.Select(key).Distinct().Count();
}
