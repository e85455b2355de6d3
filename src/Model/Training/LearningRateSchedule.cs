namespace Kgglm.Training;

/// <summary>
/// HuggingFace's default "linear" schedule: linear warm-up from 0 to the peak over
/// <c>warmup_steps</c> optimiser steps, then linear decay to 0 at the last step.
/// </summary>
/// <param name="Peak">Peak learning rate.</param>
/// <param name="WarmupSteps">Warm-up steps.</param>
/// <param name="TotalSteps">Scheduled optimiser steps of the stage.</param>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, long TotalSteps)
{
    /// <summary>
    /// The rate used by the optimiser step numbered <paramref name="step"/> (0-based).
    /// </summary>
    public double At(long step)
    {
        if (step < WarmupSteps)
        {
            return Peak * step / Math.Max(1, WarmupSteps);
        }

        double remaining = TotalSteps - step;
        return Peak * Math.Max(0.0, remaining / Math.Max(1, TotalSteps - WarmupSteps));
    }

    /// <summary>True when warm-up outlasts the stage, so the peak is never reached.</summary>
    public bool NeverReachesPeak => WarmupSteps > TotalSteps;
}
