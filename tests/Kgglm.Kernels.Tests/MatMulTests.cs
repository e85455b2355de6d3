using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Tests.Support;

namespace Kgglm.Tests;

/// <summary>
/// The CPU matmuls against <see cref="MatMul.Reference"/> (float64). Tolerance: every element
/// within <see cref="Tolerance"/> · Σ|terms| (|c0| + |bias| + Σ_k |a||b|), with the worst
/// element reported; integer-valued inputs must match exactly; every instruction set, thread
/// count and tiling must give the same bits.
/// </summary>
public sealed class MatMulTests
{
    /// <summary>
    /// A float32 FMA chain of K terms is within about K·2⁻²⁴ of Σ|terms|; 2⁻¹⁶ allows K up to
    /// 256 at the worst case and far more in practice, and still catches one term of 1/K lost.
    /// </summary>
    private const double Tolerance = 1.0 / (1 << 16);

    private static readonly MatMulLayout[] Layouts =
        [MatMulLayout.NN, MatMulLayout.NT, MatMulLayout.TN];

    public static TheoryData<SimdLevel> Levels()
    {
        TheoryData<SimdLevel> data = [];
        foreach (SimdLevel level in Enum.GetValues<SimdLevel>())
        {
            if (SimdDetection.IsSupported(level))
            {
                data.Add(level);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void AllTinySizesMatchTheReference(SimdLevel level)
    {
        using CpuKernels kernels = new(1, level);
        Random rng = new(1);
        for (int m = 0; m <= 5; m++)
        {
            for (int k = 0; k <= 5; k++)
            {
                for (int n = 0; n <= 5; n++)
                {
                    foreach (MatMulLayout layout in Layouts)
                    {
                        bool accumulate = n % 2 == 1;
                        CheckAgainstReference(kernels, rng, layout, m, k, n, accumulate);
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void OddSizesMatchTheReference(SimdLevel level)
    {
        using CpuKernels kernels = new(2, level);
        Random rng = new(2);
        int[] ms = [1, 5, 11, 12, 13, 25];
        int[] ns = [1, 7, 15, 16, 17, 31, 33, 63, 65];
        int[] ks = [1, 8, 255, 257];
        foreach (int m in ms)
        {
            foreach (int n in ns)
            {
                foreach (int k in ks)
                {
                    foreach (MatMulLayout layout in Layouts)
                    {
                        CheckAgainstReference(kernels, rng, layout, m, k, n, accumulate: k == 8);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(MatMulLayout.NN, 97, 1600, 1100)]
    [InlineData(MatMulLayout.NT, 130, 770, 541)]
    [InlineData(MatMulLayout.TN, 64, 1500, 300)]
    public void LargerShapesMatchTheReference(MatMulLayout layout, int m, int k, int n)
    {
        // N > NC and K > KC: several column and K blocks, edges on both.
        using CpuKernels kernels = new(2);
        CheckAgainstReference(kernels, new Random(3), layout, m, k, n, accumulate: true);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void IntegerInputsAreExact(SimdLevel level)
    {
        // |terms| ≤ 600·16 + 20: every partial sum is an integer below 2²⁴, so no rounding.
        using CpuKernels kernels = new(2, level);
        Random rng = new(4);
        foreach (MatMulLayout layout in Layouts)
        {
            foreach ((int m, int k, int n) in new[] { (1, 1, 1), (13, 600, 37), (70, 300, 130) })
            {
                float[] a = Numerics.Random(rng, (long)m * k, 4);
                float[] b = Numerics.Random(rng, (long)k * n, 4);
                float[] bias = layout == MatMulLayout.NN ? Numerics.Random(rng, n, 10) : [];
                float[] c0 = Numerics.Random(rng, (long)m * n, 10);
                float[] got = Run(kernels, layout, a, b, bias, m, k, n, c0, accumulate: true);
                double[] expected = MatMul.Reference(layout, a, b, bias, m, k, n, c0, true);
                Numerics.AssertExact(got, expected, $"{layout} {m}x{k}x{n}");
            }
        }
    }

    [Theory]
    [InlineData(MatMulLayout.NN, 200, 700, 333)]
    [InlineData(MatMulLayout.NT, 231, 300, 4097)]
    [InlineData(MatMulLayout.TN, 150, 1000, 100)]
    [InlineData(MatMulLayout.NT, 3, 500, 3001)]
    public void ThreadsAndInstructionSetsGiveTheSameBits(MatMulLayout layout, int m, int k, int n)
    {
        Random rng = new(5);
        float[] a = Numerics.Random(rng, (long)m * k);
        float[] b = Numerics.Random(rng, (long)k * n);
        float[] bias = layout == MatMulLayout.NN ? Numerics.Random(rng, n) : [];
        float[] c0 = Numerics.Random(rng, (long)m * n);
        float[]? first = null;
        foreach (SimdLevel level in Enum.GetValues<SimdLevel>().Where(SimdDetection.IsSupported))
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using CpuKernels kernels = new(threads, level);
                float[] got = Run(kernels, layout, a, b, bias, m, k, n, c0, accumulate: true);
                if (first is null)
                {
                    first = got;
                }
                else
                {
                    Numerics.AssertBitwise(first, got, $"{layout} {level} {threads} threads");
                }
            }
        }
    }

    [Theory]
    [InlineData(MatMulLayout.NN)]
    [InlineData(MatMulLayout.NT)]
    [InlineData(MatMulLayout.TN)]
    public void SubProblemsGiveTheSameBits(MatMulLayout layout)
    {
        // C's element (i, j) must not depend on where its tile sits: the leading [m', n'] block
        // of a smaller problem over the same data equals the big one's, bit for bit.
        const int m = 53, k = 300, n = 90;
        Random rng = new(6);
        float[] a = Numerics.Random(rng, m * k);
        float[] b = Numerics.Random(rng, k * n);
        using CpuKernels kernels = new(2);
        float[] full = Run(kernels, layout, a, b, [], m, k, n, new float[m * n], false);
        foreach ((int ms, int ns) in new[] { (1, 1), (12, 32), (13, 33), (41, 17), (53, 89) })
        {
            float[] subA = new float[ms * k];
            float[] subB = new float[k * ns];
            for (int i = 0; i < ms; i++)
            {
                for (int p = 0; p < k; p++)
                {
                    subA[layout == MatMulLayout.TN ? (p * ms) + i : (i * k) + p] =
                        a[layout == MatMulLayout.TN ? (p * m) + i : (i * k) + p];
                }
            }

            for (int p = 0; p < k; p++)
            {
                for (int j = 0; j < ns; j++)
                {
                    subB[layout == MatMulLayout.NT ? (j * k) + p : (p * ns) + j] =
                        b[layout == MatMulLayout.NT ? (j * k) + p : (p * n) + j];
                }
            }

            float[] sub = Run(
                kernels, layout, subA, subB, [], ms, k, ns, new float[ms * ns], false);
            for (int i = 0; i < ms; i++)
            {
                Numerics.AssertBitwise(
                    full.AsSpan(i * n, ns), sub.AsSpan(i * ns, ns), $"{layout} {ms}x{ns} row {i}");
            }
        }
    }

    [Fact]
    public void OverwriteIgnoresOldContentsAndBiasIsAddedOnce()
    {
        using CpuKernels kernels = new(2);
        Random rng = new(7);
        const int m = 30, k = 40, n = 50;
        float[] a = Numerics.Random(rng, m * k, 3);
        float[] b = Numerics.Random(rng, k * n, 3);
        float[] bias = Numerics.Random(rng, n, 3);
        float[] garbage = new float[m * n];
        Array.Fill(garbage, float.NaN);
        float[] got = Run(kernels, MatMulLayout.NN, a, b, bias, m, k, n, garbage, false);
        double[] expected = MatMul.Reference(MatMulLayout.NN, a, b, bias, m, k, n, [], false);
        Numerics.AssertExact(got, expected, "overwrite with bias");

        // Accumulating twice from zero is the same as doubling.
        float[] once = Run(kernels, MatMulLayout.NN, a, b, [], m, k, n, new float[m * n], true);
        float[] twice = Run(kernels, MatMulLayout.NN, a, b, [], m, k, n, once, true);
        Numerics.AssertExact(twice, once.Select(x => 2.0 * x).ToArray(), "accumulate twice");
    }

    [Fact]
    public void EmptyInnerDimensionGivesStartValuePlusBias()
    {
        using CpuKernels kernels = new(1);
        float[] bias = [1, 2, 3];
        float[] c0 = [10, 20, 30, 40, 50, 60];
        Numerics.AssertExact(
            Run(kernels, MatMulLayout.NN, [], [], bias, 2, 0, 3, c0, false), [1, 2, 3, 1, 2, 3],
            "k=0 overwrite");
        Numerics.AssertExact(
            Run(kernels, MatMulLayout.NN, [], [], bias, 2, 0, 3, c0, true),
            [11, 22, 33, 41, 52, 63], "k=0 accumulate");
        Numerics.AssertExact(
            Run(kernels, MatMulLayout.TN, [], [], [], 2, 0, 3, c0, false), new double[6],
            "k=0 TN");
    }

    [Fact]
    public void TooShortTensorsAreRefusedWithTheirName()
    {
        using CpuKernels kernels = new(1);
        using DeviceArena arena = kernels.CreateArena("t", 1024);
        Tensor a = arena.AllocateFloat(6);
        Tensor b = arena.AllocateFloat(12);
        Tensor c = arena.AllocateFloat(8);
        ArgumentException e = Assert.Throws<ArgumentException>(
            () => kernels.MatMulNN(a, b, default, 2, 3, 4, arena.AllocateFloat(7), false));
        Assert.Equal("c", e.ParamName);
        Assert.Contains("8", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => kernels.MatMulNT(a, b, 2, 4, 3, c, false));
        Assert.Equal("a", e.ParamName);
        e = Assert.Throws<ArgumentException>(
            () => kernels.MatMulNN(a, b, arena.AllocateFloat(3), 2, 3, 4, c, false));
        Assert.Equal("bias", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(
            () => kernels.MatMulTN(a, b, -1, 3, 4, c, false));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 100)]
    [InlineData(2304, 768)]
    [InlineData(300, 1001)]
    public void BiasBackwardMatchesTheReferenceOnAnyThreads(int m, int n)
    {
        Random rng = new(8);
        float[] dOutput = Numerics.Random(rng, (long)m * n);
        float[] dBias0 = Numerics.Random(rng, n);
        double[] expected = MatMul.ReferenceBiasBackward(dOutput, m, n, dBias0);
        double[] magnitude = MatMul.ReferenceBiasBackward(
            Numerics.Abs(dOutput), m, n, Numerics.Abs(dBias0));
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using CpuKernels kernels = new(threads);
            using GuardedArena arena = new(kernels, dOutput.Length + n + 1024);
            Tensor dOut = arena.Allocate(dOutput, "dOutput");
            Tensor dBias = arena.Allocate(dBias0, "dBias");
            kernels.BiasBackward(dOut, m, n, dBias);
            arena.CheckGuards();
            float[] got = GuardedArena.Read(dBias);

            // Rows summed in float32: the error grows with M, hence M·2⁻²⁴ per unit magnitude.
            Numerics.AssertClose(got, expected, magnitude, (m + 2) / (double)(1 << 23), "dBias");
            if (first is null)
            {
                first = got;
            }
            else
            {
                Numerics.AssertBitwise(first, got, $"dBias {threads} threads");
            }
        }
    }

    [Fact]
    public void CallsAllocateNothingAfterWarmUp()
    {
        using CpuKernels kernels = new(2);
        using DeviceArena arena = kernels.CreateArena("t", 1 << 20);
        const int m = 200, k = 256, n = 300;
        Tensor a = arena.AllocateFloat(m * k);
        Tensor b = arena.AllocateFloat(k * n);
        Tensor bias = arena.AllocateFloat(n);
        Tensor c = arena.AllocateFloat(m * n);
        void All()
        {
            kernels.MatMulNN(a, b, bias, m, k, n, c, false);
            kernels.MatMulNT(a, b, m, k, n, c, true);
            kernels.MatMulTN(a, b, m, k, n, c, true);
            kernels.MatMulNN(a, b, default, 3, k, 5, c, false);
            kernels.BiasBackward(c, m, n, bias);
        }

        // Warm up past tiered compilation, whose re-JIT may allocate on the calling thread.
        for (int i = 0; i < 40; i++)
        {
            All();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            All();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void CheckAgainstReference(
        CpuKernels kernels, Random rng, MatMulLayout layout, int m, int k, int n, bool accumulate)
    {
        float[] a = Numerics.Random(rng, (long)m * k);
        float[] b = Numerics.Random(rng, (long)k * n);
        float[] bias = layout == MatMulLayout.NN && n % 3 != 1 ? Numerics.Random(rng, n) : [];
        float[] c0 = Numerics.Random(rng, (long)m * n);
        float[] got = Run(kernels, layout, a, b, bias, m, k, n, c0, accumulate);
        double[] expected = MatMul.Reference(layout, a, b, bias, m, k, n, c0, accumulate);
        double[] magnitude = MatMul.Reference(
            layout, Numerics.Abs(a), Numerics.Abs(b), Numerics.Abs(bias), m, k, n,
            Numerics.Abs(c0), accumulate);
        Numerics.AssertClose(
            got, expected, magnitude, Tolerance,
            $"{kernels.Name} {layout} m={m} k={k} n={n} accumulate={accumulate}");
    }

    /// <summary>
    /// Runs one matmul on guarded copies of the inputs; c0 is C's start value. a is [M, K]
    /// ([K, M] for TN), b [K, N] ([N, K] for NT), bias [N] or empty (NN only).
    /// </summary>
    private static float[] Run(
        CpuKernels kernels, MatMulLayout layout, float[] a, float[] b, float[] bias, int m, int k,
        int n, float[] c0, bool accumulate)
    {
        long floats = a.Length + b.Length + bias.Length + c0.Length + (5 * 128);
        using GuardedArena arena = new(kernels, floats);
        Tensor ta = arena.Allocate(a, "a");
        Tensor tb = arena.Allocate(b, "b");
        Tensor tBias = bias.Length == 0 ? default : arena.Allocate(bias, "bias");
        Tensor tc = arena.Allocate(c0, "c");
        switch (layout)
        {
            case MatMulLayout.NN:
                kernels.MatMulNN(ta, tb, tBias, m, k, n, tc, accumulate);
                break;
            case MatMulLayout.NT:
                kernels.MatMulNT(ta, tb, m, k, n, tc, accumulate);
                break;
            default:
                kernels.MatMulTN(ta, tb, m, k, n, tc, accumulate);
                break;
        }

        arena.CheckGuards();
        return GuardedArena.Read(tc);
    }
}
