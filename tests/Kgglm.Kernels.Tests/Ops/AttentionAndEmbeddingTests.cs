using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Kernels.Tests.OpsSupport;

namespace Kgglm.Kernels.Tests.Ops;

/// <summary>
/// Embedding (exact up to float sums: rtol 1e-6, atol 1e-6) and attention (rtol 1e-4, atol
/// 1e-5 forward; 1e-4 backward; sums over HS and T in float) against float64, with and without
/// dropout and types; reference backward vs finite differences; thread-count bit equality.
/// </summary>
public class AttentionAndEmbeddingTests
{
    public static TheoryData<SimdLevel> Levels => Check.Levels();

    [Theory]
    [MemberData(nameof(Levels))]
    public void EmbeddingMatchesReference(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        for (int C = 1; C <= 70; C++)
        {
            RunEmbedding(kernels, C, withTypes: C % 2 == 0);
        }
    }

    [Fact]
    public void EmbeddingThreadCountDoesNotChangeBits()
    {
        float[][] r = new float[3][];
        for (int threads = 1; threads <= 3; threads++)
        {
            using var kernels = new CpuKernels(threads);
            r[threads - 1] = RunEmbedding(kernels, 100, withTypes: true);
        }

        Check.Bitwise(r[0], r[1], "2 threads");
        Check.Bitwise(r[0], r[2], "3 threads");
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void AttentionMatchesReference(SimdLevel simd)
    {
        using var kernels = new CpuKernels(2, simd);
        RunAttention(kernels, 2, 9, 16, 2, DropoutSpec.None);
        RunAttention(kernels, 2, 9, 128, 2, new DropoutSpec(0.1f, 9, 1, 4));
        RunAttention(kernels, 1, 1, 12, 3, DropoutSpec.None);
        RunAttention(kernels, 1, 17, 20, 4, new DropoutSpec(0.3f, 1, 2, 3));
    }

    [Fact]
    public void AttentionThreadCountDoesNotChangeBits()
    {
        float[][] r = new float[3][];
        for (int threads = 1; threads <= 3; threads++)
        {
            using var kernels = new CpuKernels(threads);
            r[threads - 1] = RunAttention(kernels, 3, 9, 64, 4, new DropoutSpec(0.1f, 5, 6, 7));
        }

        Check.Bitwise(r[0], r[1], "2 threads");
        Check.Bitwise(r[0], r[2], "3 threads");
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.25f)]
    public void AttentionReferenceBackwardMatchesFiniteDifferences(float p)
    {
        const int B = 1, T = 3, C = 4, NH = 2;
        var spec = new DropoutSpec(p, 3, 1, 0);
        double[] qkv = Check.ToDouble(Check.Random(B * T * 3 * C, 11));
        double[] dy = Check.ToDouble(Check.Random(B * T * C, 12));
        double Loss()
        {
            var y = new double[B * T * C];
            Attention.ReferenceForward(qkv, B, T, C, NH, spec, y, new double[B * NH * T * T]);
            return y.Select((v, i) => v * dy[i]).Sum();
        }

        var probs = new double[B * NH * T * T];
        Attention.ReferenceForward(qkv, B, T, C, NH, spec, new double[B * T * C], probs);
        var dqkv = new double[qkv.Length];
        Attention.ReferenceBackward(dy, qkv, probs, B, T, C, NH, spec, dqkv);
        FiniteDifference.Assert(qkv, Loss, dqkv, "dQkv");
    }

    private static float[] RunEmbedding(CpuKernels kernels, int C, bool withTypes)
    {
        const int B = 3, T = 4, V = 11, MaxT = 6;
        using var s = new Scratch(1 << 16);
        var rng = new Random(C);
        int[] tok = Enumerable.Range(0, B * T).Select(_ => rng.Next(V)).ToArray();
        int[] typ = withTypes ? Enumerable.Range(0, B * T).Select(_ => rng.Next(3)).ToArray() : [];
        tok[1] = tok[0]; // repeated rows accumulate
        float[] wte = Check.Random(V * C, C + 1), wpe = Check.Random(MaxT * C, C + 2);
        float[] dys = Check.Random(B * T * C, C + 3);
        float[] dWte0 = Check.Random(V * C, C + 4), dWpe0 = Check.Random(MaxT * C, C + 5);
        IntTensor tt = s.Ints(tok), ty = withTypes ? s.Ints(typ) : default;
        Tensor tw = s.Floats(V * C, wte), tp = s.Floats(MaxT * C, wpe), y = s.Floats(B * T * C);
        Tensor dy = s.Floats(B * T * C, dys), dWte = s.Floats(V * C, dWte0);
        Tensor dWpe = s.Floats(MaxT * C, dWpe0);
        kernels.EmbeddingForward(tt, ty, tw, tp, B, T, C, y);
        kernels.EmbeddingBackward(dy, tt, ty, B, T, C, V, dWte, dWpe);

        var ey = new double[B * T * C];
        Embedding.ReferenceForward(tok, typ, wte, wpe, B, T, C, ey);
        double[] edWte = Check.ToDouble(dWte0), edWpe = Check.ToDouble(dWpe0);
        Embedding.ReferenceBackward(dys, tok, typ, B, T, C, edWte, edWpe);
        Check.Close(CpuArena.Span(y), ey, 1e-6, 1e-6, $"embedding C={C}");
        Check.Close(CpuArena.Span(dWte), edWte, 1e-6, 1e-6, $"dWte C={C}");
        Check.Close(CpuArena.Span(dWpe), edWpe, 1e-6, 1e-6, $"dWpe C={C}");
        s.CheckGuards();
        return [.. CpuArena.Span(y), .. CpuArena.Span(dWte), .. CpuArena.Span(dWpe)];
    }

    private static float[] RunAttention(
        CpuKernels kernels, int B, int T, int C, int NH, DropoutSpec spec)
    {
        using var s = new Scratch(1 << 18);
        float[] qkv = Check.Random(B * T * 3 * C, C * T, 2f), dys = Check.Random(B * T * C, C);
        Tensor tq = s.Floats(qkv.Length, qkv), y = s.Floats(B * T * C);
        Tensor probs = s.Floats(B * NH * T * T), dy = s.Floats(dys.Length, dys);
        Tensor dq = s.Floats(qkv.Length, Check.Random(qkv.Length, 1)); // overwritten
        kernels.AttentionForward(tq, B, T, C, NH, spec, y, probs);
        kernels.AttentionBackward(dy, tq, probs, B, T, C, NH, spec, dq);

        var ey = new double[B * T * C];
        var ep = new double[B * NH * T * T];
        var edq = new double[qkv.Length];
        Attention.ReferenceForward(Check.ToDouble(qkv), B, T, C, NH, spec, ey, ep);
        Attention.ReferenceBackward(Check.ToDouble(dys), Check.ToDouble(qkv), ep, B, T, C, NH,
            spec, edq);
        string at = $"B={B} T={T} C={C} NH={NH} p={spec.P}";
        Check.Close(CpuArena.Span(probs), ep, 1e-5, 1e-6, $"probabilities {at}");
        Check.Close(CpuArena.Span(y), ey, 1e-4, 1e-5, $"output {at}");
        Check.Close(CpuArena.Span(dq), edq, 1e-4, 1e-4, $"dQkv {at}");
        s.CheckGuards();
        return [.. CpuArena.Span(y), .. CpuArena.Span(probs), .. CpuArena.Span(dq)];
    }
}
