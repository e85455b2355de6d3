namespace Kgglm.Kernels;

/// <summary>
/// The compute interface the model calls, whatever runs it (the SIMD CPU engine, ILGPU on CUDA
/// or ILGPU's CPU accelerator in tests). Every method is asynchronous with respect to the host on
/// a device backend; only the methods that return a value synchronise.
/// </summary>
/// <remarks>
/// <para>Conventions, stated once for every kernel:</para>
/// <list type="bullet">
/// <item>Parameter order: sources, then sizes, then destinations (as TensorPrimitives does).</item>
/// <item>Row-major storage. Sizes: B batch, T sequence, C channels, NH heads, HS = C / NH,
/// V vocabulary, M/K/N matmul rows/inner/columns. Shapes in brackets, e.g. <c>[B, T, C]</c>.</item>
/// <item>Gradient rule: parameter gradients (<c>dWeight</c>, <c>dBias</c>, <c>dWte</c>) are
/// accumulated (<c>+=</c>); activation gradients (<c>dInput</c>) are overwritten (<c>=</c>)
/// unless the parameter says otherwise; the residual stream's gradient is accumulated by the
/// caller with <see cref="Accumulate"/>.</item>
/// <item>Determinism: every output element is reduced in one fixed order that does not depend on
/// the number of threads or on blocking, so results are bitwise identical for any thread count.
/// </item>
/// <item>Dropout is identified by a <see cref="DropoutSpec"/>; its mask is a pure function of
/// (seed, step, stream, element) and is regenerated in backward instead of being stored.</item>
/// </list>
/// </remarks>
public interface IKernels : IDisposable
{
    /// <summary>Short name for the startup table, e.g. "cpu-avx512 (2 threads)".</summary>
    string Name { get; }

    /// <summary>Allocates an arena of <paramref name="floatCapacity"/> 4-byte elements.</summary>
    DeviceArena CreateArena(string name, long floatCapacity);

    /// <summary>Copies host floats into <paramref name="destination"/> (same length).</summary>
    void Upload(ReadOnlySpan<float> source, Tensor destination);

    /// <summary>Copies host ints into <paramref name="destination"/> (same length).</summary>
    void Upload(ReadOnlySpan<int> source, IntTensor destination);

    /// <summary>
    /// Copies <paramref name="source"/> to host memory (same length); synchronises.
    /// </summary>
    void Download(Tensor source, Span<float> destination);

    /// <summary>
    /// Sets every element of <paramref name="destination"/> to <paramref name="value"/>.
    /// </summary>
    void Fill(float value, Tensor destination);

    /// <summary><c>destination = source</c> for <paramref name="n"/> elements.</summary>
    void Copy(Tensor source, long n, Tensor destination);

    /// <summary>Waits for all queued work.</summary>
    void Synchronize();

    // ---- matmul (GPT-2's Conv1D stores W as [in, out]) ----------------------------------------

    /// <summary>
    /// <c>c[M,N] = (accumulate ? c : 0) + a[M,K] · b[K,N] (+ bias[N] on every row)</c>.
    /// Forward of a linear layer (<c>Y = X·W + b</c>); also <c>dH += dLogits · wte</c>.
    /// </summary>
    void MatMulNN(Tensor a, Tensor b, Tensor bias, int m, int k, int n, Tensor c, bool accumulate);

    /// <summary>
    /// <c>c[M,N] = (accumulate ? c : 0) + a[M,K] · b[N,K]ᵀ</c>.
    /// Input gradient of a linear layer (<c>dX = dY·Wᵀ</c>, b = W [K_in, N_out] read as [N, K]);
    /// also the tied head <c>logits = h · wteᵀ</c>.
    /// </summary>
    void MatMulNT(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate);

    /// <summary>
    /// <c>c[M,N] = (accumulate ? c : 0) + a[K,M]ᵀ · b[K,N]</c>.
    /// Weight gradient (<c>dW += Xᵀ·dY</c>) and the tied head's <c>dWte += dLogitsᵀ · h</c>.
    /// </summary>
    void MatMulTN(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate);

