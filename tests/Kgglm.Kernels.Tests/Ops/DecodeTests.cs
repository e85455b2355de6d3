using Kgglm.Kernels.Cpu;
using Kgglm.Kernels.Ops;
using Kgglm.Kernels.Tests.OpsSupport;

namespace Kgglm.Kernels.Tests.Ops;

/// <summary>
/// Incremental decoding ops against float64 (attention rtol 1e-4, atol 1e-5; log-sum-exp
/// rtol 1e-6, atol 1e-5; gather exact); decoding position by position equals the training
/// path's causal attention; thread-count bit equality.
/// </summary>
public class DecodeTests
{
    [Theory]
    [InlineData(1, 16, 2)]
    [InlineData(5, 32, 4)]
    [InlineData(3, 20, 5)]
    public void Decoding_every_position_matches_the_reference_and_full_causal_attention(
        int N, int C, int NH)
    {
        const int T = 9;
        using var kernels = new CpuKernels(2);
        using var s = new Scratch(1 << 18);
        long stride = (T * 2 * C) + 3; // odd stride: the op must not assume alignment
        float[] all = Check.Random(N * T * 3 * C, C + N, 2f); // [N, T, 3C]
        Tensor full = s.Floats(all.Length, all), y = s.Floats(N * T * C);
        Tensor probs = s.Floats(N * NH * T * T);
        kernels.AttentionForward(full, N, T, C, NH, DropoutSpec.None, y, probs);
        float[] expected = CpuArena.Span(y).ToArray();

        Tensor cache = s.Floats(N * stride), qkv = s.Floats(N * 3 * C), output = s.Floats(N * C);
        var refCache = new double[N * stride];
        var refOut = new double[N * C];
        for (int t = 0; t < T; t++)
        {
            float[] step = new float[N * 3 * C];
            for (int n = 0; n < N; n++)
            {
                all.AsSpan(((n * T) + t) * 3 * C, 3 * C).CopyTo(step.AsSpan(n * 3 * C));
            }

            step.CopyTo(CpuArena.Span(qkv));
            kernels.AttentionDecode(qkv, N, t, C, NH, stride, cache, output);
            Decode.ReferenceAttention(Check.ToDouble(step), N, t, C, NH, refCache, stride, refOut);
            Check.Close(CpuArena.Span(output), refOut, 1e-4, 1e-5, $"decode t={t}");
            var fromFull = new double[N * C];
            for (int n = 0; n < N; n++)
            {
                for (int c = 0; c < C; c++)
                {
                    fromFull[(n * C) + c] = expected[(((n * T) + t) * C) + c];
                }
            }

            Check.Close(CpuArena.Span(output), fromFull, 1e-5, 1e-6, $"vs AttentionForward t={t}");
        }

        s.CheckGuards();
    }

    [Fact]
    public void Log_sum_exp_matches_the_reference()
    {
        using var kernels = new CpuKernels(2);
        foreach ((int m, int n) in new[] { (1, 1), (3, 7), (17, 1000), (4, 35609) })
        {
            using var s = new Scratch((m * n) + 4096);
            float[] x = Check.Random(m * n, n, 8f);
            Tensor tx = s.Floats(x.Length, x), lse = s.Floats(m);
            kernels.RowLogSumExp(tx, m, n, lse);
            var e = new double[m];
            Decode.ReferenceRowLogSumExp(Check.ToDouble(x), m, n, e);
            Check.Close(CpuArena.Span(lse), e, 1e-6, 1e-5, $"lse m={m} n={n}");
            s.CheckGuards();
        }
    }

    [Fact]
    public void Gather_rows_copies_exactly_and_refuses_bad_indices()
    {
        using var kernels = new CpuKernels(2);
        using var s = new Scratch(1 << 14);
        const int W = 37;
        float[] src = Check.Random(5 * W, 3);
        int[] idx = [4, 0, 0, 2, 3, 1, 4];
        Tensor ts = s.Floats(src.Length, src), td = s.Floats(idx.Length * W);
        kernels.GatherRows(ts, s.Ints(idx), idx.Length, W, td);
        float[] d = CpuArena.Span(td).ToArray();
        for (int i = 0; i < idx.Length; i++)
        {
            Check.Bitwise(src.AsSpan(idx[i] * W, W), d.AsSpan(i * W, W), $"row {i}");
        }

        Tensor flat = s.Floats(3);
        kernels.GatherRows(ts, s.Ints([5, 0, 100]), 3, 1, flat);
        Assert.Equal([src[5], src[0], src[100]], CpuArena.Span(flat).ToArray());
        Assert.Throws<ArgumentException>(() => kernels.GatherRows(ts, s.Ints([5]), 1, W, td));
        Assert.Throws<ArgumentException>(() => kernels.GatherRows(ts, s.Ints([0]), 1, W, ts));
        s.CheckGuards();
    }

    [Fact]
    public void Thread_count_does_not_change_bits()
    {
        float[][] r = new float[2][];
        for (int threads = 1; threads <= 2; threads++)
        {
            using var kernels = new CpuKernels(threads);
            using var s = new Scratch(1 << 18);
            const int N = 7, C = 64, NH = 4, T = 5;
            long stride = T * 2 * C;
            Tensor cache = s.Floats(N * stride), output = s.Floats(N * C);
            var outs = new List<float>();
            for (int t = 0; t < T; t++)
            {
                float[] q = Check.Random(N * 3 * C, 10 + t, 2f);
                kernels.AttentionDecode(s.Floats(q.Length, q), N, t, C, NH, stride, cache, output);
                outs.AddRange(CpuArena.Span(output).ToArray());
            }

            Tensor lse = s.Floats(N);
            kernels.RowLogSumExp(cache, N, (int)stride, lse);
            outs.AddRange(CpuArena.Span(lse).ToArray());
            r[threads - 1] = [.. outs];
        }

        Check.Bitwise(r[0], r[1], "2 threads");
    }
}
