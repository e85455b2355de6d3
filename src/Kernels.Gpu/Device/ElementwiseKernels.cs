using ILGPU;

namespace Kgglm.Kernels.Gpu.Device;

/// <summary>
/// One thread per element: fill, copy, residual add and accumulate, gelu_new, dropout. Every
/// output element is computed by exactly one thread from its own inputs, so nothing is reduced
/// and the results do not depend on the launch shape.
/// </summary>
internal static class ElementwiseKernels
{
    private const float S = 0.7978845608028654f; // √(2/π)
    private const float A = 0.044715f;

    /// <summary>y: [n]; <c>y = value</c>.</summary>
    public static void Fill(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    /// <summary>x, y: [n]; <c>y = x</c>.</summary>
    public static void Copy(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = x[i];

    /// <summary>a, b, y: [n]; <c>y = a + b</c>.</summary>
    public static void Add(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) =>
        y[i] = a[i] + b[i];

    /// <summary>x, y: [n]; <c>y += x</c>.</summary>
    public static void Accumulate(Index1D i, ArrayView<float> x, ArrayView<float> y) =>
        y[i] += x[i];

    /// <summary>
    /// x, y: [n] (may alias). The CPU engine's form <c>y = x / (1 + e^(-2u))</c> of
    /// <c>0.5·x·(1 + tanh(u))</c>: no cancellation for negative x.
    /// </summary>
    public static void GeluForward(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        float v = x[i];
        float e = MathF.Exp(v * (-2f * S) * ((v * v * A) + 1f));
        y[i] = v / (1f + e);
    }

    /// <summary>dy, x, dx: [n] (dx may alias dy); <c>dx = dy · gelu'(x)</c>.</summary>
    public static void GeluBackward(
        Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> dx)
    {
        float v = x[i];
        float v2 = v * v;
        float e = MathF.Exp(v * (-2f * S) * ((v2 * A) + 1f));
        float sigma = 1f / (1f + e);
        float twoDu = (v2 * (2f * S * 3f * A)) + (2f * S);
        float grad = (v * sigma * (e * sigma) * twoDu) + sigma;
        dx[i] = dy[i] * grad;
    }

    /// <summary>
    /// x, y: [n] (may alias); <c>y = x · keep(e) / (1 - p)</c> with e the flat index, the mask
    /// of <see cref="DropoutHash"/>.
    /// </summary>
    public static void Dropout(
        Index1D i, ArrayView<float> x, ArrayView<float> y, DropoutArgs dropout) =>
        y[i] = x[i] * dropout.Factor(i);
}

/// <summary>
/// The dropout key of one call and the keep test, bit for bit the CPU engine's construction
/// (documented in <c>Ops/Dropout.cs</c>): two rounds of murmur3's fmix32 over the 64-bit element
/// index and the per-call key, the top 24 bits as u in [0, 1), keep iff u ≥ p.
/// </summary>
/// <param name="K0">Low half of the per-call key.</param>
/// <param name="K1">High half of the per-call key.</param>
/// <param name="P">Drop probability; 0 keeps every element with factor 1.</param>
/// <param name="Scale">1f / (1f - p), computed on the host in float as the CPU does.</param>
internal readonly record struct DropoutArgs(uint K0, uint K1, float P, float Scale)
{
    /// <summary>The arguments of <paramref name="spec"/>; inactive specs keep everything.</summary>
    public static DropoutArgs From(DropoutSpec spec)
    {
        if (!spec.IsActive)
        {
            return new DropoutArgs(0, 0, 0f, 1f);
        }

        Ops.DropoutKey key = Ops.DropoutKey.From(spec);
        return new DropoutArgs(key.K0, key.K1, spec.P, Ops.DropoutKey.Scale(spec.P));
    }

    /// <summary>
    /// Scale where element <paramref name="e"/> is kept, else 0 (1 when inactive).
    /// </summary>
    public float Factor(long e)
    {
        if (P <= 0f)
        {
            return 1f;
        }

        uint h = DropoutHash.Fmix((uint)e ^ K0);
        h = DropoutHash.Fmix(h ^ (uint)((ulong)e >> 32) ^ K1);

        // A 24-bit integer times 2^-24: exact, as on the CPU.
        float u = (int)(h >> 8) * (1f / 16777216f);
        return u >= P ? Scale : 0f;
    }
}

/// <summary>murmur3's 32-bit finaliser, the mixing step of the dropout hash.</summary>
internal static class DropoutHash
{
    /// <summary><c>h ^= h≫16; h *= 0x85EBCA6B; h ^= h≫13; h *= 0xC2B2AE35; h ^= h≫16</c>.</summary>
    public static uint Fmix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        return h ^ (h >> 16);
    }
}
