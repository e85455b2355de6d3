using System.Diagnostics;
using Kgglm.Checkpoints;
using Kgglm.Cli.Runs;
using Kgglm.Completion;
using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Evaluation;
using Kgglm.Kernels;
using Kgglm.Paths;

namespace Kgglm.Cli.Commands;

/// <summary>
/// <c>kgglm evaluate</c> for knowledge completion: filtered tail prediction of a checkpoint on
/// the valid or test triples of the KG split. A link-prediction fine-tuning checkpoint is
/// recognised by its recorded stage; any other (a pretrained-only checkpoint, the paper's
/// "gen-only" row) is scored with <c>--task link-prediction</c>.
/// </summary>
internal static class LinkPredictionCommand
{
    /// <summary>The stage a link-prediction fine-tuning run records in its checkpoints.</summary>
    public const string Stage = "lp_finetune";

    /// <summary>True when <c>evaluate</c> should score tail prediction.</summary>
    public static bool Wanted(string checkpoint, string? task)
    {
        if (task is not null)
        {
            return task switch
            {
                TaskConfig.LinkPredictionName => true,
                "recommendation" => false,
                _ => throw new ConfigException(
                    $"--task: expected recommendation or link-prediction, found '{task}'"),
            };
        }

        return Checkpoint.ReadState(Checkpoint.Resolve(checkpoint)).Stage == Stage;
    }

    /// <summary>Scores <paramref name="checkpoint"/>, prints and writes the metrics.</summary>
    public static int Evaluate(CommonOptions common, string checkpoint, string split)
    {
        if (split is not ("valid" or "test"))
        {
            throw new ConfigException($"--split: expected valid or test, found '{split}'");
        }

        string folder = Checkpoint.Resolve(checkpoint);
        IEnumerable<ConfigOverride> overrides = common.Overrides().Append(
            new ConfigOverride("task", TaskConfig.LinkPredictionName, "--task"));
        ResolvedConfig config = ConfigResolver.Resolve(common.Files, overrides);
        RunContext run = RunContext.Create(config);
        Dataset dataset = run.Dataset;
        KgSplit kg = dataset.KgSplit!;

        // The split is a function of seed and kg_split: a checkpoint trained on another one
        // would be scored on triples it learned.
        CheckpointState state = Checkpoint.ReadState(folder);
        if (state.DatasetFingerprint != CorpusBuilder.DatasetFingerprint(dataset))
        {
            string what = $"{folder} was trained on another graph than this KG split " +
                $"({kg.Source}; checkpoint seed {state.Seed})";
            if (state.Stage == Stage)
            {
                throw new KgglmException(
                    what + ": pass the --seed and kg_split of its training run");
            }

            Console.Error.WriteLine(
                $"warning: {what}; valid and test triples may have been in its walks " +
                "(pre-train with --task link-prediction for a clean zero-shot score)");
        }

        KgTriples triples = split == "valid" ? kg.Valid : kg.Test;
        IReadOnlyList<TailQuery> queries = TailPredictor.Queries(triples);
        Console.WriteLine(
            $"link prediction on {dataset.Name}, KG split {kg.Source}: {kg.Train.Count:N0} / " +
            $"{kg.Valid.Count:N0} / {kg.Test.Count:N0} triples; {split}: {queries.Count:N0} " +
            "(head, relation) queries");
        using IKernels kernels = Backend.Create(run.Run.Device, run.Run.EffectiveThreads);
        using TailPredictor predictor = TailPredictor.Load(folder, dataset, kernels);
        var watch = Stopwatch.StartNew();
        MetricResults metrics;
        using (var bar = new ProgressLine("tail prediction"))
        {
            metrics = predictor.Evaluate(queries, EvaluationConfig.From(config).DecimalPlaces,
                (done, total) => bar.Report(done, total));
            bar.Finish();
        }

        Console.WriteLine($"{split} result ({watch.Elapsed.TotalSeconds:F1} s, {kernels.Name}):");
        Console.WriteLine(metrics.Format());
        string output = common.Output ?? Path.Combine(folder, $"{split}_lp_metrics.json");
        metrics.WriteJson(output);
        Console.WriteLine($"metrics → {output}");
        return 0;
    }
}
