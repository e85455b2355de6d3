using System.Diagnostics;
using System.Globalization;
using Kgglm.Checkpoints;
using Kgglm.Completion;
using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Decoding;
using Kgglm.Evaluation;
using Kgglm.Kernels;
using Kgglm.Network;
using Kgglm.Paths;
using Kgglm.Reporting;

namespace Kgglm.Training;

/// <summary>
/// Receives what a training run reports (the CLI prints it; tests may collect it).
/// </summary>
public interface ITrainingReporter
{
    /// <summary>A line for the person watching (also written to the run's log).</summary>
    void Line(string text);

    /// <summary>One optimiser step.</summary>
    void Step(StepRecord step);

    /// <summary>Sampling or training progress for a progress bar.</summary>
    void Progress(string what, long done, long total);
}

/// <summary>What a stage produced.</summary>
/// <param name="OutputFolder">The run folder.</param>
/// <param name="LastCheckpoint">Its newest checkpoint.</param>
/// <param name="Progress">Where training ended.</param>
/// <param name="Interrupted">True when stopped by cancellation before the last step.</param>
/// <param name="MeanTokensPerSecond">Throughput over the steps after warm-up.</param>
public sealed record TrainingResult(
    string OutputFolder, string LastCheckpoint, TrainingProgress Progress, bool Interrupted,
    double MeanTokensPerSecond)
{
    /// <summary>Fine-tuning: the valid metric of every evaluation.</summary>
    public IReadOnlyList<double> ValidScores { get; init; } = [];

    /// <summary>Fine-tuning: the test metrics of the best weights (null when not run).</summary>
    public MetricResults? Test { get; init; }

    /// <summary>The checkpoint to use: the best one of fine-tuning, else the last.</summary>
    public string BestCheckpoint { get; init; } = string.Empty;
}

/// <summary>
/// One training stage end to end: corpus (sampled or reused), network (initialised, loaded from
/// <c>pre_model_path</c>, or resumed), the loop, checkpoints, and the run folder's files:
/// <c>config.yaml</c>, <c>train.log</c>, <c>metrics.json</c>, <c>loss_curve.png</c>.
/// </summary>
public static class TrainingRun
{
    /// <summary>Checkpoints kept in a run folder (older ones are deleted after a save).</summary>
    public const int KeptCheckpoints = 2;

