using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Paths;

namespace Kgglm.Cli.Runs;

/// <summary>
/// What every command that touches a dataset needs: the resolved configuration, its typed
/// records and the loaded dataset, with the config table printed once at start.
/// </summary>
internal sealed class RunContext
{
    private RunContext(ResolvedConfig config, Dataset dataset)
    {
        Config = config;
        Dataset = dataset;
        Model = ModelConfig.From(config);
        Training = TrainingConfig.From(config);
        Sampling = SamplingConfig.From(config);
        Run = RunConfig.From(config);
    }

    public ResolvedConfig Config { get; }

    public Dataset Dataset { get; }

    public ModelConfig Model { get; }

    public TrainingConfig Training { get; }

    public SamplingConfig Sampling { get; }

    public RunConfig Run { get; }

    /// <summary>Resolves the configuration (all records checked) and loads the dataset.</summary>
    public static RunContext Create(ResolvedConfig config)
    {
        // Check every concern before the (slower) dataset load, so config errors come first.
        _ = ModelConfig.From(config);
        _ = TrainingConfig.From(config);
        _ = SamplingConfig.From(config);
        _ = GenerationConfig.From(config);
        _ = EvaluationConfig.From(config);
        DatasetOptions options = DatasetConfig.Options(config);
        _ = TaskConfig.From(config);
        Dataset dataset = Kgglm.Completion.KnowledgeCompletion.Prepare(
            Dataset.Load(DatasetConfig.Location(config), options), config);
        return new RunContext(config, dataset);
    }

    /// <summary>The shared corpus cache file of a stage.</summary>
    public string CorpusCachePath(CorpusStage stage) =>
        Kgglm.Training.TrainingRun.CorpusCachePath(Config, Dataset, stage);

    /// <summary>
    /// Samples (or reuses) the corpus of <paramref name="stage"/> at <paramref name="path"/>.
    /// </summary>
    public CorpusBuilder.Outcome EnsureCorpus(CorpusStage stage, string path, bool reuse)
    {
        using var bar = new ProgressLine(
            stage == CorpusStage.Pretrain ? "sampling walks" : "sampling user paths");
        CorpusBuilder.Outcome outcome = CorpusBuilder.Ensure(
            Dataset, Sampling, stage, Model.ContextLength, Run.Seed, Run.EffectiveThreads, path,
            reuse, Console.WriteLine, (done, total) => bar.Report(done, total));
        bar.Finish();
        if (!outcome.Reused)
        {
            Console.WriteLine(
                $"sampled {outcome.Paths:N0} {stage.ToString().ToLowerInvariant()} paths in " +
                $"{outcome.Seconds:F2} s → {outcome.Path}");
        }

        return outcome;
    }
}
