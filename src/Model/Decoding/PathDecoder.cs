using System.Runtime.InteropServices;
using Kgglm.Data;

namespace Kgglm.Decoding;

/// <summary>
/// Recommendation by KG-constrained diverse (group) beam search over a
/// <see cref="Gpt2Inference"/>: prompt <c>[BOS] U{u} R{ui}</c>, then the tokens
/// <c>I R X R I</c> one position at a time with the key/value cache.
/// </summary>
/// <remarks>
/// <para>Semantics (HuggingFace's group beam search with hopwise's settings; length penalty 0
/// so a hypothesis scores its sum). Per step and user, groups in order 0..G-1; for group g each
/// live beam b and each token a its constraint allows gives the candidate
/// <c>score(b) + logp_b(a) − penalty · count(a)</c>, where logp is the full-vocabulary
/// log-softmax and count(a) the number of times a was chosen at this step by groups &lt; g of
/// the same user. The group keeps its GroupSize best candidates; ties go to the lower beam
/// rank, then the lower token id. At the start only the first beam of each group is live (all
/// groups share the prompt's row); a beam with no allowed token, or a group with fewer
/// candidates than beams, simply has fewer beams (no −∞ or [PAD] fillers).</para>
/// <para>Returned sequences: as HuggingFace's <c>finalize</c>, all surviving beams of all groups
/// of a user are pooled and the <c>paths_per_user</c> with the highest beam scores are kept
/// (ties: lower group, then lower rank). They are scored per <see cref="PathScoring"/>, sorted
/// by score (ties: higher beam score, then lower item id); each item takes its first path.</para>
/// <para>Constraint (the train graph): after an entity position only relations that leave
/// its node; after a relation only nodes reached from the previous node through it; at the
/// final position only such nodes that are items outside the user's history.</para>
/// </remarks>
public sealed class PathDecoder
{
    private readonly Gpt2Inference _net;
    private readonly Dataset _data;
    private readonly DecodeOptions _o;
    private readonly int _generated;    // tokens generated per path (5)
    private readonly int _promptLength; // 3

    /// <summary>A decoder over <paramref name="network"/> for <paramref name="dataset"/>.</summary>
    /// <param name="network">Inference network with MaxRows ≥ UsersPerBatch · NumBeams.</param>
    /// <param name="dataset">The dataset whose train graph constrains the paths.</param>
    /// <param name="options">Decoding settings.</param>
    public PathDecoder(Gpt2Inference network, Dataset dataset, DecodeOptions options)
    {
        options.Validate();
        _net = network;
        _data = dataset;
        _o = options;
        _promptLength = 3;
        _generated = network.Shape.Positions - 1 - _promptLength;
        if (_generated < 1 || _generated % 2 == 0)
        {
            throw new ArgumentException(
                $"a context of {network.Shape.Positions} positions does not hold a path");
        }

        if (network.MaxRows < options.UsersPerBatch * options.NumBeams)
        {
            throw new ArgumentException(
                $"the network holds {network.MaxRows} rows, decoding needs " +
                $"{options.UsersPerBatch} users × {options.NumBeams} beams");
        }
    }

    /// <summary>The settings.</summary>
    public DecodeOptions Options => _o;

    /// <summary>
    /// Rows the blocks would have computed so far had no two beams shared a row (prompt rows
    /// plus live beams per step); <see cref="Gpt2Inference.BodyRows"/> is what they computed.
    /// </summary>
    public long UnsharedRows { get; private set; }

    /// <summary>
    /// Decodes <paramref name="users"/> (internal ids) for <paramref name="split"/> and returns
    /// at most <paramref name="topk"/> items per user, in the order of <paramref name="users"/>.
    /// </summary>
    /// <param name="users">Internal user ids.</param>
    /// <param name="split">Fixes the history the final item must avoid.</param>
    /// <param name="topk">Items per user.</param>
    /// <param name="trace">When given, receives every kept beam of every step.</param>
    public IReadOnlyList<UserRecommendations> Decode(
        ReadOnlySpan<int> users, RecommendationSplit split, int topk,
        List<TracedBeam>? trace = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(topk, 1);
        var result = new List<UserRecommendations>(users.Length);

        // Each step reuses every weight matrix: arrange them once for the whole decode (a
        // snapshot, released at the end, so training may change the weights in between). It
        // pays from two users on (one user: 270 → 215 ms with it, measured); a lone user is
        // left plain to spare the copy's memory, unless the caller keeps the weights packed.
        using PackedScope packed = _net.PackedWhile(users.Length > 1);
        for (int start = 0; start < users.Length; start += _o.UsersPerBatch)
        {
            int n = Math.Min(_o.UsersPerBatch, users.Length - start);
            result.AddRange(DecodeBatch(users.Slice(start, n).ToArray(), split, topk, trace));
        }

        return result;
    }

