using Selene.Engines.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using static Selene.Runtime.Tests.AccessProfileKit;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

public sealed class AccessProfileTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private readonly AccessProfileKit _kit = new(f);

    private static string Profile() => "ap-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task TenantProfile_DraftUpdateActivateSupersedeRetire_KeepsOneCurrentVersionAndTheWholeHistory()
    {
        var p = Profile();
        var drafted = await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, payload: Payload()));
        Assert.Equal(AccessReasons.AccessApSchemaDrafted, drafted.Reason);
        Assert.Equal("DRAFT", Json(drafted, "access_profile", "lifecycle_state").GetString());
        Assert.Equal("acme", Json(drafted, "access_profile", "scope_key").GetString());

        var updated = await _kit.OkAsync(ProfileHandlers.SchemaUpdate, SchemaBody(p, 1, payload: Payload(allow: "\"CAPREQ_MANAGE\"", mode: "A", financial: true)));
        Assert.Equal(AccessReasons.AccessApSchemaUpdated, updated.Reason);
        Assert.Equal("A", Json(updated, "access_profile", "profile_payload", "access_mode").GetString());

        var activated = await _kit.OkAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1));
        Assert.Equal(AccessReasons.AccessApSchemaActivated, activated.Reason);
        Assert.True(Json(activated, "access_profile", "is_current").GetBoolean());
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_current", CurrentIs(p, 1) + " AND doc #>> '{profile,versions,1,payload,access_mode}' = 'A'"));

        // Activating v2 retires v1 (superseded) and moves the projection; v1's history stays.
        await _kit.ActiveProfileAsync(p, 2);
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_current", CurrentIs(p, 2)));
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_ledger",
            $"stream_id = 'TENANT:{p}' AND event_type = 'RETIRE' AND payload->>'schema_version_id' = '1' AND payload->>'superseded_by' = '2'"));

        // Retiring the current version clears the projection.
        var retired = await _kit.OkAsync(ProfileHandlers.SchemaRetire, SchemaBody(p, 2));
        Assert.Equal(AccessReasons.AccessApSchemaRetired, retired.Reason);
        Assert.False(Json(retired, "access_profile", "is_current").GetBoolean());
        Assert.Equal(0, await _kit.CountAsync("access_ap_schema_current", $"stream_id = 'TENANT:{p}' AND status = 'ACTIVE'"));
        Assert.Equal(["CREATE_DRAFT", "UPDATE_DRAFT", "ACTIVATE", "CREATE_DRAFT", "RETIRE", "ACTIVATE", "RETIRE"], await ActionsAsync(p));
        Assert.Equal(7, await _kit.CountAsync("journal", $"engine = 'PH1.ACCESS' AND payload LIKE '%{p}%' AND event_type = 'STATE_TRANSITION'"));
    }

    [Fact]
    public async Task RetiringADraft_IsAllowed_AndLeavesTheCurrentVersionAlone()
    {
        var p = Profile();
        await _kit.ActiveProfileAsync(p, 1);
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 2, payload: Payload()));
        await _kit.OkAsync(ProfileHandlers.SchemaRetire, SchemaBody(p, 2));
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_current", CurrentIs(p, 1)));
    }

    public static TheoryData<string, string, ReasonCode> IllegalMoves => new()
    {
        // v1 is ACTIVE, v2 RETIRED (drafted then retired), v9 never drafted.
        { ProfileHandlers.SchemaUpdate, "update an ACTIVE version", AccessReasons.AccessApTransitionInvalid },
        { ProfileHandlers.SchemaActivate, "activate the ACTIVE version again", AccessReasons.AccessApTransitionInvalid },
        { ProfileHandlers.SchemaCreateDraft, "draft an existing version", AccessReasons.AccessApTransitionInvalid },
        { "activate-retired", "activate a RETIRED version", AccessReasons.AccessApTransitionInvalid },
        { "retire-retired", "retire a RETIRED version", AccessReasons.AccessApTransitionInvalid },
        { "update-missing", "update a version never drafted", AccessReasons.AccessSchemaRefMissing },
        { "activate-missing", "activate a version never drafted", AccessReasons.AccessSchemaRefMissing },
        { "retire-missing", "retire a version never drafted", AccessReasons.AccessSchemaRefMissing },
    };

    [Theory]
    [MemberData(nameof(IllegalMoves))]
    public async Task IllegalLifecycleMoves_AreRefusedWithTheirReason_JournaledAndWithoutEffect(string move, string scenario, ReasonCode expected)
    {
        var p = Profile();
        await _kit.ActiveProfileAsync(p, 1);
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 2, payload: Payload()));
        await _kit.OkAsync(ProfileHandlers.SchemaRetire, SchemaBody(p, 2));
        var (simulation, body) = move switch
        {
            "activate-retired" => (ProfileHandlers.SchemaActivate, SchemaBody(p, 2)),
            "retire-retired" => (ProfileHandlers.SchemaRetire, SchemaBody(p, 2)),
            "update-missing" => (ProfileHandlers.SchemaUpdate, SchemaBody(p, 9, payload: Payload())),
            "activate-missing" => (ProfileHandlers.SchemaActivate, SchemaBody(p, 9)),
            "retire-missing" => (ProfileHandlers.SchemaRetire, SchemaBody(p, 9)),
            ProfileHandlers.SchemaActivate => (move, SchemaBody(p, 1)),
            _ => (move, SchemaBody(p, 1, payload: Payload(mode: "X"))),
        };
        var ledger = await _kit.CountAsync("access_ap_schema_ledger", $"stream_id LIKE '%:{p}'");
        var refusals = await _kit.CountAsync("journal", $"event_type = 'SIMULATION_REFUSED' AND payload LIKE '%{p}%'");

        var result = await _kit.RunAsync(simulation, body);

        Assert.True(result.Outcome == ExecutionOutcome.Refused, scenario);
        Assert.Equal(expected, result.Reason);
        Assert.Equal(ledger, await _kit.CountAsync("access_ap_schema_ledger", $"stream_id LIKE '%:{p}'"));
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_current", CurrentIs(p, 1)));
        Assert.Equal(refusals + 1, await _kit.CountAsync("journal", $"event_type = 'SIMULATION_REFUSED' AND reason_code = '{expected.Name}' AND payload LIKE '%{p}%'"));
    }

    [Fact]
    public async Task Activate_RetriedWithTheSameKey_ReplaysTheStoredResultAndWritesOnce()
    {
        var p = Profile();
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, payload: Payload()));
        var key = Key("activate");
        var first = await _kit.OkAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1), key: key);
        var retry = await _kit.OkAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1), key: key);
        Assert.Equal(ExecutionOutcome.Executed, first.Outcome);
        Assert.Equal(ExecutionOutcome.Replayed, retry.Outcome);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_ledger", $"stream_id = 'TENANT:{p}' AND event_type = 'ACTIVATE'"));

        // The same key with another body is not a retry.
        var reused = await _kit.RunAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 2), key: key);
        Assert.Equal(ReasonCodes.IdempotencyKeyReused, reused.Reason);
    }

    [Fact]
    public async Task GlobalProfile_WrittenByAPlatformOperator_IsSharedReadOnlyWithEveryTenant()
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Profile();

        // globex is no platform operator: refused, nothing written anywhere.
        var refused = await _kit.RunAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, "GLOBAL", Payload()), tenant: "globex");
        Assert.Equal(ExecutionOutcome.Refused, refused.Outcome);
        Assert.Equal(AccessReasons.AccessApScopeViolation, refused.Reason);
        Assert.Equal(0, await _kit.CountAsync("access_ap_schema_ledger", $"stream_id LIKE '%:{p}'", tenant: "globex"));

        await _kit.ActiveProfileAsync(p, 1, "GLOBAL");
        Assert.Equal(2, await _kit.CountAsync("access_ap_schema_ledger", $"stream_id = 'GLOBAL:{p}' AND tenant_id = '{EngineStore.GlobalTenantKey}' AND actor_tenant_id = 'acme'", tenant: "globex"));
        await using (var tx = await TenantTransaction.BeginAsync(f.Db.App, "globex"))
        {
            var current = Assert.Single(await ProfileHandlers.Schemas.ListGlobalAsync(tx, "ACTIVE", null, 1000, default), r => r.State.AccessProfileId == p);
            Assert.Equal(($"GLOBAL:{p}", ApScope.Global, "GLOBAL", (int?)1),
                (current.StreamId, current.State.Scope, current.State.ScopeKey, current.State.Profile.CurrentVersionId));
            // It is the platform's row, not globex's own.
            Assert.DoesNotContain(await ProfileHandlers.Schemas.ListAsync(tx, null, null, 1000, default), r => r.State.AccessProfileId == p);
        }

        // Reading is not writing: globex still cannot retire it.
        var retire = await _kit.RunAsync(ProfileHandlers.SchemaRetire, SchemaBody(p, 1, "GLOBAL"), tenant: "globex");
        Assert.Equal(AccessReasons.AccessApScopeViolation, retire.Reason);
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_current", CurrentIs(p, 1, "GLOBAL"), tenant: "globex"));
    }

    [Fact]
    public async Task TenantProfiles_OfTheSameId_StayApartPerTenant()
    {
        var p = Profile();
        await _kit.ActiveProfileAsync(p, 1, payload: Payload(mode: "R"));
        await _kit.ActiveProfileAsync(p, 1, payload: Payload(mode: "A"), tenant: "globex");
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_current", $"stream_id LIKE '%:{p}'"));
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_current",
            CurrentIs(p, 1) + " AND tenant_id = 'globex' AND doc->>'scope_key' = 'globex' AND doc #>> '{profile,versions,1,payload,access_mode}' = 'A'", tenant: "globex"));
        Assert.Equal(0, await _kit.CountAsync("access_ap_schema_ledger", $"stream_id LIKE '%:{p}' AND tenant_id = 'globex'"));
    }

    public static TheoryData<string, ReasonCode> BadPayloads => new()
    {
        { Payload(allow: ""), AccessReasons.AccessApSchemaInvalid },
        { Payload(allow: "\"*\",\"CAPREQ_MANAGE\""), AccessReasons.AccessApSchemaInvalid },
        { Payload(allow: "\"capreq manage\""), AccessReasons.AccessApSchemaInvalid },
        { Payload(allow: "\"CAPREQ_MANAGE\",\"CAPREQ_MANAGE\""), AccessReasons.AccessApSchemaInvalid },
        { Payload(name: "   "), AccessReasons.AccessApSchemaInvalid },
        { Payload(mode: "Z"), ReasonCodes.InputSchemaInvalid },
        { Payload().Replace("}", ",\"sneaky\":1}", StringComparison.Ordinal), ReasonCodes.InputSchemaInvalid },
        { """{"profile_name":"x","capability_allow_list":["A"],"access_mode":"R"}""", ReasonCodes.InputSchemaInvalid },
    };

    [Theory]
    [MemberData(nameof(BadPayloads))]
    public async Task Draft_WithABadPayload_IsRejectedBeforeStorage(string payload, ReasonCode expected)
    {
        var p = Profile();
        var result = await _kit.RunAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, payload: payload));
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(expected, result.Reason);
        Assert.Equal(0, await _kit.CountAsync("access_ap_schema_ledger", $"stream_id LIKE '%:{p}'"));
    }

    [Theory]
    [InlineData("""{"access_profile_id":"p","schema_version_id":0,"scope":"TENANT","reason":"r"}""", "ACCESS_CONTRACT_VALIDATION_FAILED")]
    [InlineData("""{"access_profile_id":"p","schema_version_id":"1","scope":"TENANT","reason":"r"}""", "INPUT_SCHEMA_INVALID")]
    [InlineData("""{"access_profile_id":"p","schema_version_id":1,"scope":"WORLD","reason":"r"}""", "INPUT_SCHEMA_INVALID")]
    [InlineData("""{"access_profile_id":"p","schema_version_id":1,"scope":"TENANT","reason":"r","extra":true}""", "INPUT_UNKNOWN_FIELD")]
    [InlineData("""{"access_profile_id":"p","schema_version_id":1,"scope":"TENANT"}""", "INPUT_SCHEMA_INVALID")]
    public async Task Activate_WithAMalformedBody_IsRejected(string body, string reason)
    {
        var result = await _kit.RunAsync(ProfileHandlers.SchemaActivate, body);
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(reason, result.Reason.Name);
    }

    [Fact]
    public async Task TenantCreate_WithPlatformOperator_LetsOnlyThatTenantWriteGlobalProfiles()
    {
        var bootstrap = new TenantBootstrap(f.Db, TimeProvider.System);
        Assert.True((await bootstrap.CreateAsync(new TenantId("opco"), new UserId("root"), platformOperator: true)).Created);
        Assert.True((await bootstrap.CreateAsync(new TenantId("plainco"), new UserId("root"))).Created);
        Assert.True(await IsOperatorAsync("opco"));
        Assert.False(await IsOperatorAsync("plainco"));
        Assert.False(await IsOperatorAsync("globex"));
    }

    /// <summary>The profile stream (TENANT unless said) is ACTIVE with version <paramref name="version"/> current.</summary>
    private static string CurrentIs(string profile, int version, string scope = "TENANT") =>
        $"stream_id = '{scope}:{profile}' AND status = 'ACTIVE' AND doc #>> '{{profile,current_version_id}}' = '{version}'";

    private async Task<bool> IsOperatorAsync(string tenant)
    {
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, tenant);
        return await EngineStore.SessionIsPlatformOperatorAsync(tx, default);
    }

    private async Task<string[]> ActionsAsync(string profile)
    {
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "acme");
        return (await ProfileHandlers.Schemas.Store.LedgerAsync(tx, default)).Where(r => r.StreamId == $"TENANT:{profile}").Select(r => r.EventType).ToArray();
    }
}
