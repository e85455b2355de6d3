using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Kernels.Tests.OpsSupport;

namespace Kgglm.Kernels.Tests.Ops;

/// <summary>
/// Chunked cross-entropy against the unchunked float64 reference for several chunk sizes
/// (loss rtol 1e-5 + atol 1e-5; dLogits rtol 1e-5 + atol 1e-7·scale), ignored rows give 0 loss
/// and 0 gradient, in-place backward, thread-count bit equality, and zero managed allocation
/// per call for every op of this part.
/// </summary>
public class CrossEntropyTests
{
    private const int Ignore = -100;

    public static TheoryData<SimdLevel> Levels => Check.Levels();

    [Theory]
    [MemberData(nameof(Levels))]
    public void ChunkedMatchesUnchunkedReference(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        foreach (int chunk in new[] { 1, 7, 16, 37, 100, 257 })
        {
            Run(kernels, 6, 257, chunk);
        }
    }

    [Fact]
    public void ThreadCountDoesNotChangeBits()
    {
        float[][] r = new float[3][];
        for (int threads = 1; threads <= 3; threads++)
        {
            using var kernels = new CpuKernels(threads);
            r[threads - 1] = Run(kernels, 13, 300, 64);
        }

        Check.Bitwise(r[0], r[1], "2 threads");
        Check.Bitwise(r[0], r[2], "3 threads");
    }

    [Fact]
    public void ReferenceGradientMatchesFiniteDifferences()
    {
        const int M = 2, V = 5;
        float[] logits = Check.Random(M * V, 3, 3f);
        int[] targets = [2, 4];
        var losses = new double[M];
        var grad = new double[M * V];
        CrossEntropy.Reference(logits, targets, M, V, Ignore, 0.5, losses, grad);
        double[] x = Check.ToDouble(logits);
        double Loss()
        {
            double sum = 0;
            for (int row = 0; row < M; row++)
            {
                double max = x.Skip(row * V).Take(V).Max();
                double z = x.Skip(row * V).Take(V).Sum(v => Math.Exp(v - max));
                sum += 0.5 * (Math.Log(z) + max - x[row * V + targets[row]]);
            }

            return sum;
        }

        FiniteDifference.Assert(x, Loss, grad, "dLogits");
    }

    [Fact]
    public void NoManagedAllocationPerCall()
    {
        using var kernels = new CpuKernels(2);
        using var s = new Scratch(1 << 18);
        const int n = 40000, B = 2, T = 9, C = 64, NH = 4, V = 50;
        Tensor a = s.Floats(n, Check.Random(n, 1)), b = s.Floats(n, Check.Random(n, 2));
        Tensor c = s.Floats(n), m = s.Floats(n), v = s.Floats(n);
        IntTensor tok = s.Ints(Enumerable.Range(0, B * T).Select(i => i % V).ToArray());
        Tensor wte = s.Floats(V * C, Check.Random(V * C, 3)), wpe = s.Floats(T * C);
        Tensor mean = s.Floats(B * T), rstd = s.Floats(B * T), w = s.Floats(C), bias = s.Floats(C);
        Tensor qkv = s.Floats(B * T * 3 * C, Check.Random(B * T * 3 * C, 4));
        Tensor probs = s.Floats(B * NH * T * T);
        var drop = new DropoutSpec(0.1f, 1, 2, 3);
        var adam = new AdamWStep(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, 1f);
        Tensor rowMax = s.Floats(B * T), rowSum = s.Floats(B * T), tl = s.Floats(B * T);
        var calls = new (string Name, Action Call)[]
        {
            ("embedding", () => kernels.EmbeddingForward(tok, default, wte, wpe, B, T, C, c)),
            ("embedding'", () => kernels.EmbeddingBackward(a, tok, default, B, T, C, V, m, v)),
            ("layernorm", () => kernels.LayerNormForward(a, w, bias, B * T, C, c, mean, rstd)),
            ("layernorm'", () => kernels.LayerNormBackward(
                b, a, w, mean, rstd, B * T, C, c, m, v)),
            ("gelu", () => kernels.GeluForward(a, n, c)),
            ("gelu'", () => kernels.GeluBackward(b, a, n, c)),
            ("add", () => kernels.Add(a, b, n, c)),
            ("accumulate", () => kernels.Accumulate(a, n, c)),
            ("dropout", () => kernels.DropoutForward(a, n, drop, c)),
            ("dropout'", () => kernels.DropoutBackward(a, n, drop, c)),
            ("attention", () => kernels.AttentionForward(qkv, B, T, C, NH, drop, c, probs)),
            ("attention'", () => kernels.AttentionBackward(
                a, qkv, probs, B, T, C, NH, drop, m)),
            ("ce stats", () => kernels.CrossEntropyStatistics(
                a, tok, B * T, V, 0, rowMax, rowSum, tl)),
            ("ce loss", () => kernels.CrossEntropyLoss(rowMax, rowSum, tl, tok, B * T, -1, c)),
            ("ce'", () => kernels.CrossEntropyBackward(
                a, rowMax, rowSum, tok, B * T, V, 0, 0.1f, -1, m)),
            ("norm", () => kernels.SquaredNorm(a, n)),
            ("adamw", () => kernels.AdamW(c, b, m, v, n, adam)),
        };
        foreach ((string name, Action call) in calls)
        {
            Assert.True(Check.Allocated(call) == 0, $"{name} allocates");
        }

        s.CheckGuards();
    }

