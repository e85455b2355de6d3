using System.Globalization;
using Kgglm.Training;

namespace Kgglm.Cli.Runs;

/// <summary>
/// Prints a run's lines and one fixed-width line per step to stdout and to the run's
/// <c>train.log</c>, with a progress bar and ETA on stderr when that is a terminal.
/// </summary>
internal sealed class ConsoleReporter : ITrainingReporter, IDisposable
{
    private readonly StreamWriter? _log;
    private readonly ProgressLine _bar = new("training");
    private ProgressLine? _sampling;

    public ConsoleReporter(string? logFile)
    {
        if (logFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
            _log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        }
    }

    public void Line(string text)
    {
        _bar.Clear();
        _sampling?.Clear();
        Console.WriteLine(text);
        _log?.WriteLine(text);
    }

    public void Step(StepRecord s)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"step {s.Step.ToString().PadLeft(s.TotalSteps.ToString().Length)}/{s.TotalSteps} | " +
            $"loss {s.Loss,7:F4} | lr {s.LearningRate:0.00e+00} | grad-norm {s.GradNorm,7:F4} | " +
            $"{s.Milliseconds,8:F1} ms | {s.TokensPerSecond,7:F0} tok/s");
        Line(line);
        _bar.Report(s.Step, s.TotalSteps);
    }

    public void Progress(string what, long done, long total)
    {
        _sampling ??= new ProgressLine(what);
        _sampling.Report(done, total);
        if (done >= total)
        {
            _sampling.Clear();
            _sampling = null;
        }
    }

    public void Dispose()
    {
        _bar.Dispose();
        _sampling?.Dispose();
        _log?.Dispose();
    }
}
