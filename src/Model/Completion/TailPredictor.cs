using Kgglm.Checkpoints;
using Kgglm.Data;
using Kgglm.Decoding;
using Kgglm.Evaluation;
using Kgglm.Kernels;
using Kgglm.Network;

namespace Kgglm.Completion;

/// <summary>One tail-prediction query: a distinct (head, relation) of a split.</summary>
/// <param name="Head">Head entity id.</param>
/// <param name="Relation">Relation id.</param>
/// <param name="Tails">Its true tails in the split: distinct entity ids, ascending.</param>
public sealed record TailQuery(int Head, int Relation, int[] Tails);

/// <summary>
/// Tail prediction with a path language model: prompt <c>[BOS] head R</c>, score every entity
/// (item and pure-entity tokens, [PAD] excluded) by the next-token logit, ban the known train
/// tails of (head, R), rank the true tails (<see cref="LinkPredictionMetrics"/>).
/// <para>
/// Known train tails are the neighbours of the head through R in the dataset's graph, which for
/// link prediction is built from the KG train split only; since the graph is undirected this
/// includes the heads of train triples (t', R, head): the fine-tuning corpus teaches both
/// directions, so both are known answers. A true tail is never banned (the split keeps both
/// directions of an edge on one side).
/// </para>
/// <para>
/// Cost per query: the [BOS] position is the same for every prompt, so it is computed once
/// per batch and its cache row copied; each query then runs one forward of two tokens (the
/// head without the vocabulary head, the relation with it). The logit ranking equals the
/// ranking of the next-token distribution restricted to entities (softmax is monotone).
/// </para>
/// </summary>
public sealed class TailPredictor : IDisposable
{
    private readonly Gpt2 _model;
    private readonly bool _ownsModel;
    private readonly Gpt2Inference _net;
    private readonly Dataset _dataset;
    private readonly int[] _candidateTokens; // [E - 1] token of entity id j + 1
    private readonly float[] _logits;        // [batch, V]

    /// <summary>A predictor over <paramref name="model"/> (not owned).</summary>
    /// <param name="kernels">The backend holding the model.</param>
    /// <param name="model">A trained network of <paramref name="dataset"/>'s vocabulary.</param>
    /// <param name="dataset">The dataset (its graph gives the banned tails).</param>
    /// <param name="batch">Queries per forward.</param>
    public TailPredictor(IKernels kernels, Gpt2 model, Dataset dataset, int batch = 256)
        : this(kernels, model, dataset, batch, ownsModel: false)
    {
    }

    private TailPredictor(IKernels kernels, Gpt2 model, Dataset dataset, int batch, bool ownsModel)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        _model = model;
        _ownsModel = ownsModel;
        _dataset = dataset;
        _net = new Gpt2Inference(kernels, model, batch);
        Vocabulary v = dataset.Vocabulary;
        _candidateTokens = new int[dataset.Entities.Count - 1];
        for (int j = 0; j < _candidateTokens.Length; j++)
        {
            _candidateTokens[j] = v.EntityToken(j + 1);
        }