    private List<UserRecommendations> DecodeBatch(
        int[] users, RecommendationSplit split, int topk, List<TracedBeam>? trace)
    {
        KnowledgeGraph g = _data.Graph;
        Vocabulary voc = _data.Vocabulary;
        int ui = _data.UiRelation, B = users.Length, G = _o.NumBeamGroups, K = _o.GroupSize;

        // Prefill: one row per user; every group's first beam continues that row.
        var prompts = new int[B * _promptLength];
        var beams = new List<Beam>(B * G);
        for (int b = 0; b < B; b++)
        {
            CheckUser(users[b]);
            prompts[b * _promptLength] = Vocabulary.Bos;
            prompts[(b * _promptLength) + 1] = voc.UserToken(users[b]);
            prompts[(b * _promptLength) + 2] = voc.RelationToken(ui);
            for (int group = 0; group < G; group++)
            {
                beams.Add(Beam.Start(b, group, row: b, g.UserNode(users[b]), ui, _generated));
            }
        }

        _net.Prefill(prompts, _promptLength);
        UnsharedRows += prompts.Length;

        for (int step = 0; step < _generated; step++)
        {
            int position = _promptLength + step;
            bool final = step == _generated - 1;

            // Allowed tokens per row (beams sharing a row share its state), then their
            // log-probabilities in one gather.
            var allowedOfRow = new Dictionary<int, int[]>();
            var queryRows = new List<int>();
            var queryTokens = new List<int>();
            foreach (Beam beam in beams)
            {
                if (!allowedOfRow.ContainsKey(beam.Row))
                {
                    int[] allowed = Allowed(beam, position, final, users[beam.User], split);
                    allowedOfRow[beam.Row] = allowed;
                    foreach (int token in allowed)
                    {
                        queryRows.Add(beam.Row);
                        queryTokens.Add(token);
                    }
                }
            }

            var logp = new float[queryRows.Count];
            _net.LogProbabilities(queryRows.ToArray(), queryTokens.ToArray(), logp);
            var logpOfRow = new Dictionary<int, ArraySegment<float>>();
            int offset = 0;
            foreach ((int row, int[] allowed) in allowedOfRow)
            {
                logpOfRow[row] = new ArraySegment<float>(logp, offset, allowed.Length);
                offset += allowed.Length;
            }

            // Group beam search step, per user then group in order.
            var next = new List<Beam>(beams.Count * K);
            int i = 0;
            while (i < beams.Count)
            {
                int b = beams[i].User;
                var chosen = new Dictionary<int, int>(); // token → times chosen by earlier groups
                while (i < beams.Count && beams[i].User == b)
                {
                    int group = beams[i].Group, first = i;
                    while (i < beams.Count && beams[i].User == b && beams[i].Group == group)
                    {
                        i++;
                    }

                    List<Beam> kept = SelectGroup(
                        beams, first, i, allowedOfRow, logpOfRow, chosen, position, final, K);
                    foreach (Beam k in kept)
                    {
                        chosen[k.LastToken] = chosen.GetValueOrDefault(k.LastToken) + 1;
                        trace?.Add(new TracedBeam(step, users[b], group, next.Count(x =>
                            x.User == b && x.Group == group), k.Generated[..(step + 1)], k.Score));
                        next.Add(k);
                    }
                }
            }

            beams = next;
            if (beams.Count == 0)
            {
                break;
            }

            if (!final)
            {
                // The cache rows follow the kept beams; then their new tokens go in. Beams of
                // different groups often end up with the same path (a trained model's gaps
                // exceed the diversity penalty: 24-28% of the rows on ml-100k): one row is
                // computed per distinct (parent row, token), i.e. per distinct path, and the
                // beams that share it share its state. A row's arithmetic does not depend on
                // the other rows of the batch, so this changes no bit of any result.
                var rowOf = new Dictionary<(int Parent, int Token), int>(beams.Count);
                var parents = new List<int>(beams.Count);
                var tokens = new List<int>(beams.Count);
                for (int r = 0; r < beams.Count; r++)
                {
                    (int, int) key = (beams[r].Row, beams[r].LastToken);
                    if (!rowOf.TryGetValue(key, out int row))
                    {
                        row = parents.Count;
                        rowOf[key] = row;
                        parents.Add(key.Item1);
                        tokens.Add(key.Item2);
                    }

                    beams[r] = beams[r] with { Row = row };
                }

                UnsharedRows += beams.Count;
                _net.Reorder(CollectionsMarshal.AsSpan(parents));
                _net.Append(CollectionsMarshal.AsSpan(tokens));
            }
        }

        var result = new List<UserRecommendations>(B);
        for (int b = 0; b < B; b++)
        {
            List<Beam> finals = beams.Where(x => x.User == b && x.Step == _generated).ToList();
            result.Add(Finish(users[b], finals, topk));
        }

        return result;
    }

