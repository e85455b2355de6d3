using Kgglm.Kernels;
using Kgglm.Network;

namespace Kgglm.Decoding;

/// <summary>
/// Incremental, key/value-cached inference over the parameters of a <see cref="Gpt2"/> (the
/// same arena, no copy): each call feeds one new token per row at the next absolute position
/// and leaves, per row, the logits of the following token and their log-sum-exp.
/// </summary>
/// <remarks>
/// <para>Same network as training without dropout: <c>wte[token] + wpe[p] + wte[type(p)]</c>
/// with <c>type(p) = TypeTokens.At(p, Positions)</c> by absolute position, pre-LN blocks, final
/// LN and the tied head.</para>
/// <para>Normaliser: the log-probability of token a in row n is
/// <c>logits[n, a] − LSE_n</c> with <c>LSE_n = log Σ_v exp(logits[n, v])</c> over the FULL
/// vocabulary (the model's true path likelihood, as HuggingFace's log_softmax). The decoder only
/// needs the log-probabilities of the few allowed tokens, so the full-vocabulary work per row is
/// the one logits matmul <c>h · wteᵀ</c> plus <see cref="IKernels.RowLogSumExp"/>; the allowed
/// entries are then picked out with <see cref="IKernels.GatherRows"/> (width 1) and only those
/// cross to the host.</para>
/// <para>Cache: [rows, layers, positions, 2C], k then v per position, all layers of a row
/// contiguous so that reordering rows after a beam step is one gather. Two such buffers are
/// swapped on every <see cref="Reorder"/>.</para>
/// </remarks>
public sealed class Gpt2Inference : IDisposable
{
    private readonly IKernels _k;
    private readonly Gpt2 _m;
    private readonly int _maxRows;
    private readonly long _rowStride;          // floats per cache row: L · maxT · 2C
    private readonly DeviceArena _arena;
    private Tensor _cache, _spare;             // [maxRows, L, maxT, 2C]
    private readonly IntTensor _tokens, _types, _indices; // [maxRows], [maxRows], [GatherChunk]
    private readonly Tensor _x, _ln, _qkv, _atty, _tmp, _fch, _gelu; // [R, C|3C|4C]
    private readonly Tensor _mean, _rstd, _lse;                      // [R]
    private readonly Tensor _logits;                                  // [R, V]
    private readonly Tensor _gathered;                                // [GatherChunk]
    private readonly int[] _hostTypes;
    private readonly int[] _hostIndices;

    /// <summary>Elements gathered from the logits per kernel call.</summary>
    public const int GatherChunk = 1 << 18;

