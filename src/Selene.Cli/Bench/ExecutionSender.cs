using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Selene.Cli.Bench;

/// <summary>Which door the load goes through.</summary>
public enum BenchEndpoint
{
    /// <summary>POST /v1/turns, falling back to /v1/simulations when the server has no /v1/turns route (404 ROUTE_NOT_FOUND).</summary>
    Auto,
    /// <summary>POST /v1/turns (docs/turns.md): a TEXT turn that requests DISPATCH_SIMULATION.</summary>
    Turns,
    /// <summary>POST /v1/simulations/{simulation_id} with an Idempotency-Key header.</summary>
    Simulations,
}

/// <summary>How one request ended: an execution, or an error named by status and reason code.</summary>
/// <param name="Error">null for an execution; else e.g. <c>409 CAPREQ_TRANSITION_INVALID</c>.</param>
public readonly record struct SendOutcome(string? Error)
{
    public bool Executed => Error is null;
    public static SendOutcome Success { get; } = new(null);
}

/// <summary>
/// Sends one request that creates something new: CAPREQ_CREATE_DRAFT with a unique idempotency key and a unique
/// <c>target_scope_ref</c> (the draft's id derives from its content), through <see cref="BenchEndpoint.Turns"/> or
/// <see cref="BenchEndpoint.Simulations"/>. Thread-safe: every call builds its own body.
/// </summary>
public abstract class ExecutionSender(HttpClient http, string runId)
{
    /// <summary>The simulation every request runs.</summary>
    public const string SimulationId = "CAPREQ_CREATE_DRAFT";

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    public abstract BenchEndpoint Endpoint { get; }

    /// <summary>The path measured, for the report.</summary>
    public abstract string Path { get; }

    public static ExecutionSender Create(BenchEndpoint endpoint, HttpClient http, string runId) => endpoint switch
    {
        BenchEndpoint.Turns => new TurnsSender(http, runId),
        BenchEndpoint.Simulations => new SimulationsSender(http, runId),
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, "choose Turns or Simulations"),
    };

    /// <summary>Runs request number <paramref name="sequence"/> of <paramref name="client"/> with <paramref name="apiKey"/>.</summary>
    public async Task<SendOutcome> SendAsync(string apiKey, int client, long sequence, CancellationToken ct)
    {
        var idempotencyKey = string.Create(CultureInfo.InvariantCulture, $"bench-{runId}-{client}-{sequence}");
        var buffer = new MemoryStream(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteBody(writer, idempotencyKey, client, sequence, w =>
            {
                w.WriteStartObject();
                w.WriteString("requested_capability_id", "cap.bench.write");
                w.WriteString("target_scope_ref", string.Create(CultureInfo.InvariantCulture, $"bench/{runId}/{client}/{sequence}"));
                w.WriteString("justification", "selene bench turns");
                w.WriteEndObject();
            });
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Path, UriKind.Relative))
        {
            Content = new ByteArrayContent(buffer.GetBuffer(), 0, (int)buffer.Length),
            Version = HttpVersion.Version11,
        };
        request.Content.Headers.ContentType = JsonMediaType;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        AddHeaders(request, idempotencyKey);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        return Classify(response, body);
    }

    /// <summary>Writes the request body; <paramref name="writeInputs"/> writes the simulation's inputs object.</summary>
    protected abstract void WriteBody(Utf8JsonWriter writer, string idempotencyKey, int client, long sequence, Action<Utf8JsonWriter> writeInputs);

    protected virtual void AddHeaders(HttpRequestMessage request, string idempotencyKey)
    {
    }

    protected abstract SendOutcome Classify(HttpResponseMessage response, byte[] body);

    /// <summary>"status reason_code" of an answer that is not an execution (reason_code from a problem or JSON body, when there is one).</summary>
    protected static string ErrorOf(HttpStatusCode status, byte[] body, string? detail = null)
    {
        var reason = ReadString(body, "reason_code") ?? "(no reason_code)";
        return string.Create(CultureInfo.InvariantCulture, $"{(int)status} {reason}{(detail is null ? "" : " " + detail)}");
    }

    /// <summary>A top-level string member of a JSON object body, or null.</summary>
    internal static string? ReadString(byte[] body, string name)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>True when the server has no such route at all (as opposed to a routed 404 such as CAPREQ_NOT_FOUND).</summary>
    public static bool IsRouteNotFound(string? error) => error == "404 " + ReasonCodes.RouteNotFound.Name;
}

