using ILGPU;
using ILGPU.Runtime;
using Kgglm.Kernels.Gpu.Device;
using Kgglm.Kernels.Ops;
using static Kgglm.Kernels.KernelArguments;

namespace Kgglm.Kernels.Gpu;

/// <summary>
/// The ops: argument checks at this boundary, then launches of the kernels of <c>Device/</c>.
/// Token ids are not range-checked here, since that would need a copy to the host every step:
/// the caller validates ids when it builds its batches.
/// </summary>
public sealed partial class IlgpuKernels
{
    private readonly KernelTable _table;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _dummy;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _normResult;

    // Scratch grown on first use (the attention score gradient, the decode probabilities): the
    // first step allocates, the later ones reuse.
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;
    private MemoryBuffer1D<double, Stride1D.Dense>? _normLanes;

    /// <inheritdoc/>
    public void MatMulNN(
        Tensor a, Tensor b, Tensor bias, int m, int k, int n, Tensor c, bool accumulate)
    {
        CheckMatMul(a, b, m, k, n, c);
        if (!bias.IsEmpty)
        {
            Need(bias, n, nameof(bias));
        }

        LaunchMatMul(a, b, bias, new MatMulArgs(m, k, n, k, 1, n, 1, accumulate ? 1 : 0, 0), c);
    }

    /// <inheritdoc/>
    public void MatMulNT(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate)
    {
        CheckMatMul(a, b, m, k, n, c);
        LaunchMatMul(a, b, default, new MatMulArgs(m, k, n, k, 1, 1, k, accumulate ? 1 : 0, 0), c);
    }

    /// <inheritdoc/>
    /// <remarks>The tiled kernel reads B in place, so this keeps a view.</remarks>
    public PackedOperand PackRight(Tensor b, MatMulLayout layout, int k, int n) =>
        new UnpackedOperand(b, layout, k, n);

    /// <inheritdoc/>
    public void MatMulPacked(
        Tensor a, PackedOperand b, Tensor bias, int m, Tensor c, bool accumulate)
    {
        if (b is not UnpackedOperand view)
        {
            throw new ArgumentException("b was packed by another backend", nameof(b));
        }

        int k = view.K, n = view.N;
        CheckMatMul(a, view.Source, m, k, n, c);
        if (!bias.IsEmpty)
        {
            Need(bias, n, nameof(bias));
        }

        // The strides of MatMulNN or MatMulNT over the source.
        MatMulArgs args = view.Layout == MatMulLayout.NN
            ? new MatMulArgs(m, k, n, k, 1, n, 1, accumulate ? 1 : 0, 0)
            : new MatMulArgs(m, k, n, k, 1, 1, k, accumulate ? 1 : 0, 0);
        LaunchMatMul(a, view.Source, bias, args, c);
    }

    /// <inheritdoc/>
    public void MatMulTN(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate)
    {
        CheckMatMul(a, b, m, k, n, c);
        LaunchMatMul(a, b, default, new MatMulArgs(m, k, n, 1, m, n, 1, accumulate ? 1 : 0, 0), c);
    }

    /// <inheritdoc/>
    public void BiasBackward(Tensor dOutput, int m, int n, Tensor dBias)
    {
        NonNegative(m, nameof(m));
        NonNegative(n, nameof(n));
        Need(dOutput, (long)m * n, nameof(dOutput));
        Need(dBias, n, nameof(dBias));
        if (n > 0)
        {
            _table.BiasBackward(n, View(dOutput), View(dBias), m, n);
        }
    }

