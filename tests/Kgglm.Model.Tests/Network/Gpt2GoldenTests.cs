using Kgglm.Common;
using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;
using Kgglm.Network;
using Kgglm.Training;
using Xunit.Abstractions;

namespace Kgglm.Tests.Network;

/// <summary>
/// The whole network on a tiny shape against the float64 reference: step-0 loss, every named
/// gradient (central finite differences of the reference), ten training steps, and bitwise
/// equality for 1 and 2 threads.
/// </summary>
public sealed class Gpt2GoldenTests(ITestOutputHelper output)
{
    private const int Pad = 2;

    internal static readonly Gpt2Shape Tiny =
        new(VocabSize: 40, Positions: 9, Channels: 32, Heads: 4, Layers: 2,
            TypeTokens: new TypeTokenIds(37, 38, 39), Dropout: 0.1f);

    /// <summary>[6, 9] paths; the last two are shorter walks padded with [PAD].</summary>
    internal static int[] Batch()
    {
        var rng = new SplitMix64(7);
        int[] tokens = new int[6 * 9];
        for (int b = 0; b < 6; b++)
        {
            int length = b < 4 ? 9 : 7;
            for (int t = 0; t < 9; t++)
            {
                tokens[(b * 9) + t] = t == 0 ? 4 : t == length - 1 ? 3 : t >= length ? Pad
                    : 7 + rng.NextInt(30);
            }
        }

        return tokens;
    }

    [Fact]
    public void Loss_and_every_gradient_match_the_float64_reference()
    {
        using var k = new CpuKernels(2);
        using var model = new Gpt2(k, Tiny, maxBatch: 6, ignoreId: Pad);
        WeightInit.Initialize(model, k, seed: 11);
        int[] tokens = Batch();
        int count = model.CountTargets(tokens);
        model.ZeroGradients();
        double sum = model.Step(tokens, 1f / count, MicroBatchDropout.None, backward: true);

        var reference = new ReferenceGpt2(Tiny, Download(k, model, model.Parameters), Pad);
        double refSum = reference.LossSum(tokens, out int refCount);
        Assert.Equal(refCount, count);
        output.WriteLine($"loss {sum / count:F8} reference {refSum / refCount:F8}");
        Assert.Equal(refSum / refCount, sum / count, 5);

        Dictionary<string, double[]> grads = Download(k, model, model.Gradients);
        var rng = new SplitMix64(3);
        foreach (ParameterInfo p in model.Layout.Parameters)
        {
            double[] w = reference.Weights[p.Name];
            double worst = 0;
            for (int probe = 0; probe < 6; probe++)
            {
                // Embedding rows that no token uses have zero gradient: probe used rows too.
                int i = probe < 3 && p.Name.EndsWith("wte.weight", StringComparison.Ordinal)
                    ? (tokens[1 + probe] * Tiny.Channels) + rng.NextInt(Tiny.Channels)
                    : rng.NextInt(w.Length);
                double keep = w[i], h = 1e-5;
                w[i] = keep + h;
                double plus = reference.LossSum(tokens, out _) / refCount;
                w[i] = keep - h;
                double minus = reference.LossSum(tokens, out _) / refCount;
                w[i] = keep;
                double fd = (plus - minus) / (2 * h);
                double diff = Math.Abs(grads[p.Name][i] - fd);
                worst = Math.Max(worst, diff);
                Assert.True(diff <= 2e-5 + (2e-3 * Math.Abs(fd)),
                    $"{p.Name}[{i}]: model {grads[p.Name][i]:E6}, finite differences {fd:E6}");
            }

            output.WriteLine($"{p.Name,-36} largest |model - fd| {worst:E2}");
        }
    }

    [Fact]
    public void Ten_steps_lower_the_loss_and_are_bitwise_equal_on_one_and_two_threads()
    {
        double[] one = TrainSteps(threads: 1, steps: 10);
        double[] two = TrainSteps(threads: 2, steps: 10);
        output.WriteLine(string.Join(" ", one.Select(l => l.ToString("F6"))));
        Assert.Equal(one, two);
        Assert.True(one[^1] < one[0] - 0.05, $"loss should fall: {one[0]} → {one[^1]}");
    }

    [Fact]
    public void Micro_batches_accumulate_to_the_full_batch_gradient()
    {
        using var k = new CpuKernels(1);
        using var full = new Gpt2(k, Tiny, maxBatch: 6, ignoreId: Pad);
        using var split = new Gpt2(k, Tiny, maxBatch: 2, ignoreId: Pad);
        WeightInit.Initialize(full, k, 5);
        WeightInit.Initialize(split, k, 5);
        int[] tokens = Batch();
        int count = full.CountTargets(tokens);
        full.ZeroGradients();
        full.Step(tokens, 1f / count, MicroBatchDropout.None, true);
        split.ZeroGradients();
        for (int m = 0; m < 3; m++)
        {
            split.Step(tokens.AsSpan(m * 18, 18), 1f / count, MicroBatchDropout.None, true);
        }

        float[] a = new float[full.Layout.TotalFloats], b = new float[a.Length];
        k.Download(full.Gradients, a);
        k.Download(split.Gradients, b);
        double worst = a.Zip(b).Max(x => Math.Abs(x.First - x.Second));
        Assert.True(worst < 1e-6, $"largest difference {worst}");
    }

    [Fact]
    public void Training_step_allocates_nothing_on_the_managed_heap()
    {
        using var k = new CpuKernels(2);
        using var model = new Gpt2(k, Tiny, maxBatch: 6, ignoreId: Pad);
        using var opt = new AdamWOptimizer(k, model, 0.01, 1.0);
        WeightInit.Initialize(model, k, 1);
        int[] tokens = Batch();
        void Step(long s)
        {
            model.ZeroGradients();
            model.Step(tokens, 1f / 40, new MicroBatchDropout(0.1f, 1, s, 0), true);
            opt.Step(1e-3);
        }

        Step(0);
        Step(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step(2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    internal static double[] TrainSteps(int threads, int steps)
    {
        using var k = new CpuKernels(threads);
        using var model = new Gpt2(k, Tiny, maxBatch: 3, ignoreId: Pad);
        using var opt = new AdamWOptimizer(k, model, 0.01, 1.0);
        WeightInit.Initialize(model, k, 11);
        int[] tokens = Batch();
        int count = model.CountTargets(tokens);
        var losses = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            model.ZeroGradients();
            double sum = 0;
            for (int m = 0; m < 2; m++)
            {
                sum += model.Step(tokens.AsSpan(m * 27, 27), 1f / count,
                    new MicroBatchDropout(0.1f, 11, s, m), true);
            }

            opt.Step(3e-3);
            losses[s] = sum / count;
        }

        return losses;
    }

    private static Dictionary<string, double[]> Download(IKernels k, Gpt2 model, Tensor arena)
    {
        float[] all = new float[model.Layout.TotalFloats];
        k.Download(arena, all);
        return model.Layout.Parameters.ToDictionary(
            p => p.Name,
            p => all.AsSpan((int)p.Offset, (int)p.Count).ToArray()
                .Select(f => (double)f).ToArray());
    }
}
