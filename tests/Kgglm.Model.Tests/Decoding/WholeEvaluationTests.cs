using Kgglm.Configuration;
using Kgglm.Data;
using Kgglm.Decoding;
using Kgglm.Evaluation;
using Kgglm.Kernels.Cpu;
using Kgglm.Network;
using Kgglm.Tests.Training;

namespace Kgglm.Tests.Decoding;

/// <summary>
/// A whole evaluation of a small model on the ml-100k slice: every returned path starts with
/// its user, is a walk in the training graph and ends at an item outside the user's history.
/// </summary>
public sealed class WholeEvaluationTests(SliceDataset slice) : IClassFixture<SliceDataset>
{
    [Theory]
    [InlineData(EvaluationSplit.Valid)]
    [InlineData(EvaluationSplit.Test)]
    public void Every_path_of_a_whole_evaluation_is_a_valid_explanation(EvaluationSplit split)
    {
        Dataset d = slice.Data;
        Vocabulary v = d.Vocabulary;
        using var k = new CpuKernels(2);
        var shape = new Gpt2Shape(v.Count, 9, 32, 4, 2, new TypeTokenIds(v.TypeS, v.TypeE, v.TypeR),
            0f);
        using var model = new Gpt2(k, shape, 1, Vocabulary.Pad, training: false);
        WeightInit.Initialize(model, k, 3);
        ResolvedConfig config = ConfigResolver.Resolve([], []);
        using var recommender = new Recommender(k, model, d, RecommendationEvaluation.Options(
            GenerationConfig.From(config), EvaluationConfig.From(config)));

        (MetricResults metrics, IReadOnlyList<UserRecommendations> all) =
            RecommendationEvaluation.Run(recommender, split, EvaluationConfig.From(config));
        ItemSets positives = split == EvaluationSplit.Valid ? d.ValidItems : d.TestItems;
        Assert.Equal(Enumerable.Range(1, d.Users.Count - 1).Count(u => positives[u].Length > 0),
            all.Count);
        Assert.Contains("ndcg@10", metrics.Keys);
        int paths = 0;
        foreach (UserRecommendations r in all)
        {
            Assert.InRange(r.Items.Count, 0, 10);
            Assert.Equal(r.Items.Count, r.Items.Select(i => i.Item).Distinct().Count());
            foreach (RecommendedItem item in r.Items)
            {
                DecodedPath p = item.Path;
                Assert.Equal(d.Graph.UserNode(r.User), p.Nodes[0]);
                Assert.Equal(item.Item, d.Graph.InternalId(p.Nodes[^1]));
                Assert.Equal(NodeKind.Item, d.Graph.Kind(p.Nodes[^1]));
                for (int h = 0; h < p.Relations.Length; h++)
                {
                    Assert.True(d.Graph.HasEdge(p.Nodes[h], p.Relations[h], p.Nodes[h + 1]),
                        $"user {r.User}: hop {h} of {string.Join(" ", p.Nodes)} " +
                        "is not a train edge");
                }

                bool seen = d.TrainItems.Contains(r.User, item.Item)
                    || (split == EvaluationSplit.Test && d.ValidItems.Contains(r.User, item.Item));
                Assert.False(seen,
                    $"user {r.User} was recommended item {item.Item} from its history");
                paths++;
            }
        }

        Assert.True(paths > 0);
    }
}
