using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kgglm.Data;
using Kgglm.Kernels;
using Kgglm.Network;
using Kgglm.Training;

namespace Kgglm.Checkpoints;

/// <summary>
/// Kgglm's training state beside the HuggingFace files of a checkpoint (<c>kgglm_state.json</c>):
/// what <c>--resume</c> needs to continue bitwise-identically, and the fingerprints that tie the
/// checkpoint to its dataset and vocabulary.
/// </summary>
/// <param name="Stage">pretrain or finetune.</param>
/// <param name="Progress">Step, epoch, position in the epoch, loss history.</param>
/// <param name="OptimizerSteps">AdamW's t.</param>
/// <param name="Seed">Run seed.</param>
/// <param name="DatasetName">Dataset the model was trained on.</param>
/// <param name="DatasetFingerprint">Its fingerprint (vocabulary, train split, triples).</param>
/// <param name="VocabularyFingerprint">Fingerprint of the token list.</param>
/// <param name="UseKgTokenTypes">Whether the S/E/R type rows are added.</param>
/// <param name="ValidScores">Fine-tuning: the valid metric of every evaluation so far (early
/// stopping resumes from them).</param>
public sealed record CheckpointState(
    string Stage, TrainingProgress Progress, long OptimizerSteps, int Seed, string DatasetName,
    ulong DatasetFingerprint, ulong VocabularyFingerprint, bool UseKgTokenTypes,
    IReadOnlyList<double>? ValidScores = null);

/// <summary>
/// Writes and reads checkpoint folders in the HuggingFace layout (<c>config.json</c>,
/// <c>model.safetensors</c> without the tied head, <c>tokenizer.json</c>) so that
/// <c>GPT2LMHeadModel.from_pretrained</c> loads them, plus Kgglm's <c>kgglm_state.json</c>,
/// <c>optimizer.safetensors</c> (AdamW moments) and <c>config.yaml</c> (the resolved run config).
/// A folder is written to a temporary sibling and renamed into place.
/// </summary>
public static class Checkpoint
{
    /// <summary>Kgglm's state file.</summary>
    public const string StateFile = "kgglm_state.json";

    /// <summary>Floats downloaded at a time while writing tensors (bounded host memory).</summary>
    private const int ChunkFloats = 1 << 20;

    /// <summary>
    /// Writes a complete checkpoint of <paramref name="model"/> to <paramref name="folder"/>.
    /// </summary>
    public static void Save(
        string folder, IKernels k, Gpt2 model, AdamWOptimizer? optimizer, Vocabulary vocabulary,
        CheckpointState state, string configYaml)
    {
        AtomicDirectory.Write(folder, tmp =>
        {
            HuggingFace(model.Shape).Write(Path.Combine(tmp, "config.json"));
            var weights = new SafeTensorsWriter();
            weights.Metadata["format"] = "pt";
            foreach (ParameterInfo p in model.Layout.Parameters)
            {
                Tensor t = model.Parameter(p);
                weights.Add(p.Name, p.Shape.Select(d => (long)d).ToArray(),
                    sink => Stream(k, t, sink));
            }

            weights.WriteTo(Path.Combine(tmp, "model.safetensors"));
            vocabulary.WriteTokenizerJson(Path.Combine(tmp, "tokenizer.json"));
            File.WriteAllText(Path.Combine(tmp, "config.yaml"), configYaml);
            if (optimizer is not null)
            {
                var moments = new SafeTensorsWriter();
                foreach (ParameterInfo p in model.Layout.Parameters)
                {
                    long[] shape = p.Shape.Select(d => (long)d).ToArray();
                    Tensor m = optimizer.First.Slice(p.Offset, p.Count);
                    Tensor v = optimizer.Second.Slice(p.Offset, p.Count);
                    moments.Add("m." + p.Name, shape, sink => Stream(k, m, sink));
                    moments.Add("v." + p.Name, shape, sink => Stream(k, v, sink));
                }

                moments.WriteTo(Path.Combine(tmp, "optimizer.safetensors"));
            }

            File.WriteAllText(Path.Combine(tmp, StateFile), StateJson(state));
        });
    }

    /// <summary>
    /// The checkpoint folder behind <paramref name="path"/>: the folder itself when it holds a
    /// <c>config.json</c>; in a run folder its <c>best</c> checkpoint (fine-tuning keeps the
    /// weights of the best validation there), else its <c>checkpoint-N</c> with the largest N.
    /// </summary>
    public static string Resolve(string path)
    {
        if (!Directory.Exists(path))
        {
            throw new CheckpointFormatException($"{path}: no such checkpoint or run folder");
        }

        if (File.Exists(Path.Combine(path, "config.json")))
        {
            return path;
        }

        string best = Path.Combine(path, "best");
        if (File.Exists(Path.Combine(best, "config.json")))
        {
            return best;
        }

        string? newest = Newest(path);
        return newest ?? throw new CheckpointFormatException(
            $"{path}: neither a checkpoint (no config.json) " +
            "nor a run folder (no checkpoint-N inside)");
    }

