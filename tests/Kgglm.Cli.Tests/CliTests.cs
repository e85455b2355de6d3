namespace Kgglm.Tests;

public sealed class CliTests
{
    [Fact]
    public void Help_lists_every_command()
    {
        KgglmProcess.Result r = KgglmProcess.Run(null, "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (string command in new[]
                 { "pretrain", "finetune", "tune", "evaluate", "recommend", "sample", "info" })
        {
            Assert.Contains(command, r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Config_error_is_one_line_with_the_key_and_non_zero_exit()
    {
        KgglmProcess.Result r = KgglmProcess.Run(null, "info", "--set", "num_layer=2");
        Assert.NotEqual(0, r.ExitCode);
        string[] lines = r.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains("unknown config key 'num_layer'", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Debug_flag_adds_the_stack_trace()
    {
        KgglmProcess.Result r = KgglmProcess.Run(null, "info", "--set", "seed=x", "--debug");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("   at ", r.Stderr, StringComparison.Ordinal);
    }
}
