using Kgglm.Kernels;
using Kgglm.Network;

namespace Kgglm.Training;

/// <summary>
/// AdamW over every parameter of a <see cref="Gpt2"/> (β 0.9 / 0.999, ε 1e-8), decoupled weight
/// decay on the decay mask only (weights and embeddings, not biases or LayerNorm), with global
/// gradient-norm clipping folded into the update as a gradient scale.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly IKernels _k;
    private readonly Gpt2 _model;

    /// <summary>Allocates the two moment arenas (same layout as the parameters), zeroed.</summary>
    public AdamWOptimizer(IKernels kernels, Gpt2 model, double weightDecay, double maxGradNorm)
    {
        _k = kernels;
        _model = model;
        WeightDecay = weightDecay;
        MaxGradNorm = maxGradNorm;
        MomentArena = kernels.CreateArena("optimiser moments", 2 * model.Layout.TotalFloats);
        First = MomentArena.AllocateFloat(model.Layout.TotalFloats);
        Second = MomentArena.AllocateFloat(model.Layout.TotalFloats);
    }

    /// <summary>Decoupled weight decay on the decay mask.</summary>
    public double WeightDecay { get; }

    /// <summary>Global gradient-norm clip.</summary>
    public double MaxGradNorm { get; }

    /// <summary>The arena of both moments.</summary>
    public DeviceArena MomentArena { get; }

    /// <summary>First moments m ([Layout.TotalFloats]).</summary>
    public Tensor First { get; }

    /// <summary>Second moments v ([Layout.TotalFloats]).</summary>
    public Tensor Second { get; }

    /// <summary>Optimiser steps taken (t of the bias corrections).</summary>
    public long Steps { get; set; }

    /// <summary>
    /// Clips and applies the gradients at <paramref name="learningRate"/>; returns the gradient
    /// norm before clipping.
    /// </summary>
    public double Step(double learningRate)
    {
        double norm = Math.Sqrt(_k.SquaredNorm(_model.Gradients, _model.Layout.TotalFloats));
        float scale = norm > MaxGradNorm ? (float)(MaxGradNorm / (norm + 1e-6)) : 1f;
        Steps++;
        IReadOnlyList<ParameterInfo> parameters = _model.Layout.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            ParameterInfo p = parameters[i];
            var step = new AdamWStep(
                (float)learningRate, 0.9f, 0.999f, 1e-8f, p.Decay ? (float)WeightDecay : 0f, Steps,
                scale);
            _k.AdamW(
                _model.Parameter(p), _model.Gradient(p), First.Slice(p.Offset, p.Count),
                Second.Slice(p.Offset, p.Count), p.Count, step);
        }

        return norm;
    }

    /// <summary>Frees the moments.</summary>
    public void Dispose() => MomentArena.Dispose();
}
