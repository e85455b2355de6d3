using Kgglm.Kernels.Ops;

namespace Kgglm.Kernels.Gpu.Tests;

/// <summary>
/// The op checks shared by every backend: each runs one op at a small shape (odd sizes, so tile
/// and vector edges are hit) and compares with the float64 reference of <c>Ops/</c>.
/// Tolerances (|diff| ≤ atol + rtol·|expected|): matmul and bias with integer inputs exact,
/// random matmul 1e-5 + 1e-5; embedding 1e-6 + 1e-6; LayerNorm 1e-5 + 1e-4; gelu 1e-6 + 1e-5;
/// add, accumulate, fill, copy, gather exact or 1e-7; dropout bit-exact; attention 1e-5 + 1e-4;
/// cross-entropy 1e-6 + 1e-4; squared norm 1e-12 relative; AdamW 1e-7 + 1e-5; decode 1e-5 + 1e-4.
/// </summary>
internal static class OpChecks
{
    private static readonly Dictionary<string, Action<IKernels>> All = new()
    {
        ["MatMulExact"] = MatMulExact,
        ["MatMulRandom"] = MatMulRandom,
        ["MatMulPacked"] = MatMulPacked,
        ["BiasBackward"] = BiasBackward,
        ["Embedding"] = Embedding,
        ["LayerNorm"] = LayerNorm,
        ["Gelu"] = Gelu,
        ["Elementwise"] = Elementwise,
        ["Dropout"] = Dropout,
        ["Attention"] = Attention,
        ["CrossEntropy"] = CrossEntropy,
        ["SquaredNorm"] = SquaredNorm,
        ["AdamW"] = AdamW,
        ["Decode"] = Decode,
    };

    public static IEnumerable<string> Names => All.Keys;

    public static void Run(string name, IKernels kernels) => All[name](kernels);

    private static void MatMulExact(IKernels k)
    {
        using var h = new Host(k);
        foreach ((int m, int kk, int n) in new[] { (7, 9, 5), (13, 17, 11), (1, 3, 1) })
        {
            foreach (MatMulLayout layout in new[] { MatMulLayout.NN, MatMulLayout.NT,
                MatMulLayout.TN })
            {
                float[] a = Check.Integers(m * kk, 1), b = Check.Integers(kk * n, 2);
                float[] bias = layout == MatMulLayout.NN ? Check.Integers(n, 3) : [];
                float[] c0 = Check.Integers(m * n, 4);
                foreach (bool accumulate in new[] { false, true })
                {
                    Tensor c = h.F(c0);
                    Tensor ta = h.F(a), tb = h.F(b);
                    switch (layout)
                    {
                        case MatMulLayout.NN:
                            k.MatMulNN(ta, tb, h.F(bias), m, kk, n, c, accumulate);
                            break;
                        case MatMulLayout.NT:
                            k.MatMulNT(ta, tb, m, kk, n, c, accumulate);
                            break;
                        default:
                            k.MatMulTN(ta, tb, m, kk, n, c, accumulate);
                            break;
                    }

                    double[] expected = MatMul.Reference(
                        layout, a, b, bias, m, kk, n, c0, accumulate);
                    Check.Close(
                        h.Get(c), expected, 0, 0, $"{layout} {m}x{kk}x{n} acc={accumulate}");
                }
            }
        }
    }

    private static void MatMulRandom(IKernels k)
    {
        using var h = new Host(k);
        const int m = 10, kk = 37, n = 9;
        float[] a = Check.Random(m * kk, 5), b = Check.Random(kk * n, 6);
        Tensor c = h.Zeros(m * n);
        k.MatMulNT(h.F(a), h.F(b), m, kk, n, c, false);
        double[] expected = MatMul.Reference(MatMulLayout.NT, a, b, [], m, kk, n, [], false);
        Check.Close(h.Get(c), expected, 1e-5, 1e-5, "NT random");
    }

