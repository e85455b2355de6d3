namespace Kgglm.Checkpoints;

/// <summary>
/// A checkpoint file (safetensors, config.json) is malformed or does not match what Kgglm
/// expects. The message is one line that names the file and what is wrong with it.
/// </summary>
public sealed class CheckpointFormatException : KgglmException
{
    /// <summary>Creates the exception with a one-line message naming the file.</summary>
    public CheckpointFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a one-line message and the error it wraps.</summary>
    public CheckpointFormatException(string message, Exception innerException)
        : base(message, innerException) { }
}
