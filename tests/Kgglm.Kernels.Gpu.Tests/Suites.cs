using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Gpu.Tests;

/// <summary>One backend, created once per test class (ILGPU compiles its kernels once).</summary>
public abstract class BackendFixture : IDisposable
{
    private readonly Lazy<IKernels> _kernels;

    protected BackendFixture(Func<IKernels> create) => _kernels = new Lazy<IKernels>(create);

    public IKernels Kernels => _kernels.Value;

    public void Dispose()
    {
        if (_kernels.IsValueCreated)
        {
            _kernels.Value.Dispose();
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>ILGPU's CPU accelerator.</summary>
public sealed class IlgpuCpuFixture() : BackendFixture(IlgpuKernels.CreateCpuAccelerator);

/// <summary>The SIMD CPU engine: the suite's own sanity check (and the parity baseline).</summary>
public sealed class CpuSimdFixture() : BackendFixture(() => new CpuKernels(2));

/// <summary>
/// The first CUDA device; only created when <see cref="CudaFactAttribute"/> finds one.
/// </summary>
public sealed class CudaFixture() : BackendFixture(() => Cuda.Open());

/// <summary>The op names of the shared suite.</summary>
public static class SuiteData
{
    public static TheoryData<string> Ops => new(OpChecks.Names);
}

/// <summary>The shared op suite on ILGPU's CPU accelerator.</summary>
public sealed class IlgpuCpuOpTests(IlgpuCpuFixture fixture) : IClassFixture<IlgpuCpuFixture>
{
    [Theory]
    [MemberData(nameof(SuiteData.Ops), MemberType = typeof(SuiteData))]
    public void Op(string name) => OpChecks.Run(name, fixture.Kernels);

    [Fact]
    public void NameSaysTheDevice() => Assert.Equal("ilgpu-cpu (tests)", fixture.Kernels.Name);
}

/// <summary>
/// The same suite on the SIMD engine, so a failing ILGPU check is not the suite's fault.
/// </summary>
public sealed class CpuSimdOpTests(CpuSimdFixture fixture) : IClassFixture<CpuSimdFixture>
{
    [Theory]
    [MemberData(nameof(SuiteData.Ops), MemberType = typeof(SuiteData))]
    public void Op(string name) => OpChecks.Run(name, fixture.Kernels);
}

/// <summary>The same suite on CUDA; reported as skipped, with the reason, without a GPU.</summary>
public sealed class CudaOpTests(CudaFixture fixture) : IClassFixture<CudaFixture>
{
    [CudaTheory]
    [MemberData(nameof(SuiteData.Ops), MemberType = typeof(SuiteData))]
    public void Op(string name) => OpChecks.Run(name, fixture.Kernels);

    [CudaFact]
    public void NameSaysTheDevice() => Assert.StartsWith("cuda: ", fixture.Kernels.Name);

    [CudaFact]
    public void TwoRunsAreBitwiseEqual() => Determinism.AssertRepeatable(fixture.Kernels);

    [CudaFact]
    public void DropoutMasksEqualTheCpuEngine()
    {
        using var cpu = new CpuKernels(1);
        Parity.Dropout(fixture.Kernels, cpu);
    }
}
