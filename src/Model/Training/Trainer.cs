using System.Diagnostics;
using Kgglm.Common;
using Kgglm.Network;
using Kgglm.Paths;

namespace Kgglm.Training;

/// <summary>Settings of one training stage.</summary>
/// <param name="Stage">"pretrain" or "finetune", for logs.</param>
/// <param name="Epochs">Passes over the corpus.</param>
/// <param name="BatchSize">Paths per optimiser step.</param>
/// <param name="MicroBatch">Paths per forward/backward (gradients accumulate).</param>
/// <param name="MaxSteps">Stop after this many optimiser steps (0 = no limit); the
/// schedule still spans every epoch, so a smoke run follows the full run's learning rates.</param>
/// <param name="SaveStep">Checkpoint every N optimiser steps.</param>
/// <param name="Schedule">Learning-rate schedule.</param>
/// <param name="Dropout">Dropout probability.</param>
/// <param name="Seed">Run seed (shuffle and dropout streams).</param>
public sealed record TrainerSettings(
    string Stage, int Epochs, int BatchSize, int MicroBatch, long MaxSteps, int SaveStep,
    LearningRateSchedule Schedule, float Dropout, ulong Seed)
{
    /// <summary>Optimiser steps of one epoch over <paramref name="paths"/> paths.</summary>
    public static long StepsPerEpoch(long paths, int batchSize) =>
        (paths + batchSize - 1) / batchSize;
}

/// <summary>
/// Where training stands: enough to continue exactly (with the weights and moments).
/// </summary>
/// <param name="Step">Optimiser steps done.</param>
/// <param name="Epoch">Current epoch (0-based).</param>
/// <param name="StepInEpoch">Steps done in the current epoch.</param>
/// <param name="EpochLossSum">Sum of the current epoch's step losses so far.</param>
/// <param name="Losses">Loss of every step so far (the loss curve).</param>
/// <param name="EpochLosses">Mean loss of every finished epoch.</param>
public sealed record TrainingProgress(
    long Step, int Epoch, long StepInEpoch, double EpochLossSum, IReadOnlyList<double> Losses,
    IReadOnlyList<double> EpochLosses)
{
    /// <summary>The start of a run.</summary>
    public static TrainingProgress Start => new(0, 0, 0, 0, [], []);
}

/// <summary>One optimiser step, as logged.</summary>
/// <param name="Step">1-based step.</param>
/// <param name="TotalSteps">Steps this run will take.</param>
/// <param name="Loss">Mean token loss of the batch.</param>
/// <param name="LearningRate">Rate used.</param>
/// <param name="GradNorm">Gradient norm before clipping.</param>
/// <param name="Milliseconds">Wall time of the step.</param>
/// <param name="TokensPerSecond">Input tokens per second of the step.</param>
/// <param name="Epoch">0-based epoch.</param>
public readonly record struct StepRecord(
    long Step, long TotalSteps, double Loss, double LearningRate, double GradNorm,
    double Milliseconds, double TokensPerSecond, int Epoch);

/// <summary>
/// The training loop of both stages: per-epoch seeded shuffle, micro-batched forward/backward
/// with gradient accumulation, clipping, AdamW, checkpoints every <c>save_step</c> steps, at the
/// end and on cancellation. Everything random is keyed by (seed, epoch, step), so a resumed
/// run continues bitwise-identically.
/// </summary>
public sealed class Trainer
{
    private const ulong ShufflePurpose = 0x5348;

    private readonly Gpt2 _model;
    private readonly AdamWOptimizer _optimizer;
    private readonly PathCorpusFile _corpus;
    private readonly TrainerSettings _s;

    /// <summary>A trainer of <paramref name="model"/> on <paramref name="corpus"/>.</summary>
    public Trainer(
        Gpt2 model, AdamWOptimizer optimizer, PathCorpusFile corpus, TrainerSettings settings)
    {
        if (corpus.PathLength != model.Shape.Positions)
        {
            throw new KgglmException(
                $"corpus {corpus.Path}: paths of {corpus.PathLength} tokens, the model expects " +
                $"{model.Shape.Positions}");
        }

        if (corpus.PathCount == 0)
        {
            throw new KgglmException($"corpus {corpus.Path} holds no path to train on");
        }

        _model = model;
        _optimizer = optimizer;
        _corpus = corpus;
        _s = settings;
    }

    /// <summary>Steps of one epoch.</summary>
    public long StepsPerEpoch => TrainerSettings.StepsPerEpoch(_corpus.PathCount, _s.BatchSize);

