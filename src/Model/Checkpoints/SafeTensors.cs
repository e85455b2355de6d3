using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Kgglm.Checkpoints;

// The safetensors layout (https://github.com/huggingface/safetensors), which is what
// GPT2LMHeadModel.from_pretrained reads from model.safetensors:
//
//   u64 little-endian N | N bytes of UTF-8 JSON header | data section
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} with
// offsets relative to the start of the data section, plus an optional "__metadata__" object of
// string to string. The data is raw little-endian values, row-major.

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">Tensor name, e.g. <c>transformer.wte.weight</c>.</param>
/// <param name="DType">Element type as written in the header; Kgglm reads only <c>F32</c>.</param>
/// <param name="Shape">Dimensions, row-major; empty for a scalar.</param>
/// <param name="Begin">First byte, relative to the start of the data section.</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
public sealed record SafeTensorInfo(
    string Name, string DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dim in Shape)
                count *= dim;
            return count;
        }
    }

    /// <summary>Byte length in the data section, <c>End - Begin</c>.</summary>
    public long ByteLength => End - Begin;
}

/// <summary>
/// Receives the values of one tensor from a <see cref="SafeTensorsWriter"/> callback, so a
/// tensor can be written straight from native memory in pieces of any size.
/// </summary>
public sealed class SafeTensorSink
{
    // Large enough to amortise the call, small enough that AsBytes never overflows an int.
    const int ChunkFloats = 1 << 24;

    readonly Stream stream;
    byte[]? swapBuffer;

    internal SafeTensorSink(Stream stream) => this.stream = stream;

    /// <summary>Number of floats written so far.</summary>
    public long Written { get; private set; }

    /// <summary>Appends <paramref name="values"/> as little-endian float32.</summary>
    public void Write(ReadOnlySpan<float> values)
    {
        Written += values.Length;
        while (!values.IsEmpty)
        {
            ReadOnlySpan<float> chunk = values[..Math.Min(values.Length, ChunkFloats)];
            values = values[chunk.Length..];
            if (BitConverter.IsLittleEndian)
            {
                stream.Write(MemoryMarshal.AsBytes(chunk));
                continue;
            }
            swapBuffer ??= new byte[ChunkFloats * sizeof(float)];
            for (int i = 0; i < chunk.Length; i++)
                BinaryPrimitives.WriteSingleLittleEndian(swapBuffer.AsSpan(i * 4), chunk[i]);
            stream.Write(swapBuffer, 0, chunk.Length * sizeof(float));
        }
    }
}

/// <summary>
/// Writes a safetensors file of float32 tensors. Tensors are stored sorted by name (ordinal),
/// contiguous, without gaps; the header is padded with spaces to a multiple of 8 bytes so the
/// data section is 8-byte aligned.
/// </summary>
public sealed class SafeTensorsWriter
{
    readonly SortedDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    /// <summary>String metadata written as the header's <c>__metadata__</c> object.</summary>
    public IDictionary<string, string> Metadata { get; } =
        new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Number of tensors added.</summary>
    public int Count => entries.Count;

    /// <summary>
    /// Adds a tensor whose values are in managed memory. The memory is read when the file is
    /// written, not copied now. <paramref name="data"/> must hold exactly the product of
    /// <paramref name="shape"/> floats.
    /// </summary>
    public void Add(string name, IReadOnlyList<long> shape, ReadOnlyMemory<float> data)
    {
        long count = CheckedCount(name, shape);
        if (data.Length != count)
        {
            throw new ArgumentException(
                $"tensor '{name}': shape [{string.Join(", ", shape)}] has {count} elements, "
                + $"data has {data.Length}", nameof(data));
        }
        AddEntry(name, shape, count, sink => sink.Write(data.Span));
    }

    /// <summary>
    /// Adds a tensor whose values are produced when the file is written: <paramref name="write"/>
    /// must pass exactly the product of <paramref name="shape"/> floats to the sink, in
    /// row-major order, in one or more calls (e.g. from native memory:
    /// <c>sink.Write(new ReadOnlySpan&lt;float&gt;(pointer, n))</c>).
    /// </summary>
    public void Add(string name, IReadOnlyList<long> shape, Action<SafeTensorSink> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        AddEntry(name, shape, CheckedCount(name, shape), write);
    }

