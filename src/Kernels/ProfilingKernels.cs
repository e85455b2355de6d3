using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kgglm.Kernels.Ops;

namespace Kgglm.Kernels;

/// <summary>
/// A decorator that times every kernel call of another backend (synchronising after each, so
/// device time is attributed to its op) and prints a per-op table: the opt-in
/// <c>--profile</c> view of where a step's time goes. Matmuls are keyed by layout and shape.
/// Profiling allocates (keys, dictionary); it is for measurement, not for production steps.
/// </summary>
public sealed class ProfilingKernels : IKernels
{
    private readonly IKernels _k;
    private readonly Dictionary<string, (long Calls, long Ticks, double Flops)> _ops =
        new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public ProfilingKernels(IKernels inner) => _k = inner;

    /// <inheritdoc/>
    public string Name => _k.Name + " (profiled)";

    /// <summary>Forgets what was measured so far (e.g. after warm-up steps).</summary>
    public void Reset() => _ops.Clear();

    /// <summary>The table: op, calls, total ms, share, GFLOP/s where counted.</summary>
    public string Table()
    {
        long all = _ops.Values.Sum(v => v.Ticks);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"{"op",-34} {"calls",7} {"ms",10} {"share",6} {"GFLOP/s",8}\n");
        foreach ((string op, (long calls, long ticks, double flops))
            in _ops.OrderByDescending(kv => kv.Value.Ticks))
        {
            double ms = ticks * 1000.0 / Stopwatch.Frequency;
            string rate = flops > 0
                ? (flops / (ms * 1e6)).ToString("F1", CultureInfo.InvariantCulture)
                : "";
            sb.Append(CultureInfo.InvariantCulture,
                $"{op,-34} {calls,7} {ms,10:F1} " +
                $"{100.0 * ticks / Math.Max(1, all),5:F1}% {rate,8}\n");
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public DeviceArena CreateArena(string name, long floatCapacity) =>
        _k.CreateArena(name, floatCapacity);

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        long t = Stopwatch.GetTimestamp();
        _k.Upload(source, destination);
        Done("Upload", t);
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<int> source, IntTensor destination)
    {
        long t = Stopwatch.GetTimestamp();
        _k.Upload(source, destination);
        Done("Upload", t);
    }

    /// <inheritdoc/>
    public void Download(Tensor source, Span<float> destination)
    {
        long t = Stopwatch.GetTimestamp();
        _k.Download(source, destination);
        Done("Download", t);
    }

    /// <inheritdoc/>
    public void Fill(float value, Tensor destination) =>
        Time("Fill", () => _k.Fill(value, destination));

    /// <inheritdoc/>
    public void Copy(Tensor source, long n, Tensor destination) =>
        Time("Copy", () => _k.Copy(source, n, destination));

    /// <inheritdoc/>
    public void Synchronize() => _k.Synchronize();

    /// <inheritdoc/>
    public void MatMulNN(
        Tensor a, Tensor b, Tensor bias, int m, int k, int n, Tensor c, bool accumulate) =>
        Time($"MatMulNN {m}x{k}x{n}", () => _k.MatMulNN(a, b, bias, m, k, n, c, accumulate),
            2.0 * m * k * n);

    /// <inheritdoc/>
    public PackedOperand PackRight(Tensor b, MatMulLayout layout, int k, int n)
    {
        PackedOperand? packed = null;
        Time($"PackRight {layout} {k}x{n}", () => packed = _k.PackRight(b, layout, k, n));
        return packed!;
    }

    /// <inheritdoc/>
    public void MatMulPacked(
        Tensor a, PackedOperand b, Tensor bias, int m, Tensor c, bool accumulate) =>
        Time($"MatMulPacked {b.Layout} {m}x{b.K}x{b.N}",
            () => _k.MatMulPacked(a, b, bias, m, c, accumulate), 2.0 * m * b.K * b.N);

    /// <inheritdoc/>
    public void MatMulNT(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate) =>
        Time($"MatMulNT {m}x{k}x{n}", () => _k.MatMulNT(a, b, m, k, n, c, accumulate),
            2.0 * m * k * n);

    /// <inheritdoc/>
    public void MatMulTN(Tensor a, Tensor b, int m, int k, int n, Tensor c, bool accumulate) =>
        Time($"MatMulTN {m}x{k}x{n}", () => _k.MatMulTN(a, b, m, k, n, c, accumulate),
            2.0 * m * k * n);

    /// <inheritdoc/>
    public void BiasBackward(Tensor dOutput, int m, int n, Tensor dBias) =>
        Time("BiasBackward", () => _k.BiasBackward(dOutput, m, n, dBias));

    /// <inheritdoc/>
    public void EmbeddingForward(
        IntTensor tokens, IntTensor types, Tensor wte, Tensor wpe, int B, int T, int C,
        Tensor output) =>
        Time("EmbeddingForward",
            () => _k.EmbeddingForward(tokens, types, wte, wpe, B, T, C, output));

    /// <inheritdoc/>
    public void EmbeddingBackward(
        Tensor dOutput, IntTensor tokens, IntTensor types, int B, int T, int C, int V, Tensor dWte,
        Tensor dWpe) =>
        Time("EmbeddingBackward",
            () => _k.EmbeddingBackward(dOutput, tokens, types, B, T, C, V, dWte, dWpe));

