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
        long stride = (N * 2 * C) + 3; // odd stride: the op must not assume alignment
        float[] all = Check.Random(N * T * 3 * C, C + N, 2f); // [N, T, 3C]
        Tensor full = s.Floats(all.Length, all), y = s.Floats(N * T * C);
        Tensor probs = s.Floats(N * NH * T * T);
        kernels.AttentionForward(full, N, T, C, NH, DropoutSpec.None, y, probs);
        float[] expected = CpuArena.Span(y).ToArray();

        // Every row keeps its own slots: ancestors[n, j] = n.
        Tensor cache = s.Floats(T * stride), qkv = s.Floats(N * 3 * C), output = s.Floats(N * C);
        var refCache = new double[T * stride];
        var refOut = new double[N * C];
        for (int t = 0; t < T; t++)
        {
            float[] step = new float[N * 3 * C];
            for (int n = 0; n < N; n++)
            {
                all.AsSpan(((n * T) + t) * 3 * C, 3 * C).CopyTo(step.AsSpan(n * 3 * C));
            }

            int[] ancestors = Enumerable.Range(0, N * t).Select(i => i / Math.Max(t, 1)).ToArray();
            step.CopyTo(CpuArena.Span(qkv));
            kernels.AttentionDecode(
                qkv, s.Ints(ancestors), N, t, C, NH, stride, cache, output);
            Decode.ReferenceAttention(
                Check.ToDouble(step), ancestors, N, t, C, NH, refCache, stride, refOut);
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
    public void Rows_that_continue_a_shared_prefix_read_its_slots()
    {
        // Beam search in miniature: at every step each row continues a random parent row, so
        // rows share prefixes. Each row's output must equal causal attention over its own
        // materialised sequence, and the float64 reference.
        const int N = 5, C = 32, NH = 4, T = 7;
        using var kernels = new CpuKernels(2);
        using var s = new Scratch(1 << 19);
        long stride = (N * 2 * C) + 5;
        var rng = new Random(21);
        Tensor cache = s.Floats(T * stride), qkv = s.Floats(N * 3 * C), output = s.Floats(N * C);
        var refCache = new double[T * stride];
        var refOut = new double[N * C];
        var paths = new int[N][];          // slot of each earlier position, per row
        var sequences = new float[N][];    // the row's qkv at every position so far
        for (int n = 0; n < N; n++)
        {
            paths[n] = [];
            sequences[n] = [];
        }

        for (int t = 0; t < T; t++)
        {
            if (t > 0)
            {
                int[] parents = Enumerable.Range(0, N).Select(_ => rng.Next(N)).ToArray();
                paths = parents.Select(p => paths[p].Append(p).ToArray()).ToArray();
                sequences = parents.Select(p => sequences[p]).ToArray();
            }

            float[] step = Check.Random(N * 3 * C, 30 + t, 2f);
            int[] ancestors = paths.SelectMany(p => p).ToArray();
            step.CopyTo(CpuArena.Span(qkv));
            kernels.AttentionDecode(
                qkv, s.Ints(ancestors), N, t, C, NH, stride, cache, output);
            Decode.ReferenceAttention(
                Check.ToDouble(step), ancestors, N, t, C, NH, refCache, stride, refOut);
            Check.Close(CpuArena.Span(output), refOut, 1e-4, 1e-5, $"tree decode t={t}");

            for (int n = 0; n < N; n++)
            {
                sequences[n] = [.. sequences[n], .. step.AsSpan(n * 3 * C, 3 * C)];
                using var f = new Scratch(1 << 16);
                Tensor seq = f.Floats(sequences[n].Length, sequences[n]);
                Tensor y = f.Floats((t + 1) * C), probs = f.Floats(NH * (t + 1) * (t + 1));
                kernels.AttentionForward(seq, 1, t + 1, C, NH, DropoutSpec.None, y, probs);
                float[] last = CpuArena.Span(y).Slice(t * C, C).ToArray();
                Check.Close(CpuArena.Span(output).Slice(n * C, C), Check.ToDouble(last), 1e-5,
                    1e-6, $"row {n} vs its own sequence, t={t}");
            }
        }

        Assert.Throws<ArgumentException>(() => kernels.AttentionDecode(qkv,
            s.Ints([0, (int)(stride / (2 * C))]), 2, 1, C, NH, stride, cache, output));
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
            long stride = N * 2 * C;
            Tensor cache = s.Floats(T * stride), output = s.Floats(N * C);
            var outs = new List<float>();
            for (int t = 0; t < T; t++)
            {
                float[] q = Check.Random(N * 3 * C, 10 + t, 2f);
                int[] ancestors = Enumerable.Range(0, N * t).Select(i => (i * 3) % N).ToArray();
                kernels.AttentionDecode(s.Floats(q.Length, q), s.Ints(ancestors), N, t, C, NH,
                    stride, cache, output);
                outs.AddRange(CpuArena.Span(output).ToArray());
            }

            Tensor lse = s.Floats(N);
            kernels.RowLogSumExp(cache, N, (int)(T * stride / N), lse);
            outs.AddRange(CpuArena.Span(lse).ToArray());
            r[threads - 1] = [.. outs];
        }

        Check.Bitwise(r[0], r[1], "2 threads");
    }
}
