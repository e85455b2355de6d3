using Kgglm.Configuration;
using Kgglm.Tuning;

namespace Kgglm.Tests.Tuning;

/// <summary>
/// hopwise's params-file format, the grid and the search algorithms (no training).
/// </summary>
public sealed class ParamsFileTests
{
    private static readonly string[] SeedExample =
    [
        "learning_rate choice [1e-4,2e-4,5e-4]",
        "embedding_size choice [256,512,768]",
        "num_layers choice [4,6,8]",
        "num_heads choice [8,12]",
        "pretrain_epochs choice [1,3,5]",
    ];

    [Fact]
    public void The_seed_example_parses_to_162_combinations()
    {
        SearchSpace space = ParamsFile.Parse(SeedExample, "kgglm.hyper");
        Assert.True(space.IsGrid);
        Assert.Equal(162, space.GridSize);
        var all = Enumerable.Range(0, 162).Select(i => space.GridPoint(i).ToString()).ToList();
        Assert.Equal(162, all.Distinct().Count());
        Assert.Equal("learning_rate=1e-4, embedding_size=256, num_layers=4, num_heads=8, " +
            "pretrain_epochs=1", all[0]);
        Assert.Equal("5e-4", space.GridPoint(161)["learning_rate"]);
    }

    [Fact]
    public void Comments_short_lines_and_quoted_values_follow_hopwise()
    {
        SearchSpace space = ParamsFile.Parse(
        [
            "# a comment line",
            "",
            "dropout",
            "topk choice ['[4]','[4,10]']",
            "use_kg_token_types choice [True,False]",
            "valid_metric choice ['NDCG@4']",
            "dropout  uniform 0.0, 0.5",
            "learning_rate loguniform -9.2,-6.9",
            "num_layers quniform 1,4,1",
        ], "p.hyper");
        Assert.Equal(6, space.Params.Count);
        Assert.Equal(["[4]", "[4,10]"], space.Params[0].Choices);
        Assert.Equal(["true", "false"], space.Params[1].Choices);
        Assert.Equal(ParamKind.Uniform, space.Params[3].Kind);
        Assert.Equal(0.5, space.Params[3].High);
        Assert.True(space.Params[5].IsInteger);
        Assert.Equal("3", space.Params[5].Format(2.6));
    }

