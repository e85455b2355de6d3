using Kgglm.Kernels;
using Kgglm.Kernels.Ops;
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
/// <para>Cache: a tree of key/value slots, [layers, positions, maxRows, 2C] (see
/// <see cref="IKernels.AttentionDecode"/>): the token fed to row r at position p fills slot
/// (p, r), and each row keeps the slot of every earlier position in a host table (its path).
/// <see cref="Reorder"/> only rewrites that table: beams that continue the same parent share
/// its slots, and no key or value is ever copied.</para>
/// </remarks>
public sealed class Gpt2Inference : IDisposable
{
    private readonly IKernels _k;
    private readonly Gpt2 _m;
    private readonly int _maxRows;
    private readonly long _positionStride;     // floats per position of a layer: maxRows · 2C
    private readonly DeviceArena _arena;
    private readonly Tensor _cache;            // [L, maxT, maxRows, 2C]
    private readonly IntTensor _tokens, _types, _indices; // [maxRows], [maxRows], [GatherChunk]
    private readonly IntTensor _ancestors;     // [maxT][maxRows, t]: one table per position
    private int[] _paths, _sparePaths;         // [maxRows, maxT]: row r's slot at position j
    private readonly int[] _table;             // [rows, p]: one position's ancestors, on host
    private readonly Tensor _x, _ln, _qkv, _atty, _tmp, _fch, _gelu; // [R, C|3C|4C]
    private readonly Tensor _mean, _rstd, _lse;                      // [R]
    private readonly Tensor _logits;                                  // [R, V]
    private readonly Tensor _gathered;                                // [GatherChunk]
    private readonly int[] _hostTypes;
    private readonly int[] _hostIndices;
    private PackedOperand[]? _packed;   // [L · 4 + 1]: attn, proj, fc, fc-proj per layer; head

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
        _positionStride = (long)maxRows * 2 * C;
        long R = maxRows, rc = R * C, cache = (long)s.Layers * T * _positionStride;
        static long P(long n) => DeviceArena.Padded(n);
        long total = P(cache) + (2 * P(R)) + P(GatherChunk) + P(T * R * T) + (3 * P(rc))
            + (2 * P(3 * rc)) + (2 * P(4 * rc)) + (3 * P(R)) + P(R * s.VocabSize)
            + P(GatherChunk);
        _arena = kernels.CreateArena("inference", total);
        _cache = _arena.AllocateFloat(cache);
        _tokens = _arena.AllocateInt(R);
        _types = _arena.AllocateInt(R);
        _indices = _arena.AllocateInt(GatherChunk);
        _ancestors = _arena.AllocateInt(T * R * T);
        _paths = new int[R * T];
        _sparePaths = new int[R * T];
        _table = new int[R * T];
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

    /// <summary>Rows that went through the transformer blocks since construction (each costs
    /// 24·C² multiply-adds; beams sharing a path count once).</summary>
    public long BodyRows { get; private set; }

    /// <summary>Rows that went through the full-vocabulary head since construction (each costs
    /// C·V multiply-adds and one log-sum-exp).</summary>
    public long HeadRows { get; private set; }

    /// <summary>The network size.</summary>
    public Gpt2Shape Shape => _m.Shape;

    /// <summary>True while <see cref="PackWeights"/>' copies are in use.</summary>
    public bool WeightsPacked => _packed is not null;

    /// <summary>
    /// Arranges every weight matrix once for the matmuls of the following steps
    /// (<see cref="IKernels.PackRight"/>: on the CPU a copy of the weights, 4 bytes per
    /// parameter, in the register-tile layout; the copy is a snapshot, so call again after the
    /// weights change). At the default size it takes about 80 ms on 2 cores, what the plain
    /// matmuls spend arranging B in three steps, so it pays for any decode of five steps.
    /// <see cref="ReleasePackedWeights"/> frees the copy.
    /// </summary>
    public void PackWeights()
    {
        ReleasePackedWeights();
        Gpt2Shape s = _m.Shape;
        int C = s.Channels;
        var packed = new List<PackedOperand>((4 * s.Layers) + 1);
        try
        {
            for (int l = 0; l < s.Layers; l++)
            {
                Gpt2.LayerTensors b = _m.Block(l);
                packed.Add(_k.PackRight(b.AttnW, MatMulLayout.NN, C, 3 * C));
                packed.Add(_k.PackRight(b.ProjW, MatMulLayout.NN, C, C));
                packed.Add(_k.PackRight(b.FcW, MatMulLayout.NN, C, 4 * C));
                packed.Add(_k.PackRight(b.FcProjW, MatMulLayout.NN, 4 * C, C));
            }

            packed.Add(_k.PackRight(_m.TokenEmbedding, MatMulLayout.NT, C, s.VocabSize));
        }
        catch
        {
            packed.ForEach(p => p.Dispose());
            throw;
        }

        _packed = [.. packed];
    }

    /// <summary>
    /// Packs the weights until the returned scope is disposed, when <paramref name="worthIt"/>
    /// and they are not packed already (a caller's longer-lived packing is left alone).
    /// </summary>
    public PackedScope PackedWhile(bool worthIt)
    {
        bool pack = worthIt && _packed is null;
        if (pack)
        {
            PackWeights();
        }

        return new PackedScope(pack ? this : null);
    }

