using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;
using Kgglm.Network;
using Kgglm.Paths;
using Kgglm.Training;

namespace Kgglm.Bench.EndToEnd;

/// <summary>
/// End-to-end training throughput: the real trainer (corpus file, micro-batches, AdamW) on
/// ml-100k fine-tuning paths, printing one JSON line with tokens/s and peak RSS, to be read
/// side by side with the peer's <c>train</c> at the same shape (bench/peer/train.sh).
/// Usage: <c>Kgglm.Bench train [--batch 256] [--micro 128] [--threads 2] [--steps 5]
/// [--warmup 1] [--dim 768 --layers 6 --heads 12] [--chunk 0] [--profile]</c>; <c>--profile</c>
/// prints the per-op time table of the measured steps to stderr.
/// </summary>
internal static class TrainThroughput
{
    public static int Run(string[] args)
    {
        int Arg(string name, int fallback) => Arguments.Int(args, name, fallback);

        int batch = Arg("batch", 256), micro = Arg("micro", 128), threads = Arg("threads", 2);
        int steps = Arg("steps", 5), warmup = Arg("warmup", 1), chunk = Arg("chunk", 0);
        int dim = Arg("dim", 768), layers = Arg("layers", 6), heads = Arg("heads", 12);

        Dataset d = Dataset.Load(DatasetLocator.FromName("ml-100k"));
        SamplingConfig sampling = SamplingConfig.From(ConfigResolver.Resolve([], []));
        string corpus = Path.Combine(Path.GetTempPath(),
            $"kgglm-bench-{Environment.ProcessId}.paths");
        try
        {
            CorpusBuilder.Ensure(d, sampling, CorpusStage.Finetune, 9, 2024, threads, corpus,
                false, null);
            bool profile = args.Contains("--profile");
            IKernels engine = new CpuKernels(threads);
            using IKernels k = profile ? new ProfilingKernels(engine) : engine;
            var shape = new Gpt2Shape(d.Vocabulary.Count, 9, dim, heads, layers,
                new TypeTokenIds(d.Vocabulary.TypeS, d.Vocabulary.TypeE, d.Vocabulary.TypeR), 0.1f);
            using var model = new Gpt2(k, shape, Math.Min(micro, batch), Vocabulary.Pad, chunk);
            using var optimizer = new AdamWOptimizer(k, model, 0.01, 1.0);
            WeightInit.Initialize(model, k, 2024);
            using PathCorpusFile file = PathCorpusFile.Open(corpus);
            var settings = new TrainerSettings("finetune", 1, batch, model.MaxBatch,
                warmup + steps, 1 << 30, new LearningRateSchedule(2e-4, 250, 1000), 0.1f, 2024);
            var trainer = new Trainer(model, optimizer, file, settings);
            var ms = new List<double>();
            double firstLoss = double.NaN, lastLoss = double.NaN;
            var cpu = Process.GetCurrentProcess();
            TimeSpan cpuBefore = TimeSpan.Zero;
            trainer.Run(TrainingProgress.Start, s =>
            {
                if (s.Step == 1)
                {
                    firstLoss = s.Loss;
                }

                lastLoss = s.Loss;
                if (s.Step == warmup)
                {
                    (k as ProfilingKernels)?.Reset();
                    cpu.Refresh();
                    cpuBefore = cpu.TotalProcessorTime;
                }

                if (s.Step > warmup)
                {
                    ms.Add(s.Milliseconds);
                }
            }, (_, _) => false, _ => { }, CancellationToken.None);
            cpu.Refresh();
            double seconds = ms.Sum() / 1000;
            int T = shape.Positions - 1;
            var result = new Dictionary<string, object>
            {
                ["engine"] = "kgglm",
                ["kernels"] = k.Name,
                ["batch"] = batch,
                ["micro_batch"] = model.MaxBatch,
                ["seq"] = T,
                ["steps"] = ms.Count,
                ["threads"] = threads,
                ["parameters"] = model.Layout.Count,
                ["tokens_per_s"] = Math.Round(batch * T * ms.Count / seconds, 1),
                ["ms_per_step"] = Math.Round(ms.Average(), 1),
                ["ms_per_step_min"] = Math.Round(ms.Min(), 1),
                ["cpu_utilisation"] = Math.Round(
                    (cpu.TotalProcessorTime - cpuBefore).TotalSeconds / seconds / threads, 2),
                ["peak_rss_mib"] = PeakRssMib(),
                ["first_loss"] = Math.Round(firstLoss, 4),
                ["final_loss"] = Math.Round(lastLoss, 4),
            };
            Console.WriteLine(JsonSerializer.Serialize(result));
            if (k is ProfilingKernels p)
            {
                Console.Error.Write(p.Table());
            }

            return 0;
        }
        finally
        {
            File.Delete(corpus);
        }
    }

    /// <summary>VmHWM of this process (peak resident set), in MiB.</summary>
    internal static double PeakRssMib()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return Math.Round(double.Parse(kb, CultureInfo.InvariantCulture) / 1024, 1);
            }
        }

        return double.NaN;
    }
}
