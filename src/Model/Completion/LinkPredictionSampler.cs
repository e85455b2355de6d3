using Kgglm.Data;

namespace Kgglm.Completion;

/// <summary>
/// The link-prediction fine-tuning corpus: one 1-hop path <c>[BOS] head R tail [EOS]</c> per
/// train triple and direction, padded with [PAD] to the context length. Both directions, (h, r,
/// t) and (t, r, h) with the same relation token, because the graph lists every edge at both
/// ends and pre-training walks cross edges either way. Deterministic: triple row order, forward
/// path before backward; no randomness, so the seed does not enter.
/// </summary>
public static class LinkPredictionSampler
{
    /// <summary>Paths in the corpus of <paramref name="dataset"/>: two per triple.</summary>
    public static long PathCount(Dataset dataset) => 2L * dataset.Triples.Count;

    /// <summary>Writes every path, [n, T] blocks, to <paramref name="append"/>.</summary>
    /// <param name="dataset">A dataset whose <see cref="Dataset.Triples"/> are the triples to
    /// learn (the KG train split after <see cref="KnowledgeCompletion.Prepare"/>).</param>
    /// <param name="contextLength">T ≥ 5 (a 1-hop path is 5 tokens).</param>
    /// <param name="append">Receives the token blocks in order.</param>
    /// <param name="progress">Triples done so far, of the total.</param>
    public static void Sample(
        Dataset dataset, int contextLength, Action<ReadOnlySpan<int>> append,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(append);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 5);
        const int BlockTriples = 4096;
        KgTriples triples = dataset.Triples;
        Vocabulary v = dataset.Vocabulary;
        int T = contextLength, n = triples.Count;
        var block = new int[BlockTriples * 2 * T];
        for (int start = 0; start < n; start += BlockTriples)
        {
            int count = Math.Min(BlockTriples, n - start);
            Array.Fill(block, Vocabulary.Pad);
            for (int i = 0; i < count; i++)
            {
                int h = v.EntityToken(triples.Heads[start + i]);
                int r = v.RelationToken(triples.Relations[start + i]);
                int t = v.EntityToken(triples.Tails[start + i]);
                Write(block.AsSpan(2 * i * T, T), h, r, t);
                Write(block.AsSpan(((2 * i) + 1) * T, T), t, r, h);
            }

            append(block.AsSpan(0, 2 * count * T));
            progress?.Invoke(start + count, n);
        }
    }

    private static void Write(Span<int> path, int from, int relation, int to)
    {
        path[0] = Vocabulary.Bos;
        path[1] = from;
        path[2] = relation;
        path[3] = to;
        path[4] = Vocabulary.Eos;
    }
}