    /// <summary>
    /// Arranges the constant right operand <paramref name="b"/> ([K, N] for
    /// <see cref="Ops.MatMulLayout.NN"/>, [N, K] for <see cref="Ops.MatMulLayout.NT"/>) for
    /// <see cref="MatMulPacked"/>. The CPU engine copies it into its register-tile panels
    /// (K·N floats of native memory); a GPU backend keeps a view.
    /// </summary>
    PackedOperand PackRight(Tensor b, Ops.MatMulLayout layout, int k, int n);

    /// <summary>
    /// <c>c[M,N] = (accumulate ? c : 0) + a[M,K] · B (+ bias[N])</c> with B a
    /// <see cref="PackRight"/> operand: bitwise the result of MatMulNN / MatMulNT on its source.
    /// </summary>
    void MatMulPacked(Tensor a, PackedOperand b, Tensor bias, int m, Tensor c, bool accumulate);

    /// <summary><c>dBias[N] += Σ_rows dOutput[M,N]</c>, rows summed in order 0..M-1.</summary>
    void BiasBackward(Tensor dOutput, int m, int n, Tensor dBias);

    // ---- embedding ------------------------------------------------------------------------------

    /// <summary>
    /// <c>output[b,t,:] = wte[tokens[b,t]] + wpe[t] + (types empty ? 0 : wte[types[b,t]])</c>,
    /// summed in that order. tokens, types: [B, T]; wte: [V, C]; wpe: [maxT ≥ T, C];
    /// output: [B, T, C].
    /// </summary>
    void EmbeddingForward(
        IntTensor tokens, IntTensor types, Tensor wte, Tensor wpe, int B, int T, int C,
        Tensor output);

    /// <summary>
    /// Scatter-add backward of <see cref="EmbeddingForward"/>:
    /// <c>dWte[tokens[b,t]] += dOutput[b,t]</c>, <c>dWte[types[b,t]] += dOutput[b,t]</c>,
    /// <c>dWpe[t] += Σ_b dOutput[b,t]</c>. Contributions to a row are added in (b, t) order,
    /// tokens before types, whatever the thread count.
    /// dOutput: [B, T, C]; dWte: [V, C]; dWpe: [maxT, C].
    /// </summary>
    void EmbeddingBackward(
        Tensor dOutput, IntTensor tokens, IntTensor types, int B, int T, int C, int V,
        Tensor dWte, Tensor dWpe);

    // ---- layer norm (epsilon 1e-5) --------------------------------------------------------------

    /// <summary>
    /// <c>output = (x - mean) * rstd * weight + bias</c> per row. x, output: [N, C];
    /// weight, bias: [C]; mean, rstd: [N] (saved for backward).
    /// </summary>
    void LayerNormForward(
        Tensor x, Tensor weight, Tensor bias, int N, int C, Tensor output, Tensor mean,
        Tensor rstd);

    /// <summary>
    /// Backward of <see cref="LayerNormForward"/>. <c>dInput += ...</c> (it is the residual
    /// stream's gradient), <c>dWeight += Σ_rows dOutput·xhat</c>, <c>dBias += Σ_rows dOutput</c>.
    /// </summary>
    void LayerNormBackward(
        Tensor dOutput, Tensor x, Tensor weight, Tensor mean, Tensor rstd, int N, int C,
        Tensor dInput, Tensor dWeight, Tensor dBias);

    // ---- element-wise ---------------------------------------------------------------------------

    /// <summary>
    /// <c>output = gelu_new(x)</c> (tanh approximation) for <paramref name="n"/> elements.
    /// </summary>
    void GeluForward(Tensor x, long n, Tensor output);

    /// <summary><c>dInput = dOutput * gelu_new'(x)</c>; dInput may alias dOutput.</summary>
    void GeluBackward(Tensor dOutput, Tensor x, long n, Tensor dInput);

    /// <summary>
    /// <c>output = a + b</c> for <paramref name="n"/> elements (the residual add).
    /// </summary>
    void Add(Tensor a, Tensor b, long n, Tensor output);

