using System.Globalization;

namespace Kgglm.Tuning;

/// <summary>
/// Tree-structured Parzen estimator (Bergstra et al. 2011, hyperopt's <c>tpe.suggest</c>), the
/// model-based search behind <c>--algo bayes</c>. Written here because the NuGet feed this
/// project builds from has no maintained .NET TPE / hyperopt package (Microsoft.ML.AutoML is not
/// served), and the algorithm is small.
/// </summary>
/// <remarks>
/// After <c>startup</c> random trials, the finished ok trials are split by score: the best
/// ⌈γ·√n⌉ (γ = 0.25, as hyperopt) form the "good" set, the rest the "bad" set. Per parameter,
/// independently as hyperopt does for a flat space, a density l(x) is fitted to the good values
/// and g(x) to the bad ones (each with a prior component), 24 candidates are drawn from l, and
/// the one maximising l(x)/g(x) — the expected-improvement criterion of TPE — is proposed.
/// Choices use smoothed category counts; numeric parameters a truncated Gaussian mixture with
/// hyperopt's adaptive bandwidths, in log space for log-uniform. Failed and skipped trials carry
/// no score and are left out of the model.
/// </remarks>
/// <param name="space">The parameters.</param>
/// <param name="seed">The search seed.</param>
/// <param name="startup">Random trials before the model is used.</param>
public sealed class TpeSearch(SearchSpace space, int seed, int startup) : ISearchAlgorithm
{
    /// <summary>Fraction (times √n) of the finished trials that count as good.</summary>
    public const double Gamma = 0.25;

    /// <summary>Candidates drawn from l(x) per parameter (hyperopt's n_EI_candidates).</summary>
    public const int Candidates = 24;

    /// <summary>Random trials before the model: half the budget, between 2 and 10 (hyperopt
    /// uses 20, more than a typical KGGLM study runs at all).</summary>
    public static int DefaultStartup(int maxEvals) => Math.Clamp(maxEvals / 2, 2, 10);

    /// <inheritdoc/>
    public string Name => "bayes";

    /// <inheritdoc/>
    public int DefaultTrials => SearchAlgorithms.DefaultEvals;

    /// <inheritdoc/>
    public ParamSet Propose(int trial, IReadOnlyList<TrialRecord> finished)
    {
        Random rng = SearchAlgorithms.TrialRandom(seed, trial);

        // Best first; ties by trial number so the split never depends on the record order.
        var scored = finished
            .Where(t => t.Status == TrialStatus.Ok && t.ValidScore is double s
                && double.IsFinite(s))
            .OrderByDescending(t => t.ValidScore!.Value).ThenBy(t => t.Number)
            .ToList();
        if (scored.Count < startup)
        {
            return new RandomSearch(space, seed).Propose(trial, finished);
        }

        int nGood = Math.Max(1, (int)Math.Ceiling(Gamma * Math.Sqrt(scored.Count)));
        var values = new List<KeyValuePair<string, string>>();
        foreach (SearchParam p in space.Params)
        {
            double[] good = scored.Take(nGood).Select(t => Internal(p, t.Params[p.Name])).ToArray();
            double[] bad = scored.Skip(nGood).Select(t => Internal(p, t.Params[p.Name])).ToArray();
            double x = p.Kind == ParamKind.Choice
                ? ProposeChoice(p.Choices.Count, good, bad, rng)
                : ProposeNumeric(p.Low, p.High, good, bad, rng);
            values.Add(new(p.Name, SearchAlgorithms.ValueOf(p, x)));
        }

        return new ParamSet(values);
    }

    /// <summary>A recorded value in the parameter's internal space.</summary>
    private static double Internal(SearchParam p, string value)
    {
        if (p.Kind == ParamKind.Choice)
        {
            int i = p.Choices.ToList().IndexOf(value);
            return Math.Max(0, i);
        }

        double v = double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        return p.Kind == ParamKind.LogUniform ? Math.Log(v) : v;
    }

