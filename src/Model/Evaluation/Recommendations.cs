namespace Kgglm.Evaluation;

/// <summary>Which held-out split a run is scored on.</summary>
public enum EvaluationSplit
{
    /// <summary>The valid split (positives = valid items, history = train).</summary>
    Valid,

    /// <summary>The test split (positives = test items, history = train ∪ valid).</summary>
    Test,
}

/// <summary>
/// The explanation of one recommended item: a walk through the train graph from the user's node
/// to the item's node, in <see cref="Data.KnowledgeGraph"/> node ids.
/// </summary>
/// <param name="Nodes">
/// [hops + 1] graph nodes: the user's node first, the recommended item's node last; for the
/// default 3 hops <c>U, I_linking, X_shared, I_recommended</c>.
/// </param>
/// <param name="Relations">[hops] relation ids; <c>Relations[h]</c> joins Nodes[h] and
/// Nodes[h + 1].</param>
/// <param name="Score">The path's score (SPEC §6 <c>sequence_postprocessor</c>).</param>
public sealed record RecommendedPath(int[] Nodes, int[] Relations, double Score);

/// <summary>
/// One user's ranked recommendations with their explanations, as the decoder returns them.
/// </summary>
/// <param name="User">Internal user id.</param>
/// <param name="Items">
/// Internal item ids, best first, distinct; at most <c>max(topk)</c> usually, fewer (or none)
/// when decoding found fewer items. Missing slots count as misses.
/// </param>
/// <param name="Paths">One path per item, parallel to <paramref name="Items"/>.</param>
public sealed record UserRecommendation(
    int User, IReadOnlyList<int> Items, IReadOnlyList<RecommendedPath> Paths);
