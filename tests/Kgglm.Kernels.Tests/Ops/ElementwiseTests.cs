using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Kernels.Tests.OpsSupport;

namespace Kgglm.Kernels.Tests.Ops;

/// <summary>
/// GELU, residual add/accumulate: every length 0..256 at every SIMD level against float64, with
/// guards; bitwise equality for 1, 2, 3 threads on a multi-chunk length.
/// Tolerances: add/accumulate exact to float rounding (rtol 6e-8); GELU forward rtol 2e-6 +
/// atol 1e-7·max(1, |x|) (vector exp ≤ 3e-7 plus float evaluation of u), backward rtol 1e-5 +
/// atol 1e-6.
/// </summary>
public class ElementwiseTests
{
    public static TheoryData<SimdLevel> Levels => Check.Levels();

    [Theory]
    [MemberData(nameof(Levels))]
    public void GeluMatchesReferenceForEveryLength(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        using var s = new Scratch();
        for (int n = 0; n <= 256; n++)
        {
            float[] xs = Check.Random(n, n, 6f);
            Tensor x = s.Floats(n, xs), y = s.Floats(n), dy = s.Floats(n, Check.Random(n, 99 + n));
            Tensor dx = s.Floats(n);
            kernels.GeluForward(x, n, y);
            kernels.GeluBackward(dy, x, n, dx);
            var ey = new double[n];
            var edx = new double[n];
            float[] dys = CpuArena.Span(dy).ToArray();
            for (int i = 0; i < n; i++)
            {
                ey[i] = Gelu.Reference(xs[i]);
                edx[i] = dys[i] * Gelu.ReferenceDerivative(xs[i]);
            }

            Check.Close(CpuArena.Span(y), ey, 2e-6, 1e-7, $"gelu y n={n}");
            Check.Close(CpuArena.Span(dx), edx, 1e-5, 1e-6, $"gelu dx n={n}");
        }

        s.CheckGuards();
    }

    [Fact]
    public void GeluExtremeInputsStayFinite()
    {
        using var kernels = new CpuKernels(1);
        using var s = new Scratch();
        float[] xs = [-1e4f, -200f, -30f, -10f, -1e-30f, 0f, 1e-30f, 10f, 30f, 200f, 1e4f];
        Tensor x = s.Floats(xs.Length, xs), y = s.Floats(xs.Length), dx = s.Floats(xs.Length);
        Tensor ones = s.Floats(xs.Length, Enumerable.Repeat(1f, xs.Length).ToArray());
        kernels.GeluForward(x, xs.Length, y);
        kernels.GeluBackward(ones, x, xs.Length, dx);
        double[] ey = xs.Select(v => Gelu.Reference(v)).ToArray();
        double[] ed = xs.Select(v => Gelu.ReferenceDerivative(v)).ToArray();
        Check.Close(CpuArena.Span(y), ey, 2e-6, 1e-7, "gelu extremes");
        Check.Close(CpuArena.Span(dx), ed, 1e-5, 1e-6, "gelu' extremes");
    }

    [Fact]
    public void GeluReferenceDerivativeMatchesFiniteDifferences()
    {
        for (double x = -6; x <= 6; x += 0.37)
        {
            const double h = 1e-5;
            double fd = (Gelu.Reference(x + h) - Gelu.Reference(x - h)) / (2 * h);
            Assert.True(Math.Abs(fd - Gelu.ReferenceDerivative(x)) < 1e-8, $"x={x}");
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void AddAndAccumulateMatchReferenceForEveryLength(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        using var s = new Scratch();
        for (int n = 0; n <= 256; n++)
        {
            float[] a = Check.Random(n, n), b = Check.Random(n, 1000 + n);
            Tensor ta = s.Floats(n, a), tb = s.Floats(n, b), y = s.Floats(n);
            kernels.Add(ta, tb, n, y);
            var e = new double[n];
            Residual.AddReference(a, b, e);
            Check.Close(CpuArena.Span(y), e, 6e-8, 0, $"add n={n}");
            kernels.Accumulate(ta, n, tb);
            Check.Close(CpuArena.Span(tb), e, 6e-8, 0, $"accumulate n={n}");
        }

        s.CheckGuards();
    }

    [Fact]
    public void ThreadCountDoesNotChangeBits()
    {
        const int n = 3 * 16384 + 77;
        float[] xs = Check.Random(n, 5, 4f), ds = Check.Random(n, 6);
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 3; threads++)
        {
            using var kernels = new CpuKernels(threads);
            using var s = new Scratch();
            Tensor x = s.Floats(n, xs), d = s.Floats(n, ds), y = s.Floats(n), g = s.Floats(n);
            Tensor acc = s.Floats(n, ds);
            kernels.GeluForward(x, n, y);
            kernels.GeluBackward(d, x, n, g);
            kernels.Add(y, g, n, y);
            kernels.Accumulate(y, n, acc);
            results[threads - 1] = CpuArena.Span(acc).ToArray();
            s.CheckGuards();
        }

        Check.Bitwise(results[0], results[1], "2 threads");
        Check.Bitwise(results[0], results[2], "3 threads");
    }

    [Fact]
    public void AliasedOutputsWork()
    {
        using var kernels = new CpuKernels(2);
        using var s = new Scratch();
        const int n = 100;
        float[] xs = Check.Random(n, 1, 3f);
        Tensor x = s.Floats(n, xs), d = s.Floats(n, Enumerable.Repeat(2f, n).ToArray());
        kernels.GeluBackward(d, x, n, d);
        double[] e = xs.Select(v => 2 * Gelu.ReferenceDerivative(v)).ToArray();
        Check.Close(CpuArena.Span(d), e, 1e-5, 1e-6, "gelu backward in place");
        kernels.GeluForward(x, n, x);
        Check.Close(CpuArena.Span(x), xs.Select(v => Gelu.Reference(v)).ToArray(), 2e-6, 1e-7,
            "gelu in place");
    }
}
