using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kgglm.Checkpoints;

namespace Kgglm.Evaluation;

/// <summary>
/// Metric values by key (<c>recall@10</c>), in the order they were computed; printable as
/// hopwise prints its result dict and writable as JSON.
/// </summary>
public sealed class MetricResults : IReadOnlyDictionary<string, double>
{
    readonly OrderedDictionary<string, double> _values = new(StringComparer.Ordinal);

    /// <summary>Appends <paramref name="key"/>; throws when it is already present.</summary>
    public void Add(string key, double value) => _values.Add(key, value);

    /// <inheritdoc/>
    public double this[string key] => _values[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _values.Keys;

    /// <inheritdoc/>
    public IEnumerable<double> Values => _values.Values;

    /// <inheritdoc/>
    public int Count => _values.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _values.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, out double value) => _values.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, double>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// One line as hopwise's <c>dict2str</c> prints results:
    /// <c>recall@10 : 0.1234    mrr@10 : 0.2</c> (values as Python prints a float).
    /// </summary>
    public string Format() => string.Join("    ",
        _values.Select(p => $"{p.Key} : {PythonFloat(p.Value)}"));

    /// <inheritdoc/>
    public override string ToString() => Format();

    /// <summary>
    /// The results as an indented JSON object <c>{"recall@10": 0.1234, ...}</c> in result
    /// order; a non-finite value is written as <c>null</c>.
    /// </summary>
    public string ToJson() => Encoding.UTF8.GetString(JsonBytes());

    /// <summary>Writes <see cref="ToJson"/> (and a final newline) to <paramref name="path"/>
    /// atomically.</summary>
    public void WriteJson(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.WriteAllBytes(path, [.. JsonBytes(), (byte)'\n']);
    }

    /// <summary>Reads a file written by <see cref="WriteJson"/>; null values read as NaN.
    /// Throws <see cref="FormatException"/> naming the file when it is not such an object.
    /// </summary>
    public static MetricResults ReadJson(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var results = new MetricResults();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var property in document.RootElement.EnumerateObject())
            {
                results.Add(property.Name, property.Value.ValueKind == JsonValueKind.Null
                    ? double.NaN : property.Value.GetDouble());
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException
            or FormatException or ArgumentException)
        {
            throw new FormatException($"{path}: expected a JSON object of metric values " +
                $"({e.Message})", e);
        }
        return results;
    }

    byte[] JsonBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in _values)
            {
                writer.WritePropertyName(key);
                if (double.IsFinite(value))
                {
                    writer.WriteNumberValue(value);
                }
                else
                {
                    writer.WriteNullValue();
                }
            }
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Python's <c>repr</c> of a float: shortest round trip, <c>1.0</c> not <c>1</c>,
    /// <c>1e-05</c>, <c>nan</c>, <c>inf</c>.</summary>
    internal static string PythonFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }
        string s = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        bool looksFloat = s.Contains('.', StringComparison.Ordinal)
            || s.Contains('e', StringComparison.Ordinal);
        return looksFloat ? s : s + ".0";
    }
}
