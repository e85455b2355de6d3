namespace Kgglm.Tests;

/// <summary>A fresh folder under the system temp folder, deleted with everything in it.</summary>
sealed class TempFolder : IDisposable
{
    public TempFolder() =>
        Path = Directory.CreateDirectory(System.IO.Path.Combine(
            System.IO.Path.GetTempPath(), "kgglm-" + Guid.NewGuid().ToString("N"))).FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