        _logits = new float[(long)batch * model.Shape.VocabSize];
        Batch = batch;
    }

    /// <summary>Queries per forward.</summary>
    public int Batch { get; }

    /// <summary>Loads a checkpoint (or run folder) trained on <paramref name="dataset"/>'s
    /// vocabulary, refusing any other.</summary>
    public static TailPredictor Load(
        string checkpointOrRun, Dataset dataset, IKernels kernels, int batch = 256)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        string folder = Checkpoint.Resolve(checkpointOrRun);
        Gpt2 model = Checkpoint.LoadInferenceModel(
            folder, kernels, dataset.Vocabulary, dataset.Name);
        try
        {
            return new TailPredictor(kernels, model, dataset, batch, ownsModel: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The queries of <paramref name="split"/>: its distinct (head, relation) pairs ordered by
    /// (head, relation), each with its distinct true tails.
    /// </summary>
    public static IReadOnlyList<TailQuery> Queries(KgTriples split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var byQuery = new SortedDictionary<(int, int), SortedSet<int>>();
        for (int k = 0; k < split.Count; k++)
        {
            var key = (split.Heads[k], split.Relations[k]);
            if (!byQuery.TryGetValue(key, out SortedSet<int>? tails))
            {
                tails = [];
                byQuery.Add(key, tails);
            }

            tails.Add(split.Tails[k]);
        }

        return byQuery.Select(p => new TailQuery(p.Key.Item1, p.Key.Item2, [.. p.Value])).ToList();
    }

    /// <summary>
    /// The banned tails of (<paramref name="head"/>, <paramref name="relation"/>): entity ids of
    /// the head's neighbours through the relation in the graph, ascending, with repeats.
    /// </summary>
    public static int[] BannedTails(KnowledgeGraph graph, int head, int relation)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ReadOnlySpan<int> nodes = graph.Neighbours(graph.EntityNode(head), relation);
        var entities = new int[nodes.Length];
        for (int i = 0; i < nodes.Length; i++)
        {
            entities[i] = graph.InternalId(nodes[i]);
        }

        return entities;
    }

    /// <summary>Filtered metrics of <paramref name="queries"/>.</summary>
    /// <param name="queries">Queries to rank (see <see cref="Queries"/>).</param>
    /// <param name="decimals">Rounding of the results.</param>
    /// <param name="progress">Queries done so far, of the total.</param>
    public MetricResults Evaluate(
        IReadOnlyList<TailQuery> queries, int decimals = 4, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var metrics = new LinkPredictionMetrics();
        var rankings = new QueryRanking[Batch];

        // Several batches: the weights arranged once (the same bits, see Gpt2Inference).
        using PackedScope packed = _net.PackedWhile(queries.Count > Batch);
        for (int start = 0; start < queries.Count; start += Batch)
        {
            int n = Math.Min(Batch, queries.Count - start);
            Forward(queries, start, n);

            // Ranking is host work while the backend idles: spread it over the cores, then add
            // in query order so the sums do not depend on the schedule.
            Parallel.For(0, n, i => rankings[i] = Rank(queries[start + i], i));
            for (int i = 0; i < n; i++)
            {
                metrics.Add(rankings[i]);
            }

            progress?.Invoke(start + n, queries.Count);
        }

        return metrics.Results(decimals);
    }

    /// <summary>
    /// The entity scores of one query: [E - 1] logits of entity ids 1..E-1 (candidate index j is
    /// entity j + 1) after the prompt <c>[BOS] head R</c>.
    /// </summary>
    public float[] Scores(TailQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        Forward([query], 0, 1);
        return Gather(0);
    }

    private void Forward(IReadOnlyList<TailQuery> queries, int start, int n)
    {
        Vocabulary v = _dataset.Vocabulary;
        var heads = new int[n];
        var relations = new int[n];
        for (int i = 0; i < n; i++)
        {
            heads[i] = v.EntityToken(queries[start + i].Head);
            relations[i] = v.RelationToken(queries[start + i].Relation);
        }

        _net.Reset();
        _net.Append([Vocabulary.Bos], computeLogits: false);
        _net.Reorder(new int[n]);
        _net.Append(heads, computeLogits: false);
        _net.Append(relations);
        _net.DownloadLogits(_logits);
    }

    private float[] Gather(int row)
    {
        long offset = (long)row * _model.Shape.VocabSize;
        var scores = new float[_candidateTokens.Length];
        for (int j = 0; j < scores.Length; j++)
        {
            scores[j] = _logits[offset + _candidateTokens[j]];
        }

        return scores;
    }

    private QueryRanking Rank(TailQuery query, int row)
    {
        float[] scores = Gather(row);
        int[] banned = BannedTails(_dataset.Graph, query.Head, query.Relation);
        for (int i = 0; i < banned.Length; i++)
        {
            banned[i]--;
        }

        int[] truths = query.Tails.Select(t => t - 1).ToArray();
        return LinkPredictionMetrics.Rank(scores, banned, truths);
    }

    /// <summary>Releases the inference buffers (and the model when loaded here).</summary>
    public void Dispose()
    {
        _net.Dispose();
        if (_ownsModel)
        {
            _model.Dispose();
        }
    }
}