    /// <summary>The kept beams of one group: its K best candidates.</summary>
    private List<Beam> SelectGroup(
        List<Beam> beams, int first, int end, Dictionary<int, int[]> allowedOfRow,
        Dictionary<int, ArraySegment<float>> logpOfRow, Dictionary<int, int> chosen,
        int position, bool final, int K)
    {
        // best: up to K (score, beam index, token, constrained probability), kept sorted.
        var best = new List<(double Score, int Beam, int Token, int Index, double Prob)>(K + 1);
        for (int bi = first; bi < end; bi++)
        {
            Beam beam = beams[bi];
            int[] allowed = allowedOfRow[beam.Row];
            ArraySegment<float> lp = logpOfRow[beam.Row];
            if (allowed.Length == 0)
            {
                continue;
            }

            // Penalised log-probabilities and their log-sum-exp over the allowed tokens: the
            // constrained distribution of this step (what Cumulative scores by).
            var processed = new double[allowed.Length];
            double max = double.NegativeInfinity;
            for (int a = 0; a < allowed.Length; a++)
            {
                processed[a] = lp[a] - (_o.DiversityPenalty * chosen.GetValueOrDefault(allowed[a]));
                max = Math.Max(max, processed[a]);
            }

            double sum = 0;
            for (int a = 0; a < allowed.Length; a++)
            {
                sum += Math.Exp(processed[a] - max);
            }

            double lse = max + Math.Log(sum);
            for (int a = 0; a < allowed.Length; a++)
            {
                var c = (Score: beam.Score + processed[a], Beam: bi - first, Token: allowed[a],
                    Index: a, Prob: Math.Exp(processed[a] - lse));
                int at = best.Count;
                while (at > 0 && Better(c.Score, c.Beam, c.Token, best[at - 1].Score,
                    best[at - 1].Beam, best[at - 1].Token))
                {
                    at--;
                }

                if (at < K)
                {
                    best.Insert(at, c);
                    if (best.Count > K)
                    {
                        best.RemoveAt(K);
                    }
                }
            }
        }

        var kept = new List<Beam>(best.Count);
        foreach (var c in best)
        {
            Beam parent = beams[first + c.Beam];
            kept.Add(parent.Extend(c.Token, c.Score, logpOfRow[parent.Row][c.Index], c.Prob,
                _data.Vocabulary, position));
        }

        return kept;
    }

    /// <summary>Candidate order: higher score, then lower beam rank, then lower token id.</summary>
    private static bool Better(double s, int beam, int token, double s2, int beam2, int token2) =>
        s > s2 || (s == s2 && (beam < beam2 || (beam == beam2 && token < token2)));

    /// <summary>The tokens the constraint allows after <paramref name="beam"/>.</summary>
    private int[] Allowed(Beam beam, int position, bool final, int user, RecommendationSplit split)
    {
        KnowledgeGraph g = _data.Graph;
        Vocabulary voc = _data.Vocabulary;
        var tokens = new List<int>();
        if (position % 2 == 0)
        {
            // Relation position: the distinct relations that leave the current node.
            ReadOnlySpan<int> relations = g.SortedRelations(beam.Node);
            for (int k = 0; k < relations.Length; k++)
            {
                if (k == 0 || relations[k] != relations[k - 1])
                {
                    tokens.Add(voc.RelationToken(relations[k]));
                }
            }
        }
        else
        {
            // Entity position: the distinct nodes reached through the previous relation; at the
            // final position only items outside the history.
            ReadOnlySpan<int> nodes = g.Neighbours(beam.Node, beam.Relation);
            for (int k = 0; k < nodes.Length; k++)
            {
                int node = nodes[k];
                if (k > 0 && node == nodes[k - 1])
                {
                    continue;
                }

                if (final && (g.Kind(node) != NodeKind.Item || InHistory(user, g.InternalId(node),
                    split)))
                {
                    continue;
                }

                tokens.Add(voc.NodeToken(node));
            }
        }

        tokens.Sort();
        return [.. tokens];
    }

