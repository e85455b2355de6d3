using System.Globalization;
using Kgglm.Data;

namespace Kgglm.Configuration;

/// <summary>
/// Maps the dataset keys of a <see cref="ResolvedConfig"/> onto the data layer's options.
/// </summary>
public static class DatasetConfig
{
    /// <summary>
    /// Where the dataset is: <c>data_path</c> when set, else the named (embedded) dataset.
    /// </summary>
    public static DatasetLocation Location(ResolvedConfig c) =>
        DatasetLocator.Resolve(c.String("dataset"), c.StringOrNull("data_path"));

    /// <summary>The data layer's options for this configuration.</summary>
    public static DatasetOptions Options(ResolvedConfig c)
    {
        return new DatasetOptions
        {
            Fields = new FieldNames
            {
                UserId = c.String("USER_ID_FIELD"),
                ItemId = c.String("ITEM_ID_FIELD"),
                Rating = c.String("RATING_FIELD"),
                Time = c.String("TIME_FIELD"),
                HeadEntityId = c.String("HEAD_ENTITY_ID_FIELD"),
                RelationId = c.String("RELATION_ID_FIELD"),
                TailEntityId = c.String("TAIL_ENTITY_ID_FIELD"),
                EntityId = c.String("ENTITY_ID_FIELD"),
            },
            LoadColumns = Columns(c),
            Format = new FileFormat
            {
                FieldSeparator = NonEmpty(c, "field_separator"),
                SeqSeparator = NonEmpty(c, "seq_separator"),
            },
            Filters = new FilterOptions
            {
                RemoveDuplicates = c.StringOrNull("rm_dup_inter") switch
                {
                    "first" => DuplicatePolicy.First,
                    "last" => DuplicatePolicy.Last,
                    _ => DuplicatePolicy.Keep,
                },
                ValueIntervals = ValueIntervals(c),
                UserInteractionCount = Interval(c, "user_inter_num_interval"),
                ItemInteractionCount = Interval(c, "item_inter_num_interval"),
                EntityTripleCount = Interval(c, "entity_kg_num_interval"),
                RelationTripleCount = Interval(c, "relation_kg_num_interval"),
            },
            Kg = new KgOptions
            {
                ReverseRelations = c.Bool("kg_reverse_r"),
                UiRelation = NonEmpty(c, "ui_relation"),
            },
            Split = Split(c),
            Seed = c.Int("seed"),
        };
    }

    private static string NonEmpty(ResolvedConfig c, string key)
    {
        string value = c.String(key);
        return value.Length > 0
            ? value
            : throw new ConfigException(
                $"key '{key}' ({c.Origin(key)}): expected a non-empty string");
    }

    private static LoadColumns Columns(ResolvedConfig c)
    {
        IReadOnlyDictionary<string, object?>? map = c.Map("load_col");
        if (map is null)
        {
            return new LoadColumns { AllColumns = true };
        }

        foreach (string file in map.Keys)
        {
            if (file is not ("inter" or "kg" or "link" or "user" or "item"))
            {
                throw new ConfigException(
                    $"key 'load_col' ({c.Origin("load_col")}): unknown file '{file}', expected " +
                    "inter, kg, link, user or item");
            }
        }

        IReadOnlyList<string>? List(string file) => map.TryGetValue(file, out object? v)
            ? v switch
            {
                List<object?> l => l.Select(x => x?.ToString() ?? string.Empty).ToArray(),
                string s => [s],
                _ => throw new ConfigException(
                    $"key 'load_col.{file}' ({c.Origin("load_col")}): expected a list of columns"),
            }
            : null;

        var defaults = new LoadColumns();
        return new LoadColumns
        {
            Inter = List("inter") ?? defaults.Inter,
            Kg = List("kg") ?? defaults.Kg,
            Link = List("link") ?? defaults.Link,
            User = List("user"),
        };
    }

    private static Dictionary<string, IntervalSet> ValueIntervals(ResolvedConfig c)
    {
        var result = new Dictionary<string, IntervalSet>(StringComparer.Ordinal);
        foreach ((string field, object? value) in c.Map("val_interval")
            ?? new Dictionary<string, object?>())
        {
            result[field] = ParseInterval(c, $"val_interval.{field}",
                value?.ToString() ?? string.Empty, "val_interval");
        }

        return result;
    }

    private static IntervalSet? Interval(ResolvedConfig c, string key) =>
        c.StringOrNull(key) is { Length: > 0 } text ? ParseInterval(c, key, text, key) : null;

    private static IntervalSet ParseInterval(
        ResolvedConfig c, string key, string text, string originKey)
    {
        try
        {
            return IntervalSet.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new ConfigException(
                $"key '{key}' ({c.Origin(originKey)}): expected an interval like \"[3,inf)\", " +
                $"found '{text}' ({ex.Message})");
        }
    }

    private static SplitOptions Split(ResolvedConfig c)
    {
        IReadOnlyDictionary<string, object?> split = c.Map("eval_args.split")
            ?? throw new ConfigException(
                "key 'eval_args.split': expected {RS: [0.8, 0.1, 0.1]} or {LS: mode}");
        string origin = c.Origin("eval_args.split");
        bool byUser = c.String("eval_args.group_by") == "user";
        SplitOrder order = c.String("eval_args.order") == "TO"
            ? SplitOrder.Time
            : SplitOrder.Random;
        if (split.Count != 1)
        {
            throw new ConfigException(
                $"key 'eval_args.split' ({origin}): expected exactly one of RS or LS");
        }

        (string mode, object? value) = split.First();
        switch (mode)
        {
            case "RS":
                {
                    double[] ratios = value is List<object?> list
                        ? list.Select(x => ParseRatio(x, origin)).ToArray()
                        : throw new ConfigException(
                            $"key 'eval_args.split.RS' ({origin}): expected a list of ratios " +
                            "like [0.8, 0.1, 0.1]");
                    if (ratios.Length is < 2 or > 3 || ratios.Any(r => r < 0) || ratios.Sum() <= 0)
                    {
                        throw new ConfigException(
                            $"key 'eval_args.split.RS' ({origin}): expected 2 or 3 " +
                            $"non-negative ratios, found [{string.Join(", ", ratios)}]");
                    }

                    return new SplitOptions
                    {
                        Mode = SplitMode.Ratio,
                        Ratios = ratios,
                        GroupByUser = byUser,
                        Order = order,
                    };
                }

            case "LS":
                {
                    LeaveOneOutMode ls = value?.ToString() switch
                    {
                        "valid_and_test" => LeaveOneOutMode.ValidAndTest,
                        "valid_only" => LeaveOneOutMode.ValidOnly,
                        "test_only" => LeaveOneOutMode.TestOnly,
                        var other => throw new ConfigException(
                            $"key 'eval_args.split.LS' ({origin}): expected valid_and_test, " +
                            $"valid_only or test_only, found '{other}'"),
                    };
                    return new SplitOptions
                    {
                        Mode = SplitMode.LeaveOneOut,
                        LeaveOneOut = ls,
                        GroupByUser = byUser,
                        Order = order,
                    };
                }

            default:
                throw new ConfigException(
                    $"key 'eval_args.split' ({origin}): unknown split '{mode}', expected RS or LS");
        }
    }

    private static double ParseRatio(object? value, string origin) =>
        value is string s && double.TryParse(
                s, NumberStyles.Float, CultureInfo.InvariantCulture, out double r)
            ? r
            : throw new ConfigException(
                $"key 'eval_args.split.RS' ({origin}): expected numbers, found '{value}'");
}