    /// <summary>
    /// Categories: weights = prior 1 spread evenly + counts; argmax l/g of draws from l.
    /// </summary>
    internal static int ProposeChoice(int k, double[] good, double[] bad, Random rng)
    {
        double[] Weights(double[] xs)
        {
            var w = Enumerable.Repeat(1.0 / k, k).ToArray();
            foreach (double x in xs)
            {
                w[(int)x] += 1;
            }

            double sum = w.Sum();
            return w.Select(v => v / sum).ToArray();
        }

        double[] l = Weights(good), g = Weights(bad);
        int best = 0;
        double bestScore = double.NegativeInfinity;
        for (int c = 0; c < Candidates; c++)
        {
            double u = rng.NextDouble();
            int pick = 0;
            while (pick < k - 1 && u >= l[pick])
            {
                u -= l[pick];
                pick++;
            }

            double score = Math.Log(l[pick]) - Math.Log(g[pick]);
            if (score > bestScore)
            {
                (best, bestScore) = (pick, score);
            }
        }

        return best;
    }

    /// <summary>
    /// Reals in [low, high]: truncated Parzen mixtures; argmax l/g of draws from l.
    /// </summary>
    internal static double ProposeNumeric(double low, double high, double[] good, double[] bad,
        Random rng)
    {
        if (high <= low)
        {
            return low;
        }

        Parzen l = Parzen.Fit(good, low, high), g = Parzen.Fit(bad, low, high);
        double best = l.Sample(rng);
        double bestScore = double.NegativeInfinity;
        for (int c = 0; c < Candidates; c++)
        {
            double x = c == 0 ? best : l.Sample(rng);
            double score = l.LogDensity(x) - g.LogDensity(x);
            if (score > bestScore)
            {
                (best, bestScore) = (x, score);
            }
        }

        return best;
    }

    /// <summary>An equally weighted mixture of Gaussians truncated to [low, high].</summary>
    private sealed record Parzen(double[] Mu, double[] Sigma, double Low, double High)
    {
        /// <summary>hyperopt's adaptive_parzen_normal: one component per observation plus a
        /// prior N(mid, high − low); each bandwidth is the larger gap to its sorted neighbours,
        /// clipped to [prior σ / min(100, n + 1), prior σ].</summary>
        public static Parzen Fit(double[] xs, double low, double high)
        {
            double priorMu = 0.5 * (low + high), priorSigma = high - low;
            double[] mu = [.. xs.Select(x => Math.Clamp(x, low, high)), priorMu];
            Array.Sort(mu);
            double minSigma = priorSigma / Math.Min(100.0, mu.Length);
            var sigma = new double[mu.Length];
            for (int i = 0; i < mu.Length; i++)
            {
                double left = i > 0 ? mu[i] - mu[i - 1] : double.NegativeInfinity;
                double right = i < mu.Length - 1 ? mu[i + 1] - mu[i] : double.NegativeInfinity;
                double gap = Math.Max(left, right);
                sigma[i] = Math.Clamp(double.IsFinite(gap) ? gap : priorSigma, minSigma,
                    priorSigma);
            }

            // The prior keeps its own width, wherever sorting put it.
            int prior = Array.IndexOf(mu, priorMu);
            sigma[prior] = priorSigma;
            return new Parzen(mu, sigma, low, high);
        }

        public double Sample(Random rng)
        {
            int i = rng.Next(Mu.Length);
            for (int attempt = 0; attempt < 100; attempt++)
            {
                // Box–Muller; rejection keeps the draw inside the bounds.
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
                double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                double x = Mu[i] + (Sigma[i] * z);
                if (x >= Low && x <= High)
                {
                    return x;
                }
            }

            return Math.Clamp(Mu[i], Low, High);
        }

        public double LogDensity(double x)
        {
            double sum = 0;
            for (int i = 0; i < Mu.Length; i++)
            {
                double s = Sigma[i];
                double mass = Phi((High - Mu[i]) / s) - Phi((Low - Mu[i]) / s);
                double z = (x - Mu[i]) / s;
                sum += Math.Exp(-0.5 * z * z)
                    / (s * Math.Sqrt(2 * Math.PI) * Math.Max(mass, 1e-12));
            }

            return Math.Log(Math.Max(sum / Mu.Length, 1e-300));
        }

        /// <summary>
        /// Standard normal CDF via erf (Abramowitz–Stegun 7.1.26, error &lt; 1.5e-7).
        /// </summary>
        private static double Phi(double z)
        {
            double x = Math.Abs(z) / Math.Sqrt(2);
            double t = 1 / (1 + (0.3275911 * x));
            double erf = 1 - ((((((((1.061405429 * t) - 1.453152027) * t) + 1.421413741) * t)
                - 0.284496736) * t) + 0.254829592) * t * Math.Exp(-x * x);
            return 0.5 * (1 + (z < 0 ? -erf : erf));
        }
    }
}
