using Kgglm.Checkpoints;

namespace Kgglm.Tests.Checkpoints;

public class AtomicDirectoryTests
{
    [Fact]
    public void WritesAndReplacesAFolder()
    {
        using var folder = new TempFolder();
        string target = folder.File("checkpoint-50");
        AtomicDirectory.Write(target, dir => File.WriteAllText(Path.Combine(dir, "a.txt"), "one"));
        Assert.Equal("one", File.ReadAllText(Path.Combine(target, "a.txt")));

        AtomicDirectory.Write(target, dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            File.WriteAllText(Path.Combine(dir, "sub", "b.txt"), "two");
        });
        Assert.False(File.Exists(Path.Combine(target, "a.txt")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(target, "sub", "b.txt")));
        Assert.Equal([target], Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void FoldersAreFlushedOnPosixAndAMissingOneIsReportedNotThrown()
    {
        using var folder = new TempFolder();
        bool posix = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();
        Assert.Equal(posix, AtomicDirectory.FlushFolder(folder.Path));
        Assert.False(AtomicDirectory.FlushFolder(folder.File("does-not-exist")));
    }

    [Fact]
    public void FailureMidWriteLeavesNeitherHalfFolderNorTemp()
    {
        using var folder = new TempFolder();
        string target = folder.File("checkpoint-100");
        Assert.Throws<IOException>(() => AtomicDirectory.Write(target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
            throw new IOException("disk full");
        }));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));

        // A failed replacement keeps the old folder intact.
        AtomicDirectory.Write(target, dir => File.WriteAllText(Path.Combine(dir, "a"), "old"));
        Assert.Throws<InvalidOperationException>(() => AtomicDirectory.Write(target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "a"), "new");
            throw new InvalidOperationException("crash");
        }));
        Assert.Equal("old", File.ReadAllText(Path.Combine(target, "a")));
        Assert.Equal([target], Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void CleanUpRestoresAnInterruptedReplacement()
    {
        using var folder = new TempFolder();
        string target = folder.File("ckpt");
        Directory.CreateDirectory(target + ".old-1234");
        File.WriteAllText(Path.Combine(target + ".old-1234", "a"), "old");
        Directory.CreateDirectory(target + ".tmp-5678");
        Assert.Equal(1, AtomicDirectory.CleanUp(target));
        Assert.Equal("old", File.ReadAllText(Path.Combine(target, "a")));
        Assert.Equal([target], Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void AtomicFileLeavesNothingOnFailureAndReplacesOnSuccess()
    {
        using var folder = new TempFolder();
        string path = folder.File("metrics.json");
        AtomicFile.WriteAllText(path, "first");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("partial"u8);
            throw new IOException("interrupted");
        }));
        Assert.Equal("first", File.ReadAllText(path));
        AtomicFile.WriteAllBytes(path, "second"u8);
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(folder.Path));
    }
}
