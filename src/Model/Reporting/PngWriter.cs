using System.Buffers.Binary;
using System.IO.Compression;
using Kgglm.Checkpoints;

namespace Kgglm.Reporting;

/// <summary>
/// A minimal PNG encoder: 8-bit RGB, no interlacing, every row with filter 0 (None), one IDAT
/// chunk compressed with zlib. Enough for charts, which are mostly flat colour and compress well
/// without filtering.
/// </summary>
public static class PngWriter
{
    static ReadOnlySpan<byte> Signature =>
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// Encodes an image to <paramref name="stream"/>. <paramref name="rgb"/> is
    /// <c>[height, width, 3]</c>, row-major, top row first.
    /// </summary>
    public static void Write(Stream stream, int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (rgb.Length != (long)width * height * 3)
            throw new ArgumentException($"needs {width} × {height} × 3 bytes", nameof(rgb));

        stream.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bits per channel
        header[9] = 2;  // colour type: truecolour RGB
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method: adaptive (each row starts with its filter type)
        header[12] = 0; // no interlace
        WriteChunk(stream, "IHDR"u8, header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            int stride = width * 3;
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter None
                zlib.Write(rgb.Slice(y * stride, stride));
            }
        }
        WriteChunk(stream, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(stream, "IEND"u8, []);
    }

    /// <summary>Encodes an image to the file <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, int width, int height, ReadOnlySpan<byte> rgb)
    {
        using var buffer = new MemoryStream();
        Write(buffer, width, height, rgb);
        AtomicFile.WriteAllBytes(path, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    // A chunk: length (big-endian), type, data, CRC-32 of type and data.
    static void WriteChunk(Stream stream, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        stream.Write(type);
        stream.Write(data);
        uint crc = Crc32.Append(Crc32.Append(Crc32.Initial, type), data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Finish(crc));
        stream.Write(word);
    }
}

/// <summary>
/// CRC-32 (ISO-HDLC, polynomial 0xEDB88320 reflected) as PNG chunks use it; the framework's
/// System.IO.Hashing is a separate package.
/// </summary>
internal static class Crc32
{
    static readonly uint[] Table = BuildTable();

    /// <summary>Register value before any byte.</summary>
    public const uint Initial = 0xFFFFFFFF;

    /// <summary>Feeds <paramref name="bytes"/> into the running register.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    /// <summary>The checksum of everything appended.</summary>
    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFF;

    /// <summary>CRC-32 of <paramref name="bytes"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> bytes) => Finish(Append(Initial, bytes));

    static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
