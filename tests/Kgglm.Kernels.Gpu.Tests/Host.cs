namespace Kgglm.Kernels.Gpu.Tests;

/// <summary>
/// Host-side access to any backend's memory for the shared op checks: tensors are uploaded from
/// and downloaded to arrays, so the same check runs on the SIMD engine, ILGPU's CPU accelerator
/// and CUDA.
/// </summary>
internal sealed class Host : IDisposable
{
    private readonly DeviceArena _arena;

    public Host(IKernels kernels, long floats = 1 << 18)
    {
        Kernels = kernels;
        _arena = kernels.CreateArena("test", floats);
    }

    public IKernels Kernels { get; }

    /// <summary>A tensor holding <paramref name="values"/>.</summary>
    public Tensor F(float[] values)
    {
        Tensor t = _arena.AllocateFloat(values.Length);
        Kernels.Upload(values, t);
        return t;
    }

    /// <summary>A zeroed tensor of n floats.</summary>
    public Tensor Zeros(long n) => _arena.AllocateFloat(n);

    /// <summary>An int tensor holding <paramref name="values"/>.</summary>
    public IntTensor I(int[] values)
    {
        IntTensor t = _arena.AllocateInt(values.Length);
        Kernels.Upload(values, t);
        return t;
    }

    /// <summary>The tensor's contents.</summary>
    public float[] Get(Tensor t)
    {
        float[] values = new float[t.Length];
        Kernels.Download(t, values);
        return values;
    }

    public void Dispose() => _arena.Dispose();
}

/// <summary>Comparisons that report the largest difference of a named tensor.</summary>
internal static class Check
{
    /// <summary>Asserts <c>|actual - expected| ≤ atol + rtol·|expected|</c> element-wise.</summary>
    public static void Close(
        ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double rtol, double atol,
        string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, worstDiff = 0;
        int at = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            double ratio = diff / (atol + (rtol * Math.Abs(expected[i])));
            if (!(ratio <= worst))
            {
                worst = ratio;
                worstDiff = diff;
                at = i;
            }
        }

        if (worst > 1.0)
        {
            Assert.Fail(
                $"{name}: largest difference {worstDiff:E3} at {at} (actual {actual[at]:R}, "
                + $"expected {expected[at]:R}) exceeds {atol:E1} + {rtol:E1}·|expected|");
        }
    }

    /// <summary>Float results against float results of another backend.</summary>
    public static void Close(
        ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, double atol,
        string name)
    {
        double[] e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++)
        {
            e[i] = expected[i];
        }

        Close(actual, e, rtol, atol, name);
    }

    /// <summary>Bitwise equality of two float arrays.</summary>
    public static void Bitwise(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string name)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
            {
                Assert.Fail($"{name}: element {i} differs ({a[i]:R} vs {b[i]:R})");
            }
        }
    }

    /// <summary>Uniform floats in [-scale, scale), fixed seed.</summary>
    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)((r.NextDouble() * 2) - 1) * scale;
        }

        return x;
    }

    /// <summary>Small integers in [-3, 3]: products and sums stay exact in float.</summary>
    public static float[] Integers(int n, int seed)
    {
        var r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = r.Next(-3, 4);
        }

        return x;
    }

    public static double[] Wide(ReadOnlySpan<float> x)
    {
        double[] y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = x[i];
        }

        return y;
    }
}
