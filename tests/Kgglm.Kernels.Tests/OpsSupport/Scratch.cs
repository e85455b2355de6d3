using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Tests.OpsSupport;

/// <summary>
/// A bump allocator over one CPU arena for op tests. Every buffer is followed by a guard region
/// of <see cref="Guard"/> sentinel floats; <see cref="CheckGuards"/> fails if a kernel wrote
/// past the end of any buffer.
/// </summary>
internal sealed class Scratch : IDisposable
{
    public const int Guard = 32;
    public const float Sentinel = -7.6543e21f;

    private readonly CpuArena _arena;
    private readonly List<(long Offset, long Length)> _guards = [];
    private long _next;

    public Scratch(long floats = 1 << 21) => _arena = new CpuArena("test", floats);

    /// <summary>n floats set to <paramref name="values"/> (or zero), then a guard.</summary>
    public Tensor Floats(long n, ReadOnlySpan<float> values = default)
    {
        Tensor t = Take(n);
        if (!values.IsEmpty)
        {
            values.CopyTo(CpuArena.Span(t));
        }

        return t;
    }

    /// <summary>Ints with a guard.</summary>
    public IntTensor Ints(ReadOnlySpan<int> values)
    {
        Tensor t = Take(values.Length);
        var ints = new IntTensor(_arena, t.Offset, t.Length);
        values.CopyTo(CpuArena.Span(ints));
        return ints;
    }

    public void CheckGuards()
    {
        foreach ((long offset, long length) in _guards)
        {
            Span<float> g = CpuArena.Span(new Tensor(_arena, offset, length));
            for (int i = 0; i < g.Length; i++)
            {
                Assert.True(
                    BitConverter.SingleToInt32Bits(g[i])
                    == BitConverter.SingleToInt32Bits(Sentinel),
                    $"guard written at {i} past a buffer ending at {offset}");
            }
        }
    }

    public void Dispose() => _arena.Dispose();

    private Tensor Take(long n)
    {
        // Buffers are packed back to back, so odd lengths leave the next one unaligned: the
        // kernels must not assume alignment.
        long offset = _next;
        _next += n + Guard;
        var guard = new Tensor(_arena, offset + n, Guard);
        CpuArena.Span(guard).Fill(Sentinel);
        _guards.Add((offset + n, Guard));
        var t = new Tensor(_arena, offset, n);
        CpuArena.Span(t).Clear();
        return t;
    }
}

/// <summary>Comparisons with a float64 reference that report the largest difference.</summary>
internal static class Check
{
    /// <summary>
    /// Asserts <c>|actual - expected| ≤ atol + rtol·|expected|</c> element-wise; the message
    /// names the tensor and gives the worst element.
    /// </summary>
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
            double ratio = diff / (atol + rtol * Math.Abs(expected[i]));
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

    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        }

        return x;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            d[i] = x[i];
        }

        return d;
    }

    /// <summary>The SIMD levels this machine runs (all three on AVX-512 hardware).</summary>
    public static TheoryData<SimdLevel> Levels()
    {
        var data = new TheoryData<SimdLevel>();
        foreach (SimdLevel level in Enum.GetValues<SimdLevel>())
        {
            if (SimdDetection.IsSupported(level))
            {
                data.Add(level);
            }
        }

        return data;
    }

    /// <summary>Bytes <paramref name="call"/> allocates on this thread after warm-up.</summary>
    public static long Allocated(Action call)
    {
        call();
        call();
        long before = GC.GetAllocatedBytesForCurrentThread();
        call();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