    /// <summary>Runs <paramref name="stage"/>.</summary>
    public static TrainingResult Run(
        ResolvedConfig config, Dataset dataset, CorpusStage stage, IKernels kernels,
        string outputFolder, bool resume, ITrainingReporter reporter, CancellationToken cancel,
        string? corpusFile = null)
    {
        ModelConfig modelConfig = ModelConfig.From(config);
        TrainingConfig train = TrainingConfig.From(config);
        SamplingConfig sampling = SamplingConfig.From(config);
        RunConfig run = RunConfig.From(config);

        // Link prediction: every stage sees only the KG train split; fine-tuning learns triples.
        bool linkPrediction = TaskConfig.From(config).Task == DownstreamTask.LinkPrediction;
        if (linkPrediction)
        {
            dataset = KnowledgeCompletion.Prepare(dataset, config);
            stage = stage == CorpusStage.Finetune ? CorpusStage.LinkPrediction : stage;
        }

        string stageName = stage switch
        {
            CorpusStage.Pretrain => "pretrain",
            CorpusStage.LinkPrediction => "lp_finetune",
            _ => "finetune",
        };

        // 0. Check what this run starts from before anything is written.
        string? resumeFrom = resume ? Checkpoint.Newest(outputFolder) : null;
        if (resume && resumeFrom is null)
        {
            throw new KgglmException(
                $"--resume: {outputFolder} holds no checkpoint-N to resume from");
        }

        string? warmStart = null;
        if (resumeFrom is null && stage != CorpusStage.Pretrain && train.PreModelPath.Length > 0)
        {
            warmStart = Checkpoint.Resolve(train.PreModelPath);
            Checkpoint.CheckVocabulary(warmStart, dataset.Vocabulary, dataset.Name);
        }

        Gpt2Shape shape = Shape(config, modelConfig, dataset, resumeFrom ?? warmStart);

        // 1. The corpus: a given file (refused unless its header matches), else the shared
        // cache, sampled when this config was never sampled before.
        int P = modelConfig.ContextLength;
        string corpusPath = corpusFile ?? CorpusCachePath(config, dataset, stage);
        if (corpusFile is not null && !File.Exists(corpusFile))
        {
            throw new KgglmException($"--corpus {corpusFile}: no such file");
        }

        CorpusBuilder.Outcome corpus = CorpusBuilder.Ensure(
            dataset, sampling, stage, P, run.Seed, run.EffectiveThreads, corpusPath, reuse: true,
            reporter.Line, (done, total) => reporter.Progress("sampling", done, total));
        if (!corpus.Reused)
        {
            reporter.Line($"sampled {corpus.Paths:N0} {stageName} paths in {corpus.Seconds:F2} s");
        }

        PrepareOutput(outputFolder, resume);
        File.WriteAllText(Path.Combine(outputFolder, "config.yaml"), config.ToYaml());

        // 2. The network: resumed, warm-started from pre_model_path, or initialised.
        using var model = new Gpt2(kernels, shape,
            Math.Min(train.MicroBatchSize, train.TrainBatchSize), Vocabulary.Pad, train.VocabChunk);
        using var optimizer = new AdamWOptimizer(kernels, model, train.WeightDecay,
            train.MaxGradNorm);
        TrainingProgress progress = TrainingProgress.Start;
        var validScores = new List<double>();
        if (resumeFrom is not null)
        {
            Checkpoint.CheckVocabulary(resumeFrom, dataset.Vocabulary, dataset.Name);
            CheckpointState state = Checkpoint.ReadState(resumeFrom);
            if (state.Stage != stageName || state.Seed != run.Seed
                || state.DatasetFingerprint != CorpusBuilder.DatasetFingerprint(dataset))
            {
                throw new KgglmException(
                    $"--resume: {resumeFrom} is a {state.Stage} run of {state.DatasetName} " +
                    $"with seed {state.Seed}; this is a {stageName} run of {dataset.Name} " +
                    $"with seed {run.Seed}");
            }

            Checkpoint.LoadWeights(resumeFrom, kernels, model);
            Checkpoint.LoadOptimizer(resumeFrom, kernels, model, optimizer);
            optimizer.Steps = state.OptimizerSteps;
            progress = state.Progress;
            validScores.AddRange(state.ValidScores ?? []);
            reporter.Line($"resuming from {resumeFrom} at step {progress.Step}");
        }
        else if (warmStart is not null)
        {
            Checkpoint.LoadWeights(warmStart, kernels, model);
            reporter.Line($"fine-tuning from the weights of {warmStart}");
        }
        else
        {
            WeightInit.Initialize(model, kernels, (ulong)run.Seed);
            if (stage != CorpusStage.Pretrain)
            {
                reporter.Line(
                    "no pre_model_path: fine-tuning from random weights (this is PEARLM)");
            }
        }

        // 3. The loop.
        using PathCorpusFile corpusData = PathCorpusFile.Open(corpusPath);
        int epochs = stage == CorpusStage.Pretrain ? train.PretrainEpochs : train.Epochs;
        long stepsPerEpoch = TrainerSettings.StepsPerEpoch(corpusData.PathCount,
            train.TrainBatchSize);
        var schedule = new LearningRateSchedule(train.LearningRate, train.WarmupSteps,
            stepsPerEpoch * epochs);
        var settings = new TrainerSettings(
            stageName, epochs, train.TrainBatchSize, model.MaxBatch, train.MaxSteps, train.SaveStep,
            schedule, (float)modelConfig.Dropout, (ulong)run.Seed);
        var trainer = new Trainer(model, optimizer, corpusData, settings);
        reporter.Line(
            $"{stageName}: {corpusData.PathCount:N0} paths, {stepsPerEpoch:N0} steps per epoch × " +
            $"{epochs} epochs = {stepsPerEpoch * epochs:N0} steps" +
            (trainer.TotalSteps < stepsPerEpoch * epochs
                ? $", stopping after {trainer.TotalSteps:N0} (max_steps)"
                : string.Empty) +
            $"; {model.Layout.Count:N0} parameters; batch {train.TrainBatchSize} in " +
            $"micro-batches of {model.MaxBatch}");
        if (schedule.NeverReachesPeak)
        {
            reporter.Line(
                $"note: warmup_steps ({train.WarmupSteps}) exceeds the {schedule.TotalSteps} " +
                "steps of this stage, so the learning rate never reaches its peak");
        }

        string lastCheckpoint = resumeFrom ?? string.Empty;
        var throughput = new List<double>();
        var watch = Stopwatch.StartNew();
        ulong datasetFingerprint = CorpusBuilder.DatasetFingerprint(dataset);
        CheckpointState State(TrainingProgress p, IReadOnlyList<double> valid) => new(
            stageName, p, optimizer.Steps, run.Seed, dataset.Name, datasetFingerprint,
            dataset.Vocabulary.Fingerprint, modelConfig.UseKgTokenTypes, valid);

        // Fine-tuning validates every eval_step epochs on valid_metric and keeps the best
        // weights in <output>/best; early stopping after stopping_step evaluations without
        // improvement (ties count as improvement, as in hopwise).
        EvaluationConfig evaluation = EvaluationConfig.From(config);
        GenerationConfig generation = GenerationConfig.From(config);
        bool validate = stage == CorpusStage.Finetune && dataset.Valid.Count > 0;
        if (stage == CorpusStage.Finetune
            && RecommendationEvaluation.TopKNote(generation, evaluation.TopK.Max()) is { } note)
        {
            reporter.Line(note);
        }

        string bestFolder = Path.Combine(outputFolder, "best");
        using Recommender? validator = validate
            ? new Recommender(kernels, model, dataset,
                RecommendationEvaluation.Options(generation, evaluation))
            : null;

        // Link prediction validates the same way on the valid triples' filtered tail ranking,
        // on valid_metric when it is a link-prediction metric, else on mrr.
        bool validateLp = stage == CorpusStage.LinkPrediction && dataset.KgSplit!.Valid.Count > 0;
        using TailPredictor? lpValidator = validateLp
            ? new TailPredictor(kernels, model, dataset)
            : null;
        string lpMetric = LinkPredictionMetrics.SelectionMetrics.Contains(evaluation.ValidMetric)
            ? evaluation.ValidMetric
            : "mrr";
        if (validateLp && lpMetric != evaluation.ValidMetric)
        {
            reporter.Line($"valid_metric {evaluation.ValidMetric} is not a link-prediction " +
                "metric: validating on mrr");
        }

        bool earlyStopped = false;

        bool OnEpoch(int epoch, double mean, TrainingProgress now)
        {
            reporter.Line($"epoch {epoch + 1} {stageName} [train loss: {mean:F4}]");
            return (validator is not null || lpValidator is not null)
                && (epoch + 1) % train.EvalStep == 0
                && Validate($"epoch {epoch + 1}", now);
        }

        // One evaluation of the current weights on the valid split; true asks to stop early.
        bool Validate(string label, TrainingProgress now)
        {
            var evalWatch = Stopwatch.StartNew();
            MetricResults valid = lpValidator is not null
                ? lpValidator.Evaluate(
                    TailPredictor.Queries(dataset.KgSplit!.Valid), evaluation.DecimalPlaces)
                : RecommendationEvaluation.Run(validator!, EvaluationSplit.Valid, evaluation).Item1;
            string metric = lpValidator is not null ? lpMetric : evaluation.ValidMetric;
            double score = valid.TryGetValue(metric, out double v) ? v : double.NaN;
            bool improved = validScores.Count == 0 || score >= validScores.Max();
            validScores.Add(score);
            reporter.Line(
                $"{label} evaluating [time: {evalWatch.Elapsed.TotalSeconds:F1} s, " +
                $"valid_score: {score:F4}]{(improved ? " (best so far)" : string.Empty)}");
            reporter.Line("valid result: " + valid.Format());
            if (improved)
            {
                Checkpoint.Save(bestFolder, kernels, model, null, dataset.Vocabulary,
                    State(now, validScores), config.ToYaml());
            }

            int sinceBest = validScores.Count - 1 - validScores.LastIndexOf(validScores.Max());
            earlyStopped = sinceBest >= train.StoppingStep;
            if (earlyStopped)
            {
                reporter.Line($"early stop: {sinceBest} evaluations without improvement");
            }

            return earlyStopped;
        }

        TrainingProgress current = progress;
        TrainingProgress end = trainer.Run(
            progress,
            s =>
            {
                reporter.Step(s);
                if (s.Step > progress.Step + 2)
                {
                    throughput.Add(s.TokensPerSecond);
                }
            },
            (epoch, mean) => OnEpoch(epoch, mean, current),
            p =>
            {
                current = p;
                string folder = Path.Combine(outputFolder, $"checkpoint-{p.Step}");
                Checkpoint.Save(folder, kernels, model, optimizer, dataset.Vocabulary,
                    State(p, validScores), config.ToYaml());
                lastCheckpoint = folder;
                PruneCheckpoints(outputFolder);
                WriteReports(outputFolder, stageName, p, throughput, validScores, null);
            },
            cancel);
        bool interrupted = end.Step < trainer.TotalSteps && !earlyStopped;
        reporter.Line(
            $"{stageName} {(interrupted ? "interrupted" : "finished")} at step {end.Step} in " +
            $"{watch.Elapsed.TotalSeconds:F1} s; checkpoint {lastCheckpoint}");

        // A run stopped by max_steps before its first evaluation still gets a valid score (a
        // smoke run or a tuning trial must be comparable), from its final weights.
        if ((validator is not null || lpValidator is not null) && !interrupted
            && validScores.Count == 0)
        {
            Validate($"step {end.Step}", end);
        }

        // Fine-tuning ends with the test evaluation of the best weights (hopwise's flow).
        MetricResults? test = null;
        if (stage == CorpusStage.Finetune && !interrupted && dataset.Test.Count > 0)
        {
            if (Directory.Exists(bestFolder))
            {
                Checkpoint.LoadWeights(bestFolder, kernels, model);
                reporter.Line($"loading the best weights from {bestFolder}");
            }

            // The validator's buffers serve the test too (the same options): a second decoder
            // would hold another cache and logits buffer, 300 MB at the default size.
            using Recommender? own = validator is null
                ? new Recommender(kernels, model, dataset,
                    RecommendationEvaluation.Options(generation, evaluation))
                : null;
            Recommender tester = validator ?? own!;
            var testWatch = Stopwatch.StartNew();
            (test, _) = RecommendationEvaluation.Run(tester, EvaluationSplit.Test, evaluation);
            reporter.Line($"test result ({testWatch.Elapsed.TotalSeconds:F1} s): " + test.Format());
            test.WriteJson(Path.Combine(outputFolder, "test_metrics.json"));
            WriteReports(outputFolder, stageName, end, throughput, validScores, test);
        }

        // Link prediction ends with the filtered tail-prediction metrics of the best weights
        // (the last ones when there is no valid split).
        if (stage == CorpusStage.LinkPrediction && !interrupted && dataset.KgSplit!.Test.Count > 0)
        {
            if (Directory.Exists(bestFolder))
            {
                Checkpoint.LoadWeights(bestFolder, kernels, model);
                reporter.Line($"loading the best weights from {bestFolder}");
            }

            var testWatch = Stopwatch.StartNew();
            using var predictor = new TailPredictor(kernels, model, dataset);
            test = predictor.Evaluate(
                TailPredictor.Queries(dataset.KgSplit.Test), evaluation.DecimalPlaces,
                (done, total) => reporter.Progress("tail prediction", done, total));
            reporter.Line($"test result ({testWatch.Elapsed.TotalSeconds:F1} s): " + test.Format());
            test.WriteJson(Path.Combine(outputFolder, "test_metrics.json"));
            WriteReports(outputFolder, stageName, end, throughput, validScores, test);
        }

        return new TrainingResult(
            outputFolder, lastCheckpoint, end, interrupted,
            throughput.Count > 0 ? throughput.Average() : 0)
        {
            ValidScores = validScores,
            Test = test,
            BestCheckpoint = Directory.Exists(bestFolder) ? bestFolder : lastCheckpoint,
        };
    }

