namespace Kgglm.Configuration;

/// <summary>
/// Every configuration key Kgglm understands, with hopwise's effective defaults for KGGLM on
/// ml-100k (hopwise merges overall.yaml, the dataset and the model yaml; this table is the
/// result). YAML files use these names; nested hopwise mappings (<c>path_sample_args</c>,
/// <c>path_generation_args</c>, <c>eval_args</c>) are written nested in YAML and dotted here.
/// </summary>
public static class ConfigKeys
{
    private const string Data = "Dataset";
    private const string Train = "Training";
    private const string Eval = "Evaluation";
    private const string ModelGroup = "Model";
    private const string Paths = "Path sampling";
    private const string Gen = "Generation";

    /// <summary>All keys, in the order they are printed.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        // ---- environment ----
        new("seed", ConfigKind.Int, "2024",
            "seed of every generator (split, sampling, init, dropout)")
        { Min = 0 },
        new("threads", ConfigKind.Int, "0", "CPU threads; 0 = every core") { Min = 0, Max = 1024 },
        new("device", ConfigKind.Choice, "auto", "compute backend")
        { Choices = ["auto", "cpu", "cuda"] },
        new("checkpoint_dir", ConfigKind.String, "saved", "where runs are written"),
        new("show_progress", ConfigKind.Bool, "true", "progress bars on a terminal"),
        new("reproducibility", ConfigKind.Bool, "true",
            "kept for hopwise compatibility; Kgglm's CPU runs are always deterministic"),
        new("weight_precision", ConfigKind.Choice, "float32", "only float32 is supported")
        { Choices = ["float32"] },

        // ---- dataset ----
        new("dataset", ConfigKind.String, "ml-100k", "dataset name") { Group = Data },
        new("data_path", ConfigKind.String, null, "folder holding NAME.inter, NAME.kg, NAME.link")
        { Group = Data, Nullable = true },
        new("USER_ID_FIELD", ConfigKind.String, "user_id", "user column") { Group = Data },
        new("ITEM_ID_FIELD", ConfigKind.String, "item_id", "item column") { Group = Data },
        new("RATING_FIELD", ConfigKind.String, "rating", "rating column") { Group = Data },
        new("TIME_FIELD", ConfigKind.String, "timestamp", "timestamp column") { Group = Data },
        new("HEAD_ENTITY_ID_FIELD", ConfigKind.String, "head_id", "KG head column")
        { Group = Data },
        new("RELATION_ID_FIELD", ConfigKind.String, "relation_id", "KG relation column")
        { Group = Data },
        new("TAIL_ENTITY_ID_FIELD", ConfigKind.String, "tail_id", "KG tail column")
        { Group = Data },
        new("ENTITY_ID_FIELD", ConfigKind.String, "entity_id", "link entity column")
        { Group = Data },
        new("field_separator", ConfigKind.String, "\"\\t\"", "column separator of atomic files")
        { Group = Data },
        new("seq_separator", ConfigKind.String, "\" \"", "separator inside *_seq fields")
        { Group = Data },
        new("load_col", ConfigKind.Map,
            "{inter: [user_id, item_id, rating, timestamp], kg: [head_id, relation_id, tail_id], " +
            "link: [item_id, entity_id], user: [user_id, gender, age]}",
            "columns loaded per atomic file") { Group = Data, Nullable = true },
        new("rm_dup_inter", ConfigKind.Choice, null, "drop repeated (user, item) pairs")
        { Group = Data, Nullable = true, Choices = ["first", "last"] },
        new("val_interval", ConfigKind.Map, null,
            "keep rows whose field is inside an interval, e.g. {rating: \"[3,inf)\"}")
        { Group = Data, Nullable = true },
        new("filter_inter_by_user_or_item", ConfigKind.Bool, "true",
            "drop interactions of users / items absent from .user / .item") { Group = Data },
        new("user_inter_num_interval", ConfigKind.String, null,
            "k-core bound on interactions per user, e.g. \"[5,inf)\"")
        { Group = Data, Nullable = true },
        new("item_inter_num_interval", ConfigKind.String, null,
            "k-core bound on interactions per item") { Group = Data, Nullable = true },
        new("entity_kg_num_interval", ConfigKind.String, null,
            "bound on triples per entity") { Group = Data, Nullable = true },
        new("relation_kg_num_interval", ConfigKind.String, null,
            "bound on triples per relation") { Group = Data, Nullable = true },
        new("kg_reverse_r", ConfigKind.Bool, "false", "add an inverse relation per KG relation")
        { Group = Data },
        new("ui_relation", ConfigKind.String, "\"[UI-Relation]\"", "name of the user-item relation")
        { Group = Data },
        new("eval_args.split", ConfigKind.Map, "{RS: [0.8, 0.1, 0.1]}",
            "RS: ratios, or LS: valid_and_test | valid_only | test_only") { Group = Eval },
        new("eval_args.group_by", ConfigKind.Choice, "user", "split per user")
        { Group = Eval, Choices = ["user", "none"] },
        new("eval_args.order", ConfigKind.Choice, "RO", "RO: seeded shuffle, TO: by timestamp")
        { Group = Eval, Choices = ["RO", "TO"] },
        new("eval_args.mode", ConfigKind.String, "full", "only full ranking is supported")
        { Group = Eval },
        new("task", ConfigKind.Choice, "recommendation", "downstream task: fine-tuning, evaluation")
        { Group = Eval, Choices = ["recommendation", "link-prediction"] },
        new("kg_split", ConfigKind.StringList, "[0.8, 0.1, 0.1]",
            "link prediction: train/valid/test ratios of the seeded triple split") { Group = Eval },