    /// <summary>Frees the packed weights; the plain matmuls are used again.</summary>
    public void ReleasePackedWeights()
    {
        if (_packed is null)
        {
            return;
        }

        foreach (PackedOperand p in _packed)
        {
            p.Dispose();
        }

        _packed = null;
    }

    /// <summary>Forgets every sequence: the next <see cref="Append"/> is position 0.</summary>
    public void Reset()
    {
        Length = 0;
        Rows = 0;
    }

    /// <summary>
    /// Forgets every sequence and feeds <paramref name="prompts"/> (all of one length); the
    /// logits of the last prompt position are then ready. All positions go through the network
    /// in one pass when they fit in <see cref="MaxRows"/> (3 positions of 32 users are 96 rows:
    /// ~120 GFLOP/s per matmul here against ~66 for 32), else as many per pass as fit.
    /// </summary>
    /// <param name="prompts">[rows, promptLength] token ids.</param>
    /// <param name="promptLength">Tokens per prompt.</param>
    public void Prefill(ReadOnlySpan<int> prompts, int promptLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptLength, 1);
        if (prompts.Length % promptLength != 0 || prompts.Length == 0)
        {
            throw new ArgumentException($"expected [rows, {promptLength}] tokens", nameof(prompts));
        }

        int rows = prompts.Length / promptLength;
        if (rows > _maxRows || promptLength > _m.Shape.Positions)
        {
            throw new ArgumentException(
                $"{rows} prompts of {promptLength} tokens do not fit {_maxRows} rows of " +
                $"{_m.Shape.Positions} positions", nameof(prompts));
        }

