using Kgglm.Data;
using Kgglm.Decoding;
using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;
using Kgglm.Network;
using Kgglm.Tests.Network;
using Xunit.Abstractions;

namespace Kgglm.Tests.Decoding;

/// <summary>
/// The decoder on a toy KG and the tiny network of the golden tests against a brute force:
/// every constrained path enumerated, every step scored by a full float64 forward of the prefix
/// (no cache), and the same group beam search written naively. Scores agree to 1e-4 (float32
/// network against float64); kept beams and returned paths agree exactly.
/// </summary>
public sealed class DecoderTests(ITestOutputHelper output) : IDisposable
{
    private const string Inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Dataset Toy()
    {
        var inter = new System.Text.StringBuilder(Inter);
        int[][] likes = [[10, 11, 12, 13, 14], [11, 12, 15, 16, 17], [10, 13, 15, 16, 11],
            [12, 14, 16, 17, 10]];
        for (int u = 0; u < likes.Length; u++)
        {
            foreach (int i in likes[u])
            {
                inter.Append($"{u + 1}\t{i}\t4\t{(u * 10) + i}\n");
            }
        }

        string kg = "head_id:token\trelation_id:token\ttail_id:token\n"
            + "m.10\tfilm.genre\tm.x\nm.11\tfilm.genre\tm.x\nm.12\tfilm.genre\tm.y\n"
            + "m.13\tfilm.genre\tm.y\nm.14\tfilm.genre\tm.z\nm.15\tfilm.genre\tm.x\n"
            + "m.16\tfilm.genre\tm.z\nm.17\tfilm.genre\tm.y\nm.10\tfilm.director\tm.d\n"
            + "m.13\tfilm.director\tm.d\nm.17\tfilm.director\tm.d\nm.11\tfilm.sequel\tm.15\n";
        string link = "item_id:token\tentity_id:token\n"
            + string.Concat(Enumerable.Range(10, 8).Select(i => $"{i}\tm.{i}\n"));
        string item = "item_id:token\tmovie_title:token_seq\n10\tKolya (1996)\n";
        File.WriteAllText(_folder.File("toy.inter"), inter.ToString());
        File.WriteAllText(_folder.File("toy.kg"), kg);
        File.WriteAllText(_folder.File("toy.link"), link);
        File.WriteAllText(_folder.File("toy.item"), item);
        return Dataset.Load(_folder.Path, "toy");
    }

    private static Gpt2 Model(IKernels k, Dataset d, int seed)
    {
        Vocabulary v = d.Vocabulary;
        Gpt2Shape tiny = Gpt2GoldenTests.Tiny with
        {
            VocabSize = v.Count,
            TypeTokens = new TypeTokenIds(v.TypeS, v.TypeE, v.TypeR),
        };
        var model = new Gpt2(k, tiny, maxBatch: 1, ignoreId: Vocabulary.Pad);
        WeightInit.Initialize(model, k, (ulong)seed);

        // Sharper distributions than the N(0, 0.02) start, so the beams differ clearly.
        float[] w = new float[model.Layout.TotalFloats];
        k.Download(model.Parameters, w);
        for (int i = 0; i < w.Length; i++)
        {
            w[i] *= 6f;
        }

        k.Upload(w, model.Parameters);
        return model;
    }

    private static ReferenceGpt2 Reference(IKernels k, Gpt2 model)
    {
        float[] all = new float[model.Layout.TotalFloats];
        k.Download(model.Parameters, all);
        var weights = model.Layout.Parameters.ToDictionary(p => p.Name,
            p => all.AsSpan((int)p.Offset, (int)p.Count).ToArray()
                .Select(f => (double)f).ToArray());
        return new ReferenceGpt2(model.Shape, weights, Vocabulary.Pad);
    }

