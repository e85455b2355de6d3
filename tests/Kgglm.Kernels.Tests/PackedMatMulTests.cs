using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Kernels.Tests.OpsSupport;
using Kgglm.Tests.Support;

namespace Kgglm.Tests;

/// <summary>
/// <see cref="IKernels.MatMulPacked"/> on the CPU engine: bitwise the result of MatMulNN /
/// MatMulNT on the unpacked operand (which <see cref="MatMulTests"/> holds to the float64
/// reference) for every instruction set, thread count and shape class (edge tiles, several K
/// and column blocks, more rows than one packed row chunk), plus its boundary checks.
/// </summary>
public sealed class PackedMatMulTests
{
    public static TheoryData<SimdLevel> Levels() => MatMulTests.Levels();

    [Theory]
    [MemberData(nameof(Levels))]
    public void TinyAndOddSizesGiveTheUnpackedBits(SimdLevel level)
    {
        Random rng = new(11);
        foreach (int threads in new[] { 1, 2 })
        {
            using CpuKernels kernels = new(threads, level);
            foreach (int m in new[] { 0, 1, 5, 12, 13, 25 })
            {
                foreach (int k in new[] { 0, 1, 8, 257 })
                {
                    foreach (int n in new[] { 1, 7, 16, 17, 33, 65 })
                    {
                        Compare(kernels, rng, MatMulLayout.NN, m, k, n, accumulate: n % 2 == 0);
                        Compare(kernels, rng, MatMulLayout.NT, m, k, n, accumulate: n % 2 == 1);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(MatMulLayout.NN, 97, 1600, 1100)]  // K and column blocks, edges on both
    [InlineData(MatMulLayout.NT, 130, 770, 2100)]
    [InlineData(MatMulLayout.NN, 1700, 40, 70)]     // more rows than MatMul.RowChunk
    [InlineData(MatMulLayout.NT, 3100, 30, 33)]     // two row chunks per thread
    public void LargerShapesGiveTheUnpackedBits(MatMulLayout layout, int m, int k, int n)
    {
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using CpuKernels kernels = new(threads);
            Compare(kernels, new Random(12), layout, m, k, n, accumulate: true);
        }
    }

    [Fact]
    public void ThePackedResultMatchesTheFloat64Reference()
    {
        using CpuKernels kernels = new(2);
        Random rng = new(13);
        const int m = 40, k = 300, n = 90;
        float[] a = Numerics.Random(rng, m * k), b = Numerics.Random(rng, k * n);
        float[] bias = Numerics.Random(rng, n), c0 = Numerics.Random(rng, m * n);
        float[] got = RunPacked(kernels, MatMulLayout.NT, a, b, bias, m, k, n, c0, true);
        double[] expected = MatMul.Reference(MatMulLayout.NT, a, b, bias, m, k, n, c0, true);
        double[] magnitude = MatMul.Reference(MatMulLayout.NT, Numerics.Abs(a), Numerics.Abs(b),
            Numerics.Abs(bias), m, k, n, Numerics.Abs(c0), true);
        Numerics.AssertClose(got, expected, magnitude, 1.0 / (1 << 16), "packed NT");
    }

    [Fact]
    public void ForeignDisposedAndMisshapenOperandsAreRefused()
    {
        using CpuKernels kernels = new(1), other = new(1);
        using DeviceArena arena = kernels.CreateArena("t", 4096);
        Tensor a = arena.AllocateFloat(6 * 8), b = arena.AllocateFloat(8 * 5);
        Tensor c = arena.AllocateFloat(6 * 5);
        using PackedOperand foreign = other.PackRight(b, MatMulLayout.NN, 8, 5);
        Assert.Throws<ArgumentException>(
            () => kernels.MatMulPacked(a, foreign, default, 6, c, false));
        PackedOperand disposed = kernels.PackRight(b, MatMulLayout.NN, 8, 5);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(
            () => kernels.MatMulPacked(a, disposed, default, 6, c, false));
        Assert.Throws<ArgumentException>(() => kernels.PackRight(b, MatMulLayout.TN, 8, 5));
        ArgumentException shortB = Assert.Throws<ArgumentException>(
            () => kernels.PackRight(b, MatMulLayout.NT, 8, 6));
        Assert.Contains("b must hold", shortB.Message);
        using PackedOperand packed = kernels.PackRight(b, MatMulLayout.NN, 8, 5);
        ArgumentException shortA = Assert.Throws<ArgumentException>(
            () => kernels.MatMulPacked(a, packed, default, 7, c, false));
        Assert.Contains("a must hold", shortA.Message);
    }

    [Fact]
    public void CallsAllocateNothingAfterWarmUp()
    {
        using CpuKernels kernels = new(2);
        using DeviceArena arena = kernels.CreateArena("t", 1 << 20);
        const int m = 200, k = 256, n = 300;
        Tensor a = arena.AllocateFloat(m * k), b = arena.AllocateFloat(k * n);
        Tensor bias = arena.AllocateFloat(n), c = arena.AllocateFloat(m * n);
        using PackedOperand nn = kernels.PackRight(b, MatMulLayout.NN, k, n);
        using PackedOperand nt = kernels.PackRight(b, MatMulLayout.NT, k, n);
        Assert.Equal(0, Check.Allocated(() =>
        {
            kernels.MatMulPacked(a, nn, bias, m, c, false);
            kernels.MatMulPacked(a, nt, default, m, c, true);
            kernels.MatMulPacked(a, nt, default, 3, c, false);
        }));
    }

    private static void Compare(
        CpuKernels kernels, Random rng, MatMulLayout layout, int m, int k, int n, bool accumulate)
    {
        float[] a = Numerics.Random(rng, (long)m * k), b = Numerics.Random(rng, (long)k * n);
        float[] bias = n % 3 != 1 ? Numerics.Random(rng, n) : [];
        float[] c0 = Numerics.Random(rng, (long)m * n);
        float[] expected = RunUnpacked(kernels, layout, a, b, bias, m, k, n, c0, accumulate);
        float[] got = RunPacked(kernels, layout, a, b, bias, m, k, n, c0, accumulate);
        Numerics.AssertBitwise(expected, got,
            $"{kernels.Name} packed {layout} m={m} k={k} n={n} accumulate={accumulate}");
    }

    // The unpacked reference result: MatMulNN, or for NT (which takes no bias) MatMulNT after
    // C has been given the bias, which is the same first add of every chain.
    private static float[] RunUnpacked(
        CpuKernels kernels, MatMulLayout layout, float[] a, float[] b, float[] bias, int m, int k,
        int n, float[] c0, bool accumulate) =>
        RunGuarded(kernels, a, b, bias, c0, (ta, tb, tBias, tc) =>
        {
            if (layout == MatMulLayout.NN)
            {
                kernels.MatMulNN(ta, tb, tBias, m, k, n, tc, accumulate);
                return;
            }

            if (bias.Length > 0)
            {
                // (acc ? c : 0) + bias, the packed kernel's start value, then the chain over k.
                float[] start = new float[(long)m * n];
                for (long i = 0; i < start.Length; i++)
                {
                    start[i] = (accumulate ? c0[i] : 0f) + bias[i % n];
                }

                kernels.Upload(start, tc);
            }

            kernels.MatMulNT(ta, tb, m, k, n, tc, accumulate || bias.Length > 0);
        });

    private static float[] RunPacked(
        CpuKernels kernels, MatMulLayout layout, float[] a, float[] b, float[] bias, int m, int k,
        int n, float[] c0, bool accumulate) =>
        RunGuarded(kernels, a, b, bias, c0, (ta, tb, tBias, tc) =>
        {
            using PackedOperand packed = kernels.PackRight(tb, layout, k, n);
            kernels.MatMulPacked(ta, packed, tBias, m, tc, accumulate);
        });

    /// <summary>Runs <paramref name="call"/> (a, b, bias, c) on guarded copies; returns C.
    /// </summary>
    private static float[] RunGuarded(
        CpuKernels kernels, float[] a, float[] b, float[] bias, float[] c0,
        Action<Tensor, Tensor, Tensor, Tensor> call)
    {
        using GuardedArena arena = new(kernels, a.Length + b.Length + bias.Length + c0.Length
            + (4 * 2 * GuardedArena.GuardLength));
        Tensor ta = arena.Allocate(a, "a"), tb = arena.Allocate(b, "b");
        Tensor tBias = bias.Length == 0 ? default : arena.Allocate(bias, "bias");
        Tensor tc = arena.Allocate(c0, "c");
        call(ta, tb, tBias, tc);
        arena.CheckGuards();
        return GuardedArena.Read(tc);
    }
}
