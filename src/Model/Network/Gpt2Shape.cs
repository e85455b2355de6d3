namespace Kgglm.Network;

/// <summary>
/// The size of a GPT-2 network (the distilgpt2 shape with KG token types).
/// </summary>
/// <param name="VocabSize">V: tokens, the three type tokens included (35,609 on ml-100k).</param>
/// <param name="Positions">maxT: learned positions = context length (9).</param>
/// <param name="Channels">C: width (768).</param>
/// <param name="Heads">NH: attention heads (12); divides C.</param>
/// <param name="Layers">L: transformer blocks (6).</param>
/// <param name="TypeTokens">Vocabulary ids of the S, E, R type tokens, or null without
/// types.</param>
/// <param name="Dropout">Embedding, attention and residual dropout during training (0.1).</param>
public sealed record Gpt2Shape(
    int VocabSize, int Positions, int Channels, int Heads, int Layers,
    TypeTokenIds? TypeTokens, float Dropout)
{
    /// <summary>HS: channels per head.</summary>
    public int HeadSize => Channels / Heads;

    /// <summary>Checks the shape can be built.</summary>
    public void Validate()
    {
        if (VocabSize < 1 || Positions < 1 || Channels < 1 || Heads < 1 || Layers < 1)
        {
            throw new ArgumentException($"invalid network shape {this}");
        }

        if (Channels % Heads != 0)
        {
            throw new ArgumentException($"width {Channels} is not divisible by {Heads} heads");
        }

        if (Positions > 64)
        {
            throw new ArgumentException(
                $"context of {Positions} tokens exceeds the attention kernel's 64");
        }
    }
}

/// <summary>
/// Vocabulary ids of the three token-type tokens (<c>&lt;Token-Type.S/E/R&gt;</c>).
/// </summary>
/// <param name="S">Special positions: the first and the last.</param>
/// <param name="E">Entity positions (odd): users, items, entities.</param>
/// <param name="R">Relation positions (even, not first or last).</param>
public sealed record TypeTokenIds(int S, int E, int R)
{
    /// <summary>
    /// The type token at absolute position <paramref name="p"/> of a context of
    /// <paramref name="contextLength"/> tokens: S at 0 and at the last position, E at odd
    /// positions, R at even ones. Training and generation use the same rule.
    /// </summary>
    public int At(int p, int contextLength) =>
        p == 0 || p == contextLength - 1 ? S : (p % 2 == 1 ? E : R);
}