        Reset();
        int together = Math.Max(1, Math.Min(promptLength, _maxRows / rows));
        var block = new int[together * rows];
        for (int p0 = 0; p0 < promptLength; p0 += together)
        {
            // Position-major: rows [i·rows, (i+1)·rows) of the block are position p0 + i.
            int count = Math.Min(together, promptLength - p0);
            for (int i = 0; i < count; i++)
            {
                for (int r = 0; r < rows; r++)
                {
                    block[(i * rows) + r] = prompts[(r * promptLength) + p0 + i];
                }
            }

            // Only the last prompt position's logits are read (the first generated token).
            Forward(block.AsSpan(0, count * rows), rows, count,
                computeLogits: p0 + count == promptLength);
        }
    }

    /// <summary>
    /// Row i of the next step continues the sequence of current row <paramref name="parents"/>[i]
    /// (beam re-selection); the number of rows becomes parents.Length. Host work only: row i
    /// takes over its parent's path of slots.
    /// </summary>
    public void Reorder(ReadOnlySpan<int> parents)
    {
        if (parents.Length > _maxRows || parents.Length == 0)
        {
            throw new ArgumentException($"expected 1..{_maxRows} rows, found {parents.Length}");
        }

        int T = _m.Shape.Positions;
        for (int i = 0; i < parents.Length; i++)
        {
            if ((uint)parents[i] >= (uint)Rows)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(parents), $"parent {parents[i]} of row {i} is not in [0, {Rows})");
            }

            Array.Copy(_paths, parents[i] * T, _sparePaths, i * T, Length);
        }

        (_paths, _sparePaths) = (_sparePaths, _paths);
        Rows = parents.Length;
    }

    /// <summary>
    /// Feeds one token per row at position <see cref="Length"/> and computes the next-token
    /// logits and their log-sum-exp for every row.
    /// </summary>
    /// <param name="tokens">[rows] token ids; row i continues cache row i.</param>
    /// <param name="computeLogits">False skips the head (a position whose prediction nobody
    /// reads); the logits and log-sum-exp of the previous step are then stale.</param>
    public void Append(ReadOnlySpan<int> tokens, bool computeLogits = true)
    {
        int N = tokens.Length;
        if (N < 1 || N > _maxRows || (Length > 0 && N != Rows))
        {
            throw new ArgumentException(
                $"expected {(Length > 0 ? Rows : _maxRows)} tokens, found {N}", nameof(tokens));
        }

        Forward(tokens, N, 1, computeLogits);
    }

    /// <summary>
    /// Feeds <paramref name="positions"/> consecutive positions, from <see cref="Length"/> on,
    /// of <paramref name="rows"/> sequences through the network; <paramref name="tokens"/> is
    /// position-major ([positions, rows]). Every matmul runs over all positions × rows at
    /// once; the attention goes position by position, so that position i sees the keys and
    /// values that positions &lt; i of the same pass have just written to the cache. The head
    /// runs for the last position only.
    /// </summary>
    private void Forward(ReadOnlySpan<int> tokens, int rows, int positions, bool computeLogits)
    {
        Gpt2Shape s = _m.Shape;
        int N = tokens.Length, C = s.Channels, NH = s.Heads, V = s.VocabSize, p0 = Length;
        if (p0 + positions > s.Positions)
        {
            throw new InvalidOperationException($"the context of {s.Positions} positions is full");
        }

        long nc = (long)N * C, rc = (long)rows * C;
        Tensor wte = _m.TokenEmbedding, wpe = _m.PositionEmbedding;

        // Embedding at absolute position p: wte[token] + wpe[p] + wte[type(p)].
        _k.Upload(tokens, _tokens.Slice(0, N));
        for (int i = 0; i < positions; i++)
        {
            int p = p0 + i;
            IntTensor types = default;
            if (s.TypeTokens is not null)
            {
                Array.Fill(_hostTypes, s.TypeTokens.At(p, s.Positions), 0, rows);
                _k.Upload(_hostTypes.AsSpan(0, rows), _types.Slice((long)i * rows, rows));
                types = _types.Slice((long)i * rows, rows);
            }

            _k.EmbeddingForward(_tokens.Slice((long)i * rows, rows), types, wte,
                wpe.Slice((long)p * C, C), rows, 1, C, _x.Slice(i * rc, rc));
        }

        // Each position's ancestors table [rows, p]: the row's path so far, with its own new
        // slots (node r) at the positions of this pass.
        int T = s.Positions;
        Span<int> table = _table;
        for (int i = 0; i < positions; i++)
        {
            int p = p0 + i;
            for (int r = 0; r < rows; r++)
            {
                _paths.AsSpan(r * T, p).CopyTo(table.Slice(r * p, p));
                _paths[(r * T) + p] = r;
            }

            if (p > 0)
            {
                _k.Upload(table[..(rows * p)], _ancestors.Slice((long)p * _maxRows * T,
                    (long)rows * p));
            }
        }

        long layerStride = T * _positionStride;
        for (int l = 0; l < s.Layers; l++)
        {
            Gpt2.LayerTensors b = _m.Block(l);
            Tensor cache = _cache.Slice(l * layerStride, layerStride);

            // h += Attn(LN1(h)), with each position's k, v appended to the cache.
            _k.LayerNormForward(_x, b.Ln1W, b.Ln1B, N, C, _ln, _mean, _rstd);
            Linear(_ln, b.AttnW, b.AttnB, (4 * l) + 0, N, C, 3 * C, _qkv);
            for (int i = 0; i < positions; i++)
            {
                int p = p0 + i;
                _k.AttentionDecode(_qkv.Slice(3 * i * rc, 3 * rc),
                    _ancestors.Slice((long)p * _maxRows * T, (long)rows * p), rows, p, C, NH,
                    _positionStride, cache, _atty.Slice(i * rc, rc));
            }

            Linear(_atty, b.ProjW, b.ProjB, (4 * l) + 1, N, C, C, _tmp);
            _k.Accumulate(_tmp, nc, _x);

            // h += MLP(LN2(h))
            _k.LayerNormForward(_x, b.Ln2W, b.Ln2B, N, C, _ln, _mean, _rstd);
            Linear(_ln, b.FcW, b.FcB, (4 * l) + 2, N, C, 4 * C, _fch);
            _k.GeluForward(_fch, 4 * nc, _gelu);
            Linear(_gelu, b.FcProjW, b.FcProjB, (4 * l) + 3, N, 4 * C, C, _tmp);
            _k.Accumulate(_tmp, nc, _x);
        }

        Rows = rows;
        Length = p0 + positions;
        BodyRows += N;
        if (!computeLogits)
        {
            return;
        }

        HeadRows += rows;

        // Tied head over the full vocabulary for the last position's rows, then its normaliser.
        (Tensor lnfW, Tensor lnfB) = _m.FinalNorm;
        Tensor last = _x.Slice((positions - 1) * rc, rc);
        _k.LayerNormForward(last, lnfW, lnfB, rows, C, _ln, _mean, _rstd);
        if (_packed is not null)
        {
            _k.MatMulPacked(_ln, _packed[^1], default, rows, _logits, accumulate: false);
        }
        else
        {
            _k.MatMulNT(_ln, wte, rows, C, V, _logits, accumulate: false);
        }

        _k.RowLogSumExp(_logits, rows, V, _lse);
    }

    /// <summary><c>y = x · w + bias</c>, with weight <paramref name="index"/>'s packed copy
    /// when there is one (the same bits either way).</summary>
    private void Linear(
        Tensor x, Tensor w, Tensor bias, int index, int rows, int k, int n, Tensor y)
    {
        if (_packed is not null)
        {
            _k.MatMulPacked(x, _packed[index], bias, rows, y, accumulate: false);
        }
        else
        {
            _k.MatMulNN(x, w, bias, rows, k, n, y, accumulate: false);
        }
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

    /// <summary>Releases the cache, activations and packed weights (not the model).</summary>
    public void Dispose()
    {
        ReleasePackedWeights();
        _arena.Dispose();
    }
}

/// <summary>What <see cref="Gpt2Inference.PackedWhile"/> packed, released on dispose.</summary>
public readonly struct PackedScope : IDisposable
{
    private readonly Gpt2Inference? _owner;

    internal PackedScope(Gpt2Inference? owner) => _owner = owner;

    /// <summary>Frees the weights packed for this scope, if any.</summary>
    public void Dispose() => _owner?.ReleasePackedWeights();
}
