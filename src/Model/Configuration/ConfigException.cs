namespace Kgglm.Configuration;

/// <summary>A configuration error; the message names the key, where it came from and what was
/// expected.</summary>
public sealed class ConfigException : KgglmException
{
    /// <summary>Creates the error.</summary>
    public ConfigException(string message)
        : base(message)
    {
    }
}
