using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Selene.Cli.Bench;

namespace Selene.Cli.Chaos;

/// <summary>One run tenant: its id, its administrator and the administrator's API key.</summary>
public sealed record ChaosTenant(string TenantId, string AdminUserId, string ApiKey);

/// <summary>
/// The load of a chaos run: one client per tenant, each walking a chain of simulations whose effects reach the outbox —
/// CAPREQ_CREATE_DRAFT, CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT, BCAST_CREATE_DRAFT, BCAST_DELIVER_COMMIT (whose send request the
/// outbox worker hands to PH1.DELIVERY, whose proof comes back to PH1.BCAST). Every request carries a fresh idempotency key
/// and is retried with the same key and body after a retryable 503, a transport error or a hang, until answered; every 2xx
/// is recorded with its exact bytes. Thread-safe: the clients and the fault injector record concurrently.
/// </summary>
public sealed partial class ChaosLoad(HttpClient http, Uri baseAddress, string runId, ChaosThresholds thresholds)
{
    /// <summary>Pause before retrying after a retryable answer or a transport error (a real client backs off too).</summary>
    public static TimeSpan RetryPause { get; } = TimeSpan.FromMilliseconds(100);

    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly List<Attempt> _attempts = [];
    private readonly List<Acknowledged> _acknowledged = [];
    private readonly List<Injection> _injections = [];
    private readonly List<StormAnswers> _storms = [];
    private long _sequence;

    /// <summary>Seconds since the load was made.</summary>
    public double Now => Stopwatch.GetElapsedTime(_start).TotalSeconds;

    public IReadOnlyList<Attempt> Attempts
    {
        get
        {
            lock (_attempts) return _attempts.ToArray();
        }
    }

    public IReadOnlyList<Acknowledged> Acknowledged
    {
        get
        {
            lock (_acknowledged) return _acknowledged.ToArray();
        }
    }

    /// <summary>Injections the load itself made (abandoned requests, storms), with their recovery.</summary>
    public IReadOnlyList<Injection> OwnInjections
    {
        get
        {
            lock (_injections) return _injections.ToArray();
        }
    }

    /// <summary>The answers of every copy of every duplicate storm.</summary>
    public IReadOnlyList<StormAnswers> Storms
    {
        get
        {
            lock (_storms) return _storms.ToArray();
        }
    }

    /// <summary>The end of the first 2xx of a request sent at or after <paramref name="since"/> (null: none yet).</summary>
    public double? FirstSuccessSince(double since)
    {
        lock (_attempts)
        {
            double? first = null;
            foreach (var a in _attempts)
                if (a.Outcome == AttemptOutcome.Success && a.SentAt >= since && (first is null || a.EndedAt < first)) first = a.EndedAt;
            return first;
        }
    }

    /// <summary>A fresh idempotency key of this run.</summary>
    public string NewKey(string what) => string.Create(CultureInfo.InvariantCulture, $"chaos-{runId}-{what}-{Interlocked.Increment(ref _sequence)}");

    /// <summary>What a client sends: the simulation, its body and its key.</summary>
    public sealed record Request(ChaosTenant Tenant, string SimulationId, byte[] Body, string IdempotencyKey);

    /// <summary>An attempt's outcome and, for an answer, its status, headers' replay flag and bytes.</summary>
    public sealed record Answer(Attempt Attempt, byte[]? Bytes, bool Replayed);

    /// <summary>Every copy's answer of one duplicate storm.</summary>
    public sealed record StormAnswers(Request Request, IReadOnlyList<Answer> Copies);

