using System.Net;
using System.Text;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// Input refused at the edge or before the engine: a reason-coded problem, and nothing stored but the refusal's one
/// journal entry (REQUEST_REFUSED) when the caller is authenticated; an unauthenticated request leaves nothing.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class BadInputTests(SeleneServerFixture f)
{
    private const string ValidDraft = """{"requested_capability_id":"cap.e2e.read","target_scope_ref":"scope/e2e/bad-input","justification":"j"}""";

    [Theory]
    [InlineData("malformed_json", 400, "INPUT_SCHEMA_INVALID")]
    [InlineData("json_array_root", 400, "INPUT_SCHEMA_INVALID")]
    [InlineData("number_for_justification", 400, "INPUT_SCHEMA_INVALID")]
    [InlineData("null_for_justification", 400, "INPUT_SCHEMA_INVALID")]
    [InlineData("missing_required_field", 400, "INPUT_SCHEMA_INVALID")]
    [InlineData("unknown_field", 400, "INPUT_UNKNOWN_FIELD")]
    [InlineData("duplicate_member", 400, "INPUT_SCHEMA_INVALID")]
    [InlineData("tenant_id_not_a_string", 400, "INPUT_SCHEMA_INVALID")]
    [InlineData("capability_id_with_spaces", 400, "INPUT_FIELD_INVALID")]
    [InlineData("malformed_capreq_id", 400, "INPUT_FIELD_INVALID")]
    [InlineData("body_70_kib", 413, "INPUT_PAYLOAD_TOO_LARGE")]
    [InlineData("idempotency_key_200_chars", 400, "IDEMPOTENCY_KEY_INVALID")]
    [InlineData("missing_authorization", 401, "AUTH_KEY_MISSING")]
    [InlineData("bogus_api_key", 401, "AUTH_KEY_INVALID")]
    [InlineData("unknown_route", 404, "ROUTE_NOT_FOUND")]
    [InlineData("unknown_query_parameter", 400, "QUERY_PARAMETER_INVALID")]
    [InlineData("unknown_query_parameter_on_companies", 400, "QUERY_PARAMETER_INVALID")]
    [InlineData("unknown_query_parameter_on_a_read_by_id", 400, "QUERY_PARAMETER_INVALID")]
    [InlineData("unknown_query_parameter_on_catalog", 400, "QUERY_PARAMETER_INVALID")]
    [InlineData("bad_status_value", 400, "QUERY_PARAMETER_INVALID")]
    [InlineData("limit_out_of_range", 400, "QUERY_PARAMETER_INVALID")]
    [InlineData("malformed_capreq_id_in_path", 400, "QUERY_PARAMETER_INVALID")]
    [InlineData("journal_without_correlation_id", 400, "QUERY_PARAMETER_INVALID")]
    public async Task Request_BadInput_IsProblemWithReasonCodeAndStoresNothing(string input, int status, string reason)
    {
        var listed = (await f.Api.ListAsync(f.AliceKey)).Count;
        var before = await f.CountsAsync();

        var reply = await f.Api.SendAsync(Build(input));

        AssertProblem(reply, (HttpStatusCode)status, reason);
        Assert.Equal(listed, (await f.Api.ListAsync(f.AliceKey)).Count);
        if (status == 401)
        {
            Assert.Equal(before, await f.CountsAsync());
            return;
        }
        // Authenticated: the refusal's one entry, under the correlation the problem names, and nothing else.
        Assert.Equal(before with { Journal = before.Journal + 1 }, await f.CountsAsync());
        var entry = Assert.Single(await f.Api.JournalAsync(f.AliceKey, reply.Json["correlation_id"]!.GetValue<string>()))!;
        Assert.Equal("REQUEST_REFUSED", entry["event_type"]!.GetValue<string>());
        Assert.Equal(reason, entry["reason_code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("unknown_simulation", 404, "SIMULATION_UNKNOWN", "OS_FAIL_BLUEPRINT_GATE")]
    [InlineData("missing_idempotency_key", 400, "IDEMPOTENCY_KEY_MISSING", "OS_FAIL_IDEMPOTENCY_GATE")]
    public async Task Request_UnknownSimulationOrMissingKey_IsRefusedByTheTurnGate_WhichRecordsOnlyItsDecision(string input, int status, string reason,
        string gateReason)
    {
        var listed = (await f.Api.ListAsync(f.AliceKey)).Count;
        var before = await f.CountsAsync();

        var reply = await f.Api.SendAsync(Build(input));

        AssertProblem(reply, (HttpStatusCode)status, reason);
        Assert.Equal(listed, (await f.Api.ListAsync(f.AliceKey)).Count);
        var after = await f.CountsAsync();
        Assert.Equal(before with { Journal = after.Journal }, after);
        var journal = await f.Api.JournalAsync(f.AliceKey, reply.Json["correlation_id"]!.GetValue<string>());
        var decision = Assert.Single(journal, e => e!["event_type"]!.GetValue<string>() == "TURN_DECISION")!;
        Assert.Equal(gateReason, decision["reason_code"]!.GetValue<string>());
        Assert.Empty(await f.Api.TransitionsAsync(f.AliceKey, reply.Json["correlation_id"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("text_plain", 415, "INPUT_MEDIA_TYPE_UNSUPPORTED")]
    [InlineData("no_content_type", 415, "INPUT_MEDIA_TYPE_UNSUPPORTED")]
    [InlineData("delete_on_list", 405, "METHOD_NOT_ALLOWED")]
    public Task Request_NonJsonContentTypeOrWrongMethod_HasItsOwnReasonCode(string input, int status, string reason) =>
        Request_BadInput_IsProblemWithReasonCodeAndStoresNothing(input, status, reason);

    /// <summary>
    /// Found by <see cref="BadInputCorpusTests"/>: ASP.NET's OpenAPI endpoint answered an unknown document name (or
    /// ?documentName=…) with a plain-text 404; only v1 exists, and everything else is a reason-coded problem.
    /// </summary>
    [Theory]
    [InlineData("/openapi/v2.json", 404, "ROUTE_NOT_FOUND")]
    [InlineData("/openapi/V2.json", 404, "ROUTE_NOT_FOUND")]
    [InlineData("/openapi/v1.json?documentName=v2", 400, "QUERY_PARAMETER_INVALID")]
    public async Task OpenApi_OtherThanTheV1Document_IsAProblemWithReasonCode_AndStoresNothing(string pathAndQuery, int status, string reason)
    {
        var before = await f.CountsAsync();
        AssertProblem(await f.Api.GetAsync(null, pathAndQuery), (HttpStatusCode)status, reason);
        Assert.Equal(before, await f.CountsAsync());
        var document = await f.Api.GetAsync(null, "/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.Status);
        Assert.Equal("Selene", document.Json["info"]!["title"]!.GetValue<string>());
    }

    private HttpRequestMessage Build(string input) => input switch
    {
        "malformed_json" => Post(Create, """{"requested_capability_id":"cap.e2e.read",""", SeleneApi.Json),
        "json_array_root" => Post(Create, $"[{ValidDraft}]", SeleneApi.Json),
        "number_for_justification" => Post(Create, ValidDraft.Replace("\"j\"", "42", StringComparison.Ordinal), SeleneApi.Json),
        "null_for_justification" => Post(Create, ValidDraft.Replace("\"j\"", "null", StringComparison.Ordinal), SeleneApi.Json),
        "missing_required_field" => Post(Create, """{"requested_capability_id":"cap.e2e.read","target_scope_ref":"scope/e2e/bad-input"}""", SeleneApi.Json),
        "unknown_field" => Post(Create, ValidDraft.Replace("}", ""","priority":"high"}""", StringComparison.Ordinal), SeleneApi.Json),
        "duplicate_member" => Post(Create, ValidDraft.Replace("}", ""","justification":"k"}""", StringComparison.Ordinal), SeleneApi.Json),
        "tenant_id_not_a_string" => Post(Create, ValidDraft.Replace("}", ""","tenant_id":7}""", StringComparison.Ordinal), SeleneApi.Json),
        "capability_id_with_spaces" => Post(Create, ValidDraft.Replace("cap.e2e.read", "cap e2e read", StringComparison.Ordinal), SeleneApi.Json),
        "malformed_capreq_id" => Post(Approve, """{"capreq_id":"capreq_NOT-HEX"}""", SeleneApi.Json),
        "body_70_kib" => Post(Create, ValidDraft.Replace("\"j\"", "\"" + new string('a', 70 * 1024) + "\"", StringComparison.Ordinal), SeleneApi.Json),
        "unknown_simulation" => Post("CAPREQ_TELEPORT_COMMIT", ValidDraft, SeleneApi.Json),
        "missing_idempotency_key" => Post(Create, ValidDraft, SeleneApi.Json, idempotencyKey: null),
        "idempotency_key_200_chars" => Post(Create, ValidDraft, SeleneApi.Json, idempotencyKey: new string('k', 200)),
        "missing_authorization" => Post(Create, ValidDraft, SeleneApi.Json, apiKey: null),
        "bogus_api_key" => Post(Create, ValidDraft, SeleneApi.Json, apiKey: "sel_" + new string('x', 43)),
        "text_plain" => Post(Create, ValidDraft, "text/plain"),
        "no_content_type" => Post(Create, ValidDraft, contentType: null),
        "unknown_route" => Get("/v1/capability-requests"),
        "unknown_query_parameter" => Get("/v1/capreqs?colour=blue"),
        // Found by BadInputCorpusTests: these routes read no query parameter and ignored any (200); now every route refuses one it does not read.
        "unknown_query_parameter_on_companies" => Get("/v1/companies?colour=blue"),
        "unknown_query_parameter_on_a_read_by_id" => Get("/v1/access/instances/alice?limit=5"),
        "unknown_query_parameter_on_catalog" => Get("/v1/catalog?status=ACTIVE"),
        "bad_status_value" => Get("/v1/capreqs?status=draft"),
        "limit_out_of_range" => Get("/v1/capreqs?limit=501"),
        "malformed_capreq_id_in_path" => Get("/v1/capreqs/not-a-capreq"),
        "journal_without_correlation_id" => Get("/v1/journal"),
        "delete_on_list" => new HttpRequestMessage(HttpMethod.Delete, new Uri("/v1/capreqs", UriKind.Relative))
        {
            Headers = { Authorization = new("Bearer", f.AliceKey) },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(input), input, "unknown case"),
    };

    private HttpRequestMessage Post(string simulation, string body, string? contentType, string? idempotencyKey = "", string? apiKey = "")
    {
        var request = SeleneApi.SimulationRequest(apiKey == "" ? f.AliceKey : apiKey, simulation, Encoding.UTF8.GetBytes(body), contentType);
        var key = idempotencyKey == "" ? SeleneApi.NewIdempotencyKey() : idempotencyKey;
        if (key is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return request;
    }

    private HttpRequestMessage Get(string pathAndQuery) => new(HttpMethod.Get, new Uri(pathAndQuery, UriKind.Relative))
    {
        Headers = { Authorization = new("Bearer", f.AliceKey) },
    };
}
