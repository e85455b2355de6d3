namespace Kgglm.Kernels.Tests.OpsSupport;

/// <summary>Central finite differences of a float64 scalar loss.</summary>
internal static class FiniteDifference
{
    /// <summary>
    /// Perturbs each element of <paramref name="x"/> by ±h and checks
    /// <c>(L(x+h) - L(x-h)) / 2h</c> against <paramref name="gradient"/> (rtol 1e-6, atol 1e-7).
    /// </summary>
    public static void Assert(double[] x, Func<double> loss, double[] gradient, string name)
    {
        const double h = 1e-6;
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h;
            double up = loss();
            x[i] = keep - h;
            double down = loss();
            x[i] = keep;
            double fd = (up - down) / (2 * h);
            double diff = Math.Abs(fd - gradient[i]);
            Xunit.Assert.True(
                diff <= 1e-7 + 1e-6 * Math.Abs(fd),
                $"{name}[{i}]: finite difference {fd:R}, analytic {gradient[i]:R}");
        }
    }
}
