using System.Text.Json.Nodes;
using Kgglm.Reporting;

namespace Kgglm.Tests.Reporting;

public class MetricsFileTests
{
    [Fact]
    public void RoundTripsSeriesScalarsAndNonFiniteValues()
    {
        using var folder = new TempFolder();
        string path = folder.File("metrics.json");
        var metrics = new MetricsFile();
        metrics.Info["dataset"] = "ml-100k";
        metrics.Scalars["test_ndcg@10"] = 0.123456789;
        metrics.Add("train_loss", 1, 10.5);
        metrics.Add("train_loss", 2, double.NaN);
        metrics.Add("valid_ndcg@10", 1, 0.1);
        metrics.Write(path);

        string text = File.ReadAllText(path);
        Assert.Contains("\n  \"scalars\": {", text);
        JsonNode json = JsonNode.Parse(text)!;
        Assert.Null(json["series"]!["train_loss"]!["y"]![1]);

        MetricsFile read = MetricsFile.Read(path);
        Assert.Equal("ml-100k", read.Info["dataset"]);
        Assert.Equal(0.123456789, read.Scalars["test_ndcg@10"]);
        Assert.Equal([1.0, 2.0], read.Series["train_loss"].X);
        Assert.Equal(10.5, read.Series["train_loss"].Y[0]);
        Assert.True(double.IsNaN(read.Series["train_loss"].Y[1]));
        Assert.Equal([path], Directory.GetFiles(folder.Path));

        File.WriteAllText(path, "{\"info\": {}}");
        var e = Assert.Throws<FormatException>(() => MetricsFile.Read(path));
        Assert.StartsWith(path, e.Message);
    }
}
