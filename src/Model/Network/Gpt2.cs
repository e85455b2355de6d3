using Kgglm.Kernels;

namespace Kgglm.Network;

/// <summary>
/// GPT-2 with KG token types over the kernel interface: parameters and gradients in arenas
/// under HuggingFace names, activations for one micro-batch, and a flat forward / backward
/// driver (one kernel call per layer op in forward order, the reverse in backward).
/// </summary>
/// <remarks>
/// <para>Block: <c>h += drop(Attn(LN1(h))); h += drop(MLP(LN2(h)))</c>, final LN, tied head
/// <c>logits = ln_f(h) · wteᵀ</c>, loss = mean cross-entropy of the next token, targets equal
/// to the pad id ignored.</para>
/// <para>Memory: LayerNorm outputs and the GELU output are recomputed in backward from the
/// saved inputs (cheap element-wise work) instead of being stored, which keeps six of the
/// seventeen [B, T, C]-sized activations per layer out of memory. The logits of one vocabulary
/// chunk are held at a time; with a single chunk (the default) they are computed once.</para>
/// <para>Gradient rule: parameter gradients accumulate (the trainer zeroes them once per
/// optimiser step, so micro-batches add up); activation gradients are overwritten; the
/// residual-stream gradient <c>dResidual</c> is accumulated by each LayerNorm backward.</para>
/// </remarks>
public sealed class Gpt2 : IDisposable
{
    private readonly IKernels _k;
    private readonly int _maxB;
    private readonly int _vocabChunk;
    private readonly int _headRows;
    private readonly int _ignoreId;
    private readonly LayerTensors[] _p;
    private readonly LayerTensors[] _g;
    private readonly LayerActivations[] _a;
    private readonly int _T;
    private readonly int[] _hostInputs;
    private readonly int[] _hostTargets;
    private readonly int[] _hostTypes;
    private readonly float[] _hostLosses;

    // Parameters and gradients outside the blocks.
    private readonly Tensor _wte, _wpe, _lnfW, _lnfB;
    private readonly Tensor _dWte, _dWpe, _dLnfW, _dLnfB;

    // Activations of one micro-batch (shapes for B = _maxB, T = Positions).
    private readonly IntTensor _tokens, _types, _targets; // [B, T]
    private readonly Tensor _encoded;                       // [B, T, C] embeddings after dropout
    private readonly Tensor _lnf, _lnfMean, _lnfRstd;       // [B, T, C], [B, T], [B, T]
    private readonly Tensor _logits;                         // [B·T, Vc] one vocabulary chunk
    private readonly Tensor _rowMax, _rowSum, _targetLogit, _losses; // [B·T]

    // Scratch shared by all layers.
    private readonly Tensor _lnScratch, _tmp, _dResidual, _dLnf; // [B, T, C]
    private readonly Tensor _geluScratch, _dFch;                 // [B, T, 4C], the same region
    private readonly Tensor _dQkv, _dAtty;                       // [B, T, 3C] and [B, T, C] in it

