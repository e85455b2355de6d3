using System.Diagnostics;
using Kgglm.Common;
using Kgglm.Configuration;
using Kgglm.Data;

namespace Kgglm.Paths;

/// <summary>Which corpus: pre-training walks or fine-tuning user paths.</summary>
public enum CorpusStage
{
    /// <summary>Random walks over KG edges.</summary>
    Pretrain,

    /// <summary>User → item paths.</summary>
    Finetune,

    /// <summary>1-hop <c>head R tail</c> paths of the KG train split (link prediction).</summary>
    LinkPrediction,
}

/// <summary>
/// Samples a corpus to its binary file, or reuses the file when its header matches the dataset,
/// the vocabulary and the sampling configuration (sampling keys, seed, stage, path length).
/// </summary>
public static class CorpusBuilder
{
    /// <summary>
    /// Fingerprint of the dataset as training sees it: its vocabulary, the train interactions
    /// and the triples, in order.
    /// </summary>
    public static ulong DatasetFingerprint(Dataset d)
    {
        var h = new Fnv1a();
        h.Add(d.Name);
        h.Add((long)d.Vocabulary.Fingerprint);
        h.Add(d.Train.Count);
        for (int i = 0; i < d.Train.Count; i++)
        {
            h.Add(((long)d.Train.Users[i] << 32) | (uint)d.Train.Items[i]);
        }

        h.Add(d.Triples.Count);
        for (int i = 0; i < d.Triples.Count; i++)
        {
            h.Add(((long)d.Triples.Heads[i] << 40) ^ ((long)d.Triples.Relations[i] << 20)
                ^ d.Triples.Tails[i]);
        }

        return h.Value;
    }

    /// <summary>Fingerprint of everything that decides which paths are sampled.</summary>
    public static ulong SamplingHash(
        SamplingConfig s, CorpusStage stage, int contextLength, int seed)
    {
        var h = new Fnv1a();
        h.Add(stage.ToString());
        h.Add(contextLength);
        h.Add(seed);
        if (stage == CorpusStage.Pretrain)
        {
            h.Add(s.PretrainHops.Min);
            h.Add(s.PretrainHops.Max);
            h.Add(s.PretrainPaths);
            h.Add(s.MaxRwTriesPerIid);
        }
        else if (stage == CorpusStage.LinkPrediction)
        {
            // The 1-hop corpus depends only on the triples (in the dataset fingerprint).
        }
        else
        {
            h.Add(s.Strategy);
            h.Add(s.MaxPathsPerUser);
            h.Add(s.PathHopLength);
            h.Add(s.CollaborativePath ? 1 : 0);
            if (s.Strategy == "constrained-rw")
            {
                h.Add(s.MaxConsecutiveInvalid);
                h.Add(s.MaxRwPathsPerHop);
                h.Add(s.RestrictByPhase ? 1 : 0);
            }
        }

        return h.Value;
    }

    /// <summary>What <see cref="Ensure"/> did.</summary>
    /// <param name="Path">The corpus file.</param>
    /// <param name="Paths">Paths in it.</param>
    /// <param name="Reused">True when an existing matching file was taken.</param>
    /// <param name="Seconds">Sampling time (0 when reused).</param>
    public sealed record Outcome(string Path, long Paths, bool Reused, double Seconds);

    /// <summary>
    /// Makes sure <paramref name="path"/> holds the corpus of <paramref name="stage"/>: reuses a
    /// file whose header matches, samples a new one otherwise (written to a temporary file and
    /// renamed, so an interrupted run leaves no corpus).
    /// </summary>
    public static Outcome Ensure(
        Dataset d, SamplingConfig s, CorpusStage stage, int contextLength, int seed, int threads,
        string path, bool reuse, Action<string>? log, Action<int, int>? progress = null)
    {
        ulong samplingHash = SamplingHash(s, stage, contextLength, seed);
        ulong datasetHash = DatasetFingerprint(d);
        if (reuse && File.Exists(path))
        {
            using PathCorpusFile existing = PathCorpusFile.Open(path);
            existing.Validate(d.Vocabulary.Fingerprint, d.Vocabulary.Count, contextLength,
                samplingHash, datasetHash);
            log?.Invoke($"reusing corpus {path} ({existing.PathCount:N0} paths)");
            return new Outcome(path, existing.PathCount, true, 0);
        }

        Directory.CreateDirectory(
            System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var watch = Stopwatch.StartNew();
        using var writer = new PathCorpusWriter(
            path, d.Vocabulary.Fingerprint, d.Vocabulary.Count, contextLength,
            samplingHash, datasetHash);
        if (stage == CorpusStage.Pretrain)
        {
            PretrainWalkSampler.Sample(d, s, contextLength, (ulong)seed, threads,
                writer.Append, progress);
        }
        else if (stage == CorpusStage.LinkPrediction)
        {
            Completion.LinkPredictionSampler.Sample(d, contextLength, writer.Append, progress);
        }
        else
        {
            UserPathSampler.Sample(d, s, contextLength, (ulong)seed, threads,
                writer.Append, progress);
        }

        PathCorpusHeader header = writer.Complete();
        return new Outcome(path, header.PathCount, false, watch.Elapsed.TotalSeconds);
    }
}
