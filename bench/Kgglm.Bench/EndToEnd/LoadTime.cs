using System.Diagnostics;
using System.Text.Json;
using Kgglm.Bench.Data;
using Kgglm.Data;

namespace Kgglm.Bench.EndToEnd;

/// <summary>
/// Dataset loading at scale: writes the synthetic ml-100k-shaped dataset of
/// <see cref="LoadBenchmark.GenerateSynthetic"/> (<c>--scale N</c> times ml-100k) into a temp
/// folder, loads it <c>--repeat</c> times in this process and prints one JSON line with each
/// load's seconds, the managed bytes it allocated and the peak RSS, then deletes the folder.
/// Usage: <c>Kgglm.Bench load [--scale 10] [--repeat 3] [--keep DIR]</c> (<c>--keep</c> writes
/// the dataset to DIR and leaves it there, e.g. for <c>kgglm info --data-path DIR</c>).
/// </summary>
internal static class LoadTime
{
    public static int Run(string[] args)
    {
        int scale = Arguments.Int(args, "scale", 10), repeat = Arguments.Int(args, "repeat", 3);
        string? keep = Arguments.OptionalText(args, "keep");
        string folder = keep
            ?? Path.Combine(Path.GetTempPath(), $"kgglm-load-{Environment.ProcessId}");
        try
        {
            var generate = Stopwatch.StartNew();
            DatasetLocation location = LoadBenchmark.GenerateSynthetic(folder, "synthetic", scale);
            double written = generate.Elapsed.TotalSeconds;
            var seconds = new List<double>();
            var allocated = new List<long>();
            int edges = 0;
            for (int i = 0; i < repeat; i++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                var watch = Stopwatch.StartNew();
                Dataset d = Dataset.Load(location);
                seconds.Add(Math.Round(watch.Elapsed.TotalSeconds, 3));
                allocated.Add((GC.GetTotalAllocatedBytes(precise: true) - before) >> 20);
                edges = d.Graph.EdgeCount;
            }

            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["scale"] = scale,
                ["generate_s"] = Math.Round(written, 2),
                ["load_s"] = seconds,
                ["allocated_mib"] = allocated,
                ["graph_edges"] = edges,
                ["peak_rss_mib"] = TrainThroughput.PeakRssMib(),
            }));
            return 0;
        }
        finally
        {
            if (keep is null && Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
