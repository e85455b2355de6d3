using Kgglm.Kernels.Ops;

namespace Kgglm.Kernels;

/// <summary>
/// A constant right operand of <see cref="IKernels.MatMulPacked"/>: b as [K, N]
/// (<see cref="MatMulLayout.NN"/>, a linear layer's weight) or [N, K] read transposed
/// (<see cref="MatMulLayout.NT"/>, the tied head), arranged once by
/// <see cref="IKernels.PackRight"/> for many calls. Inference multiplies the same weights by
/// a new small batch hundreds of times; re-arranging them every call was 10-15% of a decode.
/// </summary>
/// <remarks>A packed operand is a snapshot: it must be packed again after its source tensor
/// changes (the decoder packs at the start of each decode). Dispose releases the backend's
/// copy, if it made one.</remarks>
public abstract class PackedOperand : IDisposable
{
    /// <summary>Describes an operand of <paramref name="layout"/> and size K × N.</summary>
    protected PackedOperand(MatMulLayout layout, int k, int n)
    {
        if (layout == MatMulLayout.TN)
        {
            throw new ArgumentException("a packed right operand is NN ([K, N]) or NT ([N, K])");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        Layout = layout;
        K = k;
        N = n;
    }

    /// <summary>How the source was stored.</summary>
    public MatMulLayout Layout { get; }

    /// <summary>Inner size.</summary>
    public int K { get; }

    /// <summary>Columns of the product.</summary>
    public int N { get; }

    /// <summary>Releases the backend's copy.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what the backend allocated (called once by <see cref="Dispose"/>).</summary>
    protected abstract void Release();
}

/// <summary>
/// The operand left where it is, for backends whose matmul reads it directly (ILGPU):
/// <see cref="IKernels.MatMulPacked"/> is then MatMulNN or MatMulNT on <see cref="Source"/>.
/// </summary>
public sealed class UnpackedOperand : PackedOperand
{
    /// <summary>A view of <paramref name="source"/>.</summary>
    public UnpackedOperand(Tensor source, MatMulLayout layout, int k, int n)
        : base(layout, k, n)
    {
        if (source.Length < (long)k * n)
        {
            throw new ArgumentException(
                $"b must hold {k} × {n} = {(long)k * n} floats, found {source.Length}",
                nameof(source));
        }

        Source = source;
    }

    /// <summary>The tensor itself.</summary>
    public Tensor Source { get; }

    /// <inheritdoc/>
    protected override void Release()
    {
    }
}
