using Kgglm.Data;

namespace Kgglm.Paths;

/// <summary>
/// Shared machinery of the samplers: independent work units (a start node, a user) are sampled
/// in parallel blocks, each from its own random stream, and appended in unit order, so the
/// corpus is the same for any thread count and memory stays bounded by one block.
/// </summary>
internal static class PathSampling
{
    /// <summary>Units sampled per parallel block.</summary>
    private const int BlockSize = 512;

    /// <summary>
    /// Runs <paramref name="sampleUnit"/> for units 0..count-1 on <paramref name="threads"/>
    /// threads and hands each block's paths, in unit order, to <paramref name="append"/>.
    /// </summary>
    /// <param name="count">Number of units.</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="sampleUnit">Fills the given list with the unit's paths ([n, T]
    /// flattened).</param>
    /// <param name="append">Receives [n, T] token ids.</param>
    /// <param name="progress">Called with the units done so far.</param>
    public static void Run(
        int count, int threads, Action<int, List<int>> sampleUnit, Action<ReadOnlySpan<int>> append,
        Action<int>? progress)
    {
        var buffers = new List<int>[BlockSize];
        for (int i = 0; i < BlockSize; i++)
        {
            buffers[i] = new List<int>();
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        for (int start = 0; start < count; start += BlockSize)
        {
            int n = Math.Min(BlockSize, count - start);
            Parallel.For(0, n, options, i =>
            {
                buffers[i].Clear();
                sampleUnit(start + i, buffers[i]);
            });
            for (int i = 0; i < n; i++)
            {
                append(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffers[i]));
            }

            progress?.Invoke(start + n);
        }
    }

    /// <summary>
    /// Appends <c>[BOS] n0 r1 n1 ... rh nh [EOS]</c> padded with [PAD] to
    /// <paramref name="contextLength"/> tokens.
    /// </summary>
    /// <param name="vocabulary">Token ids.</param>
    /// <param name="graph">Node numbering.</param>
    /// <param name="nodes">h + 1 graph nodes.</param>
    /// <param name="relations">h relation ids.</param>
    /// <param name="contextLength">T.</param>
    /// <param name="output">Receives T token ids.</param>
    public static void AppendPath(
        Vocabulary vocabulary, ReadOnlySpan<int> nodes, ReadOnlySpan<int> relations,
        int contextLength, List<int> output)
    {
        int before = output.Count;
        output.Add(Vocabulary.Bos);
        output.Add(vocabulary.NodeToken(nodes[0]));
        for (int i = 0; i < relations.Length; i++)
        {
            output.Add(vocabulary.RelationToken(relations[i]));
            output.Add(vocabulary.NodeToken(nodes[i + 1]));
        }

        output.Add(Vocabulary.Eos);
        while (output.Count - before < contextLength)
        {
            output.Add(Vocabulary.Pad);
        }
    }
}
