namespace Kgglm.Configuration;

/// <summary>The transformer's shape (hopwise <c>KGGLM.yaml</c>).</summary>
/// <param name="EmbeddingSize">Width C (<c>embedding_size</c>, 768).</param>
/// <param name="NumHeads">Attention heads (<c>num_heads</c>, 12); divides C.</param>
/// <param name="NumLayers">Blocks (<c>num_layers</c>, 6).</param>
/// <param name="UseKgTokenTypes">Add the S/E/R type rows (<c>use_kg_token_types</c>, true).</param>
/// <param name="PathHopLength">Hops of a path (<c>path_hop_length</c>, 3); context 2h + 3.</param>
/// <param name="Dropout">GPT-2's embd/attn/resid dropout (0.1).</param>
public sealed record ModelConfig(
    int EmbeddingSize, int NumHeads, int NumLayers, bool UseKgTokenTypes, int PathHopLength,
    double Dropout)
{
    /// <summary>Tokens of a path: [BOS] + 2h + 1 nodes/relations + [EOS].</summary>
    public int ContextLength => 2 * PathHopLength + 3;

    /// <summary>Reads and cross-checks the model keys.</summary>
    public static ModelConfig From(ResolvedConfig c)
    {
        var m = new ModelConfig(
            c.Int("embedding_size"), c.Int("num_heads"), c.Int("num_layers"),
            c.Bool("use_kg_token_types"), c.Int("path_hop_length"), c.Float("dropout"));
        if (m.EmbeddingSize % m.NumHeads != 0)
        {
            throw new ConfigException(
                $"key 'embedding_size' ({m.EmbeddingSize}) must be divisible by 'num_heads' " +
                $"({m.NumHeads}) ({c.Origin("embedding_size")}, {c.Origin("num_heads")})");
        }

        if (m.PathHopLength % 2 == 0)
        {
            throw new ConfigException(
                $"key 'path_hop_length': expected an odd number of hops (user → … → item), " +
                $"found {m.PathHopLength} ({c.Origin("path_hop_length")})");
        }

        return m;
    }
}

/// <summary>
/// Optimisation and the two training stages (hopwise + HuggingFace Trainer defaults).
/// </summary>
/// <param name="LearningRate">Peak AdamW learning rate (2e-4).</param>
/// <param name="WeightDecay">Decoupled decay on weights, not biases / LayerNorm (0.01).</param>
/// <param name="WarmupSteps">Linear warm-up steps (250), then linear decay to 0.</param>
/// <param name="Epochs">Fine-tuning epochs (300).</param>
/// <param name="PretrainEpochs">Pre-training epochs (1).</param>
/// <param name="TrainBatchSize">Paths per optimiser step (2048).</param>
/// <param name="SaveStep">Checkpoint every N steps (50).</param>
/// <param name="PreModelPath">Pretrained checkpoint or run folder; empty = from scratch.</param>
/// <param name="MaxSteps">Stop after N optimiser steps; 0 = no limit (smoke runs).</param>
/// <param name="MaxGradNorm">Global gradient-norm clipping (1.0).</param>
/// <param name="EvalStep">Validate every N epochs (1).</param>
/// <param name="StoppingStep">Early stop after N evaluations without improvement (10).</param>
/// <param name="MicroBatchSize">Paths per forward/backward; gradients accumulate (128).</param>
/// <param name="VocabChunk">Logits columns held at a time; 0 = all.</param>
public sealed record TrainingConfig(
    double LearningRate, double WeightDecay, int WarmupSteps, int Epochs, int PretrainEpochs,
    int TrainBatchSize, int SaveStep, string PreModelPath, long MaxSteps, double MaxGradNorm,
    int EvalStep, int StoppingStep, int MicroBatchSize, int VocabChunk)
{
    /// <summary>Reads the training keys.</summary>
    public static TrainingConfig From(ResolvedConfig c)
    {
        if (c.Bool("enable_amp"))
        {
            throw new ConfigException(
                "key 'enable_amp': Kgglm trains in float32 only; " +
                $"set it to false ({c.Origin("enable_amp")})");
        }

        return new TrainingConfig(
            c.Float("learning_rate"), c.Float("weight_decay"), c.Int("warmup_steps"),
            c.Int("epochs"), c.Int("pretrain_epochs"), c.Int("train_batch_size"),
            c.Int("save_step"), c.String("pre_model_path"), c.Long("max_steps"),
            c.Float("max_grad_norm"), c.Int("eval_step"), c.Int("stopping_step"),
            c.Int("micro_batch_size"), c.Int("vocab_chunk"));
    }
}

