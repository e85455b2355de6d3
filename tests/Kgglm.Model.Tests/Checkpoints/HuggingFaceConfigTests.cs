using System.Text.Json;
using System.Text.Json.Nodes;
using Kgglm.Checkpoints;

namespace Kgglm.Tests.Checkpoints;

public class HuggingFaceConfigTests
{
    static readonly HuggingFaceConfig Default = new()
    {
        VocabSize = 35609,
        NPositions = 9,
        NEmbd = 768,
        NLayer = 6,
        NHead = 12,
    };

    [Fact]
    public void WritesGpt2ConfigKeysAndRoundTrips()
    {
        using var folder = new TempFolder();
        string path = folder.File("config.json");
        Default.Write(path);

        JsonNode json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal("GPT2LMHeadModel", (string)json["architectures"]![0]!);
        Assert.Equal("gpt2", (string)json["model_type"]!);
        Assert.Equal(9, (int)json["n_ctx"]!);
        Assert.Null(json["n_inner"]);
        Assert.True(json.AsObject().ContainsKey("n_inner"));
        Assert.Equal(1e-5, (double)json["layer_norm_epsilon"]!);
        Assert.Equal(4, (int)json["bos_token_id"]!);
        Assert.Equal(3, (int)json["eos_token_id"]!);
        Assert.Equal(2, (int)json["pad_token_id"]!);
        Assert.True((bool)json["tie_word_embeddings"]!);
        Assert.Equal("gelu_new", (string)json["activation_function"]!);

        HuggingFaceConfig read = HuggingFaceConfig.Read(path);
        Assert.Equal(Default with { NCtx = 9 }, read with { TransformersVersion = "4.46.3" });
    }

    [Theory]
    [InlineData("vocab_size", null, "missing key \"vocab_size\"")]
    [InlineData("n_head", "\"12\"", "key \"n_head\" is \"12\", expected an integer")]
    [InlineData("n_embd", "76.8", "key \"n_embd\" is 76.8, expected an integer")]
    [InlineData("n_layer", "0", "key \"n_layer\" is 0, expected at least 1")]
    [InlineData("n_head", "7", "is not a multiple of \"n_head\"")]
    [InlineData("model_type", "\"bert\"", "expected \"gpt2\"")]
    [InlineData("tie_word_embeddings", "1", "expected true or false")]
    [InlineData("attn_pdrop", "1.5", "key \"attn_pdrop\" is 1.5, expected in [0, 1)")]
    [InlineData("layer_norm_epsilon", "\"x\"", "expected a number")]
    [InlineData("n_inner", "\"big\"", "expected an integer or null")]
    public void RefusesMissingOrIllTypedKeys(string key, string? value, string expected)
    {
        JsonObject json = JsonNode.Parse(Default.ToJson())!.AsObject();
        if (value is null)
            json.Remove(key);
        else
            json[key] = JsonNode.Parse(value);
        var e = Assert.Throws<CheckpointFormatException>(
            () => HuggingFaceConfig.Parse(json.ToJsonString(), "run/config.json"));
        Assert.StartsWith("run/config.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ReadsHuggingFaceDefaultsWhenOptionalKeysAreAbsent()
    {
        string minimal = "{\"model_type\": \"gpt2\", \"vocab_size\": 10, \"n_positions\": 9, "
            + "\"n_embd\": 8, \"n_layer\": 1, \"n_head\": 2}";
        HuggingFaceConfig config = HuggingFaceConfig.Parse(minimal, "c.json");
        Assert.Equal(9, config.NCtx);
        Assert.Equal(50256, config.BosTokenId);
        Assert.Equal(0.1, config.AttnPdrop);
        Assert.Throws<CheckpointFormatException>(() => HuggingFaceConfig.Parse("{", "c.json"));
        _ = JsonSerializer.Serialize(config);
    }
}
