namespace Kgglm.Paths;

/// <summary>
/// A path corpus file is malformed, truncated, or was sampled for another dataset, vocabulary
/// or sampling config. The message is one line naming the file, the field that differs (found
/// and expected) and what to do about it.
/// </summary>
public sealed class CorpusFormatException : KgglmException
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public CorpusFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a one-line message and the error it wraps.</summary>
    public CorpusFormatException(string message, Exception innerException)
        : base(message, innerException) { }
}