    private static void MatMulPacked(IKernels k)
    {
        // Packed NN (with bias) and NT operands, exact on integers, overwrite and accumulate.
        using var h = new Host(k);
        const int m = 13, kk = 17, n = 11;
        foreach (MatMulLayout layout in new[] { MatMulLayout.NN, MatMulLayout.NT })
        {
            float[] a = Check.Integers(m * kk, 9), b = Check.Integers(kk * n, 10);
            float[] bias = Check.Integers(n, 11), c0 = Check.Integers(m * n, 12);
            using PackedOperand packed = k.PackRight(h.F(b), layout, kk, n);
            foreach (bool accumulate in new[] { false, true })
            {
                Tensor c = h.F(c0);
                k.MatMulPacked(h.F(a), packed, h.F(bias), m, c, accumulate);
                double[] expected = MatMul.Reference(layout, a, b, bias, m, kk, n, c0, accumulate);
                Check.Close(h.Get(c), expected, 0, 0, $"packed {layout} acc={accumulate}");
            }
        }
    }

    private static void BiasBackward(IKernels k)
    {
        using var h = new Host(k);
        const int m = 9, n = 7;
        float[] d = Check.Integers(m * n, 7), b0 = Check.Integers(n, 8);
        Tensor bias = h.F(b0);
        k.BiasBackward(h.F(d), m, n, bias);
        Check.Close(h.Get(bias), MatMul.ReferenceBiasBackward(d, m, n, b0), 0, 0, "dBias");
    }

    private static void Embedding(IKernels k)
    {
        using var h = new Host(k);
        const int B = 2, T = 3, C = 5, V = 4;
        int[] tokens = [0, 3, 1, 1, 2, 3];
        int[] types = [2, 2, 0, 3, 1, 0];
        float[] wte = Check.Random(V * C, 9), wpe = Check.Random(T * C, 10);
        foreach (bool withTypes in new[] { false, true })
        {
            int[] ty = withTypes ? types : [];
            Tensor output = h.Zeros(B * T * C);
            k.EmbeddingForward(
                h.I(tokens), withTypes ? h.I(types) : default, h.F(wte), h.F(wpe), B, T, C,
                output);
            double[] expected = new double[B * T * C];
            Ops.Embedding.ReferenceForward(tokens, ty, wte, wpe, B, T, C, expected);
            Check.Close(h.Get(output), expected, 1e-6, 1e-6, $"embedding types={withTypes}");

            float[] d = Check.Random(B * T * C, 11), dWte0 = Check.Random(V * C, 12);
            float[] dWpe0 = Check.Random(T * C, 13);
            Tensor dWte = h.F(dWte0), dWpe = h.F(dWpe0);
            k.EmbeddingBackward(
                h.F(d), h.I(tokens), withTypes ? h.I(types) : default, B, T, C, V, dWte, dWpe);
            double[] eWte = Check.Wide(dWte0), eWpe = Check.Wide(dWpe0);
            Ops.Embedding.ReferenceBackward(d, tokens, ty, B, T, C, eWte, eWpe);
            Check.Close(h.Get(dWte), eWte, 1e-6, 1e-6, "dWte");
            Check.Close(h.Get(dWpe), eWpe, 1e-6, 1e-6, "dWpe");
        }
    }

    private static void LayerNorm(IKernels k)
    {
        using var h = new Host(k);
        const int N = 5, C = 19;
        float[] x = Check.Random(N * C, 14, 3f), w = Check.Random(C, 15), b = Check.Random(C, 16);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += 10f; // a large mean: the two-pass variance must not cancel
        }

