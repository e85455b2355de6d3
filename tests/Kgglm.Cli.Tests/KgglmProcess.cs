using System.Diagnostics;

namespace Kgglm.Tests;

/// <summary>
/// Runs the real <c>kgglm</c> program (built next to the tests) as a child process.
/// </summary>
internal static class KgglmProcess
{
    /// <summary>What a run printed and returned.</summary>
    internal sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// Runs <c>kgglm args</c> in <paramref name="workingDirectory"/> (default: a temp dir).
    /// </summary>
    public static Result Run(string? workingDirectory, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "kgglm.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kgglm {string.Join(' ', args)} did not finish");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
