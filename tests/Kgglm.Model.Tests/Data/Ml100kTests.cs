using Kgglm.Data;

namespace Kgglm.Tests.Data;

/// <summary>ml-100k loaded once for every test of <see cref="Ml100kTests"/>.</summary>
public sealed class Ml100kFixture
{
    /// <summary>The embedded dataset with hopwise's defaults.</summary>
    public Dataset Data { get; } = Dataset.Load(DatasetLocator.FromName("ml-100k"));
}

/// <summary>The numbers hopwise produces on ml-100k (reference §1, §3.3, §11).</summary>
public sealed class Ml100kTests(Ml100kFixture fixture) : IClassFixture<Ml100kFixture>
{
    readonly Dataset _d = fixture.Data;

    [Fact]
    public void Counts_match_hopwise()
    {
        Assert.Equal(944, _d.Users.Count);
        Assert.Equal(1_599, _d.Items.Count);
        Assert.Equal(97_554, _d.Interactions.Count);
        Assert.Equal(91_631, _d.Triples.Count);
        Assert.Equal(34_629, _d.Entities.Count);
        Assert.Equal(26, _d.Relations.Count);
        Assert.Equal(25, _d.UiRelation);
        var s = _d.Statistics;
        Assert.Equal(943, s.ActiveUsers);
        Assert.Equal(1_598, s.ActiveItems);
        Assert.Equal(2_446, s.DroppedByLinkFilter);
        Assert.Equal(24, s.KgRelations);
        Assert.Equal(0.93537, s.Sparsity, 5);
        Assert.Equal(103.45, s.AverageActionsOfUsers, 2);
        Assert.Equal(61.05, s.AverageActionsOfItems, 2);
        Assert.Equal(5.29, s.KgAverageDegree, 2);
        Assert.Equal(1_598, s.LinksKept);
        Assert.Contains(s.Rows(), r => r.Label == "sparsity" && r.Value == "93.537 %");
    }

    [Fact]
    public void Ids_follow_first_appearance()
    {
        Assert.Equal("[PAD]", _d.Users[0]);
        Assert.Equal("196", _d.Users[1]);
        Assert.Equal("186", _d.Users[2]);
        Assert.Equal("22", _d.Users[3]);
        Assert.Equal("242", _d.Items[1]);
        Assert.Equal("302", _d.Items[2]);
        Assert.Equal("377", _d.Items[3]);
        Assert.Equal(1, _d.Items.GetId("242"));
        Assert.Equal("film.producer.film", _d.Relations[1]);
        Assert.Equal("film.film.actor", _d.Relations[2]);
        Assert.Equal("film.actor.film", _d.Relations[24]);
        Assert.Equal("[UI-Relation]", _d.Relations[25]);
        Assert.Equal("Kolya", _d.ItemTitle(1));
    }

    [Fact]
    public void Entities_share_the_item_id_space()
    {
        var heads = _d.Triples.Heads;
        var tails = _d.Triples.Tails;
        int itemHeads = 0, itemTails = 0;
        for (int k = 0; k < _d.Triples.Count; k++)
        {
            itemHeads += heads[k] < _d.Items.Count ? 1 : 0;
            itemTails += tails[k] < _d.Items.Count ? 1 : 0;
            Assert.InRange(heads[k], 1, _d.Entities.Count - 1);
            Assert.InRange(tails[k], 1, _d.Entities.Count - 1);
        }
        Assert.Equal(72_478 + 114, itemHeads);
        Assert.Equal(19_039 + 114, itemTails);
        // The linked entity of raw item 242 carries item id 1.
        Assert.StartsWith("m.", _d.Entities[1]);
    }

    [Fact]
    public void Split_counts_and_every_user_in_every_split()
    {
        Assert.Equal(78_836, _d.Train.Count);
        Assert.Equal(9_359, _d.Valid.Count);
        Assert.Equal(9_359, _d.Test.Count);
        for (int u = 1; u < _d.Users.Count; u++)
        {
            Assert.False(_d.TrainItems[u].IsEmpty);
            Assert.False(_d.ValidItems[u].IsEmpty);
            Assert.False(_d.TestItems[u].IsEmpty);
        }
        Assert.True(_d.TrainItems[0].IsEmpty);
    }

