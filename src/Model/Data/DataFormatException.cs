namespace Kgglm.Data;

/// <summary>
/// A dataset file that cannot be used. The message is one line,
/// <c>file:line: expected …, found …</c>, so a user can open the file at the spot.
/// </summary>
public sealed class DataFormatException : KgglmException
{
    /// <summary>
    /// Creates the exception for <paramref name="path"/> at 1-based <paramref name="line"/>
    /// (0 when the problem is the file as a whole).
    /// </summary>
    public DataFormatException(string path, long line, string message)
        : base(line > 0 ? $"{path}:{line}: {message}" : $"{path}: {message}")
    {
        FilePath = path;
        Line = line;
    }

    /// <summary>Creates the exception from a complete message.</summary>
    public DataFormatException(string message) : base(message)
    {
        FilePath = "";
    }

    /// <summary>Creates the exception from a complete message and its cause.</summary>
    public DataFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        FilePath = "";
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>1-based line in <see cref="FilePath"/>, 0 when not tied to a line.</summary>
    public long Line { get; }
}