    /// <summary>The shared corpus cache file of a stage (named by its fingerprints).</summary>
    public static string CorpusCachePath(ResolvedConfig config, Dataset dataset, CorpusStage stage)
    {
        SamplingConfig s = SamplingConfig.From(config);
        RunConfig run = RunConfig.From(config);
        int P = ModelConfig.From(config).ContextLength;
        ulong sampling = CorpusBuilder.SamplingHash(s, stage, P, run.Seed);
        ulong data = CorpusBuilder.DatasetFingerprint(dataset);
        string name = string.Create(CultureInfo.InvariantCulture,
            $"{dataset.Name}-{stage.ToString().ToLowerInvariant()}-" +
            $"{sampling:x16}-{data:x16}.paths");
        return Path.Combine(run.CheckpointDir, "corpora", name);
    }

    /// <summary>
    /// The network shape: from the checkpoint when there is one, else the config.
    /// </summary>
    private static Gpt2Shape Shape(ResolvedConfig config, ModelConfig m, Dataset d,
        string? checkpoint)
    {
        int channels = m.EmbeddingSize, heads = m.NumHeads, layers = m.NumLayers;
        if (checkpoint is not null)
        {
            HuggingFaceConfig hf = Checkpoint.ReadConfig(checkpoint);
            foreach ((string key, int mine, int theirs) in new[]
                     {
                         ("embedding_size", channels, hf.NEmbd), ("num_heads", heads, hf.NHead),
                         ("num_layers", layers, hf.NLayer),
                     })
            {
                if (config.Origin(key) != "default" && mine != theirs)
                {
                    throw new ConfigException(
                        $"key '{key}' is {mine} ({config.Origin(key)}) but checkpoint " +
                        $"{checkpoint} has {theirs}; drop the setting or use a matching " +
                        "checkpoint");
                }
            }

            (channels, heads, layers) = (hf.NEmbd, hf.NHead, hf.NLayer);
        }

        TypeTokenIds? types = m.UseKgTokenTypes
            ? new TypeTokenIds(d.Vocabulary.TypeS, d.Vocabulary.TypeE, d.Vocabulary.TypeR)
            : null;
        return new Gpt2Shape(d.Vocabulary.Count, m.ContextLength, channels, heads, layers, types,
            (float)m.Dropout);
    }

