namespace Kgglm.Kernels;

/// <summary>
/// The argument checks every backend makes at the <see cref="IKernels"/> boundary, so a wrong
/// size names the argument and the expected and found values the same way on every backend.
/// Messages are built only on failure: a passing check allocates nothing.
/// </summary>
internal static partial class KernelArguments
{
    /// <summary>Throws unless <paramref name="t"/> holds ≥ <paramref name="elements"/>.</summary>
    public static void Need(Tensor t, long elements, string name)
    {
        if (t.Length < elements)
        {
            throw new ArgumentException(
                $"{name}: expected at least {elements} elements, found {t.Length}", name);
        }
    }

    /// <summary>Throws unless <paramref name="t"/> holds ≥ <paramref name="elements"/>.</summary>
    public static void Need(IntTensor t, long elements, string name)
    {
        if (t.Length < elements)
        {
            throw new ArgumentException(
                $"{name}: expected at least {elements} elements, found {t.Length}", name);
        }
    }

    /// <summary>Throws unless <paramref name="value"/> &gt; 0.</summary>
    public static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"{name}: expected > 0, found {value}", name);
        }
    }

    /// <summary>Throws unless <paramref name="value"/> ≥ 0.</summary>
    public static void NonNegative(long value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentException($"{name}: expected ≥ 0, found {value}", name);
        }
    }

    /// <summary>Throws unless the drop probability is in [0, 1).</summary>
    public static void CheckDropout(DropoutSpec dropout)
    {
        if (!(dropout.P >= 0f && dropout.P < 1f))
        {
            throw new ArgumentException(
                $"dropout: expected P in [0, 1), found {dropout.P}", nameof(dropout));
        }
    }

    /// <summary>Throws unless a host span and a tensor have the same length.</summary>
    public static void CheckLength(long source, long destination)
    {
        if (source != destination)
        {
            throw new ArgumentException($"length mismatch: {source} elements into {destination}");
        }
    }
}