    /// <summary>Writes the file to <paramref name="stream"/> from its current position.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);

        var sink = new SafeTensorSink(stream);
        foreach ((string name, Entry entry) in entries)
        {
            long before = sink.Written;
            entry.Write(sink);
            long written = sink.Written - before;
            if (written != entry.Count)
            {
                throw new InvalidOperationException(
                    $"tensor '{name}': the writer callback wrote {written} floats, "
                    + $"the shape needs {entry.Count}");
            }
        }
    }

    /// <summary>Writes the file to <paramref name="path"/> atomically (temp + rename).</summary>
    public void WriteTo(string path) => AtomicFile.Write(path, WriteTo);

    byte[] BuildHeader()
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (Metadata.Count > 0)
            {
                writer.WriteStartObject("__metadata__");
                foreach ((string key, string value) in Metadata)
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach ((string name, Entry entry) in entries)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (long dim in entry.Shape)
                    writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += entry.Count * sizeof(float);
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        // Pad with spaces (valid JSON whitespace) so that 8 + N is a multiple of 8.
        int length = (int)json.Length;
        int padded = (length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        json.GetBuffer().AsSpan(0, length).CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    void AddEntry(string name, IReadOnlyList<long> shape, long count, Action<SafeTensorSink> write)
    {
        if (!entries.TryAdd(name, new Entry(shape.ToArray(), count, write)))
            throw new ArgumentException($"tensor '{name}' was added twice", nameof(name));
    }

    static long CheckedCount(string name, IReadOnlyList<long> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved by the format", nameof(name));
        long count = 1;
        foreach (long dim in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dim, nameof(shape));
            count = checked(count * dim);
        }
        _ = checked(count * sizeof(float));
        return count;
    }

    sealed record Entry(long[] Shape, long Count, Action<SafeTensorSink> Write);
}

