using Cocona;
using Kgglm.Configuration;
using Kgglm.Data;

namespace Kgglm.Cli.Commands;

/// <summary><c>kgglm info</c>: dataset statistics as hopwise prints them.</summary>
public sealed class InfoCommand
{
    /// <summary>Loads the dataset and prints its statistics.</summary>
    [Command("info",
        Description = "dataset statistics: users, items, interactions, KG, split, vocabulary")]
    public int Info(CommonOptions common) =>
        CliRunner.Run("info", common.Debug, () =>
        {
            ResolvedConfig config = ConfigResolver.Resolve(common.Files, common.Overrides());
            Dataset dataset = Dataset.Load(DatasetConfig.Location(config),
                DatasetConfig.Options(config));
            Console.WriteLine($"dataset {dataset.Name} ({dataset.Folder})");
            IReadOnlyList<(string Label, string Value)> rows = dataset.Statistics.Rows();
            int width = rows.Max(r => r.Label.Length);
            foreach ((string label, string value) in rows)
            {
                Console.WriteLine($"  {label.PadRight(width)}  {value}");
            }

            foreach (string warning in dataset.Statistics.Warnings)
            {
                Console.WriteLine($"  note: {warning}");
            }

            return 0;
        });
}
