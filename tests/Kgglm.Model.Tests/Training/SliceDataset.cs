using Kgglm.Data;

namespace Kgglm.Tests.Training;

/// <summary>
/// A slice of ml-100k small enough to train on in a test: the interactions of the first 40
/// users and the KG triples that touch one of their items (so the vocabulary is a few thousand
/// tokens, not 35,609). Written once to a temp folder in the atomic-file format.
/// </summary>
public sealed class SliceDataset : IDisposable
{
    public SliceDataset()
    {
        Folder = Path.Combine(Path.GetTempPath(), "kgglm-slice-" + Guid.NewGuid().ToString("N"),
            "ml-slice");
        Directory.CreateDirectory(Folder);
        string source = DatasetLocator.FromName("ml-100k").Folder;
        string[] inter = File.ReadAllLines(Path.Combine(source, "ml-100k.inter"));
        var kept = inter.Skip(1).Where(l => int.Parse(l.Split('\t')[0]) <= 40).ToList();
        var items = kept.Select(l => l.Split('\t')[1]).ToHashSet();
        string[] link = File.ReadAllLines(Path.Combine(source, "ml-100k.link"));
        var links = link.Skip(1).Where(l => items.Contains(l.Split('\t')[0])).ToList();
        var entities = links.Select(l => l.Split('\t')[1]).ToHashSet();
        string[] kg = File.ReadAllLines(Path.Combine(source, "ml-100k.kg"));
        var triples = kg.Skip(1).Where(l =>
        {
            string[] f = l.Split('\t');
            return entities.Contains(f[0]) && entities.Contains(f[2]);
        }).ToList();
        File.WriteAllLines(Path.Combine(Folder, "ml-slice.inter"), [inter[0], .. kept]);
        File.WriteAllLines(Path.Combine(Folder, "ml-slice.link"), [link[0], .. links]);
        File.WriteAllLines(Path.Combine(Folder, "ml-slice.kg"), [kg[0], .. triples]);
        Data = Dataset.Load(Folder, "ml-slice");
    }

    public string Folder { get; }

    public Dataset Data { get; }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(Folder)!, recursive: true);
}