    [Theory]
    [InlineData("learning_rate choice 1e-4,2e-4", "p.hyper:2: choice expects a list")]
    [InlineData("learning_rat choice [1e-4]", "p.hyper:2: unknown parameter 'learning_rat'")]
    [InlineData("num_layers choice []", "p.hyper:2: choice list is empty")]
    [InlineData("dropout uniform 0.5,0.1", "p.hyper:2: uniform bounds reversed")]
    [InlineData("learning_rate loguniform -6,-9", "p.hyper:2: loguniform bounds reversed")]
    [InlineData("num_layers quniform 1,4,0", "p.hyper:2: quniform step q must be > 0")]
    [InlineData("num_layers quniform 1,4", "p.hyper:2: quniform expects low,high,q")]
    [InlineData("dropout uniform a,b", "p.hyper:2: uniform expects low,high")]
    [InlineData("num_layers normal 1,4", "p.hyper:2: unknown type 'normal'")]
    [InlineData("num_layers choice [1,two]", "p.hyper:2: key 'num_layers': expected an integer")]
    [InlineData("dataset choice [ml-100k]", "p.hyper:2: 'dataset' cannot be tuned")]
    [InlineData("metrics uniform 0,1", "p.hyper:2: 'metrics' takes")]
    [InlineData("num_layers choice [1,[2]", "p.hyper:2: unbalanced")]
    public void Bad_lines_name_the_file_line_and_what_was_expected(string line, string message)
    {
        var e = Assert.ThrowsAny<KgglmException>(() =>
            ParamsFile.Parse(["num_heads choice [4]", line], "p.hyper"));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Exhaustive_refuses_continuous_parameters_by_name()
    {
        SearchSpace space = ParamsFile.Parse(
            ["num_layers choice [1,2]", "dropout uniform 0,0.5"], "p.hyper");
        var e = Assert.Throws<TuneException>(
            () => SearchAlgorithms.Create("exhaustive", space, 1, null));
        Assert.Contains("dropout is not", e.Message, StringComparison.Ordinal);
        Assert.Throws<TuneException>(() => SearchAlgorithms.Create("anneal", space, 1, null));
    }

    [Fact]
    public void Random_search_is_seeded_and_within_bounds()
    {
        SearchSpace space = Mixed();
        var a = new RandomSearch(space, 7);
        var b = new RandomSearch(space, 7);
        var c = new RandomSearch(space, 8);
        var seqA = Enumerable.Range(0, 20).Select(i => a.Propose(i, []).ToString()).ToList();
        Assert.Equal(seqA, Enumerable.Range(0, 20).Select(i => b.Propose(i, []).ToString()));
        Assert.NotEqual(seqA, Enumerable.Range(0, 20).Select(i => c.Propose(i, []).ToString()));

        // Trial 5 alone gives the same draw as trial 5 after 0..4: resume needs no replay.
        Assert.Equal(seqA[5], new RandomSearch(space, 7).Propose(5, []).ToString());
        foreach (int i in Enumerable.Range(0, 20))
        {
            CheckBounds(a.Propose(i, []));
        }
    }

    [Fact]
    public void Tpe_proposes_within_bounds_deterministically_and_moves_towards_good_trials()
    {
        SearchSpace space = Mixed();

        // A history where small dropout and num_layers 2 scored best.
        var rng = new Random(3);
        var history = new List<TrialRecord>();
        for (int n = 1; n <= 30; n++)
        {
            double dropout = rng.NextDouble() * 0.5;
            int layers = 1 + rng.Next(3);
            double lr = Math.Exp(-9.2 + (rng.NextDouble() * 2.3));
            double score = 1 - dropout - (layers == 2 ? 0 : 0.3);
            history.Add(new TrialRecord(n, new ParamSet(
            [
                new("dropout",
                    dropout.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
                new("num_layers",
                    layers.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("learning_rate",
                    lr.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
            ]), TrialStatus.Ok, null, score, new Dictionary<string, double>(), 1, false, null));
        }

        history.Add(new TrialRecord(31, history[0].Params, TrialStatus.Failed, "diverged", null,
            new Dictionary<string, double>(), 1, false, null));
        var tpe = new TpeSearch(space, 11, startup: 5);
        var proposals = Enumerable.Range(31, 40).Select(i => tpe.Propose(i, history)).ToList();
        Assert.Equal(proposals.Select(p => p.ToString()),
            Enumerable.Range(31, 40).Select(i =>
                new TpeSearch(space, 11, 5).Propose(i, history).ToString()));
        Assert.NotEqual(proposals.Select(p => p.ToString()),
            Enumerable.Range(31, 40).Select(i =>
                new TpeSearch(space, 12, 5).Propose(i, history).ToString()));
        proposals.ForEach(CheckBounds);

        // The model prefers the good region: far more two-layer proposals than a third, and a
        // lower mean dropout than the uniform 0.25.
        double twoLayers = proposals.Count(p => p["num_layers"] == "2") / (double)proposals.Count;
        double meanDropout = proposals.Average(p => double.Parse(p["dropout"],
            System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(twoLayers > 0.6, $"two-layer share {twoLayers:F2}");
        Assert.True(meanDropout < 0.2, $"mean dropout {meanDropout:F3}");

        // Before startup trials are done it is the random search.
        Assert.Equal(new RandomSearch(space, 11).Propose(2, []).ToString(),
            tpe.Propose(2, history.Take(3).ToList()).ToString());
    }

    private static SearchSpace Mixed() => ParamsFile.Parse(
    [
        "dropout uniform 0,0.5",
        "num_layers choice [1,2,3]",
        "learning_rate loguniform -9.2,-6.9",
    ], "m.hyper");

    private static void CheckBounds(ParamSet p)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        double dropout = double.Parse(p["dropout"], inv);
        double lr = double.Parse(p["learning_rate"], inv);
        Assert.InRange(dropout, 0, 0.5);
        Assert.InRange(lr, Math.Exp(-9.2) * 0.999999, Math.Exp(-6.9) * 1.000001);
        Assert.Contains(p["num_layers"], new[] { "1", "2", "3" });
        _ = ConfigResolver.Resolve([], p.Overrides("test"));
    }
}
