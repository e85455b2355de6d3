using Cocona;
using Kgglm.Configuration;

namespace Kgglm.Cli.Commands;

/// <summary><c>kgglm evaluate</c> and <c>recommend</c>: use a trained checkpoint.</summary>
public sealed class ServeCommands
{
    /// <summary>Evaluates a checkpoint.</summary>
    [Command("evaluate", Description = "metrics of a checkpoint on the valid or test split")]
    public int Evaluate(
        CommonOptions common,
        [Argument(Description = "checkpoint folder or run folder")] string checkpoint,
        [Option("split", Description = "valid | test")] string split = "test") =>
        CliRunner.Run("evaluate", common.Debug, () =>
        {
            _ = ConfigResolver.Resolve(common.Files, common.Overrides());
            _ = (checkpoint, split);
            return CliRunner.NotYet("evaluate", "constrained decoding and metrics are being built");
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
            _ = ConfigResolver.Resolve(common.Files, common.Overrides());
            _ = (checkpoint, user, topk, format);
            return CliRunner.NotYet("recommend", "constrained decoding is being built");
        });
}