        Tensor tx = h.F(x), tw = h.F(w), output = h.Zeros(N * C);
        Tensor mean = h.Zeros(N), rstd = h.Zeros(N);
        k.LayerNormForward(tx, tw, h.F(b), N, C, output, mean, rstd);
        double[] eOut = new double[N * C], eMean = new double[N], eRstd = new double[N];
        Ops.LayerNorm.ReferenceForward(
            Check.Wide(x), Check.Wide(w), Check.Wide(b), N, C, eOut, eMean, eRstd);
        Check.Close(h.Get(output), eOut, 1e-4, 1e-5, "ln output");
        Check.Close(h.Get(mean), eMean, 1e-5, 1e-6, "ln mean");
        Check.Close(h.Get(rstd), eRstd, 1e-4, 1e-6, "ln rstd");

        float[] d = Check.Random(N * C, 17), dx0 = Check.Random(N * C, 18);
        float[] dw0 = Check.Random(C, 19), db0 = Check.Random(C, 20);
        Tensor dx = h.F(dx0), dw = h.F(dw0), db = h.F(db0);
        k.LayerNormBackward(h.F(d), tx, tw, mean, rstd, N, C, dx, dw, db);
        double[] eDx = Check.Wide(dx0), eDw = Check.Wide(dw0), eDb = Check.Wide(db0);
        Ops.LayerNorm.ReferenceBackward(
            Check.Wide(d), Check.Wide(x), Check.Wide(w), eMean, eRstd, N, C, eDx, eDw, eDb);
        Check.Close(h.Get(dx), eDx, 1e-4, 1e-5, "ln dInput");
        Check.Close(h.Get(dw), eDw, 1e-4, 1e-5, "ln dWeight");
        Check.Close(h.Get(db), eDb, 1e-4, 1e-5, "ln dBias");
    }

    private static void Gelu(IKernels k)
    {
        using var h = new Host(k);
        const int n = 101;
        float[] x = Check.Random(n, 21, 6f), d = Check.Random(n, 22);
        Tensor tx = h.F(x), y = h.Zeros(n), dx = h.Zeros(n);
        k.GeluForward(tx, n, y);
        k.GeluBackward(h.F(d), tx, n, dx);
        double[] eY = new double[n], eDx = new double[n];
        for (int i = 0; i < n; i++)
        {
            eY[i] = Ops.Gelu.Reference(x[i]);
            eDx[i] = d[i] * Ops.Gelu.ReferenceDerivative(x[i]);
        }

        Check.Close(h.Get(y), eY, 1e-5, 1e-6, "gelu");
        Check.Close(h.Get(dx), eDx, 1e-5, 1e-6, "gelu backward");
    }

    private static void Elementwise(IKernels k)
    {
        using var h = new Host(k);
        const int n = 37;
        float[] a = Check.Random(n, 23), b = Check.Random(n, 24);
        Tensor ta = h.F(a), tb = h.F(b), y = h.Zeros(n);
        k.Add(ta, tb, n, y);
        double[] sum = new double[n];
        Residual.AddReference(a, b, sum);
        Check.Close(h.Get(y), sum, 1e-7, 0, "add");
        k.Accumulate(ta, n, tb);
        Check.Close(h.Get(tb), sum, 1e-7, 0, "accumulate");
        k.Fill(2.5f, y);
        Assert.All(h.Get(y), v => Assert.Equal(2.5f, v));
        k.Copy(ta, n - 1, y);
        float[] copied = h.Get(y);
        Check.Bitwise(copied.AsSpan(0, n - 1), a.AsSpan(0, n - 1), "copy");
        Assert.Equal(2.5f, copied[n - 1]);
    }

    private static void Dropout(IKernels k)
    {
        using var h = new Host(k);
        const int n = 1000;
        float[] x = Check.Random(n, 25);
        var spec = new DropoutSpec(0.3f, 1234, 7, 3);
        Tensor y = h.Zeros(n), dx = h.Zeros(n);
        k.DropoutForward(h.F(x), n, spec, y);
        k.DropoutBackward(h.F(x), n, spec, dx);

        // The expected product in float on the host: bit-exact, so the mask is too.
        DropoutKey key = DropoutKey.From(spec);
        float scale = DropoutKey.Scale(spec.P);
        float[] expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            expected[i] = x[i] * key.Factor(i, spec.P, scale);
        }

        Check.Bitwise(h.Get(y), expected, "dropout forward");
        Check.Bitwise(h.Get(dx), expected, "dropout backward");
        Tensor copy = h.Zeros(n);
        k.DropoutForward(h.F(x), n, DropoutSpec.None, copy);
        Check.Bitwise(h.Get(copy), x, "p = 0 copies");
    }

    private static void Attention(IKernels k)
    {
        using var h = new Host(k);
        const int B = 2, T = 5, C = 6, NH = 2;
        float[] qkv = Check.Random(B * T * 3 * C, 26), d = Check.Random(B * T * C, 27);
        foreach (DropoutSpec spec in new[] { DropoutSpec.None, new DropoutSpec(0.2f, 9, 1, 4) })
        {
            Tensor tq = h.F(qkv), output = h.Zeros(B * T * C), p = h.Zeros(B * NH * T * T);
            k.AttentionForward(tq, B, T, C, NH, spec, output, p);
            double[] eOut = new double[B * T * C], eP = new double[B * NH * T * T];
            Ops.Attention.ReferenceForward(Check.Wide(qkv), B, T, C, NH, spec, eOut, eP);
            Check.Close(h.Get(output), eOut, 1e-4, 1e-5, $"attention out p={spec.P}");
            Check.Close(h.Get(p), eP, 1e-4, 1e-6, $"attention probabilities p={spec.P}");

            Tensor dq = h.F(Check.Random(B * T * 3 * C, 28)); // overwritten
            k.AttentionBackward(h.F(d), tq, p, B, T, C, NH, spec, dq);
            double[] eDq = new double[B * T * 3 * C];
            Ops.Attention.ReferenceBackward(
                Check.Wide(d), Check.Wide(qkv), eP, B, T, C, NH, spec, eDq);
            Check.Close(h.Get(dq), eDq, 1e-4, 1e-5, $"attention dQkv p={spec.P}");
        }
    }

    private static void CrossEntropy(IKernels k)
    {
        using var h = new Host(k);
        const int M = 6, V = 23, chunk = 8, ignore = -100;
        float[] logits = Check.Random(M * V, 29, 4f);
        int[] targets = [0, 22, 7, ignore, 8, 15];
        IntTensor tt = h.I(targets);
        Tensor rowMax = h.Zeros(M), rowSum = h.Zeros(M), target = h.Zeros(M);
        var chunks = new List<(int V0, int Vc, float[] Logits)>();
        for (int v0 = 0; v0 < V; v0 += chunk)
        {
            int vc = Math.Min(chunk, V - v0);
            float[] part = new float[M * vc];
            for (int r = 0; r < M; r++)
            {
                Array.Copy(logits, (r * V) + v0, part, r * vc, vc);
            }

            chunks.Add((v0, vc, part));
            k.CrossEntropyStatistics(h.F(part), tt, M, vc, v0, rowMax, rowSum, target);
        }

        Tensor losses = h.Zeros(M);
        k.CrossEntropyLoss(rowMax, rowSum, target, tt, M, ignore, losses);
        const double scale = 1.0 / 5;
        double[] eLoss = new double[M], eD = new double[M * V];
        Ops.CrossEntropy.Reference(logits, targets, M, V, ignore, scale, eLoss, eD);
        Check.Close(h.Get(losses), eLoss, 1e-4, 1e-6, "losses");
        foreach ((int v0, int vc, float[] part) in chunks)
        {
            Tensor dl = h.F(part); // dLogits aliasing logits
            k.CrossEntropyBackward(dl, rowMax, rowSum, tt, M, vc, v0, (float)scale, ignore, dl);
            double[] e = new double[M * vc];
            for (int r = 0; r < M; r++)
            {
                Array.Copy(eD, (r * V) + v0, e, r * vc, vc);
            }

            Check.Close(h.Get(dl), e, 1e-4, 1e-6, $"dLogits chunk {v0}");
        }
    }

    private static void SquaredNorm(IKernels k)
    {
        using var h = new Host(k);
        foreach (int n in new[] { 0, 1, 17, 40_000 })
        {
            float[] x = Check.Random(n, 30 + n);
            double actual = k.SquaredNorm(h.F(x), n);
            double expected = GradNorm.Reference(x);
            Assert.True(
                Math.Abs(actual - expected) <= 1e-12 * Math.Max(1, expected),
                $"squared norm n={n}: {actual:R} vs {expected:R}");
        }
    }

    private static void AdamW(IKernels k)
    {
        using var h = new Host(k);
        const int n = 29;
        float[] p = Check.Random(n, 40), g = Check.Random(n, 41);
        float[] m = Check.Random(n, 42, 0.1f), v = Check.Random(n, 43, 0.01f);
        for (int i = 0; i < n; i++)
        {
            v[i] = Math.Abs(v[i]);
        }

        var step = new AdamWStep(1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 3, 0.5f);
        Tensor tp = h.F(p), tm = h.F(m), tv = h.F(v);
        k.AdamW(tp, h.F(g), tm, tv, n, step);
        double[] eP = Check.Wide(p), eM = Check.Wide(m), eV = Check.Wide(v);
        Ops.AdamW.Reference(eP, g, eM, eV, step);
        Check.Close(h.Get(tp), eP, 1e-5, 1e-7, "adamw param");
        Check.Close(h.Get(tm), eM, 1e-5, 1e-7, "adamw m");
        Check.Close(h.Get(tv), eV, 1e-5, 1e-9, "adamw v");
    }

    private static void Decode(IKernels k)
    {
        using var h = new Host(k);
        const int N = 3, t = 4, C = 6, NH = 3, maxT = 8;
        const long positionStride = (N * 2 * C) + 5; // padded: 3 slots of 2C and 5 spare floats
        float[] qkv = Check.Random(N * 3 * C, 50);
        float[] cache0 = Check.Random((int)(maxT * positionStride), 51);
        int[] ancestors = [2, 0, 1, 1, 0, 0, 2, 1, 1, 2, 0, 0]; // [N, t]: shared and crossed
        Tensor cache = h.F(cache0), output = h.Zeros(N * C);
        k.AttentionDecode(
            h.F(qkv), h.I(ancestors), N, t, C, NH, positionStride, cache, output);
        double[] eCache = Check.Wide(cache0), eOut = new double[N * C];
        Ops.Decode.ReferenceAttention(
            Check.Wide(qkv), ancestors, N, t, C, NH, eCache, positionStride, eOut);
        Check.Close(h.Get(output), eOut, 1e-4, 1e-5, "decode output");
        Check.Close(h.Get(cache), eCache, 0, 0, "decode cache");

        const int M = 4, W = 13;
        float[] x = Check.Random(M * W, 52, 8f);
        Tensor lse = h.Zeros(M);
        k.RowLogSumExp(h.F(x), M, W, lse);
        double[] eLse = new double[M];
        Ops.Decode.ReferenceRowLogSumExp(Check.Wide(x), M, W, eLse);
        Check.Close(h.Get(lse), eLse, 1e-6, 1e-6, "row logsumexp");

        int[] idx = [3, 0, 0, 2, 1];
        Tensor gathered = h.Zeros(idx.Length * W);
        k.GatherRows(h.F(x), h.I(idx), idx.Length, W, gathered);
        float[] eG = new float[idx.Length * W];
        for (int i = 0; i < idx.Length; i++)
        {
            Array.Copy(x, idx[i] * W, eG, i * W, W);
        }

        Check.Bitwise(h.Get(gathered), eG, "gather rows");
    }
}
