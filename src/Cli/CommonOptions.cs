using Cocona;
using Kgglm.Configuration;

namespace Kgglm.Cli;

/// <summary>
/// Options every command shares: where the data is, which config files apply, generic
/// <c>--set KEY=VALUE</c> settings, and where and how the run executes. Defined once here.
/// </summary>
public sealed class CommonOptions : ICommandParameterSet
{
    /// <summary>Dataset name; ml-100k ships with Kgglm.</summary>
    [Option("dataset", Description = "dataset name (default ml-100k, embedded)")]
    [HasDefaultValue]
    public string? Dataset { get; set; }

    /// <summary>A dataset folder in hopwise's atomic-file format.</summary>
    [Option("data-path", Description = "dataset folder holding NAME.inter, NAME.kg, NAME.link")]
    [HasDefaultValue]
    public string? DataPath { get; set; }

    /// <summary>Comma-separated YAML files, later ones win.</summary>
    [Option("config-files", Description = "comma-separated hopwise YAML config files")]
    [HasDefaultValue]
    public string? ConfigFiles { get; set; }

    /// <summary>Any config key, e.g. <c>--set MAX_PATHS_PER_USER=10</c>.</summary>
    [Option("set", Description = "KEY=VALUE for any config key (repeatable; nested keys dotted)")]
    [HasDefaultValue]
    public string[]? Set { get; set; }

    /// <summary>Seed of every generator.</summary>
    [Option("seed", Description = "seed (default 2024)")]
    [HasDefaultValue]
    public int? Seed { get; set; }

    /// <summary>CPU threads.</summary>
    [Option("threads", Description = "CPU threads (default: every core)")]
    [HasDefaultValue]
    public int? Threads { get; set; }

    /// <summary>Backend.</summary>
    [Option("device", Description = "auto | cpu | cuda (default auto)")]
    [HasDefaultValue]
    public string? Device { get; set; }

    /// <summary>
    /// Where the command writes: the run folder of pretrain / finetune / tune, the file of
    /// evaluate (metrics JSON) and recommend (explanations; stdout without it).
    /// </summary>
    [Option("output", Description = "run folder (pretrain, finetune, tune; default " +
        "saved/KGGLM-<command>-<dataset>-<time>) or file (evaluate: metrics JSON, default " +
        "inside the checkpoint; recommend: explanations, default stdout)")]
    [HasDefaultValue]
    public string? Output { get; set; }

    /// <summary>Show stack traces of errors.</summary>
    [Option("debug", Description = "print stack traces of errors")]
    [HasDefaultValue]
    public bool Debug { get; set; }

    /// <summary>The config files named by <see cref="ConfigFiles"/>.</summary>
    public IReadOnlyList<string> Files => (ConfigFiles ?? string.Empty)
        .Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The settings these options make, in command-line order.</summary>
    public IEnumerable<ConfigOverride> Overrides()
    {
        foreach (string s in Set ?? [])
        {
            int eq = s.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ConfigException($"--set '{s}': expected KEY=VALUE");
            }

            yield return new ConfigOverride(s[..eq].Trim(), s[(eq + 1)..],
                $"--set {s[..eq].Trim()}");
        }

        if (Dataset is not null)
        {
            yield return new ConfigOverride("dataset", Quote(Dataset), "--dataset");
        }

        if (DataPath is not null)
        {
            yield return new ConfigOverride("data_path", Quote(DataPath), "--data-path");
        }

        foreach (ConfigOverride o in Typed(("seed", Seed), ("threads", Threads)))
        {
            yield return o;
        }

        if (Device is not null)
        {
            yield return new ConfigOverride("device", Device, "--device");
        }
    }

    /// <summary>Settings for typed options that were given (null = not given).</summary>
    public static IEnumerable<ConfigOverride> Typed(params (string Key, object? Value)[] options)
    {
        foreach ((string key, object? value) in options)
        {
            if (value is not null)
            {
                string text = value switch
                {
                    bool b => b ? "true" : "false",
                    double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    string s => Quote(s),
                    _ => Convert.ToString(value,
                        System.Globalization.CultureInfo.InvariantCulture)!,
                };
                string option = "--" + key.ToLowerInvariant().Replace('_', '-');
                yield return new ConfigOverride(key, text, option);
            }
        }
    }

    /// <summary>Quotes a string so YAML reads it back verbatim.</summary>
    public static string Quote(string s) =>
        "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
