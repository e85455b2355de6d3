namespace Kgglm.Tuning;

/// <summary>
/// Proposes the parameters of trial N. Every algorithm is a pure function of its seed, the trial
/// number and the finished trials, so a resumed study regenerates exactly the sequence a study
/// run in one go would have.
/// </summary>
public interface ISearchAlgorithm
{
    /// <summary>The <c>--algo</c> name.</summary>
    string Name { get; }

    /// <summary>Trials when <c>--max-evals</c> is not given.</summary>
    int DefaultTrials { get; }

    /// <summary>The parameters of trial <paramref name="trial"/> (0-based).</summary>
    /// <param name="trial">The trial's index.</param>
    /// <param name="finished">Every trial recorded so far (all statuses).</param>
    ParamSet Propose(int trial, IReadOnlyList<TrialRecord> finished);
}

/// <summary>Builds the algorithm named by <c>--algo</c>.</summary>
public static class SearchAlgorithms
{
    /// <summary>
    /// Trials of random and bayes searches without <c>--max-evals</c> (hopwise's 10).
    /// </summary>
    public const int DefaultEvals = 10;

    /// <summary>The algorithm <paramref name="name"/> over <paramref name="space"/>.</summary>
    public static ISearchAlgorithm Create(string name, SearchSpace space, int seed,
        int? maxEvals) =>
        name switch
        {
            "exhaustive" => new ExhaustiveSearch(space),
            "random" => new RandomSearch(space, seed),
            "bayes" => new TpeSearch(space, seed,
                TpeSearch.DefaultStartup(maxEvals ?? DefaultEvals)),
            _ => throw new TuneException(
                $"--algo: expected exhaustive, random or bayes, found '{name}'"),
        };

    /// <summary>A generator of its own for trial <paramref name="trial"/> of a study seeded
    /// <paramref name="seed"/>: no draw depends on how many draws earlier trials made.</summary>
    internal static Random TrialRandom(int seed, int trial)
    {
        // splitmix64 of (seed, trial), so neighbouring trials get unrelated streams.
        ulong z = ((ulong)(uint)seed << 32 | (uint)trial) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return new Random((int)(z & 0x7FFFFFFF));
    }

    /// <summary>A uniform draw of <paramref name="p"/> in its internal space (choice index,
    /// value, or exponent for log-uniform).</summary>
    internal static double DrawInternal(SearchParam p, Random rng) => p.Kind == ParamKind.Choice
        ? rng.Next(p.Choices.Count)
        : p.Low + (rng.NextDouble() * (p.High - p.Low));

    /// <summary>The YAML value of an internal-space draw.</summary>
    internal static string ValueOf(SearchParam p, double x) => p.Kind switch
    {
        ParamKind.Choice => p.Choices[(int)x],
        ParamKind.LogUniform => p.Format(Math.Exp(x)),
        _ => p.Format(x),
    };
}

/// <summary>The grid of every choice combination, in file order (hopwise's default).</summary>
public sealed class ExhaustiveSearch : ISearchAlgorithm
{
    private readonly SearchSpace _space;

    /// <summary>A grid over <paramref name="space"/>; refuses non-choice parameters.</summary>
    public ExhaustiveSearch(SearchSpace space)
    {
        var continuous = space.Params.Where(p => p.Kind != ParamKind.Choice).Select(p => p.Name)
            .ToList();
        if (continuous.Count > 0)
        {
            throw new TuneException(
                $"{space.Source}: --algo exhaustive needs choice parameters only; " +
                $"{string.Join(", ", continuous)} {(continuous.Count == 1 ? "is" : "are")} not " +
                "(use --algo random or bayes)");
        }

        _space = space;
    }

    /// <inheritdoc/>
    public string Name => "exhaustive";

    /// <inheritdoc/>
    public int DefaultTrials => (int)Math.Min(int.MaxValue, _space.GridSize);

    /// <inheritdoc/>
    public ParamSet Propose(int trial, IReadOnlyList<TrialRecord> finished) =>
        _space.GridPoint(trial % _space.GridSize);
}

/// <summary>Independent uniform draws of every parameter (hyperopt's <c>rand</c>).</summary>
/// <param name="space">The parameters.</param>
/// <param name="seed">The search seed.</param>
public sealed class RandomSearch(SearchSpace space, int seed) : ISearchAlgorithm
{
    /// <inheritdoc/>
    public string Name => "random";

    /// <inheritdoc/>
    public int DefaultTrials => SearchAlgorithms.DefaultEvals;

    /// <inheritdoc/>
    public ParamSet Propose(int trial, IReadOnlyList<TrialRecord> finished)
    {
        Random rng = SearchAlgorithms.TrialRandom(seed, trial);
        return new ParamSet(space.Params
            .Select(p => new KeyValuePair<string, string>(
                p.Name, SearchAlgorithms.ValueOf(p, SearchAlgorithms.DrawInternal(p, rng))))
            .ToList());
    }
}
