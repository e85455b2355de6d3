using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Paths;
using Kgglm.Tests.Data;

namespace Kgglm.Tests.Paths;

/// <summary>Both corpora of ml-100k: shape, graph validity, caps and thread independence.</summary>
public sealed class SamplerTests(Ml100kFixture fixture) : IClassFixture<Ml100kFixture>
{
    private const int T = 9;
    private readonly Dataset _d = fixture.Data;
    private readonly SamplingConfig _s = SamplingConfig.From(ConfigResolver.Resolve([], []));

    [Fact]
    public void Pretrain_walks_start_at_every_kg_node_and_follow_kg_edges()
    {
        int[] paths = Pretrain(_s, threads: 2);
        Assert.Equal(34_628 * T, paths.Length);
        Vocabulary v = _d.Vocabulary;
        for (int p = 0; p < paths.Length / T; p++)
        {
            ReadOnlySpan<int> path = paths.AsSpan(p * T, T);
            Assert.Equal(Vocabulary.Bos, path[0]);
            Assert.Equal(Vocabulary.Eos, path[8]);
            for (int h = 0; h < 3; h++)
            {
                int a = v.TokenNode(path[1 + (2 * h)]), b = v.TokenNode(path[3 + (2 * h)]);
                int r = v.InternalId(path[2 + (2 * h)]);
                Assert.NotEqual(_d.UiRelation, r);
                Assert.NotEqual(NodeKind.User, _d.Graph.Kind(a));
                Assert.True(_d.Graph.HasEdge(a, r, b), $"walk {p} hop {h} is not a KG edge");
            }
        }
    }

    [Fact]
    public void Simple_ui_paths_are_capped_per_user_and_end_on_train_items()
    {
        int[] paths = Finetune(_s, threads: 2);
        Assert.Equal(943 * 250 * T, paths.Length);
        Vocabulary v = _d.Vocabulary;
        var perUser = new Dictionary<int, HashSet<string>>();
        for (int p = 0; p < paths.Length / T; p++)
        {
            ReadOnlySpan<int> path = paths.AsSpan(p * T, T);
            int u = v.TokenNode(path[1]), a = v.TokenNode(path[3]), x = v.TokenNode(path[5]);
            int t = v.TokenNode(path[7]);
            Assert.Equal(NodeKind.User, _d.Graph.Kind(u));
            Assert.Equal(_d.UiRelation, v.InternalId(path[2]));
            Assert.True(_d.TrainItems.Contains(u, _d.Graph.InternalId(a)));
            Assert.True(_d.TrainItems.Contains(u, _d.Graph.InternalId(t)));
            Assert.NotEqual(a, t);
            Assert.NotEqual(u, x);
            Assert.True(_d.Graph.HasEdge(a, v.InternalId(path[4]), x));
            Assert.True(_d.Graph.HasEdge(x, v.InternalId(path[6]), t));
            if (!perUser.TryGetValue(u, out HashSet<string>? set))
            {
                perUser[u] = set = [];
            }

            Assert.True(set.Add($"{a}-{x}-{t}"), "a user's paths are distinct");
        }

        Assert.All(perUser.Values, s => Assert.Equal(250, s.Count));
    }

    [Fact]
    public void Candidate_counts_reach_hundreds_of_millions_without_materialising()
    {
        long total = 0;
        for (int u = 1; u < _d.Users.Count; u++)
        {
            total += UserPathSampler.CountCandidates(_d, u, collaborative: true);
        }

        // About 389 million on ml-100k (hopwise reference §2.1; membership depends on the split).
        Assert.InRange(total, 300_000_000L, 480_000_000L);
    }

    [Fact]
    public void Corpora_do_not_depend_on_the_thread_count()
    {
        Assert.Equal(Pretrain(_s, 1), Pretrain(_s, 3));
        SamplingConfig small = _s with { MaxPathsPerUser = 20 };
        Assert.Equal(Finetune(small, 1), Finetune(small, 3));
        SamplingConfig rw = small with { Strategy = "constrained-rw" };
        Assert.Equal(Finetune(rw, 1), Finetune(rw, 2));
    }

    [Fact]
    public void Constrained_walks_pass_through_a_non_item_node()
    {
        int[] paths = Finetune(_s with { Strategy = "constrained-rw", MaxPathsPerUser = 10 }, 2);
        Assert.NotEmpty(paths);
        Vocabulary v = _d.Vocabulary;
        for (int p = 0; p < paths.Length / T; p++)
        {
            int x = v.TokenNode(paths[(p * T) + 5]);
            Assert.NotEqual(NodeKind.Item, _d.Graph.Kind(x));
            Assert.Equal(NodeKind.Item, _d.Graph.Kind(v.TokenNode(paths[(p * T) + 7])));
        }
    }

    private int[] Pretrain(SamplingConfig s, int threads)
    {
        var all = new List<int>();
        PretrainWalkSampler.Sample(_d, s, T, 2024, threads, block => all.AddRange(block.ToArray()));
        return [.. all];
    }

    private int[] Finetune(SamplingConfig s, int threads)
    {
        var all = new List<int>();
        UserPathSampler.Sample(_d, s, T, 2024, threads, block => all.AddRange(block.ToArray()));
        return [.. all];
    }
}