/// <summary>
/// Reads a safetensors file of float32 tensors. <see cref="Open"/> validates the whole header
/// before allocating anything sized by it, so a corrupt or hostile file fails with a
/// <see cref="CheckpointFormatException"/> naming the file and the problem, and never makes the
/// reader allocate more than the file's own size. Tensor data is read on demand with positional
/// reads; the data section is never loaded as a whole.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>Largest header accepted; real GPT-2 headers are a few kilobytes.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    // A tensor is copied in pieces of this many bytes so that any size fits a Span<byte>.
    const int ReadChunkBytes = 1 << 26;

    readonly SafeFileHandle handle;
    readonly Dictionary<string, SafeTensorInfo> byName;

    SafeTensorsFile(string path, SafeFileHandle handle, long dataStart,
        List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        this.handle = handle;
        DataStart = dataStart;
        tensors.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        Tensors = tensors;
        Metadata = metadata;
        byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file this reader was opened on.</summary>
    public string Path { get; }

    /// <summary>File offset of the data section: 8 plus the header length.</summary>
    public long DataStart { get; }

    /// <summary>Every tensor of the file, sorted by name (ordinal).</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Opens and validates <paramref name="path"/>. Throws <see cref="CheckpointFormatException"/>
    /// for any malformed header: bad header length, invalid JSON, missing or ill-typed fields, a
    /// dtype other than F32, negative or overflowing shapes, a shape that does not match its byte
    /// length, offsets outside the data section, overlapping tensors, bytes of the data section
    /// that belong to no tensor, and duplicate names.
    /// </summary>
    public static SafeTensorsFile Open(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read,
            FileShare.Read, FileOptions.RandomAccess);
        try
        {
            (long dataStart, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata) =
                ReadHeader(path, handle);
            return new SafeTensorsFile(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file has a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>
    /// The entry named <paramref name="name"/>; a missing tensor is a
    /// <see cref="CheckpointFormatException"/> because it means the checkpoint is incomplete.
    /// </summary>
    public SafeTensorInfo Get(string name) =>
        byName.TryGetValue(name, out SafeTensorInfo? info)
            ? info
            : throw new CheckpointFormatException(
                $"{Path}: safetensors file has no tensor named {Quote(name)}");

    /// <summary>
    /// Copies the tensor <paramref name="name"/> into <paramref name="destination"/>, whose length
    /// must equal the tensor's element count.
    /// </summary>
    public void Read(string name, Span<float> destination)
    {
        SafeTensorInfo info = Get(name);
        if (destination.Length != info.ElementCount)
        {
            throw new ArgumentException(
                $"tensor {Quote(name)} has {info.ElementCount} elements "
                + $"(shape [{string.Join(", ", info.Shape)}]), destination has "
                + $"{destination.Length}", nameof(destination));
        }

        long offset = DataStart + info.Begin;
        int floatsPerChunk = ReadChunkBytes / sizeof(float);
        while (!destination.IsEmpty)
        {
            Span<float> chunk = destination[..Math.Min(destination.Length, floatsPerChunk)];
            Span<byte> bytes = MemoryMarshal.AsBytes(chunk);
            ReadExactly(bytes, offset, $"tensor {Quote(name)}");
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < chunk.Length; i++)
                    chunk[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
            }
            offset += bytes.Length;
            destination = destination[chunk.Length..];
        }
    }

    /// <summary>Reads the tensor <paramref name="name"/> into a new array.</summary>
    public float[] ReadArray(string name)
    {
        SafeTensorInfo info = Get(name);
        if (info.ElementCount > Array.MaxLength)
        {
            throw new CheckpointFormatException(
                $"{Path}: tensor {Quote(name)} has {info.ElementCount} elements, "
                + "too many for one array");
        }
        float[] values = new float[info.ElementCount];
        Read(name, values);
        return values;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => handle.Dispose();

    void ReadExactly(Span<byte> bytes, long offset, string what)
    {
        while (!bytes.IsEmpty)
        {
            int read = RandomAccess.Read(handle, bytes, offset);
            if (read == 0)
            {
                // The header was validated against the length at open, so the file shrank since.
                throw new CheckpointFormatException(
                    $"{Path}: file ended while reading {what} at byte {offset}");
            }
            bytes = bytes[read..];
            offset += read;
        }
    }

    static (long DataStart, List<SafeTensorInfo> Tensors, Dictionary<string, string> Metadata)
        ReadHeader(string path, SafeFileHandle handle)
    {
        // 1. The header length, checked against the file before it sizes any allocation.
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
            throw Fail(path, $"file is {fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        ReadAll(path, handle, prefix, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
        {
            throw Fail(path, $"header length {headerLength} bytes is absurd "
                + $"(more than {MaxHeaderBytes}); not a safetensors file, or corrupt");
        }
        if ((long)headerLength > fileLength - 8)
        {
            throw Fail(path, $"header length {headerLength} bytes is beyond the file size "
                + $"({fileLength} bytes); the file is truncated or corrupt");
        }
        byte[] header = new byte[headerLength];
        ReadAll(path, handle, header, 8);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        // 2. The JSON itself. JsonDocument defers UTF-8 validation of names to when they are
        // read (and then throws InvalidOperationException), so the bytes are checked first.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw Fail(path, "header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Fail(path, $"header is not valid JSON ({OneLine(e.Message)})", e);
        }

        // 3. Every entry, each checked on its own.
        var tensors = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        // JsonDocument decodes escapes lazily: a lone surrogate such as "\ud800" surfaces here as
        // InvalidOperationException, which is the file's fault like any other.
        try
        {
            using (document)
                ReadEntries(path, document.RootElement, dataLength, tensors, metadata);
        }
        catch (InvalidOperationException e)
        {
            throw Fail(path, $"header has an invalid string ({OneLine(e.Message)})", e);
        }

        // 4. Together, the tensors tile the data section exactly: no overlap, no gap.
        var byOffset = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        long covered = 0;
        SafeTensorInfo? previous = null;
        foreach (SafeTensorInfo tensor in byOffset)
        {
            if (tensor.Begin < covered)
            {
                throw Fail(path, $"tensors {Quote(previous!.Name)} [{previous.Begin}, "
                    + $"{previous.End}) and {Quote(tensor.Name)} [{tensor.Begin}, {tensor.End}) "
                    + "overlap");
            }
            if (tensor.Begin > covered)
            {
                throw Fail(path, $"bytes [{covered}, {tensor.Begin}) of the data section belong "
                    + "to no tensor");
            }
            covered = tensor.End;
            previous = tensor;
        }
        if (covered != dataLength)
        {
            throw Fail(path, $"bytes [{covered}, {dataLength}) of the data section belong to no "
                + "tensor (trailing data)");
        }
        return (dataStart, tensors, metadata);
    }

    static void ReadEntries(string path, JsonElement root, long dataLength,
        List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"header is a JSON {root.ValueKind}, expected an object");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (!names.Add(property.Name))
                throw Fail(path, $"name {Quote(property.Name)} appears twice in the header");
            if (property.Name == "__metadata__")
                ReadMetadata(path, property.Value, metadata);
            else
                tensors.Add(ReadEntry(path, property.Name, property.Value, dataLength));
        }
    }

    static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"__metadata__ is a JSON {value.ValueKind}, expected an object");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Fail(path, $"__metadata__ value of {Quote(item.Name)} is a JSON "
                    + $"{item.Value.ValueKind}, expected a string");
            }
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Fail(path, $"__metadata__ key {Quote(item.Name)} appears twice");
        }
    }

    static SafeTensorInfo ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        string tensor = $"tensor {Quote(name)}";
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"{tensor} is a JSON {value.ValueKind}, expected an object");

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement))
            throw Fail(path, $"{tensor} has no \"dtype\"");
        if (dtypeElement.ValueKind != JsonValueKind.String)
            throw Fail(path, $"{tensor} has a \"dtype\" that is not a string");
        string dtype = dtypeElement.GetString()!;
        if (dtype != "F32")
            throw Fail(path, $"{tensor} has dtype {Quote(dtype)}; Kgglm reads only F32");

        long[] shape = ReadIntegers(path, tensor, value, "shape", expectedCount: null);
        long count = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
                throw Fail(path, $"{tensor} has a negative dimension in shape {Format(shape)}");
            if (dim != 0 && count > long.MaxValue / sizeof(float) / dim)
                throw Fail(path, $"{tensor}: the byte size of shape {Format(shape)} overflows");
            count *= dim;
        }
        long bytes = count * sizeof(float);

        long[] offsets = ReadIntegers(path, tensor, value, "data_offsets", expectedCount: 2);
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength)
        {
            throw Fail(path, $"{tensor} has data_offsets [{begin}, {end}] outside the data "
                + $"section of {dataLength} bytes");
        }
        if (end - begin != bytes)
        {
            throw Fail(path, $"{tensor} has shape {Format(shape)} = {bytes} bytes of F32 but "
                + $"data_offsets [{begin}, {end}] span {end - begin} bytes");
        }
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    static long[] ReadIntegers(string path, string tensor, JsonElement value, string key,
        int? expectedCount)
    {
        if (!value.TryGetProperty(key, out JsonElement array))
            throw Fail(path, $"{tensor} has no \"{key}\"");
        if (array.ValueKind != JsonValueKind.Array)
            throw Fail(path, $"{tensor} has a \"{key}\" that is not an array");
        int length = array.GetArrayLength();
        if (expectedCount is int expected && length != expected)
            throw Fail(path, $"{tensor} has {length} \"{key}\", expected {expected}");
        long[] numbers = new long[length];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out numbers[i]))
                throw Fail(path, $"{tensor} has a \"{key}\" entry that is not an integer");
            i++;
        }
        return numbers;
    }

    static void ReadAll(string path, SafeFileHandle handle, Span<byte> bytes, long offset)
    {
        while (!bytes.IsEmpty)
        {
            int read = RandomAccess.Read(handle, bytes, offset);
            if (read == 0)
                throw Fail(path, $"file ended at byte {offset} while reading the header");
            bytes = bytes[read..];
            offset += read;
        }
    }

    static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";

    static CheckpointFormatException Fail(string path, string what, Exception? inner = null) =>
        inner is null
            ? new CheckpointFormatException($"{path}: {what}")
            : new CheckpointFormatException($"{path}: {what}", inner);

    /// <summary>
    /// Quotes a name taken from the file for a one-line message: control characters escaped and
    /// long names cut, since the name may be garbage.
    /// </summary>
    internal static string Quote(string text)
    {
        var builder = new StringBuilder("'");
        foreach (char c in text.Length > 80 ? text[..80] : text)
        {
            if (char.IsControl(c) || char.IsSurrogate(c))
                builder.Append($"\\u{(int)c:x4}");
            else
                builder.Append(c);
        }
        if (text.Length > 80)
            builder.Append("...");
        return builder.Append('\'').ToString();
    }

    static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
