using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Contracts;
using Selene.Runtime;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Xunit.Abstractions;

namespace Selene.Server.Tests;

/// <summary>
/// Bad input at scale (issue 15 item 8): <see cref="CorpusSize"/> malformed, hostile and boundary requests generated
/// from one fixed seed over every endpoint — POST /v1/turns, POST /v1/simulations/{id} for every simulation of
/// <see cref="SimulationRegistry.Default"/>, every read route of <see cref="EngineModules.All"/>, the journal, the outbox,
/// the catalog, /healthz and the OpenAPI document. Every case is one the server must refuse: each answer is a 4xx
/// problem whose reason code is registered (<see cref="EngineModules.Reasons"/>) and whose status is the problem's own,
/// an authenticated refusal under /v1 names the correlation of its journal entry, and nothing changes in the database but
/// the journal (and a decided turn's record). The only answers without a problem body are the ones Kestrel gives
/// before any Selene code runs (a NUL in the path, a request line over 8 KiB): those cases are marked as such and
/// must still be 4xx.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class BadInputCorpusTests(SeleneServerFixture f, ITestOutputHelper output)
{
    /// <summary>How many requests the corpus sends (the issue asks for at least 10,000).</summary>
    public const int CorpusSize = 10_240;

    private const int Seed = 20_261_129;
    private const int Concurrency = 8;

    [Fact]
    public async Task Corpus_OfHostileRequestsOverEveryEndpoint_IsRefused4xxWithRegisteredReasonCodes_AndChangesNothingButTheJournal()
    {
        var (tenant, key) = await f.OwnTenantAsync("corpus");
        var (other, otherKey) = await f.OwnTenantAsync("corpus-other");
        // What replays and cross-tenant reads aim at: a committed direct call and a committed turn in the corpus tenant, a
        // capability request in the other tenant.
        var committed = await f.Api.SimulateRawAsync(key, Capreqs.Create, CorpusGenerator.CommittedDraft, CorpusGenerator.CommittedKey);
        Assert.True(committed.Status == HttpStatusCode.OK, committed.ToString());
        var turn = await f.Api.PostTurnAsync(key, CorpusGenerator.Turn("1", CorpusGenerator.CommittedTurnKey,
            CorpusGenerator.CommittedDraft.Replace("committed", "committed-turn", StringComparison.Ordinal)).ToJsonString());
        Assert.True(turn.Status == HttpStatusCode.OK && turn.Json["execution"]?["outcome"]?.GetValue<string>() == "EXECUTED", turn.ToString());
        var foreign = await f.Api.SimulateAsync(otherKey, Capreqs.Create, Capreqs.NewDraft());
        Assert.True(foreign.Status == HttpStatusCode.OK, foreign.ToString());

        var context = new CorpusContext(tenant, key, otherKey, committed.Capreq["capreq_id"]!.GetValue<string>(), foreign.Capreq["capreq_id"]!.GetValue<string>());
        var corpus = new CorpusGenerator(Seed, context).Generate(CorpusSize);
        Assert.Equal(corpus, new CorpusGenerator(Seed, context).Generate(CorpusSize), CorpusCase.SameRequest); // a fixed seed, the same corpus

        var countsBefore = SimulationFuzzTests.Without(await f.TableCountsAsync());
        var digestsBefore = WithoutRecords(await f.TenantDigestsAsync(tenant, other));

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var sent = 0;
        await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (c, _) =>
        {
            var reply = await f.Api.SendAsync(c.ToRequest());
            Interlocked.Increment(ref sent);
            if (Judge(c, reply, key) is { } failure) failures.Enqueue($"{c}\n    => {failure}");
        });

        Assert.True(sent >= 10_000, $"only {sent} requests were sent");
        foreach (var kind in corpus.GroupBy(c => c.Endpoint.StartsWith("POST /v1/simulations/", StringComparison.Ordinal) ? "simulations" : c.Endpoint.StartsWith("GET", StringComparison.Ordinal) ? "reads" : "turns"))
            output.WriteLine($"{kind.Key}: {kind.Count()} requests over {kind.Select(c => c.Endpoint).Distinct().Count()} endpoints; " +
                string.Join(", ", kind.GroupBy(c => c.Category).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));
        Assert.True(failures.IsEmpty, $"{failures.Count} of {sent} answers broke the rules:\n{string.Join("\n", failures.Take(40))}");
        Assert.Equal(countsBefore, SimulationFuzzTests.Without(await f.TableCountsAsync()));
        Assert.Equal(digestsBefore, WithoutRecords(await f.TenantDigestsAsync(tenant, other)));
        // The corpus covered what it claims: every endpoint kind, every simulation and every read route.
        var endpoints = corpus.Select(c => c.Endpoint).ToHashSet(StringComparer.Ordinal);
        Assert.All(SimulationRegistry.Default.Handlers, h => Assert.Contains("POST /v1/simulations/" + h.Record.SimulationId, endpoints));
        Assert.All(CorpusGenerator.ReadRoutes, r => Assert.Contains("GET " + r.Path, endpoints));
        Assert.Contains("POST /v1/turns", endpoints);
    }

    /// <summary>Null when the answer keeps the rules for this case, else what is wrong.</summary>
    private static string? Judge(CorpusCase c, Reply reply, string key)
    {
        var status = (int)reply.Status;
        if (status is < 400 or > 499) return $"status {status}: {Cut(reply.Text)}";
        if (c.Protocol) return null;
        if (reply.MediaType != SeleneApi.ProblemJson) return $"{status} {reply.MediaType}, not a problem: {Cut(reply.Text)}";
        JsonNode problem;
        try
        {
            problem = reply.Json;
        }
        catch (JsonException e)
        {
            return $"{status}, the problem is not JSON ({e.Message}): {Cut(reply.Text)}";
        }
        var code = problem["reason_code"]?.GetValue<string>();
        if (code is null || !EngineModules.Reasons.TryGet(code, out _)) return $"{status}, reason code {code ?? "(none)"} is not registered";
        if (problem["status"]?.GetValue<int>() != status) return $"{status}, the problem says status {problem["status"]}";
        // Every refusal of an authenticated /v1 request leaves a journal entry and names its correlation.
        if (c.Authorization == "Bearer " + key && c.Path.StartsWith("/v1/", StringComparison.OrdinalIgnoreCase) && problem["correlation_id"] is null)
            return $"{status} {code} names no correlation_id";
        return null;
    }

    /// <summary>The digests of the tables a refusal may not write (all but the journal and a decided turn's record).</summary>
    private static Dictionary<string, string> WithoutRecords(Dictionary<string, string> digests) =>
        digests.Where(d => !SimulationFuzzTests.RecordTables.Contains(d.Key)).ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal);

    private static string Cut(string text) => text.Length <= 300 ? text : text[..300] + "…";
}

