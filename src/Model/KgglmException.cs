namespace Kgglm;

/// <summary>
/// An error caused by the user's input (a file, a line, a key, a checkpoint): the CLI prints its
/// one-line message without a stack trace and exits non-zero. Bugs stay ordinary exceptions.
/// </summary>
public class KgglmException : Exception
{
    /// <summary>Creates the error with its one-line message.</summary>
    public KgglmException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with its one-line message and the underlying cause.</summary>
    public KgglmException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