    private bool InHistory(int user, int item, RecommendationSplit split) =>
        _data.TrainItems.Contains(user, item)
        || (split == RecommendationSplit.Test && _data.ValidItems.Contains(user, item));

    private void CheckUser(int user)
    {
        if (user <= 0 || user >= _data.Users.Count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(user), $"user id {user} is not in [1, {_data.Users.Count})");
        }
    }

    /// <summary>Pools the final beams, keeps paths_per_user, scores and ranks the items.</summary>
    private UserRecommendations Finish(int user, List<Beam> finals, int topk)
    {
        KnowledgeGraph g = _data.Graph;

        // HuggingFace's finalize: best beam scores across all groups (ties: group, rank; the
        // list is already in (group, rank) order and the sort is stable).
        List<Beam> returned = finals.OrderByDescending(x => x.Score).Take(_o.PathsPerUser).ToList();
        var paths = returned.Select(x => x.ToPath(user, _data, _o.Scoring)).ToList();
        List<DecodedPath> sorted = paths
            .Select((p, i) => (p, i))
            .OrderByDescending(x => x.p.Score)
            .ThenByDescending(x => x.p.BeamScore)
            .ThenBy(x => x.p.Item(g))
            .ThenBy(x => x.i)
            .Select(x => x.p)
            .ToList();
        var items = new List<RecommendedItem>();
        var seen = new HashSet<int>();
        foreach (DecodedPath p in sorted)
        {
            if (items.Count == topk)
            {
                break;
            }

            if (seen.Add(p.Item(g)))
            {
                items.Add(new RecommendedItem(p.Item(g), items.Count + 1, p));
            }
        }

        return new UserRecommendations(user, items, sorted);
    }

    /// <summary>One live beam: its row in the cache and the state the constraint needs.</summary>
    private sealed record Beam(
        int User, int Group, int Row, int Step, int Node, int PreviousNode, int Relation,
        int[] Generated, int[] Nodes, int[] Relations, double Score, double LogProbability,
        double[] Probabilities)
    {
        public int LastToken => Generated[Step - 1];

        public static Beam Start(int user, int group, int row, int userNode, int ui, int length) =>
            new(user, group, row, 0, userNode, -1, ui, new int[length], [userNode], [ui], 0, 0,
                new double[length]);

        /// <summary>
        /// The beam after emitting <paramref name="token"/> at <paramref name="position"/>.
        /// </summary>
        public Beam Extend(int token, double score, double logp, double probability,
            Vocabulary voc, int position)
        {
            int[] generated = (int[])Generated.Clone();
            double[] probabilities = (double[])Probabilities.Clone();
            generated[Step] = token;
            probabilities[Step] = probability;
            bool entity = position % 2 == 1;
            int node = entity ? voc.TokenNode(token) : Node;
            int relation = entity ? Relation : voc.InternalId(token);
            return this with
            {
                Step = Step + 1,
                Node = node,
                PreviousNode = entity ? Node : PreviousNode,
                Relation = relation,
                Generated = generated,
                Nodes = entity ? [.. Nodes, node] : Nodes,
                Relations = entity || Step == 0 ? Relations : [.. Relations, relation],
                Score = score,
                LogProbability = LogProbability + logp,
                Probabilities = probabilities,
            };
        }

        public DecodedPath ToPath(int user, Dataset data, PathScoring scoring)
        {
            Vocabulary voc = data.Vocabulary;
            int[] tokens =
                [Vocabulary.Bos, voc.UserToken(user), voc.RelationToken(data.UiRelation),
                    .. Generated];
            double score = scoring == PathScoring.Cumulative ? Probabilities.Average() : Score;
            return new DecodedPath(tokens, Nodes, Relations, score, Score, LogProbability,
                Probabilities, Group);
        }
    }
}