/// <summary>Path sampling for both stages (SPEC §3).</summary>
/// <param name="Strategy">Fine-tuning sampler: simple-ui or constrained-rw.</param>
/// <param name="MaxPathsPerUser">Fine-tuning paths per user (250).</param>
/// <param name="PathHopLength">Hops of a fine-tuning path (3).</param>
/// <param name="PretrainHops">Hop-count range of pre-training walks ((3,3)).</param>
/// <param name="PretrainPaths">Walks per start node (1).</param>
/// <param name="MaxRwTriesPerIid">Redraws of a duplicate walk (1).</param>
/// <param name="MaxConsecutiveInvalid">constrained-rw failed starts per user (10).</param>
/// <param name="MaxRwPathsPerHop">constrained-rw neighbours tried per hop (1).</param>
/// <param name="CollaborativePath">Allow a user as the middle node (true).</param>
/// <param name="RestrictByPhase">constrained-rw: end on the user's train items only.</param>
/// <param name="TemporalCausality">constrained-rw: end on later items only.</param>
public sealed record SamplingConfig(
    string Strategy, int MaxPathsPerUser, int PathHopLength, HopRange PretrainHops,
    int PretrainPaths, int MaxRwTriesPerIid, int MaxConsecutiveInvalid, int MaxRwPathsPerHop,
    bool CollaborativePath, bool RestrictByPhase, bool TemporalCausality)
{
    /// <summary>Reads the sampling keys.</summary>
    public static SamplingConfig From(ResolvedConfig c)
    {
        var s = new SamplingConfig(
            c.String("path_sample_args.strategy"), c.Int("MAX_PATHS_PER_USER"),
            c.Int("path_hop_length"), c.Range("path_sample_args.pretrain_hop_length"),
            c.Int("path_sample_args.pretrain_paths"),
            c.Int("path_sample_args.MAX_RW_TRIES_PER_IID"),
            c.Int("path_sample_args.MAX_CONSECUTIVE_INVALID"),
            c.Int("path_sample_args.MAX_RW_PATHS_PER_HOP"),
            c.Bool("path_sample_args.collaborative_path"),
            c.Bool("path_sample_args.restrict_by_phase"),
            c.Bool("path_sample_args.temporal_causality")
                || c.Bool("path_sample_args.restrict_by_phase"));
        if (s.PretrainHops.Max > s.PathHopLength)
        {
            throw new ConfigException(
                "key 'path_sample_args.pretrain_hop_length': the longest walk " +
                $"({s.PretrainHops.Max} hops) must fit the context of 'path_hop_length' " +
                $"({s.PathHopLength})");
        }

        return s;
    }
}

/// <summary>Constrained diverse beam search (SPEC §6).</summary>
/// <param name="PathsPerUser">Paths returned per user (10).</param>
/// <param name="NumBeams">Beams (20).</param>
/// <param name="NumBeamGroups">Groups (5); divides NumBeams.</param>
/// <param name="DiversityPenalty">Per earlier-group choice of a token (0.3).</param>
/// <param name="LengthPenalty">Length penalty (0).</param>
/// <param name="Postprocessor">Cumulative or BeamSearch scoring.</param>
public sealed record GenerationConfig(
    int PathsPerUser, int NumBeams, int NumBeamGroups, double DiversityPenalty,
    double LengthPenalty, string Postprocessor)
{
    /// <summary>Reads and cross-checks the generation keys.</summary>
    public static GenerationConfig From(ResolvedConfig c)
    {
        var g = new GenerationConfig(
            c.Int("path_generation_args.paths_per_user"), c.Int("path_generation_args.num_beams"),
            c.Int("path_generation_args.num_beam_groups"),
            c.Float("path_generation_args.diversity_penalty"),
            c.Float("path_generation_args.length_penalty"), c.String("sequence_postprocessor"));
        if (g.NumBeams % g.NumBeamGroups != 0)
        {
            throw new ConfigException(
                $"key 'path_generation_args.num_beams' ({g.NumBeams}) must be divisible by " +
                $"'num_beam_groups' ({g.NumBeamGroups})");
        }

        if (g.PathsPerUser > g.NumBeams)
        {
            throw new ConfigException(
                $"key 'path_generation_args.paths_per_user' ({g.PathsPerUser}) cannot exceed " +
                $"'num_beams' ({g.NumBeams})");
        }

        if (c.Bool("path_generation_args.do_sample"))
        {
            throw new ConfigException("key 'path_generation_args.do_sample': only beam search " +
                "is supported; set it to false");
        }

        return g;
    }
}

/// <summary>Metrics and early stopping (SPEC §7).</summary>
/// <param name="Metrics">Metric names (Recall, MRR, NDCG, Hit, Precision).</param>
/// <param name="TopK">Cut-offs (10).</param>
/// <param name="ValidMetric">Early-stopping metric, lower-cased, e.g. ndcg@10.</param>
/// <param name="DecimalPlaces">Rounding of reported metrics (4).</param>
/// <param name="EvalBatchSize">Users decoded per batch.</param>
public sealed record EvaluationConfig(
    IReadOnlyList<string> Metrics, IReadOnlyList<int> TopK, string ValidMetric,
    int DecimalPlaces, int EvalBatchSize)
{
    /// <summary>Reads and cross-checks the evaluation keys.</summary>
    public static EvaluationConfig From(ResolvedConfig c)
    {
        string valid = c.String("valid_metric").ToLowerInvariant();
        IReadOnlyList<int> topk = c.Ints("topk");
        int at = valid.IndexOf('@', StringComparison.Ordinal);
        if (at > 0 && (!int.TryParse(valid[(at + 1)..], out int k) || !topk.Contains(k)))
        {
            throw new ConfigException(
                $"key 'valid_metric' ({c.String("valid_metric")}): its cut-off must be one of " +
                $"'topk' [{string.Join(", ", topk)}]");
        }

        return new EvaluationConfig(
            c.Strings("metrics"), topk, valid, c.Int("metric_decimal_place"),
            c.Int("eval_batch_size"));
    }
}

/// <summary>Where and how a run executes.</summary>
/// <param name="Seed">Seed of every generator (2024).</param>
/// <param name="Threads">CPU threads; 0 = every core.</param>
/// <param name="Device">auto, cpu or cuda.</param>
/// <param name="CheckpointDir">Root folder of runs (saved).</param>
/// <param name="ShowProgress">Progress bars on a terminal.</param>
public sealed record RunConfig(
    int Seed, int Threads, string Device, string CheckpointDir, bool ShowProgress)
{
    /// <summary>The thread count to use: <see cref="Threads"/> or every core.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>Reads the run keys.</summary>
    public static RunConfig From(ResolvedConfig c) => new(
        c.Int("seed"), c.Int("threads"), c.String("device"), c.String("checkpoint_dir"),
        c.Bool("show_progress"));
}
