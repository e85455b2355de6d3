using System.Buffers.Binary;
using Kgglm.Paths;

namespace Kgglm.Tests.Paths;

public class PathCorpusFileTests
{
    const ulong Vocab = 0x1234_5678_9abc_def0, Sampling = 0xfeed, Dataset = 0xda7a;

    // Token t of path p: a deterministic value below the vocabulary size.
    static int Token(long p, int t, int vocabularySize) =>
        (int)((p * 7919 + t * 104729 + p * t) % vocabularySize);

    static string WriteCorpus(TempFolder folder, int vocabularySize, int length, long count,
        int batch = 1000)
    {
        string path = folder.File("paths.bin");
        using var writer = new PathCorpusWriter(path, Vocab, vocabularySize, length, Sampling,
            Dataset);
        int[] buffer = new int[batch * length];
        for (long start = 0; start < count; start += batch)
        {
            int n = (int)Math.Min(batch, count - start);
            for (int i = 0; i < n; i++)
            {
                for (int t = 0; t < length; t++)
                    buffer[i * length + t] = Token(start + i, t, vocabularySize);
            }
            writer.Append(buffer.AsSpan(0, n * length));
        }
        PathCorpusHeader header = writer.Complete();
        Assert.Equal(count, header.PathCount);
        return path;
    }

