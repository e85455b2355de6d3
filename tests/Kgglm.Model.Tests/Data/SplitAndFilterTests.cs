using Kgglm.Data;

namespace Kgglm.Tests.Data;

/// <summary>Split determinism, the split rules, interval parsing and the filters.</summary>
public sealed class SplitAndFilterTests(Ml100kFixture fixture) : IClassFixture<Ml100kFixture>
{
    static HashSet<(int, int, int)> Members(Interactions x)
    {
        // (user, item, occurrence) so duplicate interactions stay distinct.
        var seen = new Dictionary<(int, int), int>();
        var set = new HashSet<(int, int, int)>();
        for (int k = 0; k < x.Count; k++)
        {
            var key = (x.Users[k], x.Items[k]);
            seen[key] = seen.GetValueOrDefault(key) + 1;
            set.Add((key.Item1, key.Item2, seen[key]));
        }
        return set;
    }

    [Fact]
    public void Same_seed_same_split_other_seed_other_members_same_counts()
    {
        var location = DatasetLocator.FromName("ml-100k");
        var again = Dataset.Load(location);
        var other = Dataset.Load(location, new DatasetOptions { Seed = 7 });
        var first = fixture.Data;
        Assert.Equal(first.Test.Users.ToArray(), again.Test.Users.ToArray());
        Assert.Equal(first.Test.Items.ToArray(), again.Test.Items.ToArray());
        Assert.Equal(first.Graph.Neighbours(5).ToArray(), again.Graph.Neighbours(5).ToArray());
        Assert.Equal(first.Vocabulary.Fingerprint, other.Vocabulary.Fingerprint);
        Assert.Equal(first.Train.Count, other.Train.Count);
        Assert.Equal(first.Test.Count, other.Test.Count);
        Assert.NotEqual(Members(first.Test), Members(other.Test));
    }

    [Fact]
    public void Leave_one_out_and_time_order()
    {
        var options = new DatasetOptions
        {
            Split = new SplitOptions { Mode = SplitMode.LeaveOneOut, Order = SplitOrder.Time },
        };
        var d = Dataset.Load(DatasetLocator.FromName("ml-100k"), options);
        Assert.Equal(943, d.Valid.Count);
        Assert.Equal(943, d.Test.Count);
        Assert.Equal(97_554 - 2 * 943, d.Train.Count);

        // TO: each user's test interaction is the latest one.
        var latest = new double[d.Users.Count];
        var users = d.Interactions.Users;
        var times = d.Interactions.Timestamps;
        for (int k = 0; k < d.Interactions.Count; k++)
        {
            latest[users[k]] = Math.Max(latest[users[k]], times[k]);
        }
        for (int k = 0; k < d.Test.Count; k++)
        {
            Assert.Equal(latest[d.Test.Users[k]], d.Test.Timestamps[k]);
        }
    }

    [Fact]
    public void Rating_threshold_and_k_core_filters_apply()
    {
        var options = new DatasetOptions
        {
            Filters = new FilterOptions
            {
                ValueIntervals = new Dictionary<string, IntervalSet>
                {
                    ["rating"] = IntervalSet.Parse("[3,inf)"),
                },
                ItemInteractionCount = IntervalSet.Parse("[5,inf)"),
            },
        };
        var d = Dataset.Load(DatasetLocator.FromName("ml-100k"), options);
        var ratings = d.Interactions.Ratings;
        foreach (double r in ratings)
        {
            Assert.True(r >= 3);
        }
        var perItem = new int[d.Items.Count];
        foreach (int i in d.Interactions.Items)
        {
            perItem[i]++;
        }
        Assert.All(perItem.Skip(1), c => Assert.True(c >= 5));
        Assert.True(d.Interactions.Count < 80_000);
    }

    [Fact]
    public void Reverse_relations_come_before_the_ui_relation()
    {
        var d = Dataset.Load(DatasetLocator.FromName("ml-100k"),
            new DatasetOptions { Kg = new KgOptions { ReverseRelations = true } });
        Assert.Equal(50, d.Relations.Count);
        Assert.Equal("film.producer.film_r", d.Relations[25]);
        Assert.Equal(49, d.UiRelation);
        Assert.Equal(2 * 91_631, d.Triples.Count);
    }

    [Theory]
    [InlineData("[3,inf)", 3, true)]
    [InlineData("[3,inf)", 2.9, false)]
    [InlineData("(0,1]", 0, false)]
    [InlineData("(0,1]", 1, true)]
    [InlineData("(0,1);[5,6]", 5.5, true)]
    public void Intervals_parse_hopwise_syntax(string text, double value, bool inside) =>
        Assert.Equal(inside, IntervalSet.Parse(text).Contains(value));

    [Fact]
    public void Bad_interval_says_what_was_expected() =>
        Assert.Contains("expected '[low,high)'",
            Assert.Throws<FormatException>(() => IntervalSet.Parse("3,inf")).Message,
            StringComparison.Ordinal);
}
