using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kgglm.Data;
using Kgglm.Decoding;
using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;
using Kgglm.Network;

namespace Kgglm.Bench.EndToEnd;

/// <summary>
/// Decoding throughput: the real KV-cached, KG-constrained diverse beam search over ml-100k
/// users with the default network (random weights: speed does not depend on them), printing one
/// JSON line with sequences/s, seconds and peak RSS, to be read beside the peer's
/// <c>generate</c> (bench/peer/generate.sh).
/// Usage: <c>Kgglm.Bench generate [--users 943] [--beams 20] [--groups 5] [--threads 2]
/// [--batch 32] [--dim 768 --layers 6 --heads 12 | --checkpoint DIR] [--profile]</c>;
/// <c>--serve [--packed]</c> times one-user requests instead (a server's latency), with the
/// weights packed once beforehand or not.
/// </summary>
internal static class DecodeThroughput
{
    public static int Run(string[] args)
    {
        int Arg(string name, int fallback) => Arguments.Int(args, name, fallback);

        int users = Arg("users", 943), beams = Arg("beams", 20), groups = Arg("groups", 5);
        int threads = Arg("threads", 2), batch = Arg("batch", 32);
        int dim = Arg("dim", 768), layers = Arg("layers", 6), heads = Arg("heads", 12);

        Dataset d = Dataset.Load(DatasetLocator.FromName("ml-100k"));
        IKernels engine = new CpuKernels(threads);
        using IKernels k = args.Contains("--profile") ? new ProfilingKernels(engine) : engine;
        var options = new DecodeOptions(beams, groups, 0.3, Math.Min(10, beams),
            PathScoring.Cumulative, batch);
        string? checkpoint = Arguments.OptionalText(args, "checkpoint");
        Gpt2? model = null;
        Recommender recommender;
        if (checkpoint is not null)
        {
            // Trained weights: groups then often agree on a path, and shared rows are computed
            // once, so this is the realistic case; random weights are the worst case.
            recommender = Recommender.Load(checkpoint, d, k, options);
        }
        else
        {
            var shape = new Gpt2Shape(d.Vocabulary.Count, 9, dim, heads, layers,
                new TypeTokenIds(d.Vocabulary.TypeS, d.Vocabulary.TypeE, d.Vocabulary.TypeR), 0f);
            model = new Gpt2(k, shape, 1, Vocabulary.Pad, training: false);
            WeightInit.Initialize(model, k, 2024);
            recommender = new Recommender(k, model, d, options);
        }

        using Gpt2? ownedModel = model;
        using Recommender ownedRecommender = recommender;
        int[] ids = Enumerable.Range(1, d.Users.Count - 1)
            .Where(u => d.TestItems[u].Length > 0).Take(users).ToArray();

        if (args.Contains("--serve"))
        {
            return Serve(recommender, ids, args.Contains("--packed"));
        }

        // Untimed batches warm the JIT and the buffers, as the peer does (two, so that the
        // packed-weight path of a multi-batch decode is compiled too).
        recommender.Recommend(ids.AsSpan(0, Math.Min(2 * batch, ids.Length)),
            RecommendationSplit.Test, 10);
        (k as ProfilingKernels)?.Reset();
        (long bodyBefore, long headBefore, long unsharedBefore) = recommender.RowsComputed;
        var watch = Stopwatch.StartNew();
        IReadOnlyList<UserRecommendations> all =
            recommender.Recommend(ids, RecommendationSplit.Test, 10);
        double seconds = watch.Elapsed.TotalSeconds;
        (long body, long head, long unshared) = recommender.RowsComputed;
        body -= bodyBefore;
        head -= headBefore;
        unshared -= unsharedBefore;
        var result = new Dictionary<string, object>
        {
            ["engine"] = "kgglm",
            ["kernels"] = k.Name,
            ["weights"] = checkpoint ?? "random",
            ["users"] = ids.Length,
            ["beams"] = beams,
            ["groups"] = groups,
            ["new_tokens"] = 5,
            ["threads"] = threads,
            ["total_s"] = Math.Round(seconds, 2),
            ["users_per_s"] = Math.Round(ids.Length / seconds, 1),
            ["sequences_per_s"] = Math.Round(ids.Length * beams / seconds, 1),
            ["items_returned"] = all.Sum(r => r.Items.Count),
            ["body_rows_per_user"] = Math.Round((double)body / ids.Length, 2),
            ["head_rows_per_user"] = Math.Round((double)head / ids.Length, 2),
            ["body_rows_unshared_per_user"] = Math.Round((double)unshared / ids.Length, 2),
            ["peak_rss_mib"] = TrainThroughput.PeakRssMib(),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        if (k is ProfilingKernels p)
        {
            Console.Error.Write(p.Table());
        }

        return 0;
    }

    /// <summary>Latency of one-user requests: the median and 90th percentile of 30.</summary>
    private static int Serve(Recommender recommender, int[] ids, bool packed)
    {
        if (packed)
        {
            recommender.PackWeights();
        }

        for (int i = 0; i < 3; i++)
        {
            recommender.Recommend(ids.AsSpan(i, 1), RecommendationSplit.Test, 10);
        }

        var ms = new List<double>();
        for (int i = 0; i < Math.Min(30, ids.Length); i++)
        {
            var watch = Stopwatch.StartNew();
            recommender.Recommend(ids.AsSpan(i, 1), RecommendationSplit.Test, 10);
            ms.Add(watch.Elapsed.TotalMilliseconds);
        }

        ms.Sort();
        var result = new Dictionary<string, object>
        {
            ["engine"] = "kgglm",
            ["mode"] = packed ? "serve, weights packed once" : "serve, plain matmuls",
            ["requests"] = ms.Count,
            ["median_ms"] = Math.Round(ms[ms.Count / 2], 1),
            ["p90_ms"] = Math.Round(ms[(int)(ms.Count * 0.9)], 1),
            ["peak_rss_mib"] = TrainThroughput.PeakRssMib(),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }
}