    [Fact]
    public void Vocabulary_ids_match_hopwise()
    {
        var v = _d.Vocabulary;
        Assert.Equal(35_609, v.Count);
        string[] specials = ["[MASK]", "[UNK]", "[PAD]", "[EOS]", "[BOS]", "[SEP]", "[CLS]"];
        for (int k = 0; k < specials.Length; k++)
        {
            Assert.Equal(specials[k], v[k]);
        }
        Assert.Equal("E10000", v[7]);
        Assert.Equal("E9999", v[33_036]);
        Assert.Equal(33_037, v.ItemToken(0));
        Assert.Equal(33_038, v.ItemToken(1));
        Assert.Equal("I10", v[33_039]);
        Assert.Equal(34_636, v.RelationToken(0));
        Assert.Equal(34_637, v.RelationToken(1));
        Assert.Equal(34_654, v.RelationToken(25));
        Assert.Equal(34_662, v.UserToken(0));
        Assert.Equal(34_663, v.UserToken(1));
        Assert.Equal(35_606, v.TypeS);
        Assert.Equal("<Token-Type.S>", v[35_606]);
        Assert.Equal("<Token-Type.R>", v[35_608]);
        Assert.True(v.TryGetId("U1", out int u1));
        Assert.Equal(TokenKind.User, v.Kind(u1));
        Assert.Equal(1, v.InternalId(u1));
        Assert.Equal(v.ItemToken(5), v.EntityToken(5));
    }

    [Fact]
    public void Nodes_and_tokens_map_both_ways()
    {
        var g = _d.Graph;
        var v = _d.Vocabulary;
        for (int node = 0; node < g.NodeCount; node++)
        {
            Assert.Equal(node, v.TokenNode(v.NodeToken(node)));
        }
        Assert.Equal(NodeKind.User, g.Kind(943));
        Assert.Equal(NodeKind.Item, g.Kind(944));
        Assert.Equal(NodeKind.Entity, g.Kind(944 + 1_599));
        Assert.Equal(-1, v.TokenNode(Vocabulary.Bos));
        Assert.Equal(-1, v.TokenNode(v.RelationToken(3)));
    }

    [Fact]
    public void Graph_has_hopwise_size_and_only_train_interactions()
    {
        var g = _d.Graph;
        Assert.Equal(35_573, g.NodeCount);
        Assert.Equal(170_467, g.EdgeCount);
        Assert.Equal(0, g.Degree(0));
        Assert.Equal(0, g.Degree(g.ItemNode(0)));

        // Every UI edge is a train interaction and the UI degree of a user is its train count.
        for (int u = 1; u < _d.Users.Count; u++)
        {
            var items = g.Neighbours(u, _d.UiRelation);
            Assert.Equal(g.Degree(u), items.Length);
            foreach (int node in items)
            {
                int item = g.InternalId(node);
                Assert.True(_d.TrainItems.Contains(u, item));
            }
        }
        var users = _d.Valid.Users;
        var vitems = _d.Valid.Items;
        for (int k = 0; k < _d.Valid.Count; k++)
        {
            if (!_d.TrainItems.Contains(users[k], vitems[k]))
            {
                Assert.False(g.HasEdge(users[k], _d.UiRelation, g.ItemNode(vitems[k])));
            }
        }
    }

    [Fact]
    public void Adjacency_views_agree()
    {
        var g = _d.Graph;
        long total = 0;
        for (int node = 0; node < g.NodeCount; node++)
        {
            var neighbours = g.Neighbours(node);
            var relations = g.NeighbourRelations(node);
            var edges = g.NeighbourEdges(node);
            total += neighbours.Length;
            for (int k = 0; k < neighbours.Length; k++)
            {
                int e = edges[k];
                Assert.True(k == 0 || edges[k - 1] <= e);
                Assert.Equal(g.EdgeRelation(e), relations[k]);
                Assert.True(g.EdgeSource(e) == node || g.EdgeTarget(e) == node);
                Assert.True(g.HasEdge(node, relations[k], neighbours[k]));
                Assert.True(g.HasEdge(neighbours[k], relations[k], node));
            }
        }
        Assert.Equal(2L * g.EdgeCount, total);
    }

    [Fact]
    public void Tokenizer_json_round_trips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kgglm-tok-{Guid.NewGuid():N}.json");
        try
        {
            _d.Vocabulary.WriteTokenizerJson(path);
            var tokens = Vocabulary.ReadTokenizerJson(path);
            Assert.Equal(_d.Vocabulary.Tokens, tokens);
            Assert.Equal(_d.Vocabulary.Fingerprint, Vocabulary.ComputeFingerprint(tokens));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