    /// <inheritdoc/>
    public void LayerNormForward(
        Tensor x, Tensor weight, Tensor bias, int N, int C, Tensor output, Tensor mean,
        Tensor rstd) =>
        Time("LayerNormForward",
            () => _k.LayerNormForward(x, weight, bias, N, C, output, mean, rstd));

    /// <inheritdoc/>
    public void LayerNormBackward(
        Tensor dOutput, Tensor x, Tensor weight, Tensor mean, Tensor rstd, int N, int C,
        Tensor dInput, Tensor dWeight, Tensor dBias) =>
        Time("LayerNormBackward", () => _k.LayerNormBackward(
            dOutput, x, weight, mean, rstd, N, C, dInput, dWeight, dBias));

    /// <inheritdoc/>
    public void GeluForward(Tensor x, long n, Tensor output) =>
        Time("GeluForward", () => _k.GeluForward(x, n, output));

    /// <inheritdoc/>
    public void GeluBackward(Tensor dOutput, Tensor x, long n, Tensor dInput) =>
        Time("GeluBackward", () => _k.GeluBackward(dOutput, x, n, dInput));

    /// <inheritdoc/>
    public void Add(Tensor a, Tensor b, long n, Tensor output) =>
        Time("Add", () => _k.Add(a, b, n, output));

    /// <inheritdoc/>
    public void Accumulate(Tensor source, long n, Tensor destination) =>
        Time("Accumulate", () => _k.Accumulate(source, n, destination));

    /// <inheritdoc/>
    public void DropoutForward(Tensor x, long n, DropoutSpec dropout, Tensor output) =>
        Time("DropoutForward", () => _k.DropoutForward(x, n, dropout, output));

    /// <inheritdoc/>
    public void DropoutBackward(Tensor dOutput, long n, DropoutSpec dropout, Tensor dInput) =>
        Time("DropoutBackward", () => _k.DropoutBackward(dOutput, n, dropout, dInput));

    /// <inheritdoc/>
    public void AttentionForward(
        Tensor qkv, int B, int T, int C, int NH, DropoutSpec dropout, Tensor output,
        Tensor probabilities) =>
        Time("AttentionForward",
            () => _k.AttentionForward(qkv, B, T, C, NH, dropout, output, probabilities));

    /// <inheritdoc/>
    public void AttentionBackward(
        Tensor dOutput, Tensor qkv, Tensor probabilities, int B, int T, int C, int NH,
        DropoutSpec dropout, Tensor dQkv) =>
        Time("AttentionBackward",
            () => _k.AttentionBackward(dOutput, qkv, probabilities, B, T, C, NH, dropout, dQkv));

    /// <inheritdoc/>
    public void AttentionDecode(
        Tensor qkv, IntTensor ancestors, int N, int t, int C, int NH, long positionStride,
        Tensor cache, Tensor output) =>
        Time("AttentionDecode",
            () => _k.AttentionDecode(qkv, ancestors, N, t, C, NH, positionStride, cache, output));

    /// <inheritdoc/>
    public void RowLogSumExp(Tensor x, int m, int n, Tensor lse) =>
        Time("RowLogSumExp", () => _k.RowLogSumExp(x, m, n, lse));

    /// <inheritdoc/>
    public void GatherRows(
        Tensor source, IntTensor indices, int m, long width, Tensor destination) =>
        Time("GatherRows", () => _k.GatherRows(source, indices, m, width, destination));

    /// <inheritdoc/>
    public void CrossEntropyStatistics(
        Tensor logits, IntTensor targets, int m, int vc, int v0, Tensor rowMax, Tensor rowSum,
        Tensor targetLogit) =>
        Time("CrossEntropyStatistics", () => _k.CrossEntropyStatistics(
            logits, targets, m, vc, v0, rowMax, rowSum, targetLogit));

    /// <inheritdoc/>
    public void CrossEntropyLoss(
        Tensor rowMax, Tensor rowSum, Tensor targetLogit, IntTensor targets, int m, int ignoreIndex,
        Tensor losses) =>
        Time("CrossEntropyLoss", () => _k.CrossEntropyLoss(
            rowMax, rowSum, targetLogit, targets, m, ignoreIndex, losses));

    /// <inheritdoc/>
    public void CrossEntropyBackward(
        Tensor logits, Tensor rowMax, Tensor rowSum, IntTensor targets, int m, int vc, int v0,
        float scale, int ignoreIndex, Tensor dLogits) =>
        Time("CrossEntropyBackward", () => _k.CrossEntropyBackward(
            logits, rowMax, rowSum, targets, m, vc, v0, scale, ignoreIndex, dLogits));

    /// <inheritdoc/>
    public double SquaredNorm(Tensor x, long n)
    {
        long t = Stopwatch.GetTimestamp();
        double result = _k.SquaredNorm(x, n);
        Done("SquaredNorm", t);
        return result;
    }

    /// <inheritdoc/>
    public void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, long n, AdamWStep step) =>
        Time("AdamW", () => _k.AdamW(param, grad, m, v, n, step));

    /// <summary>Disposes the wrapped backend.</summary>
    public void Dispose() => _k.Dispose();

    private void Time(string op, Action call, double flops = 0)
    {
        long t = Stopwatch.GetTimestamp();
        call();
        Done(op, t, flops);
    }

    private void Done(string op, long start, double flops = 0)
    {
        _k.Synchronize();
        long ticks = Stopwatch.GetTimestamp() - start;
        (long calls, long total, double f) = _ops.GetValueOrDefault(op);
        _ops[op] = (calls + 1, total + ticks, f + flops);
    }
}
