using Kgglm.Checkpoints;
using Kgglm.Data;
using Kgglm.Kernels;
using Kgglm.Network;

namespace Kgglm.Decoding;

/// <summary>
/// A trained checkpoint ready to recommend: the network (weights only; its training batch is
/// one path), the inference cache and the decoder, over one dataset.
/// </summary>
public sealed class Recommender : IDisposable
{
    private readonly Gpt2 _model;
    private readonly Gpt2Inference _net;
    private readonly PathDecoder _decoder;

    /// <summary>Wraps an already loaded <paramref name="model"/> (not disposed by this).</summary>
    public Recommender(IKernels kernels, Gpt2 model, Dataset dataset, DecodeOptions? options = null)
        : this(kernels, model, dataset, options ?? new DecodeOptions(), ownsModel: false)
    {
    }

    private Recommender(
        IKernels kernels, Gpt2 model, Dataset dataset, DecodeOptions options, bool ownsModel)
    {
        options.Validate();
        _model = model;
        OwnsModel = ownsModel;
        Dataset = dataset;
        _net = new Gpt2Inference(kernels, model, options.UsersPerBatch * options.NumBeams);
        _decoder = new PathDecoder(_net, dataset, options);
    }

    /// <summary>The dataset recommended for.</summary>
    public Dataset Dataset { get; }

    /// <summary>The decoding settings.</summary>
    public DecodeOptions Options => _decoder.Options;

    /// <summary>
    /// Network rows so far: computed through the blocks and the head, and what the blocks
    /// would have computed had no two beams shared a path's row.
    /// </summary>
    public (long Body, long Head, long Unshared) RowsComputed =>
        (_net.BodyRows, _net.HeadRows, _decoder.UnsharedRows);

    private bool OwnsModel { get; }

    /// <summary>
    /// Loads a checkpoint folder (or a run folder: its newest <c>checkpoint-N</c>) for
    /// <paramref name="dataset"/>, refusing one trained on another vocabulary.
    /// </summary>
    public static Recommender Load(
        string checkpointOrRun, Dataset dataset, IKernels kernels, DecodeOptions? options = null)
    {
        string folder = Checkpoint.Resolve(checkpointOrRun);
        Gpt2 model = Checkpoint.LoadInferenceModel(
            folder, kernels, dataset.Vocabulary, dataset.Name);
        try
        {
            return new Recommender(kernels, model, dataset, options ?? new DecodeOptions(), true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The top <paramref name="topk"/> items of the user with raw id
    /// <paramref name="rawUserId"/>, train and valid items masked (as for test).
    /// </summary>
    public UserRecommendations Recommend(string rawUserId, int topk)
    {
        if (!Dataset.Users.TryGetId(rawUserId, out int user) || user == 0)
        {
            throw new KgglmException($"user '{rawUserId}' is not in dataset {Dataset.Name}");
        }

        return _decoder.Decode([user], RecommendationSplit.Test, topk)[0];
    }

    /// <summary>
    /// Recommendations for internal user ids, history per <paramref name="split"/>.
    /// </summary>
    public IReadOnlyList<UserRecommendations> Recommend(
        ReadOnlySpan<int> users, RecommendationSplit split, int topk) =>
        _decoder.Decode(users, split, topk);

    /// <summary>
    /// Every user with at least one interaction in <paramref name="split"/>, ascending id (the
    /// users an evaluation of that split averages over).
    /// </summary>
    public IReadOnlyList<UserRecommendations> RecommendAll(RecommendationSplit split, int topk)
    {
        ItemSets positives = split == RecommendationSplit.Valid ? Dataset.ValidItems
            : Dataset.TestItems;
        int[] users = Enumerable.Range(1, Dataset.Users.Count - 1)
            .Where(u => positives[u].Length > 0).ToArray();
        return _decoder.Decode(users, split, topk);
    }

    /// <summary>
    /// Keeps the weights arranged for the matmul from now on (4 bytes per parameter, 280 MB at
    /// the default size), for a long-lived server whose weights do not change: every later
    /// request, a single user included, then skips arranging them (one-user latency 230 → 110-
    /// 130 ms at the default size, measured). A decode of several users does this by itself for
    /// its own duration. Call again after changing the weights.
    /// </summary>
    public void PackWeights() => _net.PackWeights();

    /// <summary>Frees what <see cref="PackWeights"/> arranged.</summary>
    public void ReleasePackedWeights() => _net.ReleasePackedWeights();

    /// <summary>Readable form of a path (see <see cref="Explanations.Readable"/>).</summary>
    public string Explain(DecodedPath path) => Explanations.Readable(Dataset, path);

    /// <summary>The JSON lines of a user's recommendations, one per item.</summary>
    public IEnumerable<string> JsonLines(UserRecommendations recommendations) =>
        recommendations.Items.Select(i => Explanations.JsonLine(Dataset, recommendations.User, i));

    /// <summary>Releases the cache, and the network when this loaded it.</summary>
    public void Dispose()
    {
        _net.Dispose();
        if (OwnsModel)
        {
            _model.Dispose();
        }
    }
}