    /// <summary><c>destination += source</c> for <paramref name="n"/> elements.</summary>
    void Accumulate(Tensor source, long n, Tensor destination);

    /// <summary>
    /// <c>output = x * mask / (1 - p)</c>, mask from <paramref name="dropout"/>; p = 0 copies.
    /// output may alias x.
    /// </summary>
    void DropoutForward(Tensor x, long n, DropoutSpec dropout, Tensor output);

    /// <summary>
    /// Backward of <see cref="DropoutForward"/> with the same spec; dInput may alias.
    /// </summary>
    void DropoutBackward(Tensor dOutput, long n, DropoutSpec dropout, Tensor dInput);

    // ---- attention ------------------------------------------------------------------------------

    /// <summary>
    /// Causal multi-head self-attention for short sequences (T ≤ 64).
    /// qkv: [B, T, 3C] (q, k, v blocks of C, head h at columns h·HS..); probabilities:
    /// [B, NH, T, T] softmax(q·kᵀ/√HS) before dropout, saved for backward (upper triangle 0);
    /// output: [B, T, C], heads concatenated. Dropout applies to the probabilities.
    /// </summary>
    void AttentionForward(
        Tensor qkv, int B, int T, int C, int NH, DropoutSpec dropout, Tensor output,
        Tensor probabilities);

    /// <summary>
    /// Backward of <see cref="AttentionForward"/>: <c>dQkv = ...</c> (overwritten).
    /// </summary>
    void AttentionBackward(
        Tensor dOutput, Tensor qkv, Tensor probabilities, int B, int T, int C, int NH,
        DropoutSpec dropout, Tensor dQkv);

    // ---- incremental decoding (inference only) ------------------------------------------------
    // Generation feeds one new position per row and keeps every earlier position's key and value
    // in a cache, so a step costs one row of work instead of the whole prefix. The cache is a
    // tree of slots of 2C floats (k at [0, C), v at [C, 2C)): the slot of node s at position j
    // starts at j·positionStride + s·2C, and a row names the node of each earlier position in
    // its ancestors row. Beams that continue the same parent share its slots: re-selecting
    // beams rewrites the small ancestors table and copies no key or value.

    /// <summary>
    /// One new position t per row: writes the new k, v of qkv: [N, 3C] into the slot of node n
    /// at position t, then <c>output[n] = softmax(q·K[0..t]ᵀ/√HS) · V[0..t]</c> per head (heads
    /// concatenated) into output: [N, C], where position j &lt; t of row n is node
    /// ancestors[n, j] (ancestors: [N, t], ids below positionStride / 2C). Equals row t of
    /// <see cref="AttentionForward"/> (no dropout) over the same positions. t &lt; 64; a caller
    /// may stack layers' caches one after another (each 64 · positionStride floats or fewer).
    /// </summary>
    void AttentionDecode(
        Tensor qkv, IntTensor ancestors, int N, int t, int C, int NH, long positionStride,
        Tensor cache, Tensor output);

    /// <summary>
    /// <c>lse[i] = log Σ_j exp(x[i, j])</c> (max-shifted, summed in float64 in column order):
    /// the log-softmax normaliser. x: [M, N]; lse: [M].
    /// </summary>
    void RowLogSumExp(Tensor x, int m, int n, Tensor lse);

    /// <summary>
    /// <c>destination[i, :] = source[indices[i], :]</c> for rows of <paramref name="width"/>
    /// floats (width 1 gathers elements by flat index). source: [*, W]; indices: [M];
    /// destination: [M, W], not overlapping source. Reorders a key/value cache when beams are
    /// re-selected, and picks the log-probabilities of allowed tokens out of the logits.
    /// </summary>
    void GatherRows(Tensor source, IntTensor indices, int m, long width, Tensor destination);

