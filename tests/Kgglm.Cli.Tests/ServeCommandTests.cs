namespace Kgglm.Tests;

/// <summary>A tiny pretrained checkpoint on ml-100k, trained once through the real CLI.</summary>
public sealed class TinyCheckpoint : IDisposable
{
    public TinyCheckpoint()
    {
        Folder = Directory.CreateTempSubdirectory("kgglm-serve-").FullName;
        Run = Path.Combine(Folder, "run");
        KgglmProcess.Result r = KgglmProcess.Run(Folder, "pretrain", "--embedding-size", "16",
            "--num-heads", "2", "--num-layers", "1", "--train-batch-size", "64", "--max-steps", "1",
            "--threads", "2", "--output", Run);
        Assert.True(r.ExitCode == 0, r.Stderr);
    }

    public string Folder { get; }

    public string Run { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

public sealed class ServeCommandTests(TinyCheckpoint ckpt) : IClassFixture<TinyCheckpoint>
{
    [Fact]
    public void Recommend_prints_explained_items_for_a_user()
    {
        KgglmProcess.Result r = KgglmProcess.Run(ckpt.Folder, "recommend", ckpt.Run,
            "--user", "196", "--topk", "3", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("user 196:", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("U196 --watched--> ", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_user_is_one_line_and_writes_nothing()
    {
        string output = Path.Combine(ckpt.Folder, "recs.jsonl");
        KgglmProcess.Result r = KgglmProcess.Run(ckpt.Folder, "recommend", ckpt.Run, "--user",
            "no-such-user", "--format", "jsonl", "--output", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("no-such-user", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Topk_beyond_paths_per_user_is_explained()
    {
        KgglmProcess.Result r = KgglmProcess.Run(ckpt.Folder, "recommend", ckpt.Run,
            "--user", "196", "--topk", "15", "--threads", "2");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("paths_per_user is 10", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_metric_is_refused_before_decoding()
    {
        KgglmProcess.Result r = KgglmProcess.Run(ckpt.Folder, "evaluate", ckpt.Run, "--set",
            "metrics=[NDCG, Accuracy]");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Accuracy", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_of_another_vocabulary_is_refused()
    {
        string other = Path.Combine(ckpt.Folder, "other");
        Directory.CreateDirectory(other);
        string source = Directory.GetDirectories(ckpt.Run, "checkpoint-*")[0];
        foreach (string f in Directory.GetFiles(source))
        {
            File.Copy(f, Path.Combine(other, Path.GetFileName(f)));
        }

        string tok = Path.Combine(other, "tokenizer.json");
        File.WriteAllText(tok,
            File.ReadAllText(tok).Replace("\"U1\"", "\"U1x\"", StringComparison.Ordinal));
        KgglmProcess.Result r = KgglmProcess.Run(ckpt.Folder, "recommend", other, "--user", "196");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("vocabulary", r.Stderr, StringComparison.Ordinal);
    }
}
