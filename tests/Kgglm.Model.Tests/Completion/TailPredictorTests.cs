using Kgglm.Completion;
using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Decoding;
using Kgglm.Evaluation;
using Kgglm.Kernels.Cpu;
using Kgglm.Network;
using Kgglm.Tests.Network;

namespace Kgglm.Tests.Completion;

/// <summary>
/// Tail prediction on a toy KG: the batched scores with the shared [BOS] row equal a plain
/// three-token prefill, banned tails are the train neighbours, and a dataset's shipped split
/// files are read as given.
/// </summary>
public sealed class TailPredictorTests : IDisposable
{
    private const string Kg = "head_id:token\trelation_id:token\ttail_id:token\n";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Dataset Toy(string? train = null, string? valid = null, string? test = null)
    {
        var inter = new System.Text.StringBuilder(
            "user_id:token\titem_id:token\trating:float\ttimestamp:float\n");
        for (int u = 1; u <= 3; u++)
        {
            for (int i = 10; i < 16; i += u)
            {
                inter.Append($"{u}\t{i}\t4\t{(u * 10) + i}\n");
            }
        }

        string kg = Kg + "m.10\tgenre\tm.x\nm.11\tgenre\tm.x\nm.12\tgenre\tm.y\n"
            + "m.13\tgenre\tm.y\nm.14\tgenre\tm.x\nm.15\tgenre\tm.y\nm.10\tdirector\tm.d\n"
            + "m.13\tdirector\tm.d\nm.11\tsequel\tm.15\nm.12\tgenre\tm.x\n";
        File.WriteAllText(_folder.File("toy.inter"), inter.ToString());
        File.WriteAllText(_folder.File("toy.kg"), kg);
        File.WriteAllText(_folder.File("toy.link"), "item_id:token\tentity_id:token\n"
            + string.Concat(Enumerable.Range(10, 6).Select(i => $"{i}\tm.{i}\n")));
        foreach ((string suffix, string? body) in new[]
                 { ("kg_train", train), ("kg_valid", valid), ("kg_test", test) })
        {
            if (body is not null)
            {
                File.WriteAllText(_folder.File("toy." + suffix), Kg + body);
            }
        }

        return Dataset.Load(_folder.Path, "toy");
    }

    private static ResolvedConfig LinkPrediction() =>
        ConfigResolver.Resolve([], [new ConfigOverride("task", "link-prediction", "test")]);

    [Fact]
    public void Batched_scores_equal_a_plain_prefill_of_the_prompt()
    {
        Dataset d = KnowledgeCompletion.Prepare(Toy(), LinkPrediction());
        Vocabulary v = d.Vocabulary;
        using var k = new CpuKernels(2);
        Gpt2Shape shape = Gpt2GoldenTests.Tiny with
        {
            VocabSize = v.Count,
            TypeTokens = new TypeTokenIds(v.TypeS, v.TypeE, v.TypeR),
        };
        using var model = new Gpt2(
            k, shape, maxBatch: 1, ignoreId: Vocabulary.Pad, training: false);
        WeightInit.Initialize(model, k, 5);
        var queries = new List<TailQuery>();
        for (int e = 1; e < d.Entities.Count; e++)
        {
            queries.Add(new TailQuery(e, 1 + (e % 3), [1]));
        }

        using var predictor = new TailPredictor(k, model, d, batch: 4);
        using var plain = new Gpt2Inference(k, model, 1);
        foreach (TailQuery q in queries)
        {
            float[] scores = predictor.Scores(q);
            plain.Prefill([Vocabulary.Bos, v.EntityToken(q.Head), v.RelationToken(q.Relation)], 3);
            float[] logits = plain.DownloadLogits();
            for (int j = 0; j < scores.Length; j++)
            {
                Assert.Equal(logits[v.EntityToken(j + 1)], scores[j], 1e-5f);
            }
        }

        // Batches of 4 over 9 queries (a partial last batch) score like one at a time.
        MetricResults batched = predictor.Evaluate(queries);
        using var single = new TailPredictor(k, model, d, batch: 1);
        Assert.Equal(batched.ToJson(), single.Evaluate(queries).ToJson());
    }

    [Fact]
    public void Banned_tails_are_the_train_neighbours_in_both_directions()
    {
        Dataset d = Toy();
        int genre = d.Relations.GetId("genre"), x = d.Entities.GetId("m.x");
        int[] banned = TailPredictor.BannedTails(d.Graph, x, genre);
        string[] names = banned.Select(e => d.Entities[e]).Order().ToArray();
        Assert.Equal(["m.10", "m.11", "m.12", "m.14"], names);
    }

    [Fact]
    public void Shipped_split_files_are_read_as_given()
    {
        Dataset d = KnowledgeCompletion.Prepare(
            Toy("m.10\tgenre\tm.x\nm.11\tgenre\tm.x\nm.12\tgenre\tm.y\n",
                "m.13\tgenre\tm.y\n", "m.14\tgenre\tm.x\nm.15\tgenre\tm.y\n"),
            LinkPrediction());
        KgSplit s = d.KgSplit!;
        Assert.StartsWith("files", s.Source, StringComparison.Ordinal);
        Assert.Equal([3, 1, 2], new[] { s.Train.Count, s.Valid.Count, s.Test.Count });
        Assert.Equal(3, d.Triples.Count);
        Assert.Equal(d.Entities.GetId("m.14"), s.Test.Heads[0]);
        IReadOnlyList<TailQuery> q = TailPredictor.Queries(s.Test);
        Assert.Equal(2, q.Count);
    }

    [Fact]
    public void A_shipped_split_with_a_missing_file_or_unknown_entity_is_refused()
    {
        var missing = Assert.Throws<DataFormatException>(() => KnowledgeCompletion.Prepare(
            Toy("m.10\tgenre\tm.x\n", "m.13\tgenre\tm.y\n"), LinkPrediction()));
        Assert.Contains("toy.kg_test", missing.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<DataFormatException>(() => KnowledgeCompletion.Prepare(
            Toy("m.10\tgenre\tm.x\n", "m.13\tgenre\tm.y\n", "m.99\tgenre\tm.y\n"),
            LinkPrediction()));
        Assert.Contains("m.99", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Recommendation_leaves_the_dataset_as_loaded()
    {
        Dataset d = Toy();
        Assert.Same(d, KnowledgeCompletion.Prepare(d, ConfigResolver.Resolve([], [])));
        Assert.Null(d.KgSplit);
    }
}
