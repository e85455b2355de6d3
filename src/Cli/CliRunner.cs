namespace Kgglm.Cli;

/// <summary>
/// Runs a command body and turns user errors into one line on stderr and a non-zero exit code:
/// 1 for bad input (files, lines, keys, checkpoints), 130 after Ctrl+C. Stack traces appear
/// only with <c>--debug</c>.
/// </summary>
public static class CliRunner
{
    /// <summary>Exit code of bad input.</summary>
    public const int InputError = 1;

    /// <summary>Runs <paramref name="body"/>; returns its exit code or the error's.</summary>
    public static int Run(string command, bool debug, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (KgglmException ex)
        {
            return Fail(command, ex, debug);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail(command, ex, debug);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"kgglm {command}: interrupted");
            return 130;
        }
    }

    private static int Fail(string command, Exception ex, bool debug)
    {
        Console.Error.WriteLine($"kgglm {command}: error: {ex.Message}");
        if (debug)
        {
            Console.Error.WriteLine(ex.ToString());
        }

        return InputError;
    }
}
