using Kgglm.Data;
using Kgglm.Evaluation;

namespace Kgglm.Tests.Evaluation;

/// <summary>
/// A hand-made world small enough to compute every metric on paper.
/// <code>
/// ids     users 1..3, items 1..5, pure entities 6 (E6), 7 (E7); relations 1 = r1, 2 = r2,
///         3 = UI; counts with [PAD]: U = 4, I = 6, E = 8, R = 4
/// nodes   user u → u; item i → 4 + i; E6 → 10, E7 → 11 (12 nodes)
/// train   u1: i1 @10, i2 @20, i3 @30; u2: i1 @5, i4 @5; u3: i2 @7
///         pop: i1 2, i2 2, i3 1, i4 1, i5 0
/// KG      i1 r1 E6, i2 r1 E6, i4 r1 E6, i5 r1 E6, i3 r2 E7, i5 r2 E7
/// test    u1: {4, 5}; u2: {2}; u3: none (not evaluated)
/// recs    u1: [5, 4]      U1 -UI- I3 -r2- E7 -r2- I5;  U1 -UI- I2 -r1- E6 -r1- I4
///         u2: [3, 2, 5]   U2 -UI- I1 -UI- U1 -UI- I3;  U2 -UI- I1 -r1- E6 -r1- I2;
///                         U2 -UI- I4 -r1- E6 -r1- I5
///         u3: [1]         U3 -UI- I2 -r1- E6 -r1- I1 (ignored: u3 has no positives)
/// </code>
/// </summary>
static class MetricsFixture
{
    public const int Users = 4, Items = 6, Entities = 8, Relations = 4, Ui = 3;

    public static Interactions Train(bool timestamps = true) => new(
        [1, 1, 1, 2, 2, 3], [1, 2, 3, 1, 4, 2], null,
        timestamps ? [10, 20, 30, 5, 5, 7] : null);

    public static KnowledgeGraph Graph(Interactions train) => KnowledgeGraph.Build(
        Users, Items, Entities, Relations, Ui, train,
        new KgTriples([1, 2, 4, 5, 3, 5], [1, 1, 1, 1, 2, 2], [6, 6, 6, 6, 7, 7]));

    public static ItemSets Test() =>
        ItemSets.From(new Interactions([1, 1, 2], [4, 5, 2], null, null), Users);

    public static RecommendedPath Path(int[] nodes, int[] relations, double score = 0.5) =>
        new(nodes, relations, score);

    public static UserRecommendation U1() => new(1, [5, 4],
    [
        Path([1, 7, 11, 9], [Ui, 2, 2]),
        Path([1, 6, 10, 8], [Ui, 1, 1]),
    ]);

    public static UserRecommendation U2() => new(2, [3, 2, 5],
    [
        Path([2, 5, 1, 7], [Ui, Ui, Ui]),
        Path([2, 5, 10, 6], [Ui, 1, 1]),
        Path([2, 8, 10, 9], [Ui, 1, 1]),
    ]);

    public static UserRecommendation U3() => new(3, [1], [Path([3, 6, 10, 5], [Ui, 1, 1])]);

    public static EvaluationInput Input(params UserRecommendation[] recs)
    {
        var train = Train();
        return new EvaluationInput(Graph(train), train, Test(), recs);
    }

    public static EvaluationInput Default() => Input(U1(), U2(), U3());
}
