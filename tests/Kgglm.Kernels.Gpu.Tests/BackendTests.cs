using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Kgglm.Kernels.Cpu;

namespace Kgglm.Kernels.Gpu.Tests;

/// <summary>A short training-like sequence of ops whose every output is downloaded.</summary>
internal static class Determinism
{
    public static List<float[]> Run(IKernels k)
    {
        using var h = new Host(k);
        const int B = 2, T = 4, C = 8, NH = 2, V = 11;
        var drop = new DropoutSpec(0.1f, 5, 2, 1);
        int[] tokens = [1, 5, 7, 10, 0, 3, 3, 9];
        Tensor wte = h.F(Check.Random(V * C, 1)), wpe = h.F(Check.Random(T * C, 2));
        Tensor x = h.Zeros(B * T * C);
        k.EmbeddingForward(h.I(tokens), default, wte, wpe, B, T, C, x);
        Tensor w = h.F(Check.Random(C * 3 * C, 3)), qkv = h.Zeros(B * T * 3 * C);
        k.MatMulNN(x, w, default, B * T, C, 3 * C, qkv, false);
        Tensor att = h.Zeros(B * T * C), p = h.Zeros(B * NH * T * T);
        k.AttentionForward(qkv, B, T, C, NH, drop, att, p);
        Tensor dQkv = h.Zeros(B * T * 3 * C);
        k.AttentionBackward(att, qkv, p, B, T, C, NH, drop, dQkv);
        Tensor dW = h.Zeros(C * 3 * C), dX = h.Zeros(B * T * C);
        k.MatMulTN(x, dQkv, C, B * T, 3 * C, dW, true);
        k.MatMulNT(dQkv, w, B * T, 3 * C, C, dX, false);
        Tensor dWte = h.Zeros(V * C), dWpe = h.Zeros(T * C);
        k.EmbeddingBackward(dX, h.I(tokens), default, B, T, C, V, dWte, dWpe);
        double norm = k.SquaredNorm(dW, C * 3 * C);
        return [h.Get(att), h.Get(p), h.Get(dQkv), h.Get(dW), h.Get(dX), h.Get(dWte),
            [(float)norm]];
    }

    public static void AssertRepeatable(IKernels k)
    {
        List<float[]> first = Run(k), second = Run(k);
        for (int i = 0; i < first.Count; i++)
        {
            Check.Bitwise(first[i], second[i], $"output {i}");
        }
    }
}

/// <summary>Checks of the ILGPU backend against the SIMD engine.</summary>
internal static class Parity
{
    public static void Dropout(IKernels gpu, IKernels cpu)
    {
        const int n = 5000;
        float[] x = Check.Random(n, 60);
        var spec = new DropoutSpec(0.25f, 77, 123, 9);
        Assert.Equal(Run(cpu), Run(gpu));

        float[][] Run(IKernels k)
        {
            using var h = new Host(k);
            Tensor y = h.Zeros(n);
            k.DropoutForward(h.F(x), n, spec, y);
            return [h.Get(y)];
        }
    }
}

/// <summary>ILGPU-specific tests on the CPU accelerator.</summary>
public sealed class IlgpuBackendTests(IlgpuCpuFixture fixture) : IClassFixture<IlgpuCpuFixture>
{
    [Fact]
    public void TwoRunsAreBitwiseEqual() => Determinism.AssertRepeatable(fixture.Kernels);

    [Fact]
    public void DropoutMasksAreBitEqualToTheCpuEngine()
    {
        using var cpu = new CpuKernels(2);
        Parity.Dropout(fixture.Kernels, cpu);
    }

    [Fact]
    public void SquaredNormIsBitEqualToTheCpuEngine()
    {
        using var cpu = new CpuKernels(2);
        float[] x = Check.Random(50_001, 61, 3f);
        Assert.Equal(Norm(cpu), Norm(fixture.Kernels));

        double Norm(IKernels k)
        {
            using var h = new Host(k);
            return k.SquaredNorm(h.F(x), x.Length);
        }
    }

    [Fact]
    public void MatchesTheCpuEngineWithinTolerance()
    {
        using var cpu = new CpuKernels(2);
        List<float[]> expected = Determinism.Run(cpu), actual = Determinism.Run(fixture.Kernels);
        for (int i = 0; i < expected.Count; i++)
        {
            Check.Close(actual[i], expected[i], 1e-4, 1e-5, $"output {i}");
        }
    }

    [Fact]
    public void RejectsTensorsOfAnotherBackend()
    {
        using var cpu = new CpuKernels(1);
        using DeviceArena arena = cpu.CreateArena("cpu", 64);
        Tensor t = arena.AllocateFloat(16);
        Assert.Throws<ArgumentException>(() => fixture.Kernels.Fill(1f, t));
    }
}

/// <summary>CUDA selection and PTX compilation, both without a GPU.</summary>
public sealed class CudaWithoutDeviceTests
{
    /// <summary>
    /// Compiles every kernel of <c>Device/</c> to PTX for sm_90 with ILGPU's PTX backend, which
    /// needs neither a GPU nor a CUDA install: catches "runs on the CPU accelerator, fails to
    /// compile for CUDA" early. It does not run ptxas, so driver-side errors are not caught.
    /// </summary>
    [Fact]
    public void EveryKernelCompilesToPtx()
    {
        using Context context = Context.Create(b => b.DefaultCPU().EnableAlgorithms());
        using var backend = new PTXBackend(
            context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90,
            CudaInstructionSet.ISA_80, null);
        var compiled = new List<string>();
        foreach (Type type in KernelTable.KernelClasses)
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Static
                | BindingFlags.DeclaredOnly))
            {
                if (method.ReturnType != typeof(void))
                {
                    continue;
                }

                bool implicitGroups = method.GetParameters()[0].ParameterType == typeof(Index1D);
                EntryPointDescription entry = implicitGroups
                    ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
                    : EntryPointDescription.FromExplicitlyGroupedKernel(method);
                var kernel = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
                Assert.Contains(".entry", kernel.PTXAssembly, StringComparison.Ordinal);
                compiled.Add($"{type.Name}.{method.Name}");
            }
        }

        // 29 kernels: every op of IKernels has at least one.
        Assert.Equal(29, compiled.Count);
    }

    [Fact]
    public void TryCreateCudaReportsWhy()
    {
        bool found = IlgpuKernels.TryCreateCuda(out IlgpuKernels? kernels, out string reason);
        using (kernels)
        {
            if (found)
            {
                Assert.StartsWith("cuda: ", kernels!.Name);
                Assert.Empty(reason);
            }
            else
            {
                Assert.Null(kernels);
                Assert.False(string.IsNullOrWhiteSpace(reason));
                Assert.DoesNotContain('\n', reason);
            }
        }
    }
}
