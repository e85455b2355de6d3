namespace Kgglm.Tests.Support;

/// <summary>Comparisons of kernel outputs with float64 references.</summary>
internal static class Numerics
{
    /// <summary>
    /// Asserts <c>|got[i] - expected[i]| ≤ tolerance · magnitude[i]</c> for every i, where
    /// magnitude is the sum of the absolute values of the terms that made element i (so the
    /// bound scales with the size of the result, not with the cancellation in it). On failure,
    /// reports the element with the largest ratio of error to allowance.
    /// </summary>
    public static void AssertClose(
        ReadOnlySpan<float> got, double[] expected, double[] magnitude, double tolerance,
        string name)
    {
        Assert.Equal(expected.Length, got.Length);
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double error = Math.Abs(got[i] - expected[i]);
            double allowed = tolerance * magnitude[i];
            double ratio = error == 0 ? 0
                : allowed == 0 ? double.PositiveInfinity
                : error / allowed;
            if (double.IsNaN(got[i]) || ratio > worstRatio)
            {
                worst = i;
                worstRatio = double.IsNaN(got[i]) ? double.PositiveInfinity : ratio;
            }
        }

        if (worst >= 0 && worstRatio > 1)
        {
            Assert.Fail(
                $"{name}: element {worst} is {got[worst]:R}, expected {expected[worst]:R} " +
                $"(|diff| {Math.Abs(got[worst] - expected[worst]):E3} > " +
                $"{tolerance:E1} · magnitude {magnitude[worst]:E3})");
        }
    }

    /// <summary>Asserts got equals expected exactly (integer-valued inputs).</summary>
    public static void AssertExact(ReadOnlySpan<float> got, double[] expected, string name)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
        {
            if (got[i] != expected[i])
            {
                Assert.Fail($"{name}: element {i} is {got[i]:R}, expected exactly {expected[i]:R}");
            }
        }
    }

    /// <summary>Asserts two float arrays have the same bits; names the first difference.</summary>
    public static void AssertBitwise(
        ReadOnlySpan<float> expected, ReadOnlySpan<float> got, string name)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i])
                != BitConverter.SingleToInt32Bits(got[i]))
            {
                Assert.Fail($"{name}: element {i} is {got[i]:R}, bitwise expected {expected[i]:R}");
            }
        }
    }

    /// <summary>Uniform values in [-1, 1), or integers in [-range, range] when integer.</summary>
    public static float[] Random(Random rng, long length, int integerRange = 0)
    {
        float[] x = new float[length];
        for (long i = 0; i < length; i++)
        {
            x[i] = integerRange > 0
                ? rng.Next(-integerRange, integerRange + 1)
                : (float)((rng.NextDouble() * 2) - 1);
        }

        return x;
    }

    /// <summary>Element-wise absolute values.</summary>
    public static float[] Abs(ReadOnlySpan<float> x)
    {
        float[] y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = Math.Abs(x[i]);
        }

        return y;
    }
}
