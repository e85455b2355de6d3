namespace Kgglm.Decoding;

/// <summary>How the returned paths of a user are scored before ranking their items.</summary>
public enum PathScoring
{
    /// <summary>
    /// Mean over the generated positions of the probability of the generated token under the
    /// constrained distribution of that step (the default).
    /// </summary>
    Cumulative,

    /// <summary>The accumulated beam score (log-probabilities less diversity penalties).</summary>
    BeamSearch,
}

/// <summary>Which split is being recommended for, which fixes the masked history.</summary>
public enum RecommendationSplit
{
    /// <summary>Validation: the user's train items are history.</summary>
    Valid,

    /// <summary>Test (and plain recommendation): train and valid items are history.</summary>
    Test,
}

/// <summary>
/// The decoding settings (hopwise's names in brackets).
/// </summary>
/// <param name="NumBeams">Beams per user [num_beams] (20).</param>
/// <param name="NumBeamGroups">Groups the beams are split into [num_beam_groups] (5).</param>
/// <param name="DiversityPenalty">Subtracted per earlier choice of a token at the same step by
/// an earlier group of the same user [diversity_penalty] (0.3).</param>
/// <param name="PathsPerUser">Sequences returned per user [paths_per_user] (10).</param>
/// <param name="Scoring">[sequence_postprocessor] (Cumulative).</param>
/// <param name="UsersPerBatch">Users decoded together; at most users × beams rows (beams that
/// share a path share a row), and the logits buffer holds that many × V floats (32 × 20 ×
/// 35,609 floats = 91 MB on ml-100k). 64 measured no faster on 2 cores and costs 300 MB more.
/// </param>
public sealed record DecodeOptions(
    int NumBeams = 20, int NumBeamGroups = 5, double DiversityPenalty = 0.3,
    int PathsPerUser = 10, PathScoring Scoring = PathScoring.Cumulative, int UsersPerBatch = 32)
{
    /// <summary>Beams per group.</summary>
    public int GroupSize => NumBeams / NumBeamGroups;

    /// <summary>Throws on settings that cannot decode.</summary>
    public void Validate()
    {
        if (NumBeams < 1 || NumBeamGroups < 1 || NumBeams % NumBeamGroups != 0)
        {
            throw new ArgumentException(
                $"num_beams ({NumBeams}) must be a positive multiple of num_beam_groups " +
                $"({NumBeamGroups})");
        }

        if (PathsPerUser < 1 || UsersPerBatch < 1 || !(DiversityPenalty >= 0))
        {
            throw new ArgumentException(
                $"paths_per_user ({PathsPerUser}) and the users per batch ({UsersPerBatch}) must " +
                $"be ≥ 1 and diversity_penalty ({DiversityPenalty}) ≥ 0");
        }
    }
}

/// <summary>
/// One generated path <c>U –r0– n1 –r1– n2 –r2– n3</c> (n3 the recommended item).
/// </summary>
/// <param name="Tokens">The whole sequence <c>[BOS] U R I R X R I</c> (8 token ids).</param>
/// <param name="Nodes">Graph nodes [user, n1, n2, n3] (<see cref="Data.KnowledgeGraph"/>).</param>
/// <param name="Relations">Relation ids [r0 = UI relation, r1, r2]; Relations[i] joins
/// Nodes[i] and Nodes[i + 1].</param>
/// <param name="Score">The score the items are ranked by (per <see cref="PathScoring"/>).</param>
/// <param name="BeamScore">Accumulated beam score: Σ log-probabilities − diversity penalties.
/// </param>
/// <param name="LogProbability">Σ full-vocabulary log-probabilities of the generated tokens
/// (the model's path likelihood).</param>
/// <param name="StepProbabilities">Per generated token, its probability under the constrained
/// distribution of its step.</param>
/// <param name="Group">The beam group that produced it.</param>
public sealed record DecodedPath(
    int[] Tokens, int[] Nodes, int[] Relations, double Score, double BeamScore,
    double LogProbability, double[] StepProbabilities, int Group)
{
    /// <summary>The recommended item (internal id) at the end of the path.</summary>
    public int Item(Data.KnowledgeGraph graph) => graph.InternalId(Nodes[^1]);
}

/// <summary>One recommended item with the path that explains it.</summary>
/// <param name="Item">Internal item id.</param>
/// <param name="Rank">1-based rank.</param>
/// <param name="Path">Its explanation (its first path in score order).</param>
public sealed record RecommendedItem(int Item, int Rank, DecodedPath Path)
{
    /// <summary>The ranking score (the path's).</summary>
    public double Score => Path.Score;
}

/// <summary>The recommendations of one user.</summary>
/// <param name="User">Internal user id.</param>
/// <param name="Items">At most topk distinct items, best first (fewer when paths ran out).</param>
/// <param name="Paths">The returned sequences (≤ paths_per_user), in score order.</param>
public sealed record UserRecommendations(
    int User, IReadOnlyList<RecommendedItem> Items, IReadOnlyList<DecodedPath> Paths);

/// <summary>One beam kept at one step, for tests and debugging.</summary>
/// <param name="Step">0-based generated position.</param>
/// <param name="User">Internal user id.</param>
/// <param name="Group">Beam group.</param>
/// <param name="Rank">Rank inside the group.</param>
/// <param name="Generated">Generated tokens so far.</param>
/// <param name="Score">Accumulated beam score.</param>
public sealed record TracedBeam(
    int Step, int User, int Group, int Rank, int[] Generated, double Score);