/// <summary>What the corpus aims at: the corpus tenant's key, another tenant's key, and ids in both.</summary>
internal sealed record CorpusContext(string Tenant, string Key, string OtherKey, string OwnCapreqId, string ForeignCapreqId);

/// <summary>
/// One generated request, as data (so that the same seed gives the same corpus): method, path and query, the
/// Authorization header (null: none), other headers, the body and its Content-Type (null: none).
/// <paramref name="Protocol"/> marks a request Kestrel refuses before Selene sees it (no problem body possible).
/// </summary>
internal sealed record CorpusCase(string Endpoint, string Category, string Method, string Path, string? Authorization,
    IReadOnlyList<(string Name, string Value)> Headers, byte[]? Body, string? ContentType, bool Protocol = false)
{
    /// <summary>Two cases send the same bytes.</summary>
    public static IEqualityComparer<CorpusCase> SameRequest { get; } = EqualityComparer<CorpusCase>.Create(
        (a, b) => a is not null && b is not null && (a.Endpoint, a.Category, a.Method, a.Path, a.Authorization, a.ContentType, a.Protocol) ==
            (b.Endpoint, b.Category, b.Method, b.Path, b.Authorization, b.ContentType, b.Protocol) && a.Headers.SequenceEqual(b.Headers) &&
            (a.Body ?? []).AsSpan().SequenceEqual(b.Body ?? []),
        c => c.Path.GetHashCode(StringComparison.Ordinal));

    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), new Uri(Path, UriKind.Relative));
        if (Body is not null)
        {
            request.Content = new ByteArrayContent(Body);
            if (ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        }
        if (Authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", Authorization);
        foreach (var (name, value) in Headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    public override string ToString()
    {
        var body = Body is null ? "" : Encoding.UTF8.GetString(Body);
        return $"[{Category}] {Method} {(Path.Length > 160 ? Path[..160] + "…" : Path)} auth={(Authorization is null ? "none" : Authorization.Length > 24 ? Authorization[..24] + "…" : Authorization)} " +
               $"headers={string.Join(';', Headers.Select(h => $"{h.Name}={(h.Value.Length > 40 ? h.Value[..40] + "…" : h.Value)}"))} type={ContentType ?? "none"} " +
               $"body({Body?.Length ?? 0})={(body.Length > 200 ? body[..200] + "…" : body)}";
    }
}

/// <summary>A GET route of the server: its path pattern (with /v1), its route parameters and the query parameters it reads.</summary>
internal sealed record ReadRouteSpec(string Path, IReadOnlyList<string> RouteParameters, IReadOnlyList<string> QueryParameters, bool Authenticated = true);

/// <summary>
/// The corpus generator: a seeded <see cref="Random"/> picks, per request, one endpoint (round-robin, turns weighted)
/// and one hostile category; each category builds only requests that must be refused whatever the rest of the request
/// is (a truncated body, an unknown member, a value of the wrong JSON type, a NUL…), so no case can run a simulation.
/// </summary>
internal sealed class CorpusGenerator(int seed, CorpusContext context)
{
    public const string CommittedKey = "corpus-committed-direct";
    public const string CommittedTurnKey = "corpus-committed-turn";
    public const string CommittedDraft = """{"requested_capability_id":"cap.corpus.read","target_scope_ref":"scope/corpus/committed","justification":"the corpus replays this key"}""";

    private const int TurnWeight = 12;
    private readonly Random _rng = new(seed);
    private int _n;

    /// <summary>Every GET route: each engine module's, the journal, the outbox, the catalog, /healthz and the OpenAPI document.</summary>
    public static IReadOnlyList<ReadRouteSpec> ReadRoutes { get; } =
    [
        .. EngineModules.All.SelectMany(m => m.Routes).Append(KernelReads.Journal).Append(OutboxOperations.Route).Select(r => new ReadRouteSpec("/v1" + r.Pattern,
            System.Text.RegularExpressions.Regex.Matches(r.Pattern, "{([a-z_]+)}").Select(m => m.Groups[1].Value).ToArray(), r.QueryParameters ?? [])),
        new ReadRouteSpec("/v1/catalog", [], []),
        new ReadRouteSpec("/healthz", [], [], Authenticated: false),
        new ReadRouteSpec("/openapi/v1.json", [], [], Authenticated: false),
    ];

    public List<CorpusCase> Generate(int size)
    {
        var endpoints = new List<Func<CorpusCase>>();
        for (var i = 0; i < TurnWeight; i++) endpoints.Add(TurnCase);
        foreach (var handler in SimulationRegistry.Default.Handlers)
        {
            var simulation = handler.Record.SimulationId;
            var input = SimulationFuzzTests.InputTypeOf(handler);
            endpoints.Add(() => SimulationCase(simulation, input));
        }
        foreach (var route in ReadRoutes) endpoints.Add(() => ReadCase(route));
        var corpus = new List<CorpusCase>(size);
        for (var i = 0; i < size; i++) corpus.Add(endpoints[i % endpoints.Count]());
        return corpus;
    }

    // ---- POST /v1/simulations/{id} ---------------------------------------------------------------------------------

    private static readonly string[] SimulationCategories =
    [
        "malformed-json", "root-not-object", "wrong-type", "wrong-type", "unknown-member", "odd-unicode", "odd-unicode", "invalid-utf8", "huge-payload",
        "huge-number", "deep-nesting", "duplicate-member", "content-type", "api-key", "other-tenant", "idempotency-key", "bad-header",
        "unknown-simulation", "method", "replayed-key",
    ];

    private CorpusCase SimulationCase(string simulation, Type input)
    {
        var n = ++_n;
        var endpoint = "POST /v1/simulations/" + simulation;
        var category = Pick(SimulationCategories);
        if (category == "replayed-key" && simulation != Capreqs.Create) category = "wrong-type";
        var body = SimulationFuzzTests.BaseBody(input);
        var fields = SimulationFuzzTests.Fields(input, []).ToList();
        var path = "/v1/simulations/" + simulation;
        var auth = "Bearer " + context.Key;
        List<(string, string)> headers = [("Idempotency-Key", $"corpus-{seed}-{n}")];
        var contentType = SeleneApi.Json;
        byte[] bytes;
        var protocol = false;
        switch (category)
        {
            case "replayed-key":
                // The committed key, with a body that differs from the committed one: 409, never a second draft.
                headers = [("Idempotency-Key", CommittedKey)];
                body = JsonNode.Parse(CommittedDraft)!.AsObject();
                body[Pick(["requested_capability_id", "target_scope_ref", "justification"])] = $"other-{n}";
                bytes = Utf8(body.ToJsonString());
                break;
            case "content-type":
                (contentType, bytes) = WrongContentType(body.ToJsonString());
                break;
            case "api-key":
                auth = BadAuthorization();
                bytes = Utf8(body.ToJsonString());
                break;
            case "other-tenant":
                // Another tenant's key acting on this tenant by name.
                auth = "Bearer " + context.OtherKey;
                body["tenant_id"] = context.Tenant;
                bytes = Utf8(body.ToJsonString());
                break;
            case "idempotency-key":
                headers = Pick<List<(string, string)>>(
                [
                    [],
                    [("Idempotency-Key", "")],
                    [("Idempotency-Key", new string('k', _rng.Next(129, 2000)))],
                    [("Idempotency-Key", $"two-{n}"), ("Idempotency-Key", $"keys-{n}")],
                    [("Idempotency-Key", $"with space {n}")],
                ]);
                bytes = Utf8(body.ToJsonString());
                break;
            case "bad-header":
                headers.Add(Pick<(string, string)>(
                [
                    ("X-Correlation-Id", "0"), ("X-Correlation-Id", "-1"), ("X-Correlation-Id", "abc"), ("X-Correlation-Id", "340282366920938463463374607431768211456"),
                    ("X-Correlation-Id", "1.5"), ("X-Correlation-Id", new string('9', _rng.Next(40, 400))), ("X-Turn-Id", "0"), ("X-Turn-Id", "-3"),
                    ("X-Turn-Id", "9223372036854775808"), ("X-Turn-Id", "x"), ("X-Turn-Id", "1e3"),
                ]));
                bytes = Utf8(body.ToJsonString());
                break;
            case "unknown-simulation":
                (path, protocol) = Pick<(string, bool)>(
                [
                    ("/v1/simulations/" + simulation.ToLowerInvariant(), false), ("/v1/simulations/" + simulation + "_X", false),
                    ("/v1/simulations/X" + simulation, false), ("/v1/simulations/" + simulation[..^1], false),
                    ("/v1/simulations/" + simulation + "%20", false), ("/v1/simulations/%E2%80%AE" + simulation, false),
                    ("/v1/simulations/" + simulation + "%ED%A0%80", false), ("/v1/simulations/" + new string('S', _rng.Next(200, 4000)), false),
                    ("/v1/simulations/" + simulation + "/extra", false), ("/v1/simulations/" + simulation + "%00", true),
                    ("/v1/simulations/" + new string('S', _rng.Next(9000, 12000)), true),
                ]);
                bytes = Utf8(body.ToJsonString());
                break;
            case "method":
                return new CorpusCase(endpoint, category, Pick(["GET", "PUT", "DELETE", "PATCH"]), path, auth, headers, Utf8(body.ToJsonString()), contentType);
            default:
                bytes = HostileBody(category, body, fields, out var tooLarge);
                if (tooLarge) contentType = Pick([SeleneApi.Json, "application/json; charset=utf-8"]);
                break;
        }
        return new CorpusCase(endpoint, category, "POST", path, auth, headers, bytes, contentType, protocol);
    }

    /// <summary>A body broken by <paramref name="category"/>: whatever else it holds, the server must refuse it.</summary>
    private byte[] HostileBody(string category, JsonObject body, List<(object[] Path, bool Nullable, Type Type)> fields, out bool tooLarge)
    {
        tooLarge = false;
        var valued = fields.Where(x => !IsFreeJson(x.Type)).ToList();
        var strings = fields.Where(x => x.Type == typeof(string)).ToList();
        switch (category)
        {
            case "malformed-json":
                return Utf8(Malformed(body.ToJsonString()));
            case "root-not-object":
                return Utf8(Pick(["[]", "\"text\"", "42", "null", "true", $"[{body.ToJsonString()}]", "\"\\u0000\"", "-0", "[[[]]]", " "]));
            case "wrong-type" when valued.Count > 0:
            {
                var field = Pick(valued);
                return Replace(body, field.Path, WrongValue(field.Type, field.Nullable));
            }
            case "unknown-member":
                return Utf8(WithMember(body, UnknownName(fields), JsonSerializer.Serialize(Pick<object>(["x", 1, true, new object(), Array.Empty<int>()]))));
            case "odd-unicode" when strings.Count > 0:
            {
                var field = Pick(strings);
                return Replace(body, field.Path, $"\"a{OddEscape()}b\"");
            }
            case "odd-unicode":
                return Utf8(WithMember(body, $"m{OddEscape()}x", "1"));
            case "invalid-utf8":
                return InvalidUtf8(body, strings);
            case "huge-payload":
                tooLarge = true;
                return Pick(["string", "padding", "array"]) switch
                {
                    "string" when strings.Count > 0 => Replace(body, Pick(strings).Path, JsonSerializer.Serialize(new string('x', _rng.Next(65 * 1024, 80 * 1024)))),
                    "array" => Utf8(WithMember(body, "pad", "[" + string.Join(',', Enumerable.Repeat("1", _rng.Next(33_000, 40_000))) + "]")),
                    _ => Utf8(body.ToJsonString().Insert(1, new string(' ', _rng.Next(64 * 1024, 80 * 1024)))),
                };
            case "huge-number" when valued.Count > 0:
            {
                var field = Pick(valued);
                return Replace(body, field.Path, HugeNumber());
            }
            case "deep-nesting" when fields.Count > 0:
            {
                var depth = _rng.Next(StrictJson.MaxDepth, 3000);
                var open = _rng.Next(2) == 0;
                var value = open
                    ? new string('[', depth) + new string(']', depth)
                    : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
                return Replace(body, Pick(fields).Path, value);
            }
            case "duplicate-member":
            {
                var name = Pick(body.Select(p => p.Key).ToList());
                return Utf8(WithMember(body, name, Pick([body[name]?.ToJsonString() ?? "null", "\"other\"", "1"])));
            }
            default: // a category without a field to aim at (no string, no typed field): an unknown member instead
                return Utf8(WithMember(body, UnknownName(fields), "1"));
        }
    }

    // ---- POST /v1/turns ---------------------------------------------------------------------------------------------

    private static readonly string[] TurnCategories =
    [
        "malformed-json", "root-not-object", "wrong-type", "wrong-type", "unknown-member", "authority-member", "odd-unicode", "invalid-utf8",
        "huge-payload", "huge-number", "deep-nesting", "duplicate-member", "content-type", "api-key", "method", "replayed-key", "bad-inputs",
    ];

    /// <summary>A TEXT turn dispatching CAPREQ_CREATE_DRAFT with every posture flag true and the given correlation, key and inputs.</summary>
    public static JsonObject Turn(string correlation, string key, string inputs) =>
        SeleneApi.TextTurn(Capreqs.Create, JsonNode.Parse(inputs), key, correlation: correlation);

    /// <summary>The turn's members with the JSON kind each must have.</summary>
    private static readonly (object[] Path, Type Type)[] TurnFields =
    [
        (["correlation_id"], typeof(string)), (["turn_id"], typeof(ulong)), (["path"], typeof(TurnPath)), (["always_on_sequence"], typeof(List<string>)),
        (["posture"], typeof(TurnPosture)), (["posture", "session_active"], typeof(bool)), (["posture", "transcript_ok"], typeof(bool)),
        (["posture", "nlp_confidence_high"], typeof(bool)), (["posture", "requires_confirmation"], typeof(bool)),
        (["posture", "confirmation_received"], typeof(bool)), (["posture", "prompt_policy_gate_ok"], typeof(bool)),
        (["requested_moves"], typeof(List<RequestedMove>)), (["simulation"], typeof(TurnSimulation)), (["simulation", "simulation_id"], typeof(string)),
        (["simulation", "idempotency_key"], typeof(string)), (["simulation", "inputs", "requested_capability_id"], typeof(string)),
        (["simulation", "inputs", "target_scope_ref"], typeof(string)), (["simulation", "inputs", "justification"], typeof(string)),
    ];

    private CorpusCase TurnCase()
    {
        var n = ++_n;
        const string endpoint = "POST /v1/turns";
        var category = Pick(TurnCategories);
        var inputs = $$"""{"requested_capability_id":"cap.corpus.read","target_scope_ref":"scope/corpus/turn-{{n}}","justification":"corpus"}""";
        var turn = Turn(((ulong)_rng.NextInt64(1, long.MaxValue)).ToString(CultureInfo.InvariantCulture), $"corpus-turn-{seed}-{n}", inputs);
        var auth = "Bearer " + context.Key;
        var contentType = SeleneApi.Json;
        // A turn's simulation may name no key (null is absent): the gate then decides REFUSE, a decided turn (200), not bad input.
        var fields = TurnFields.Select(x => (x.Path, Nullable: x.Path is ["simulation", "idempotency_key"], x.Type)).ToList();
        byte[] bytes;
        switch (category)
        {
            case "authority-member":
            {
                // Gate inputs Selene derives itself: naming one, at the top or in posture, is refused.
                var target = _rng.Next(2) == 0 ? turn : turn["posture"]!.AsObject();
                target[Pick(TurnRequest.AuthorityMembers.Order(StringComparer.Ordinal).ToList())] = Pick<JsonNode>([true, false, "acme", 1]);
                bytes = Utf8(turn.ToJsonString());
                break;
            }
            case "unknown-member":
            {
                var target = Pick([turn, turn["posture"]!.AsObject(), turn["simulation"]!.AsObject(), turn["simulation"]!["inputs"]!.AsObject()]);
                target[$"zz_{Pick(["colour", "priority", "note", "x"])}_{n}"] = Pick<JsonNode>([1, "x", true, new JsonObject()]);
                bytes = Utf8(turn.ToJsonString());
                break;
            }
            case "replayed-key":
                // The committed turn's key with other inputs: 409, never a second draft.
                turn["simulation"]!["idempotency_key"] = CommittedTurnKey;
                bytes = Utf8(turn.ToJsonString());
                break;
            case "bad-inputs":
            {
                var inputsObject = turn["simulation"]!["inputs"]!.AsObject();
                var bad = Pick(["requested_capability_id", "target_scope_ref", "justification"]);
                inputsObject[bad] = Pick<JsonNode?>([null, 42, "", "with spaces and \u0000", new string('x', 20_000), new JsonArray()]);
                if (_rng.Next(3) == 0) inputsObject.Remove(bad);
                bytes = Utf8(turn.ToJsonString());
                break;
            }
            case "content-type":
                (contentType, bytes) = WrongContentType(turn.ToJsonString());
                break;
            case "api-key":
                auth = BadAuthorization();
                bytes = Utf8(turn.ToJsonString());
                break;
            case "method":
                return new CorpusCase(endpoint, category, Pick(["GET", "PUT", "DELETE", "PATCH"]), "/v1/turns", auth, [], Utf8(turn.ToJsonString()), contentType);
            case "odd-unicode":
            {
                var field = Pick(fields.Where(x => x.Type == typeof(string)).ToList());
                bytes = Replace(turn, field.Path, $"\"1{OddEscape()}2\"");
                break;
            }
            case "invalid-utf8":
                bytes = InvalidUtf8(turn, fields.Where(x => x.Type == typeof(string)).ToList());
                break;
            default:
                bytes = HostileBody(category, turn, fields, out var tooLarge);
                if (tooLarge) contentType = SeleneApi.Json;
                break;
        }
        return new CorpusCase(endpoint, category, "POST", "/v1/turns", auth, [], bytes, contentType);
    }

    // ---- GET routes -------------------------------------------------------------------------------------------------

    private CorpusCase ReadCase(ReadRouteSpec route)
    {
        var n = ++_n;
        var endpoint = "GET " + route.Path;
        var auth = route.Authenticated ? "Bearer " + context.Key : null;
        string[] categories = route.Authenticated
            ? ["unknown-query", "unknown-query", "bad-query-value", "bad-path-value", "bad-path-value", "api-key", "method", "sub-route", "protocol", "other-tenant"]
            : ["method", "method", "sub-route", "sub-route", "protocol"];
        var category = Pick(categories);
        if (category == "bad-query-value" && route.QueryParameters.Count == 0) category = "unknown-query";
        if (category is "bad-path-value" or "other-tenant" && route.RouteParameters.Count == 0) category = "unknown-query";
        var path = Fill(route, _ => Plain(n));
        string query = "";
        var protocol = false;
        var method = "GET";
        switch (category)
        {
            case "unknown-query":
            {
                var names = new[] { "colour", "x", "LIMIT", "Limit", "Status", "tenant_id", "user_id", "status", "limit", "after", "correlation_id", "state", "debug", "_", "a%E2%80%AEb", "q%ED%A0%80" }
                    .Where(p => !route.QueryParameters.Contains(p, StringComparer.Ordinal)).ToList();
                query = $"?{Pick(names)}={Pick(["1", "", "true", "DRAFT", "%00", "x%20y"])}";
                break;
            }
            case "bad-query-value":
            {
                var name = Pick(route.QueryParameters.ToList());
                var values = name switch
                {
                    "limit" => new[] { "0", "-1", "100001", "99999999999999999999", "1e3", "%201", "+1", "0x10", "1.5", "", "1&limit=2", "%00" },
                    "after" => ["x", "capreq_XYZ", "-1", "1.5", "99999999999999999999", "%E2%80%AE", "%00", ""],
                    "correlation_id" => ["0", "-1", "abc", "340282366920938463463374607431768211456", "1.0", "%201", "", "0x1", "1&correlation_id=2"],
                    "user_id" => ["a%20b", "%00", new string('u', 65), "%E2%80%AE", "a/b", "%ED%A0%80"],
                    _ => ["draft", "pending", "OPENED", "DRAFTS", "*", "%E2%80%AE", "x", "%00", "DRAFT&" + name + "=OPEN"],
                };
                query = $"?{name}={Pick(values)}";
                break;
            }
            case "bad-path-value":
            {
                path = Fill(route, _ => Pick(
                [
                    new string('a', _rng.Next(65, 2000)), "a%20b", "%E2%80%AE" + Plain(n), "%ED%A0%80", "%C0%AF", "%3Cscript%3E", "%27%3B--", "%22", "%25", "%FF",
                    "capreq_" + Convert.ToHexStringLower(BitConverter.GetBytes(_rng.NextInt64())), "esc_" + Convert.ToHexStringLower(BitConverter.GetBytes(_rng.NextInt64())),
                    "%E2%80%8B", "%EF%BB%BF" + Plain(n), "..%2F..%2Fetc", "x.json",
                ]));
                break;
            }
            case "other-tenant":
                // The other tenant's real capability request read with this tenant's key, or this tenant's with the other's.
                (auth, path) = _rng.Next(2) == 0 ? ("Bearer " + context.Key, Fill(route, p => p == "capreq_id" ? context.ForeignCapreqId : Plain(n)))
                    : ("Bearer " + context.OtherKey, Fill(route, p => p == "capreq_id" ? context.OwnCapreqId : Plain(n)));
                break;
            case "api-key":
                auth = BadAuthorization();
                break;
            case "method":
                method = Pick(["POST", "PUT", "DELETE", "PATCH"]);
                break;
            case "sub-route":
                path = Pick([path + "/zz-" + n, path + "/" + Plain(n) + "/x", path + "%2Fx", path + ".." + n]);
                break;
            case "protocol":
                protocol = true;
                path = Pick([path + "%00", path + "/" + new string('p', _rng.Next(9000, 12000))]);
                break;
        }
        return new CorpusCase(endpoint, category, method, path + query, auth, [], method == "GET" ? null : Utf8("{}"), method == "GET" ? null : SeleneApi.Json, protocol);
    }

    private static string Fill(ReadRouteSpec route, Func<string, string> value)
    {
        var path = route.Path;
        foreach (var p in route.RouteParameters) path = path.Replace("{" + p + "}", value(p), StringComparison.Ordinal);
        return path;
    }

    private static string Plain(int n) => "corpus-missing-" + n.ToString(CultureInfo.InvariantCulture);

    // ---- shared pieces ----------------------------------------------------------------------------------------------

    private T Pick<T>(IReadOnlyList<T> items) => items[_rng.Next(items.Count)];

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static bool IsFreeJson(Type t) => t == typeof(JsonElement) || typeof(JsonNode).IsAssignableFrom(t);

    /// <summary>A refused Authorization header: none, another scheme, a key that is not one, or over the length bound.</summary>
    private string? BadAuthorization() => Pick<string?>(
    [
        null, "Bearer", "Bearer ", "Basic dXNlcjpwYXNzd29yZA==", "Token " + context.Key, "Bearer " + context.Key[..^1], "Bearer " + context.Key + "x",
        "Bearer sel_" + Convert.ToHexStringLower(BitConverter.GetBytes(_rng.NextInt64())) + "0000000000000000000000000",
        "Bearer " + new string('k', _rng.Next(257, 2000)), "Bearer Bearer " + context.Key, "Bearer sel_!@#$%^&*()", "Bearer " + context.Key.ToUpperInvariant(),
    ]);

    /// <summary>A content type the server does not read JSON from, with the body (in UTF-16 where it says so).</summary>
    private (string? ContentType, byte[] Body) WrongContentType(string json)
    {
        var type = Pick<string?>(
        [
            null, "text/plain", "text/json", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "application/json; charset=utf-16", "application/json; charset=iso-8859-1", "application/json; charset=\"utf-7\"", "application/json; profile=x",
            "application/json; charset=utf-8; q=1", "application/octet-stream", "application/jsonx", "application/json+xml", "garbage", "application/",
        ]);
        return (type, type?.Contains("utf-16", StringComparison.Ordinal) == true ? Encoding.Unicode.GetBytes(json) : Utf8(json));
    }

    /// <summary>A syntax error: a truncated body, a trailing comma, a comment, single quotes, NaN, a bare word.</summary>
    private string Malformed(string json) => _rng.Next(8) switch
    {
        0 => json[.._rng.Next(0, json.Length - 1)],
        1 => json[..^1] + ",}",
        2 => "/* c */" + json,
        3 => json.Replace('"', '\''),
        4 => json[..^1] + ",\"n\":NaN}",
        5 => json + json,
        6 => json[..^1] + ",\"x\":01}",
        _ => json.Replace(":", " ", StringComparison.Ordinal),
    };

    /// <summary>A JSON value of a kind the field cannot hold.</summary>
    private string WrongValue(Type type, bool nullable)
    {
        List<string> values = type == typeof(string) ? ["12345", "1.5", "true", "[]", "[\"a\"]", "{}", "{\"a\":1}"]
            : type == typeof(bool) ? ["\"true\"", "1", "0", "\"yes\"", "[]", "{}"]
            : type.IsEnum ? ["\"NOT_A_TOKEN\"", "1", "true", "[]", "{}", JsonSerializer.Serialize(WireLower(type))]
            : type.IsPrimitive || type == typeof(decimal) ? ["\"12\"", "true", "[]", "{}", "\"\""]
            // A map (a JSON object) is wrong as an array; a list is wrong as an object.
            : typeof(System.Collections.IDictionary).IsAssignableFrom(type) ? ["\"a\"", "1", "true", "[]"]
            : SimulationFuzzTests.ElementOf(type) is not null ? ["\"a\"", "1", "true", "{}"]
            : ["\"a\"", "1", "true", "[]"];
        if (type.IsPrimitive && type != typeof(bool) && type != typeof(double) && type != typeof(float)) values.Add("1.5");
        if (!nullable) values.Add("null");
        return Pick(values);
    }

    private static string WireLower(Type enumType) =>
        JsonSerializer.SerializeToNode(Enum.GetValues(enumType).GetValue(0), enumType, StrictJson.Options)!.GetValue<string>().ToLowerInvariant() + "_";

    private string HugeNumber() => Pick(["1e400", "-1e400", "1E+99999", "1" + new string('0', _rng.Next(30, 400)), "-" + new string('9', _rng.Next(30, 400))]);

    /// <summary>An escaped character the plain-text rule refuses: controls, lone or reversed surrogates, invisible and bidi formatting.</summary>
    private string OddEscape() => Pick(
    [
        "\\u0000", "\\u0007", "\\u001b", "\\n", "\\t", "\\r", "\\u0085", "\\ud800", "\\udfff", "\\udc00\\ud800", "\\u202e", "\\u202d", "\\u202a", "\\u200b",
        "\\u2060", "\\ufeff", "\\u2066", "\\u2069", "\\u007f",
    ]);

    /// <summary>A body with raw bytes that are not UTF-8 (overlong forms, surrogates, a 5-byte form, a cut sequence) inside a string.</summary>
    private byte[] InvalidUtf8(JsonObject body, List<(object[] Path, bool Nullable, Type Type)> strings)
    {
        const string marker = "__RAW__";
        var clone = body.DeepClone().AsObject();
        if (strings.Count > 0) SimulationFuzzTests.Set(clone, Pick(strings).Path, "a" + marker + "b");
        else clone["m" + marker] = 1;
        var raw = Pick<byte[]>([[0xFF], [0xC0, 0x80], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC3], [0xF4, 0x90, 0x80, 0x80], [0x80]]);
        var text = Utf8(clone.ToJsonString());
        var at = text.AsSpan().IndexOf(Utf8(marker));
        return [.. text[..at], .. raw, .. text[(at + marker.Length)..]];
    }

    /// <summary>The body with the field at <paramref name="path"/> replaced by the raw JSON text <paramref name="json"/>.</summary>
    private static byte[] Replace(JsonObject body, object[] path, string json)
    {
        const string placeholder = "__CORPUS__";
        var clone = body.DeepClone().AsObject();
        SimulationFuzzTests.Set(clone, path, placeholder);
        return Utf8(clone.ToJsonString().Replace($"\"{placeholder}\"", json, StringComparison.Ordinal));
    }

    /// <summary>The body with one more member written as raw text (so a duplicate name survives).</summary>
    private static string WithMember(JsonObject body, string name, string json)
    {
        var text = body.ToJsonString();
        var member = $"{JsonSerializer.Serialize(name)}:{json}";
        return text == "{}" ? "{" + member + "}" : text[..^1] + "," + member + "}";
    }

    /// <summary>A member name no input declares.</summary>
    private string UnknownName(List<(object[] Path, bool Nullable, Type Type)> fields)
    {
        var top = fields.Where(x => x.Path.Length == 1).Select(x => (string)x.Path[0]).ToList();
        var names = new List<string> { "colour", "__proto__", "constructor", "$type", "tenantId", "priority", "", " ", "x-y" };
        names.AddRange(top.Select(t => t.ToUpperInvariant()));
        names.AddRange(top.Select(t => t + "_"));
        return Pick(names.Where(x => !top.Contains(x, StringComparer.Ordinal) && x != "tenant_id").ToList());
    }
}
