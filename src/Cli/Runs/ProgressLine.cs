using System.Diagnostics;

namespace Kgglm.Cli.Runs;

/// <summary>
/// A one-line progress bar with ETA on stderr, drawn only on a terminal (never into logs or
/// pipes) and erased before anything else is printed.
/// </summary>
internal sealed class ProgressLine : IDisposable
{
    private readonly string _label;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly bool _enabled = !Console.IsErrorRedirected;
    private long _lastDraw = -1000;
    private bool _visible;

    public ProgressLine(string label) => _label = label;

    /// <summary>
    /// Draws the bar for <paramref name="done"/> of <paramref name="total"/> (throttled).
    /// </summary>
    public void Report(long done, long total)
    {
        if (!_enabled || total <= 0)
        {
            return;
        }

        long now = _watch.ElapsedMilliseconds;
        if (now - _lastDraw < 200 && done < total)
        {
            return;
        }

        _lastDraw = now;
        double fraction = Math.Clamp((double)done / total, 0, 1);
        int filled = (int)(fraction * 30);
        double eta = fraction > 0 ? _watch.Elapsed.TotalSeconds * (1 - fraction) / fraction : 0;
        string bar = new string('#', filled) + new string('.', 30 - filled);
        Console.Error.Write($"\r{_label} [{bar}] {done}/{total} ETA {Format(eta)}   ");
        _visible = true;
    }

    /// <summary>Erases the bar so the next line prints cleanly.</summary>
    public void Clear()
    {
        if (_visible)
        {
            Console.Error.Write("\r" + new string(' ',
                Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 120) : 100) + "\r");
            _visible = false;
        }
    }

    /// <summary>Erases the bar at the end.</summary>
    public void Finish() => Clear();

    public void Dispose() => Clear();

    private static string Format(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Min(seconds, 359999));
        return $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}";
    }
}
