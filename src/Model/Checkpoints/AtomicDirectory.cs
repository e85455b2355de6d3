using System.Runtime.InteropServices;

namespace Kgglm.Checkpoints;

/// <summary>
/// Writes a folder (a checkpoint) so that a crash never leaves a half-written one under the
/// target name: everything is written into <c>&lt;target&gt;.tmp-&lt;random&gt;</c> in the same
/// parent folder, every file is flushed to disk, the folder is renamed into place, and the
/// parent folder is flushed so that the rename itself survives a power loss.
/// </summary>
public static partial class AtomicDirectory
{
    /// <summary>
    /// Creates the folder <paramref name="target"/> atomically. <paramref name="writeContents"/>
    /// receives the path of an empty temporary folder and writes the files into it (plain
    /// writes: atomicity comes from the final rename). An existing target is replaced: it is
    /// renamed away, the new folder renamed in, and the old one deleted. If
    /// <paramref name="writeContents"/> or any step throws, the temporary folder is deleted and
    /// the existing target (if any) is left as it was.
    /// </summary>
    public static void Write(string target, Action<string> writeContents)
    {
        ArgumentNullException.ThrowIfNull(writeContents);
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        string parent = Path.GetDirectoryName(full)
            ?? throw new ArgumentException($"{target}: cannot write a file system root",
                nameof(target));
        Directory.CreateDirectory(parent);
        string temporary = $"{full}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temporary);
        try
        {
            writeContents(temporary);
            FlushFiles(temporary);
            FlushFolder(temporary);
            Replace(full, temporary);
            FlushFolder(parent);
        }
        catch
        {
            TryDeleteDirectory(temporary);
            throw;
        }
    }

    /// <summary>
    /// Deletes the leftovers of interrupted writes of <paramref name="target"/>
    /// (<c>&lt;target&gt;.tmp-*</c> and <c>&lt;target&gt;.old-*</c> folders), and, if the target
    /// itself is missing but an <c>.old-*</c> copy exists (a crash between the two renames),
    /// restores that copy. Returns the number of folders deleted.
    /// </summary>
    public static int CleanUp(string target)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        string? parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent))
            return 0;
        string name = Path.GetFileName(full);
        if (!Directory.Exists(full))
        {
            string? old = Directory.GetDirectories(parent, name + ".old-*").FirstOrDefault();
            if (old is not null)
                Directory.Move(old, full);
        }
        int deleted = 0;
        foreach (string pattern in new[] { name + ".tmp-*", name + ".old-*" })
        {
            foreach (string leftover in Directory.GetDirectories(parent, pattern))
            {
                TryDeleteDirectory(leftover);
                deleted++;
            }
        }
        return deleted;
    }

    static void Replace(string target, string temporary)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(temporary, target);
            return;
        }

        // Two renames: there is no atomic "replace a non-empty folder" on POSIX. Between them
        // the target is briefly absent; CleanUp restores the old copy after a crash there.
        string old = $"{target}.old-{Guid.NewGuid():N}";
        Directory.Move(target, old);
        try
        {
            Directory.Move(temporary, target);
        }
        catch
        {
            Directory.Move(old, target);
            throw;
        }
        TryDeleteDirectory(old);
    }

    static void FlushFiles(string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite,
                FileShare.ReadWrite);
            stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>
    /// fsync of a folder: makes its entries (the files just written into it, or a rename into
    /// it) durable. .NET cannot open a folder as a stream, so on Linux and macOS this calls
    /// libc's open / fsync / close; Windows has no such call (NTFS journals its metadata), and
    /// there it does nothing. Best effort: returns false where the file system refuses, since
    /// by then the folder is complete and in place, and failing would misreport that.
    /// </summary>
    internal static bool FlushFolder(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false;
        }

        int fd = Open(folder, 0); // O_RDONLY: enough for fsync, on a folder too
        if (fd < 0)
        {
            return false;
        }

        try
        {
            return Fsync(fd) == 0;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    static void TryDeleteDirectory(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
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
