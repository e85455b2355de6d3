using ILGPU;

namespace Kgglm.Kernels.Gpu.Device;

/// <summary>
/// Embedding and LayerNorm. Row reductions run one thread per row and column reductions one
/// thread per column, each over its elements in index order: the CPU engine's orders, so no
/// sum depends on the launch shape. Gradient rule as in IKernels: dWte, dWpe, dWeight, dBias
/// and LayerNorm's dInput are accumulated (+=).
/// </summary>
internal static class RowKernels
{
    private const float Epsilon = 1e-5f;

    /// <summary>
    /// One thread per element of output: [B·T, C]:
    /// <c>(wte[tokens[r]] + wpe[r mod T]) + wte[types[r]]</c>, the last term when hasTypes = 1.
    /// tokens, types: [B·T]; wte: [V, C]; wpe: [maxT, C].
    /// </summary>
    public static void EmbeddingForward(
        Index1D i, ArrayView<int> tokens, ArrayView<int> types, ArrayView<float> wte,
        ArrayView<float> wpe, ArrayView<float> output, int T, int C, int hasTypes)
    {
        int row = i / C, c = i % C;
        float v = wte[((long)tokens[row] * C) + c] + wpe[((long)(row % T) * C) + c];
        if (hasTypes != 0)
        {
            v += wte[((long)types[row] * C) + c];
        }

        output[i] = v;
    }

    /// <summary>
    /// One thread per column c: walks the B·T rows in order, token before type, and adds
    /// dOutput[r, c] into dWte[tokens[r], c], dWte[types[r], c] and dWpe[r mod T, c]. A column
    /// of dWte belongs to one thread, so the scatter-add has a fixed order without atomics.
    /// </summary>
    public static void EmbeddingBackward(
        Index1D c, ArrayView<float> dOutput, ArrayView<int> tokens, ArrayView<int> types,
        ArrayView<float> dWte, ArrayView<float> dWpe, int BT, int T, int C, int hasTypes)
    {
        for (int row = 0; row < BT; row++)
        {
            float g = dOutput[((long)row * C) + c];
            dWte[((long)tokens[row] * C) + c] += g;
            if (hasTypes != 0)
            {
                dWte[((long)types[row] * C) + c] += g;
            }

            dWpe[((long)(row % T) * C) + c] += g;
        }
    }

    /// <summary>
    /// One thread per row of x, output: [N, C]; weight, bias: [C]; mean, rstd: [N]. Two passes
    /// (mean, then squared deviations) so that large means do not cancel.
    /// </summary>
    public static void LayerNormForward(
        Index1D row, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias,
        ArrayView<float> output, ArrayView<float> mean, ArrayView<float> rstd, int C)
    {
        long o = (long)row.X * C;
        float sum = 0f;
        for (int i = 0; i < C; i++)
        {
            sum += x[o + i];
        }

        float m = sum / C;
        float var = 0f;
        for (int i = 0; i < C; i++)
        {
            float d = x[o + i] - m;
            var += d * d;
        }

        float s = 1f / MathF.Sqrt((var / C) + Epsilon);
        for (int i = 0; i < C; i++)
        {
            output[o + i] = ((x[o + i] - m) * s * weight[i]) + bias[i];
        }

        mean[row] = m;
        rstd[row] = s;
    }

    /// <summary>
    /// Phase 1 of backward, one thread per row:
    /// <c>dInput += rstd·(dxhat - mean(dxhat) - xhat·mean(dxhat·xhat))</c>, dxhat = dOutput·weight.
    /// </summary>
    public static void LayerNormBackwardInput(
        Index1D row, ArrayView<float> dOutput, ArrayView<float> x, ArrayView<float> weight,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dInput, int C)
    {
        long o = (long)row.X * C;
        float m = mean[row], s = rstd[row];
        float sumD = 0f, sumDx = 0f;
        for (int i = 0; i < C; i++)
        {
            float xhat = (x[o + i] - m) * s;
            float dxhat = dOutput[o + i] * weight[i];
            sumD += dxhat;
            sumDx += dxhat * xhat;
        }

        float meanD = sumD / C, meanDx = sumDx / C;
        for (int i = 0; i < C; i++)
        {
            float xhat = (x[o + i] - m) * s;
            float g = (dOutput[o + i] * weight[i]) - meanD - (xhat * meanDx);
            dInput[o + i] += g * s;
        }
    }

    /// <summary>
    /// Phase 2 of backward, one thread per column over rows 0..N-1 in order:
    /// <c>dWeight += Σ dOutput·xhat</c>, <c>dBias += Σ dOutput</c>. dWeight, dBias: [C].
    /// </summary>
    public static void LayerNormBackwardParameters(
        Index1D c, ArrayView<float> dOutput, ArrayView<float> x, ArrayView<float> mean,
        ArrayView<float> rstd, ArrayView<float> dWeight, ArrayView<float> dBias, int N, int C)
    {
        float accW = 0f, accB = 0f;
        for (int row = 0; row < N; row++)
        {
            long o = ((long)row * C) + c;
            float xhat = (x[o] - mean[row]) * rstd[row];
            accW += dOutput[o] * xhat;
            accB += dOutput[o];
        }

        dWeight[c] += accW;
        dBias[c] += accB;
    }
}
