namespace Kgglm.Data;

/// <summary>Where a dataset's files are: <c>Folder/Name.inter</c> and its siblings.</summary>
/// <param name="Folder">Folder holding the atomic files.</param>
/// <param name="Name">Dataset name, the stem of every file.</param>
public sealed record DatasetLocation(string Folder, string Name)
{
    /// <summary>
    /// Path of the atomic file with extension <paramref name="extension"/> (no dot).
    /// </summary>
    public string FilePath(string extension) => Path.Combine(Folder, $"{Name}.{extension}");
}

/// <summary>Resolves the CLI's <c>--dataset NAME</c> and <c>--data-path DIR</c>.</summary>
public static class DatasetLocator
{
    /// <summary>The dataset used when neither option is given.</summary>
    public const string DefaultName = "ml-100k";

    /// <summary><c>--data-path</c> wins over <c>--dataset</c>; neither means ml-100k.</summary>
    public static DatasetLocation Resolve(string? name, string? dataPath) =>
        dataPath is not null ? FromPath(dataPath) : FromName(name ?? DefaultName);

    /// <summary>
    /// <c>--data-path DIR</c>: a folder holding <c>NAME.inter</c> etc., NAME being the
    /// folder's own name.
    /// </summary>
    public static DatasetLocation FromPath(string dataPath)
    {
        ArgumentNullException.ThrowIfNull(dataPath);
        var folder = Path.GetFullPath(dataPath);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        var location = new DatasetLocation(folder, name);
        if (!File.Exists(location.FilePath("inter")))
        {
            throw new DataFormatException(location.FilePath("inter"), 0,
                $"expected the interactions of dataset '{name}' (--data-path names a folder "
                + "holding NAME.inter, NAME.kg, NAME.link with NAME its own name), found none");
        }
        return location;
    }

    /// <summary>
    /// <c>--dataset NAME</c>: <c>datasets/NAME/</c> next to the executable, then in each folder
    /// above it, then in the current folder and each folder above it.
    /// </summary>
    public static DatasetLocation FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var tried = new List<string>();
        foreach (var start in (string[])[AppContext.BaseDirectory, Directory.GetCurrentDirectory()])
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var folder = Path.Combine(dir.FullName, "datasets", name);
                if (tried.Contains(folder))
                {
                    continue;
                }
                tried.Add(folder);
                if (File.Exists(Path.Combine(folder, $"{name}.inter")))
                {
                    return new DatasetLocation(folder, name);
                }
            }
        }
        throw new DataFormatException(
            $"datasets/{name}/{name}.inter: expected dataset '{name}' in one of "
            + $"{string.Join(", ", tried)}, found none (use --data-path DIR for another folder)");
    }
}
