using System.Globalization;
using System.Text;
using System.Text.Json;
using Kgglm.Data;

namespace Kgglm.Decoding;

/// <summary>
/// Paths as people and programs read them: a one-line walk with titles and relation names, and
/// hopwise's (relation, type, id) steps as JSON lines with raw dataset ids.
/// </summary>
public static class Explanations
{
    /// <summary>How the user–item relation is printed in the readable form.</summary>
    public const string WatchedName = "watched";

    /// <summary>
    /// <c>U196 --watched--> Kolya (1996) --film.film.genre--> m.02l7c8 --...--> Jerry Maguire
    /// (1996)</c>: items by title when .item has one, else by raw id; entities by raw id.
    /// </summary>
    public static string Readable(Dataset data, DecodedPath path)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < path.Nodes.Length; i++)
        {
            if (i > 0)
            {
                int r = path.Relations[i - 1];
                sb.Append(" --").Append(r == data.UiRelation ? WatchedName : data.Relations[r])
                    .Append("--> ");
            }

            int node = path.Nodes[i];
            int id = data.Graph.InternalId(node);
            sb.Append(data.Graph.Kind(node) switch
            {
                NodeKind.User => "U" + data.Users[id],
                NodeKind.Item => data.ItemTitle(id) ?? data.Items[id],
                _ => data.Entities[id],
            });
        }

        return sb.ToString();
    }

    /// <summary>
    /// One JSON line (no newline): <c>{"user": "196", "rank": 1, "item": "1", "score": 0.4187,
    /// "path": [["self_loop", "user", "196"], ["[UI-Relation]", "item", "242"], ...]}</c>, the
    /// score rounded to 4 decimals.
    /// </summary>
    public static string JsonLine(Dataset data, int user, RecommendedItem item)
    {
        static string S(string s) => JsonSerializer.Serialize(s);
        var sb = new StringBuilder();
        sb.Append("{\"user\": ").Append(S(data.Users[user]))
            .Append(", \"rank\": ").Append(item.Rank.ToString(CultureInfo.InvariantCulture))
            .Append(", \"item\": ").Append(S(data.Items[item.Item]))
            .Append(", \"score\": ")
            .Append(Math.Round(item.Score, 4).ToString("0.0###", CultureInfo.InvariantCulture))
            .Append(", \"path\": [");
        DecodedPath p = item.Path;
        for (int i = 0; i < p.Nodes.Length; i++)
        {
            int node = p.Nodes[i], id = data.Graph.InternalId(node);
            (string type, string raw) = data.Graph.Kind(node) switch
            {
                NodeKind.User => ("user", data.Users[id]),
                NodeKind.Item => ("item", data.Items[id]),
                _ => ("entity", data.Entities[id]),
            };
            string relation = i == 0 ? "self_loop" : data.Relations[p.Relations[i - 1]];
            sb.Append(i == 0 ? "[" : ", [").Append(S(relation)).Append(", ").Append(S(type))
                .Append(", ").Append(S(raw)).Append(']');
        }

        return sb.Append("]}").ToString();
    }
}
