using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kgglm.Checkpoints;
using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Kernels;
using Kgglm.Paths;
using Kgglm.Training;

namespace Kgglm.Tuning;

/// <summary>How a study searches.</summary>
/// <param name="Algorithm">exhaustive, random or bayes.</param>
/// <param name="MaxEvals">Trials at most; null: the whole grid, or 10 for random / bayes.</param>
/// <param name="SearchSeed">Seed of the search's own draws (the CLI passes <c>--seed</c>).</param>
/// <param name="Resume">Continue the study in the output folder.</param>
public sealed record TuneOptions(
    string Algorithm = "exhaustive", int? MaxEvals = null, int SearchSeed = 2024,
    bool Resume = false);

/// <summary>
/// A hyper-parameter study over KGGLM: each trial pre-trains (or reuses a pre-training with the
/// same pre-training keys), fine-tunes from it, and is scored on the best valid score of
/// fine-tuning. Layout: <c>&lt;output&gt;/study.json</c>, <c>trials.csv</c>,
/// <c>valid_per_trial.png</c>, <c>pretrain-&lt;hash&gt;/</c> (one per distinct pre-training) and
/// <c>trial-NNN/finetune/</c>.
/// </summary>
public static class TuneRun
{
    /// <summary>
    /// The keys that change what pre-training produces; trials equal on all of them share one
    /// pre-trained checkpoint. Besides these, every dataset key and <c>eval_args.*</c> count (the
    /// walks run over the train split). Keys read only by fine-tuning or evaluation (epochs,
    /// MAX_PATHS_PER_USER, the fine-tuning sampler, generation and metric keys, eval_step,
    /// stopping_step) do not; nor do threads, device and the checkpoint folder.
    /// </summary>
    public static IReadOnlyList<string> PretrainKeys { get; } =
    [
        "seed", "embedding_size", "num_heads", "num_layers", "use_kg_token_types", "base_model",
        "dropout", "path_hop_length", "learning_rate", "weight_decay", "warmup_steps",
        "pretrain_epochs", "train_batch_size", "micro_batch_size", "vocab_chunk", "max_steps",
        "max_grad_norm", "save_step", "path_sample_args.pretrain_hop_length",
        "path_sample_args.pretrain_paths", "path_sample_args.MAX_RW_TRIES_PER_IID",
    ];

    private const string DoneMarker = "pretrain.done";

