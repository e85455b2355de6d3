using System.Text.Json;

namespace Kgglm.Checkpoints;

/// <summary>
/// The <c>config.json</c> of a checkpoint folder: HuggingFace's GPT2Config, so that
/// <c>GPT2LMHeadModel.from_pretrained</c> loads a Kgglm checkpoint and Kgglm loads one written by
/// hopwise. Immutable; <see cref="Read"/> validates every field it uses.
/// </summary>
public sealed record HuggingFaceConfig
{
    /// <summary>Token table rows (<c>vocab_size</c>), e.g. 35,609 on ml-100k.</summary>
    public required int VocabSize { get; init; }

    /// <summary>Positions of <c>wpe</c> (<c>n_positions</c>): 2·hops + 3, 9 by default.</summary>
    public required int NPositions { get; init; }

    /// <summary>Context length (<c>n_ctx</c>); GPT2Config keeps it equal to n_positions.</summary>
    public int NCtx { get; init; }

    /// <summary>Embedding width C (<c>n_embd</c>), 768 by default.</summary>
    public required int NEmbd { get; init; }

    /// <summary>Transformer blocks (<c>n_layer</c>), 6 by default.</summary>
    public required int NLayer { get; init; }

    /// <summary>Attention heads (<c>n_head</c>); must divide <see cref="NEmbd"/>.</summary>
    public required int NHead { get; init; }

    /// <summary>MLP width (<c>n_inner</c>); null means 4·n_embd, which Kgglm uses.</summary>
    public int? NInner { get; init; }

    /// <summary>MLP activation (<c>activation_function</c>); Kgglm implements gelu_new.</summary>
    public string ActivationFunction { get; init; } = "gelu_new";

    /// <summary>Dropout on both residual branches (<c>resid_pdrop</c>).</summary>
    public double ResidPdrop { get; init; } = 0.1;

    /// <summary>Dropout on the embedding sum (<c>embd_pdrop</c>).</summary>
    public double EmbdPdrop { get; init; } = 0.1;

    /// <summary>Dropout on attention weights (<c>attn_pdrop</c>).</summary>
    public double AttnPdrop { get; init; } = 0.1;

    /// <summary>LayerNorm ε (<c>layer_norm_epsilon</c>).</summary>
    public double LayerNormEpsilon { get; init; } = 1e-5;

    /// <summary>Standard deviation of the initial weights (<c>initializer_range</c>).</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Id of <c>[BOS]</c> (<c>bos_token_id</c>).</summary>
    public int BosTokenId { get; init; } = 4;

    /// <summary>Id of <c>[EOS]</c> (<c>eos_token_id</c>).</summary>
    public int EosTokenId { get; init; } = 3;

    /// <summary>Id of <c>[PAD]</c> (<c>pad_token_id</c>).</summary>
    public int PadTokenId { get; init; } = 2;

    /// <summary>Whether the output head shares <c>wte</c> (<c>tie_word_embeddings</c>).</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>Storage type of the weights (<c>torch_dtype</c>).</summary>
    public string TorchDtype { get; init; } = "float32";

    /// <summary>
    /// The transformers version the file claims (<c>transformers_version</c>); informative only.
    /// </summary>
    public string TransformersVersion { get; init; } = "4.46.3";

