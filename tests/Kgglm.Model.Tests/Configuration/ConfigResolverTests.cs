using Kgglm.Configuration;

namespace Kgglm.Tests.Configuration;

public sealed class ConfigResolverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kgglm-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Defaults_are_hopwise_kgglm_on_ml100k()
    {
        ResolvedConfig c = ConfigResolver.Resolve([], []);
        ModelConfig model = ModelConfig.From(c);
        Assert.Equal((768, 12, 6, true, 9), (model.EmbeddingSize, model.NumHeads, model.NumLayers,
            model.UseKgTokenTypes, model.ContextLength));
        TrainingConfig train = TrainingConfig.From(c);
        Assert.Equal(2e-4, train.LearningRate);
        Assert.Equal((0.01, 250, 300, 1, 2048, 50), (train.WeightDecay, train.WarmupSteps,
            train.Epochs, train.PretrainEpochs, train.TrainBatchSize, train.SaveStep));
        SamplingConfig s = SamplingConfig.From(c);
        Assert.Equal(("simple-ui", 250, new HopRange(3, 3), 1), (s.Strategy, s.MaxPathsPerUser,
            s.PretrainHops, s.PretrainPaths));
        GenerationConfig g = GenerationConfig.From(c);
        Assert.Equal((10, 20, 5, 0.3, "Cumulative"), (g.PathsPerUser, g.NumBeams, g.NumBeamGroups,
            g.DiversityPenalty, g.Postprocessor));
        EvaluationConfig e = EvaluationConfig.From(c);
        Assert.Equal(["Recall", "MRR", "NDCG", "Hit", "Precision"], e.Metrics);
        Assert.Equal([10], e.TopK);
        Assert.Equal("ndcg@10", e.ValidMetric);
        Assert.Equal(2024, RunConfig.From(c).Seed);
    }

    [Fact]
    public void Later_files_win_and_command_line_wins_over_files()
    {
        string a = Write("a.yaml", "learning_rate: 1e-3\nnum_layers: 4\npath_sample_args:\n" +
            "  strategy: constrained-rw\n");
        string b = Write("b.yaml", "num_layers: 2\nmetrics: [NDCG, Hit]\n");
        ResolvedConfig c = ConfigResolver.Resolve([a, b],
            [new ConfigOverride("learning_rate", "5e-4", "--learning-rate")]);
        Assert.Equal(5e-4, c.Float("learning_rate"));
        Assert.Equal("command line", c.Origin("learning_rate"));
        Assert.Equal(2, c.Int("num_layers"));
        Assert.Equal("b.yaml", c.Origin("num_layers"));
        Assert.Equal("constrained-rw", c.String("path_sample_args.strategy"));
        Assert.Equal(1, c.Int("path_sample_args.pretrain_paths"));
        Assert.Equal(["NDCG", "Hit"], c.Strings("metrics"));
    }

    [Fact]
    public void Resolved_yaml_reads_back_to_the_same_values()
    {
        string a = Write("a.yaml", "val_interval: {rating: \"[3,inf)\"}\ntopk: [5, 10]\n" +
            "eval_args:\n  split: {LS: valid_and_test}\n  order: TO\n");
        ResolvedConfig first = ConfigResolver.Resolve([a], []);
        string saved = Write("saved.yaml", first.ToYaml());
        ResolvedConfig second = ConfigResolver.Resolve([saved], []);
        foreach (ConfigEntry e in first.Entries)
        {
            Assert.Equal(ResolvedConfig.Format(e.Value),
                ResolvedConfig.Format(second[e.Key.Name].Value));
        }
    }

    [Fact]
    public void Unknown_key_names_file_line_and_suggests()
    {
        string a = Write("a.yaml", "seed: 1\nlearning_rat: 1e-3\n");
        var ex = Assert.Throws<ConfigException>(() => ConfigResolver.Resolve([a], []));
        Assert.Contains("a.yaml:2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unknown config key 'learning_rat'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'learning_rate'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("embedding_size: abc\n", "expected an integer")]
    [InlineData("learning_rate: 0\n", "expected a number in (0, 10]")]
    [InlineData("use_kg_token_types: maybe\n", "expected true or false")]
    [InlineData("train_batch_size: 0\n", "expected an integer")]
    [InlineData("sequence_postprocessor: Best\n", "expected one of Cumulative, BeamSearch")]
    [InlineData("topk: [10, x]\n", "expected a list of integers")]
    [InlineData("path_sample_args:\n  pretrain_hop_length: \"(4,2)\"\n", "expected a range")]
    public void Ill_typed_or_out_of_range_values_name_the_key(string yaml, string expected)
    {
        string a = Write("bad.yaml", yaml);
        var ex = Assert.Throws<ConfigException>(() => ConfigResolver.Resolve([a], []));
        Assert.Contains("bad.yaml:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cross_key_rules_are_checked()
    {
        ResolvedConfig c = ConfigResolver.Resolve([], [new("num_heads", "7", "--num-heads")]);
        var ex = Assert.Throws<ConfigException>(() => ModelConfig.From(c));
        Assert.Contains("divisible by 'num_heads'", ex.Message, StringComparison.Ordinal);
        c = ConfigResolver.Resolve([], [new("valid_metric", "NDCG@20", "--set")]);
        Assert.Throws<ConfigException>(() => EvaluationConfig.From(c));
    }

    [Fact]
    public void Missing_config_file_and_invalid_yaml_are_reported()
    {
        var missing = Assert.Throws<ConfigException>(
            () => ConfigResolver.Resolve([Path.Combine(_dir, "nope.yaml")], []));
        Assert.Contains("nope.yaml", missing.Message, StringComparison.Ordinal);
        string a = Write("broken.yaml", "seed: [1, 2\n");
        var broken = Assert.Throws<ConfigException>(() => ConfigResolver.Resolve([a], []));
        Assert.Contains("broken.yaml", broken.Message, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}
