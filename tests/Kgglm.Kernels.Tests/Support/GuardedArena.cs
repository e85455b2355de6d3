using Kgglm.Kernels;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Tests.Support;

/// <summary>
/// Tensors for kernel tests, each followed by a guard region filled with a sentinel, so that a
/// kernel writing past the end of its output (or anywhere it should not) is caught by
/// <see cref="CheckGuards"/>.
/// </summary>
internal sealed class GuardedArena : IDisposable
{
    /// <summary>Floats of guard after every tensor (four AVX-512 registers of overrun).</summary>
    public const int GuardLength = 64;

    /// <summary>A signalling-NaN bit pattern no kernel produces by arithmetic.</summary>
    public const int SentinelBits = 0x7FA5_A5A5;

    private readonly DeviceArena _arena;
    private readonly List<(Tensor Guard, string Name)> _guards = [];

    /// <summary>
    /// An arena of <paramref name="floatCapacity"/> floats on <paramref name="kernels"/>.
    /// </summary>
    public GuardedArena(CpuKernels kernels, long floatCapacity)
    {
        _arena = kernels.CreateArena("test", floatCapacity);
    }

    /// <summary>A tensor holding <paramref name="values"/>, then a guard.</summary>
    public Tensor Allocate(ReadOnlySpan<float> values, string name)
    {
        Tensor whole = _arena.AllocateFloat(values.Length + GuardLength);
        Tensor tensor = whole.Slice(0, values.Length);
        Tensor guard = whole.Slice(values.Length, GuardLength);
        values.CopyTo(CpuArena.Span(tensor));
        // Written and read as ints: a signalling NaN copied through float registers may come back
        // quieted (bit 22 set) in optimised builds.
        System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(CpuArena.Span(guard))
            .Fill(SentinelBits);
        _guards.Add((guard, name));
        return tensor;
    }

    /// <summary>A tensor of <paramref name="length"/> copies of <paramref name="fill"/>.</summary>
    public Tensor Allocate(int length, float fill, string name)
    {
        float[] values = new float[length];
        Array.Fill(values, fill);
        return Allocate(values, name);
    }

    /// <summary>The tensor's current contents.</summary>
    public static float[] Read(Tensor tensor) =>
        tensor.Length == 0 ? [] : CpuArena.Span(tensor).ToArray();

    /// <summary>Fails naming the first tensor whose guard region changed.</summary>
    public void CheckGuards()
    {
        foreach ((Tensor guard, string name) in _guards)
        {
            Span<int> g = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(
                CpuArena.Span(guard));
            for (int i = 0; i < g.Length; i++)
            {
                Assert.True(
                    g[i] == SentinelBits,
                    $"guard after '{name}' overwritten at +{i}: 0x{g[i]:X8}");
            }
        }
    }

    public void Dispose() => _arena.Dispose();
}
