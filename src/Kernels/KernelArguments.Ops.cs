using Kgglm.Kernels.Ops;

namespace Kgglm.Kernels;

/// <summary>
/// The shape contract of each op of <see cref="IKernels"/>, checked by every backend before it
/// launches anything: sizes in range and every tensor long enough. What a backend checks on
/// top (the CPU engine reads token ids; a device backend cannot without a copy) stays there.
/// </summary>
internal static partial class KernelArguments
{
    public static void CheckEmbeddingForward(
        IntTensor tokens, IntTensor types, Tensor wpe, int B, int T, int C, Tensor output)
    {
        Positive(B, nameof(B));
        Positive(T, nameof(T));
        Positive(C, nameof(C));
        Need(tokens, (long)B * T, nameof(tokens));
        Need(wpe, (long)T * C, nameof(wpe));
        Need(output, (long)B * T * C, nameof(output));
        if (!types.IsEmpty)
        {
            Need(types, (long)B * T, nameof(types));
        }
    }

    public static void CheckEmbeddingBackward(
        Tensor dOutput, IntTensor tokens, IntTensor types, int B, int T, int C, int V,
        Tensor dWte, Tensor dWpe)
    {
        Positive(B, nameof(B));
        Positive(T, nameof(T));
        Positive(C, nameof(C));
        Need(dOutput, (long)B * T * C, nameof(dOutput));
        Need(tokens, (long)B * T, nameof(tokens));
        Need(dWte, (long)V * C, nameof(dWte));
        Need(dWpe, (long)T * C, nameof(dWpe));
        if (!types.IsEmpty)
        {
            Need(types, (long)B * T, nameof(types));
        }
    }

    public static void CheckLayerNormForward(
        Tensor x, Tensor weight, Tensor bias, int N, int C, Tensor output, Tensor mean,
        Tensor rstd)
    {
        Positive(C, nameof(C));
        NonNegative(N, nameof(N));
        Need(x, (long)N * C, nameof(x));
        Need(weight, C, nameof(weight));
        Need(bias, C, nameof(bias));
        Need(output, (long)N * C, nameof(output));
        Need(mean, N, nameof(mean));
        Need(rstd, N, nameof(rstd));
    }

    public static void CheckLayerNormBackward(
        Tensor dOutput, Tensor x, Tensor weight, Tensor mean, Tensor rstd, int N, int C,
        Tensor dInput, Tensor dWeight, Tensor dBias)
    {
        Positive(C, nameof(C));
        NonNegative(N, nameof(N));
        Need(dOutput, (long)N * C, nameof(dOutput));
        Need(x, (long)N * C, nameof(x));
        Need(weight, C, nameof(weight));
        Need(mean, N, nameof(mean));
        Need(rstd, N, nameof(rstd));
        Need(dInput, (long)N * C, nameof(dInput));
        Need(dWeight, C, nameof(dWeight));
        Need(dBias, C, nameof(dBias));
    }

    /// <summary>Sizes of AttentionForward / AttentionBackward; tensors separately.</summary>
    public static void CheckAttention(int B, int T, int C, int NH, DropoutSpec dropout)
    {
        Positive(B, nameof(B));
        Positive(T, nameof(T));
        Positive(C, nameof(C));
        Positive(NH, nameof(NH));
        if (T > Attention.MaxT)
        {
            throw new ArgumentException($"T: expected ≤ {Attention.MaxT}, found {T}", nameof(T));
        }

        if (C % NH != 0)
        {
            throw new ArgumentException(
                $"C: expected a multiple of NH = {NH}, found {C}", nameof(C));
        }

        CheckDropout(dropout);
    }

    public static void CheckAttentionForward(
        Tensor qkv, int B, int T, int C, int NH, DropoutSpec dropout, Tensor output,
        Tensor probabilities)
    {
        CheckAttention(B, T, C, NH, dropout);
        Need(qkv, (long)B * T * 3 * C, nameof(qkv));
        Need(output, (long)B * T * C, nameof(output));
        Need(probabilities, (long)B * NH * T * T, nameof(probabilities));
    }

    public static void CheckAttentionBackward(
        Tensor dOutput, Tensor qkv, Tensor probabilities, int B, int T, int C, int NH,
        DropoutSpec dropout, Tensor dQkv)
    {
        CheckAttention(B, T, C, NH, dropout);
        Need(dOutput, (long)B * T * C, nameof(dOutput));
        Need(qkv, (long)B * T * 3 * C, nameof(qkv));
        Need(probabilities, (long)B * NH * T * T, nameof(probabilities));
        Need(dQkv, (long)B * T * 3 * C, nameof(dQkv));
    }

    /// <summary>The ancestor ids' range is the backend's to check (they live on the device).
    /// </summary>
    public static void CheckAttentionDecode(
        Tensor qkv, IntTensor ancestors, int N, int t, int C, int NH, long positionStride,
        Tensor cache, Tensor output)
    {
        Positive(N, nameof(N));
        Positive(C, nameof(C));
        Positive(NH, nameof(NH));
        if (t < 0 || t >= Attention.MaxT || C % NH != 0 || positionStride < (long)N * 2 * C)
        {
            throw new ArgumentException(
                $"attention decode: t = {t} (< {Attention.MaxT}), C = {C} " +
                $"(multiple of NH = {NH}), positionStride = {positionStride} " +
                $"(≥ N·2C = {(long)N * 2 * C})");
        }

        Need(qkv, (long)N * 3 * C, nameof(qkv));
        Need(cache, (t * positionStride) + ((long)N * 2 * C), nameof(cache));
        Need(output, (long)N * C, nameof(output));
        if (t > 0)
        {
            Need(ancestors, (long)N * t, nameof(ancestors));
        }
    }

    public static void CheckRowLogSumExp(Tensor x, int m, int n, Tensor lse)
    {
        NonNegative(m, nameof(m));
        Positive(n, nameof(n));
        Need(x, (long)m * n, nameof(x));
        Need(lse, m, nameof(lse));
    }

    public static void CheckCrossEntropyStatistics(
        Tensor logits, IntTensor targets, int m, int vc, int v0, Tensor rowMax, Tensor rowSum,
        Tensor targetLogit)
    {
        NonNegative(m, nameof(m));
        NonNegative(vc, nameof(vc));
        NonNegative(v0, nameof(v0));
        Need(logits, (long)m * vc, nameof(logits));
        Need(targets, m, nameof(targets));
        Need(rowMax, m, nameof(rowMax));
        Need(rowSum, m, nameof(rowSum));
        Need(targetLogit, m, nameof(targetLogit));
    }

    public static void CheckCrossEntropyLoss(
        Tensor rowMax, Tensor rowSum, Tensor targetLogit, IntTensor targets, int m,
        Tensor losses)
    {
        NonNegative(m, nameof(m));
        Need(rowMax, m, nameof(rowMax));
        Need(rowSum, m, nameof(rowSum));
        Need(targetLogit, m, nameof(targetLogit));
        Need(targets, m, nameof(targets));
        Need(losses, m, nameof(losses));
    }

    public static void CheckCrossEntropyBackward(
        Tensor logits, Tensor rowMax, Tensor rowSum, IntTensor targets, int m, int vc, int v0,
        Tensor dLogits)
    {
        NonNegative(m, nameof(m));
        NonNegative(vc, nameof(vc));
        NonNegative(v0, nameof(v0));
        Need(logits, (long)m * vc, nameof(logits));
        Need(rowMax, m, nameof(rowMax));
        Need(rowSum, m, nameof(rowSum));
        Need(targets, m, nameof(targets));
        Need(dLogits, (long)m * vc, nameof(dLogits));
    }
}