        // ---- model ----
        new("embedding_size", ConfigKind.Int, "768", "width C of the transformer")
        { Group = ModelGroup, Min = 1, Max = 16384 },
        new("num_heads", ConfigKind.Int, "12", "attention heads (must divide embedding_size)")
        { Group = ModelGroup, Min = 1, Max = 1024 },
        new("num_layers", ConfigKind.Int, "6", "transformer blocks")
        { Group = ModelGroup, Min = 1, Max = 256 },
        new("use_kg_token_types", ConfigKind.Bool, "true", "add S/E/R type embeddings")
        { Group = ModelGroup },
        new("base_model", ConfigKind.Choice, "distilgpt2", "architecture family")
        { Group = ModelGroup, Choices = ["distilgpt2"] },
        new("dropout", ConfigKind.Float, "0.1",
            "embedding, attention and residual dropout (GPT-2's *_pdrop)")
        { Group = ModelGroup, Min = 0, Max = 0.95 },

        // ---- training ----
        new("train_stage", ConfigKind.Choice, "pretrain", "pretrain or finetune")
        { Group = Train, Choices = ["pretrain", "finetune", "lp_finetune"] },
        new("learning_rate", ConfigKind.Float, "2e-4", "peak AdamW learning rate")
        { Group = Train, Min = 0, MinExclusive = true, Max = 10 },
        new("weight_decay", ConfigKind.Float, "0.01", "decoupled weight decay (not on biases/LN)")
        { Group = Train, Min = 0, Max = 1 },
        new("warmup_steps", ConfigKind.Int, "250", "linear warm-up steps")
        { Group = Train, Min = 0 },
        new("epochs", ConfigKind.Int, "300", "fine-tuning epochs") { Group = Train, Min = 1 },
        new("train_batch_size", ConfigKind.Int, "2048", "paths per optimiser step")
        { Group = Train, Min = 1, Max = 1 << 20 },
        new("pretrain_epochs", ConfigKind.Int, "1", "pre-training epochs")
        { Group = Train, Min = 1 },
        new("save_step", ConfigKind.Int, "50", "checkpoint every N optimiser steps")
        { Group = Train, Min = 1 },
        new("pre_model_path", ConfigKind.String, "\"\"",
            "pretrained checkpoint (or run) folder fine-tuning starts from") { Group = Train },
        new("max_steps", ConfigKind.Int, "0", "stop after N optimiser steps (0: no limit)")
        { Group = Train, Min = 0 },
        new("micro_batch_size", ConfigKind.Int, "128",
            "Kgglm: paths per forward/backward; gradients of a batch accumulate over them " +
            "(bounds activation memory, never changes the maths)")
        { Group = Train, Min = 1, Max = 1 << 16 },
        new("vocab_chunk", ConfigKind.Int, "0",
            "Kgglm: logits columns held at a time (0: the whole vocabulary, computed once)")
        { Group = Train, Min = 0 },
        new("max_grad_norm", ConfigKind.Float, "1.0", "global gradient-norm clipping")
        { Group = Train, Min = 0, MinExclusive = true },
        new("eval_step", ConfigKind.Int, "1", "validate every N epochs") { Group = Train, Min = 1 },
        new("stopping_step", ConfigKind.Int, "10", "early stop after N evaluations without gain")
        { Group = Train, Min = 1 },
        new("clip_grad_norm", ConfigKind.Map, null,
            "hopwise key, unused by KGGLM (see max_grad_norm)")
        { Group = Train, Nullable = true },
        new("learner", ConfigKind.String, "adam", "hopwise key, unused by KGGLM (AdamW)")
        { Group = Train },
        new("enable_amp", ConfigKind.Bool, "false", "mixed precision: not supported")
        { Group = Train },