    /// <summary>The <c>checkpoint-N</c> subfolder of a run with the largest N, or null.</summary>
    public static string? Newest(string runFolder) =>
        !Directory.Exists(runFolder)
            ? null
            : Directory.GetDirectories(runFolder, "checkpoint-*")
                .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d)["checkpoint-".Length..],
                    NumberStyles.None, CultureInfo.InvariantCulture, out long n), N: n))
                .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, "config.json")))
                .OrderByDescending(x => x.N)
                .Select(x => x.Dir)
                .FirstOrDefault();

    /// <summary>Reads the network shape stored in a checkpoint's <c>config.json</c>.</summary>
    public static HuggingFaceConfig ReadConfig(string folder) =>
        HuggingFaceConfig.Read(Required(folder, "config.json"));

    /// <summary>
    /// Checks the checkpoint's vocabulary against the dataset's: a model only makes sense with
    /// the tokens it was trained on.
    /// </summary>
    public static void CheckVocabulary(string folder, Vocabulary vocabulary, string datasetName)
    {
        string path = Required(folder, "tokenizer.json");
        string[] tokens;
        try
        {
            tokens = Vocabulary.ReadTokenizerJson(path);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidDataException
                                       or KeyNotFoundException or InvalidOperationException)
        {
            throw new CheckpointFormatException(
                $"{path}: not a readable tokenizer.json ({ex.Message})");
        }

        ulong fingerprint = Vocabulary.ComputeFingerprint(tokens);
        if (fingerprint != vocabulary.Fingerprint || tokens.Length != vocabulary.Count)
        {
            throw new CheckpointFormatException(
                $"{folder}: its vocabulary ({tokens.Length:N0} tokens, " +
                $"fingerprint {fingerprint:x16}) is not the one of dataset {datasetName} " +
                $"({vocabulary.Count:N0} tokens, fingerprint {vocabulary.Fingerprint:x16}); " +
                "use the dataset and config it was trained with");
        }
    }

    /// <summary>
    /// Loads the weights of a checkpoint into <paramref name="model"/>, checking every shape.
    /// </summary>
    public static void LoadWeights(string folder, IKernels k, Gpt2 model)
    {
        HuggingFaceConfig config = ReadConfig(folder);
        Gpt2Shape s = model.Shape;
        if (config.VocabSize != s.VocabSize || config.NEmbd != s.Channels
            || config.NLayer != s.Layers || config.NHead != s.Heads
            || config.NPositions != s.Positions)
        {
            throw new CheckpointFormatException(
                $"{folder}/config.json: network (vocab {config.VocabSize}, n_positions " +
                $"{config.NPositions}, n_embd {config.NEmbd}, n_layer {config.NLayer}, n_head " +
                $"{config.NHead}) differs from the one asked for " +
                $"(vocab {s.VocabSize}, n_positions " +
                $"{s.Positions}, n_embd {s.Channels}, n_layer {s.Layers}, n_head {s.Heads})");
        }

        using SafeTensorsFile file = SafeTensorsFile.Open(Required(folder, "model.safetensors"));
        ReadTensors(file, k, model.Layout, name => name, model.Parameters);
    }

    /// <summary>
    /// An inference-only network (no gradients, no training activations) with the weights of
    /// the checkpoint in <paramref name="folder"/>, after checking its vocabulary against
    /// <paramref name="vocabulary"/>. The caller owns the network.
    /// </summary>
    public static Gpt2 LoadInferenceModel(
        string folder, IKernels k, Vocabulary vocabulary, string datasetName)
    {
        HuggingFaceConfig config = ReadConfig(folder);
        CheckVocabulary(folder, vocabulary, datasetName);
        bool types = ReadState(folder).UseKgTokenTypes;
        var shape = new Gpt2Shape(
            config.VocabSize, config.NPositions, config.NEmbd, config.NHead, config.NLayer,
            types ? new TypeTokenIds(vocabulary.TypeS, vocabulary.TypeE, vocabulary.TypeR) : null,
            0f);
        var model = new Gpt2(k, shape, maxBatch: 1, ignoreId: Vocabulary.Pad, training: false);
        try
        {
            LoadWeights(folder, k, model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads AdamW's moments from a checkpoint.</summary>
    public static void LoadOptimizer(
        string folder, IKernels k, Gpt2 model, AdamWOptimizer optimizer)
    {
        using SafeTensorsFile file =
            SafeTensorsFile.Open(Required(folder, "optimizer.safetensors"));
        ReadTensors(file, k, model.Layout, name => "m." + name, optimizer.First);
        ReadTensors(file, k, model.Layout, name => "v." + name, optimizer.Second);
    }

    /// <summary>Reads <c>kgglm_state.json</c>.</summary>
    public static CheckpointState ReadState(string folder)
    {
        string path = Required(folder, StateFile);
        try
        {
            JsonNode root = JsonNode.Parse(File.ReadAllText(path))
                ?? throw new CheckpointFormatException($"{path}: empty state file");
            JsonNode p = root["progress"] ?? throw new KeyNotFoundException("progress");
            var progress = new TrainingProgress(
                (long)p["step"]!, (int)p["epoch"]!, (long)p["step_in_epoch"]!,
                (double)p["epoch_loss_sum"]!,
                p["losses"]!.AsArray().Select(x => (double)x!).ToList(),
                p["epoch_losses"]!.AsArray().Select(x => (double)x!).ToList());
            return new CheckpointState(
                (string)root["stage"]!, progress, (long)root["optimizer_steps"]!,
                (int)root["seed"]!, (string)root["dataset"]!,
                ulong.Parse((string)root["dataset_fingerprint"]!, NumberStyles.HexNumber,
                    CultureInfo.InvariantCulture),
                ulong.Parse((string)root["vocabulary_fingerprint"]!, NumberStyles.HexNumber,
                    CultureInfo.InvariantCulture),
                (bool)root["use_kg_token_types"]!,
                root["valid_scores"]?.AsArray().Select(x => (double)x!).ToList() ?? []);
        }
        catch (Exception ex) when (ex is JsonException or FormatException
                                       or InvalidOperationException or KeyNotFoundException
                                       or NullReferenceException or OverflowException)
        {
            throw new CheckpointFormatException(
                $"{path}: unreadable training state ({ex.Message})");
        }
    }

    /// <summary>The HuggingFace GPT2Config of a network shape.</summary>
    public static HuggingFaceConfig HuggingFace(Gpt2Shape s) => new()
    {
        VocabSize = s.VocabSize,
        NPositions = s.Positions,
        NCtx = s.Positions,
        NEmbd = s.Channels,
        NLayer = s.Layers,
        NHead = s.Heads,
        ResidPdrop = s.Dropout,
        EmbdPdrop = s.Dropout,
        AttnPdrop = s.Dropout,
        BosTokenId = Vocabulary.Bos,
        EosTokenId = Vocabulary.Eos,
        PadTokenId = Vocabulary.Pad,
    };

    private static void ReadTensors(
        SafeTensorsFile file, IKernels k, ParameterLayout layout, Func<string, string> name,
        Tensor arena)
    {
        float[] buffer = new float[layout.Parameters.Max(p => p.Count)];
        foreach (ParameterInfo p in layout.Parameters)
        {
            string key = name(p.Name);
            SafeTensorInfo info = file.Get(key);
            if (!info.Shape.SequenceEqual(p.Shape.Select(d => (long)d)))
            {
                throw new CheckpointFormatException(
                    $"{file.Path}: tensor {key} has shape [{string.Join(", ", info.Shape)}], " +
                    $"expected [{string.Join(", ", p.Shape)}]");
            }

            Span<float> values = buffer.AsSpan(0, (int)p.Count);
            file.Read(key, values);
            foreach (float f in values)
            {
                if (!float.IsFinite(f))
                {
                    throw new CheckpointFormatException(
                        $"{file.Path}: tensor {key} holds NaN or infinity");
                }
            }

            k.Upload(values, arena.Slice(p.Offset, p.Count));
        }
    }

    private static void Stream(IKernels k, Tensor t, SafeTensorSink sink)
    {
        float[] chunk = new float[(int)Math.Min(ChunkFloats, Math.Max(1, t.Length))];
        for (long done = 0; done < t.Length; done += chunk.Length)
        {
            int n = (int)Math.Min(chunk.Length, t.Length - done);
            k.Download(t.Slice(done, n), chunk.AsSpan(0, n));
            sink.Write(chunk.AsSpan(0, n));
        }
    }

    private static string Required(string folder, string file)
    {
        string path = Path.Combine(folder, file);
        return File.Exists(path)
            ? path
            : throw new CheckpointFormatException($"{path}: missing from the checkpoint");
    }

    private static string StateJson(CheckpointState s)
    {
        var root = new JsonObject
        {
            ["format"] = 1,
            ["stage"] = s.Stage,
            ["optimizer_steps"] = s.OptimizerSteps,
            ["seed"] = s.Seed,
            ["dataset"] = s.DatasetName,
            ["dataset_fingerprint"] = s.DatasetFingerprint.ToString("x16",
                CultureInfo.InvariantCulture),
            ["vocabulary_fingerprint"] = s.VocabularyFingerprint.ToString("x16",
                CultureInfo.InvariantCulture),
            ["use_kg_token_types"] = s.UseKgTokenTypes,
            ["valid_scores"] =
                new JsonArray((s.ValidScores ?? []).Select(v => (JsonNode)v).ToArray()),
            ["progress"] = new JsonObject
            {
                ["step"] = s.Progress.Step,
                ["epoch"] = s.Progress.Epoch,
                ["step_in_epoch"] = s.Progress.StepInEpoch,
                ["epoch_loss_sum"] = s.Progress.EpochLossSum,
                ["losses"] = new JsonArray(s.Progress.Losses.Select(l => (JsonNode)l).ToArray()),
                ["epoch_losses"] =
                    new JsonArray(s.Progress.EpochLosses.Select(l => (JsonNode)l).ToArray()),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
