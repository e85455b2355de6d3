using System.Globalization;

namespace Kgglm.Bench.EndToEnd;

/// <summary>The <c>--name value</c> options of the end-to-end harnesses.</summary>
internal static class Arguments
{
    /// <summary>The integer after <c>--name</c>, or <paramref name="fallback"/>.</summary>
    public static int Int(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length
            ? int.Parse(args[i + 1], CultureInfo.InvariantCulture)
            : fallback;
    }

    /// <summary>
    /// The text after <c>--name</c>; throws naming the option when it is missing.
    /// </summary>
    public static string Text(string[] args, string name)
    {
        int i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length
            ? args[i + 1]
            : throw new ArgumentException($"--{name} is required");
    }

    /// <summary>The text after <c>--name</c>, or null when the option is absent.</summary>
    public static string? OptionalText(string[] args, string name)
    {
        int i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
