using System.Buffers;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Kgglm.Checkpoints;

namespace Kgglm.Paths;

// The path corpus file: sampled paths, written once by `kgglm sample`, memory-mapped by training.
//
//   offset size  field
//        0    8  magic "KGGLMPTH"
//        8    4  format version (u32, 1)
//       12    4  token width in bytes (u32): 2 (u16 ids) when the vocabulary fits, else 4 (i32)
//       16    8  vocabulary fingerprint (u64)
//       24    4  vocabulary size (i32)
//       28    4  path length in tokens (i32), 2·hops + 3
//       32    8  path count (i64)
//       40    8  sampling config hash (u64)
//       48    8  dataset fingerprint (u64)
//       56    8  header checksum (u64): FNV-1a of bytes [0, 56)
//       64       path count × path length token ids, little-endian, path after path
//
// All header fields are little-endian. The file size must be exactly 64 + count·length·width.

/// <summary>The header of a path corpus file: what the paths were sampled from and how.</summary>
/// <param name="VocabularyFingerprint">Fingerprint of the vocabulary the token ids index.</param>
/// <param name="VocabularySize">Number of tokens; every id is below it.</param>
/// <param name="PathLength">Tokens per path (2·hops + 3, 9 for 3 hops), padded with [PAD].</param>
/// <param name="PathCount">Number of paths in the file.</param>
/// <param name="TokenWidth">Bytes per token id: 2 (u16) or 4 (i32).</param>
/// <param name="SamplingHash">Hash of the sampling config (strategy, caps, seed, ...).</param>
/// <param name="DatasetFingerprint">Fingerprint of the dataset and split sampled from.</param>
public readonly record struct PathCorpusHeader(
    ulong VocabularyFingerprint,
    int VocabularySize,
    int PathLength,
    long PathCount,
    int TokenWidth,
    ulong SamplingHash,
    ulong DatasetFingerprint);

/// <summary>
/// Reads a path corpus file by memory-mapping it: the file may be larger than RAM, and only the
/// pages of the paths actually read are brought in. <see cref="Open"/> checks the header (magic,
/// version, checksum, fields) and that the file size matches it; <see cref="Validate"/> checks it
/// against what the caller is about to train on. Reads are thread-safe.
/// </summary>
public sealed unsafe class PathCorpusFile : IDisposable
{
    /// <summary>Size of the fixed header; the token ids start here.</summary>
    public const int HeaderSize = 64;

    /// <summary>The version this code writes and reads.</summary>
    public const uint FormatVersion = 1;

    internal static ReadOnlySpan<byte> Magic => "KGGLMPTH"u8;

    const string Remedy = "delete it or run `kgglm sample` again";

    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    readonly byte* tokens;

    PathCorpusFile(string path, PathCorpusHeader header, MemoryMappedFile map,
        MemoryMappedViewAccessor view, byte* tokens)
    {
        Path = path;
        Header = header;
        this.map = map;
        this.view = view;
        this.tokens = tokens;
    }

    /// <summary>The file this reader was opened on.</summary>
    public string Path { get; }

    /// <summary>The validated header.</summary>
    public PathCorpusHeader Header { get; }

    /// <summary>Number of paths.</summary>
    public long PathCount => Header.PathCount;

    /// <summary>Tokens per path.</summary>
    public int PathLength => Header.PathLength;

    /// <summary>
    /// Opens <paramref name="path"/> and checks magic, version, header checksum, field ranges and
    /// that the file size is exactly header + count·length·width. Throws
    /// <see cref="CorpusFormatException"/> saying what is wrong and what to do.
    /// </summary>
    public static PathCorpusFile Open(string path)
    {
        long fileLength;
        Span<byte> bytes = stackalloc byte[HeaderSize];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            fileLength = stream.Length;
            if (fileLength < HeaderSize)
            {
                throw Fail(path, $"is {fileLength} bytes, shorter than the {HeaderSize}-byte "
                    + "corpus header; the file is truncated or not a corpus");
            }
            stream.ReadExactly(bytes);
        }
        PathCorpusHeader header = ParseHeader(path, bytes);

