using Cocona;
using Kgglm.Configuration;

namespace Kgglm.Cli;

/// <summary>
/// The training options shared by <c>pretrain</c>, <c>finetune</c> and <c>tune</c> (kebab-case of
/// hopwise's keys; in YAML they keep their snake_case names). Unset options keep the value of
/// the config files or the defaults.
/// </summary>
public sealed class TrainOptions : ICommandParameterSet
{
    /// <summary>Transformer width.</summary>
    [Option("embedding-size", Description = "transformer width (768)")]
    [HasDefaultValue]
    public int? EmbeddingSize { get; set; }

    /// <summary>Attention heads.</summary>
    [Option("num-heads", Description = "attention heads (12)")]
    [HasDefaultValue]
    public int? NumHeads { get; set; }

    /// <summary>Transformer blocks.</summary>
    [Option("num-layers", Description = "transformer blocks (6)")]
    [HasDefaultValue]
    public int? NumLayers { get; set; }

    /// <summary>Peak learning rate.</summary>
    [Option("learning-rate", Description = "peak AdamW learning rate (2e-4)")]
    [HasDefaultValue]
    public double? LearningRate { get; set; }

    /// <summary>Weight decay.</summary>
    [Option("weight-decay", Description = "decoupled weight decay (0.01)")]
    [HasDefaultValue]
    public double? WeightDecay { get; set; }

    /// <summary>Warm-up steps.</summary>
    [Option("warmup-steps", Description = "linear warm-up steps (250)")]
    [HasDefaultValue]
    public int? WarmupSteps { get; set; }

    /// <summary>KG token types on/off.</summary>
    [Option("use-kg-token-types", Description = "true | false: S/E/R type embeddings (true)")]
    [HasDefaultValue]
    public bool? UseKgTokenTypes { get; set; }

    /// <summary>Pretrained checkpoint or run folder.</summary>
    [Option("pre-model-path", Description = "pretrained checkpoint or run folder (finetune)")]
    [HasDefaultValue]
    public string? PreModelPath { get; set; }

    /// <summary>Pre-training epochs.</summary>
    [Option("pretrain-epochs", Description = "pre-training epochs (1)")]
    [HasDefaultValue]
    public int? PretrainEpochs { get; set; }

    /// <summary>Checkpoint interval.</summary>
    [Option("save-step", Description = "checkpoint every N optimiser steps (50)")]
    [HasDefaultValue]
    public int? SaveStep { get; set; }

    /// <summary>Fine-tuning epochs.</summary>
    [Option("epochs", Description = "fine-tuning epochs (300)")]
    [HasDefaultValue]
    public int? Epochs { get; set; }

    /// <summary>Batch size.</summary>
    [Option("train-batch-size", Description = "paths per optimiser step (2048)")]
    [HasDefaultValue]
    public int? TrainBatchSize { get; set; }

    /// <summary>Step limit for smoke runs.</summary>
    [Option("max-steps", Description = "stop after N optimiser steps (0: no limit)")]
    [HasDefaultValue]
    public long? MaxSteps { get; set; }

    /// <summary>Paths per user of the fine-tuning sampler.</summary>
    [Option("max-paths-per-user", Description = "fine-tuning paths per user (250)")]
    [HasDefaultValue]
    public int? MaxPathsPerUser { get; set; }

    /// <summary>A corpus file to train on instead of the shared cache.</summary>
    [Option("corpus", Description = "train on this corpus file (from `kgglm sample`)")]
    [HasDefaultValue]
    public string? Corpus { get; set; }

    /// <summary>The downstream task (recommendation | link-prediction).</summary>
    [Option("task", Description = "recommendation | link-prediction (recommendation)")]
    [HasDefaultValue]
    public string? Task { get; set; }

    /// <summary>The settings these options make.</summary>
    public IEnumerable<ConfigOverride> Overrides() => CommonOptions.Typed(
        ("embedding_size", EmbeddingSize), ("num_heads", NumHeads), ("num_layers", NumLayers),
        ("learning_rate", LearningRate), ("weight_decay", WeightDecay),
        ("warmup_steps", WarmupSteps), ("use_kg_token_types", UseKgTokenTypes),
        ("pre_model_path", PreModelPath), ("pretrain_epochs", PretrainEpochs),
        ("save_step", SaveStep), ("epochs", Epochs), ("train_batch_size", TrainBatchSize),
        ("max_steps", MaxSteps), ("MAX_PATHS_PER_USER", MaxPathsPerUser), ("task", Task));
}
