namespace Kgglm.Checkpoints;

/// <summary>
/// Writes one file so that readers see either the old file or the complete new one, never a
/// prefix: the bytes go to a temporary file in the same folder, are flushed to disk, and the
/// temporary file is renamed over the target (rename within a folder is atomic on POSIX and
/// NTFS).
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> atomically. <paramref name="write"/> receives a writable,
    /// seekable stream; if it throws, the temporary file is deleted and the target is untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string temporary = TemporaryPathFor(full);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite,
                FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        // The span cannot be captured by the lambda, so it goes through one copy; callers with
        // large payloads use Write(path, stream => ...) instead.
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte order mark) atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false),
                1 << 16, leaveOpen: true);
            writer.Write(text);
        });
    }

    /// <summary>
    /// A fresh temporary name next to <paramref name="path"/>:
    /// <c>&lt;path&gt;.tmp-&lt;random&gt;</c>.
    /// Same folder, so the final rename never crosses a file system.
    /// </summary>
    public static string TemporaryPathFor(string path)
    {
        string full = Path.GetFullPath(path);
        return $"{full}.tmp-{Guid.NewGuid():N}";
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original exception is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
