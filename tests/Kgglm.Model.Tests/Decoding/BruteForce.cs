using Kgglm.Data;
using Kgglm.Decoding;
using Kgglm.Tests.Network;

namespace Kgglm.Tests.Decoding;

/// <summary>
/// The oracle of the decoder tests, written for clarity, not speed: the constraint from the
/// graph's plain edge lists, every step's distribution from a full float64 forward of the
/// prefix, and HuggingFace's group beam search as a few nested loops.
/// </summary>
internal sealed class BruteForce(
    Dataset data, ReferenceGpt2 model, DecodeOptions options, RecommendationSplit split)
{
    private const int Generated = 5;

    /// <summary>A (partial) path and what the search knows of it.</summary>
    public sealed record Path(
        int[] Generated, double BeamScore, double LogProbability, double[] Probabilities, int Group)
    {
        public double Score(PathScoring s) =>
            s == PathScoring.Cumulative ? Probabilities.Average() : BeamScore;
    }

    /// <summary>The tokens allowed after the generated prefix, ascending.</summary>
    public int[] Allowed(int user, int[] generated)
    {
        KnowledgeGraph g = data.Graph;
        Vocabulary v = data.Vocabulary;
        int node = g.UserNode(user), relation = data.UiRelation;
        foreach (int t in generated)
        {
            if (v.Kind(t) == TokenKind.Relation)
            {
                relation = v.InternalId(t);
            }
            else
            {
                node = v.TokenNode(t);
            }
        }

        var edges = g.Neighbours(node).ToArray().Zip(g.NeighbourRelations(node).ToArray()).ToList();
        bool entity = generated.Length % 2 == 0;
        if (!entity)
        {
            return edges.Select(e => v.RelationToken(e.Second)).Distinct().Order().ToArray();
        }

        bool final = generated.Length == Generated - 1;
        return edges.Where(e => e.Second == relation)
            .Select(e => e.First)
            .Where(n => !final || (g.Kind(n) == NodeKind.Item && !History(user, g.InternalId(n))))
            .Select(v.NodeToken).Distinct().Order().ToArray();
    }

    private bool History(int user, int item) =>
        data.TrainItems[user].Contains(item)
        || (split == RecommendationSplit.Test && data.ValidItems[user].Contains(item));

    /// <summary>Every constrained 5-token continuation of the user's prompt.</summary>
    public List<int[]> Enumerate(int user)
    {
        var done = new List<int[]>();
        void Walk(int[] prefix)
        {
            if (prefix.Length == Generated)
            {
                done.Add(prefix);
                return;
            }

            foreach (int t in Allowed(user, prefix))
            {
                Walk([.. prefix, t]);
            }
        }

        Walk([]);
        return done;
    }

    private double[] LogProbabilities(int user, int[] generated) =>
        model.NextLogProbabilities(
            [Vocabulary.Bos, data.Vocabulary.UserToken(user),
                data.Vocabulary.RelationToken(data.UiRelation), .. generated]);

    /// <summary>
    /// The naive group beam search; returns the returned sequences (score order) and the
    /// paths of the ranked items; appends every kept beam to <paramref name="trace"/>.
    /// </summary>
    public (List<Path> Returned, List<Path> Items) Decode(
        int user, int topk, List<TracedBeam> trace)
    {
        int G = options.NumBeamGroups, K = options.GroupSize;
        var groups = Enumerable.Range(0, G)
            .Select(g => new List<Path> { new([], 0, 0, [], g) }).ToList();
        for (int step = 0; step < Generated; step++)
        {
            var counts = new Dictionary<int, int>();
            for (int g = 0; g < G; g++)
            {
                var candidates = new List<(double Score, int Beam, int Token, Path Next)>();
                for (int b = 0; b < groups[g].Count; b++)
                {
                    Path beam = groups[g][b];
                    double[] lp = LogProbabilities(user, beam.Generated);
                    int[] allowed = Allowed(user, beam.Generated);
                    double[] processed = allowed
                        .Select(a =>
                            lp[a] - (options.DiversityPenalty * counts.GetValueOrDefault(a)))
                        .ToArray();
                    double norm = processed.Length == 0 ? 0 : processed.Sum(Math.Exp);
                    for (int i = 0; i < allowed.Length; i++)
                    {
                        var next = new Path([.. beam.Generated, allowed[i]],
                            beam.BeamScore + processed[i], beam.LogProbability + lp[allowed[i]],
                            [.. beam.Probabilities, Math.Exp(processed[i]) / norm], g);
                        candidates.Add((next.BeamScore, b, allowed[i], next));
                    }
                }

                groups[g] = candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Beam)
                    .ThenBy(c => c.Token).Take(K).Select(c => c.Next).ToList();
                for (int r = 0; r < groups[g].Count; r++)
                {
                    Path p = groups[g][r];
                    trace.Add(new TracedBeam(step, user, g, r, p.Generated, p.BeamScore));
                    counts[p.Generated[^1]] = counts.GetValueOrDefault(p.Generated[^1]) + 1;
                }
            }
        }

        List<Path> returned = groups.SelectMany(x => x).OrderByDescending(p => p.BeamScore)
            .Take(options.PathsPerUser)
            .Select((p, i) => (p, i))
            .OrderByDescending(x => x.p.Score(options.Scoring))
            .ThenByDescending(x => x.p.BeamScore)
            .ThenBy(x => data.Vocabulary.InternalId(x.p.Generated[^1]))
            .ThenBy(x => x.i)
            .Select(x => x.p).ToList();
        var items = returned.DistinctBy(p => p.Generated[^1]).Take(topk).ToList();
        return (returned, items);
    }
}
