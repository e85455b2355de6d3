using Kgglm.Common;
using Kgglm.Kernels;

namespace Kgglm.Network;

/// <summary>
/// GPT-2 initialisation: weights N(0, 0.02), both <c>c_proj</c> weights N(0, 0.02/√(2·layers)),
/// biases 0, LayerNorm γ = 1 and β = 0. Tensor i draws from its own stream of the seed, so a
/// seed gives the same weights on every machine and for every thread count.
/// </summary>
public static class WeightInit
{
    private const ulong Purpose = 0x1417;

    /// <summary>
    /// Initialises every parameter of <paramref name="model"/> from <paramref name="seed"/>.
    /// </summary>
    public static void Initialize(Gpt2 model, IKernels kernels, ulong seed)
    {
        float[] host = new float[model.Layout.Parameters.Max(p => p.Count)];
        double scaled = 0.02 / Math.Sqrt(2.0 * model.Shape.Layers);
        for (int i = 0; i < model.Layout.Parameters.Count; i++)
        {
            ParameterInfo p = model.Layout.Parameters[i];
            Span<float> values = host.AsSpan(0, checked((int)p.Count));
            var rng = SplitMix64.Stream(seed, Purpose, (ulong)i);
            switch (p.Init)
            {
                case ParameterInit.Normal:
                case ParameterInit.ScaledNormal:
                    double std = p.Init == ParameterInit.Normal ? 0.02 : scaled;
                    for (int j = 0; j < values.Length; j++)
                    {
                        values[j] = (float)(std * rng.NextNormal());
                    }

                    break;
                case ParameterInit.Ones:
                    values.Fill(1f);
                    break;
                default:
                    values.Clear();
                    break;
            }

            kernels.Upload(values, model.Parameter(p));
        }
    }
}