        long expected = ExpectedSize(header)
            ?? throw Fail(path, $"header claims {header.PathCount} paths of "
                + $"{header.PathLength} tokens, more than any file can hold");
        if (fileLength != expected)
        {
            throw Fail(path, $"size is {fileLength} bytes, expected {expected} ({HeaderSize} "
                + $"header + {header.PathCount} paths × {header.PathLength} tokens × "
                + $"{header.TokenWidth} bytes); the file is truncated or was not completely "
                + $"written: {Remedy}");
        }

        // Map the whole file read-only. Mapping reserves address space, not memory, so this
        // works for corpora larger than RAM; pages come in as paths are read.
        MemoryMappedFile map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0,
            MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            return new PathCorpusFile(path, header, map, view, pointer + HeaderSize);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks the header against what the caller is about to train on. Every field that differs
    /// is named with the found and the expected value, in one line, followed by the remedy.
    /// </summary>
    public void Validate(ulong expectedVocabularyFingerprint, int expectedVocabularySize,
        int expectedPathLength, ulong expectedSamplingHash, ulong expectedDatasetFingerprint)
    {
        var differences = new List<string>();
        PathCorpusHeader h = Header;
        if (h.VocabularyFingerprint != expectedVocabularyFingerprint)
        {
            differences.Add($"vocabulary fingerprint is 0x{h.VocabularyFingerprint:x16}, "
                + $"expected 0x{expectedVocabularyFingerprint:x16}");
        }
        if (h.VocabularySize != expectedVocabularySize)
        {
            differences.Add($"vocabulary size is {h.VocabularySize}, "
                + $"expected {expectedVocabularySize}");
        }
        if (h.PathLength != expectedPathLength)
            differences.Add($"path length is {h.PathLength}, expected {expectedPathLength}");
        if (h.SamplingHash != expectedSamplingHash)
        {
            differences.Add($"sampling config hash is 0x{h.SamplingHash:x16}, "
                + $"expected 0x{expectedSamplingHash:x16}");
        }
        if (h.DatasetFingerprint != expectedDatasetFingerprint)
        {
            differences.Add($"dataset fingerprint is 0x{h.DatasetFingerprint:x16}, "
                + $"expected 0x{expectedDatasetFingerprint:x16}");
        }
        if (differences.Count > 0)
        {
            throw Fail(Path, "was sampled for something else: " + string.Join("; ", differences)
                + $"; {Remedy}");
        }
    }

