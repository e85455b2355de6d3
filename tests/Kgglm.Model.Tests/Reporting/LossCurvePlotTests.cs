using System.Buffers.Binary;
using System.IO.Compression;
using Kgglm.Reporting;

namespace Kgglm.Tests.Reporting;

public class LossCurvePlotTests
{
    // A minimal PNG reader for 8-bit RGB, filter-0 images: checks the signature, every chunk's
    // CRC, IHDR fields, and that IDAT inflates to height × (1 + width × 3) bytes.
    static (int Width, int Height, byte[] Rows) Decode(byte[] png)
    {
        Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        int at = 8, width = 0, height = 0;
        var idat = new MemoryStream();
        var types = new List<string>();
        while (at < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            ReadOnlySpan<byte> typeAndData = png.AsSpan(at + 4, 4 + length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(ReferenceCrc(typeAndData), crc);
            ReadOnlySpan<byte> data = typeAndData[4..];
            if (type == "IHDR")
            {
                Assert.Equal(13, length);
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal([8, 2, 0, 0, 0], data[8..].ToArray());
            }
            if (type == "IDAT")
                idat.Write(data);
            types.Add(type);
            at += 12 + length;
        }
        Assert.Equal("IHDR", types[0]);
        Assert.Equal("IEND", types[^1]);
        idat.Position = 0;
        using var inflate = new ZLibStream(idat, CompressionMode.Decompress);
        var rows = new MemoryStream();
        inflate.CopyTo(rows);
        Assert.Equal(height * (1 + width * 3), rows.Length);
        return (width, height, rows.ToArray());
    }

    // Bitwise CRC-32, independent of the table-driven one under test.
    static uint ReferenceCrc(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    static int CountColor(int width, int height, byte[] rows, Rgb color)
    {
        int count = 0;
        for (int y = 0; y < height; y++)
        {
            int row = y * (1 + width * 3);
            Assert.Equal(0, rows[row]);
            for (int x = 0; x < width; x++)
            {
                int i = row + 1 + x * 3;
                if (rows[i] == color.R && rows[i + 1] == color.G && rows[i + 2] == color.B)
                    count++;
            }
        }
        return count;
    }

    [Fact]
    public void Crc32MatchesTheKnownCheckValue() =>
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void PngWriterRoundTripsPixels()
    {
        byte[] rgb = new byte[3 * 4 * 3];
        for (int i = 0; i < rgb.Length; i++)
            rgb[i] = (byte)(i * 7);
        using var stream = new MemoryStream();
        PngWriter.Write(stream, 3, 4, rgb);
        (int width, int height, byte[] rows) = Decode(stream.ToArray());
        Assert.Equal((3, 4), (width, height));
        for (int y = 0; y < 4; y++)
            Assert.Equal(rgb.AsSpan(y * 9, 9).ToArray(), rows.AsSpan(y * 10 + 1, 9).ToArray());
    }

    [Fact]
    public void ChartDecodesAndShowsEverySeries()
    {
        double[] steps = [.. Enumerable.Range(0, 400).Select(i => (double)i)];
        double[] train = [.. steps.Select(s => 10.6 * Math.Exp(-s / 80) + 1.2 + 0.1 * Math.Sin(s))];
        double[] epochs = [0, 100, 200, 300, 399];
        double[] valid = [10.5, 3.0, 1.9, 1.6, double.NaN];
        var plot = new LossCurvePlot { Title = "KGGLM pretrain ml-100k", XLabel = "step" }
            .Add("train loss", steps, train)
            .Add("valid loss", epochs, valid);

        using var folder = new TempFolder();
        string path = folder.File("loss.png");
        plot.SavePng(path);
        (int width, int height, byte[] rows) = Decode(File.ReadAllBytes(path));
        Assert.Equal((960, 600), (width, height));
        Assert.True(CountColor(width, height, rows, LossCurvePlot.ColorOf(0)) > 500);
        Assert.True(CountColor(width, height, rows, LossCurvePlot.ColorOf(1)) > 100);
        Assert.True(CountColor(width, height, rows, new Rgb(0, 0, 0)) > 1000);

        string? keep = Environment.GetEnvironmentVariable("KGGLM_KEEP_PLOT");
        if (!string.IsNullOrEmpty(keep))
            File.Copy(path, keep, overwrite: true);
    }

    [Fact]
    public void DegenerateSeriesStillRender()
    {
        var plot = new LossCurvePlot
        {
            Title = "valid NDCG@10 per trial",
            XLabel = "trial",
            YLabel = "ndcg@10",
            Width = 400,
            Height = 300
        }
            .Add("one point", [3], [0.25])
            .Add("empty", [], [])
            .Add("all NaN", [1, 2], [double.NaN, double.PositiveInfinity]);
        byte[] rgb = plot.RenderRgb();
        Assert.Equal(400 * 300 * 3, rgb.Length);
        Assert.Throws<ArgumentException>(() => plot.Add("bad", [1, 2], [1]));
        byte[] empty = new LossCurvePlot().RenderRgb();
        Assert.Equal(960 * 600 * 3, empty.Length);
    }
}