    /// <summary>Writes the config as indented JSON with GPT2Config's keys.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("_name_or_path", "kgglm");
            writer.WriteStartArray("architectures");
            writer.WriteStringValue("GPT2LMHeadModel");
            writer.WriteEndArray();
            writer.WriteString("model_type", "gpt2");
            writer.WriteNumber("vocab_size", VocabSize);
            writer.WriteNumber("n_positions", NPositions);
            writer.WriteNumber("n_ctx", NCtx == 0 ? NPositions : NCtx);
            writer.WriteNumber("n_embd", NEmbd);
            writer.WriteNumber("n_layer", NLayer);
            writer.WriteNumber("n_head", NHead);
            if (NInner is int inner)
                writer.WriteNumber("n_inner", inner);
            else
                writer.WriteNull("n_inner");
            writer.WriteString("activation_function", ActivationFunction);
            writer.WriteNumber("resid_pdrop", ResidPdrop);
            writer.WriteNumber("embd_pdrop", EmbdPdrop);
            writer.WriteNumber("attn_pdrop", AttnPdrop);
            writer.WriteNumber("layer_norm_epsilon", LayerNormEpsilon);
            writer.WriteNumber("initializer_range", InitializerRange);
            writer.WriteNumber("bos_token_id", BosTokenId);
            writer.WriteNumber("eos_token_id", EosTokenId);
            writer.WriteNumber("pad_token_id", PadTokenId);
            writer.WriteBoolean("tie_word_embeddings", TieWordEmbeddings);
            // GPT2Config's remaining defaults, written so the file is complete on its own; Kgglm
            // neither uses nor reads them (they concern the double-heads model and caching).
            writer.WriteString("summary_type", "cls_index");
            writer.WriteBoolean("summary_use_proj", true);
            writer.WriteNull("summary_activation");
            writer.WriteBoolean("summary_proj_to_labels", true);
            writer.WriteNumber("summary_first_dropout", 0.1);
            writer.WriteBoolean("scale_attn_weights", true);
            writer.WriteBoolean("scale_attn_by_inverse_layer_idx", false);
            writer.WriteBoolean("reorder_and_upcast_attn", false);
            writer.WriteBoolean("use_cache", true);
            writer.WriteString("torch_dtype", TorchDtype);
            writer.WriteString("transformers_version", TransformersVersion);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length)
            + "\n";
    }

    /// <summary>Writes <c>config.json</c> to <paramref name="path"/> atomically.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads and validates the config.json at <paramref name="path"/>.</summary>
    public static HuggingFaceConfig Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>
    /// Parses config.json text; <paramref name="source"/> names the file in error messages.
    /// The shape keys (vocab_size, n_positions, n_embd, n_layer, n_head) and model_type are
    /// required; the others take GPT2Config's defaults when absent. A missing or ill-typed key,
    /// or a value out of range, is a <see cref="CheckpointFormatException"/> naming the file
    /// and the key.
    /// </summary>
    public static HuggingFaceConfig Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(
                $"{source}: not valid JSON ({e.Message.ReplaceLineEndings(" ")})", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(
                    $"{source}: is a JSON {root.ValueKind}, expected an object");
            }
            var keys = new Keys(root, source);
            string modelType = keys.String("model_type", null);
            if (modelType != "gpt2")
            {
                throw new CheckpointFormatException(
                    $"{source}: key \"model_type\" is \"{modelType}\", expected \"gpt2\"");
            }

            int nPositions = keys.Int("n_positions", null, 1);
            var config = new HuggingFaceConfig
            {
                VocabSize = keys.Int("vocab_size", null, 1),
                NPositions = nPositions,
                NCtx = keys.Int("n_ctx", nPositions, 1),
                NEmbd = keys.Int("n_embd", null, 1),
                NLayer = keys.Int("n_layer", null, 1),
                NHead = keys.Int("n_head", null, 1),
                NInner = keys.NullableInt("n_inner"),
                ActivationFunction = keys.String("activation_function", "gelu_new"),
                ResidPdrop = keys.Probability("resid_pdrop"),
                EmbdPdrop = keys.Probability("embd_pdrop"),
                AttnPdrop = keys.Probability("attn_pdrop"),
                LayerNormEpsilon = keys.Positive("layer_norm_epsilon", 1e-5),
                InitializerRange = keys.Positive("initializer_range", 0.02),
                BosTokenId = keys.Int("bos_token_id", 50256, 0),
                EosTokenId = keys.Int("eos_token_id", 50256, 0),
                PadTokenId = keys.Int("pad_token_id", 0, 0),
                TieWordEmbeddings = keys.Bool("tie_word_embeddings", true),
                TorchDtype = keys.String("torch_dtype", "float32"),
                TransformersVersion = keys.String("transformers_version", ""),
            };
            if (config.NEmbd % config.NHead != 0)
            {
                throw new CheckpointFormatException(
                    $"{source}: key \"n_embd\" ({config.NEmbd}) is not a multiple of "
                    + $"\"n_head\" ({config.NHead})");
            }
            return config;
        }
    }

    // Typed access to the root object with messages that name the file and the key.
    readonly struct Keys(JsonElement root, string source)
    {
        public string String(string key, string? fallback)
        {
            if (!Find(key, fallback is null, out JsonElement value))
                return fallback!;
            if (value.ValueKind != JsonValueKind.String)
                throw IllTyped(key, value, "a string");
            try
            {
                return value.GetString()!;
            }
            catch (InvalidOperationException e)
            {
                // An escaped lone surrogate ("\ud800") only fails when the string is decoded.
                throw new CheckpointFormatException(
                    $"{source}: key \"{key}\" is not a valid string", e);
            }
        }

        public int Int(string key, int? fallback, int minimum)
        {
            if (!Find(key, fallback is null, out JsonElement value))
                return fallback!.Value;
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
                throw IllTyped(key, value, "an integer");
            if (number < minimum)
                throw OutOfRange(key, value, $"at least {minimum}");
            return number;
        }

        public int? NullableInt(string key)
        {
            if (!Find(key, false, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
                return null;
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
                throw IllTyped(key, value, "an integer or null");
            if (number < 1)
                throw OutOfRange(key, value, "at least 1");
            return number;
        }

        public double Probability(string key)
        {
            double p = Double(key, 0.1);
            return p is >= 0 and < 1
                ? p
                : throw OutOfRange(key, root.GetProperty(key), "in [0, 1)");
        }

        public double Positive(string key, double fallback)
        {
            double x = Double(key, fallback);
            return x > 0 ? x : throw OutOfRange(key, root.GetProperty(key), "positive");
        }

        public bool Bool(string key, bool fallback)
        {
            if (!Find(key, false, out JsonElement value))
                return fallback;
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw IllTyped(key, value, "true or false"),
            };
        }

        double Double(string key, double fallback)
        {
            if (!Find(key, false, out JsonElement value))
                return fallback;
            return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double x)
                ? x
                : throw IllTyped(key, value, "a number");
        }

        bool Find(string key, bool required, out JsonElement value)
        {
            if (root.TryGetProperty(key, out value))
                return true;
            if (required)
                throw new CheckpointFormatException($"{source}: missing key \"{key}\"");
            return false;
        }

        CheckpointFormatException IllTyped(string key, JsonElement value, string expected) =>
            new($"{source}: key \"{key}\" is {Describe(value)}, expected {expected}");

        CheckpointFormatException OutOfRange(string key, JsonElement value, string expected) =>
            new($"{source}: key \"{key}\" is {Describe(value)}, expected {expected}");

        static string Describe(JsonElement value)
        {
            string text = value.GetRawText().ReplaceLineEndings(" ");
            return text.Length > 40 ? text[..40] + "..." : text;
        }
    }
}