    /// <summary>float32 network against float64: 1e-4 absolute plus 1e-6 relative.</summary>
    private static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-4 + (1e-6 * Math.Abs(expected)),
            $"expected {expected:R}, found {actual:R}");

    private static int[] Users(Dataset d) => Enumerable.Range(1, d.Users.Count - 1).ToArray();

    [Theory]
    [InlineData(PathScoring.Cumulative)]
    [InlineData(PathScoring.BeamSearch)]
    public void Decoder_matches_the_brute_force_beam_search(PathScoring scoring)
    {
        Dataset d = Toy();
        using var k = new CpuKernels(2);
        using Gpt2 model = Model(k, d, 3);
        var options = new DecodeOptions(Scoring: scoring, UsersPerBatch: 3);
        using var net = new Gpt2Inference(k, model, options.UsersPerBatch * options.NumBeams);
        var trace = new List<TracedBeam>();
        var decoder = new PathDecoder(net, d, options);
        IReadOnlyList<UserRecommendations> got =
            decoder.Decode(Users(d), RecommendationSplit.Test, topk: 10, trace);

        var brute = new BruteForce(d, Reference(k, model), options, RecommendationSplit.Test);
        var expectedTrace = new List<TracedBeam>();
        foreach (UserRecommendations r in got)
        {
            (List<BruteForce.Path> paths, List<BruteForce.Path> items) =
                brute.Decode(r.User, 10, expectedTrace);
            output.WriteLine($"user {r.User}: {paths.Count} returned paths, {items.Count} items, " +
                $"{brute.Enumerate(r.User).Count} constrained paths in all");
            Assert.Equal(paths.Count, r.Paths.Count);
            for (int i = 0; i < paths.Count; i++)
            {
                Assert.Equal(paths[i].Generated, r.Paths[i].Tokens[3..]);
                Close(paths[i].Score(scoring), r.Paths[i].Score);
                Close(paths[i].BeamScore, r.Paths[i].BeamScore);
                Close(paths[i].LogProbability, r.Paths[i].LogProbability);
            }

            Assert.Equal(items.Select(p => p.Generated[^1]),
                r.Items.Select(x => d.Vocabulary.ItemToken(x.Item)));
        }

        Assert.Equal(expectedTrace.Count, trace.Count);
        var byKey = trace.ToLookup(t => (t.Step, t.User, t.Group));
        foreach (TracedBeam e in expectedTrace)
        {
            TracedBeam[] kept = byKey[(e.Step, e.User, e.Group)].ToArray();
            TracedBeam g = kept[e.Rank];
            Assert.Equal(e.Generated, g.Generated);
            Close(e.Score, g.Score);
        }
    }

    [Fact]
    public void Paths_are_train_graph_walks_to_unseen_distinct_items()
    {
        Dataset d = Toy();
        using var k = new CpuKernels(2);
        using Gpt2 model = Model(k, d, 5);
        using var rec = new Recommender(k, model, d, new DecodeOptions(UsersPerBatch: 2));
        KnowledgeGraph g = d.Graph;
        foreach (RecommendationSplit split in
            new[] { RecommendationSplit.Valid, RecommendationSplit.Test })
        {
            foreach (UserRecommendations r in rec.Recommend(Users(d), split, topk: 3))
            {
                Assert.True(r.Items.Count <= 3);
                Assert.Equal(r.Items.Count, r.Items.Select(x => x.Item).Distinct().Count());
                Assert.Equal(Enumerable.Range(1, r.Items.Count), r.Items.Select(x => x.Rank));
                foreach (DecodedPath p in r.Paths)
                {
                    Assert.Equal(g.UserNode(r.User), p.Nodes[0]);
                    Assert.Equal(d.UiRelation, p.Relations[0]);
                    for (int h = 0; h < 3; h++)
                    {
                        Assert.True(g.HasEdge(p.Nodes[h], p.Relations[h], p.Nodes[h + 1]));
                    }

                    int item = p.Item(g);
                    Assert.Equal(NodeKind.Item, g.Kind(p.Nodes[^1]));
                    Assert.False(d.TrainItems.Contains(r.User, item));
                    Assert.False(split == RecommendationSplit.Test
                        && d.ValidItems.Contains(r.User, item));
                    Assert.InRange(p.Score, 0, 1.0 + 1e-9);
                }
            }
        }
    }

    [Theory]
    [InlineData(4, false)]  // the prompt one position at a time
    [InlineData(8, false)]  // two positions, then one
    [InlineData(12, true)]  // all three in one pass, packed weights
    public void Incremental_log_probabilities_equal_full_forwards(int maxRows, bool packed)
    {
        Dataset d = Toy();
        using var k = new CpuKernels(2);
        using Gpt2 model = Model(k, d, 9);
        ReferenceGpt2 reference = Reference(k, model);
        using var net = new Gpt2Inference(k, model, maxRows);
        if (packed)
        {
            net.PackWeights();
        }

        var rng = new Random(4);
        int V = d.Vocabulary.Count;
        int[][] seqs = Enumerable.Range(0, 4)
            .Select(_ => Enumerable.Range(0, 8).Select(_ => rng.Next(V)).ToArray()).ToArray();
        net.Prefill(seqs.SelectMany(s => s[..3]).ToArray(), 3);
        double worst = 0;
        for (int p = 3; p <= 8; p++)
        {
            // Rows swap places at every step, so the cache reorder is exercised too.
            int[] order = p % 2 == 0 ? [1, 0, 3, 2] : [0, 1, 2, 3];
            if (p > 3)
            {
                net.Reorder(order);
                seqs = order.Select(i => seqs[i]).ToArray();
                net.Append(seqs.Select(s => s[p - 1]).ToArray());
            }

            int[] rows = Enumerable.Range(0, 4 * V).Select(i => i / V).ToArray();
            int[] tokens = Enumerable.Range(0, 4 * V).Select(i => i % V).ToArray();
            var got = new float[rows.Length];
            net.LogProbabilities(rows, tokens, got);
            for (int r = 0; r < 4; r++)
            {
                double[] e = reference.NextLogProbabilities(seqs[r][..p]);
                for (int v = 0; v < V; v++)
                {
                    worst = Math.Max(worst, Math.Abs(got[(r * V) + v] - e[v]));
                }
            }
        }

        output.WriteLine($"largest |incremental − full float64| log-probability {worst:E2}");
        Assert.True(worst < 1e-4, $"largest difference {worst}");
    }

    [Fact]
    public void One_and_two_threads_give_identical_recommendations()
    {
        Dataset d = Toy();
        string[] Run(int threads)
        {
            using var k = new CpuKernels(threads);
            using Gpt2 model = Model(k, d, 2);
            using var rec = new Recommender(k, model, d);
            return rec.RecommendAll(RecommendationSplit.Test, 10)
                .SelectMany(r => r.Paths.Select(p =>
                    $"{r.User} {string.Join(",", p.Tokens)} " +
                    $"{BitConverter.DoubleToInt64Bits(p.Score)} " +
                    $"{BitConverter.DoubleToInt64Bits(p.BeamScore)}"))
                .ToArray();
        }

        string[] one = Run(1);
        Assert.NotEmpty(one);
        Assert.Equal(one, Run(2));
    }

    [Fact]
    public void Batches_packed_weights_and_shared_rows_change_no_bit()
    {
        // One user per call decodes with the plain matmuls and a batch of its own; all users at
        // once go two per batch with packed weights, and beams of a batch share rows. Every
        // path and score must be the same bits.
        Dataset d = Toy();
        using var k = new CpuKernels(2);
        using Gpt2 model = Model(k, d, 6);
        static string Key(UserRecommendations r) => string.Join(";", r.Paths.Select(p =>
            $"{string.Join(",", p.Tokens)} {BitConverter.DoubleToInt64Bits(p.Score)} " +
            $"{BitConverter.DoubleToInt64Bits(p.BeamScore)} " +
            $"{BitConverter.DoubleToInt64Bits(p.LogProbability)}"));
        using var rec = new Recommender(k, model, d, new DecodeOptions(UsersPerBatch: 2));
        string[] together = rec.Recommend(Users(d), RecommendationSplit.Test, 10)
            .Select(Key).ToArray();
        string[] alone = Users(d)
            .Select(u => Key(rec.Recommend([u], RecommendationSplit.Test, 10)[0])).ToArray();
        Assert.All(together, x => Assert.NotEmpty(x));
        Assert.Equal(alone, together);

        // The toy's users have few paths, so groups meet on the same ones: shared rows are
        // computed once, which is what the equality above shows to be harmless.
        (long body, long head, long unshared) = rec.RowsComputed;
        output.WriteLine($"rows through the blocks {body} (unshared {unshared}), head {head}");
        Assert.InRange(body, 1, unshared - 1);
        Assert.InRange(head, 1, body);
    }

    [Fact]
    public void Explanations_have_the_readable_and_json_forms()
    {
        Dataset d = Toy();
        using var k = new CpuKernels(1);
        using Gpt2 model = Model(k, d, 7);
        using var rec = new Recommender(k, model, d);
        UserRecommendations r = rec.Recommend("3", 10);
        Assert.NotEmpty(r.Items);
        RecommendedItem first = r.Items[0];
        string text = rec.Explain(first.Path);
        string json = rec.JsonLines(r).First();
        output.WriteLine(text);
        output.WriteLine(json);
        Assert.StartsWith("U3 --watched--> ", text, StringComparison.Ordinal);
        Assert.Equal(3, text.Split("--> ").Length - 1);
        Assert.StartsWith(
            "{\"user\": \"3\", \"rank\": 1, \"item\": \"" + d.Items[first.Item] + "\", \"score\": ",
            json, StringComparison.Ordinal);
        Assert.Contains(
            ", \"path\": [[\"self_loop\", \"user\", \"3\"], [\"[UI-Relation]\", \"item\", \"",
            json, StringComparison.Ordinal);
        Assert.EndsWith("\"" + d.Items[first.Item] + "\"]]}", json, StringComparison.Ordinal);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(4, doc.RootElement.GetProperty("path").GetArrayLength());
        Assert.Contains("Kolya (1996)", Explanations.Readable(d, new DecodedPath(
            [], [d.Graph.UserNode(1), d.Graph.ItemNode(d.Items.GetId("10"))], [d.UiRelation], 0, 0,
            0, [], 0)), StringComparison.Ordinal);
    }
}