    /// <summary>The pre-training identity of <paramref name="config"/>: its pre-training keys
    /// as <c>key: value</c> lines.</summary>
    public static string PretrainIdentity(ResolvedConfig config)
    {
        var sb = new StringBuilder();
        foreach (ConfigEntry e in config.Entries.Where(e => PretrainKeys.Contains(e.Key.Name)
                     || e.Key.Group == "Dataset"
                     || e.Key.Name.StartsWith("eval_args.", StringComparison.Ordinal)))
        {
            sb.Append(e.Key.Name).Append(": ").Append(ResolvedConfig.Format(e.Value)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The folder name of a pre-training: <c>pretrain-</c> and a 64-bit FNV-1a hash of
    /// its identity.</summary>
    public static string PretrainFolderName(ResolvedConfig config)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(PretrainIdentity(config)))
        {
            h = (h ^ b) * 1099511628211UL;
        }

        return string.Create(CultureInfo.InvariantCulture, $"pretrain-{h:x16}");
    }

    /// <summary>Runs (or, with <see cref="TuneOptions.Resume"/>, continues) a study.</summary>
    /// <param name="fixedConfig">Settings shared by every trial (command line and files).</param>
    /// <param name="space">The tuned parameters.</param>
    /// <param name="options">Algorithm, budget, seed, resume.</param>
    /// <param name="dataset">The dataset, loaded once for all trials.</param>
    /// <param name="kernels">The compute backend.</param>
    /// <param name="outputFolder">The study folder.</param>
    /// <param name="reporter">Receives the study's and the training runs' lines.</param>
    /// <param name="cancel">Stops after the current step; finished trials stay saved.</param>
    public static Study Run(
        ResolvedConfig fixedConfig, SearchSpace space, TuneOptions options, Dataset dataset,
        IKernels kernels, string outputFolder, ITrainingReporter reporter, CancellationToken cancel)
    {
        // 0. Settings and the study to continue, checked before any training.
        ISearchAlgorithm algorithm = SearchAlgorithms.Create(
            options.Algorithm, space, options.SearchSeed, options.MaxEvals);
        if (options.MaxEvals is < 1)
        {
            throw new TuneException($"--max-evals: expected at least 1, found {options.MaxEvals}");
        }

        int total = options.MaxEvals is int m
            ? Math.Min(m, algorithm is ExhaustiveSearch ? algorithm.DefaultTrials : m)
            : algorithm.DefaultTrials;
        string validMetric = fixedConfig.String("valid_metric").ToLowerInvariant();
        Study study = OpenStudy(options, outputFolder, algorithm.Name, validMetric,
            [.. space.Params.Select(p => p.ToString())]);
        reporter.Line($"tune: {algorithm.Name} search over {space.Params.Count} parameters " +
            $"({space.Source}), {total} trials, search seed {options.SearchSeed}, " +
            $"{study.Trials.Count} already done → {outputFolder}");

        // 1. The trials, in the algorithm's order; finished ones (a resumed study) are kept.
        var failedPretrains = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < total; i++)
        {
            if (study.Trials.Any(t => t.Number == i + 1))
            {
                continue;
            }

            cancel.ThrowIfCancellationRequested();
            ParamSet values = algorithm.Propose(i, study.Trials);
            reporter.Line($"trial {i + 1}/{total}: running parameters: {values}");
            TrialRecord trial = RunTrial(i + 1, values, fixedConfig, dataset, kernels, outputFolder,
                reporter, failedPretrains, cancel);
            study.Trials.Add(trial);
            study.Trials.Sort((a, b) => a.Number.CompareTo(b.Number));
            study.Save(outputFolder);
            reporter.Line(trial.Status == TrialStatus.Ok
                ? FormattableString.Invariant($"trial {trial.Number}: valid {validMetric} ")
                    + FormattableString.Invariant($"{trial.ValidScore:F4} in {trial.Seconds:F1} s")
                    + (study.Best == trial ? " (current best)" : "")
                : $"trial {trial.Number} {trial.Status.ToString().ToLowerInvariant()}: " +
                    $"{trial.Error}");
        }

        study.Save(outputFolder);
        return study;
    }

    private static Study OpenStudy(
        TuneOptions options, string folder, string algorithm, string metric,
        IReadOnlyList<string> space)
    {
        string path = Path.Combine(folder, Study.FileName);
        if (!options.Resume)
        {
            if (File.Exists(path))
            {
                throw new TuneException(
                    $"{folder} already holds a study; pass --resume to continue it or choose " +
                    "another --output");
            }

            return new Study(algorithm, options.SearchSeed, metric, space);
        }

        if (!File.Exists(path))
        {
            throw new TuneException($"--resume: {path} not found");
        }

        Study study = Study.Load(path);
        if (study.Algorithm != algorithm || study.SearchSeed != options.SearchSeed
            || !study.Space.SequenceEqual(space) || study.ValidMetric != metric)
        {
            throw new TuneException(
                $"--resume: {path} is a {study.Algorithm} study (seed {study.SearchSeed}, " +
                $"{study.ValidMetric}) over [{string.Join("; ", study.Space)}]; " +
                $"this command asks for {algorithm} (seed {options.SearchSeed}, {metric}) over " +
                $"[{string.Join("; ", space)}]");
        }

        return study;
    }