    /// <summary>Steps this run takes in all (epochs, capped by max_steps).</summary>
    public long TotalSteps => _s.MaxSteps > 0
        ? Math.Min(_s.MaxSteps, StepsPerEpoch * _s.Epochs)
        : StepsPerEpoch * _s.Epochs;

    /// <summary>
    /// Trains from <paramref name="progress"/> until the last step, until
    /// <paramref name="onEpoch"/> asks to stop (early stopping), or until
    /// <paramref name="cancel"/> fires between two steps. Calls <paramref name="checkpoint"/>
    /// every save_step steps, at the end and on cancellation.
    /// </summary>
    public TrainingProgress Run(
        TrainingProgress progress, Action<StepRecord> onStep, Func<int, double, bool> onEpoch,
        Action<TrainingProgress> checkpoint, CancellationToken cancel)
    {
        int P = _model.Shape.Positions;
        long n = _corpus.PathCount;
        var losses = new List<double>(progress.Losses);
        var epochLosses = new List<double>(progress.EpochLosses);
        long step = progress.Step;
        int epoch = progress.Epoch;
        long inEpoch = progress.StepInEpoch;
        double epochSum = progress.EpochLossSum;
        long total = TotalSteps;
        int[] order = EpochOrder(epoch, n);
        var indices = new long[_s.BatchSize];
        var tokens = new int[_s.BatchSize * P];
        var watch = new Stopwatch();
        bool saved = true;
        bool stop = false;

        TrainingProgress Snapshot() => new(step, epoch, inEpoch, epochSum, losses, epochLosses);

        while (step < total && !stop)
        {
            if (cancel.IsCancellationRequested)
            {
                break;
            }

            watch.Restart();

            // The batch: the next slice of this epoch's permutation.
            long begin = inEpoch * _s.BatchSize;
            int b = (int)Math.Min(_s.BatchSize, n - begin);
            for (int i = 0; i < b; i++)
            {
                indices[i] = order[begin + i];
            }

            Span<int> batch = tokens.AsSpan(0, b * P);
            _corpus.Gather(indices.AsSpan(0, b), batch);
            int targets = _model.CountTargets(batch);
            double lossSum = 0;
            _model.ZeroGradients();
            if (targets > 0)
            {
                float scale = 1f / targets;
                int micro = 0;
                for (int m0 = 0; m0 < b; m0 += _s.MicroBatch, micro++)
                {
                    int mb = Math.Min(_s.MicroBatch, b - m0);
                    var dropout = new MicroBatchDropout(_s.Dropout, _s.Seed, step, micro);
                    lossSum += _model.Step(batch.Slice(m0 * P, mb * P), scale, dropout,
                        backward: true);
                }
            }

            double lr = _s.Schedule.At(step);
            double norm = _optimizer.Step(lr);
            double loss = targets > 0 ? lossSum / targets : 0;
            if (!double.IsFinite(loss) || !double.IsFinite(norm))
            {
                throw new KgglmException(
                    $"training diverged at step {step + 1}: loss {loss}, gradient norm {norm}; " +
                    "lower learning_rate or raise warmup_steps");
            }

            step++;
            inEpoch++;
            losses.Add(loss);
            epochSum += loss;
            watch.Stop();
            double ms = watch.Elapsed.TotalMilliseconds;
            onStep(new StepRecord(step, total, loss, lr, norm, ms,
                b * (P - 1) / (ms / 1000), epoch));
            saved = false;

            if (inEpoch == StepsPerEpoch)
            {
                double mean = epochSum / inEpoch;
                epochLosses.Add(mean);
                epoch++;
                inEpoch = 0;
                epochSum = 0;
                if (epoch < _s.Epochs)
                {
                    order = EpochOrder(epoch, n);
                }
            }

            if (inEpoch == 0)
            {
                // After the epoch's bookkeeping, so a checkpoint written by the callback (or
                // here) resumes at the next epoch.
                stop = onEpoch(epoch - 1, epochLosses[^1]);
            }

            if (step % _s.SaveStep == 0 || step == total || stop)
            {
                checkpoint(Snapshot());
                saved = true;
            }
        }

        if (!saved)
        {
            checkpoint(Snapshot());
        }

        return Snapshot();
    }

    /// <summary>
    /// The permutation of the corpus for <paramref name="epoch"/> (its own stream).
    /// </summary>
    private int[] EpochOrder(int epoch, long n)
    {
        if (n > int.MaxValue)
        {
            throw new KgglmException(
                $"corpus of {n} paths: more than {int.MaxValue} is not supported");
        }

        int[] order = new int[n];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        SplitMix64.Stream(_s.Seed, ShufflePurpose, (ulong)epoch).Shuffle(order.AsSpan());
        return order;
    }
}
