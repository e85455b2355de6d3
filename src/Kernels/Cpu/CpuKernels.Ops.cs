using Kgglm.Kernels.Ops;
using static Kgglm.Kernels.KernelArguments;

namespace Kgglm.Kernels.Cpu;

/// <summary>
/// The non-matmul kernels of the CPU engine: argument checks at this boundary, then one
/// <see cref="OpJob"/> run on the pool. The job object is allocated once and its fields are set
/// per call, so a call allocates nothing. Threads split outputs only (rows, columns, element
/// chunks or (batch, head) pairs), never a reduction, so every thread count gives the same bits.
/// </summary>
public sealed unsafe partial class CpuKernels
{
    /// <summary>Elements per work item of the element-wise ops (a multiple of any width).</summary>
    private const int ElementChunk = 16384;

    /// <summary>Columns per work item of the column-split reductions (one 64-byte line).</summary>
    private const int ColumnStrip = 16;

    private readonly OpJob _job = new();
    private double[] _normPartials = new double[64];

    /// <inheritdoc/>
    public void EmbeddingForward(
        IntTensor tokens, IntTensor types, Tensor wte, Tensor wpe, int B, int T, int C,
        Tensor output)
    {
        CheckEmbeddingForward(tokens, types, wpe, B, T, C, output);
        long V = wte.Length / C;
        CheckIds(tokens, B * T, V, nameof(tokens));
        if (!types.IsEmpty)
        {
            CheckIds(types, B * T, V, nameof(types));
        }

        OpJob j = Prepare(OpKind.EmbeddingForward);
        j.I0 = CpuArena.Pointer(tokens);
        j.I1 = CpuArena.PointerOrNull(types);
        j.P0 = CpuArena.Pointer(wte);
        j.P1 = CpuArena.Pointer(wpe);
        j.P2 = CpuArena.Pointer(output);
        j.T = T;
        j.C = C;
        _pool.Run(j, B * T);
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(
        Tensor dOutput, IntTensor tokens, IntTensor types, int B, int T, int C, int V,
        Tensor dWte, Tensor dWpe)
    {
        CheckEmbeddingBackward(dOutput, tokens, types, B, T, C, V, dWte, dWpe);
        CheckIds(tokens, B * T, V, nameof(tokens));
        if (!types.IsEmpty)
        {
            CheckIds(types, B * T, V, nameof(types));
        }

        OpJob j = Prepare(OpKind.EmbeddingBackward);
        j.P0 = CpuArena.Pointer(dOutput);
        j.I0 = CpuArena.Pointer(tokens);
        j.I1 = CpuArena.PointerOrNull(types);
        j.P1 = CpuArena.Pointer(dWte);
        j.P2 = CpuArena.Pointer(dWpe);
        j.M = B * T;
        j.T = T;
        j.C = C;
        _pool.Run(j, Strips(C));
    }

    /// <inheritdoc/>
    public void LayerNormForward(
        Tensor x, Tensor weight, Tensor bias, int N, int C, Tensor output, Tensor mean,
        Tensor rstd)
    {
        CheckLayerNormForward(x, weight, bias, N, C, output, mean, rstd);
        OpJob j = Prepare(OpKind.LayerNormForward);
        j.P0 = CpuArena.Pointer(x);
        j.P1 = CpuArena.Pointer(weight);
        j.P2 = CpuArena.Pointer(bias);
        j.P3 = CpuArena.Pointer(output);
        j.P4 = CpuArena.Pointer(mean);
        j.P5 = CpuArena.Pointer(rstd);
        j.C = C;
        _pool.Run(j, N);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(
        Tensor dOutput, Tensor x, Tensor weight, Tensor mean, Tensor rstd, int N, int C,
        Tensor dInput, Tensor dWeight, Tensor dBias)
    {
        CheckLayerNormBackward(dOutput, x, weight, mean, rstd, N, C, dInput, dWeight, dBias);
        OpJob j = Prepare(OpKind.LayerNormBackwardInput);
        j.P0 = CpuArena.Pointer(dOutput);
        j.P1 = CpuArena.Pointer(x);
        j.P2 = CpuArena.Pointer(weight);
        j.P3 = CpuArena.Pointer(mean);
        j.P4 = CpuArena.Pointer(rstd);
        j.P5 = CpuArena.Pointer(dInput);
        j.P6 = CpuArena.Pointer(dWeight);
        j.P7 = CpuArena.Pointer(dBias);
        j.M = N;
        j.C = C;
        _pool.Run(j, N);
        j.Kind = OpKind.LayerNormBackwardParameters;
        _pool.Run(j, Strips(C));
    }

    /// <inheritdoc/>
    public void GeluForward(Tensor x, long n, Tensor output)
    {
        Need(x, n, nameof(x));
        Need(output, n, nameof(output));
        RunElementwise(OpKind.GeluForward, n, CpuArena.Pointer(x), null, CpuArena.Pointer(output));
    }

    /// <inheritdoc/>
    public void GeluBackward(Tensor dOutput, Tensor x, long n, Tensor dInput)
    {
        Need(dOutput, n, nameof(dOutput));
        Need(x, n, nameof(x));
        Need(dInput, n, nameof(dInput));
        RunElementwise(
            OpKind.GeluBackward, n, CpuArena.Pointer(dOutput), CpuArena.Pointer(x),
            CpuArena.Pointer(dInput));
    }

    /// <inheritdoc/>
    public void Add(Tensor a, Tensor b, long n, Tensor output)
    {
        Need(a, n, nameof(a));
        Need(b, n, nameof(b));
        Need(output, n, nameof(output));
        RunElementwise(
            OpKind.Add, n, CpuArena.Pointer(a), CpuArena.Pointer(b), CpuArena.Pointer(output));
    }

    /// <inheritdoc/>
    public void Accumulate(Tensor source, long n, Tensor destination)
    {
        Need(source, n, nameof(source));
        Need(destination, n, nameof(destination));
        RunElementwise(
            OpKind.Accumulate, n, CpuArena.Pointer(source), null, CpuArena.Pointer(destination));
    }

    /// <inheritdoc/>
    public void DropoutForward(Tensor x, long n, DropoutSpec dropout, Tensor output)
    {
        Need(x, n, nameof(x));
        Need(output, n, nameof(output));
        CheckDropout(dropout);
        _job.Dropout = dropout;
        RunElementwise(OpKind.Dropout, n, CpuArena.Pointer(x), null, CpuArena.Pointer(output));
    }

    /// <inheritdoc/>
    public void DropoutBackward(Tensor dOutput, long n, DropoutSpec dropout, Tensor dInput)
    {
        Need(dOutput, n, nameof(dOutput));
        Need(dInput, n, nameof(dInput));
        CheckDropout(dropout);
        _job.Dropout = dropout;
        RunElementwise(
            OpKind.Dropout, n, CpuArena.Pointer(dOutput), null, CpuArena.Pointer(dInput));
    }

    /// <inheritdoc/>
    public void AttentionForward(
        Tensor qkv, int B, int T, int C, int NH, DropoutSpec dropout, Tensor output,
        Tensor probabilities)
    {
        CheckAttentionForward(qkv, B, T, C, NH, dropout, output, probabilities);
        OpJob j = Prepare(OpKind.AttentionForward);
        j.P0 = CpuArena.Pointer(qkv);
        j.P1 = CpuArena.Pointer(output);
        j.P2 = CpuArena.Pointer(probabilities);
        j.T = T;
        j.C = C;
        j.NH = NH;
        j.Dropout = dropout;
        _pool.Run(j, B * NH);
    }

    /// <inheritdoc/>
    public void AttentionBackward(
        Tensor dOutput, Tensor qkv, Tensor probabilities, int B, int T, int C, int NH,
        DropoutSpec dropout, Tensor dQkv)
    {
        CheckAttentionBackward(dOutput, qkv, probabilities, B, T, C, NH, dropout, dQkv);
        OpJob j = Prepare(OpKind.AttentionBackward);
        j.P0 = CpuArena.Pointer(dOutput);
        j.P1 = CpuArena.Pointer(qkv);
        j.P2 = CpuArena.Pointer(probabilities);
        j.P3 = CpuArena.Pointer(dQkv);
        j.T = T;
        j.C = C;
        j.NH = NH;
        j.Dropout = dropout;
        _pool.Run(j, B * NH);
    }

    /// <inheritdoc/>
    public void CrossEntropyStatistics(
        Tensor logits, IntTensor targets, int m, int vc, int v0, Tensor rowMax, Tensor rowSum,
        Tensor targetLogit)
    {
        CheckCrossEntropyStatistics(logits, targets, m, vc, v0, rowMax, rowSum, targetLogit);
        OpJob j = Prepare(OpKind.CrossEntropyStatistics);
        j.P0 = CpuArena.Pointer(logits);
        j.I0 = CpuArena.Pointer(targets);
        j.P1 = CpuArena.Pointer(rowMax);
        j.P2 = CpuArena.Pointer(rowSum);
        j.P3 = CpuArena.Pointer(targetLogit);
        j.C = vc;
        j.V0 = v0;
        _pool.Run(j, m);
    }

    /// <inheritdoc/>
    public void CrossEntropyLoss(
        Tensor rowMax, Tensor rowSum, Tensor targetLogit, IntTensor targets, int m,
        int ignoreIndex, Tensor losses)
    {
        CheckCrossEntropyLoss(rowMax, rowSum, targetLogit, targets, m, losses);

        // M scalar logs: cheaper on the calling thread than waking the pool.
        CrossEntropy.Loss(
            CpuArena.Pointer(rowMax), CpuArena.Pointer(rowSum), CpuArena.Pointer(targetLogit),
            CpuArena.Pointer(targets), ignoreIndex, 0, m, CpuArena.Pointer(losses));
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(
        Tensor logits, Tensor rowMax, Tensor rowSum, IntTensor targets, int m, int vc, int v0,
        float scale, int ignoreIndex, Tensor dLogits)
    {
        CheckCrossEntropyBackward(logits, rowMax, rowSum, targets, m, vc, v0, dLogits);
        OpJob j = Prepare(OpKind.CrossEntropyBackward);
        j.P0 = CpuArena.Pointer(logits);
        j.P1 = CpuArena.Pointer(rowMax);
        j.P2 = CpuArena.Pointer(rowSum);
        j.I0 = CpuArena.Pointer(targets);
        j.P3 = CpuArena.Pointer(dLogits);
        j.C = vc;
        j.V0 = v0;
        j.Scale = scale;
        j.IgnoreIndex = ignoreIndex;
        _pool.Run(j, m);
    }

    /// <inheritdoc/>
    public double SquaredNorm(Tensor x, long n)
    {
        Need(x, n, nameof(x));
        long blocks = GradNorm.BlockCount(n);
        if (blocks > int.MaxValue)
        {
            throw new ArgumentException($"n = {n} is more than int.MaxValue blocks", nameof(n));
        }

        if (_normPartials.Length < blocks)
        {
            _normPartials = new double[Math.Max(blocks, 2L * _normPartials.Length)];
        }

        OpJob j = Prepare(OpKind.SquaredNorm);
        j.P0 = CpuArena.Pointer(x);
        j.N = n;
        j.Partials = _normPartials;
        _pool.Run(j, (int)blocks);
        j.Partials = null;

        // Blocks in order: the fixed outer level of the sum.
        double sum = 0;
        for (long b = 0; b < blocks; b++)
        {
            sum += _normPartials[b];
        }

        return sum;
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

        _job.Adam = Ops.AdamW.Constants.From(step);
        OpJob j = Prepare(OpKind.AdamW);
        j.P3 = CpuArena.Pointer(m);
        j.P4 = CpuArena.Pointer(v);
        RunElementwise(
            OpKind.AdamW, n, CpuArena.Pointer(param), CpuArena.Pointer(grad), null);
    }

    private OpJob Prepare(OpKind kind)
    {
        _job.Kind = kind;
        _job.Simd = Simd;
        return _job;
    }

    private void RunElementwise(OpKind kind, long n, float* a, float* b, float* output)
    {
        NonNegative(n, nameof(n));
        long chunks = (n + ElementChunk - 1) / ElementChunk;
        if (chunks > int.MaxValue)
        {
            throw new ArgumentException($"n = {n} elements is too many", nameof(n));
        }

        OpJob j = Prepare(kind);
        j.P0 = a;
        j.P1 = b;
        j.P2 = output;
        j.N = n;
        _pool.Run(j, (int)chunks);
    }

    private static int Strips(int columns) => (columns + ColumnStrip - 1) / ColumnStrip;

    private static void CheckIds(IntTensor ids, int count, long V, string name)
    {
        int* p = CpuArena.Pointer(ids);
        for (int i = 0; i < count; i++)
        {
            if ((uint)p[i] >= (ulong)V)
            {
                throw new ArgumentException(
                    $"{name}[{i}]: expected an id in [0, {V}), found {p[i]}", name);
            }
        }
    }

    private enum OpKind
    {
        EmbeddingForward,
        EmbeddingBackward,
        LayerNormForward,
        LayerNormBackwardInput,
        LayerNormBackwardParameters,
        GeluForward,
        GeluBackward,
        Add,
        Accumulate,
        Dropout,
        AttentionForward,
        AttentionBackward,
        CrossEntropyStatistics,
        CrossEntropyBackward,
        SquaredNorm,
        AdamW,
    }

    /// <summary>
    /// The arguments of the op being run, as plain fields; <see cref="Execute"/> maps the piece
    /// [start, end) of the pool to the op's own unit (rows, column strips, element chunks).
    /// </summary>
    private sealed class OpJob : ParallelJob
    {
        public OpKind Kind;
        public SimdLevel Simd;
        public float* P0, P1, P2, P3, P4, P5, P6, P7;
        public int* I0, I1;
        public int T, C, NH, M, V0, IgnoreIndex;
        public long N;
        public float Scale;
        public DropoutSpec Dropout;
        public Ops.AdamW.Constants Adam;
        public double[]? Partials;

        public override void Execute(int start, int end)
        {
            long e0 = (long)start * ElementChunk, e1 = Math.Min(N, (long)end * ElementChunk);
            int c0 = start * ColumnStrip, c1 = Math.Min(C, end * ColumnStrip);
            switch (Kind)
            {
                case OpKind.EmbeddingForward:
                    Embedding.Forward(I0, I1, P0, P1, T, C, start, end, P2, Simd);
                    break;
                case OpKind.EmbeddingBackward:
                    Embedding.Backward(P0, I0, I1, M, T, C, c0, c1, P1, P2, Simd);
                    break;
                case OpKind.LayerNormForward:
                    LayerNorm.Forward(P0, P1, P2, C, start, end, P3, P4, P5, Simd);
                    break;
                case OpKind.LayerNormBackwardInput:
                    LayerNorm.BackwardInput(P0, P1, P2, P3, P4, C, start, end, P5, Simd);
                    break;
                case OpKind.LayerNormBackwardParameters:
                    LayerNorm.BackwardParameters(P0, P1, P3, P4, M, C, c0, c1, P6, P7, Simd);
                    break;
                case OpKind.GeluForward:
                    Gelu.Forward(P0, e0, e1, P2, Simd);
                    break;
                case OpKind.GeluBackward:
                    Gelu.Backward(P0, P1, e0, e1, P2, Simd);
                    break;
                case OpKind.Add:
                    Residual.Add(P0, P1, e0, e1, P2, Simd);
                    break;
                case OpKind.Accumulate:
                    Residual.Accumulate(P0, e0, e1, P2, Simd);
                    break;
                case OpKind.Dropout:
                    Ops.Dropout.Forward(P0, e0, e1, Dropout, P2, Simd);
                    break;
                case OpKind.AttentionForward:
                    Attention.Forward(P0, T, C, NH, Dropout, start, end, P1, P2, Simd);
                    break;
                case OpKind.AttentionBackward:
                    Attention.Backward(P0, P1, P2, T, C, NH, Dropout, start, end, P3, Simd);
                    break;
                case OpKind.CrossEntropyStatistics:
                    CrossEntropy.Statistics(P0, I0, C, V0, start, end, P1, P2, P3, Simd);
                    break;
                case OpKind.CrossEntropyBackward:
                    CrossEntropy.Backward(
                        P0, P1, P2, I0, C, V0, Scale, IgnoreIndex, start, end, P3, Simd);
                    break;
                case OpKind.SquaredNorm:
                    for (int b = start; b < end; b++)
                    {
                        Partials![b] = GradNorm.Block(P0, N, b, Simd);
                    }

                    break;
                case OpKind.AdamW:
                    Ops.AdamW.Step(P0, P1, P3, P4, e0, e1, Adam, Simd);
                    break;
            }
        }
    }
}