    /// <summary>
    /// Allocates the network for micro-batches of up to <paramref name="maxBatch"/> paths.
    /// </summary>
    /// <param name="kernels">The backend.</param>
    /// <param name="shape">Network size.</param>
    /// <param name="maxBatch">Largest micro-batch B.</param>
    /// <param name="ignoreId">Target id the loss ignores ([PAD]).</param>
    /// <param name="vocabChunk">Logits columns computed at a time; 0 = the whole
    /// vocabulary.</param>
    /// <param name="training">False for inference only: no gradient arena (forward
    /// passes only).</param>
    public Gpt2(
        IKernels kernels, Gpt2Shape shape, int maxBatch, int ignoreId, int vocabChunk = 0,
        bool training = true, int headRows = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _k = kernels;
        Layout = new ParameterLayout(shape);
        _maxB = maxBatch;
        _ignoreId = ignoreId;
        _vocabChunk = vocabChunk <= 0 || vocabChunk > shape.VocabSize
            ? shape.VocabSize
            : vocabChunk;
        int L = shape.Layers;

        ParameterArena = kernels.CreateArena("parameters", Layout.TotalFloats);
        Training = training;
        long gradientFloats = training ? Layout.TotalFloats : 0;
        GradientArena = kernels.CreateArena("gradients", gradientFloats);
        Parameters = ParameterArena.AllocateFloat(Layout.TotalFloats);
        Gradients = GradientArena.AllocateFloat(gradientFloats);
        _wte = Parameter(Layout["transformer.wte.weight"]);
        _wpe = Parameter(Layout["transformer.wpe.weight"]);
        _lnfW = Parameter(Layout["transformer.ln_f.weight"]);
        _lnfB = Parameter(Layout["transformer.ln_f.bias"]);
        _p = new LayerTensors[L];
        _g = new LayerTensors[training ? L : 0];
        for (int l = 0; l < L; l++)
        {
            _p[l] = LayerTensors.Of(this, l, Parameters);
        }

        if (training)
        {
            _dWte = Gradient(Layout["transformer.wte.weight"]);
            _dWpe = Gradient(Layout["transformer.wpe.weight"]);
            _dLnfW = Gradient(Layout["transformer.ln_f.weight"]);
            _dLnfB = Gradient(Layout["transformer.ln_f.bias"]);
            for (int l = 0; l < L; l++)
            {
                _g[l] = LayerTensors.Of(this, l, Gradients);
            }
        }

        // Activations: sized once; a micro-batch smaller than maxBatch uses a prefix. The network
        // reads T = Positions - 1 tokens of each path: the last token is only ever a target, and
        // with causal attention it cannot change the loss of any earlier position.
        _T = shape.Positions - 1;
        int rows = maxBatch * _T;
        _headRows = headRows > 0 ? Math.Min(headRows, rows) : Math.Max(1, (rows + 1) / 2);
        int T = _T, C = shape.Channels, NH = shape.Heads;
        long bt = (long)maxBatch * T, btc = bt * C;
        static long P(long n) => DeviceArena.Padded(n);
        long perLayer = P(3 * btc) + P((long)maxBatch * NH * T * T) + (3 * P(btc)) + P(4 * btc)
            + (4 * P(bt));
        long total = (L * perLayer) + (3 * P(bt)) + (7 * P(btc)) + (4 * P(bt))
            + P((long)_headRows * _vocabChunk) + P(4 * btc) + (3 * P(bt));
        ActivationArena = kernels.CreateArena("activations", total);
        DeviceArena a = ActivationArena;
        _tokens = a.AllocateInt(bt);
        _types = a.AllocateInt(bt);
        _targets = a.AllocateInt(bt);
        _encoded = a.AllocateFloat(btc);
        _a = new LayerActivations[L];
        for (int l = 0; l < L; l++)
        {
            _a[l] = new LayerActivations(
                a.AllocateFloat(3 * btc), a.AllocateFloat((long)maxBatch * NH * T * T),
                a.AllocateFloat(btc), a.AllocateFloat(btc), a.AllocateFloat(4 * btc),
                a.AllocateFloat(btc), a.AllocateFloat(bt), a.AllocateFloat(bt),
                a.AllocateFloat(bt), a.AllocateFloat(bt));
        }

        _lnf = a.AllocateFloat(btc);
        _lnfMean = a.AllocateFloat(bt);
        _lnfRstd = a.AllocateFloat(bt);
        _logits = a.AllocateFloat((long)_headRows * _vocabChunk);
        _rowMax = a.AllocateFloat(bt);
        _rowSum = a.AllocateFloat(bt);
        _targetLogit = a.AllocateFloat(bt);
        _losses = a.AllocateFloat(bt);
        _lnScratch = a.AllocateFloat(btc);
        _tmp = a.AllocateFloat(btc);
        _dResidual = a.AllocateFloat(btc);
        _dLnf = a.AllocateFloat(btc);

        // One [B, T, 4C] region serves the MLP (GELU output, then dFch once the GELU output is
        // dead) and then the attention backward (dQkv and dAtty, both live there): their
        // lifetimes never overlap, and it saves 8 of the [B, T, C] buffers.
        _geluScratch = a.AllocateFloat(4 * btc);
        _dFch = _geluScratch;
        _dQkv = _geluScratch.Slice(0, 3 * btc);
        _dAtty = _geluScratch.Slice(3 * btc, btc);
        _hostInputs = new int[bt];
        _hostTargets = new int[bt];
        _hostTypes = new int[bt];
        _hostLosses = new float[bt];
    }

    /// <summary>Where every parameter lives.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The network size.</summary>
    public Gpt2Shape Shape => Layout.Shape;

    /// <summary>The parameter arena.</summary>
    public DeviceArena ParameterArena { get; }