    /// <summary>
    /// Sends <paramref name="request"/> once and records the attempt. <paramref name="abandonAfter"/> closes the connection
    /// after that long if no answer came (client-disconnects); a request unanswered for the hang threshold is a hang.
    /// </summary>
    public async Task<Answer> SendOnceAsync(Request request, TimeSpan? abandonAfter = null)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, "/v1/simulations/" + request.SimulationId))
        {
            Content = new ByteArrayContent(request.Body),
            Version = HttpVersion.Version11,
        };
        message.Content.Headers.ContentType = JsonType;
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", request.Tenant.ApiKey);
        message.Headers.TryAddWithoutValidation("Idempotency-Key", request.IdempotencyKey);
        using var hang = new CancellationTokenSource(thresholds.Hang);
        using var abandon = abandonAfter is { } after ? new CancellationTokenSource(after) : new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(hang.Token, abandon.Token);
        var sent = Now;
        Answer answer;
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, either.Token);
            var bytes = await response.Content.ReadAsByteArrayAsync(either.Token);
            var status = (int)response.StatusCode;
            var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true");
            var reason = status is >= 200 and < 300 ? null : ExecutionSender.ReadString(bytes, "reason_code");
            var outcome = status is >= 200 and < 300 ? AttemptOutcome.Success
                : status == 503 && reason is not null && Retryable(bytes) ? AttemptOutcome.Retryable503
                : AttemptOutcome.Other;
            answer = new Answer(new Attempt(sent, Now, outcome, status, reason), bytes, replayed);
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            answer = new Answer(new Attempt(sent, Now, AttemptOutcome.Abandoned), null, false);
        }
        catch (OperationCanceledException) when (hang.IsCancellationRequested)
        {
            answer = new Answer(new Attempt(sent, Now, AttemptOutcome.Hang), null, false);
        }
        catch (HttpRequestException ex)
        {
            answer = new Answer(new Attempt(sent, Now, AttemptOutcome.Transport, 0, ex.HttpRequestError.ToString()), null, false);
        }
        lock (_attempts) _attempts.Add(answer.Attempt);
        return answer;
    }

    /// <summary>
    /// Sends until answered: retries with the same key and body after a retryable 503, a transport error, a hang or an abandon,
    /// until a 2xx (recorded as acknowledged), another answer, or <paramref name="stop"/>. Null when stopped unanswered.
    /// </summary>
    public async Task<Answer?> SendUntilAnsweredAsync(Request request, CancellationToken stop, TimeSpan? abandonFirstAfter = null)
    {
        var abandonAfter = abandonFirstAfter;
        while (true)
        {
            var answer = await SendOnceAsync(request, abandonAfter);
            if (abandonAfter is not null && answer.Attempt.Outcome == AttemptOutcome.Abandoned)
            {
                // The fault: a request abandoned mid-flight. It is retried at once with the same key; its recovery is that retry's answer.
                var retried = await SendUntilAnsweredAsync(request, stop);
                lock (_injections)
                    _injections.Add(new Injection(answer.Attempt.EndedAt, retried?.Attempt.Outcome == AttemptOutcome.Success ? retried.Attempt.EndedAt : null,
                        $"abandoned {request.SimulationId} {request.IdempotencyKey}"));
                return retried;
            }
            abandonAfter = null;
            switch (answer.Attempt.Outcome)
            {
                case AttemptOutcome.Success:
                    lock (_acknowledged)
                        _acknowledged.Add(new Acknowledged(request.Tenant.TenantId, request.Tenant.ApiKey, request.SimulationId, request.IdempotencyKey,
                            request.Body, answer.Attempt.Status, answer.Bytes!));
                    return answer;
                case AttemptOutcome.Other:
                    return answer;
            }
            if (stop.IsCancellationRequested) return null;
            try
            {
                await Task.Delay(RetryPause, stop);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// One client: walks its chain of simulations until <paramref name="stop"/>. With <paramref name="abandonEvery"/> (client-disconnects),
    /// the first attempt of every n-th request is abandoned after a random 0–30 ms.
    /// </summary>
    public async Task RunClientAsync(ChaosTenant tenant, int client, CancellationToken stop, int abandonEvery = 0)
    {
        var random = new Random(HashCode.Combine(runId, client));
        string? capreq = null;
        string? broadcast = null;
        var step = 0;
        for (var n = 1; !stop.IsCancellationRequested; n++)
        {
            var (simulation, body) = step switch
            {
                0 => ("CAPREQ_CREATE_DRAFT", Json(w =>
                {
                    w.WriteString("requested_capability_id", "cap.chaos.write");
                    w.WriteString("target_scope_ref", string.Create(CultureInfo.InvariantCulture, $"chaos/{runId}/{client}/{n}"));
                    w.WriteString("justification", "selene chaos");
                })),
                1 => ("CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT", Json(w => w.WriteString("capreq_id", capreq))),
                2 => ("BCAST_CREATE_DRAFT", Json(w =>
                {
                    w.WriteString("classification", "SIMPLE");
                    w.WriteString("audience_spec", "team:chaos");
                    w.WriteString("content_payload_ref", string.Create(CultureInfo.InvariantCulture, $"chaos:{client}:{n}"));
                    w.WriteString("content_text", string.Create(CultureInfo.InvariantCulture, $"selene chaos {runId}, client {client}, request {n}"));
                })),
                _ => ("BCAST_DELIVER_COMMIT", Json(w =>
                {
                    w.WriteString("broadcast_id", broadcast);
                    w.WriteString("recipient_id", tenant.AdminUserId);
                    w.WriteString("delivery_method", "SELENE_APP");
                    w.WriteString("recipient_region", "GLOBAL");
                    w.WriteBoolean("app_unavailable", false);
                    w.WriteString("delivery_plan_ref", "chaos");
                    w.WriteString("simulation_context", "chaos");
                })),
            };
            var request = new Request(tenant, simulation, body, NewKey(client.ToString(CultureInfo.InvariantCulture)));
            TimeSpan? abandon = abandonEvery > 0 && n % abandonEvery == 0 ? TimeSpan.FromMilliseconds(random.Next(0, 31)) : null;
            var answer = await SendUntilAnsweredAsync(request, stop, abandon);
            if (answer?.Attempt.Outcome != AttemptOutcome.Success)
            {
                step = 0; // refused or stopped: the chain starts over (the refusal is counted against availability)
                continue;
            }
            switch (step)
            {
                case 0:
                    capreq = CapreqId().Match(Encoding.UTF8.GetString(answer.Bytes!)).Value;
                    step = capreq.Length > 0 ? 1 : 0;
                    break;
                case 2:
                    broadcast = BroadcastId().Match(Encoding.UTF8.GetString(answer.Bytes!)).Value;
                    step = broadcast.Length > 0 ? 3 : 0;
                    break;
                default:
                    step = (step + 1) % 4;
                    break;
            }
        }
    }

    /// <summary>
    /// A duplicate storm: <paramref name="copies"/> concurrent copies of one new CAPREQ_CREATE_DRAFT with one key, each retried
    /// like any request until answered. Recorded as an injection (recovered at the first 2xx) and with every copy's answer.
    /// </summary>
    public async Task StormAsync(ChaosTenant tenant, int copies, CancellationToken stop)
    {
        var key = NewKey("storm");
        var request = new Request(tenant, "CAPREQ_CREATE_DRAFT", Json(w =>
        {
            w.WriteString("requested_capability_id", "cap.chaos.storm");
            w.WriteString("target_scope_ref", "chaos/" + key);
            w.WriteString("justification", "selene chaos duplicate storm");
        }), key);
        var at = Now;
        var answers = await Task.WhenAll(Enumerable.Range(0, copies).Select(_ => SendUntilAnsweredAsync(request, stop)));
        var answered = answers.Where(a => a is not null).Select(a => a!).ToList();
        var firstSuccess = answered.Where(a => a.Attempt.Outcome == AttemptOutcome.Success).Select(a => (double?)a.Attempt.EndedAt).Min();
        lock (_injections) _injections.Add(new Injection(at, firstSuccess, $"{copies} copies of {key}"));
        lock (_storms) _storms.Add(new StormAnswers(request, answered));
    }

    /// <summary>The inputs object written by <paramref name="members"/>, as UTF-8 bytes.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> members)
    {
        var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static bool Retryable(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("retryable", out var r) && r.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [GeneratedRegex("capreq_[0-9a-f]{16}")]
    private static partial Regex CapreqId();

    [GeneratedRegex("bcast_[0-9a-f]{16}")]
    private static partial Regex BroadcastId();
}
