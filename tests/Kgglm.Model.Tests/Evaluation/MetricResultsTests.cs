using Kgglm.Evaluation;

namespace Kgglm.Tests.Evaluation;

/// <summary>Printing and JSON of results.</summary>
public sealed class MetricResultsTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"kgglm-eval-{Guid.NewGuid():N}");

    public MetricResultsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static MetricResults Sample()
    {
        var results = new MetricResults();
        results.Add("recall@10", 0.1234);
        results.Add("mrr@10", 0.2);
        results.Add("hit@10", 1);
        results.Add("ndcg@10", 0);
        return results;
    }

    [Fact]
    public void Format_prints_as_hopwise_dict2str()
    {
        Assert.Equal("recall@10 : 0.1234    mrr@10 : 0.2    hit@10 : 1.0    ndcg@10 : 0.0",
            Sample().Format());
        Assert.Equal("1e-05", MetricResults.PythonFloat(0.00001));
        Assert.Equal("nan", MetricResults.PythonFloat(double.NaN));
    }

    [Fact]
    public void Json_is_indented_ordered_and_round_trips()
    {
        string json = Sample().ToJson();
        Assert.StartsWith("{\n  \"recall@10\": 0.1234,\n  \"mrr@10\": 0.2,", json,
            StringComparison.Ordinal);

        string path = Path.Combine(_folder, "metrics.json");
        var withNaN = Sample();
        withNaN.Add("lir@10", double.NaN);
        withNaN.WriteJson(path);
        Assert.Contains("\"lir@10\": null", File.ReadAllText(path), StringComparison.Ordinal);
        var back = MetricResults.ReadJson(path);
        Assert.Equal(withNaN.Keys, back.Keys);
        Assert.Equal(0.1234, back["recall@10"]);
        Assert.True(double.IsNaN(back["lir@10"]));

        File.WriteAllText(path, "[1, 2]");
        var e = Assert.Throws<FormatException>(() => MetricResults.ReadJson(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