    static string Fails(string path)
    {
        var e = Assert.Throws<CorpusFormatException>(() => PathCorpusFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Theory]
    [InlineData(35609, 2)]
    [InlineData(65536, 2)]
    [InlineData(65537, 4)]
    [InlineData(1_000_000, 4)]
    public void RoundTrips(int vocabularySize, int width)
    {
        using var folder = new TempFolder();
        string path = WriteCorpus(folder, vocabularySize, 9, 2500);
        Assert.Equal(PathCorpusFile.HeaderSize + 2500L * 9 * width, new FileInfo(path).Length);
        Assert.Equal([path], Directory.GetFiles(folder.Path));

        using var corpus = PathCorpusFile.Open(path);
        Assert.Equal(new PathCorpusHeader(Vocab, vocabularySize, 9, 2500, width, Sampling,
            Dataset), corpus.Header);
        corpus.Validate(Vocab, vocabularySize, 9, Sampling, Dataset);

        int[] one = new int[9];
        corpus.ReadPath(2499, one);
        Assert.Equal(Enumerable.Range(0, 9).Select(t => Token(2499, t, vocabularySize)), one);

        long[] indices = [5, 0, 2499, 5, 1234];
        int[] batch = new int[indices.Length * 9];
        corpus.Gather(indices, batch);
        for (int b = 0; b < indices.Length; b++)
        {
            for (int t = 0; t < 9; t++)
                Assert.Equal(Token(indices[b], t, vocabularySize), batch[b * 9 + t]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => corpus.ReadPath(2500, one));
        Assert.Throws<ArgumentOutOfRangeException>(() => corpus.Gather([-1], one));
        Assert.Throws<ArgumentException>(() => corpus.Gather([0, 1], one));
    }

    [Fact]
    public void EmptyCorpusIsValid()
    {
        using var folder = new TempFolder();
        using var corpus = PathCorpusFile.Open(WriteCorpus(folder, 100, 9, 0));
        Assert.Equal(0, corpus.PathCount);
    }

    [Theory]
    [InlineData("vocabulary fingerprint is 0x123456789abcdef0, expected 0x0000000000000001")]
    [InlineData("vocabulary size is 500, expected 501")]
    [InlineData("path length is 9, expected 7")]
    [InlineData("sampling config hash is 0x000000000000feed, expected 0x0000000000000002")]
    [InlineData("dataset fingerprint is 0x000000000000da7a, expected 0x0000000000000003")]
    public void ValidateNamesExactlyTheFieldThatDiffers(string expected)
    {
        using var folder = new TempFolder();
        using var corpus = PathCorpusFile.Open(WriteCorpus(folder, 500, 9, 10));
        var e = Assert.Throws<CorpusFormatException>(() => corpus.Validate(
            expected.StartsWith("vocabulary f", StringComparison.Ordinal) ? 1 : Vocab,
            expected.StartsWith("vocabulary s", StringComparison.Ordinal) ? 501 : 500,
            expected.StartsWith("path", StringComparison.Ordinal) ? 7 : 9,
            expected.StartsWith("sampling", StringComparison.Ordinal) ? 2 : Sampling,
            expected.StartsWith("dataset", StringComparison.Ordinal) ? 3 : Dataset));
        Assert.Contains(expected, e.Message);
        Assert.Contains("run `kgglm sample` again", e.Message);
        // Only that field: one "expected" in the message.
        Assert.Single(e.Message.Split("expected").Skip(1));
    }

    [Fact]
    public void RefusesTruncatedAndPaddedFiles()
    {
        using var folder = new TempFolder();
        string path = WriteCorpus(folder, 500, 9, 10);
        byte[] bytes = File.ReadAllBytes(path);

        File.WriteAllBytes(path, bytes[..^1]);
        Assert.Contains("size is 243 bytes, expected 244 (64 header + 10 paths × 9 tokens × 2 "
            + "bytes)", Fails(path));
        File.WriteAllBytes(path, [.. bytes, 0]);
        Assert.Contains("size is 245 bytes, expected 244", Fails(path));
        File.WriteAllBytes(path, bytes[..30]);
        Assert.Contains("shorter than the 64-byte corpus header", Fails(path));
        File.WriteAllBytes(path, []);
        Assert.Contains("is 0 bytes", Fails(path));
    }

    [Fact]
    public void RefusesWrongMagicVersionChecksumAndFields()
    {
        using var folder = new TempFolder();
        string path = WriteCorpus(folder, 500, 9, 10);
        byte[] valid = File.ReadAllBytes(path);

        byte[] magic = (byte[])valid.Clone();
        magic[0] = (byte)'X';
        File.WriteAllBytes(path, magic);
        Assert.Contains("corpus magic", Fails(path));

        byte[] version = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(version.AsSpan(8), 2);
        File.WriteAllBytes(path, version);
        Assert.Contains("format version 2", Fails(path));

        byte[] count = (byte[])valid.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(count.AsSpan(32), 11);
        File.WriteAllBytes(path, count);
        Assert.Contains("header checksum", Fails(path));

        var header = new PathCorpusHeader(Vocab, 500, 9, long.MaxValue / 4, 2, Sampling, Dataset);
        byte[] huge = (byte[])valid.Clone();
        PathCorpusFile.WriteHeader(huge, header);
        File.WriteAllBytes(path, huge);
        Assert.Contains("more than any file can hold", Fails(path));

        byte[] width = (byte[])valid.Clone();
        PathCorpusFile.WriteHeader(width, header with { PathCount = 10, TokenWidth = 4 });
        File.WriteAllBytes(path, width);
        Assert.Contains("token width 4 bytes, expected 2", Fails(path));
    }

    [Fact]
    public void GatherRefusesTokenIdsOutsideTheVocabulary()
    {
        using var folder = new TempFolder();
        string path = WriteCorpus(folder, 500, 9, 10);
        byte[] bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(64 + 2 * (9 * 3 + 4)), 60000);
        File.WriteAllBytes(path, bytes);
        using var corpus = PathCorpusFile.Open(path);
        corpus.ReadPath(2, new int[9]);
        var e = Assert.Throws<CorpusFormatException>(() => corpus.ReadPath(3, new int[9]));
        Assert.Contains("path 3 holds token id 60000", e.Message);
    }

    [Fact]
    public void InterruptedWriteLeavesNoCorpus()
    {
        using var folder = new TempFolder();
        string path = folder.File("paths.bin");
        using (var writer = new PathCorpusWriter(path, Vocab, 500, 9, Sampling, Dataset))
        {
            writer.Append(new int[18]);
            Assert.Throws<ArgumentException>(() => writer.Append(new int[10]));
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(Enumerable.Repeat(
                500, 9).ToArray()));
        }
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    // About 50 MB of int32 ids, checked through the mapping at scattered indices.
    [Fact]
    public void LargeCorpusReadsThroughTheMapping()
    {
        using var folder = new TempFolder();
        const long Count = 1_400_000;
        string path = WriteCorpus(folder, 100_000, 9, Count, batch: 50_000);
        Assert.True(new FileInfo(path).Length > 50_000_000);

        using var corpus = PathCorpusFile.Open(path);
        var random = new Random(7);
        long[] indices = new long[4096];
        for (int i = 0; i < indices.Length; i++)
            indices[i] = random.NextInt64(Count);
        indices[0] = Count - 1;
        int[] batch = new int[indices.Length * 9];
        corpus.Gather(indices, batch);
        for (int b = 0; b < indices.Length; b++)
        {
            for (int t = 0; t < 9; t++)
                Assert.Equal(Token(indices[b], t, 100_000), batch[b * 9 + t]);
        }
    }
}
