using Kgglm.Completion;
using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Paths;

namespace Kgglm.Tests.Completion;

/// <summary>ml-100k prepared for link prediction once, with the default 80/10/10 split.</summary>
public sealed class LinkPredictionFixture
{
    public LinkPredictionFixture()
    {
        Config = ConfigResolver.Resolve(
            [], [new ConfigOverride("task", "link-prediction", "test")]);
        Full = Dataset.Load(DatasetLocator.FromName("ml-100k"));
        Data = KnowledgeCompletion.Prepare(Full, Config);
    }

    public ResolvedConfig Config { get; }

    /// <summary>As loaded (every triple).</summary>
    public Dataset Full { get; }

    /// <summary>Restricted to the KG train split.</summary>
    public Dataset Data { get; }
}

/// <summary>
/// The KG split: sizes, determinism, and that no valid or test triple reaches anything the
/// model trains on (graph, pre-training walks, fine-tuning paths) or the banned tails.
/// </summary>
public sealed class KgSplitTests(LinkPredictionFixture fixture)
    : IClassFixture<LinkPredictionFixture>
{
    private readonly Dataset _d = fixture.Data;

    private static HashSet<(int, int, int)> Undirected(KgTriples t)
    {
        var set = new HashSet<(int, int, int)>();
        for (int k = 0; k < t.Count; k++)
        {
            int h = t.Heads[k], r = t.Relations[k], tail = t.Tails[k];
            set.Add((r, Math.Min(h, tail), Math.Max(h, tail)));
        }

        return set;
    }

    [Fact]
    public void Split_is_80_10_10_of_the_edges_and_covers_every_triple()
    {
        KgSplit s = _d.KgSplit!;
        Assert.Equal(fixture.Full.Triples.Count, s.Train.Count + s.Valid.Count + s.Test.Count);
        int edges = Undirected(fixture.Full.Triples).Count;
        int train = Undirected(s.Train).Count, test = Undirected(s.Test).Count;
        Assert.Equal((int)Math.Floor(edges * 0.8), train);
        Assert.InRange(test, (edges / 10) - 1, (edges / 10) + 1);
        Assert.Same(s.Train, _d.Triples);
        Assert.Equal(fixture.Full.Vocabulary.Fingerprint, _d.Vocabulary.Fingerprint);
    }

    [Fact]
    public void Split_is_a_function_of_the_seed()
    {
        KgSplit again = KgSplit.Seeded(fixture.Full, [0.8, 0.1, 0.1], 2024);
        Assert.Equal(_d.KgSplit!.Test.Heads.ToArray(), again.Test.Heads.ToArray());
        Assert.Equal(_d.KgSplit!.Test.Tails.ToArray(), again.Test.Tails.ToArray());
        KgSplit other = KgSplit.Seeded(fixture.Full, [0.8, 0.1, 0.1], 7);
        Assert.NotEqual(_d.KgSplit!.Test.Heads.ToArray(), other.Test.Heads.ToArray());
    }

    [Fact]
    public void No_held_out_edge_is_in_the_graph_or_a_banned_set()
    {
        KgSplit s = _d.KgSplit!;
        KnowledgeGraph g = _d.Graph;
        Assert.Empty(Undirected(s.Train).Intersect(Undirected(s.Test)));
        Assert.Empty(Undirected(s.Train).Intersect(Undirected(s.Valid)));
        foreach (KgTriples heldOut in new[] { s.Valid, s.Test })
        {
            for (int k = 0; k < heldOut.Count; k++)
            {
                int h = heldOut.Heads[k], r = heldOut.Relations[k], t = heldOut.Tails[k];
                Assert.False(g.HasEdge(g.EntityNode(h), r, g.EntityNode(t)));
                Assert.False(g.HasEdge(g.EntityNode(t), r, g.EntityNode(h)));
            }
        }

        foreach (TailQuery q in TailPredictor.Queries(s.Test))
        {
            int[] banned = TailPredictor.BannedTails(g, q.Head, q.Relation);
            Assert.Empty(banned.Intersect(q.Tails));
        }
    }

    [Fact]
    public void No_test_triple_is_in_the_fine_tuning_paths_in_either_direction()
    {
        Vocabulary v = _d.Vocabulary;
        var paths = new HashSet<(int, int, int)>();
        int count = 0;
        LinkPredictionSampler.Sample(_d, 9, block =>
        {
            for (int p = 0; p < block.Length; p += 9)
            {
                Assert.Equal(Vocabulary.Bos, block[p]);
                Assert.Equal(Vocabulary.Eos, block[p + 4]);
                Assert.All(block.Slice(p + 5, 4).ToArray(), t => Assert.Equal(Vocabulary.Pad, t));
                paths.Add((block[p + 1], block[p + 2], block[p + 3]));
                count++;
            }
        });
        Assert.Equal(2 * _d.Triples.Count, count);
        KgTriples test = _d.KgSplit!.Test;
        for (int k = 0; k < test.Count; k++)
        {
            int h = v.EntityToken(test.Heads[k]), r = v.RelationToken(test.Relations[k]);
            int t = v.EntityToken(test.Tails[k]);
            Assert.DoesNotContain((h, r, t), paths);
            Assert.DoesNotContain((t, r, h), paths);
        }

        // And the train triples are all there, both ways.
        int h0 = v.EntityToken(_d.Triples.Heads[0]), r0 = v.RelationToken(_d.Triples.Relations[0]);
        int t0 = v.EntityToken(_d.Triples.Tails[0]);
        Assert.Contains((h0, r0, t0), paths);
        Assert.Contains((t0, r0, h0), paths);
    }

    [Fact]
    public void Pre_training_walks_never_cross_a_test_edge()
    {
        KgSplit s = _d.KgSplit!;
        var test = Undirected(s.Test);
        Vocabulary v = _d.Vocabulary;
        var sampling = SamplingConfig.From(fixture.Config);
        int walks = 0;
        PretrainWalkSampler.Sample(_d, sampling, 9, 2024, 2, block =>
        {
            for (int p = 0; p < block.Length; p += 9, walks++)
            {
                for (int i = 1; i + 2 < 9 && block[p + i + 2] != Vocabulary.Eos
                    && block[p + i + 2] != Vocabulary.Pad; i += 2)
                {
                    int a = v.InternalId(block[p + i]), r = v.InternalId(block[p + i + 1]);
                    int b = v.InternalId(block[p + i + 2]);
                    Assert.DoesNotContain((r, Math.Min(a, b), Math.Max(a, b)), test);
                }
            }
        });
        Assert.True(walks > 10_000);
    }

    [Fact]
    public void Corpus_of_the_stage_is_the_triple_corpus_and_cached_apart()
    {
        SamplingConfig s = SamplingConfig.From(fixture.Config);
        Assert.NotEqual(
            CorpusBuilder.SamplingHash(s, CorpusStage.LinkPrediction, 9, 2024),
            CorpusBuilder.SamplingHash(s, CorpusStage.Finetune, 9, 2024));
        Assert.NotEqual(CorpusBuilder.DatasetFingerprint(fixture.Full),
            CorpusBuilder.DatasetFingerprint(_d));
    }
}
