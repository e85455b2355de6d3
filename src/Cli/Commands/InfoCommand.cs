using Cocona;
using Kgglm.Configuration;

namespace Kgglm.Cli.Commands;

/// <summary><c>kgglm info</c>: dataset statistics as hopwise prints them.</summary>
public sealed class InfoCommand
{
    /// <summary>Loads the dataset and prints its statistics.</summary>
    [Command("info", Description = "dataset statistics: users, items, interactions, KG, split, vocabulary")]
    public int Info(CommonOptions common) =>
        CliRunner.Run("info", common.Debug, () =>
        {
            ResolvedConfig config = ConfigResolver.Resolve(common.Files, common.Overrides());
            Console.Write(config.ToTable(["Dataset"]));
            return 0;
        });
}
