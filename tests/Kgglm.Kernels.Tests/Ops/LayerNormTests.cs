using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Kernels.Tests.OpsSupport;

namespace Kgglm.Kernels.Tests.Ops;

/// <summary>
/// LayerNorm against float64 for C = 1..256 and N = 0..20, with guards; reference backward vs
/// central differences; thread-count bit equality. Tolerances (values are O(1)): forward and
/// mean/rstd rtol 1e-5 + atol 1e-5; backward rtol 1e-4 + atol 1e-4 (sums over C and N rows in
/// float).
/// </summary>
public class LayerNormTests
{
    public static TheoryData<SimdLevel> Levels => Check.Levels();

    [Theory]
    [MemberData(nameof(Levels))]
    public void MatchesReferenceForColumnAndRowSweeps(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        for (int C = 1; C <= 256; C++)
        {
            Run(kernels, 3, C, C);
        }

        for (int N = 0; N <= 20; N++)
        {
            Run(kernels, N, 37, 1000 + N);
        }
    }

    [Fact]
    public void ReferenceBackwardMatchesFiniteDifferences()
    {
        const int N = 2, C = 5;
        double[] x = Check.ToDouble(Check.Random(N * C, 1, 2f));
        double[] w = Check.ToDouble(Check.Random(C, 2)), b = Check.ToDouble(Check.Random(C, 3));
        double[] dy = Check.ToDouble(Check.Random(N * C, 4));
        double Loss(double[] xx, double[] ww, double[] bb)
        {
            var y = new double[N * C];
            LayerNorm.ReferenceForward(xx, ww, bb, N, C, y, new double[N], new double[N]);
            return y.Select((v, i) => v * dy[i]).Sum();
        }

        var mean = new double[N];
        var rstd = new double[N];
        LayerNorm.ReferenceForward(x, w, b, N, C, new double[N * C], mean, rstd);
        var dx = new double[N * C];
        var dw = new double[C];
        var db = new double[C];
        LayerNorm.ReferenceBackward(dy, x, w, mean, rstd, N, C, dx, dw, db);
        FiniteDifference.Assert(x, () => Loss(x, w, b), dx, "dInput");
        FiniteDifference.Assert(w, () => Loss(x, w, b), dw, "dWeight");
        FiniteDifference.Assert(b, () => Loss(x, w, b), db, "dBias");
    }

    [Fact]
    public void ThreadCountDoesNotChangeBits()
    {
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 3; threads++)
        {
            using var kernels = new CpuKernels(threads);
            results[threads - 1] = Run(kernels, 37, 100, 5);
        }

        Check.Bitwise(results[0], results[1], "2 threads");
        Check.Bitwise(results[0], results[2], "3 threads");
    }

    /// <summary>Forward and backward of one shape; returns every output concatenated.</summary>
    private static float[] Run(CpuKernels kernels, int N, int C, int seed)
    {
        using var s = new Scratch(1 << 16);
        float[] xs = Check.Random(N * C, seed, 3f), ws = Check.Random(C, seed + 1);
        float[] bs = Check.Random(C, seed + 2), dys = Check.Random(N * C, seed + 3);
        float[] dx0 = Check.Random(N * C, seed + 4), dw0 = Check.Random(C, seed + 5);
        float[] db0 = Check.Random(C, seed + 6);
        for (int i = 0; i < xs.Length; i++)
        {
            xs[i] += 10f; // an offset mean, as in the residual stream
        }

        Tensor x = s.Floats(N * C, xs), w = s.Floats(C, ws), b = s.Floats(C, bs);
        Tensor y = s.Floats(N * C), mean = s.Floats(N), rstd = s.Floats(N);
        Tensor dy = s.Floats(N * C, dys), dx = s.Floats(N * C, dx0), dw = s.Floats(C, dw0);
        Tensor db = s.Floats(C, db0);
        kernels.LayerNormForward(x, w, b, N, C, y, mean, rstd);
        kernels.LayerNormBackward(dy, x, w, mean, rstd, N, C, dx, dw, db);

        var ey = new double[N * C];
        var em = new double[N];
        var er = new double[N];
        double[] ew = Check.ToDouble(ws);
        LayerNorm.ReferenceForward(Check.ToDouble(xs), ew, Check.ToDouble(bs), N, C, ey, em, er);
        double[] edx = Check.ToDouble(dx0), edw = Check.ToDouble(dw0), edb = Check.ToDouble(db0);
        LayerNorm.ReferenceBackward(Check.ToDouble(dys), Check.ToDouble(xs), ew, em, er, N, C,
            edx, edw, edb);
        string at = $"N={N} C={C}";
        Check.Close(CpuArena.Span(y), ey, 1e-5, 1e-5, $"output {at}");
        Check.Close(CpuArena.Span(mean), em, 1e-6, 1e-5, $"mean {at}");
        Check.Close(CpuArena.Span(rstd), er, 1e-5, 1e-5, $"rstd {at}");
        Check.Close(CpuArena.Span(dx), edx, 1e-4, 1e-4, $"dInput {at}");
        Check.Close(CpuArena.Span(dw), edw, 1e-4, 1e-4, $"dWeight {at}");
        Check.Close(CpuArena.Span(db), edb, 1e-4, 1e-4, $"dBias {at}");
        s.CheckGuards();
        return [.. CpuArena.Span(y), .. CpuArena.Span(dx), .. CpuArena.Span(dw),
            .. CpuArena.Span(db), .. CpuArena.Span(mean), .. CpuArena.Span(rstd)];
    }
}
