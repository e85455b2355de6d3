using System.Globalization;
using System.Text;
using System.Text.Json;
using Kgglm.Checkpoints;
using Kgglm.Reporting;

namespace Kgglm.Tuning;

/// <summary>How a trial ended.</summary>
public enum TrialStatus
{
    /// <summary>Trained and scored.</summary>
    Ok,

    /// <summary>
    /// Raised an error (bad input for this combination, divergence); the search went on.
    /// </summary>
    Failed,

    /// <summary>A combination the model cannot build (e.g. heads not dividing the width).</summary>
    Skipped,
}

/// <summary>One finished trial.</summary>
/// <param name="Number">1-based trial number (folder <c>trial-NNN</c>).</param>
/// <param name="Params">The tuned values.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Error">Why it failed or was skipped; null when ok.</param>
/// <param name="ValidScore">The best valid_metric of fine-tuning; null when not ok.</param>
/// <param name="Test">Test metrics of the best weights (empty when not ok).</param>
/// <param name="Seconds">Wall time of the trial, pre-training included when it ran.</param>
/// <param name="PretrainReused">True when an earlier trial's pre-training was reused.</param>
/// <param name="Pretrain">The pre-training folder, relative to the study folder.</param>
public sealed record TrialRecord(
    int Number, ParamSet Params, TrialStatus Status, string? Error, double? ValidScore,
    IReadOnlyDictionary<string, double> Test, double Seconds, bool PretrainReused,
    string? Pretrain);

/// <summary>
/// A hyper-parameter study: its settings and every finished trial, saved atomically to
/// <c>study.json</c> after each trial, with <c>trials.csv</c> and <c>valid_per_trial.png</c>.
/// </summary>
public sealed class Study
{
    /// <summary>The study file's name inside the output folder.</summary>
    public const string FileName = "study.json";

    /// <summary>Creates an empty study.</summary>
    public Study(string algorithm, int searchSeed, string validMetric, IReadOnlyList<string> space)
    {
        Algorithm = algorithm;
        SearchSeed = searchSeed;
        ValidMetric = validMetric;
        Space = space;
    }

    /// <summary>The search algorithm.</summary>
    public string Algorithm { get; }

    /// <summary>The seed of the search.</summary>
    public int SearchSeed { get; }

    /// <summary>The metric trials are ranked by (bigger is better).</summary>
    public string ValidMetric { get; }

    /// <summary>The params file's lines as parsed, to refuse resuming another study.</summary>
    public IReadOnlyList<string> Space { get; }

    /// <summary>Finished trials, by number.</summary>
    public List<TrialRecord> Trials { get; } = [];

    /// <summary>
    /// The ok trial with the highest valid score (the lowest number on ties), or null.
    /// </summary>
    public TrialRecord? Best => Trials
        .Where(t => t.Status == TrialStatus.Ok && t.ValidScore is double s && double.IsFinite(s))
        .OrderByDescending(t => t.ValidScore!.Value).ThenBy(t => t.Number)
        .FirstOrDefault();

