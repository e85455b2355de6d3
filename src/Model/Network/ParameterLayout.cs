namespace Kgglm.Network;

/// <summary>One named parameter tensor of the network.</summary>
/// <param name="Name">HuggingFace name, e.g. <c>transformer.h.0.attn.c_attn.weight</c>.</param>
/// <param name="Shape">Shape as stored by HuggingFace (Conv1D weights are [in, out]).</param>
/// <param name="Offset">Start in the parameter (and gradient, moment) arena, in floats.</param>
/// <param name="Decay">True when AdamW's weight decay applies (not biases or LayerNorm).</param>
/// <param name="Init">How the tensor is initialised.</param>
public sealed record ParameterInfo(
    string Name, int[] Shape, long Offset, bool Decay, ParameterInit Init)
{
    /// <summary>Number of elements.</summary>
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>Initialisation of one tensor.</summary>
public enum ParameterInit
{
    /// <summary>N(0, 0.02).</summary>
    Normal,

    /// <summary>N(0, 0.02 / √(2·layers)): GPT-2's residual projections.</summary>
    ScaledNormal,

    /// <summary>All zeros (biases, LayerNorm β).</summary>
    Zeros,

    /// <summary>All ones (LayerNorm γ).</summary>
    Ones,
}

/// <summary>
/// Where every parameter lives in the parameter arena, in HuggingFace order and naming; the
/// gradient and the two AdamW moment arenas use the same offsets. Every tensor starts on a
/// 64-byte boundary (<see cref="Kernels.DeviceArena.Padded"/>).
/// </summary>
public sealed class ParameterLayout
{
    private readonly Dictionary<string, ParameterInfo> _byName;

    /// <summary>Lays out the parameters of <paramref name="shape"/>.</summary>
    public ParameterLayout(Gpt2Shape shape)
    {
        shape.Validate();
        int c = shape.Channels;
        var list = new List<ParameterInfo>();
        long offset = 0;
        void Add(string name, bool decay, ParameterInit init, params int[] dims)
        {
            var p = new ParameterInfo(name, dims, offset, decay, init);
            list.Add(p);
            offset += Kernels.DeviceArena.Padded(p.Count);
        }

        Add("transformer.wte.weight", true, ParameterInit.Normal, shape.VocabSize, c);
        Add("transformer.wpe.weight", true, ParameterInit.Normal, shape.Positions, c);
        for (int l = 0; l < shape.Layers; l++)
        {
            string h = $"transformer.h.{l}.";
            Add(h + "ln_1.weight", false, ParameterInit.Ones, c);
            Add(h + "ln_1.bias", false, ParameterInit.Zeros, c);
            Add(h + "attn.c_attn.weight", true, ParameterInit.Normal, c, 3 * c);
            Add(h + "attn.c_attn.bias", false, ParameterInit.Zeros, 3 * c);
            Add(h + "attn.c_proj.weight", true, ParameterInit.ScaledNormal, c, c);
            Add(h + "attn.c_proj.bias", false, ParameterInit.Zeros, c);
            Add(h + "ln_2.weight", false, ParameterInit.Ones, c);
            Add(h + "ln_2.bias", false, ParameterInit.Zeros, c);
            Add(h + "mlp.c_fc.weight", true, ParameterInit.Normal, c, 4 * c);
            Add(h + "mlp.c_fc.bias", false, ParameterInit.Zeros, 4 * c);
            Add(h + "mlp.c_proj.weight", true, ParameterInit.ScaledNormal, 4 * c, c);
            Add(h + "mlp.c_proj.bias", false, ParameterInit.Zeros, c);
        }

        Add("transformer.ln_f.weight", false, ParameterInit.Ones, c);
        Add("transformer.ln_f.bias", false, ParameterInit.Zeros, c);
        Shape = shape;
        Parameters = list;
        TotalFloats = offset;
        _byName = list.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    /// <summary>The network shape.</summary>
    public Gpt2Shape Shape { get; }

    /// <summary>Every tensor in HuggingFace order.</summary>
    public IReadOnlyList<ParameterInfo> Parameters { get; }

    /// <summary>Arena size in floats, alignment padding included.</summary>
    public long TotalFloats { get; }

    /// <summary>Number of trainable parameters (the tied head counted once).</summary>
    public long Count => Parameters.Sum(p => p.Count);

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    public ParameterInfo this[string name] => _byName.TryGetValue(name, out ParameterInfo? p)
        ? p
        : throw new KeyNotFoundException($"no parameter named '{name}'");

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public ParameterInfo? Find(string name) => _byName.GetValueOrDefault(name);
}
