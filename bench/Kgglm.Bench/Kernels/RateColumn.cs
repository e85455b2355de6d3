using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Kgglm.Bench.Kernels;

/// <summary>
/// A custom BenchmarkDotNet column of work per second (GFLOP/s, GB/s): the work of a case over
/// its mean time, formatted by the subclass.
/// </summary>
public abstract class RateColumn : IColumn
{
    public abstract string Id { get; }

    public abstract string ColumnName { get; }

    public abstract string Legend { get; }

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double? work = meanNs is > 0 ? Work(benchmarkCase) : null;
        return work is { } w
            ? (w / meanNs!.Value).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    /// <summary>Operations (or bytes) of the case, or null when it has none.</summary>
    protected abstract double? Work(BenchmarkCase benchmarkCase);
}
