using ILGPU;
using ILGPU.Runtime;
using Kgglm.Kernels.Gpu.Device;
using AV = ILGPU.ArrayView<float>;
using AVd = ILGPU.ArrayView<double>;
using AVi = ILGPU.ArrayView<int>;

namespace Kgglm.Kernels.Gpu;

/// <summary>
/// Every kernel of <c>Device/</c>, compiled and loaded once per accelerator; the fields are the
/// launch delegates (default stream). Implicitly grouped kernels take their extent as the first
/// argument; the matmul takes a <see cref="KernelConfig"/> with its tile and shared memory.
/// </summary>
internal sealed class KernelTable
{
    public readonly Action<Index1D, AV, float> Fill;
    public readonly Action<Index1D, AV, AV> Copy;
    public readonly Action<Index1D, AV, AV, AV> Add;
    public readonly Action<Index1D, AV, AV> Accumulate;
    public readonly Action<Index1D, AV, AV> GeluForward;
    public readonly Action<Index1D, AV, AV, AV> GeluBackward;
    public readonly Action<Index1D, AV, AV, DropoutArgs> Dropout;
    public readonly Action<KernelConfig, AV, AV, AV, AV, MatMulArgs> MatMul;
    public readonly Action<Index1D, AV, AV, int, int> BiasBackward;
    public readonly Action<Index1D, AVi, AVi, AV, AV, AV, int, int, int> EmbeddingForward;
    public readonly Action<Index1D, AV, AVi, AVi, AV, AV, int, int, int, int> EmbeddingBackward;
    public readonly Action<Index1D, AV, AV, AV, AV, AV, AV, int> LayerNormForward;
    public readonly Action<Index1D, AV, AV, AV, AV, AV, AV, int> LayerNormBackwardInput;
    public readonly Action<Index1D, AV, AV, AV, AV, AV, AV, int, int> LayerNormBackwardParameters;
    public readonly Action<Index1D, AV, AV, AttentionArgs> AttentionProbabilities;
    public readonly Action<Index1D, AV, AV, AV, AttentionArgs, DropoutArgs> AttentionOutput;
    public readonly Action<Index1D, AV, AV, AV, AV, AttentionArgs, DropoutArgs> AttentionScoreGrad;
    public readonly Action<Index1D, AV, AV, AV, AV, AV, AttentionArgs, DropoutArgs>
        AttentionInputGrad;
    public readonly Action<Index1D, AV, AVi, AV, AV, AV, int, int> CrossEntropyStatistics;
    public readonly Action<Index1D, AV, AV, AV, AVi, AV, int> CrossEntropyLoss;
    public readonly Action<Index1D, AV, AV, AV, AVi, AV, int, int, float, int>
        CrossEntropyBackward;
    public readonly Action<Index1D, AV, AVd, long> NormLanes;
    public readonly Action<Index1D, AVd, AVd, int> NormReduce;
    public readonly Action<Index1D, AV, AV, AV, AV, AdamArgs> AdamW;
    public readonly Action<Index1D, AV, AV, DecodeArgs> DecodeAppend;
    public readonly Action<Index1D, AV, AV, AVi, AV, DecodeArgs> DecodeProbabilities;
    public readonly Action<Index1D, AV, AVi, AV, AV, DecodeArgs> DecodeOutput;
    public readonly Action<Index1D, AV, AV, int> RowLogSumExp;
    public readonly Action<Index1D, AV, AVi, AV, long> GatherRows;

    /// <summary>Compiles and loads every kernel for <paramref name="a"/>.</summary>
    public KernelTable(Accelerator a)
    {
        Fill = a.LoadAutoGroupedStreamKernel<Index1D, AV, float>(ElementwiseKernels.Fill);
        Copy = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV>(ElementwiseKernels.Copy);
        Add = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV>(ElementwiseKernels.Add);
        Accumulate = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV>(
            ElementwiseKernels.Accumulate);
        GeluForward = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV>(
            ElementwiseKernels.GeluForward);
        GeluBackward = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV>(
            ElementwiseKernels.GeluBackward);
        Dropout = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, DropoutArgs>(
            ElementwiseKernels.Dropout);
        MatMul = a.LoadStreamKernel<AV, AV, AV, AV, MatMulArgs>(MatMulKernels.MatMul);
        BiasBackward = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, int, int>(
            MatMulKernels.BiasBackward);
        EmbeddingForward = a.LoadAutoGroupedStreamKernel<
            Index1D, AVi, AVi, AV, AV, AV, int, int, int>(RowKernels.EmbeddingForward);
        EmbeddingBackward = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AVi, AVi, AV, AV, int, int, int, int>(RowKernels.EmbeddingBackward);
        LayerNormForward = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, AV, AV, AV, int>(
            RowKernels.LayerNormForward);
        LayerNormBackwardInput = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AV, AV, AV, AV, AV, int>(RowKernels.LayerNormBackwardInput);
        LayerNormBackwardParameters = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AV, AV, AV, AV, AV, int, int>(RowKernels.LayerNormBackwardParameters);
        AttentionProbabilities = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AttentionArgs>(
            AttentionKernels.Probabilities);
        AttentionOutput = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AV, AV, AttentionArgs, DropoutArgs>(AttentionKernels.Output);
        AttentionScoreGrad = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AV, AV, AV, AttentionArgs, DropoutArgs>(AttentionKernels.ScoreGradient);
        AttentionInputGrad = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AV, AV, AV, AV, AttentionArgs, DropoutArgs>(
            AttentionKernels.InputGradient);
        CrossEntropyStatistics = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AVi, AV, AV, AV, int, int>(LossKernels.Statistics);
        CrossEntropyLoss = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, AVi, AV, int>(
            LossKernels.Loss);
        CrossEntropyBackward = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AV, AV, AVi, AV, int, int, float, int>(LossKernels.Backward);
        NormLanes = a.LoadAutoGroupedStreamKernel<Index1D, AV, AVd, long>(
            LossKernels.NormLanesKernel);
        NormReduce = a.LoadAutoGroupedStreamKernel<Index1D, AVd, AVd, int>(
            LossKernels.NormReduce);
        AdamW = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, AV, AV, AdamArgs>(
            LossKernels.AdamW);
        DecodeAppend = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, DecodeArgs>(
            DecodeKernels.Append);
        DecodeProbabilities = a.LoadAutoGroupedStreamKernel<
            Index1D, AV, AV, AVi, AV, DecodeArgs>(DecodeKernels.Probabilities);
        DecodeOutput = a.LoadAutoGroupedStreamKernel<Index1D, AV, AVi, AV, AV, DecodeArgs>(
            DecodeKernels.Output);
        RowLogSumExp = a.LoadAutoGroupedStreamKernel<Index1D, AV, AV, int>(
            DecodeKernels.RowLogSumExp);
        GatherRows = a.LoadAutoGroupedStreamKernel<Index1D, AV, AVi, AV, long>(
            DecodeKernels.GatherRows);
    }

    /// <summary>The classes whose public static void methods are kernels (PTX test).</summary>
    public static IReadOnlyList<Type> KernelClasses { get; } =
    [
        typeof(ElementwiseKernels), typeof(MatMulKernels), typeof(RowKernels),
        typeof(AttentionKernels), typeof(LossKernels), typeof(DecodeKernels),
    ];
}
