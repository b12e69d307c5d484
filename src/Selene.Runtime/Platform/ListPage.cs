using System.Globalization;
using System.Text.Json.Nodes;

namespace Selene.Runtime.Platform;

/// <summary>
/// The keyset paging every list route reads — <c>status</c> (one wire name of the engine's status enum), <c>after</c>
/// (the last id of the previous page) and <c>limit</c> (1..500, default 100) — and the page body it answers:
/// <c>{&lt;items&gt;: [...], next_after}</c>, with <c>next_after</c> only when the page is full. One parser, so every
/// route refuses a bad value the same way (QUERY_PARAMETER_INVALID). A route may read more parameters of its own.
/// </summary>
public sealed record ListPage(string? Status, string? After, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    /// <summary>The query parameters this reads (a route declares them in <see cref="ReadRoute.QueryParameters"/>).</summary>
    public static IReadOnlyList<string> Parameters { get; } = ["status", "after", "limit"];

    /// <summary>Reads the paging of <paramref name="request"/>; the refusal of the first bad value, or null with <paramref name="page"/> set.</summary>
    /// <param name="isId">Whether a text is an id of the listed kind (<c>after</c> must be one).</param>
    /// <param name="idName">What the ids are, for the refusal's text (e.g. "a broadcast id").</param>
    public static ReadResult.Refused? Read<TStatus>(ReadRequest request, Func<string, bool> isId, string idName, out ListPage page)
        where TStatus : struct, Enum
    {
        page = new ListPage(null, null, DefaultLimit);
        var query = request.QueryValues;
        var status = query.GetValueOrDefault("status");
        if (status is not null && !WireNames.TryParse<TStatus>(status, out _))
        {
            var names = Enum.GetValues<TStatus>().Select(WireNames.Of).ToArray();
            return Refuse($"status must be {string.Join(", ", names[..^1])} or {names[^1]}");
        }
        var after = query.GetValueOrDefault("after");
        if (after is not null && !isId(after)) return Refuse($"after must be {idName}");
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var text) && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            return Refuse($"limit must be 1..{MaxLimit}");
        page = new ListPage(status, after, limit);
        return null;
    }

    /// <summary>The page's body: the items under <paramref name="name"/>, and <c>next_after</c> (the last id) when the page is full.</summary>
    public JsonObject Body<T>(string name, IReadOnlyList<T> rows, Func<T, JsonNode> view, Func<T, string> idOf)
    {
        var body = new JsonObject { [name] = new JsonArray(rows.Select(view).ToArray()) };
        if (rows.Count == Limit) body["next_after"] = idOf(rows[^1]);
        return body;
    }

    private static ReadResult.Refused Refuse(string detail) => new(ReasonCodes.QueryParameterInvalid, detail);
}
