using Kgglm.Data;

namespace Kgglm.Tests.Data;

/// <summary>Each bad input gives one <see cref="DataFormatException"/> naming file:line.</summary>
public sealed class BadInputTests : IDisposable
{
    const string Inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "u1\ti1\t4\t10\nu1\ti2\t5\t11\nu2\ti1\t3\t12\nu2\ti3\t2\t13\n";
    const string Kg = "head_id:token\trelation_id:token\ttail_id:token\n"
        + "e1\tr.a\tx1\ne2\tr.a\tx1\ne3\tr.b\tx2\n";
    const string Link = "item_id:token\tentity_id:token\ni1\te1\ni2\te2\ni3\te3\n";

    readonly string _folder = Path.Combine(Path.GetTempPath(), $"kgglm-bad-{Guid.NewGuid():N}");

    public BadInputTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(string inter = Inter, string kg = Kg, string? link = Link)
    {
        File.WriteAllText(Path.Combine(_folder, "t.inter"), inter);
        File.WriteAllText(Path.Combine(_folder, "t.kg"), kg);
        if (link is not null)
        {
            File.WriteAllText(Path.Combine(_folder, "t.link"), link);
        }
        return _folder;
    }

    DataFormatException Fails(DatasetOptions? options = null) =>
        Assert.Throws<DataFormatException>(() => Dataset.Load(_folder, "t", options));

    [Fact]
    public void Good_small_dataset_loads()
    {
        Write();
        var d = Dataset.Load(_folder, "t");
        Assert.Equal(4, d.Interactions.Count);
        Assert.Equal(3, d.Users.Count);
        Assert.Equal(4, d.Items.Count);
        Assert.Equal(4 + 2, d.Entities.Count);
        Assert.Equal(4, d.Relations.Count);
        Assert.Equal("r.b", d.Relations[2]);
    }

    [Fact]
    public void Missing_file_names_the_expected_path()
    {
        Write(link: null);
        var e = Fails();
        Assert.Contains(Path.Combine(_folder, "t.link"), e.Message, StringComparison.Ordinal);
        Assert.Contains("expected an atomic file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_field_without_type()
    {
        Write(inter: "user_id\titem_id:token\nu1\ti1\n");
        var e = Fails();
        Assert.Contains("t.inter:1: expected a header field 'name:type', found 'user_id'",
            e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_type()
    {
        Write(kg: "head_id:token\trelation_id:int\ttail_id:token\ne1\tr\tx\n");
        var e = Fails();
        Assert.Contains("t.kg:1: expected a type token, float, token_seq or float_seq, found 'int'",
            e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Required_column_missing()
    {
        Write(link: "item_id:token\tentity:token\ni1\te1\n");
        var e = Fails();
        Assert.Contains("t.link:1: expected a column 'entity_id' in the header", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Row_with_wrong_number_of_columns()
    {
        Write(kg: Kg + "e1\tr.a\n");
        var e = Fails();
        Assert.Contains("t.kg:5: expected 3 fields as in the header, found 2", e.Message,
            StringComparison.Ordinal);
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void Unparsable_float()
    {
        Write(inter: Inter.Replace("u2\ti1\t3\t12", "u2\ti1\tthree\t12", StringComparison.Ordinal));
        var e = Fails();
        Assert.Contains("t.inter:4: expected a number in float column 'rating', found 'three'",
            e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_after_filtering()
    {
        Write();
        var options = new DatasetOptions
        {
            Filters = new FilterOptions
            {
                ValueIntervals = new Dictionary<string, IntervalSet>
                {
                    ["rating"] = IntervalSet.Parse("[10,inf)"),
                },
            },
        };
        var e = Fails(options);
        Assert.Contains("t.inter: expected at least one interaction after filtering, found none",
            e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Link_whose_item_never_occurs_is_dropped_and_reported()
    {
        Write(link: Link + "i9\te3\n");
        var d = Dataset.Load(_folder, "t");
        Assert.Equal(1, d.Statistics.LinksUnknownItem);
        Assert.Contains(d.Statistics.Warnings, w => w.Contains("t.link:5: item 'i9' never occurs",
            StringComparison.Ordinal));
        Assert.Equal(4, d.Interactions.Count);
    }

    [Fact]
    public void Unlinked_items_lose_their_interactions()
    {
        Write(link: "item_id:token\tentity_id:token\ni1\te1\ni3\te3\ni2\tnowhere\n");
        var d = Dataset.Load(_folder, "t");
        Assert.Equal(3, d.Interactions.Count);
        Assert.Equal(1, d.Statistics.LinksUnknownEntity);
        Assert.Equal(1, d.Statistics.DroppedByLinkFilter);
    }
}