    /// <inheritdoc/>
    public void EmbeddingForward(
        IntTensor tokens, IntTensor types, Tensor wte, Tensor wpe, int B, int T, int C,
        Tensor output)
    {
        CheckEmbeddingForward(tokens, types, wpe, B, T, C, output);

        _table.EmbeddingForward(
            Elements((long)B * T * C), View(tokens), IntsOrDummy(types), View(wte), View(wpe),
            View(output), T, C, types.IsEmpty ? 0 : 1);
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(
        Tensor dOutput, IntTensor tokens, IntTensor types, int B, int T, int C, int V,
        Tensor dWte, Tensor dWpe)
    {
        CheckEmbeddingBackward(dOutput, tokens, types, B, T, C, V, dWte, dWpe);

        // TODO: one thread per column leaves most of a GPU idle at C = 768; a (column, token
        // range) split with a fixed-order merge would fill it, once profiling says it matters.
        _table.EmbeddingBackward(
            C, View(dOutput), View(tokens), IntsOrDummy(types), View(dWte), View(dWpe), B * T,
            T, C, types.IsEmpty ? 0 : 1);
    }

    /// <inheritdoc/>
    public void LayerNormForward(
        Tensor x, Tensor weight, Tensor bias, int N, int C, Tensor output, Tensor mean,
        Tensor rstd)
    {
        CheckLayerNormForward(x, weight, bias, N, C, output, mean, rstd);
        if (N > 0)
        {
            _table.LayerNormForward(
                N, View(x), View(weight), View(bias), View(output), View(mean), View(rstd), C);
        }
    }

    /// <inheritdoc/>
    public void LayerNormBackward(
        Tensor dOutput, Tensor x, Tensor weight, Tensor mean, Tensor rstd, int N, int C,
        Tensor dInput, Tensor dWeight, Tensor dBias)
    {
        CheckLayerNormBackward(dOutput, x, weight, mean, rstd, N, C, dInput, dWeight, dBias);
        if (N == 0)
        {
            return;
        }

        _table.LayerNormBackwardInput(
            N, View(dOutput), View(x), View(weight), View(mean), View(rstd), View(dInput), C);
        _table.LayerNormBackwardParameters(
            C, View(dOutput), View(x), View(mean), View(rstd), View(dWeight), View(dBias), N, C);
    }

    /// <inheritdoc/>
    public void GeluForward(Tensor x, long n, Tensor output)
    {
        Need(x, n, nameof(x));
        Need(output, n, nameof(output));
        if (n > 0)
        {
            _table.GeluForward(Elements(n), View(x, n), View(output, n));
        }
    }

    /// <inheritdoc/>
    public void GeluBackward(Tensor dOutput, Tensor x, long n, Tensor dInput)
    {
        Need(dOutput, n, nameof(dOutput));
        Need(x, n, nameof(x));
        Need(dInput, n, nameof(dInput));
        if (n > 0)
        {
            _table.GeluBackward(Elements(n), View(dOutput, n), View(x, n), View(dInput, n));
        }
    }

    /// <inheritdoc/>
    public void Add(Tensor a, Tensor b, long n, Tensor output)
    {
        Need(a, n, nameof(a));
        Need(b, n, nameof(b));
        Need(output, n, nameof(output));
        if (n > 0)
        {
            _table.Add(Elements(n), View(a, n), View(b, n), View(output, n));
        }
    }

    /// <inheritdoc/>
    public void Accumulate(Tensor source, long n, Tensor destination)
    {
        Need(source, n, nameof(source));
        Need(destination, n, nameof(destination));
        if (n > 0)
        {
            _table.Accumulate(Elements(n), View(source, n), View(destination, n));
        }
    }

    /// <inheritdoc/>
    public void DropoutForward(Tensor x, long n, DropoutSpec dropout, Tensor output) =>
        ApplyDropout(x, n, dropout, output);

    /// <inheritdoc/>
    public void DropoutBackward(Tensor dOutput, long n, DropoutSpec dropout, Tensor dInput) =>
        ApplyDropout(dOutput, n, dropout, dInput);

    /// <inheritdoc/>
    public void AttentionForward(
        Tensor qkv, int B, int T, int C, int NH, DropoutSpec dropout, Tensor output,
        Tensor probabilities)
    {
        CheckAttentionForward(qkv, B, T, C, NH, dropout, output, probabilities);
        AttentionArgs g = Args(T, C, NH);
        _table.AttentionProbabilities(
            Elements((long)B * NH * T), View(qkv), View(probabilities), g);
        _table.AttentionOutput(
            Elements((long)B * T * C), View(qkv), View(probabilities), View(output), g,
            DropoutArgs.From(dropout));
    }

    /// <inheritdoc/>
    public void AttentionBackward(
        Tensor dOutput, Tensor qkv, Tensor probabilities, int B, int T, int C, int NH,
        DropoutSpec dropout, Tensor dQkv)
    {
        CheckAttentionBackward(dOutput, qkv, probabilities, B, T, C, NH, dropout, dQkv);
        AttentionArgs g = Args(T, C, NH);
        DropoutArgs d = DropoutArgs.From(dropout);
        ArrayView<float> dScores = Scratch((long)B * NH * T * T);
        _table.AttentionScoreGrad(
            Elements((long)B * NH * T), View(dOutput), View(qkv), View(probabilities), dScores,
            g, d);
        _table.AttentionInputGrad(
            Elements((long)B * T * 3 * C), View(dOutput), View(qkv), View(probabilities),
            dScores, View(dQkv), g, d);
    }

    /// <inheritdoc/>
    public void AttentionDecode(
        Tensor qkv, IntTensor ancestors, int N, int t, int C, int NH, long positionStride,
        Tensor cache, Tensor output)
    {
        CheckAttentionDecode(qkv, ancestors, N, t, C, NH, positionStride, cache, output);
        int HS = C / NH;
        var g = new DecodeArgs(t, C, NH, HS, positionStride, 1f / MathF.Sqrt(HS));
        ArrayView<float> scores = Scratch((long)N * NH * DecodeKernels.MaxT);
        ArrayView<int> anc = IntsOrDummy(t == 0 ? default : ancestors);
        _table.DecodeAppend(Elements((long)N * C), View(qkv), View(cache), g);
        _table.DecodeProbabilities(
            Elements((long)N * NH), View(qkv), View(cache), anc, scores, g);
        _table.DecodeOutput(Elements((long)N * C), View(cache), anc, scores, View(output), g);
    }

    /// <inheritdoc/>
    public void RowLogSumExp(Tensor x, int m, int n, Tensor lse)
    {
        CheckRowLogSumExp(x, m, n, lse);
        if (m > 0)
        {
            _table.RowLogSumExp(m, View(x), View(lse), n);
        }
    }

    /// <inheritdoc/>
    public void GatherRows(Tensor source, IntTensor indices, int m, long width, Tensor destination)
    {
        NonNegative(m, nameof(m));
        if (width <= 0)
        {
            throw new ArgumentException($"width: expected > 0, found {width}", nameof(width));
        }

        Need(indices, m, nameof(indices));
        Need(destination, m * width, nameof(destination));
        if (source.Arena == destination.Arena && source.Offset < destination.Offset + (m * width)
            && destination.Offset < source.Offset + source.Length)
        {
            throw new ArgumentException("GatherRows: source and destination overlap");
        }

        if (m > 0)
        {
            _table.GatherRows(
                Elements(m * width), View(source), View(indices), View(destination), width);
        }
    }

    /// <inheritdoc/>
    public void CrossEntropyStatistics(
        Tensor logits, IntTensor targets, int m, int vc, int v0, Tensor rowMax, Tensor rowSum,
        Tensor targetLogit)
    {
        CheckCrossEntropyStatistics(logits, targets, m, vc, v0, rowMax, rowSum, targetLogit);
        if (m > 0)
        {
            _table.CrossEntropyStatistics(
                m, View(logits), View(targets), View(rowMax), View(rowSum), View(targetLogit), vc,
                v0);
        }
    }

    /// <inheritdoc/>
    public void CrossEntropyLoss(
        Tensor rowMax, Tensor rowSum, Tensor targetLogit, IntTensor targets, int m,
        int ignoreIndex, Tensor losses)
    {
        CheckCrossEntropyLoss(rowMax, rowSum, targetLogit, targets, m, losses);
        if (m > 0)
        {
            _table.CrossEntropyLoss(
                m, View(rowMax), View(rowSum), View(targetLogit), View(targets), View(losses),
                ignoreIndex);
        }
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(
        Tensor logits, Tensor rowMax, Tensor rowSum, IntTensor targets, int m, int vc, int v0,
        float scale, int ignoreIndex, Tensor dLogits)
    {
        CheckCrossEntropyBackward(logits, rowMax, rowSum, targets, m, vc, v0, dLogits);
        if ((long)m * vc > 0)
        {
            _table.CrossEntropyBackward(
                Elements((long)m * vc), View(logits), View(rowMax), View(rowSum), View(targets),
                View(dLogits), vc, v0, scale, ignoreIndex);
        }
    }

    /// <inheritdoc/>
    public double SquaredNorm(Tensor x, long n)
    {
        Need(x, n, nameof(x));
        long blocks = (n + LossKernels.NormBlock - 1) / LossKernels.NormBlock;
        if (blocks == 0)
        {
            return 0;
        }

        long lanes = blocks * LossKernels.NormLanes;
        if (_normLanes is null || _normLanes.Length < lanes)
        {
            _normLanes?.Dispose();
            _normLanes = _accelerator.Allocate1D<double>(lanes);
        }

        _table.NormLanes(Elements(lanes), View(x, n), _normLanes.View, n);
        _table.NormReduce(1, _normLanes.View, _normResult.View, (int)blocks);
        double[] result = new double[1];
        _normResult.View.CopyToCPU(_accelerator.DefaultStream, result);
        _accelerator.DefaultStream.Synchronize();
        return result[0];
    }

    /// <inheritdoc/>
    public void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, long n, AdamWStep step)
    {
        Need(param, n, nameof(param));
        Need(grad, n, nameof(grad));
        Need(m, n, nameof(m));
        Need(v, n, nameof(v));
        if (step.Step < 1)
        {
            throw new ArgumentException(
                $"step: expected a 1-based step count, found {step.Step}", nameof(step));
        }

        if (n > 0)
        {
            _table.AdamW(
                Elements(n), View(param, n), View(grad, n), View(m, n), View(v, n),
                AdamArgs.From(step));
        }
    }

    private void LaunchMatMul(Tensor a, Tensor b, Tensor bias, MatMulArgs g, Tensor c)
    {
        if (g.M == 0 || g.N == 0)
        {
            return;
        }

        int tile = MatMulTile;
        var config = new KernelConfig(
            new Index2D((g.N + tile - 1) / tile, (g.M + tile - 1) / tile),
            new Index2D(tile, tile),
            SharedMemoryConfig.RequestDynamic<float>(2 * tile * tile));
        ArrayView<float> biasView = bias.IsEmpty ? _dummy.View : View(bias);
        _table.MatMul(
            config, View(a), View(b), biasView, View(c), g with { HasBias = bias.IsEmpty ? 0 : 1 });
    }

    private void ApplyDropout(Tensor x, long n, DropoutSpec dropout, Tensor y)
    {
        Need(x, n, nameof(x));
        Need(y, n, nameof(y));
        CheckDropout(dropout);
        if (n == 0)
        {
            return;
        }

        if (!dropout.IsActive)
        {
            _table.Copy(Elements(n), View(x, n), View(y, n));
            return;
        }

        _table.Dropout(Elements(n), View(x, n), View(y, n), DropoutArgs.From(dropout));
    }

    /// <summary>
    /// A scratch view of at least <paramref name="n"/> floats (grown, never shrunk).
    /// </summary>
    private ArrayView<float> Scratch(long n)
    {
        if (_scratch is null || _scratch.Length < n)
        {
            _scratch?.Dispose();
            _scratch = _accelerator.Allocate1D<float>(Math.Max(n, 16));
        }

        return _scratch.View.SubView(0, Math.Max(n, 1));
    }

    private ArrayView<int> IntsOrDummy(IntTensor t) =>
        t.IsEmpty ? _dummy.View.AsContiguous().Cast<int>() : View(t);

    private static void CheckMatMul(Tensor a, Tensor b, int m, int k, int n, Tensor c)
    {
        NonNegative(m, nameof(m));
        NonNegative(k, nameof(k));
        NonNegative(n, nameof(n));
        Need(a, (long)m * k, nameof(a));
        Need(b, (long)k * n, nameof(b));
        Need(c, (long)m * n, nameof(c));
    }

    private static AttentionArgs Args(int T, int C, int NH) =>
        new(T, C, NH, C / NH, 1f / MathF.Sqrt(C / NH));
}
