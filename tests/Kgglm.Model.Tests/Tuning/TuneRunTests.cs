using Kgglm.Configuration;
using Kgglm.Kernels.Cpu;
using Kgglm.Tests.Training;
using Kgglm.Training;
using Kgglm.Tuning;
using Xunit.Abstractions;

namespace Kgglm.Tests.Tuning;

/// <summary>Whole studies on a slice of ml-100k with a tiny network and a fast decoder.</summary>
public sealed class TuneRunTests(SliceDataset slice, ITestOutputHelper output)
    : IClassFixture<SliceDataset>, IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void A_stopped_study_resumes_and_finds_the_same_best_trial_as_a_straight_one()
    {
        string[] grid = ["learning_rate choice [1e-3,5e-3]", "num_layers choice [1,2]"];
        Study straight = Run(grid, "straight", new TuneOptions());
        Assert.Equal(4, straight.Trials.Count);
        Assert.All(straight.Trials, t => Assert.Equal(TrialStatus.Ok, t.Status));
        Assert.All(straight.Trials, t => Assert.False(t.PretrainReused));
        output.WriteLine(straight.Summary());

        // Stopped after two trials (the budget), then resumed with the whole grid.
        Study first = Run(grid, "stopped", new TuneOptions(MaxEvals: 2));
        Assert.Equal(2, first.Trials.Count);
        Study resumed = Run(grid, "stopped", new TuneOptions(Resume: true));
        Assert.Equal(4, resumed.Trials.Count);
        Assert.Equal(straight.Trials.Select(t => t.Params.ToString()),
            resumed.Trials.Select(t => t.Params.ToString()));
        Assert.Equal(straight.Best!.Number, resumed.Best!.Number);
        Assert.Equal(straight.Best.ValidScore, resumed.Best.ValidScore);
        Assert.Equal(straight.Trials.Select(t => t.ValidScore),
            resumed.Trials.Select(t => t.ValidScore));

        // The resumed study kept the first run's trials (their times prove they were not rerun).
        Assert.Equal(first.Trials.Select(t => t.Seconds),
            resumed.Trials.Take(2).Select(t => t.Seconds));

        // The files of the report.
        string folder = _tmp.File("stopped");
        Study loaded = Study.Load(Path.Combine(folder, Study.FileName));
        Assert.Equal(resumed.Best.Number, loaded.Best!.Number);
        string[] csv = File.ReadAllLines(Path.Combine(folder, "trials.csv"));
        Assert.Equal(5, csv.Length);
        Assert.StartsWith("trial,status,learning_rate,num_layers,valid_ndcg@4,test_", csv[0],
            StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(folder, "valid_per_trial.png")).Length > 1000);
        Assert.True(Directory.Exists(Path.Combine(folder, "trial-004", "finetune")));
        Assert.Contains("ndcg@4", resumed.Best.Test.Keys);

        // A study folder is not overwritten without --resume, nor resumed with another space.
        Assert.Throws<TuneException>(() => Run(grid, "stopped", new TuneOptions()));
        Assert.Throws<TuneException>(() => Run(["num_layers choice [1,2]"], "stopped",
            new TuneOptions(Resume: true)));
    }

    [Fact]
    public void Trials_that_differ_only_in_finetuning_keys_share_one_pretraining()
    {
        // Heads 3 do not divide the width 32: those trials are skipped with the reason.
        Study study = Run(["MAX_PATHS_PER_USER choice [5,10]", "num_heads choice [4,3]"], "reuse",
            new TuneOptions());
        output.WriteLine(study.Summary());
        Assert.Equal(
            [TrialStatus.Ok, TrialStatus.Skipped, TrialStatus.Ok, TrialStatus.Skipped],
            study.Trials.Select(t => t.Status));
        Assert.Contains("divisible", study.Trials[1].Error, StringComparison.Ordinal);
        Assert.False(study.Trials[0].PretrainReused);
        Assert.True(study.Trials[2].PretrainReused);
        Assert.Equal(study.Trials[0].Pretrain, study.Trials[2].Pretrain);
        Assert.Single(Directory.GetDirectories(_tmp.File("reuse"), "pretrain-*"));
        output.WriteLine($"trial with pre-training {study.Trials[0].Seconds:F2} s, " +
            $"reusing it {study.Trials[2].Seconds:F2} s");
    }

    [Fact]
    public void A_failing_trial_is_recorded_and_the_search_goes_on()
    {
        // The first optimiser step of the study raises, as a divergence would: the tiny model
        // does not diverge reliably in a few steps, and any KgglmException must be handled alike.
        var reporter = new NullReporter { FailOnStep = 1 };
        Study study = Run(["learning_rate choice [1e-2,1e-3]"], "fail", new TuneOptions(),
            reporter);
        output.WriteLine(study.Summary());
        Assert.Equal(2, study.Trials.Count);
        Assert.Equal(TrialStatus.Failed, study.Trials[0].Status);
        Assert.Contains("diverged", study.Trials[0].Error, StringComparison.Ordinal);
        Assert.Equal(TrialStatus.Ok, study.Trials[1].Status);
        Assert.Equal(2, study.Best!.Number);
        Assert.Contains("failed: training diverged", study.Summary(), StringComparison.Ordinal);
    }

    private Study Run(string[] lines, string name, TuneOptions options,
        NullReporter? reporter = null)
    {
        SearchSpace space = ParamsFile.Parse(lines, "test.hyper");
        using var kernels = new CpuKernels(2);
        return TuneRun.Run(Config(), space, options, slice.Data, kernels, _tmp.File(name),
            reporter ?? new NullReporter(), CancellationToken.None);
    }

    private ResolvedConfig Config() => ConfigResolver.Resolve([],
    [
        new("embedding_size", "32", "test"), new("num_heads", "4", "test"),
        new("num_layers", "1", "test"), new("train_batch_size", "64", "test"),
        new("micro_batch_size", "64", "test"), new("max_steps", "3", "test"),
        new("save_step", "50", "test"), new("threads", "2", "test"), new("epochs", "1", "test"),
        new("warmup_steps", "1", "test"), new("MAX_PATHS_PER_USER", "5", "test"),
        new("path_generation_args.num_beams", "4", "test"),
        new("path_generation_args.num_beam_groups", "2", "test"),
        new("path_generation_args.paths_per_user", "4", "test"),
        new("topk", "[4]", "test"), new("valid_metric", "NDCG@4", "test"),
        new("metrics", "[NDCG, Recall]", "test"),
        new("checkpoint_dir", _tmp.Path, "test"),
    ]);

    private sealed class NullReporter : ITrainingReporter
    {
        private int _steps;

        /// <summary>The step count (over the whole study) at which to raise; 0: never.</summary>
        public int FailOnStep { get; init; }

        public void Line(string text)
        {
        }

        public void Step(StepRecord step)
        {
            if (++_steps == FailOnStep)
            {
                throw new KgglmException($"training diverged at step {step.Step} (simulated)");
            }
        }

        public void Progress(string what, long done, long total)
        {
        }
    }
}