    private static TrialRecord RunTrial(
        int number, ParamSet values, ResolvedConfig fixedConfig, Dataset dataset, IKernels kernels,
        string output, ITrainingReporter reporter, Dictionary<string, string> failedPretrains,
        CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        TrialRecord Record(TrialStatus status, string? error, double? score = null,
            IReadOnlyDictionary<string, double>? test = null, bool reused = false,
            string? pretrain = null) =>
            new(number, values, status, error, score, test ?? new Dictionary<string, double>(),
                watch.Elapsed.TotalSeconds, reused, pretrain);

        // 1. A combination the model cannot build is skipped, not run.
        ResolvedConfig config;
        try
        {
            config = fixedConfig.With(values.Overrides("params file"));
            _ = ModelConfig.From(config);
            _ = TrainingConfig.From(config);
            _ = SamplingConfig.From(config);
            _ = GenerationConfig.From(config);
            _ = EvaluationConfig.From(config);
        }
        catch (ConfigException e)
        {
            return Record(TrialStatus.Skipped, e.Message);
        }

        string trialFolder = Path.Combine(output, $"trial-{number:D3}");
        string pretrainName = PretrainFolderName(config);
        string pretrainFolder = Path.Combine(output, pretrainName);
        bool reused = File.Exists(Path.Combine(pretrainFolder, DoneMarker));
        try
        {
            // 2. Pre-training, unless an earlier trial made this one already. A pre-training
            // killed midway resumes from its newest checkpoint.
            if (failedPretrains.TryGetValue(pretrainName, out string? earlier))
            {
                return Record(TrialStatus.Failed,
                    "pre-training failed in an earlier trial: " + earlier,
                    pretrain: pretrainName);
            }

            if (reused)
            {
                reporter.Line($"trial {number}: reusing the pre-training in {pretrainFolder}");
            }
            else
            {
                bool resume = Checkpoint.Newest(pretrainFolder) is not null;
                TrainingResult pre = TrainingRun.Run(config, dataset, CorpusStage.Pretrain, kernels,
                    pretrainFolder, resume, reporter, cancel);
                StopIfInterrupted(pre, cancel);
                AtomicFile.WriteAllText(
                    Path.Combine(pretrainFolder, DoneMarker), PretrainIdentity(config));
            }

            // 3. Fine-tuning from it; a trial folder left by a killed study starts over.
            if (Directory.Exists(trialFolder))
            {
                Directory.Delete(trialFolder, recursive: true);
            }

            ResolvedConfig finetune = config.With(
                [new ConfigOverride("pre_model_path", Quote(Path.GetFullPath(pretrainFolder)),
                    "tune")]);
            TrainingResult ft = TrainingRun.Run(finetune, dataset, CorpusStage.Finetune, kernels,
                Path.Combine(trialFolder, "finetune"), false, reporter, cancel);
            StopIfInterrupted(ft, cancel);
            if (ft.ValidScores.Count == 0 || !ft.ValidScores.Any(double.IsFinite))
            {
                // Validation runs at the end of every eval_step epochs, so a max_steps cut
                // inside the first epoch leaves nothing to score the trial on.
                return Record(TrialStatus.Failed,
                    $"fine-tuning stopped at step {ft.Progress.Step} with no valid score: " +
                    "it validates at the end of every eval_step epochs (raise max_steps), " +
                    "on a non-empty valid split, with valid_metric among the metrics",
                    reused: reused, pretrain: pretrainName);
            }

            var test = ft.Test?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [];
            return Record(TrialStatus.Ok, null, ft.ValidScores.Where(double.IsFinite).Max(), test,
                reused, pretrainName);
        }
        catch (KgglmException e)
        {
            if (!reused && !File.Exists(Path.Combine(pretrainFolder, DoneMarker)))
            {
                failedPretrains[pretrainName] = e.Message;
            }

            return Record(TrialStatus.Failed, e.Message, reused: reused, pretrain: pretrainName);
        }
    }

    private static void StopIfInterrupted(TrainingResult result, CancellationToken cancel)
    {
        if (result.Interrupted)
        {
            cancel.ThrowIfCancellationRequested();
        }
    }

    private static string Quote(string s) =>
        "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
