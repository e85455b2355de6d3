using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Kernels.Tests.OpsSupport;

namespace Kgglm.Kernels.Tests.Ops;

/// <summary>
/// Dropout: the reference mask exactly (the value differs by the float scale and one rounding,
/// rtol 1.5e-7), keep-rate statistics, forward/backward agreement, thread independence; plus
/// AdamW (rtol 1e-6, atol 1e-7 on param, 1e-8 on m, 1e-9 on v: float rounding of the state
/// updates) and the squared norm (1e-12 relative), the other streaming ops.
/// </summary>
public class DropoutTests
{
    public static TheoryData<SimdLevel> Levels => Check.Levels();

    private static readonly DropoutSpec Spec = new(0.1f, 1234, 7, 3);

    [Theory]
    [MemberData(nameof(Levels))]
    public void MatchesReferenceForEveryLength(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        using var s = new Scratch();
        for (int n = 0; n <= 256; n++)
        {
            float[] xs = Check.Random(n, n);
            Tensor x = s.Floats(n, xs), y = s.Floats(n);
            kernels.DropoutForward(x, n, Spec, y);
            var e = new double[n];
            Dropout.Reference(xs, Spec, e);
            Check.Close(CpuArena.Span(y), e, 1.5e-7, 0, $"dropout n={n}");
        }

        s.CheckGuards();
    }

    [Fact]
    public void KeepRateForwardBackwardAndThreadsAgree()
    {
        const int n = 200_003;
        float[] ones = Enumerable.Repeat(1f, n).ToArray();
        float[][] masks = new float[3][];
        for (int threads = 1; threads <= 3; threads++)
        {
            using var kernels = new CpuKernels(threads);
            using var s = new Scratch();
            Tensor x = s.Floats(n, ones), y = s.Floats(n), g = s.Floats(n, ones);
            kernels.DropoutForward(x, n, Spec, y);
            kernels.DropoutBackward(g, n, Spec, g);
            Check.Bitwise(CpuArena.Span(y), CpuArena.Span(g), "forward vs backward mask");
            masks[threads - 1] = CpuArena.Span(y).ToArray();
            s.CheckGuards();
        }

        Check.Bitwise(masks[0], masks[1], "2 threads");
        Check.Bitwise(masks[0], masks[2], "3 threads");
        float scale = 1f / 0.9f;
        Assert.All(masks[0], v => Assert.True(v == 0f || v == scale));
        double kept = masks[0].Count(v => v != 0f) / (double)n;
        Assert.InRange(kept, 0.9 - 0.004, 0.9 + 0.004); // 6 standard deviations

        // Another step draws a different mask.
        using var other = new CpuKernels(1);
        using var s2 = new Scratch();
        Tensor x2 = s2.Floats(n, ones), y2 = s2.Floats(n);
        other.DropoutForward(x2, n, Spec with { Step = 8 }, y2);
        Assert.NotEqual(masks[0], CpuArena.Span(y2).ToArray());
    }

    [Fact]
    public void ZeroProbabilityCopies()
    {
        using var kernels = new CpuKernels(2);
        using var s = new Scratch();
        float[] xs = Check.Random(1000, 1);
        Tensor x = s.Floats(1000, xs), y = s.Floats(1000);
        kernels.DropoutForward(x, 1000, DropoutSpec.None, y);
        Check.Bitwise(CpuArena.Span(y), xs, "p = 0");
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void AdamWMatchesReference(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        using var s = new Scratch();
        var step = new AdamWStep(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 3, 0.5f);
        for (int n = 0; n <= 256; n += 7)
        {
            float[] p = Check.Random(n, n), g = Check.Random(n, n + 1);
            float[] m = Check.Random(n, n + 2, 0.1f), v = Check.Random(n, n + 3, 0.01f);
            for (int i = 0; i < n; i++)
            {
                v[i] = Math.Abs(v[i]);
            }

            Tensor tp = s.Floats(n, p), tg = s.Floats(n, g), tm = s.Floats(n, m);
            Tensor tv = s.Floats(n, v);
            kernels.AdamW(tp, tg, tm, tv, n, step);
            double[] ep = Check.ToDouble(p), em = Check.ToDouble(m), ev = Check.ToDouble(v);
            AdamW.Reference(ep, g, em, ev, step);

            // The update is lr-sized; compare the parameter to the lr scale.
            Check.Close(CpuArena.Span(tp), ep, 1e-6, 1e-7, $"param n={n}");
            Check.Close(CpuArena.Span(tm), em, 1e-6, 1e-8, $"m n={n}");
            Check.Close(CpuArena.Span(tv), ev, 1e-6, 1e-9, $"v n={n}");
        }

        s.CheckGuards();
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void SquaredNormIsFixedOrderAndAccurate(SimdLevel simd)
    {
        const int n = 5 * 16384 + 123;
        float[] xs = Check.Random(n, 3);
        double first = 0;
        for (int threads = 1; threads <= 3; threads++)
        {
            using var kernels = new CpuKernels(threads, simd);
            using var s = new Scratch();
            double got = kernels.SquaredNorm(s.Floats(n, xs), n);
            if (threads == 1)
            {
                first = got;
                double e = GradNorm.Reference(xs);
                Assert.True(Math.Abs(got - e) <= 1e-12 * e, $"{got} vs {e}");
            }

            Assert.Equal(
                BitConverter.DoubleToInt64Bits(first), BitConverter.DoubleToInt64Bits(got));
        }

        // The same bits at the best level: the lane structure does not depend on the width.
        using var best = new CpuKernels(2);
        using var s3 = new Scratch();
        Assert.Equal(first, best.SquaredNorm(s3.Floats(n, xs), n));
        for (int m = 0; m <= 256; m += 5)
        {
            float[] small = xs[..m];
            Assert.True(Math.Abs(best.SquaredNorm(s3.Floats(m, small), m)
                - GradNorm.Reference(small)) <= 1e-12 * (1 + GradNorm.Reference(small)));
        }
    }
}
