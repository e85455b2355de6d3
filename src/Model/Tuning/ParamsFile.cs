using Kgglm.Configuration;

namespace Kgglm.Tuning;

/// <summary>A bad params file or study setting; the message names the file and line.</summary>
public sealed class TuneException : KgglmException
{
    /// <summary>Creates the error with its one-line message.</summary>
    public TuneException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Reads hopwise's params file: one parameter per line, <c>name type value</c>, with types
/// <c>choice [v1,v2,...]</c>, <c>uniform low,high</c>, <c>quniform low,high,q</c> and
/// <c>loguniform low,high</c> (natural-log exponents: the value is e^x).
/// </summary>
/// <remarks>
/// As hopwise, the value is every token after the type joined without spaces, and lines with
/// fewer than three tokens (blank lines included) are skipped. Unlike hopwise, a line whose first
/// token starts with <c>#</c> is a comment (hopwise would fail on it), and tokens are split on any
/// run of white space rather than on single spaces. Choice values follow Python's literal syntax
/// as hopwise's <c>ast.literal_eval</c> reads it: numbers, <c>True</c>/<c>False</c>/<c>None</c>
/// and quoted strings (a quoted <c>'[64,64]'</c> is a list value). Every value is checked
/// against its config key here, so a bad value fails before the first trial.
/// </remarks>
public static class ParamsFile
{
    /// <summary>Keys a study cannot vary: the dataset is loaded once, and the tuner itself sets
    /// where runs go and what fine-tuning starts from.</summary>
    private static readonly HashSet<string> Fixed = new(StringComparer.Ordinal)
    {
        "pre_model_path", "train_stage", "checkpoint_dir", "device", "threads", "show_progress",
    };

    /// <summary>Reads <paramref name="path"/>.</summary>
    public static SearchSpace Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new TuneException($"params file not found: {path}");
        }

        return Parse(File.ReadAllLines(path), path);
    }

    /// <summary>Parses the lines of a params file named <paramref name="source"/>.</summary>
    public static SearchSpace Parse(IReadOnlyList<string> lines, string source)
    {
        var result = new List<SearchParam>();
        for (int i = 0; i < lines.Count; i++)
        {
            string where = $"{source}:{i + 1}";
            string[] tokens = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length < 3 || tokens[0].StartsWith('#'))
            {
                continue;
            }

            SearchParam p = ParseLine(tokens[0], tokens[1], string.Concat(tokens[2..]), where);
            if (result.Any(r => r.Name == p.Name))
            {
                throw new TuneException($"{where}: parameter '{p.Name}' is already defined above");
            }

            result.Add(p);
        }

        if (result.Count == 0)
        {
            throw new TuneException(
                $"{source}: no parameters; expected lines like 'learning_rate choice [1e-4,2e-4]'");
        }

        return new SearchSpace(result, source);
    }

    private static SearchParam ParseLine(string name, string type, string value, string where)
    {
        ConfigKey key = ConfigKeys.Find(name) ?? throw Unknown(name, where);
        if (Fixed.Contains(name) || key.Group == "Dataset" || name.StartsWith("eval_args.",
                StringComparison.Ordinal))
        {
            throw new TuneException(
                $"{where}: '{name}' cannot be tuned (it is fixed for the whole study); set it " +
                "on the command line or in --config-files");
        }

        switch (type)
        {
            case "choice":
                {
                    List<string> choices = ChoiceList(value, where);
                    foreach (string c in choices)
                    {
                        // The resolver's message names the key, the line and what it expects.
                        _ = ConfigResolver.Resolve([], [new ConfigOverride(name, c, where)]);
                    }

                    return new SearchParam(name, ParamKind.Choice, choices, 0, 0, 0,
                        key.Kind == ConfigKind.Int);
                }

            case "uniform" or "quniform" or "loguniform":
                {
                    if (key.Kind is not (ConfigKind.Int or ConfigKind.Float))
                    {
                        throw new TuneException(
                            $"{where}: '{name}' takes {key.Expectation}; {type} needs a numeric " +
                            "key (use choice)");
                    }

                    int count = type == "quniform" ? 3 : 2;
                    string form = type == "quniform" ? "low,high,q" : "low,high";
                    string[] parts = value.Split(',');
                    var numbers = new double[parts.Length];
                    if (parts.Length != count || parts.Select((t, j) =>
                            ConfigResolver.TryParseFloat(t, out numbers[j])
                                && double.IsFinite(numbers[j]))
                            .Any(ok => !ok))
                    {
                        throw new TuneException(
                            $"{where}: {type} expects {form} (finite numbers), found '{value}'");
                    }

                    if (numbers[0] > numbers[1])
                    {
                        throw new TuneException(
                            $"{where}: {type} bounds reversed: low {parts[0]} > high {parts[1]}");
                    }

                    if (count == 3 && numbers[2] <= 0)
                    {
                        throw new TuneException(
                            $"{where}: quniform step q must be > 0, found {parts[2]}");
                    }

                    ParamKind kind = type switch
                    {
                        "uniform" => ParamKind.Uniform,
                        "quniform" => ParamKind.QUniform,
                        _ => ParamKind.LogUniform,
                    };
                    return new SearchParam(name, kind, [], numbers[0], numbers[1],
                        count == 3 ? numbers[2] : 0, key.Kind == ConfigKind.Int);
                }

            default:
                throw new TuneException(
                    $"{where}: unknown type '{type}' for '{name}'; expected choice, uniform, " +
                    "quniform or loguniform");
        }
    }

    private static TuneException Unknown(string name, string where)
    {
        string? hint = ConfigKeys.Suggest(name);
        return new TuneException($"{where}: unknown parameter '{name}' (not a config key)" +
            (hint is null ? string.Empty : $"; did you mean '{hint}'?"));
    }

    /// <summary>Splits <c>[a,'b',[c,d]]</c> at its top-level commas, as YAML text values.</summary>
    private static List<string> ChoiceList(string value, string where)
    {
        if (value.Length < 2 || value[0] != '[' || value[^1] != ']')
        {
            throw new TuneException(
                $"{where}: choice expects a list like [v1,v2], found '{value}'");
        }

        var items = new List<string>();
        string inner = value[1..^1];
        int depth = 0, start = 0;
        char quote = '\0';
        for (int i = 0; i <= inner.Length; i++)
        {
            char c = i < inner.Length ? inner[i] : ',';
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c is '[' or '(' or '{')
            {
                depth++;
            }
            else if (c is ']' or ')' or '}')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                string item = inner[start..Math.Min(i, inner.Length)];
                start = i + 1;
                if (item.Length == 0 && i == inner.Length && items.Count > 0)
                {
                    break; // Python allows a trailing comma: [1,2,]
                }

                items.Add(Literal(item, where, value));
            }
        }

        if (quote != '\0' || depth != 0)
        {
            throw new TuneException($"{where}: unbalanced quotes or brackets in '{value}'");
        }

        return items;
    }

    /// <summary>A Python literal as YAML text.</summary>
    private static string Literal(string item, string where, string list)
    {
        if (item.Length == 0)
        {
            throw new TuneException(list == "[]"
                ? $"{where}: choice list is empty; expected at least one value like [v1,v2]"
                : $"{where}: empty value in choice list '{list}'");
        }

        if (item.Length >= 2 && item[0] is '\'' or '"' && item[^1] == item[0])
        {
            return item[1..^1];
        }

        return item switch
        {
            "True" => "true",
            "False" => "false",
            "None" => "null",
            _ => item,
        };
    }
}
