using Kgglm.Checkpoints;
using Kgglm.Configuration;
using Kgglm.Decoding;
using Kgglm.Kernels.Cpu;
using Kgglm.Paths;
using Kgglm.Training;
using Xunit.Abstractions;

namespace Kgglm.Tests.Training;

/// <summary>Training stages end to end on a slice of ml-100k with a tiny network.</summary>
public sealed class TrainingRunTests(SliceDataset slice, ITestOutputHelper output)
    : IClassFixture<SliceDataset>, IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Pretraining_lowers_the_loss_by_a_clear_margin()
    {
        TrainingResult r = Run(CorpusStage.Pretrain, "pre", steps: 30, resume: false,
            ("learning_rate", "1e-2"), ("warmup_steps", "0"));
        IReadOnlyList<double> l = r.Progress.Losses;
        output.WriteLine(string.Join(" ", l.Select(x => x.ToString("F3"))));
        Assert.Equal(30, l.Count);

        // From the uniform ln(V) at start, a tiny model learns the KG's structure fast: the last
        // five steps must average at least 1.5 nats below the first.
        Assert.True(l.TakeLast(5).Average() < l[0] - 1.5,
            $"{l[0]:F3} → {l.TakeLast(5).Average():F3}");
        Assert.True(File.Exists(Path.Combine(r.OutputFolder, "metrics.json")));
        Assert.True(File.Exists(Path.Combine(r.OutputFolder, "loss_curve.png")));
        Assert.True(File.Exists(Path.Combine(r.LastCheckpoint, "model.safetensors")));
    }

    [Fact]
    public void A_resumed_run_continues_bitwise_identically()
    {
        TrainingResult straight = Run(CorpusStage.Pretrain, "straight", steps: 6, resume: false);
        Run(CorpusStage.Pretrain, "stopped", steps: 3, resume: false);
        TrainingResult resumed = Run(CorpusStage.Pretrain, "stopped", steps: 6, resume: true);
        Assert.Equal(straight.Progress.Losses, resumed.Progress.Losses);
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(straight.LastCheckpoint, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.LastCheckpoint, "model.safetensors")));
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(straight.LastCheckpoint, "optimizer.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.LastCheckpoint, "optimizer.safetensors")));
    }

    [Fact]
    public void Finetuning_warm_starts_from_a_pretrained_run_folder()
    {
        TrainingResult pre = Run(CorpusStage.Pretrain, "pre2", steps: 2, resume: false);
        TrainingResult ft = Run(CorpusStage.Finetune, "ft", steps: 2, resume: false,
            ("pre_model_path", pre.OutputFolder), ("MAX_PATHS_PER_USER", "20"));
        Assert.Equal(2, ft.Progress.Step);
        Assert.Equal("finetune", Checkpoint.ReadState(ft.LastCheckpoint).Stage);

        // The README's library example, on the run folder.
        using var kernels = new CpuKernels(2);
        using Recommender recommender = Recommender.Load(ft.OutputFolder, slice.Data, kernels);
        recommender.PackWeights();
        string raw = slice.Data.Users[1];
        UserRecommendations r = recommender.Recommend(raw, topk: 5);
        Assert.InRange(r.Items.Count, 1, 5);
        foreach (RecommendedItem item in r.Items)
        {
            Assert.StartsWith("U" + raw + " --watched--> ", recommender.Explain(item.Path),
                StringComparison.Ordinal);
        }

        Assert.Throws<KgglmException>(() => recommender.Recommend("no-such-user", 5));
    }

    [Fact]
    public void Link_prediction_finetuning_validates_and_tests_the_best_weights()
    {
        // The slice's triples make one-step epochs: every epoch is validated on the valid
        // triples, the best weights are kept and the test ranking uses them. valid_metric
        // ndcg@10 is also a link-prediction metric, so it is the one selected on.
        TrainingResult r = Run(CorpusStage.Finetune, "lp", steps: 3, resume: false,
            ("task", "link-prediction"));
        Assert.NotEmpty(r.ValidScores);
        Assert.All(r.ValidScores, v => Assert.InRange(v, 1e-6, 1));
        Assert.True(File.Exists(Path.Combine(r.OutputFolder, "best", "model.safetensors")));
        Assert.Equal(Path.Combine(r.OutputFolder, "best"), r.BestCheckpoint);
        Assert.NotNull(r.Test);
        Assert.True(r.Test!.TryGetValue("mrr", out double mrr) && mrr > 0);
        Assert.True(File.Exists(Path.Combine(r.OutputFolder, "test_metrics.json")));
    }

    [Fact]
    public void Bad_checkpoints_and_corpora_are_refused_with_one_line()
    {
        TrainingResult pre = Run(CorpusStage.Pretrain, "pre3", steps: 1, resume: false);
        string ckpt = pre.LastCheckpoint;

        // Missing pre_model_path: nothing written.
        var missing = Assert.Throws<CheckpointFormatException>(() => Run(CorpusStage.Finetune, "x1",
            1, false, ("pre_model_path", Path.Combine(_tmp.Path, "nope"))));
        Assert.Contains("no such checkpoint", missing.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_tmp.File("x1"))
            && Directory.GetFiles(_tmp.File("x1")).Length > 0);

        // Truncated weights.
        string broken = Copy(ckpt, "broken");
        string weights = Path.Combine(broken, "model.safetensors");
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        Assert.Throws<CheckpointFormatException>(() => Run(CorpusStage.Finetune, "x2", 1, false,
            ("pre_model_path", broken)));

        // Another vocabulary (a token renamed in tokenizer.json).
        string other = Copy(ckpt, "other");
        string tok = Path.Combine(other, "tokenizer.json");
        File.WriteAllText(tok,
            File.ReadAllText(tok).Replace("\"U1\"", "\"U1x\"", StringComparison.Ordinal));
        var vocab = Assert.Throws<CheckpointFormatException>(() => Run(CorpusStage.Finetune, "x3",
            1, false, ("pre_model_path", other)));
        Assert.Contains("vocabulary", vocab.Message, StringComparison.Ordinal);

        // Wrong shapes: a checkpoint of another width, asked for explicitly.
        var shape = Assert.Throws<ConfigException>(() => Run(CorpusStage.Finetune, "x4", 1, false,
            ("pre_model_path", ckpt), ("embedding_size", "48")));
        Assert.Contains("embedding_size", shape.Message, StringComparison.Ordinal);

        // A corpus sampled with another configuration.
        string corpus = TrainingRun.CorpusCachePath(Config(CorpusStage.Pretrain, 1), slice.Data,
            CorpusStage.Pretrain);
        var mismatch = Assert.Throws<CorpusFormatException>(() => TrainingRun.Run(
            Config(CorpusStage.Finetune, 1), slice.Data, CorpusStage.Finetune, new CpuKernels(1),
            _tmp.File("x5"), false, new NullReporter(), CancellationToken.None, corpus));
        Assert.Contains("sampling", mismatch.Message, StringComparison.OrdinalIgnoreCase);
    }

    private string Copy(string folder, string name)
    {
        string target = _tmp.File(name);
        Directory.CreateDirectory(target);
        foreach (string f in Directory.GetFiles(folder))
        {
            File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
        }

        return target;
    }

    private ResolvedConfig Config(CorpusStage stage, long steps,
        params (string Key, string Value)[] extra) =>
        ConfigResolver.Resolve([],
        [
            new("embedding_size", "32", "test"), new("num_heads", "4", "test"),
            new("num_layers", "2", "test"), new("train_batch_size", "64", "test"),
            new("micro_batch_size", "32", "test"), new("max_steps", steps.ToString(), "test"),
            new("save_step", "2", "test"), new("threads", "2", "test"),
            new("pretrain_epochs", "100", "test"),
            new("checkpoint_dir", _tmp.Path, "test"),
            .. extra.Select(e => new ConfigOverride(e.Key, e.Value, "test")),
        ]);

    private TrainingResult Run(
        CorpusStage stage, string name, long steps, bool resume,
        params (string Key, string Value)[] extra)
    {
        using var k = new CpuKernels(2);
        return TrainingRun.Run(Config(stage, steps, extra), slice.Data, stage, k, _tmp.File(name),
            resume, new NullReporter(), CancellationToken.None);
    }

    private sealed class NullReporter : ITrainingReporter
    {
        public void Line(string text)
        {
        }

        public void Step(StepRecord step)
        {
        }

        public void Progress(string what, long done, long total)
        {
        }
    }
}