/// <summary>POST /v1/turns (docs/turns.md): TEXT path, the full ALWAYS_ON sequence, every posture flag true, DISPATCH_SIMULATION.</summary>
public sealed class TurnsSender(HttpClient http, string runId) : ExecutionSender(http, runId)
{
    private readonly string _correlationPrefix = CorrelationPrefix(runId);

    public override BenchEndpoint Endpoint => BenchEndpoint.Turns;
    public override string Path => "/v1/turns";

    protected override void WriteBody(Utf8JsonWriter w, string idempotencyKey, int client, long sequence, Action<Utf8JsonWriter> writeInputs)
    {
        w.WriteStartObject();
        // One end-to-end job per request: a correlation id unique to (run, client, sequence), decimal, < 2^128.
        w.WriteString("correlation_id", string.Create(CultureInfo.InvariantCulture, $"{_correlationPrefix}{client:D5}{sequence:D12}"));
        w.WriteNumber("turn_id", 1);
        w.WriteString("path", "TEXT");
        w.WriteStartArray("always_on_sequence");
        foreach (var engine in (ReadOnlySpan<string>)["PH1.NLP", "PH1.CONTEXT", "PH1.POLICY", "PH1.X"]) w.WriteStringValue(engine);
        w.WriteEndArray();
        w.WriteStartObject("posture");
        foreach (var flag in (ReadOnlySpan<string>)["session_active", "transcript_ok", "nlp_confidence_high", "requires_confirmation", "confirmation_received", "prompt_policy_gate_ok"])
            w.WriteBoolean(flag, true);
        w.WriteEndObject();
        w.WriteStartArray("requested_moves");
        w.WriteStringValue("DISPATCH_SIMULATION");
        w.WriteEndArray();
        w.WriteStartObject("simulation");
        w.WriteString("simulation_id", SimulationId);
        w.WriteString("idempotency_key", idempotencyKey);
        w.WritePropertyName("inputs");
        writeInputs(w);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>A turn counts only when it was decided DISPATCH_SIMULATION and the execution says EXECUTED.</summary>
    protected override SendOutcome Classify(HttpResponseMessage response, byte[] body)
    {
        if (!response.IsSuccessStatusCode) return new SendOutcome(ErrorOf(response.StatusCode, body));
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var move = root.TryGetProperty("move", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            if (root.TryGetProperty("execution", out var execution) && execution.ValueKind == JsonValueKind.Object &&
                execution.TryGetProperty("outcome", out var outcome) && outcome.ValueKind == JsonValueKind.String)
            {
                if (outcome.ValueEquals("EXECUTED"u8)) return SendOutcome.Success;
                var reason = execution.TryGetProperty("reason_code", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                return new SendOutcome(string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {reason ?? "(no reason_code)"} execution {outcome.GetString()}"));
            }
            return new SendOutcome(ErrorOf(response.StatusCode, body, $"move {move ?? "(none)"} without execution"));
        }
        catch (JsonException)
        {
            return new SendOutcome(string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} (body is not JSON)"));
        }
    }

    /// <summary>Up to 9 decimal digits from the run id, never starting with 0.</summary>
    private static string CorrelationPrefix(string runId)
    {
        var hash = (uint)runId.Aggregate(17, (h, c) => unchecked((h * 31) + c));
        return (1 + (hash % 899_999_999)).ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>POST /v1/simulations/{simulation_id}: the inputs as the body, the key in the Idempotency-Key header.</summary>
public sealed class SimulationsSender(HttpClient http, string runId) : ExecutionSender(http, runId)
{
    public override BenchEndpoint Endpoint => BenchEndpoint.Simulations;
    public override string Path => "/v1/simulations/" + SimulationId;

    protected override void WriteBody(Utf8JsonWriter writer, string idempotencyKey, int client, long sequence, Action<Utf8JsonWriter> writeInputs) =>
        writeInputs(writer);

    protected override void AddHeaders(HttpRequestMessage request, string idempotencyKey) =>
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);

    /// <summary>A 2xx counts, unless it is a replay (every key is fresh, so a replay would be a bug worth seeing).</summary>
    protected override SendOutcome Classify(HttpResponseMessage response, byte[] body)
    {
        if (!response.IsSuccessStatusCode) return new SendOutcome(ErrorOf(response.StatusCode, body));
        if (response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Contains("true"))
            return new SendOutcome(ErrorOf(response.StatusCode, body, "Idempotent-Replayed"));
        return SendOutcome.Success;
    }
}
