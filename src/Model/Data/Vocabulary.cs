using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kgglm.Data;

/// <summary>What a token stands for.</summary>
public enum TokenKind : byte
{
    /// <summary>One of the seven special tokens ([MASK] … [CLS]).</summary>
    Special,

    /// <summary><c>U{user id}</c>.</summary>
    User,

    /// <summary><c>I{item id}</c>.</summary>
    Item,

    /// <summary><c>E{entity id}</c>, entity id ≥ item count.</summary>
    Entity,

    /// <summary><c>R{relation id}</c>.</summary>
    Relation,

    /// <summary>
    /// One of <c>&lt;Token-Type.S&gt;</c>, <c>&lt;Token-Type.E&gt;</c>,
    /// <c>&lt;Token-Type.R&gt;</c>.
    /// </summary>
    TokenType,
}

/// <summary>
/// hopwise's token ids: specials 0..6, then every <c>U…</c>, <c>I…</c>, <c>E…</c>, <c>R…</c>
/// token in byte-wise string order (so the E block, I, R, U; <c>I0, I1, I10, I100</c>), then
/// the three token-type tokens. A function of the four id counts only, so pretraining and
/// fine-tuning on one dataset share it; <see cref="Fingerprint"/> identifies it in file headers.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>[MASK] token id.</summary>
    public const int Mask = 0;

    /// <summary>[UNK] token id.</summary>
    public const int Unk = 1;

    /// <summary>[PAD] token id.</summary>
    public const int Pad = 2;

    /// <summary>[EOS] token id.</summary>
    public const int Eos = 3;

    /// <summary>[BOS] token id.</summary>
    public const int Bos = 4;

    /// <summary>[SEP] token id.</summary>
    public const int Sep = 5;

    /// <summary>[CLS] token id.</summary>
    public const int Cls = 6;

    /// <summary>The special tokens in hopwise's config order (their ids are 0..6).</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } =
        ["[MASK]", "[UNK]", "[PAD]", "[EOS]", "[BOS]", "[SEP]", "[CLS]"];

    /// <summary>The token-type tokens, appended last in this order (S, E, R).</summary>
    public static IReadOnlyList<string> TypeTokens { get; } =
        ["<Token-Type.S>", "<Token-Type.E>", "<Token-Type.R>"];

    readonly string[] _tokens;        // [Count] token strings by id
    readonly TokenKind[] _kind;       // [Count]
    readonly int[] _internalId;       // [Count] user/item/entity/relation id, -1 otherwise
    readonly int[] _userToken;        // [UserCount]
    readonly int[] _entityToken;      // [EntityCount]; ids < ItemCount are the I tokens
    readonly int[] _relationToken;    // [RelationCount]
    readonly Dictionary<string, int> _ids;

    Vocabulary(int userCount, int itemCount, int entityCount, int relationCount)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        EntityCount = entityCount;
        RelationCount = relationCount;
        int nodeTokens = userCount + entityCount + relationCount;
        int count = SpecialTokens.Count + nodeTokens + TypeTokens.Count;

        // Every entity-kind token with its (kind, id), then the byte-wise sort hopwise's
        // WordLevelTrainer applies (all counts equal, so ties break by the word).
        var words = new string[nodeTokens];
        var kinds = new TokenKind[nodeTokens];
        var ids = new int[nodeTokens];
        int n = 0;
        void AddBlock(char prefix, TokenKind kind, int from, int to)
        {
            for (int id = from; id < to; id++)
            {
                words[n] = prefix + id.ToString(CultureInfo.InvariantCulture);
                kinds[n] = kind;
                ids[n++] = id;
            }
        }
        AddBlock('U', TokenKind.User, 0, userCount);
        AddBlock('I', TokenKind.Item, 0, itemCount);
        AddBlock('E', TokenKind.Entity, itemCount, entityCount);
        AddBlock('R', TokenKind.Relation, 0, relationCount);
        var order = new int[nodeTokens];
        for (int k = 0; k < nodeTokens; k++)
        {
            order[k] = k;
        }
        Array.Sort((string[])words.Clone(), order, StringComparer.Ordinal);

        _tokens = new string[count];
        _kind = new TokenKind[count];
        _internalId = new int[count];
        _userToken = new int[userCount];
        _entityToken = new int[entityCount];
        _relationToken = new int[relationCount];
        int t = 0;
        foreach (var special in SpecialTokens)
        {
            _tokens[t] = special;
            _kind[t] = TokenKind.Special;
            _internalId[t++] = -1;
        }
        foreach (int k in order)
        {
            _tokens[t] = words[k];
            _kind[t] = kinds[k];
            _internalId[t] = ids[k];
            switch (kinds[k])
            {
                case TokenKind.User: _userToken[ids[k]] = t; break;
                case TokenKind.Relation: _relationToken[ids[k]] = t; break;
                default: _entityToken[ids[k]] = t; break;
            }
            t++;
        }
        foreach (var type in TypeTokens)
        {
            _tokens[t] = type;
            _kind[t] = TokenKind.TokenType;
            _internalId[t++] = -1;
        }

        _ids = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (int k = 0; k < count; k++)
        {
            _ids.Add(_tokens[k], k);
        }
        Fingerprint = ComputeFingerprint(_tokens);
    }

    /// <summary>
    /// Builds the vocabulary of a dataset from its id counts (all including [PAD]).
    /// </summary>
    public static Vocabulary Build(int userCount, int itemCount, int entityCount, int relationCount)
    {
        if (userCount < 1 || itemCount < 1 || entityCount < itemCount || relationCount < 1)
        {
            throw new ArgumentException("expected counts incl. [PAD] with entities >= items, found "
                + $"users {userCount}, items {itemCount}, entities {entityCount}, "
                + $"relations {relationCount}");
        }
        return new Vocabulary(userCount, itemCount, entityCount, relationCount);
    }

    /// <summary>Number of tokens (35,609 on ml-100k).</summary>
    public int Count => _tokens.Length;

    /// <summary>User ids incl. [PAD]; also the offset of item nodes in the graph.</summary>
    public int UserCount { get; }

    /// <summary>Item ids incl. [PAD].</summary>
    public int ItemCount { get; }

    /// <summary>Entity ids incl. [PAD] and the items.</summary>
    public int EntityCount { get; }

    /// <summary>Relation ids incl. [PAD] and the UI relation.</summary>
    public int RelationCount { get; }

    /// <summary>Token id of <c>&lt;Token-Type.S&gt;</c>; E and R follow.</summary>
    public int TypeS => Count - 3;

    /// <summary>Token id of <c>&lt;Token-Type.E&gt;</c>.</summary>
    public int TypeE => Count - 2;

    /// <summary>Token id of <c>&lt;Token-Type.R&gt;</c>.</summary>
    public int TypeR => Count - 1;

    /// <summary>
    /// FNV-1a 64 over the UTF-8 token strings in id order, each followed by '\n': equal
    /// fingerprints mean equal vocabularies.
    /// </summary>
    public ulong Fingerprint { get; }

    /// <summary>All token strings, by id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The string of token <paramref name="token"/>.</summary>
    public string this[int token] => _tokens[token];

    /// <summary>What token <paramref name="token"/> stands for.</summary>
    public TokenKind Kind(int token) => _kind[token];

    /// <summary>
    /// The user/item/entity/relation id of a token, -1 for specials and type tokens.
    /// </summary>
    public int InternalId(int token) => _internalId[token];

    /// <summary>Token of user <paramref name="user"/>.</summary>
    public int UserToken(int user) => _userToken[user];

    /// <summary>Token of item <paramref name="item"/>.</summary>
    public int ItemToken(int item) => _entityToken[item];

    /// <summary>
    /// Token of entity <paramref name="entity"/>; an <c>I</c> token when it is an item.
    /// </summary>
    public int EntityToken(int entity) => _entityToken[entity];

    /// <summary>Token of relation <paramref name="relation"/>.</summary>
    public int RelationToken(int relation) => _relationToken[relation];

    /// <summary>
    /// Token of graph node <paramref name="node"/> (see <see cref="KnowledgeGraph"/>).
    /// </summary>
    public int NodeToken(int node) =>
        node < UserCount ? _userToken[node] : _entityToken[node - UserCount];

    /// <summary>Graph node of a U, I or E token; -1 for any other token.</summary>
    public int TokenNode(int token) => _kind[token] switch
    {
        TokenKind.User => _internalId[token],
        TokenKind.Item or TokenKind.Entity => UserCount + _internalId[token],
        _ => -1,
    };

    /// <summary>The id of a token string, false when it is not in the vocabulary.</summary>
    public bool TryGetId(ReadOnlySpan<char> token, out int id) =>
        _ids.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(token, out id);

    /// <summary>
    /// The id of a token string, <see cref="Unk"/> when unknown (as WordLevel does).
    /// </summary>
    public int GetIdOrUnk(ReadOnlySpan<char> token) => TryGetId(token, out int id) ? id : Unk;

    /// <summary>
    /// Writes a HuggingFace <c>tokenizer.json</c>: WordLevel model over the specials and entity
    /// tokens (unk <c>[UNK]</c>), Split on " " removed, <c>[BOS] $A [EOS]</c> template, the
    /// specials as special added tokens and the type tokens as plain added tokens (hopwise adds
    /// them with <c>add_tokens</c>).
    /// </summary>
    public void WriteTokenizerJson(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");
        json.WriteStartArray("added_tokens");
        for (int k = 0; k < SpecialTokens.Count; k++)
        {
            WriteAddedToken(json, k, special: true);
        }
        for (int k = TypeS; k < Count; k++)
        {
            WriteAddedToken(json, k, special: false);
        }
        json.WriteEndArray();
        json.WriteNull("normalizer");

        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "Split");
        json.WriteStartObject("pattern");
        json.WriteString("String", " ");
        json.WriteEndObject();
        json.WriteString("behavior", "Removed");
        json.WriteBoolean("invert", false);
        json.WriteEndObject();

        json.WriteStartObject("post_processor");
        json.WriteString("type", "TemplateProcessing");
        json.WriteStartArray("single");
        WritePiece(json, "SpecialToken", "[BOS]", 0);
        WritePiece(json, "Sequence", "A", 0);
        WritePiece(json, "SpecialToken", "[EOS]", 0);
        json.WriteEndArray();
        json.WriteStartArray("pair");
        WritePiece(json, "SpecialToken", "[BOS]", 0);
        WritePiece(json, "Sequence", "A", 0);
        WritePiece(json, "SpecialToken", "[EOS]", 0);
        WritePiece(json, "Sequence", "B", 1);
        WritePiece(json, "SpecialToken", "[EOS]", 1);
        json.WriteEndArray();
        json.WriteStartObject("special_tokens");
        foreach (int id in (int[])[Bos, Eos])
        {
            json.WriteStartObject(_tokens[id]);
            json.WriteString("id", _tokens[id]);
            json.WriteStartArray("ids");
            json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteStartArray("tokens");
            json.WriteStringValue(_tokens[id]);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteNull("decoder");
        json.WriteStartObject("model");
        json.WriteString("type", "WordLevel");
        json.WriteStartObject("vocab");
        for (int k = 0; k < TypeS; k++)
        {
            json.WriteNumber(_tokens[k], k);
        }
        json.WriteEndObject();
        json.WriteString("unk_token", "[UNK]");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Writes <c>tokenizer.json</c> to <paramref name="path"/>.</summary>
    public void WriteTokenizerJson(string path)
    {
        using var stream = File.Create(path);
        WriteTokenizerJson(stream);
    }

    /// <summary>
    /// Reads the token strings (by id) of a <c>tokenizer.json</c>: the WordLevel vocab plus the
    /// added tokens. Throws <see cref="DataFormatException"/> when ids are not 0..n-1.
    /// </summary>
    public static string[] ReadTokenizerJson(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var byId = new SortedDictionary<int, string>();
        var root = document.RootElement;
        if (!root.TryGetProperty("model", out var model)
            || !model.TryGetProperty("vocab", out var vocab))
        {
            throw new DataFormatException(path, 0, "expected a 'model.vocab' object, found none");
        }
        foreach (var entry in vocab.EnumerateObject())
        {
            byId[entry.Value.GetInt32()] = entry.Name;
        }
        if (root.TryGetProperty("added_tokens", out var added))
        {
            foreach (var token in added.EnumerateArray())
            {
                int id = token.GetProperty("id").GetInt32();
                byId[id] = token.GetProperty("content").GetString()!;
            }
        }
        var tokens = new string[byId.Count];
        int expected = 0;
        foreach (var (id, token) in byId)
        {
            if (id != expected)
            {
                throw new DataFormatException(path, 0,
                    $"expected token ids 0..{byId.Count - 1} without gaps, "
                    + $"found a gap at {expected}");
            }
            tokens[expected++] = token;
        }
        return tokens;
    }

    /// <summary>The fingerprint a list of token strings would have.</summary>
    public static ulong ComputeFingerprint(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ulong hash = 14695981039346656037UL;
        Span<byte> buffer = stackalloc byte[256];
        foreach (var token in tokens)
        {
            var bytes = Encoding.UTF8.GetByteCount(token) <= buffer.Length
                ? buffer[..Encoding.UTF8.GetBytes(token, buffer)]
                : Encoding.UTF8.GetBytes(token);
            foreach (byte b in bytes)
            {
                hash = (hash ^ b) * 1099511628211UL;
            }
            hash = (hash ^ (byte)'\n') * 1099511628211UL;
        }
        return hash;
    }

    void WriteAddedToken(Utf8JsonWriter json, int id, bool special)
    {
        json.WriteStartObject();
        json.WriteNumber("id", id);
        json.WriteString("content", _tokens[id]);
        json.WriteBoolean("single_word", false);
        json.WriteBoolean("lstrip", false);
        json.WriteBoolean("rstrip", false);
        json.WriteBoolean("normalized", !special);
        json.WriteBoolean("special", special);
        json.WriteEndObject();
    }

    static void WritePiece(Utf8JsonWriter json, string kind, string id, int typeId)
    {
        json.WriteStartObject();
        json.WriteStartObject(kind);
        json.WriteString("id", id);
        json.WriteNumber("type_id", typeId);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
