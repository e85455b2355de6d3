using Kgglm.Network;

namespace Kgglm.Tests.Network;

/// <summary>
/// A plain float64 GPT-2 forward pass (no dropout): the oracle for the model's loss, and,
/// through central finite differences, for its gradients. Loops only, no tricks.
/// </summary>
internal sealed class ReferenceGpt2
{
    private readonly Gpt2Shape _s;
    private readonly Dictionary<string, double[]> _w;
    private readonly int _ignore;

    public ReferenceGpt2(Gpt2Shape shape, Dictionary<string, double[]> weights, int ignoreId)
    {
        _s = shape;
        _w = weights;
        _ignore = ignoreId;
    }

    public Dictionary<string, double[]> Weights => _w;

    /// <summary>
    /// Sum of the token losses of [B, T] tokens; <paramref name="count"/> targets counted.
    /// </summary>
    public double LossSum(int[] tokens, out int count)
    {
        int T = _s.Positions, C = _s.Channels, V = _s.VocabSize;
        int B = tokens.Length / T;
        double[] wte = _w["transformer.wte.weight"];
        double total = 0;
        count = 0;
        for (int b = 0; b < B; b++)
        {
            double[][] h = Hidden(tokens.AsSpan(b * T, T));

            for (int t = 0; t < T - 1; t++)
            {
                int target = tokens[(b * T) + t + 1];
                if (target == _ignore)
                {
                    continue;
                }

                double[] x = LayerNorm(h[t], _w["transformer.ln_f.weight"],
                    _w["transformer.ln_f.bias"]);
                var logits = new double[V];
                double max = double.NegativeInfinity;
                for (int v = 0; v < V; v++)
                {
                    double dot = 0;
                    for (int c = 0; c < C; c++)
                    {
                        dot += x[c] * wte[(v * C) + c];
                    }

                    logits[v] = dot;
                    max = Math.Max(max, dot);
                }

                double sum = logits.Sum(z => Math.Exp(z - max));
                total += Math.Log(sum) + max - logits[target];
                count++;
            }
        }

        return total;
    }

    /// <summary>
    /// Log-softmax over the vocabulary of the token after <paramref name="prefix"/> (any length
    /// up to Positions; types by absolute position), by a full forward of the prefix.
    /// </summary>
    public double[] NextLogProbabilities(int[] prefix)
    {
        double[][] h = Hidden(prefix);
        double[] x = LayerNorm(h[^1], _w["transformer.ln_f.weight"], _w["transformer.ln_f.bias"]);
        double[] wte = _w["transformer.wte.weight"];
        int C = _s.Channels;
        var logits = new double[_s.VocabSize];
        for (int v = 0; v < logits.Length; v++)
        {
            for (int c = 0; c < C; c++)
            {
                logits[v] += x[c] * wte[(v * C) + c];
            }
        }

        double max = logits.Max();
        double lse = max + Math.Log(logits.Sum(z => Math.Exp(z - max)));
        return logits.Select(z => z - lse).ToArray();
    }

    /// <summary>The residual stream after the last block: [L][C] for L tokens.</summary>
    private double[][] Hidden(ReadOnlySpan<int> tokens)
    {
        int T = tokens.Length, C = _s.Channels, NH = _s.Heads, HS = C / NH;
        double[] wte = _w["transformer.wte.weight"], wpe = _w["transformer.wpe.weight"];
        // Embedding.
        var h = new double[T][];
        for (int t = 0; t < T; t++)
        {
            h[t] = new double[C];
            int tok = tokens[t];
            int type = _s.TypeTokens?.At(t, _s.Positions) ?? -1;
            for (int c = 0; c < C; c++)
            {
                h[t][c] = wte[(tok * C) + c] + wpe[(t * C) + c]
                    + (type >= 0 ? wte[(type * C) + c] : 0);
            }
        }

        for (int l = 0; l < _s.Layers; l++)
        {
            string p = $"transformer.h.{l}.";
            var ln1 = h.Select(x => LayerNorm(x, _w[p + "ln_1.weight"], _w[p + "ln_1.bias"]))
                .ToArray();
            var qkv = ln1.Select(x => Linear(x, _w[p + "attn.c_attn.weight"],
                _w[p + "attn.c_attn.bias"], 3 * C)).ToArray();
            var att = new double[T][];
            for (int t = 0; t < T; t++)
            {
                att[t] = new double[C];
                for (int hd = 0; hd < NH; hd++)
                {
                    var scores = new double[t + 1];
                    double max = double.NegativeInfinity;
                    for (int u = 0; u <= t; u++)
                    {
                        double dot = 0;
                        for (int i = 0; i < HS; i++)
                        {
                            dot += qkv[t][(hd * HS) + i] * qkv[u][C + (hd * HS) + i];
                        }

                        scores[u] = dot / Math.Sqrt(HS);
                        max = Math.Max(max, scores[u]);
                    }

                    double sum = 0;
                    for (int u = 0; u <= t; u++)
                    {
                        scores[u] = Math.Exp(scores[u] - max);
                        sum += scores[u];
                    }

                    for (int u = 0; u <= t; u++)
                    {
                        for (int i = 0; i < HS; i++)
                        {
                            att[t][(hd * HS) + i] +=
                                scores[u] / sum * qkv[u][(2 * C) + (hd * HS) + i];
                        }
                    }
                }
            }

            for (int t = 0; t < T; t++)
            {
                double[] proj = Linear(att[t], _w[p + "attn.c_proj.weight"],
                    _w[p + "attn.c_proj.bias"], C);
                for (int c = 0; c < C; c++)
                {
                    h[t][c] += proj[c];
                }

                double[] ln2 = LayerNorm(h[t], _w[p + "ln_2.weight"], _w[p + "ln_2.bias"]);
                double[] fc = Linear(ln2, _w[p + "mlp.c_fc.weight"],
                    _w[p + "mlp.c_fc.bias"], 4 * C);
                for (int i = 0; i < fc.Length; i++)
                {
                    double x = fc[i];
                    fc[i] = 0.5 * x
                        * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));
                }

                double[] mlp = Linear(fc, _w[p + "mlp.c_proj.weight"],
                    _w[p + "mlp.c_proj.bias"], C);
                for (int c = 0; c < C; c++)
                {
                    h[t][c] += mlp[c];
                }
            }
        }

        return h;
    }

    private static double[] LayerNorm(double[] x, double[] w, double[] b)
    {
        double mean = x.Average();
        double var = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        double rstd = 1 / Math.Sqrt(var + 1e-5);
        return x.Select((v, i) => ((v - mean) * rstd * w[i]) + b[i]).ToArray();
    }

    private static double[] Linear(double[] x, double[] w, double[] bias, int outDim)
    {
        var y = new double[outDim];
        for (int o = 0; o < outDim; o++)
        {
            double s = bias[o];
            for (int i = 0; i < x.Length; i++)
            {
                s += x[i] * w[(i * outDim) + o];
            }

            y[o] = s;
        }

        return y;
    }
}
