using System.Globalization;

namespace Kgglm.Reporting;

/// <summary>One line of a chart: points (X[i], Y[i]); non-finite values break the line.</summary>
/// <param name="Name">Legend text, e.g. <c>train loss</c>.</param>
/// <param name="X">Abscissae, e.g. steps or epochs.</param>
/// <param name="Y">Ordinates, as many as <paramref name="X"/>.</param>
public sealed record PlotSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>
/// A line chart of one or more series rendered to PNG: axes with numeric ticks and a light
/// grid, a title, axis labels, a legend, each series in its own colour (markers on series of
/// few points, so a per-epoch curve of three evaluations still reads). Made for training curves
/// (train loss per step, valid loss per epoch) and tuning (valid score per trial).
/// </summary>
public sealed class LossCurvePlot
{
    // Colours in the order series are added; distinguishable and print-safe (Tableau 10).
    static readonly Rgb[] Palette =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40),
        new(148, 103, 189), new(140, 86, 75), new(227, 119, 194), new(127, 127, 127),
        new(188, 189, 34), new(23, 190, 207),
    ];

    static readonly Rgb White = new(255, 255, 255), Black = new(0, 0, 0);
    static readonly Rgb Grid = new(225, 225, 225), Frame = new(150, 150, 150);

    // Series with at most this many points get a marker on each point.
    const int MarkerThreshold = 60;

    readonly List<PlotSeries> series = [];

    /// <summary>Chart title, drawn above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label under the x axis.</summary>
    public string XLabel { get; init; } = "step";

    /// <summary>Label along the y axis.</summary>
    public string YLabel { get; init; } = "loss";

    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; } = 960;

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; } = 600;

    /// <summary>The series added so far, in legend and colour order.</summary>
    public IReadOnlyList<PlotSeries> Series => series;

    /// <summary>Colour of the series at <paramref name="index"/> (the palette repeats).</summary>
    public static Rgb ColorOf(int index) => Palette[index % Palette.Length];

    /// <summary>Adds a series (x and y of equal length).</summary>
    public LossCurvePlot Add(string name, IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
        {
            throw new ArgumentException(
                $"series '{name}': {x.Count} x values, {y.Count} y values");
        }
        series.Add(new PlotSeries(name, x, y));
        return this;
    }

    /// <summary>Renders the chart as a PNG at <paramref name="path"/>, atomically.</summary>
    public void SavePng(string path) => PngWriter.Write(path, Width, Height, RenderRgb());

    /// <summary>Renders the chart: <c>[Height, Width, 3]</c> RGB bytes, top row first.</summary>
    public byte[] RenderRgb()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Width, 200, nameof(Width));
        ArgumentOutOfRangeException.ThrowIfLessThan(Height, 150, nameof(Height));
        const int TextScale = 2, TitleScale = 3;
        var canvas = new RgbCanvas(Width, Height, White);

        // 1. Data bounds, widened to whole tick steps.
        (double xMin, double xMax) = Bounds(s => s.X);
        (double yMin, double yMax) = Bounds(s => s.Y);
        double[] yTicks = Ticks(ref yMin, ref yMax, Math.Clamp(Height / 80, 3, 10));
        string[] yLabels = [.. yTicks.Select(Format)];
        int tickText = RgbCanvas.TextHeight(TextScale);

        // 2. Layout: room for the y label and tick labels on the left, the title on top, the
        // tick labels and x label below.
        int left = 16 + tickText + 12 + yLabels.Max(l => RgbCanvas.TextWidth(l, TextScale)) + 10;
        int top = 16 + RgbCanvas.TextHeight(TitleScale) + 16;
        int bottom = Height - (10 + tickText + 12 + tickText + 14);
        int right = Width - 24;
        double[] xTicks = Ticks(ref xMin, ref xMax, Math.Clamp((right - left) / 110, 2, 10));

        int PixelX(double x) =>
            left + (int)Math.Round((x - xMin) / (xMax - xMin) * (right - left));
        int PixelY(double y) =>
            bottom - (int)Math.Round((y - yMin) / (yMax - yMin) * (bottom - top));

        // 3. Grid, ticks and their labels.
        for (int i = 0; i < yTicks.Length; i++)
        {
            int y = PixelY(yTicks[i]);
            canvas.DrawLine(left, y, right, y, Grid);
            canvas.DrawLine(left - 5, y, left, y, Black);
            int width = RgbCanvas.TextWidth(yLabels[i], TextScale);
            canvas.DrawText(left - 10 - width, y - tickText / 2, yLabels[i], Black, TextScale);
        }
        foreach (double tick in xTicks)
        {
            int x = PixelX(tick);
            canvas.DrawLine(x, top, x, bottom, Grid);
            canvas.DrawLine(x, bottom, x, bottom + 5, Black);
            string label = Format(tick);
            int width = RgbCanvas.TextWidth(label, TextScale);
            canvas.DrawText(x - width / 2, bottom + 10, label, Black, TextScale);
        }
        canvas.DrawLine(left, top, left, bottom, Black, 2);
        canvas.DrawLine(left, bottom, right, bottom, Black, 2);

        // 4. Title and axis labels.
        int titleWidth = RgbCanvas.TextWidth(Title, TitleScale);
        canvas.DrawText((left + right - titleWidth) / 2, 16, Title, Black, TitleScale);
        int xLabelWidth = RgbCanvas.TextWidth(XLabel, TextScale);
        canvas.DrawText((left + right - xLabelWidth) / 2, bottom + 10 + tickText + 12, XLabel,
            Black, TextScale);
        int yLabelWidth = RgbCanvas.TextWidth(YLabel, TextScale);
        canvas.DrawTextUp(16, (top + bottom + yLabelWidth) / 2, YLabel, Black, TextScale);

        // 5. The series, a break at every non-finite value.
        for (int s = 0; s < series.Count; s++)
        {
            PlotSeries line = series[s];
            Rgb color = ColorOf(s);
            bool markers = line.X.Count <= MarkerThreshold;
            (int X, int Y)? previous = null;
            for (int i = 0; i < line.X.Count; i++)
            {
                double x = line.X[i], y = line.Y[i];
                if (!double.IsFinite(x) || !double.IsFinite(y))
                {
                    previous = null;
                    continue;
                }
                (int X, int Y) point = (PixelX(x), PixelY(y));
                if (previous is (int px, int py))
                    canvas.DrawLine(px, py, point.X, point.Y, color, 2);
                if (markers)
                    canvas.FillRectangle(point.X - 3, point.Y - 3, 7, 7, color);
                previous = point;
            }
        }

        // 6. Legend in the top-right corner of the plot.
        if (series.Count > 0)
        {
            int rowHeight = tickText + 8;
            int nameWidth = series.Max(s => RgbCanvas.TextWidth(s.Name, TextScale));
            int legendWidth = 12 + 28 + 8 + nameWidth + 12;
            int legendHeight = series.Count * rowHeight + 8;
            int lx = right - 10 - legendWidth, ly = top + 10;
            canvas.FillRectangle(lx, ly, legendWidth, legendHeight, Frame);
            canvas.FillRectangle(lx + 1, ly + 1, legendWidth - 2, legendHeight - 2, White);
            for (int s = 0; s < series.Count; s++)
            {
                int rowY = ly + 4 + s * rowHeight + rowHeight / 2;
                canvas.DrawLine(lx + 12, rowY, lx + 40, rowY, ColorOf(s), 3);
                canvas.DrawText(lx + 48, rowY - tickText / 2, series[s].Name, Black, TextScale);
            }
        }
        return canvas.Pixels;
    }

    (double Min, double Max) Bounds(Func<PlotSeries, IReadOnlyList<double>> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (PlotSeries s in series)
        {
            for (int i = 0; i < s.X.Count; i++)
            {
                double v = values(s)[i];
                if (!double.IsFinite(s.X[i]) || !double.IsFinite(s.Y[i]))
                    continue;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }
        if (min > max)
            return (0, 1);
        if (min == max)
        {
            // One value: centre it in a range of its own size (or of 1 around zero).
            double half = min == 0 ? 0.5 : Math.Abs(min) * 0.1;
            return (min - half, max + half);
        }
        return (min, max);
    }

    // Ticks at a "nice" step (1, 2 or 5 × 10^k) giving about `count` intervals; the bounds are
    // widened to whole steps so the curve starts and ends on a tick.
    static double[] Ticks(ref double min, ref double max, int count)
    {
        double raw = (max - min) / count;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double fraction = raw / magnitude;
        double step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
        long first = (long)Math.Floor(min / step + 1e-9);
        long last = (long)Math.Ceiling(max / step - 1e-9);
        min = first * step;
        max = last * step;
        var ticks = new double[last - first + 1];
        for (long i = first; i <= last; i++)
        {
            double tick = i * step;
            ticks[i - first] = Math.Abs(tick) < step * 1e-9 ? 0 : tick;
        }
        return ticks;
    }

    static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
