using BenchmarkDotNet.Running;
using Kgglm.Bench.EndToEnd;

namespace Kgglm.Bench;

/// <summary>
/// Runs the benchmarks of this assembly chosen on the command line, e.g.
/// <c>dotnet run -c Release --project bench/Kgglm.Bench -- --filter '*MatMul*'</c>
/// (no filter: an interactive menu). <c>train ...</c>, <c>generate ...</c>, <c>load ...</c> and
/// <c>loss ...</c> run the end-to-end harnesses (<see cref="TrainThroughput"/>,
/// <see cref="DecodeThroughput"/>, <see cref="LoadTime"/>, <see cref="CheckpointLoss"/>)
/// instead of BenchmarkDotNet.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "train")
        {
            return TrainThroughput.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "generate")
        {
            return DecodeThroughput.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "load")
        {
            return LoadTime.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "loss")
        {
            return CheckpointLoss.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
