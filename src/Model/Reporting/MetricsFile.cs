using System.Text.Json;
using Kgglm.Checkpoints;

namespace Kgglm.Reporting;

/// <summary>One named curve of a run: parallel lists of x (step, epoch, trial) and value.</summary>
public sealed class MetricSeries
{
    /// <summary>Abscissae in the order recorded.</summary>
    public List<double> X { get; } = [];

    /// <summary>Values, one per entry of <see cref="X"/>.</summary>
    public List<double> Y { get; } = [];
}

/// <summary>
/// The machine-readable metrics of a run (<c>metrics.json</c> in the run folder): series such as
/// <c>train_loss</c> per step or <c>valid_ndcg@10</c> per epoch, scalar results such as
/// <c>test_ndcg@10</c>, and string facts (dataset, stage). Written atomically as indented JSON
/// with keys sorted, so it can be rewritten after every evaluation and diffed between runs.
/// Non-finite numbers (a diverged loss) are written as <c>null</c> and read back as NaN.
/// </summary>
public sealed class MetricsFile
{
    /// <summary>Curves by name.</summary>
    public SortedDictionary<string, MetricSeries> Series { get; } = new(StringComparer.Ordinal);

    /// <summary>Single results by name.</summary>
    public SortedDictionary<string, double> Scalars { get; } = new(StringComparer.Ordinal);

    /// <summary>Descriptive strings by name (dataset, stage, version).</summary>
    public SortedDictionary<string, string> Info { get; } = new(StringComparer.Ordinal);

    /// <summary>Appends (<paramref name="x"/>, <paramref name="y"/>) to a series.</summary>
    public void Add(string series, double x, double y)
    {
        if (!Series.TryGetValue(series, out MetricSeries? line))
            Series[series] = line = new MetricSeries();
        line.X.Add(x);
        line.Y.Add(y);
    }

    /// <summary>Writes the file to <paramref name="path"/> atomically.</summary>
    public void Write(string path)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("info");
            foreach ((string key, string value) in Info)
                writer.WriteString(key, value);
            writer.WriteEndObject();
            writer.WriteStartObject("scalars");
            foreach ((string key, double value) in Scalars)
            {
                writer.WritePropertyName(key);
                WriteNumber(writer, value);
            }
            writer.WriteEndObject();
            writer.WriteStartObject("series");
            foreach ((string key, MetricSeries line) in Series)
            {
                writer.WriteStartObject(key);
                WriteArray(writer, "x", line.X);
                WriteArray(writer, "y", line.Y);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        AtomicFile.WriteAllBytes(path, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>
    /// Reads a metrics file written by <see cref="Write"/>; a malformed one is a
    /// <see cref="FormatException"/> naming the file.
    /// </summary>
    public static MetricsFile Read(string path)
    {
        var metrics = new MetricsFile();
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = document.RootElement;
            foreach (JsonProperty item in root.GetProperty("info").EnumerateObject())
                metrics.Info[item.Name] = item.Value.GetString()!;
            foreach (JsonProperty item in root.GetProperty("scalars").EnumerateObject())
                metrics.Scalars[item.Name] = ReadNumber(item.Value);
            foreach (JsonProperty item in root.GetProperty("series").EnumerateObject())
            {
                var line = new MetricSeries();
                line.X.AddRange(item.Value.GetProperty("x").EnumerateArray().Select(ReadNumber));
                line.Y.AddRange(item.Value.GetProperty("y").EnumerateArray().Select(ReadNumber));
                if (line.X.Count != line.Y.Count)
                    throw new FormatException($"series '{item.Name}' has unequal x and y");
                metrics.Series[item.Name] = line;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException
            or InvalidOperationException or FormatException)
        {
            throw new FormatException($"{path}: not a Kgglm metrics file ({e.Message})", e);
        }
        return metrics;
    }

    static void WriteArray(Utf8JsonWriter writer, string name, List<double> values)
    {
        writer.WriteStartArray(name);
        foreach (double value in values)
            WriteNumber(writer, value);
        writer.WriteEndArray();
    }

    static void WriteNumber(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
            writer.WriteNumberValue(value);
        else
            writer.WriteNullValue();
    }

    static double ReadNumber(JsonElement value) =>
        value.ValueKind == JsonValueKind.Null ? double.NaN : value.GetDouble();
}