    private static void PrepareOutput(string folder, bool resume)
    {
        if (!resume && Directory.Exists(folder) && Checkpoint.Newest(folder) is not null)
        {
            throw new KgglmException(
                $"output folder {folder} already holds a run; pass --resume to continue it or " +
                "choose another --output");
        }

        Directory.CreateDirectory(folder);

        // A crash while a checkpoint was being renamed into place leaves a .tmp-/.old- sibling.
        foreach (string dir in Directory.GetDirectories(folder, "checkpoint-*"))
        {
            string name = Path.GetFileName(dir);
            int mark = Math.Max(name.IndexOf(".tmp-", StringComparison.Ordinal),
                name.IndexOf(".old-", StringComparison.Ordinal));
            if (mark > 0)
            {
                AtomicDirectory.CleanUp(Path.Combine(folder, name[..mark]));
            }
        }
    }

    private static void PruneCheckpoints(string folder)
    {
        var all = Directory.GetDirectories(folder, "checkpoint-*")
            .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d)["checkpoint-".Length..],
                NumberStyles.None, CultureInfo.InvariantCulture, out long n), N: n))
            .Where(x => x.Ok)
            .OrderByDescending(x => x.N)
            .Skip(KeptCheckpoints);
        foreach ((string dir, _, _) in all)
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void WriteReports(
        string folder, string stage, TrainingProgress p, List<double> tokensPerSecond,
        IReadOnlyList<double> validScores, MetricResults? test)
    {
        var metrics = new MetricsFile();
        metrics.Info["stage"] = stage;
        for (int i = 0; i < p.Losses.Count; i++)
        {
            metrics.Add("train_loss", i + 1, p.Losses[i]);
        }

        for (int i = 0; i < p.EpochLosses.Count; i++)
        {
            metrics.Add("epoch_train_loss", i + 1, p.EpochLosses[i]);
        }

        for (int i = 0; i < validScores.Count; i++)
        {
            metrics.Add("valid_score", i + 1, validScores[i]);
        }

        foreach ((string name, double value) in test ?? [])
        {
            metrics.Scalars["test_" + name] = value;
        }

        metrics.Scalars["steps"] = p.Step;
        if (tokensPerSecond.Count > 0)
        {
            metrics.Scalars["tokens_per_second"] = tokensPerSecond.Average();
        }

        metrics.Write(Path.Combine(folder, "metrics.json"));
        if (p.Losses.Count > 0)
        {
            var plot = new LossCurvePlot { Title = $"KGGLM {stage} loss" };
            plot.Add("train loss",
                Enumerable.Range(1, p.Losses.Count).Select(i => (double)i).ToList(),
                p.Losses.ToList());
            plot.SavePng(Path.Combine(folder, "loss_curve.png"));
        }
    }
}