    /// <summary>
    /// Copies path <paramref name="index"/> into <paramref name="tokens"/>
    /// (<c>[PathLength]</c>).
    /// </summary>
    public void ReadPath(long index, Span<int> tokens)
    {
        if ((ulong)index >= (ulong)Header.PathCount)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"of {Header.PathCount}");
        if (tokens.Length != Header.PathLength)
        {
            throw new ArgumentException($"needs exactly {Header.PathLength} tokens",
                nameof(tokens));
        }
        CopyPath(index, tokens);
    }

    /// <summary>
    /// Gathers the paths <paramref name="indices"/> (<c>[B]</c>) into
    /// <paramref name="destination"/> (<c>[B, PathLength]</c>, row-major): the batch assembly of
    /// a training step. Token ids are checked against the vocabulary size, so a corrupt body
    /// fails here instead of indexing outside the embedding table.
    /// </summary>
    public void Gather(ReadOnlySpan<long> indices, Span<int> destination)
    {
        int length = Header.PathLength;
        if (destination.Length != (long)indices.Length * length)
        {
            throw new ArgumentException($"needs {indices.Length} × {length} tokens",
                nameof(destination));
        }
        for (int b = 0; b < indices.Length; b++)
        {
            long index = indices[b];
            if ((ulong)index >= (ulong)Header.PathCount)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index,
                    $"index {b} of the batch is outside [0, {Header.PathCount})");
            }
            CopyPath(index, destination.Slice(b * length, length));
        }
    }

    /// <summary>Unmaps and closes the file.</summary>
    public void Dispose()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }

    void CopyPath(long index, Span<int> destination)
    {
        int length = Header.PathLength;
        uint limit = (uint)Header.VocabularySize;
        uint seen = 0;
        byte* source = tokens + index * length * Header.TokenWidth;
        if (Header.TokenWidth == 2)
        {
            var ids = new ReadOnlySpan<ushort>(source, length);
            for (int t = 0; t < length; t++)
            {
                ushort id = BitConverter.IsLittleEndian
                    ? ids[t]
                    : BinaryPrimitives.ReverseEndianness(ids[t]);
                destination[t] = id;
                seen = Math.Max(seen, id);
            }
        }
        else
        {
            var ids = new ReadOnlySpan<int>(source, length);
            ids.CopyTo(destination);
            if (!BitConverter.IsLittleEndian)
                BinaryPrimitives.ReverseEndianness(destination, destination);
            for (int t = 0; t < length; t++)
                seen = Math.Max(seen, (uint)destination[t]);
        }
        if (seen >= limit)
        {
            throw Fail(Path, $"path {index} holds token id {seen} but the vocabulary has "
                + $"{limit} tokens; the file is corrupt: {Remedy}");
        }
    }

    internal static long? ExpectedSize(PathCorpusHeader header)
    {
        try
        {
            return checked(HeaderSize + header.PathCount * header.PathLength * header.TokenWidth);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    internal static int TokenWidthFor(int vocabularySize) =>
        vocabularySize <= ushort.MaxValue + 1 ? sizeof(ushort) : sizeof(int);

    internal static void WriteHeader(Span<byte> bytes, PathCorpusHeader header)
    {
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[12..], (uint)header.TokenWidth);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], header.VocabularyFingerprint);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[24..], header.VocabularySize);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[28..], header.PathLength);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[32..], header.PathCount);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[40..], header.SamplingHash);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[48..], header.DatasetFingerprint);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[56..], Checksum(bytes[..56]));
    }

    static PathCorpusHeader ParseHeader(string path, ReadOnlySpan<byte> bytes)
    {
        if (!bytes[..8].SequenceEqual(Magic))
        {
            throw Fail(path, "does not start with the corpus magic \"KGGLMPTH\"; it is not a "
                + $"path corpus file: {Remedy}");
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (version != FormatVersion)
        {
            throw Fail(path, $"has format version {version}, this kgglm reads version "
                + $"{FormatVersion}: {Remedy}");
        }
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes[56..]);
        ulong computed = Checksum(bytes[..56]);
        if (stored != computed)
        {
            throw Fail(path, $"header checksum is 0x{stored:x16}, computed 0x{computed:x16}; "
                + $"the header is corrupt: {Remedy}");
        }

        var header = new PathCorpusHeader(
            VocabularyFingerprint: BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            VocabularySize: BinaryPrimitives.ReadInt32LittleEndian(bytes[24..]),
            PathLength: BinaryPrimitives.ReadInt32LittleEndian(bytes[28..]),
            PathCount: BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]),
            TokenWidth: (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]),
            SamplingHash: BinaryPrimitives.ReadUInt64LittleEndian(bytes[40..]),
            DatasetFingerprint: BinaryPrimitives.ReadUInt64LittleEndian(bytes[48..]));
        if (header.VocabularySize < 1)
            throw Fail(path, $"header has vocabulary size {header.VocabularySize}: {Remedy}");
        if (header.PathLength < 1)
            throw Fail(path, $"header has path length {header.PathLength}: {Remedy}");
        if (header.PathCount < 0)
            throw Fail(path, $"header has path count {header.PathCount}: {Remedy}");
        if (header.TokenWidth != TokenWidthFor(header.VocabularySize))
        {
            throw Fail(path, $"header has token width {header.TokenWidth} bytes, expected "
                + $"{TokenWidthFor(header.VocabularySize)} for {header.VocabularySize} tokens: "
                + Remedy);
        }
        return header;
    }

    // FNV-1a 64: enough to catch a corrupt or hand-edited header; not a security measure.
    static ulong Checksum(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes)
            hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    static CorpusFormatException Fail(string path, string what) =>
        new($"path corpus {path}: {what}");
}