    /// <summary>The gradient arena (same layout as the parameters).</summary>
    public DeviceArena GradientArena { get; }

    /// <summary>The activation arena.</summary>
    public DeviceArena ActivationArena { get; }

    /// <summary>All parameters, one view over the arena ([Layout.TotalFloats]).</summary>
    public Tensor Parameters { get; }

    /// <summary>All gradients, same layout as <see cref="Parameters"/>.</summary>
    public Tensor Gradients { get; }

    /// <summary>The parameter views of block <paramref name="l"/>, resolved once.</summary>
    internal LayerTensors Block(int l) => _p[l];

    /// <summary>The token (and tied head) embedding, [V, C].</summary>
    internal Tensor TokenEmbedding => _wte;

    /// <summary>The position embedding, [Positions, C].</summary>
    internal Tensor PositionEmbedding => _wpe;

    /// <summary>The final LayerNorm's weight and bias, [C] each.</summary>
    internal (Tensor Weight, Tensor Bias) FinalNorm => (_lnfW, _lnfB);

    /// <summary>False for an inference-only network (no gradients).</summary>
    public bool Training { get; }

    /// <summary>Largest micro-batch.</summary>
    public int MaxBatch => _maxB;

    /// <summary>The parameter tensor <paramref name="p"/>.</summary>
    public Tensor Parameter(ParameterInfo p) => Parameters.Slice(p.Offset, p.Count);

    /// <summary>The gradient tensor of <paramref name="p"/>.</summary>
    public Tensor Gradient(ParameterInfo p) => Gradients.Slice(p.Offset, p.Count);