        // ---- path sampling ----
        new("path_hop_length", ConfigKind.Int, "3", "hops of a fine-tuning path (odd)")
        { Group = Paths, Min = 1, Max = 15 },
        new("MAX_PATHS_PER_USER", ConfigKind.Int, "250", "fine-tuning paths sampled per user")
        { Group = Paths, Min = 1 },
        new("path_sample_args.strategy", ConfigKind.Choice, "simple-ui", "fine-tuning sampler")
        { Group = Paths, Choices = ["simple-ui", "constrained-rw"] },
        new("path_sample_args.collaborative_path", ConfigKind.Bool, "true",
            "allow users as the middle node") { Group = Paths },
        new("path_sample_args.restrict_by_phase", ConfigKind.Bool, "false",
            "constrained-rw: end on the user's other train items only") { Group = Paths },
        new("path_sample_args.temporal_causality", ConfigKind.Bool, "false",
            "constrained-rw: end on later items only") { Group = Paths },
        new("path_sample_args.path_token_separator", ConfigKind.String, "\" \"",
            "separator of path tokens") { Group = Paths },
        new("path_sample_args.MAX_CONSECUTIVE_INVALID", ConfigKind.Int, "10",
            "constrained-rw: failed starts before giving up on a user") { Group = Paths, Min = 1 },
        new("path_sample_args.MAX_RW_TRIES_PER_IID", ConfigKind.Int, "1",
            "redraws of a duplicate walk") { Group = Paths, Min = 1 },
        new("path_sample_args.MAX_RW_PATHS_PER_HOP", ConfigKind.Int, "1",
            "constrained-rw: neighbours tried per hop") { Group = Paths, Min = 1 },
        new("path_sample_args.parallel_max_workers", ConfigKind.Int, "-1",
            "hopwise key; Kgglm uses `threads`") { Group = Paths },
        new("path_sample_args.pretrain_hop_length", ConfigKind.Range, "\"(3,3)\"",
            "hop count range of pre-training walks") { Group = Paths, Min = 1, Max = 15 },
        new("path_sample_args.pretrain_paths", ConfigKind.Int, "1", "walks per start node")
        { Group = Paths, Min = 1 },

        // ---- generation ----
        new("path_generation_args.paths_per_user", ConfigKind.Int, "10", "paths returned per user")
        { Group = Gen, Min = 1 },
        new("path_generation_args.num_beams", ConfigKind.Int, "20", "beams")
        { Group = Gen, Min = 1, Max = 1024 },
        new("path_generation_args.num_beam_groups", ConfigKind.Int, "5", "diverse beam groups")
        { Group = Gen, Min = 1 },
        new("path_generation_args.diversity_penalty", ConfigKind.Float, "0.3",
            "penalty per earlier-group choice of a token") { Group = Gen, Min = 0 },
        new("path_generation_args.length_penalty", ConfigKind.Float, "0.0", "beam length penalty")
        { Group = Gen },
        new("path_generation_args.top_k", ConfigKind.Int, null, "unused (beam search)")
        { Group = Gen, Nullable = true },
        new("path_generation_args.top_p", ConfigKind.Float, null, "unused (beam search)")
        { Group = Gen, Nullable = true },
        new("path_generation_args.do_sample", ConfigKind.Bool, "false", "sampling: not supported")
        { Group = Gen },
        new("sequence_postprocessor", ConfigKind.Choice, "Cumulative", "path scoring")
        { Group = Gen, Choices = ["Cumulative", "BeamSearch"] },

        // ---- evaluation ----
        new("metrics", ConfigKind.StringList, "[Recall, MRR, NDCG, Hit, Precision]",
            "metrics reported") { Group = Eval },
        new("topk", ConfigKind.IntList, "[10]", "cut-offs k of the metrics")
        { Group = Eval, Min = 1, Max = 1000 },
        new("valid_metric", ConfigKind.String, "NDCG@10", "metric for early stopping")
        { Group = Eval },
        new("metric_decimal_place", ConfigKind.Int, "4", "rounding of reported metrics")
        { Group = Eval, Min = 0, Max = 12 },
        new("eval_batch_size", ConfigKind.Int, "4096", "users decoded per batch")
        { Group = Eval, Min = 1 },
    ];

    private static readonly Dictionary<string, ConfigKey> ByName =
        All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>The key named <paramref name="name"/>, or null.</summary>
    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Nested hopwise mappings whose children are separate keys.</summary>
    public static IReadOnlySet<string> NestedParents { get; } =
        new HashSet<string>(StringComparer.Ordinal)
        {
            "path_sample_args", "path_generation_args", "eval_args",
        };

    /// <summary>The closest known key (edit distance), for "did you mean" hints.</summary>
    public static string? Suggest(string name)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (ConfigKey key in All)
        {
            int d = Distance(name.ToLowerInvariant(), key.Name.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = key.Name;
            }
        }

        return bestDistance <= Math.Max(2, name.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        int[] previous = new int[b.Length + 1];
        int[] current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1),
                    previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