    [Fact]
    public void BadLengthsNameTheArgument()
    {
        using var kernels = new CpuKernels(1);
        using var s = new Scratch(1 << 12);
        Tensor small = s.Floats(10), big = s.Floats(100);
        var e = Assert.Throws<ArgumentException>(() => kernels.Add(big, small, 50, big));
        Assert.Contains("b: expected at least 50 elements, found 10", e.Message);
    }

    private static float[] Run(CpuKernels kernels, int M, int V, int chunk)
    {
        using var s = new Scratch(1 << 18);
        float[] logits = Check.Random(M * V, V + chunk, 8f);
        var rng = new Random(M);
        int[] targets = Enumerable.Range(0, M).Select(_ => rng.Next(V)).ToArray();
        targets[1] = Ignore;
        targets[M - 1] = V - 1;
        int counted = targets.Count(t => t != Ignore);
        float scale = 1f / counted;
        IntTensor tt = s.Ints(targets);
        Tensor rowMax = s.Floats(M), rowSum = s.Floats(M), tl = s.Floats(M), loss = s.Floats(M);
        Tensor buf = s.Floats((long)M * chunk);
        var dLogits = new float[M * V];

        // Pass 1 chunk by chunk (the caller lays each chunk out as [M, Vc]), then the losses.
        for (int v0 = 0; v0 < V; v0 += chunk)
        {
            int vc = Math.Min(chunk, V - v0);
            Tensor view = buf.Slice(0, (long)M * vc);
            Gather(logits, M, V, v0, vc, CpuArena.Span(view));
            kernels.CrossEntropyStatistics(view, tt, M, vc, v0, rowMax, rowSum, tl);
        }

        kernels.CrossEntropyLoss(rowMax, rowSum, tl, tt, M, Ignore, loss);

        // Pass 2 in place, scattered back to [M, V].
        for (int v0 = 0; v0 < V; v0 += chunk)
        {
            int vc = Math.Min(chunk, V - v0);
            Tensor view = buf.Slice(0, (long)M * vc);
            Gather(logits, M, V, v0, vc, CpuArena.Span(view));
            kernels.CrossEntropyBackward(view, rowMax, rowSum, tt, M, vc, v0, scale, Ignore, view);
            Span<float> d = CpuArena.Span(view);
            for (int row = 0; row < M; row++)
            {
                d.Slice(row * vc, vc).CopyTo(dLogits.AsSpan(row * V + v0, vc));
            }
        }

        var eLoss = new double[M];
        var eGrad = new double[M * V];
        CrossEntropy.Reference(logits, targets, M, V, Ignore, scale, eLoss, eGrad);
        Check.Close(CpuArena.Span(loss), eLoss, 1e-5, 1e-5, $"loss chunk={chunk}");
        Check.Close(dLogits, eGrad, 1e-5, 1e-7 * scale, $"dLogits chunk={chunk}");
        Assert.Equal(0f, CpuArena.Span(loss)[1]);
        Assert.All(dLogits.AsSpan(V, V).ToArray(), g => Assert.Equal(0f, g));
        s.CheckGuards();
        return [.. CpuArena.Span(loss), .. dLogits];
    }

    private static void Gather(float[] logits, int M, int V, int v0, int vc, Span<float> chunk)
    {
        for (int row = 0; row < M; row++)
        {
            logits.AsSpan(row * V + v0, vc).CopyTo(chunk.Slice(row * vc, vc));
        }
    }
}