    /// <summary>
    /// Number of targets of <paramref name="paths"/> the loss counts (non-[PAD]).
    /// </summary>
    /// <param name="paths">[B, Positions] paths.</param>
    public int CountTargets(ReadOnlySpan<int> paths)
    {
        int P = Shape.Positions, count = 0;
        for (int i = 0; i < paths.Length; i++)
        {
            if (i % P != 0 && paths[i] != _ignoreId)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Forward pass of one micro-batch and, when <paramref name="backward"/>, the backward pass
    /// accumulating into the gradients. Returns the SUM of the micro-batch's token losses; the
    /// gradient is that of <c>sum · lossScale</c> (lossScale = 1 / targets of the whole batch).
    /// </summary>
    /// <param name="paths">[B, Positions] paths, B ≤ MaxBatch.</param>
    /// <param name="lossScale">Multiplies the loss before differentiation.</param>
    /// <param name="dropout">Dropout of this micro-batch (p = 0 for evaluation).</param>
    /// <param name="backward">Also run the backward pass.</param>
    public double Step(
        ReadOnlySpan<int> paths, float lossScale, MicroBatchDropout dropout, bool backward)
    {
        int P = Shape.Positions;
        if (paths.Length % P != 0 || paths.Length / P > _maxB || paths.Length == 0)
        {
            throw new ArgumentException(
                $"expected [B ≤ {_maxB}, {P}] tokens, found {paths.Length} ids", nameof(paths));
        }

        int B = paths.Length / P;
        if (backward && !Training)
        {
            throw new InvalidOperationException("backward on an inference-only network");
        }

        PrepareInputs(paths, B);
        double loss = Forward(B, dropout, backward, lossScale);
        if (backward)
        {
            Backward(B, dropout);
        }

        return loss;
    }

    /// <summary>Sets every gradient to zero (once per optimiser step).</summary>
    public void ZeroGradients() => _k.Fill(0f, Gradients);

    /// <summary>Releases every arena.</summary>
    public void Dispose()
    {
        ParameterArena.Dispose();
        GradientArena.Dispose();
        ActivationArena.Dispose();
    }

    private void PrepareInputs(ReadOnlySpan<int> paths, int B)
    {
        int P = Shape.Positions, T = _T;
        int n = B * T;
        for (int b = 0; b < B; b++)
        {
            for (int t = 0; t < T; t++)
            {
                int i = (b * T) + t;
                _hostInputs[i] = paths[(b * P) + t];
                _hostTargets[i] = paths[(b * P) + t + 1];
                _hostTypes[i] = Shape.TypeTokens?.At(t, P) ?? 0;
            }
        }

        _k.Upload(_hostInputs.AsSpan(0, n), _tokens.Slice(0, n));
        _k.Upload(_hostTargets.AsSpan(0, n), _targets.Slice(0, n));
        if (Shape.TypeTokens is not null)
        {
            _k.Upload(_hostTypes.AsSpan(0, n), _types.Slice(0, n));
        }
    }

    private double Forward(int B, MicroBatchDropout drop, bool backward, float lossScale)
    {
        int T = _T, C = Shape.Channels, NH = Shape.Heads, V = Shape.VocabSize;
        int bt = B * T;
        long btc = (long)bt * C;
        IntTensor types = Shape.TypeTokens is null ? default : _types.Slice(0, bt);

        // Embedding: wte[token] + wpe[position] + wte[type], then dropout.
        _k.EmbeddingForward(_tokens.Slice(0, bt), types, _wte, _wpe, B, T, C, _encoded);
        _k.DropoutForward(_encoded, btc, drop.Site(0), _encoded);

        Tensor x = _encoded;
        for (int l = 0; l < _a.Length; l++)
        {
            LayerTensors p = _p[l];
            LayerActivations a = _a[l];

            // h += drop(Attn(LN1(h)))
            _k.LayerNormForward(x, p.Ln1W, p.Ln1B, bt, C, _lnScratch, a.Ln1Mean, a.Ln1Rstd);
            _k.MatMulNN(_lnScratch, p.AttnW, p.AttnB, bt, C, 3 * C, a.Qkv, accumulate: false);
            _k.AttentionForward(a.Qkv, B, T, C, NH, drop.Site(1 + (3 * l)), a.Atty, a.Probs);
            _k.MatMulNN(a.Atty, p.ProjW, p.ProjB, bt, C, C, _tmp, accumulate: false);
            _k.DropoutForward(_tmp, btc, drop.Site(2 + (3 * l)), _tmp);
            _k.Add(x, _tmp, btc, a.Res2);

            // h += drop(MLP(LN2(h)))
            _k.LayerNormForward(a.Res2, p.Ln2W, p.Ln2B, bt, C, _lnScratch, a.Ln2Mean, a.Ln2Rstd);
            _k.MatMulNN(_lnScratch, p.FcW, p.FcB, bt, C, 4 * C, a.Fch, accumulate: false);
            _k.GeluForward(a.Fch, 4 * btc, _geluScratch);
            _k.MatMulNN(_geluScratch, p.FcProjW, p.FcProjB, bt, 4 * C, C, _tmp, accumulate: false);
            _k.DropoutForward(_tmp, btc, drop.Site(3 + (3 * l)), _tmp);
            _k.Add(a.Res2, _tmp, btc, a.Res3);
            x = a.Res3;
        }

        _k.LayerNormForward(x, _lnfW, _lnfB, bt, C, _lnf, _lnfMean, _lnfRstd);

        return Head(bt, backward, lossScale);
    }

    /// <summary>
    /// The tied head and the loss, over row chunks of at most <c>_headRows</c> so that the
    /// logits held at once are [headRows, vocabChunk], not [B·T, V]. Per row chunk: pass 1
    /// folds each vocabulary chunk's logits into running row statistics (log-sum-exp); then,
    /// when training, pass 2 turns them into dLogits = scale·(softmax − onehot) (recomputing the
    /// logits only when the vocabulary took several chunks), dLnf = dLogits·wte and
    /// dWte += dLogitsᵀ·lnf. Row chunks never change a result: rows are independent, and
    /// dWte's chain over rows continues in order from one chunk to the next.
    /// </summary>
    private double Head(int bt, bool backward, float lossScale)
    {
        int C = Shape.Channels, V = Shape.VocabSize;
        bool singleChunk = _vocabChunk >= V;
        for (int r0 = 0; r0 < bt; r0 += _headRows)
        {
            int rc = Math.Min(_headRows, bt - r0);
            Tensor lnf = _lnf.Slice((long)r0 * C, (long)rc * C);
            IntTensor targets = _targets.Slice(r0, rc);
            Tensor rowMax = _rowMax.Slice(r0, rc), rowSum = _rowSum.Slice(r0, rc);
            Tensor targetLogit = _targetLogit.Slice(r0, rc);
            for (int v0 = 0; v0 < V; v0 += _vocabChunk)
            {
                int vc = Math.Min(_vocabChunk, V - v0);
                Tensor logits = _logits.Slice(0, (long)rc * vc);
                _k.MatMulNT(lnf, _wte.Slice((long)v0 * C, (long)vc * C), rc, C, vc, logits, false);
                _k.CrossEntropyStatistics(logits, targets, rc, vc, v0, rowMax, rowSum, targetLogit);
            }

            _k.CrossEntropyLoss(
                rowMax, rowSum, targetLogit, targets, rc, _ignoreId, _losses.Slice(r0, rc));
            if (!backward)
            {
                continue;
            }

            Tensor dLnf = _dLnf.Slice((long)r0 * C, (long)rc * C);
            for (int v0 = 0; v0 < V; v0 += _vocabChunk)
            {
                int vc = Math.Min(_vocabChunk, V - v0);
                Tensor logits = _logits.Slice(0, (long)rc * vc);
                Tensor wteChunk = _wte.Slice((long)v0 * C, (long)vc * C);
                if (!singleChunk)
                {
                    _k.MatMulNT(lnf, wteChunk, rc, C, vc, logits, false);
                }

                _k.CrossEntropyBackward(
                    logits, rowMax, rowSum, targets, rc, vc, v0, lossScale, _ignoreId, logits);
                _k.MatMulNN(logits, wteChunk, default, rc, vc, C, dLnf, accumulate: v0 > 0);
                _k.MatMulTN(
                    logits, lnf, vc, rc, C, _dWte.Slice((long)v0 * C, (long)vc * C), true);
            }
        }

        _k.Download(_losses.Slice(0, bt), _hostLosses.AsSpan(0, bt));
        double sum = 0;
        for (int i = 0; i < bt; i++)
        {
            sum += _hostLosses[i];
        }

        return sum;
    }

    private void Backward(int B, MicroBatchDropout drop)
    {
        int T = _T, C = Shape.Channels, NH = Shape.Heads, V = Shape.VocabSize;
        int bt = B * T;
        long btc = (long)bt * C;
        IntTensor targets = _targets.Slice(0, bt);

        // The head's backward ran with the forward pass (see Head): dLnf and dWte are done.
        _k.Fill(0f, _dResidual.Slice(0, btc));
        Tensor xLast = _a.Length > 0 ? _a[^1].Res3 : _encoded;
        _k.LayerNormBackward(
            _dLnf, xLast, _lnfW, _lnfMean, _lnfRstd, bt, C, _dResidual, _dLnfW, _dLnfB);

        for (int l = _a.Length - 1; l >= 0; l--)
        {
            LayerTensors p = _p[l], g = _g[l];
            LayerActivations a = _a[l];
            Tensor xIn = l == 0 ? _encoded : _a[l - 1].Res3;

            // Backward of Res3 = Res2 + drop(FcProj(gelu(Fch))).
            _k.DropoutBackward(_dResidual, btc, drop.Site(3 + (3 * l)), _tmp);
            _k.BiasBackward(_tmp, bt, C, g.FcProjB);
            _k.GeluForward(a.Fch, 4 * btc, _geluScratch);
            _k.MatMulTN(_geluScratch, _tmp, 4 * C, bt, C, g.FcProjW, accumulate: true);
            _k.MatMulNT(_tmp, p.FcProjW, bt, C, 4 * C, _dFch, accumulate: false);
            _k.GeluBackward(_dFch, a.Fch, 4 * btc, _dFch);
            _k.BiasBackward(_dFch, bt, 4 * C, g.FcB);
            _k.LayerNormForward(a.Res2, p.Ln2W, p.Ln2B, bt, C, _lnScratch, a.Ln2Mean, a.Ln2Rstd);
            _k.MatMulTN(_lnScratch, _dFch, C, bt, 4 * C, g.FcW, accumulate: true);
            _k.MatMulNT(_dFch, p.FcW, bt, 4 * C, C, _tmp, accumulate: false);
            _k.LayerNormBackward(
                _tmp, a.Res2, p.Ln2W, a.Ln2Mean, a.Ln2Rstd, bt, C, _dResidual, g.Ln2W, g.Ln2B);

            // Backward of Res2 = xIn + drop(Proj(Attn(Qkv(LN1(xIn))))).
            _k.DropoutBackward(_dResidual, btc, drop.Site(2 + (3 * l)), _tmp);
            _k.BiasBackward(_tmp, bt, C, g.ProjB);
            _k.MatMulTN(a.Atty, _tmp, C, bt, C, g.ProjW, accumulate: true);
            _k.MatMulNT(_tmp, p.ProjW, bt, C, C, _dAtty, accumulate: false);
            _k.AttentionBackward(_dAtty, a.Qkv, a.Probs, B, T, C, NH, drop.Site(1 + (3 * l)),
                _dQkv);
            _k.BiasBackward(_dQkv, bt, 3 * C, g.AttnB);
            _k.LayerNormForward(xIn, p.Ln1W, p.Ln1B, bt, C, _lnScratch, a.Ln1Mean, a.Ln1Rstd);
            _k.MatMulTN(_lnScratch, _dQkv, C, bt, 3 * C, g.AttnW, accumulate: true);
            _k.MatMulNT(_dQkv, p.AttnW, bt, 3 * C, C, _tmp, accumulate: false);
            _k.LayerNormBackward(
                _tmp, xIn, p.Ln1W, a.Ln1Mean, a.Ln1Rstd, bt, C, _dResidual, g.Ln1W, g.Ln1B);
        }

        // Backward of the embedding dropout, then the scatter-add into wte / wpe.
        _k.DropoutBackward(_dResidual, btc, drop.Site(0), _dResidual);
        IntTensor types = Shape.TypeTokens is null ? default : _types.Slice(0, bt);
        _k.EmbeddingBackward(_dResidual, _tokens.Slice(0, bt), types, B, T, C, V, _dWte, _dWpe);
    }

    /// <summary>The tensors of one block, in parameters or in gradients.</summary>
    internal readonly record struct LayerTensors(
        Tensor Ln1W, Tensor Ln1B, Tensor AttnW, Tensor AttnB, Tensor ProjW, Tensor ProjB,
        Tensor Ln2W, Tensor Ln2B, Tensor FcW, Tensor FcB, Tensor FcProjW, Tensor FcProjB)
    {
        public static LayerTensors Of(Gpt2 m, int l, Tensor arena)
        {
            string h = $"transformer.h.{l}.";
            Tensor T(string name)
            {
                ParameterInfo p = m.Layout[h + name];
                return arena.Slice(p.Offset, p.Count);
            }

            return new LayerTensors(
                T("ln_1.weight"), T("ln_1.bias"), T("attn.c_attn.weight"), T("attn.c_attn.bias"),
                T("attn.c_proj.weight"), T("attn.c_proj.bias"), T("ln_2.weight"), T("ln_2.bias"),
                T("mlp.c_fc.weight"), T("mlp.c_fc.bias"), T("mlp.c_proj.weight"),
                T("mlp.c_proj.bias"));
        }
    }

    /// <summary>What one block saves for backward.</summary>
    /// <param name="Qkv">[B, T, 3C] fused projections.</param>
    /// <param name="Probs">[B, NH, T, T] attention probabilities before dropout.</param>
    /// <param name="Atty">[B, T, C] attention output (heads concatenated).</param>
    /// <param name="Res2">[B, T, C] residual after the attention branch.</param>
    /// <param name="Fch">[B, T, 4C] MLP hidden before GELU.</param>
    /// <param name="Res3">[B, T, C] residual after the MLP branch (the block's output).</param>
    /// <param name="Ln1Mean">[B, T] LN1 mean.</param>
    /// <param name="Ln1Rstd">[B, T] LN1 reciprocal std.</param>
    /// <param name="Ln2Mean">[B, T] LN2 mean.</param>
    /// <param name="Ln2Rstd">[B, T] LN2 reciprocal std.</param>
    private sealed record LayerActivations(
        Tensor Qkv, Tensor Probs, Tensor Atty, Tensor Res2, Tensor Fch, Tensor Res3,
        Tensor Ln1Mean, Tensor Ln1Rstd, Tensor Ln2Mean, Tensor Ln2Rstd);
}

/// <summary>
/// Dropout of one micro-batch: every site (embedding, each block's attention and its two
/// residual branches) draws an independent mask keyed by (seed, step, stream).
/// </summary>
/// <param name="P">Drop probability; 0 disables dropout.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Step">The optimiser step.</param>
/// <param name="MicroBatch">Index of the micro-batch inside the step.</param>
public readonly record struct MicroBatchDropout(float P, ulong Seed, long Step, int MicroBatch)
{
    /// <summary>No dropout (evaluation, gradient checks).</summary>
    public static MicroBatchDropout None => default;

    /// <summary>The spec of dropout site <paramref name="site"/>.</summary>
    public DropoutSpec Site(int site) => new(P, Seed, Step, ((long)MicroBatch << 20) | (uint)site);
}