    /// <summary>
    /// Writes <c>study.json</c>, <c>trials.csv</c> and <c>valid_per_trial.png</c>.
    /// </summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllBytes(Path.Combine(folder, FileName), ToJson());
        AtomicFile.WriteAllText(Path.Combine(folder, "trials.csv"), ToCsv());
        var ok = Trials.Where(t => t.ValidScore is double s && double.IsFinite(s)).ToList();
        if (ok.Count > 0)
        {
            var x = ok.Select(t => (double)t.Number).ToList();
            var y = ok.Select(t => t.ValidScore!.Value).ToList();
            var bestSoFar = y.Select((_, i) => y.Take(i + 1).Max()).ToList();
            new LossCurvePlot
            {
                Title = $"KGGLM tune ({Algorithm}): {ValidMetric} per trial",
                XLabel = "trial",
                YLabel = "valid " + ValidMetric,
            }
                .Add("valid score", x, y)
                .Add("best so far", x, bestSoFar)
                .SavePng(Path.Combine(folder, "valid_per_trial.png"));
        }
    }

    /// <summary>Reads a study written by <see cref="Save"/>.</summary>
    public static Study Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = doc.RootElement;
            var study = new Study(
                root.GetProperty("algorithm").GetString()!,
                root.GetProperty("search_seed").GetInt32(),
                root.GetProperty("valid_metric").GetString()!,
                [.. root.GetProperty("space").EnumerateArray().Select(e => e.GetString()!)]);
            foreach (JsonElement t in root.GetProperty("trials").EnumerateArray())
            {
                var values = t.GetProperty("params").EnumerateObject()
                    .Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetString()!))
                    .ToList();
                var test = t.GetProperty("test").EnumerateObject().ToDictionary(
                    p => p.Name,
                    p => p.Value.ValueKind == JsonValueKind.Null
                        ? double.NaN
                        : p.Value.GetDouble());
                JsonElement score = t.GetProperty("valid_score");
                study.Trials.Add(new TrialRecord(
                    t.GetProperty("number").GetInt32(), new ParamSet(values),
                    Enum.Parse<TrialStatus>(t.GetProperty("status").GetString()!, ignoreCase: true),
                    t.GetProperty("error").GetString(),
                    score.ValueKind == JsonValueKind.Null ? null : score.GetDouble(), test,
                    t.GetProperty("seconds").GetDouble(),
                    t.GetProperty("pretrain_reused").GetBoolean(),
                    t.GetProperty("pretrain").GetString()));
            }

            return study;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException
            or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new TuneException($"{path}: not a Kgglm study file ({e.Message})");
        }
    }

    /// <summary>The study as indented JSON, the best trial repeated at the top.</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("algorithm", Algorithm);
            w.WriteNumber("search_seed", SearchSeed);
            w.WriteString("valid_metric", ValidMetric);
            w.WriteStartArray("space");
            foreach (string s in Space)
            {
                w.WriteStringValue(s);
            }

            w.WriteEndArray();
            TrialRecord? best = Best;
            w.WriteNumber("best_trial", best?.Number ?? 0);
            if (best is not null)
            {
                w.WritePropertyName("best");
                WriteTrial(w, best);
            }

            w.WriteStartArray("trials");
            foreach (TrialRecord t in Trials)
            {
                WriteTrial(w, t);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return [.. buffer.ToArray(), (byte)'\n'];
    }

    private static void WriteTrial(Utf8JsonWriter w, TrialRecord t)
    {
        static void Number(Utf8JsonWriter w, string name, double? v)
        {
            if (v is double d && double.IsFinite(d))
            {
                w.WriteNumber(name, d);
            }
            else
            {
                w.WriteNull(name);
            }
        }

        w.WriteStartObject();
        w.WriteNumber("number", t.Number);
        w.WriteStartObject("params");
        foreach ((string key, string value) in t.Params.Values)
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
        w.WriteString("status", t.Status.ToString().ToLowerInvariant());
        w.WriteString("error", t.Error);
        Number(w, "valid_score", t.ValidScore);
        w.WriteStartObject("test");
        foreach ((string key, double value) in t.Test)
        {
            Number(w, key, value);
        }

        w.WriteEndObject();
        w.WriteNumber("seconds", t.Seconds);
        w.WriteBoolean("pretrain_reused", t.PretrainReused);
        w.WriteString("pretrain", t.Pretrain);
        w.WriteEndObject();
    }

    /// <summary>One row per trial: number, status, parameters, valid, test metrics, time.</summary>
    public string ToCsv()
    {
        List<string> names = ParamNames(), tests = TestNames();
        var sb = new StringBuilder();
        sb.AppendJoin(',', ["trial", "status", .. names, "valid_" + ValidMetric,
            .. tests.Select(n => "test_" + n), "seconds", "pretrain_reused", "error"]).Append('\n');
        foreach (TrialRecord t in Trials)
        {
            sb.AppendJoin(',', [
                Invariant(t.Number), t.Status.ToString().ToLowerInvariant(),
                .. names.Select(n =>
                    Csv(t.Params.Values.FirstOrDefault(v => v.Key == n).Value ?? "")),
                Score(t.ValidScore),
                .. tests.Select(n => Score(t.Test.GetValueOrDefault(n, double.NaN))),
                Invariant(Math.Round(t.Seconds, 2)), t.PretrainReused ? "true" : "false",
                Csv(t.Error ?? string.Empty),
            ]).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The end-of-study summary: a table of every trial and the best parameters.</summary>
    public string Summary()
    {
        List<string> names = ParamNames(), tests = TestNames();
        var header = new List<string> { "trial", "status" };
        header.AddRange(names);
        header.Add("valid " + ValidMetric);
        header.AddRange(tests.Select(n => "test " + n));
        header.Add("s");
        var rows = Trials.Select(t => new List<string>
        {
            Invariant(t.Number), t.Status.ToString().ToLowerInvariant(),
        }
            .Concat(names.Select(n => t.Params.Values.FirstOrDefault(v => v.Key == n).Value ?? ""))
            .Append(Score(t.ValidScore))
            .Concat(tests.Select(n => Score(t.Test.GetValueOrDefault(n, double.NaN))))
            .Append(Invariant(Math.Round(t.Seconds, 1)))
            .ToList()).ToList();
        int[] widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0
            : rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        sb.AppendJoin("  ", header.Select((h, i) => h.PadRight(widths[i]))).Append('\n');
        foreach (List<string> row in rows)
        {
            sb.AppendJoin("  ", row.Select((c, i) => c.PadRight(widths[i]))).Append('\n');
        }

        foreach (TrialRecord t in Trials.Where(t => t.Error is not null))
        {
            sb.Append($"trial {t.Number} {t.Status.ToString().ToLowerInvariant()}: {t.Error}\n");
        }

        TrialRecord? best = Best;
        if (best is null)
        {
            sb.Append("no trial finished with a valid score\n");
        }
        else
        {
            sb.Append($"best trial {best.Number}: {best.Params}\n");
            sb.Append($"best valid {ValidMetric}: {Score(best.ValidScore)}\n");
            sb.Append("test result: ").AppendJoin("    ",
                best.Test.Select(kv => $"{kv.Key} : {Score(kv.Value)}")).Append('\n');
        }

        return sb.ToString();
    }

    private List<string> ParamNames() =>
        Trials.SelectMany(t => t.Params.Values.Select(v => v.Key)).Distinct().ToList();

    private List<string> TestNames() => Trials.SelectMany(t => t.Test.Keys).Distinct().ToList();

    private static string Score(double? v) =>
        v is double d && double.IsFinite(d) ? d.ToString("F4", CultureInfo.InvariantCulture) : "";

    private static string Invariant(IFormattable v) =>
        v.ToString(null, CultureInfo.InvariantCulture);

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n']) >= 0
        ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
        : s;
}