    // ---- fused logits softmax cross-entropy over vocabulary chunks ------------------------------
    // The B·T × V logits are never held at once. For each chunk [v0, v0+Vc) of the vocabulary:
    // logits = MatMulNT(h, wte[v0:v0+Vc]); CrossEntropyStatistics folds it into running row
    // statistics (pass 1). After the last chunk, CrossEntropyLoss gives per-row losses. Pass 2
    // recomputes each chunk's logits and CrossEntropyBackward turns them into dLogits, which the
    // caller feeds to MatMulNN (dH) and MatMulTN (dWte).

    /// <summary>
    /// Pass 1 on one chunk. logits: [M, Vc] for vocabulary ids v0..v0+Vc-1; targets: [M];
    /// rowMax, rowSum: [M] running max and Σexp(logit - max) (reset when v0 = 0);
    /// targetLogit: [M] set when the row's target falls in the chunk.
    /// </summary>
    void CrossEntropyStatistics(
        Tensor logits, IntTensor targets, int m, int vc, int v0, Tensor rowMax, Tensor rowSum,
        Tensor targetLogit);

    /// <summary>
    /// <c>losses[i] = log(rowSum) + rowMax - targetLogit</c>, or 0 where
    /// <c>targets[i] == ignoreIndex</c>. losses: [M].
    /// </summary>
    void CrossEntropyLoss(
        Tensor rowMax, Tensor rowSum, Tensor targetLogit, IntTensor targets, int m,
        int ignoreIndex, Tensor losses);

    /// <summary>
    /// Pass 2 on one chunk: <c>dLogits = scale · (softmax - onehot(target))</c>, 0 on ignored
    /// rows. dLogits may alias logits. scale is 1 / (number of non-ignored rows of the batch).
    /// </summary>
    void CrossEntropyBackward(
        Tensor logits, Tensor rowMax, Tensor rowSum, IntTensor targets, int m, int vc, int v0,
        float scale, int ignoreIndex, Tensor dLogits);

    // ---- optimiser ------------------------------------------------------------------------------

    /// <summary>
    /// Σ x² over <paramref name="n"/> elements in float64, summed in fixed blocks in a fixed
    /// order (independent of threads); synchronises and returns to the host.
    /// </summary>
    double SquaredNorm(Tensor x, long n);

    /// <summary>
    /// One AdamW step on n elements (decoupled weight decay):
    /// <c>g = grad·gradScale; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
    /// param -= lr·(m̂ / (√v̂ + ε) + weightDecay·param)</c> with bias corrections at step t.
    /// gradScale carries the global-norm clipping factor.
    /// </summary>
    void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, long n, AdamWStep step);
}

/// <summary>
/// Identifies one dropout mask: element e of stream s at optimiser step t under seed is kept
/// iff <c>Uniform(Philox-like hash(seed, step, stream, e)) ≥ p</c>. P = 0 disables dropout
/// (inference, gradient checks).
/// </summary>
/// <param name="P">Drop probability in [0, 1).</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Step">The optimiser step (so each step draws a fresh mask).</param>
/// <param name="Stream">Which dropout site (layer × site), so sites draw independent masks.</param>
public readonly record struct DropoutSpec(float P, ulong Seed, long Step, long Stream)
{
    /// <summary>No dropout.</summary>
    public static DropoutSpec None => default;

    /// <summary>True when elements are dropped.</summary>
    public bool IsActive => P > 0f;
}

/// <summary>The scalars of one AdamW update.</summary>
/// <param name="LearningRate">lr at this step (after warm-up / decay).</param>
/// <param name="Beta1">First-moment decay (0.9).</param>
/// <param name="Beta2">Second-moment decay (0.999).</param>
/// <param name="Epsilon">Added to √v̂ (1e-8).</param>
/// <param name="WeightDecay">Decoupled decay; 0 for tensors outside the decay mask.</param>
/// <param name="Step">1-based step count t, for the bias corrections 1 - βᵗ.</param>
/// <param name="GradScale">
/// Multiplies the gradient first (clipping: min(1, maxNorm / norm)).
/// </param>
public readonly record struct AdamWStep(
    float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, long Step,
    float GradScale);
