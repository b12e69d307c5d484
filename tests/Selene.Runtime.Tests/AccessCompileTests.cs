using System.Text;
using Selene.Engines.Access;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Runtime.Access;
using Selene.Engines.Position;
using static Selene.Runtime.Tests.AccessProfileKit;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>ACCESS_INSTANCE_COMPILE_COMMIT: global AP → tenant AP → overlays into one user's access instance, with lineage.</summary>
public sealed class AccessCompileTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private readonly AccessProfileKit _kit = new(f);

    private static string Id(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    private static string CompileBody(string user, string profile, int global, string extra = "") =>
        $$"""{"target_user_id":"{{user}}","access_profile_id":"{{profile}}","global_profile_version_ref":{{global}},"compile_reason":"new hire"{{extra}}}""";

    private async Task<AccessInstanceState?> InstanceAsync(string tenant, string user)
    {
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, tenant);
        return await GovernanceHandlers.Instances.GetAsync(tx, user, default);
    }

    private async Task<string> PositionAsync()
    {
        var company = Id("co");
        await _kit.OkAsync(PositionSimulations.CompanyUpsert, $$"""{"company_id":"{{company}}","legal_name":"Acme Logistics","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""");
        var created = await _kit.OkAsync(PositionSimulations.CreateDraft, $$"""
            {"company_id":"{{company}}","position_title":"Picker","department":"Logistics","jurisdiction":"DE","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.picker","compensation_band_ref":"band.b1"}
            """);
        return Json(created, "position", "position_id").GetString()!;
    }

    [Fact]
    public async Task Compile_GlobalThenTenantThenOverlays_WritesTheInstanceWithItsLineage_AndTheGateFollowsIt()
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Id("ap");
        var user = Id("dave");
        await _kit.ActiveProfileAsync(p, 1, "GLOBAL", Payload(allow: "\"CAPREQ_MANAGE\",\"POSITION_MANAGE\",\"LINK_INVITE\"", mode: "X", financial: true));
        // The tenant profile narrows: fewer actions, a lower mode, no financial authorization.
        await _kit.ActiveProfileAsync(p, 3, "TENANT", Payload(allow: "\"CAPREQ_MANAGE\",\"LINK_INVITE\",\"ONB_BIZ_SETUP\"", mode: "A", financial: false));
        var adds = Id("ov-add");
        var removes = Id("ov-rm");
        await _kit.ActiveOverlayAsync(adds, 2, """[{"op":"ADD_PERMISSION","capability_id":"CAPREQ_SELF_APPROVE"},{"op":"TIGHTEN_CONSTRAINT","constraint_ref":"weekdays-only"}]""");
        await _kit.ActiveOverlayAsync(removes, 1, """[{"op":"REMOVE_PERMISSION","capability_id":"LINK_INVITE"},{"op":"ADD_PERMISSION","capability_id":"LINK_INVITE"}]""");
        var position = await PositionAsync();

        var result = await _kit.OkAsync(ProfileHandlers.InstanceCompile, CompileBody(user, p, 1,
            $$""","tenant_profile_version_ref":3,"overlay_version_refs":[{"overlay_id":"{{removes}}","overlay_version_id":1},{"overlay_id":"{{adds}}","overlay_version_id":2}],"position_id":"{{position}}" """));

        Assert.Equal(AccessReasons.AccessInstanceCompiled, result.Reason);
        Assert.True(Json(result, "identity_created").GetBoolean());
        var instance = Json(result, "access_instance");
        Assert.Equal(InstanceDecider.AccessInstanceId("acme", user), instance.GetProperty("access_instance_id").GetString());
        Assert.Equal("A", instance.GetProperty("effective_access_mode").GetString());
        Assert.Equal(["CAPREQ_MANAGE", "CAPREQ_SELF_APPROVE"],
            instance.GetProperty("baseline_permissions").GetProperty("allow").EnumerateArray().Select(e => e.GetString()));
        Assert.False(instance.GetProperty("baseline_permissions").GetProperty("financial_auth").GetBoolean());
        Assert.Equal("weekdays-only", instance.GetProperty("baseline_permissions").GetProperty("constraint_refs")[0].GetString());
        Assert.Equal((p, 1, p, 3), (instance.GetProperty("compiled_global_profile_id").GetString(), instance.GetProperty("compiled_global_profile_version").GetInt32(),
            instance.GetProperty("compiled_tenant_profile_id").GetString(), instance.GetProperty("compiled_tenant_profile_version").GetInt32()));
        Assert.Equal(CompileDecider.OverlaySetRef([new OverlayVersionRef(adds, 2), new OverlayVersionRef(removes, 1)]),
            instance.GetProperty("compiled_overlay_set_ref").GetString());
        Assert.Equal(position, instance.GetProperty("compiled_position_id").GetString());
        Assert.Equal(("ACTIVE", true, "PASSCODE_TIME", "DTL3", p), (instance.GetProperty("lifecycle_state").GetString(), instance.GetProperty("identity_verified").GetBoolean(),
            instance.GetProperty("verification_level").GetString(), instance.GetProperty("device_trust_level").GetString(), instance.GetProperty("role_template_id").GetString()));

        // Stored: the ledger row says COMPILE with the same lineage; the projection reads back the same JSON.
        Assert.Equal(1, await _kit.CountAsync("access_instance_ledger",
            $"stream_id = '{user}' AND event_type = 'COMPILE' AND payload->'lineage'->>'global_profile_version' = '1' AND payload->'lineage'->>'tenant_profile_version' = '3' AND payload->'lineage'->>'position_id' = '{position}'"));
        Assert.Equal(1, await _kit.CountAsync("identities", $"user_id = '{user}'"));
        var stored = await InstanceAsync("acme", user);
        Assert.Equal(instance.GetRawText(), Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(AccessCheck.ToJson(stored!).ToJsonString()))));
        // One engine id per engine: the compile journals under PH1.ACCESS, never under the catalog owner's PH2.ACCESS.002.
        Assert.Equal(1, await _kit.CountAsync("journal", $"engine = 'PH1.ACCESS' AND event_type = 'STATE_TRANSITION' AND payload LIKE '%ACCESS_INSTANCE_COMPILE_COMMIT%' AND payload LIKE '%{user}%'"));
        Assert.Equal(0, await _kit.CountAsync("journal", $"engine = 'PH2.ACCESS.002' AND payload LIKE '%{user}%'"));

        // The gate reads the compiled instance.
        var check = new AccessCheck(f.Db, TimeProvider.System);
        Assert.Equal(AccessDecisionKind.Allow, (await check.CheckAsync(new TenantId("acme"), new UserId(user), "CAPREQ_SELF_APPROVE", AccessMode.A)).Decision);
        var removed = await check.CheckAsync(new TenantId("acme"), new UserId(user), "LINK_INVITE", AccessMode.R);
        Assert.Equal((AccessDecisionKind.Deny, ReasonCodes.AccessDenied), (removed.Decision, removed.Reason));
        Assert.Equal(ReasonCodes.AccessApRequired, (await check.CheckAsync(new TenantId("acme"), new UserId(user), "CAPREQ_MANAGE", AccessMode.X)).Reason);
    }

    [Fact]
    public async Task Compile_OfAGlobalProfileOnly_WorksForAnyTenant_AndARecompileKeepsThePosture()
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Id("ap");
        await _kit.ActiveProfileAsync(p, 1, "GLOBAL", Payload(allow: "\"*\"", mode: "R"));
        var first = await _kit.OkAsync(ProfileHandlers.InstanceCompile, CompileBody("erin", p, 1,
            ""","device_trust_level":"DTL2","lifecycle_state":"RESTRICTED","verification_level":"BIOMETRIC","identity_verified":false"""), tenant: "globex");
        Assert.Equal("*", Json(first, "access_instance", "baseline_permissions", "allow")[0].GetString());
        Assert.False(Json(first, "access_instance").TryGetProperty("compiled_tenant_profile_id", out _));

        // A new global version; the recompile keeps the instance's own posture because none is given.
        await _kit.ActiveProfileAsync(p, 2, "GLOBAL", Payload(allow: "\"CAPREQ_MANAGE\"", mode: "W", financial: true));
        var again = await _kit.OkAsync(ProfileHandlers.InstanceCompile, CompileBody("erin", p, 2), tenant: "globex");
        var instance = Json(again, "access_instance");
        Assert.False(Json(again, "identity_created").GetBoolean());
        Assert.Equal(("W", "DTL2", "RESTRICTED", "BIOMETRIC", false, 2),
            (instance.GetProperty("effective_access_mode").GetString(), instance.GetProperty("device_trust_level").GetString(), instance.GetProperty("lifecycle_state").GetString(),
             instance.GetProperty("verification_level").GetString(), instance.GetProperty("identity_verified").GetBoolean(), instance.GetProperty("compiled_global_profile_version").GetInt32()));
        Assert.Equal(2, await _kit.CountAsync("access_instance_ledger", "stream_id = 'erin' AND event_type = 'COMPILE'", tenant: "globex"));
        Assert.Null(await InstanceAsync("acme", "erin"));
    }

    [Fact]
    public async Task Compile_OfOnesOwnInstance_OrBeyondOnesOwnAuthority_IsRefused()
    {
        var p = Id("ap");
        await _kit.MakeAcmeOperatorAsync();
        await _kit.ActiveProfileAsync(p, 1, "GLOBAL");
        var own = await _kit.RunAsync(ProfileHandlers.InstanceCompile, CompileBody("alice", p, 1));
        Assert.Equal(AccessReasons.AccessSelfGrantForbidden, own.Reason);
        Assert.Equal(1, await _kit.CountAsync("journal",
            $"engine = 'PH1.ACCESS' AND event_type = 'SIMULATION_REFUSED' AND reason_code = '{AccessReasons.AccessSelfGrantForbidden.Name}' AND payload LIKE '%{ProfileHandlers.InstanceCompile}%' AND payload LIKE '%\"user_id\":\"alice\"%'"));
        Assert.Equal(1, await _kit.CountAsync("access_instance_ledger", "stream_id = 'alice'")); // the bootstrap row only
    }

    [Fact]
    public async Task RebuildAccess_AfterCompilesAndUpserts_IsIdentical_AndAHandAlteredInstanceIsFoundAndRestored()
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Id("ap");
        var user = Id("rb");
        await _kit.ActiveProfileAsync(p, 1, "GLOBAL");
        await _kit.OkAsync(ProfileHandlers.InstanceCompile, CompileBody(user, p, 1));
        await f.GiveInstanceAsync("alice", Id("up"), "clerk_write", "W", ["CAPREQ_MANAGE"]);
        await _kit.OkAsync(ProfileHandlers.InstanceCompile, CompileBody(user, p, 1, ""","lifecycle_state":"RESTRICTED" """));

        var reports = await f.Maintenance.RebuildAsync("access", "acme", apply: false);
        Assert.Contains(reports, r => r.Store == "access_instance" && r.Rows >= 3); // the bootstrap, the upsert, the compiled one
        Assert.All(reports, r => Assert.True(r.Identical, $"{r.Store}: {string.Join(",", r.Differences)}"));

        // Only the document changes: the compiled lineage claims another global version.
        await f.OwnerExecAsync("acme", $$"""
            UPDATE selene.access_instance_current SET doc = jsonb_set(doc, '{lineage,global_profile_version}', '9') WHERE stream_id = '{{user}}'
            """);
        Assert.Equal([user], Assert.Single(await f.Maintenance.RebuildAsync("access", "acme", apply: false), r => r.Store == "access_instance").Differences);
        await f.Maintenance.RebuildAsync("access", "acme", apply: true);
        var restored = (await InstanceAsync("acme", user))!;
        Assert.Equal((1, AccessLifecycle.Restricted), (restored.Lineage!.GlobalProfileVersion, restored.LifecycleState));
        Assert.All(await f.Maintenance.RebuildAsync("access", "acme", apply: false), r => Assert.True(r.Identical, r.Store));
    }

    [Fact]
    public async Task Compile_RetriedWithTheSameKey_WritesOnce()
    {
        var p = Id("ap");
        await _kit.MakeAcmeOperatorAsync();
        await _kit.ActiveProfileAsync(p, 1, "GLOBAL");
        var key = Key("compile");
        var first = await _kit.OkAsync(ProfileHandlers.InstanceCompile, CompileBody("frank", p, 1), key: key);
        var retry = await _kit.OkAsync(ProfileHandlers.InstanceCompile, CompileBody("frank", p, 1), key: key);
        Assert.Equal(ExecutionOutcome.Replayed, retry.Outcome);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(1, await _kit.CountAsync("access_instance_ledger", "stream_id = 'frank'"));
    }

    public static TheoryData<string, ReasonCode> BadRefs => new()
    {
        { "global-unknown", AccessReasons.AccessSchemaRefMissing },
        { "global-draft", AccessReasons.AccessProfileNotActive },
        { "global-superseded", AccessReasons.AccessProfileNotActive },
        { "global-as-tenant", AccessReasons.AccessSchemaRefMissing },
        { "tenant-unknown", AccessReasons.AccessSchemaRefMissing },
        { "tenant-draft", AccessReasons.AccessProfileNotActive },
        { "overlay-unknown", AccessReasons.AccessOverlayRefInvalid },
        { "overlay-draft", AccessReasons.AccessOverlayRefInvalid },
        { "overlay-retired", AccessReasons.AccessOverlayRefInvalid },
        { "overlay-other-tenant", AccessReasons.AccessOverlayRefInvalid },
        { "position-unknown", AccessReasons.AccessPositionRefMissing },
        { "wildcard-minus", AccessReasons.AccessOverlayOpInvalid },
    };

    [Theory]
    [MemberData(nameof(BadRefs))]
    public async Task Compile_WithARefThatDoesNotResolveToSomethingActive_IsRefusedAndWritesNothing(string scenario, ReasonCode expected)
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Id("ap");
        var wildcard = Id("apw");
        var user = Id("user");
        await _kit.ActiveProfileAsync(p, 1, "GLOBAL");
        await _kit.ActiveProfileAsync(p, 2, "GLOBAL");                                            // v1 superseded, v2 ACTIVE
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 3, "GLOBAL", Payload())); // v3 DRAFT
        await _kit.ActiveProfileAsync(p, 1);                                                      // TENANT v1 ACTIVE
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 2, "TENANT", Payload())); // TENANT v2 DRAFT
        await _kit.ActiveProfileAsync(wildcard, 1, "GLOBAL", Payload(allow: "\"*\""));
        var tenantOnly = Id("apt");
        await _kit.ActiveProfileAsync(tenantOnly, 1);                                             // TENANT only, no GLOBAL version
        var active = Id("ov");
        var draft = Id("ov");
        var foreign = Id("ov");
        await _kit.ActiveOverlayAsync(active, 1, """[{"op":"REMOVE_PERMISSION","capability_id":"CAPREQ_MANAGE"}]""");
        await _kit.ActiveOverlayAsync(active, 2, """[{"op":"REMOVE_PERMISSION","capability_id":"CAPREQ_MANAGE"}]""");   // v1 retired
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(draft, 1, "CREATE_DRAFT", """[{"op":"ADD_PERMISSION","capability_id":"X1"}]"""));
        await _kit.ActiveOverlayAsync(foreign, 1, """[{"op":"ADD_PERMISSION","capability_id":"X1"}]""", tenant: "globex");
        string Ov(string id, int v) => $$""","overlay_version_refs":[{"overlay_id":"{{id}}","overlay_version_id":{{v}}}]""";
        var body = scenario switch
        {
            "global-unknown" => CompileBody(user, p, 7),
            "global-draft" => CompileBody(user, p, 3),
            "global-superseded" => CompileBody(user, p, 1),
            "global-as-tenant" => CompileBody(user, tenantOnly, 1, ""","tenant_profile_version_ref":1"""),
            "tenant-unknown" => CompileBody(user, p, 2, ""","tenant_profile_version_ref":9"""),
            "tenant-draft" => CompileBody(user, p, 2, ""","tenant_profile_version_ref":2"""),
            "overlay-unknown" => CompileBody(user, p, 2, Ov(Id("ov"), 1)),
            "overlay-draft" => CompileBody(user, p, 2, Ov(draft, 1)),
            "overlay-retired" => CompileBody(user, p, 2, Ov(active, 1)),
            "overlay-other-tenant" => CompileBody(user, p, 2, Ov(foreign, 1)),
            "position-unknown" => CompileBody(user, p, 2, ""","position_id":"pos_0000000000000000" """),
            _ => CompileBody(user, wildcard, 1, Ov(active, 2)),
        };
        var ledger = await _kit.CountAsync("access_instance_ledger");

        var result = await _kit.RunAsync(ProfileHandlers.InstanceCompile, body);

        Assert.True(result.Outcome == ExecutionOutcome.Refused, $"{scenario}: {result.Outcome} {result.Reason.Name} {result.Detail}");
        Assert.Equal(expected, result.Reason);
        Assert.Equal(ledger, await _kit.CountAsync("access_instance_ledger"));
        Assert.Null(await InstanceAsync("acme", user));
        Assert.Equal(0, await _kit.CountAsync("identities", $"user_id = '{user}'"));
    }

    [Theory]
    [InlineData(""","overlay_version_refs":[{"overlay_id":"a","overlay_version_id":1},{"overlay_id":"a","overlay_version_id":2}]""")]
    [InlineData(""","tenant_profile_version_ref":0""")]
    [InlineData(""","position_id":"not a position" """)]
    public async Task Compile_WithMalformedRefs_IsRejectedBeforeStorage(string extra)
    {
        var result = await _kit.RunAsync(ProfileHandlers.InstanceCompile, CompileBody("gina", "ap", 1, extra));
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(AccessReasons.AccessContractValidationFailed, result.Reason);
    }
}