    /// <summary>An inference network for up to <paramref name="maxRows"/> sequences.</summary>
    /// <param name="kernels">The backend that holds <paramref name="model"/>'s parameters.</param>
    /// <param name="model">The trained network; only its parameters are read.</param>
    /// <param name="maxRows">Largest number of rows (users × beams) of a step.</param>
    public Gpt2Inference(IKernels kernels, Gpt2 model, int maxRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        Gpt2Shape s = model.Shape;
        if ((long)maxRows * s.VocabSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxRows), $"{maxRows} rows × {s.VocabSize} tokens exceed int indexing");
        }

        _k = kernels;
        _m = model;
        _maxRows = maxRows;
        int C = s.Channels, T = s.Positions;
        _rowStride = (long)s.Layers * T * 2 * C;
        long R = maxRows, rc = R * C;
        static long P(long n) => DeviceArena.Padded(n);
        long total = (2 * P(R * _rowStride)) + (3 * P(R)) + P(GatherChunk) + (3 * P(rc))
            + (2 * P(3 * rc)) + (2 * P(4 * rc)) + (3 * P(R)) + P(R * s.VocabSize)
            + P(GatherChunk);
        _arena = kernels.CreateArena("inference", total);
        _cache = _arena.AllocateFloat(R * _rowStride);
        _spare = _arena.AllocateFloat(R * _rowStride);
        _tokens = _arena.AllocateInt(R);
        _types = _arena.AllocateInt(R);
        _indices = _arena.AllocateInt(GatherChunk);
        _x = _arena.AllocateFloat(rc);
        _ln = _arena.AllocateFloat(rc);
        _atty = _arena.AllocateFloat(rc);
        _qkv = _arena.AllocateFloat(3 * rc);
        _tmp = _arena.AllocateFloat(3 * rc);
        _fch = _arena.AllocateFloat(4 * rc);
        _gelu = _arena.AllocateFloat(4 * rc);
        _mean = _arena.AllocateFloat(R);
        _rstd = _arena.AllocateFloat(R);
        _lse = _arena.AllocateFloat(R);
        _logits = _arena.AllocateFloat(R * s.VocabSize);
        _gathered = _arena.AllocateFloat(GatherChunk);
        _hostTypes = new int[maxRows];
        _hostIndices = new int[GatherChunk];
    }

    /// <summary>Largest number of rows.</summary>
    public int MaxRows => _maxRows;

    /// <summary>Rows of the last step.</summary>
    public int Rows { get; private set; }

    /// <summary>Positions already in the cache (the absolute position of the next token).</summary>
    public int Length { get; private set; }

    /// <summary>The network size.</summary>
    public Gpt2Shape Shape => _m.Shape;

    /// <summary>Forgets every sequence: the next <see cref="Append"/> is position 0.</summary>
    public void Reset()
    {
        Length = 0;
        Rows = 0;
    }

    /// <summary>
    /// Feeds prompts of equal length one position at a time (the prompt is 3 tokens, so this
    /// costs three small steps and shares all code with decoding).
    /// </summary>
    /// <param name="prompts">[rows, promptLength] token ids.</param>
    /// <param name="promptLength">Tokens per prompt.</param>
    public void Prefill(ReadOnlySpan<int> prompts, int promptLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptLength, 1);
        if (prompts.Length % promptLength != 0)
        {
            throw new ArgumentException($"expected [rows, {promptLength}] tokens", nameof(prompts));
        }

        int rows = prompts.Length / promptLength;
        Reset();
        var column = new int[rows];
        for (int p = 0; p < promptLength; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                column[r] = prompts[(r * promptLength) + p];
            }

            // Only the last prompt position's logits are read (the first generated token).
            Append(column, computeLogits: p == promptLength - 1);
        }
    }

    /// <summary>
    /// Row i of the next step continues the sequence of current row <paramref name="parents"/>[i]
    /// (beam re-selection); the number of rows becomes parents.Length.
    /// </summary>
    public void Reorder(ReadOnlySpan<int> parents)
    {
        if (parents.Length > _maxRows || parents.Length == 0)
        {
            throw new ArgumentException($"expected 1..{_maxRows} rows, found {parents.Length}");
        }

        _k.Upload(parents, _indices.Slice(0, parents.Length));
        _k.GatherRows(_cache, _indices.Slice(0, parents.Length), parents.Length, _rowStride,
            _spare);
        (_cache, _spare) = (_spare, _cache);
        Rows = parents.Length;
    }

    /// <summary>
    /// Feeds one token per row at position <see cref="Length"/> and computes the next-token
    /// logits and their log-sum-exp for every row.
    /// </summary>
    /// <param name="tokens">[rows] token ids; row i continues cache row i.</param>
    /// <param name="computeLogits">False skips the head (a prompt position whose prediction
    /// nobody reads); the logits and log-sum-exp of the previous step are then stale.</param>
    public void Append(ReadOnlySpan<int> tokens, bool computeLogits = true)
    {
        Gpt2Shape s = _m.Shape;
        int N = tokens.Length, C = s.Channels, NH = s.Heads, V = s.VocabSize, p = Length;
        if (N < 1 || N > _maxRows || (Length > 0 && N != Rows))
        {
            throw new ArgumentException(
                $"expected {(Length > 0 ? Rows : _maxRows)} tokens, found {N}", nameof(tokens));
        }

        if (p >= s.Positions)
        {
            throw new InvalidOperationException($"the context of {s.Positions} positions is full");
        }

        long nc = (long)N * C;
        Tensor wte = _m.TokenEmbedding, wpe = _m.PositionEmbedding;

        // Embedding at absolute position p: wte[token] + wpe[p] + wte[type(p)].
        _k.Upload(tokens, _tokens.Slice(0, N));
        IntTensor types = default;
        if (s.TypeTokens is not null)
        {
            Array.Fill(_hostTypes, s.TypeTokens.At(p, s.Positions), 0, N);
            _k.Upload(_hostTypes.AsSpan(0, N), _types.Slice(0, N));
            types = _types.Slice(0, N);
        }

        _k.EmbeddingForward(
            _tokens.Slice(0, N), types, wte, wpe.Slice((long)p * C, C), N, 1, C, _x);

        for (int l = 0; l < s.Layers; l++)
        {
            Gpt2.LayerTensors b = _m.Block(l);
            Tensor cache = _cache.Slice((long)l * s.Positions * 2 * C,
                _cache.Length - ((long)l * s.Positions * 2 * C));

            // h += Attn(LN1(h)), with this position's k, v appended to the cache.
            _k.LayerNormForward(_x, b.Ln1W, b.Ln1B, N, C, _ln, _mean, _rstd);
            _k.MatMulNN(_ln, b.AttnW, b.AttnB, N, C, 3 * C, _qkv, accumulate: false);
            _k.AttentionDecode(_qkv, N, p, C, NH, _rowStride, cache, _atty);
            _k.MatMulNN(_atty, b.ProjW, b.ProjB, N, C, C, _tmp, accumulate: false);
            _k.Accumulate(_tmp, nc, _x);

            // h += MLP(LN2(h))
            _k.LayerNormForward(_x, b.Ln2W, b.Ln2B, N, C, _ln, _mean, _rstd);
            _k.MatMulNN(_ln, b.FcW, b.FcB, N, C, 4 * C, _fch, accumulate: false);
            _k.GeluForward(_fch, 4 * nc, _gelu);
            _k.MatMulNN(_gelu, b.FcProjW, b.FcProjB, N, 4 * C, C, _tmp, accumulate: false);
            _k.Accumulate(_tmp, nc, _x);
        }

        Rows = N;
        Length = p + 1;
        if (!computeLogits)
        {
            return;
        }

        // Tied head over the full vocabulary, then its normaliser.
        (Tensor lnfW, Tensor lnfB) = _m.FinalNorm;
        _k.LayerNormForward(_x, lnfW, lnfB, N, C, _ln, _mean, _rstd);
        _k.MatMulNT(_ln, wte, N, C, V, _logits, accumulate: false);
        _k.RowLogSumExp(_logits, N, V, _lse);
    }

    /// <summary>
    /// <c>result[i] = log p(tokens[i] | row rows[i])</c> = logit − LSE for the last step's rows.
    /// </summary>
    /// <param name="rows">[count] row of each query.</param>
    /// <param name="tokens">[count] token of each query.</param>
    /// <param name="result">[count] full-vocabulary log-probabilities.</param>
    public void LogProbabilities(
        ReadOnlySpan<int> rows, ReadOnlySpan<int> tokens, Span<float> result)
    {
        int V = _m.Shape.VocabSize;
        if (rows.Length != tokens.Length || result.Length != rows.Length)
        {
            throw new ArgumentException("rows, tokens and result must have the same length");
        }

        Span<float> lse = Rows <= 256 ? stackalloc float[Rows] : new float[Rows];
        _k.Download(_lse.Slice(0, Rows), lse);
        for (int start = 0; start < rows.Length; start += GatherChunk)
        {
            int n = Math.Min(GatherChunk, rows.Length - start);
            for (int i = 0; i < n; i++)
            {
                int r = rows[start + i], t = tokens[start + i];
                if ((uint)r >= (uint)Rows || (uint)t >= (uint)V)
                {
                    throw new ArgumentOutOfRangeException(nameof(rows), $"row {r}, token {t}");
                }

                _hostIndices[i] = (r * V) + t;
            }

            _k.Upload(_hostIndices.AsSpan(0, n), _indices.Slice(0, n));
            _k.GatherRows(_logits, _indices.Slice(0, n), n, 1, _gathered);
            Span<float> chunk = result.Slice(start, n);
            _k.Download(_gathered.Slice(0, n), chunk);
            for (int i = 0; i < n; i++)
            {
                chunk[i] -= lse[rows[start + i]];
            }
        }
    }

    /// <summary>Downloads the full logits of the last step ([rows, V]), for tests.</summary>
    public float[] DownloadLogits()
    {
        var result = new float[(long)Rows * _m.Shape.VocabSize];
        _k.Download(_logits.Slice(0, result.Length), result);
        return result;
    }

    /// <summary>Downloads the full logits of the last step into
    /// <paramref name="destination"/> ([rows, V]) without allocating.</summary>
    public void DownloadLogits(Span<float> destination)
    {
        long count = (long)Rows * _m.Shape.VocabSize;
        if (destination.Length < count)
        {
            throw new ArgumentException($"expected room for {count} logits", nameof(destination));
        }

        _k.Download(_logits.Slice(0, count), destination[..(int)count]);
    }

    /// <summary>Releases the cache and activations (not the model).</summary>
    public void Dispose() => _arena.Dispose();
}
