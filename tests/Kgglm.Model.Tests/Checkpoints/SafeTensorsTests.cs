using System.Buffers.Binary;
using System.Text;
using Kgglm.Checkpoints;

namespace Kgglm.Tests.Checkpoints;

public class SafeTensorsTests
{
    static float[] Values(int count, float start) =>
        Enumerable.Range(0, count).Select(i => start + i * 0.5f).ToArray();

    static byte[] ValidFile()
    {
        var writer = new SafeTensorsWriter();
        writer.Add("transformer.wte.weight", [5, 3], Values(15, 1));
        writer.Add("transformer.ln_f.bias", [3], Values(3, -2));
        writer.Add("scalar", [], Values(1, 7));
        writer.Metadata["format"] = "pt";
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    // A file made of a hand-written header and a data section of dataBytes zero bytes.
    static byte[] Raw(string header, int dataBytes)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        byte[] file = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        return file;
    }

    static string Fails(byte[] file)
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<CheckpointFormatException>(
            () => SafeTensorsFile.Open(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void RoundTripsSortedContiguousAligned()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        File.WriteAllBytes(path, ValidFile());

        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8);
        Assert.Equal((byte)' ', bytes[8 + (int)n - 1]);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["scalar", "transformer.ln_f.bias", "transformer.wte.weight"],
            file.Tensors.Select(t => t.Name));
        // Sorted by name in the data section too, with no gaps.
        Assert.Equal(0, file.Get("scalar").Begin);
        Assert.Equal(4, file.Get("transformer.ln_f.bias").Begin);
        Assert.Equal(16, file.Get("transformer.wte.weight").Begin);
        Assert.Equal([5L, 3L], file.Get("transformer.wte.weight").Shape);
        Assert.Equal("F32", file.Get("scalar").DType);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(Values(15, 1), file.ReadArray("transformer.wte.weight"));
        Assert.Equal(Values(3, -2), file.ReadArray("transformer.ln_f.bias"));
        Assert.Equal([7f], file.ReadArray("scalar"));
        Assert.Throws<CheckpointFormatException>(() => file.Get("missing"));
        Assert.Throws<ArgumentException>(() => file.Read("scalar", new float[2]));
    }

    [Fact]
    public unsafe void CallbackWritesFromNativeMemoryInPieces()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        float* native = (float*)System.Runtime.InteropServices.NativeMemory.Alloc(1000, 4);
        try
        {
            for (int i = 0; i < 1000; i++)
                native[i] = i;
            var writer = new SafeTensorsWriter();
            writer.Add("w", [10, 100], sink =>
            {
                sink.Write(new ReadOnlySpan<float>(native, 300));
                sink.Write(new ReadOnlySpan<float>(native + 300, 700));
            });
            writer.WriteTo(path);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(native);
        }
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (float)i), file.ReadArray("w"));
    }

    [Fact]
    public void WriterRefusesWrongCountsAndLeavesNoFile()
    {
        using var folder = new TempFolder();
        var writer = new SafeTensorsWriter();
        Assert.Throws<ArgumentException>(() => writer.Add("a", [2, 2], new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Add("a", [-1], new float[0]));
        writer.Add("a", [4], sink => sink.Write(new float[3]));
        Assert.Throws<ArgumentException>(() => writer.Add("a", [4], new float[4]));
        Assert.Throws<InvalidOperationException>(() => writer.WriteTo(folder.File("x")));
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void RefusesBadHeaderLengths()
    {
        Assert.Contains("shorter than the 8-byte", Fails([1, 2, 3]));
        byte[] huge = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, 200_000_000);
        Assert.Contains("absurd", Fails(huge));
        byte[] beyond = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(beyond, (ulong)beyond.Length);
        Assert.Contains("beyond the file size", Fails(beyond));
        byte[] max = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(max, ulong.MaxValue);
        Assert.Contains("absurd", Fails(max));
    }

    [Theory]
    [InlineData("{\"a\": ", 0, "not valid JSON")]
    [InlineData("[1, 2]", 0, "expected an object")]
    [InlineData("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "no \"dtype\"")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4, "no \"shape\"")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "no \"data_offsets\"")]
    [InlineData("{\"a\": {\"dtype\": 5, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
        "not a string")]
    [InlineData("{\"a\": {\"dtype\": \"BF16\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4,
        "dtype 'BF16'")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4,
        "negative dimension")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4,
        "not an integer")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], "
        + "\"data_offsets\": [0, 4]}}", 4, "overflows")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4,
        "span 4 bytes")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4,
        "outside the data section")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4,
        "expected 2")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
        + "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "overlap")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8,
        "bytes [0, 4) of the data section belong to no tensor")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8,
        "trailing data")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
        + "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
        "appears twice")]
    [InlineData("{\"__metadata__\": {\"k\": 1}}", 0, "expected a string")]
    [InlineData("{\"a\\n\": 1}", 0, "'a\\u000a' is a JSON Number")]
    [InlineData("{\"\\ud800\": 1}", 0, "invalid string")]
    [InlineData("{\"a\": {\"dtype\": \"\\udc00\", \"shape\": [1], "
        + "\"data_offsets\": [0, 4]}}", 4, "invalid string")]
    public void RefusesMalformedHeaders(string header, int dataBytes, string expected)
    {
        Assert.Contains(expected, Fails(Raw(header, dataBytes)));
    }

    [Fact]
    public void AcceptsEmptyAndZeroSizedTensors()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.safetensors");
        File.WriteAllBytes(path, Raw("{\"z\": {\"dtype\": \"F32\", \"shape\": [0, 3], "
            + "\"data_offsets\": [0, 0]}}  ", 0));
        using var file = SafeTensorsFile.Open(path);
        Assert.Empty(file.ReadArray("z"));
    }

    // Flips, truncates and inserts random bytes in a valid file: the reader either opens it and
    // every tensor reads back with the header's sizes, or throws CheckpointFormatException.
    // Nothing else, and never an allocation beyond a small multiple of the file size.
    [Fact]
    public void RandomCorruptionFailsCleanly()
    {
        byte[] valid = ValidFile();
        var random = new Random(20240917);
        using var folder = new TempFolder();
        string path = folder.File("corrupt.safetensors");
        int opened = 0, refused = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] file = Corrupt(valid, random);
            File.WriteAllBytes(path, file);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var reader = SafeTensorsFile.Open(path);
                long total = 0;
                foreach (SafeTensorInfo tensor in reader.Tensors)
                {
                    float[] values = reader.ReadArray(tensor.Name);
                    Assert.Equal(tensor.ElementCount, values.Length);
                    total += tensor.ByteLength;
                }
                Assert.Equal(file.Length - reader.DataStart, total);
                opened++;
            }
            catch (CheckpointFormatException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                refused++;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // JsonDocument's index is about 12 bytes per token of the header; the rest is small.
            Assert.True(allocated < 64 * file.Length + 256 * 1024,
                $"trial {trial}: allocated {allocated} bytes for a {file.Length}-byte file");
        }
        Assert.True(opened > 0 && refused > 0, $"opened {opened}, refused {refused}");
    }

    static byte[] Corrupt(byte[] valid, Random random)
    {
        var bytes = new List<byte>(valid);
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(bytes.Count + 1);
            switch (random.Next(5))
            {
                case 0 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when at < bytes.Count:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                default:
                    // Digits and quotes are where a JSON edit stays valid JSON yet lies.
                    if (at < bytes.Count)
                        bytes[at] = (byte)"0123456789\"-[],"[random.Next(15)];
                    break;
            }
        }
        return bytes.ToArray();
    }
}
