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

public sealed class InfoCommandTests
{
    [Fact]
    public void Info_reports_the_ml100k_numbers_from_any_working_directory()
    {
        KgglmProcess.Result r =
            KgglmProcess.Run(Path.GetTempPath(), "info", "--dataset", "ml-100k");
        Assert.Equal(0, r.ExitCode);
        foreach (string expected in new[]
                 {
                     "943 (944 ids with [PAD])", "1,598 (1,599 ids with [PAD])", "97,554",
                     "91,631", "34,628 (34,629 ids with [PAD])", "26 ids",
                     "78,836 / 9,359 / 9,359", "35,609 tokens",
                 })
        {
            Assert.Contains(expected, r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_bad_dataset_file_is_one_line_naming_file_and_line()
    {
        string dir = Directory.CreateTempSubdirectory("kgglm-cli-").FullName;
        try
        {
            string data = Path.Combine(dir, "toy");
            Directory.CreateDirectory(data);
            File.WriteAllText(Path.Combine(data, "toy.inter"),
                "user_id:token\titem_id:token\trating:float\n1\t2\t5\n1\t3\tfive\n");
            File.WriteAllText(Path.Combine(data, "toy.kg"),
                "head_id:token\trelation_id:token\ttail_id:token\ne1\tr\te2\n");
            File.WriteAllText(Path.Combine(data, "toy.link"),
                "item_id:token\tentity_id:token\n2\te1\n");
            KgglmProcess.Result r = KgglmProcess.Run(dir, "info", "--data-path", data);
            Assert.Equal(1, r.ExitCode);
            string[] lines = r.Stderr.Trim().Split('\n');
            Assert.Single(lines);
            Assert.Contains("toy.inter:3", lines[0], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Cuda_without_a_backend_is_refused_in_one_line()
    {
        string dir = Directory.CreateTempSubdirectory("kgglm-cli-").FullName;
        try
        {
            KgglmProcess.Result r = KgglmProcess.Run(dir, "pretrain", "--device", "cuda",
                "--max-steps", "1", "--output", Path.Combine(dir, "run"));
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("--device cuda", r.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(dir, "run")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
