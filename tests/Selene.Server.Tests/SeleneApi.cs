using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Selene.Server.Tests;

/// <summary>One HTTP answer, read completely.</summary>
public sealed class Reply(HttpStatusCode status, string? mediaType, byte[] body, bool replayed)
{
    public HttpStatusCode Status { get; } = status;
    public string? MediaType { get; } = mediaType;
    public bool Replayed { get; } = replayed;
    public ReadOnlyMemory<byte> Bytes { get; } = body;
    public string Text => Encoding.UTF8.GetString(Bytes.Span);
    public JsonNode Json => JsonNode.Parse(Bytes.Span) ?? throw new InvalidOperationException("the body is JSON null");
    public string? ReasonCode => Json["reason_code"]?.GetValue<string>();

    /// <summary>The capreq row of a simulation result or a GET.</summary>
    public JsonNode Capreq => Json["capreq"] ?? throw new InvalidOperationException($"no capreq in {Text}");

    public override string ToString() => $"{(int)Status} {MediaType} {Text}";
}

/// <summary>Selene's HTTP surface as the tests use it.</summary>
public sealed class SeleneApi(Uri baseAddress) : IDisposable
{
    public const string Json = "application/json";
    public const string ProblemJson = "application/problem+json";

    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static string NewIdempotencyKey() => "e2e-" + Guid.NewGuid().ToString("N");

    /// <summary>POST /v1/simulations/{simulation} with a fresh Idempotency-Key unless one is given.</summary>
    public Task<Reply> SimulateAsync(string apiKey, string simulation, JsonObject body, string? idempotencyKey = null) =>
        SimulateRawAsync(apiKey, simulation, body.ToJsonString(), idempotencyKey ?? NewIdempotencyKey());

    public Task<Reply> SimulateRawAsync(string apiKey, string simulation, string body, string idempotencyKey)
    {
        var request = SimulationRequest(apiKey, simulation, Encoding.UTF8.GetBytes(body), Json);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return SendAsync(request);
    }

    /// <summary>A simulation request with the given body and content type (null: no Content-Type header).</summary>
    public static HttpRequestMessage SimulationRequest(string? apiKey, string simulation, byte[] body, string? contentType)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/v1/simulations/{simulation}", UriKind.Relative))
        {
            Content = new ByteArrayContent(body),
        };
        if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return request;
    }

    /// <summary>A fresh correlation id (decimal, never 0).</summary>
    public static string NewCorrelation() => ((UInt128)BitConverter.ToUInt64(Guid.NewGuid().ToByteArray(), 0) + 1).ToString();

    /// <summary>
    /// A TEXT turn asking for DISPATCH_SIMULATION with every posture flag true but the confirmation pair given, under a
    /// fresh correlation; <paramref name="key"/> null sends no idempotency key.
    /// </summary>
    public static JsonObject TextTurn(string simulation, JsonNode? inputs, string? key, bool requiresConfirmation = true, bool confirmationReceived = true,
        string? correlation = null) => new()
    {
        ["correlation_id"] = correlation ?? NewCorrelation(),
        ["turn_id"] = 1,
        ["path"] = "TEXT",
        ["always_on_sequence"] = new JsonArray("PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"),
        ["posture"] = new JsonObject
        {
            ["session_active"] = true, ["transcript_ok"] = true, ["nlp_confidence_high"] = true,
            ["requires_confirmation"] = requiresConfirmation, ["confirmation_received"] = confirmationReceived, ["prompt_policy_gate_ok"] = true,
        },
        ["requested_moves"] = new JsonArray("DISPATCH_SIMULATION"),
        ["simulation"] = key is null
            ? new JsonObject { ["simulation_id"] = simulation, ["inputs"] = inputs }
            : new JsonObject { ["simulation_id"] = simulation, ["inputs"] = inputs, ["idempotency_key"] = key },
    };

    /// <summary>POST /v1/turns with a raw body (null key: unauthenticated).</summary>
    public Task<Reply> PostTurnAsync(string? apiKey, string body, string contentType = Json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/turns", UriKind.Relative)) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return SendAsync(request);
    }

    public Task<Reply> GetAsync(string? apiKey, string pathAndQuery)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pathAndQuery, UriKind.Relative));
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return SendAsync(request);
    }

    public async Task<Reply> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true");
            return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, replayed);
        }
    }

    /// <summary>GET /v1/capreqs/{id}.</summary>
    public Task<Reply> GetCapreqAsync(string apiKey, string capreqId) => GetAsync(apiKey, $"/v1/capreqs/{capreqId}");

    /// <summary>
    /// All capreqs the key's tenant can see, every page followed (a single page stops at 500 rows, and a list cut
    /// there depends on how many rows earlier tests left behind).
    /// </summary>
    public async Task<JsonArray> ListAsync(string apiKey, string? status = null)
    {
        var all = new JsonArray();
        string? after = null;
        do
        {
            var query = "/v1/capreqs?limit=500" + (status is null ? "" : $"&status={status}") + (after is null ? "" : $"&after={after}");
            var reply = await GetAsync(apiKey, query);
            Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
            Assert.Equal("QUERY_OK", reply.ReasonCode);
            foreach (var row in reply.Json["capreqs"]!.AsArray()) all.Add(row!.DeepClone());
            after = reply.Json["next_after"]?.GetValue<string>();
        }
        while (after is not null);
        return all;
    }

    /// <summary>GET /v1/journal?correlation_id=… : the entries, in chain order.</summary>
    public async Task<JsonArray> JournalAsync(string apiKey, string correlationId)
    {
        var reply = await GetAsync(apiKey, $"/v1/journal?correlation_id={correlationId}");
        Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
        Assert.Equal("QUERY_OK", reply.ReasonCode);
        return reply.Json["entries"]!.AsArray();
    }

    /// <summary>The engines' entries of a correlation: the journal without the gates' TURN_DECISION and ACCESS_DECISION entries.</summary>
    public async Task<JsonArray> TransitionsAsync(string apiKey, string correlationId) =>
        new((await JournalAsync(apiKey, correlationId)).Where(e => e!["event_type"]!.GetValue<string>() is not ("ACCESS_DECISION" or "TURN_DECISION"))
            .Select(e => e!.DeepClone()).ToArray());

    public void Dispose() => _http.Dispose();
}
