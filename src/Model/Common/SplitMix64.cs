namespace Kgglm.Common;

/// <summary>
/// A small, fast, seedable generator (SplitMix64) whose streams are derived from the run seed
/// and an index, so every consumer (a start node, a user, a parameter tensor, an epoch) owns an
/// independent stream and results do not depend on the order or the thread that draws them.
/// Only integer arithmetic, so every machine produces the same numbers.
/// </summary>
public struct SplitMix64
{
    private ulong _state;

    /// <summary>A stream seeded with <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>
    /// The stream numbered <paramref name="index"/> of a <paramref name="purpose"/> of a run.
    /// </summary>
    /// <param name="seed">The run seed.</param>
    /// <param name="purpose">A constant per use (e.g. 1 = split, 2 = pretrain walks).</param>
    /// <param name="index">Which stream of that use (node, user, tensor, epoch).</param>
    public static SplitMix64 Stream(ulong seed, ulong purpose, ulong index) =>
        new(Mix(Mix(seed ^ (purpose * 0xD6E8FEB86659FD93UL)) ^ (index * 0x9E3779B97F4A7C15UL)));

    /// <summary>The next 64 random bits.</summary>
    public ulong NextULong()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// Uniform integer in [0, n), unbiased (Lemire's multiply-shift with rejection).
    /// </summary>
    public int NextInt(int n)
    {
        if (n <= 1)
        {
            return 0;
        }

        return (int)NextLong(n);
    }

    /// <summary>Uniform integer in [0, n), unbiased.</summary>
    public long NextLong(long n)
    {
        if (n <= 1)
        {
            return 0;
        }

        ulong un = (ulong)n;
        ulong threshold = (0UL - un) % un;
        while (true)
        {
            ulong x = NextULong();
            UInt128 m = (UInt128)x * un;
            if ((ulong)m >= threshold)
            {
                return (long)(ulong)(m >> 64);
            }
        }
    }

    /// <summary>
    /// A standard normal variate (Marsaglia's polar method) computed with
    /// <see cref="PortableMath.Log"/> so that it is identical on every platform.
    /// </summary>
    public double NextNormal()
    {
        while (true)
        {
            double u = (2 * NextDouble()) - 1, v = (2 * NextDouble()) - 1;
            double s = (u * u) + (v * v);
            if (s > 0 && s < 1)
            {
                return u * Math.Sqrt(-2 * PortableMath.Log(s) / s);
            }
        }
    }

    /// <summary>Fisher–Yates shuffle of <paramref name="items"/>.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// Math whose result does not depend on the platform's libm: built from IEEE-exact operations
/// (+, −, ×, ÷, √), so seeded initialisation is bitwise identical on every machine.
/// </summary>
public static class PortableMath
{
    /// <summary>
    /// Natural logarithm of a positive finite <paramref name="x"/> (error &lt; 2 ulp).
    /// </summary>
    public static double Log(double x)
    {
        if (!(x > 0) || double.IsInfinity(x))
        {
            return double.NaN;
        }

        // x = m · 2^e with m in [√½, √2); ln x = e·ln2 + 2·atanh((m−1)/(m+1)).
        long bits = BitConverter.DoubleToInt64Bits(x);
        int e = (int)((bits >> 52) & 0x7FF);
        if (e == 0)
        {
            // Subnormal: scale into the normal range first.
            return Log(x * 4503599627370496.0) - (52 * Ln2);
        }

        e -= 1023;
        double m = BitConverter.Int64BitsToDouble(
            (bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m > 1.4142135623730951)
        {
            m *= 0.5;
            e++;
        }

        double f = (m - 1) / (m + 1);
        double f2 = f * f;
        double term = f, sum = 0;
        for (int k = 1; k < 60; k += 2)
        {
            double add = term / k;
            sum += add;
            if (Math.Abs(add) < 1e-18 * Math.Abs(sum))
            {
                break;
            }

            term *= f2;
        }

        return (e * Ln2) + (2 * sum);
    }

    private const double Ln2 = 0.69314718055994530942;
}
