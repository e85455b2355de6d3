using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Kgglm.Data;

namespace Kgglm.Bench.Data;

/// <summary>
/// Time and allocations of <see cref="Dataset.Load(DatasetLocation, DatasetOptions?)"/>: the
/// embedded ml-100k, and a synthetic dataset 100× its size (10 M interactions, 10 M triples)
/// generated into a temp folder on first use and deleted afterwards.
/// </summary>
[MemoryDiagnoser]
public class LoadBenchmark
{
    DatasetLocation _location = null!;
    string? _generated;

    /// <summary><c>ml-100k</c> or <c>synthetic-100x</c>.</summary>
    [Params("ml-100k", "synthetic-100x")]
    public string Data { get; set; } = "ml-100k";

    /// <summary>Finds or generates the dataset.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (Data == "ml-100k")
        {
            _location = DatasetLocator.FromName("ml-100k");
            return;
        }
        _generated = Path.Combine(Path.GetTempPath(), $"kgglm-synthetic-{Environment.ProcessId}");
        _location = GenerateSynthetic(_generated, "synthetic", scale: 100);
    }

    /// <summary>Deletes a generated dataset.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        if (_generated is not null && Directory.Exists(_generated))
        {
            Directory.Delete(_generated, recursive: true);
        }
    }

    /// <summary>The whole load: read, filter, remap, split, graph, vocabulary.</summary>
    [Benchmark]
    public int Load() => Dataset.Load(_location).Graph.EdgeCount;

    /// <summary>
    /// Writes an ml-100k-shaped dataset <paramref name="scale"/> times larger: 943·scale users,
    /// 1,682·scale items (95 % linked), 100,000·scale interactions, 100,000·scale triples over
    /// 24 relations and 34,000·scale entities. Fixed seed, so every run reads the same files.
    /// </summary>
    public static DatasetLocation GenerateSynthetic(string folder, string name, int scale)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(20240);
        int users = 943 * scale, items = 1_682 * scale, linked = items * 95 / 100;
        int entities = 34_000 * scale, rows = 100_000 * scale;
        var inv = CultureInfo.InvariantCulture;
        string PathOf(string ext) => Path.Combine(folder, $"{name}.{ext}");
        using (var w = new StreamWriter(PathOf("inter"), false, Encoding.UTF8, 1 << 20))
        {
            w.Write("user_id:token\titem_id:token\trating:float\ttimestamp:float\n");
            for (int k = 0; k < rows; k++)
            {
                // Skewed item popularity, like real rating data.
                int item = (int)(items * Math.Pow(random.NextDouble(), 2));
                w.Write(string.Create(inv, $"{random.Next(users)}\t{item}\t"
                    + $"{random.Next(1, 6)}\t{874_000_000 + random.Next(20_000_000)}\n"));
            }
        }
        using (var w = new StreamWriter(PathOf("kg"), false, Encoding.UTF8, 1 << 20))
        {
            w.Write("head_id:token\trelation_id:token\ttail_id:token\n");
            for (int k = 0; k < rows; k++)
            {
                // Every triple touches an item's entity, as ml-100k's nearly all do.
                string head = string.Create(inv, $"m.i{random.Next(linked)}");
                string tail = string.Create(inv, $"m.{random.Next(entities):x}");
                string relation = string.Create(inv, $"film.rel{random.Next(24)}");
                w.Write(random.Next(4) == 0 ? $"{tail}\t{relation}\t{head}\n"
                    : $"{head}\t{relation}\t{tail}\n");
            }
        }
        using (var w = new StreamWriter(PathOf("link"), false, Encoding.UTF8, 1 << 20))
        {
            w.Write("item_id:token\tentity_id:token\n");
            for (int i = 0; i < linked; i++)
            {
                w.Write(string.Create(inv, $"{i}\tm.i{i}\n"));
            }
        }
        return new DatasetLocation(folder, name);
    }
}
