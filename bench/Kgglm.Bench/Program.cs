using BenchmarkDotNet.Running;

namespace Kgglm.Bench;

/// <summary>
/// Runs the benchmarks of this assembly chosen on the command line, e.g.
/// <c>dotnet run -c Release --project bench/Kgglm.Bench -- --filter '*MatMul*'</c>
/// (no filter: an interactive menu).
/// </summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
