using System.Buffers.Binary;
using System.Globalization;
using Kgglm.Checkpoints;
using Kgglm.Data;
using Kgglm.Kernels.Cpu;
using Kgglm.Network;
using Kgglm.Paths;

namespace Kgglm.Bench.EndToEnd;

/// <summary>
/// The mean next-token loss of a checkpoint on the first rows of a path corpus, and the same
/// rows written as a peer token file, so the libtorch peer (stock HuggingFace GPT-2 with
/// <c>--types-from-wte</c>) can load the checkpoint folder and compute the same number.
/// Usage: <c>Kgglm.Bench loss --checkpoint DIR --corpus FILE [--rows 64] --tokens OUT.tok</c>.
/// </summary>
internal static class CheckpointLoss
{
    public static int Run(string[] args)
    {
        string Arg(string name) => Arguments.Text(args, name);
        int rows = Arguments.Int(args, "rows", 64);
        string folder = Checkpoint.Resolve(Arg("checkpoint"));
        HuggingFaceConfig hf = Checkpoint.ReadConfig(folder);
        using PathCorpusFile corpus = PathCorpusFile.Open(Arg("corpus"));
        int P = corpus.PathLength;
        rows = (int)Math.Min(rows, corpus.PathCount);
        int[] tokens = new int[rows * P];
        long[] index = Enumerable.Range(0, rows).Select(i => (long)i).ToArray();
        corpus.Gather(index, tokens);

        int V = hf.VocabSize;
        var shape = new Gpt2Shape(V, hf.NPositions, hf.NEmbd, hf.NHead, hf.NLayer,
            new TypeTokenIds(V - 3, V - 2, V - 1), 0f);
        using var k = new CpuKernels(Environment.ProcessorCount);
        using var model = new Gpt2(k, shape, rows, Vocabulary.Pad);
        Checkpoint.LoadWeights(folder, k, model);
        int count = model.CountTargets(tokens);
        double sum = model.Step(tokens, 1f / count, MicroBatchDropout.None, backward: false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"engine\":\"kgglm\",\"rows\":{rows},\"scored_tokens\":{count}," +
            $"\"mean_loss\":{sum / count:R}}}"));

        // The peer's token file: rows, cols, then ids with [PAD] as -100 (its padding mark).
        byte[] bytes = new byte[8 + (4 * tokens.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, rows);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), P);
        for (int i = 0; i < tokens.Length; i++)
        {
            int t = tokens[i] == Vocabulary.Pad ? -100 : tokens[i];
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8 + (4 * i)), t);
        }

        File.WriteAllBytes(Arg("tokens"), bytes);

        return 0;
    }
}
