using System.Diagnostics;
using Cocona;
using Kgglm.Cli.Runs;
using Kgglm.Configuration;
using Kgglm.Decoding;
using Kgglm.Evaluation;
using Kgglm.Kernels;

namespace Kgglm.Cli.Commands;

/// <summary><c>kgglm evaluate</c> and <c>recommend</c>: use a trained checkpoint.</summary>
public sealed class ServeCommands
{
    /// <summary>Evaluates a checkpoint.</summary>
    [Command("evaluate", Description = "metrics of a checkpoint on the valid or test split")]
    public int Evaluate(
        CommonOptions common,
        [Argument(Description = "checkpoint folder or run folder")] string checkpoint,
        [Option("split", Description = "valid | test")] string split = "test",
        [Option("task", Description = "recommendation | link-prediction (default: the " +
            "checkpoint's)")] string? task = null) =>
        CliRunner.Run("evaluate", common.Debug, () =>
        {
            if (LinkPredictionCommand.Wanted(checkpoint, task))
            {
                return LinkPredictionCommand.Evaluate(common, checkpoint, split);
            }

            EvaluationSplit which = split switch
            {
                "valid" => EvaluationSplit.Valid,
                "test" => EvaluationSplit.Test,
                _ => throw new ConfigException($"--split: expected valid or test, found '{split}'"),
            };
            ResolvedConfig config = ConfigResolver.Resolve(common.Files, common.Overrides());
            RunContext run = RunContext.Create(config);
            EvaluationConfig evaluation = EvaluationConfig.From(config);
            using IKernels kernels = Backend.Create(run.Run.Device, run.Run.EffectiveThreads);
            using Recommender recommender = Load(run, config, kernels, checkpoint);
            WarnTopK(config, evaluation.TopK.Max());
            var watch = Stopwatch.StartNew();
            (MetricResults metrics, _) =
                RecommendationEvaluation.Run(recommender, which, evaluation);
            Console.WriteLine(
                $"{split} result ({watch.Elapsed.TotalSeconds:F1} s, {kernels.Name}):");
            Console.WriteLine(metrics.Format());
            string output = common.Output ?? Path.Combine(
                Kgglm.Checkpoints.Checkpoint.Resolve(checkpoint), $"{split}_metrics.json");
            metrics.WriteJson(output);
            Console.WriteLine($"metrics → {output}");
            return 0;
        });

    /// <summary>Recommends with explanations.</summary>
    [Command("recommend", Description = "top-k items with explanation paths for users")]
    public int Recommend(
        CommonOptions common,
        [Argument(Description = "checkpoint folder or run folder")] string checkpoint,
        [Option("user", Description = "raw user id (repeatable; omit for every user)")]
        string[]? user = null,
        [Option("topk", Description = "items per user")] int topk = 10,
        [Option("format", Description = "text | jsonl")] string format = "text") =>
        CliRunner.Run("recommend", common.Debug, () =>
        {
            if (format is not ("text" or "jsonl"))
            {
                throw new ConfigException($"--format: expected text or jsonl, found '{format}'");
            }

            if (topk < 1)
            {
                throw new ConfigException($"--topk: expected an integer ≥ 1, found {topk}");
            }

            ResolvedConfig config = ConfigResolver.Resolve(common.Files, common.Overrides());
            RunContext run = RunContext.Create(config);
            using IKernels kernels = Backend.Create(run.Run.Device, run.Run.EffectiveThreads);
            using Recommender recommender = Load(run, config, kernels, checkpoint);
            WarnTopK(config, topk);

            // Users: the given raw ids (checked first, so a typo costs no decoding), or all.
            int[] users = user is { Length: > 0 }
                ? user.Select(u => run.Dataset.Users.TryGetId(u, out int id) && id > 0
                    ? id
                    : throw new KgglmException(
                        $"--user {u}: no such user in dataset {run.Dataset.Name}"))
                    .ToArray()
                : Enumerable.Range(1, run.Dataset.Users.Count - 1).ToArray();
            IReadOnlyList<UserRecommendations> all =
                recommender.Recommend(users, RecommendationSplit.Test, topk);

            // Written to a temporary file and renamed, so a failed run leaves no partial output.
            string? output = common.Output;
            string? temporary = output is null ? null : output + ".tmp-" + Environment.ProcessId;
            using (TextWriter writer = temporary is null
                ? Console.Out
                : new StreamWriter(temporary))
            {
                foreach (UserRecommendations r in all)
                {
                    if (format == "jsonl")
                    {
                        foreach (string line in recommender.JsonLines(r))
                        {
                            writer.WriteLine(line);
                        }

                        continue;
                    }

                    writer.WriteLine($"user {run.Dataset.Users[r.User]}:");
                    foreach (RecommendedItem item in r.Items)
                    {
                        writer.WriteLine($"  {item.Rank,2}. {item.Score:F4}  " +
                            $"{recommender.Explain(item.Path)}");
                    }

                    if (r.Items.Count == 0)
                    {
                        writer.WriteLine("  (no constrained path reached an unseen item)");
                    }
                }
            }

            if (temporary is not null)
            {
                File.Move(temporary, output!, overwrite: true);
                Console.WriteLine($"{all.Count} users → {output}");
            }

            return 0;
        });

    private static void WarnTopK(ResolvedConfig config, int topk)
    {
        if (RecommendationEvaluation.TopKNote(GenerationConfig.From(config), topk) is { } note)
        {
            Console.Error.WriteLine(note);
        }
    }

    private static Recommender Load(
        RunContext run, ResolvedConfig config, IKernels kernels, string checkpoint) =>
        Recommender.Load(checkpoint, run.Dataset, kernels, RecommendationEvaluation.Options(
            GenerationConfig.From(config), EvaluationConfig.From(config)));
}
