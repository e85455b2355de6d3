using Cocona;
using Kgglm.Cli.Runs;
using Kgglm.Configuration;
using Kgglm.Kernels;
using Kgglm.Paths;
using Kgglm.Training;
using Kgglm.Tuning;

namespace Kgglm.Cli.Commands;

/// <summary><c>kgglm pretrain</c>, <c>finetune</c>, <c>sample</c> and <c>tune</c>.</summary>
public sealed class TrainCommands
{
    /// <summary>Pre-trains on random KG walks.</summary>
    [Command("pretrain", Description = "pre-train KGGLM on random walks over the knowledge graph")]
    public int Pretrain(
        CommonOptions common,
        TrainOptions train,
        [Option("resume", Description = "continue the run in --output from its newest checkpoint")]
        bool resume = false) =>
        CliRunner.Run("pretrain", common.Debug,
            () => Train(common, train, CorpusStage.Pretrain, resume));

    /// <summary>Fine-tunes on user → item paths.</summary>
    [Command("finetune",
        Description = "fine-tune on user→item paths (from --pre-model-path or scratch)")]
    public int Finetune(
        CommonOptions common,
        TrainOptions train,
        [Option("resume", Description = "continue the run in --output from its newest checkpoint")]
        bool resume = false) =>
        CliRunner.Run("finetune", common.Debug,
            () => Train(common, train, CorpusStage.Finetune, resume));

    /// <summary>Writes a path corpus.</summary>
    [Command("sample",
        Description = "sample a path corpus (pretrain walks or finetune paths) to a file")]
    public int Sample(
        CommonOptions common,
        TrainOptions train,
        [Option("stage", Description = "pretrain | finetune")] string stage = "pretrain",
        [Option("to", Description = "corpus file to write (default: the shared cache)")]
        string? to = null) =>
        CliRunner.Run("sample", common.Debug, () =>
        {
            CorpusStage which = stage switch
            {
                "pretrain" => CorpusStage.Pretrain,
                "finetune" => CorpusStage.Finetune,
                _ => throw new ConfigException(
                    $"--stage: expected pretrain or finetune, found '{stage}'"),
            };
            RunContext run = RunContext.Create(Resolve(common, train));
            run.EnsureCorpus(which, to ?? train.Corpus ?? run.CorpusCachePath(which), reuse: false);
            return 0;
        });

    /// <summary>
    /// Hyper-parameter search: every pretrain/finetune option is a setting fixed for all trials;
    /// the params file names what varies. <c>--seed</c> is the seed of every run and, unless
    /// <c>--search-seed</c> is given, of the search's own draws too.
    /// </summary>
    [Command("tune", Description = "hyper-parameter search over a hopwise params file")]
    public int Tune(
        CommonOptions common,
        TrainOptions train,
        [Argument(Description = "hopwise params file: `name choice [..]` / " +
            "`name uniform lo,hi` lines")]
        string paramsFile,
        [Option("algo", Description = "exhaustive (grid, default) | random | bayes (TPE)")]
        string algo = "exhaustive",
        [Option("max-evals",
            Description = "trials at most (default: the whole grid; 10 for random/bayes)")]
        int? maxEvals = null,
        [Option("search-seed", Description = "seed of the random/bayes draws (default: --seed)")]
        int? searchSeed = null,
        [Option("resume", Description = "continue the study in --output, skipping finished trials")]
        bool resume = false) =>
        CliRunner.Run("tune", common.Debug, () =>
        {
            // Input errors first (params file, algorithm, config), then the dataset.
            ResolvedConfig config = Resolve(common, train);
            SearchSpace space = ParamsFile.Read(paramsFile);
            int seed = searchSeed ?? config.Int("seed");
            var options = new TuneOptions(algo, maxEvals, seed, resume);
            _ = SearchAlgorithms.Create(algo, space, seed, maxEvals);
            if (resume && common.Output is null)
            {
                throw new ConfigException("--resume: name the study folder with --output");
            }

            // The fixed settings alone need not build a model (a tuned num_heads may be what
            // makes them valid), so only the run and dataset keys are read here.
            RunConfig runConfig = RunConfig.From(config);
            Data.Dataset dataset = Data.Dataset.Load(
                DatasetConfig.Location(config), DatasetConfig.Options(config));
            string output = common.Output ?? Path.Combine(
                runConfig.CheckpointDir,
                $"KGGLM-tune-{dataset.Name}-{DateTime.Now:yyyyMMdd-HHmmss}");
            using IKernels kernels = Backend.Create(
                runConfig.Device, runConfig.EffectiveThreads, out string device);
            using var reporter = new ConsoleReporter(Path.Combine(output, "tune.log"));
            reporter.Line($"device {device}");
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
                Console.Error.WriteLine(
                    "interrupt: stopping after the current step; finished trials stay in " +
                    "study.json");
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                Study study = TuneRun.Run(
                    config, space, options, dataset, kernels, output, reporter, cancel.Token);
                reporter.Line("Tuning completed → " + Path.Combine(output, Study.FileName));
                reporter.Line(study.Summary().TrimEnd());
                return 0;
            }
            catch (OperationCanceledException)
            {
                reporter.Line($"interrupted; continue with: kgglm tune {paramsFile} --resume " +
                    $"--output {output} (and the same options)");
                throw;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });

    /// <summary>A training stage from the command line: config table, run, exit code.</summary>
    internal static int Train(CommonOptions common, TrainOptions train, CorpusStage stage,
        bool resume)
    {
        ResolvedConfig config = Resolve(common, train);
        RunContext run = RunContext.Create(config);
        string name = stage == CorpusStage.Pretrain ? "pretrain" : "finetune";
        string output = common.Output ?? Path.Combine(
            run.Run.CheckpointDir,
            $"KGGLM-{name}-{run.Dataset.Name}-{DateTime.Now:yyyyMMdd-HHmmss}");
        using IKernels kernels = Backend.Create(
            run.Run.Device, run.Run.EffectiveThreads, out string device);
        bool existed = Directory.Exists(output);
        try
        {
            return Train(config, run, stage, resume, name, output, kernels, device, train.Corpus);
        }
        catch when (!existed)
        {
            // A run that failed before its first checkpoint leaves nothing behind.
            if (Directory.Exists(output) && Checkpoints.Checkpoint.Newest(output) is null)
            {
                Directory.Delete(output, recursive: true);
            }

            throw;
        }
    }

    private static int Train(
        ResolvedConfig config, RunContext run, CorpusStage stage, bool resume, string name,
        string output, IKernels kernels, string device, string? corpus)
    {
        using var reporter = new ConsoleReporter(Path.Combine(output, "train.log"));
        reporter.Line($"kgglm {name} on {run.Dataset.Name} → {output}");
        reporter.Line($"device {device}");
        reporter.Line(config.ToTable().TrimEnd());
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
            Console.Error.WriteLine(
                "interrupt: finishing the current step and saving a checkpoint");
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            TrainingResult result = TrainingRun.Run(
                config, run.Dataset, stage, kernels, output, resume, reporter, cancel.Token,
                corpus);
            return result.Interrupted && cancel.IsCancellationRequested ? 130 : 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Resolves the configuration of a training command.</summary>
    internal static ResolvedConfig Resolve(CommonOptions common, TrainOptions train) =>
        ConfigResolver.Resolve(common.Files, common.Overrides().Concat(train.Overrides()));
}
