using Kgglm.Data;
using Kgglm.Evaluation;

namespace Kgglm.Tests.Evaluation;

/// <summary>The dataset-facing constructor on a tiny dataset folder.</summary>
public sealed class DatasetInputTests : IDisposable
{
    // Three users with three interactions each: RS 0.8/0.1/0.1 moves one to valid and one to
    // test per user, whatever the shuffle.
    const string Inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "u1\ti1\t4\t10\nu1\ti2\t5\t11\nu1\ti3\t3\t12\n"
        + "u2\ti1\t3\t13\nu2\ti2\t2\t14\nu2\ti4\t4\t15\n"
        + "u3\ti2\t3\t16\nu3\ti3\t2\t17\nu3\ti4\t4\t18\n";
    const string Kg = "head_id:token\trelation_id:token\ttail_id:token\n"
        + "e1\tr.a\tx1\ne2\tr.a\tx1\ne3\tr.a\tx1\ne4\tr.a\tx1\n";
    const string Link = "item_id:token\tentity_id:token\ni1\te1\ni2\te2\ni3\te3\ni4\te4\n";

    readonly string _folder = Path.Combine(Path.GetTempPath(), $"kgglm-evd-{Guid.NewGuid():N}");

    public DatasetInputTests()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "t.inter"), Inter);
        File.WriteAllText(Path.Combine(_folder, "t.kg"), Kg);
        File.WriteAllText(Path.Combine(_folder, "t.link"), Link);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(EvaluationSplit.Valid)]
    [InlineData(EvaluationSplit.Test)]
    public void Recommending_the_held_out_item_scores_one(EvaluationSplit split)
    {
        var d = Dataset.Load(_folder, "t");
        var g = d.Graph;
        var held = split == EvaluationSplit.Valid ? d.ValidItems : d.TestItems;
        var recs = new List<UserRecommendation>();
        for (int u = 1; u < d.Users.Count; u++)
        {
            // Any train item links the user to the held-out item through x1.
            int item = held[u][0], linking = d.TrainItems[u][0];
            int x1 = g.EntityNode(d.Entities.GetId("x1"));
            var path = new RecommendedPath([g.UserNode(u), g.ItemNode(linking), x1,
                g.ItemNode(item)], [d.UiRelation, 1, 1], 0.9);
            recs.Add(new UserRecommendation(u, [item], [path]));
        }

        var input = new EvaluationInput(d, split, recs);
        Assert.Equal(3, input.EvaluatedUsers.Length);
        var results = new Evaluator(["Recall", "NDCG", "Hit", "Precision", "LIR", "SEP"],
            [1, 10], 4).Evaluate(input);
        Assert.Equal(1.0, results["recall@10"]);
        Assert.Equal(1.0, results["ndcg@1"]);
        Assert.Equal(1.0, results["hit@1"]);
        Assert.Equal(0.1, results["precision@10"]);
        Assert.InRange(results["lir@10"], 0.0, 1.0);
        Assert.InRange(results["sep@10"], 0.0, 1.0);
    }
}