/// <summary>
/// Writes a path corpus file in batches. The paths go to <c>&lt;path&gt;.tmp-&lt;random&gt;</c>;
/// <see cref="Complete"/> writes the final count into the header, flushes to disk and renames
/// the file into place. Disposing without <see cref="Complete"/> (an exception, Ctrl+C)
/// deletes the temporary file, so an interrupted sampling leaves no corpus behind.
/// </summary>
public sealed class PathCorpusWriter : IDisposable
{
    readonly string temporary;
    readonly FileStream stream;
    readonly PathCorpusHeader header;
    bool finished;

    /// <summary>
    /// Starts a corpus at <paramref name="path"/>; the token width follows from
    /// <paramref name="vocabularySize"/> (2 bytes up to 65,536 tokens, else 4).
    /// </summary>
    public PathCorpusWriter(string path, ulong vocabularyFingerprint, int vocabularySize,
        int pathLength, ulong samplingHash, ulong datasetFingerprint)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pathLength, 1);
        Path = System.IO.Path.GetFullPath(path);
        header = new PathCorpusHeader(vocabularyFingerprint, vocabularySize, pathLength, 0,
            PathCorpusFile.TokenWidthFor(vocabularySize), samplingHash, datasetFingerprint);
        temporary = AtomicFile.TemporaryPathFor(Path);
        stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 1 << 20);
        // The header is written last, with the final count; until then the file is zeros here.
        stream.Write(new byte[PathCorpusFile.HeaderSize]);
    }

    /// <summary>Where the corpus will be once complete.</summary>
    public string Path { get; }

    /// <summary>Paths appended so far.</summary>
    public long PathCount { get; private set; }

    /// <summary>
    /// Appends whole paths: <paramref name="paths"/> is <c>[n, PathLength]</c>, row-major, every
    /// id in [0, vocabulary size).
    /// </summary>
    public void Append(ReadOnlySpan<int> paths)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        int length = header.PathLength;
        if (paths.Length % length != 0)
        {
            throw new ArgumentException($"{paths.Length} tokens is not a whole number of "
                + $"{length}-token paths", nameof(paths));
        }
        uint limit = (uint)header.VocabularySize;
        foreach (int id in paths)
        {
            if ((uint)id >= limit)
            {
                throw new ArgumentOutOfRangeException(nameof(paths), id,
                    $"token id outside the vocabulary of {limit}");
            }
        }

        int width = header.TokenWidth;
        const int ChunkTokens = 1 << 16;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkTokens * width);
        try
        {
            for (int start = 0; start < paths.Length; start += ChunkTokens)
            {
                ReadOnlySpan<int> chunk = paths[start..Math.Min(paths.Length, start + ChunkTokens)];
                if (width == sizeof(int) && BitConverter.IsLittleEndian)
                {
                    stream.Write(MemoryMarshal.AsBytes(chunk));
                    continue;
                }
                for (int i = 0; i < chunk.Length; i++)
                {
                    if (width == sizeof(ushort))
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2 * i),
                            (ushort)chunk[i]);
                    }
                    else
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(4 * i), chunk[i]);
                    }
                }
                stream.Write(buffer, 0, chunk.Length * width);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        PathCount += paths.Length / length;
    }

    /// <summary>
    /// Writes the header with the final count, flushes to disk and renames the file into place
    /// (replacing an older corpus at the same path). Returns the header written.
    /// </summary>
    public PathCorpusHeader Complete()
    {
        ObjectDisposedException.ThrowIf(finished, this);
        PathCorpusHeader final = header with { PathCount = PathCount };
        try
        {
            Span<byte> bytes = stackalloc byte[PathCorpusFile.HeaderSize];
            PathCorpusFile.WriteHeader(bytes, final);
            stream.Position = 0;
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
            stream.Dispose();
            File.Move(temporary, Path, overwrite: true);
        }
        catch
        {
            Abandon();
            throw;
        }
        finished = true;
        return final;
    }

    /// <summary>Deletes the temporary file unless <see cref="Complete"/> succeeded.</summary>
    public void Dispose()
    {
        if (!finished)
            Abandon();
    }

    void Abandon()
    {
        finished = true;
        stream.Dispose();
        AtomicFile.TryDelete(temporary);
    }
}
