using ILGPU;

namespace Kgglm.Kernels.Gpu.Device;

/// <summary>The sizes of one causal attention call.</summary>
/// <param name="T">Sequence length (≤ 64).</param>
/// <param name="C">Channels; qkv rows hold 3C.</param>
/// <param name="NH">Heads.</param>
/// <param name="HS">Head size C / NH.</param>
/// <param name="Scale">1 / √HS.</param>
internal readonly record struct AttentionArgs(int T, int C, int NH, int HS, float Scale);

/// <summary>
/// Causal self-attention in four kernels, each writing every output element from one thread
/// that sums in index order (no atomics, no shared state):
/// <list type="number">
/// <item><see cref="Probabilities"/>: one thread per query row (b, h, t): <c>P =
/// softmax(q·kᵀ/√HS)</c>
/// into probabilities: [B, NH, T, T] (upper triangle 0).</item>
/// <item><see cref="Output"/>: one thread per output element (b, t, c): <c>Σ_t2 Pd[t, t2]·v[t2,
/// c]</c>,
/// Pd = P·keep/(1-p), the dropout element being the flat index into probabilities.</item>
/// <item><see cref="ScoreGradient"/>: one thread per query row: <c>dP = (dOut·vᵀ)·keep/(1-p)</c>,
/// <c>dS = P ⊙ (dP - rowsum(P ⊙ dP)) / √HS</c> into a scratch [B, NH, T, T].</item>
/// <item><see cref="InputGradient"/>: one thread per element of dQkv: [B, T, 3C] (overwritten):
/// <c>dq = dS·k</c>, <c>dk = dSᵀ·q</c>, <c>dv = Pdᵀ·dOut</c>.</item>
/// </list>
/// qkv: [B, T, 3C] with q, k, v at column blocks [0, C), [C, 2C), [2C, 3C), head h at h·HS.
/// </summary>
internal static class AttentionKernels
{
    /// <summary>One thread per (b·NH + h)·T + t; probabilities: [B, NH, T, T].</summary>
    public static void Probabilities(
        Index1D row, ArrayView<float> qkv, ArrayView<float> probabilities, AttentionArgs g)
    {
        int bh = row / g.T, t = row % g.T;
        int b = bh / g.NH, h = bh % g.NH;
        long qOff = (((long)b * g.T) + t) * 3 * g.C + (h * g.HS);
        long pOff = (long)row.X * g.T;

        // The probability row doubles as the scores' scratch.
        float max = float.NegativeInfinity;
        for (int t2 = 0; t2 <= t; t2++)
        {
            long kOff = ((((long)b * g.T) + t2) * 3 * g.C) + g.C + (h * g.HS);
            float dot = 0f;
            for (int i = 0; i < g.HS; i++)
            {
                dot += qkv[qOff + i] * qkv[kOff + i];
            }

            float s = dot * g.Scale;
            probabilities[pOff + t2] = s;
            max = MathF.Max(max, s);
        }

        float sum = 0f;
        for (int t2 = 0; t2 <= t; t2++)
        {
            float e = MathF.Exp(probabilities[pOff + t2] - max);
            probabilities[pOff + t2] = e;
            sum += e;
        }

        float inv = 1f / sum;
        for (int t2 = 0; t2 < g.T; t2++)
        {
            probabilities[pOff + t2] = t2 <= t ? probabilities[pOff + t2] * inv : 0f;
        }
    }

    /// <summary>One thread per element (b·T + t)·C + c of output: [B, T, C].</summary>
    public static void Output(
        Index1D i, ArrayView<float> qkv, ArrayView<float> probabilities, ArrayView<float> output,
        AttentionArgs g, DropoutArgs dropout)
    {
        int bt = i / g.C, c = i % g.C;
        int b = bt / g.T, t = bt % g.T;
        int bh = (b * g.NH) + (c / g.HS);
        long pOff = (((long)bh * g.T) + t) * g.T;
        float y = 0f;
        for (int t2 = 0; t2 <= t; t2++)
        {
            float pd = probabilities[pOff + t2] * dropout.Factor(pOff + t2);
            y += pd * qkv[((((long)b * g.T) + t2) * 3 * g.C) + (2 * g.C) + c];
        }

        output[i] = y;
    }

    /// <summary>One thread per query row (b·NH + h)·T + t; dScores: [B, NH, T, T].</summary>
    public static void ScoreGradient(
        Index1D row, ArrayView<float> dOutput, ArrayView<float> qkv,
        ArrayView<float> probabilities, ArrayView<float> dScores, AttentionArgs g,
        DropoutArgs dropout)
    {
        int bh = row / g.T, t = row % g.T;
        int b = bh / g.NH, h = bh % g.NH;
        long dyOff = ((((long)b * g.T) + t) * g.C) + (h * g.HS);
        long pOff = (long)row.X * g.T;
        float rowDot = 0f;
        for (int t2 = 0; t2 <= t; t2++)
        {
            long vOff = ((((long)b * g.T) + t2) * 3 * g.C) + (2 * g.C) + (h * g.HS);
            float dpd = 0f;
            for (int i = 0; i < g.HS; i++)
            {
                dpd += dOutput[dyOff + i] * qkv[vOff + i];
            }

            float dp = dpd * dropout.Factor(pOff + t2);
            dScores[pOff + t2] = dp;
            rowDot += probabilities[pOff + t2] * dp;
        }

        for (int t2 = 0; t2 < g.T; t2++)
        {
            dScores[pOff + t2] = t2 <= t
                ? probabilities[pOff + t2] * (dScores[pOff + t2] - rowDot) * g.Scale : 0f;
        }
    }

    /// <summary>One thread per element (b·T + t)·3C + j of dQkv: [B, T, 3C] (=).</summary>
    public static void InputGradient(
        Index1D i, ArrayView<float> dOutput, ArrayView<float> qkv,
        ArrayView<float> probabilities, ArrayView<float> dScores, ArrayView<float> dQkv,
        AttentionArgs g, DropoutArgs dropout)
    {
        int C3 = 3 * g.C;
        int bt = i / C3, j = i % C3;
        int b = bt / g.T, t = bt % g.T;
        int part = j / g.C, c = j % g.C;
        int bh = (b * g.NH) + (c / g.HS);
        long bhRows = (long)bh * g.T;
        long bRows = (long)b * g.T;
        float s = 0f;
        if (part == 0)
        {
            // dq[t] = Σ_{t2 ≤ t} dS[t, t2]·k[t2]
            for (int t2 = 0; t2 <= t; t2++)
            {
                s += dScores[((bhRows + t) * g.T) + t2] * qkv[((bRows + t2) * C3) + g.C + c];
            }
        }
        else if (part == 1)
        {
            // dk[t] = Σ_{t' ≥ t} dS[t', t]·q[t']
            for (int t1 = t; t1 < g.T; t1++)
            {
                s += dScores[((bhRows + t1) * g.T) + t] * qkv[((bRows + t1) * C3) + c];
            }
        }
        else
        {
            // dv[t] = Σ_{t' ≥ t} Pd[t', t]·dOut[t']
            for (int t1 = t; t1 < g.T; t1++)
            {
                long e = ((bhRows + t1) * g.T) + t;
                s += probabilities[e] * dropout.Factor(e) * dOutput[((bRows + t1) * g.C) + c];
            }
        }

        dQkv[i] = s;
    }
}
