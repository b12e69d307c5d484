using System.Text.Json;
using Selene.Engines.Position;
using Selene.Runtime.Platform;
using Selene.Runtime.Position;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

public sealed class PositionTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private const string Spec = """
        {"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"PRIVATE","exposure_rule":"TEXT_ONLY",
         "evidence_mode":"DOC_REQUIRED","prompt_short":"Licence number?","prompt_long":"Please type the number on your forklift licence."}
        """;

    private const string ConditionalSpec = """
        {"field_key":"hazmat_cert","field_type":"STRING","required_rule":"CONDITIONAL","required_predicate_ref":"jurisdiction=DE-BY",
         "sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"ATTESTATION","prompt_short":"Hazmat?","prompt_long":"Do you hold a hazmat certificate?"}
        """;

    private async Task<string> ActivePositionAsync(string company, string title)
    {
        await Ok(PositionSimulations.CompanyUpsert, $$"""{"company_id":"{{company}}","legal_name":"{{company}} GmbH","jurisdiction":"DE-BY","lifecycle_state":"ACTIVE"}""");
        var created = await Ok(PositionSimulations.CreateDraft, $$"""
            {"company_id":"{{company}}","position_title":"{{title}}","department":"Logistics","jurisdiction":"DE-BY","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """);
        var id = Field(created, "position", "position_id");
        await Ok(PositionSimulations.Activate, $$"""{"position_id":"{{id}}"}""");
        return id;
    }

    private async Task<ExecutionResult> Ok(string simulation, string body, string? key = null)
    {
        var result = await f.RunAsync("alice", simulation, key ?? Key("p"), body);
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return result;
    }

    private static string Field(ExecutionResult r, string obj, string field)
    {
        using var doc = JsonDocument.Parse(r.Body!);
        return doc.RootElement.GetProperty(obj).GetProperty(field).ToString();
    }

    [Fact]
    public async Task Schema_DraftUpdateActivateCurrentAndNew_WritesExactlyOneHandoffEvenWhenRetried()
    {
        var id = await ActivePositionAsync("acme-logistics", "Forklift Driver");
        await Ok(PositionSimulations.SchemaCreateDraft, $$"""{"company_id":"acme-logistics","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{Spec}}]}""");
        var updated = await Ok(PositionSimulations.SchemaUpdate, $$"""
            {"company_id":"acme-logistics","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{Spec}},{{ConditionalSpec}}],
             "change_reason":"hazmat rule","selectors":{"jurisdiction":"DE-BY"} }
            """);
        Assert.Equal("2", Field(updated, "schema", "field_count"));

        var key = Key("activate");
        var body = $$"""{"company_id":"acme-logistics","position_id":"{{id}}","schema_version_id":"v1","apply_scope":"CURRENT_AND_NEW","backfill_launch_confirmed":true}""";
        var first = await Ok(PositionSimulations.SchemaActivate, body, key);
        var retry = await Ok(PositionSimulations.SchemaActivate, body, key);
        Assert.Equal(ExecutionOutcome.Replayed, retry.Outcome);
        Assert.Equal(first.Body, retry.Body);
        using (var doc = JsonDocument.Parse(first.Body!))
        {
            Assert.True(doc.RootElement.GetProperty("backfill_handoff_required").GetBoolean());
            Assert.Equal("CURRENT_AND_NEW", doc.RootElement.GetProperty("schema").GetProperty("apply_scope").GetString());
        }

        Assert.Equal(1, await f.CountAsync("acme", "outbox", $"event_type = 'POSITION_REQUIREMENTS_ACTIVATED' AND payload LIKE '%{id}%'"));
        Assert.Equal(1, await f.CountAsync("acme", "position_requirements_schema_current", $"stream_id = '{id}' AND doc ->> 'active_version_id' = 'v1'"));
        Assert.Equal(3, await f.CountAsync("acme", "position_requirements_schema_ledger", $"stream_id = '{id}'"));
    }

    [Fact]
    public async Task Schema_ActivateNewHiresOnly_HandsOffNothing_AndASecondVersionReplacesTheFirst()
    {
        var id = await ActivePositionAsync("acme-retail", "Cashier");
        foreach (var v in new[] { "v1", "v2" })
        {
            await Ok(PositionSimulations.SchemaCreateDraft, $$"""{"company_id":"acme-retail","position_id":"{{id}}","schema_version_id":"{{v}}","field_specs":[{{Spec}}]}""");
            await Ok(PositionSimulations.SchemaActivate, $$"""{"company_id":"acme-retail","position_id":"{{id}}","schema_version_id":"{{v}}","apply_scope":"NEW_HIRES_ONLY"}""");
        }
        Assert.Equal(0, await f.CountAsync("acme", "outbox", $"payload LIKE '%{id}%'"));
        Assert.Equal(1, await f.CountAsync("acme", "position_requirements_schema_current", $"stream_id = '{id}' AND doc ->> 'active_version_id' = 'v2'"));
    }

    [Theory]
    [InlineData("CurrentAndNew", "CurrentAndNew", true)]
    [InlineData("CURRENT_AND_NEW", "CurrentAndNew", true)]
    [InlineData("NewHiresOnly", "NewHiresOnly", false)]
    [InlineData("NEW_HIRES_ONLY", "NewHiresOnly", false)]
    public async Task Schema_Activate_AcceptsTheSeedsScopeTokens_AndAnswersApplyScopeResult(string token, string result, bool handoff)
    {
        // Cross-engine integration packet: apply_scope NewHiresOnly | CurrentAndNew in, apply_scope_result and
        // backfill_handoff_required out; the upper-snake forms stay accepted and remain what is stored.
        var company = "co-" + Guid.NewGuid().ToString("N")[..8];
        var id = await ActivePositionAsync(company, "Loader");
        await Ok(PositionSimulations.SchemaCreateDraft, $$"""{"company_id":"{{company}}","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{Spec}}]}""");

        var activated = await Ok(PositionSimulations.SchemaActivate,
            $$"""{"company_id":"{{company}}","position_id":"{{id}}","schema_version_id":"v1","apply_scope":"{{token}}","backfill_launch_confirmed":true}""");

        using (var doc = JsonDocument.Parse(activated.Body!))
        {
            Assert.Equal(result, doc.RootElement.GetProperty("apply_scope_result").GetString());
            Assert.Equal(handoff, doc.RootElement.GetProperty("backfill_handoff_required").GetBoolean());
        }
        var stored = handoff ? "CURRENT_AND_NEW" : "NEW_HIRES_ONLY";
        Assert.Equal(1, await f.CountAsync("acme", "position_requirements_schema_current", $"stream_id = '{id}' AND doc ->> 'active_apply_scope' = '{stored}'"));
        Assert.Equal(handoff ? 1 : 0, await f.CountAsync("acme", "outbox", $"event_type = 'POSITION_REQUIREMENTS_ACTIVATED' AND payload LIKE '%{id}%'"));
    }

    [Theory]
    [InlineData("Current_And_New")]
    [InlineData("current_and_new")]
    [InlineData("ALL")]
    public async Task Schema_Activate_UnknownScopeToken_IsRefusedAsInput(string token)
    {
        var company = "co-" + Guid.NewGuid().ToString("N")[..8];
        var id = await ActivePositionAsync(company, "Stacker");
        await Ok(PositionSimulations.SchemaCreateDraft, $$"""{"company_id":"{{company}}","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{Spec}}]}""");

        var refused = await f.RunAsync("alice", PositionSimulations.SchemaActivate, Key("p"),
            $$"""{"company_id":"{{company}}","position_id":"{{id}}","schema_version_id":"v1","apply_scope":"{{token}}","backfill_launch_confirmed":true}""");

        Assert.False(refused.Succeeded);
        Assert.Equal(ReasonCodes.InputSchemaInvalid, refused.Reason);
        Assert.Equal(0, await f.CountAsync("acme", "position_requirements_schema_current", $"stream_id = '{id}' AND doc ->> 'active_version_id' IS NOT NULL"));
    }

    public static TheoryData<string, string, ReasonCode> Refusals => new()
    {
        { PositionSimulations.Activate, "ACTIVE position activated again", PositionReasons.PositionTransitionInvalid },
        { PositionSimulations.SchemaUpdate, "update of a version never drafted", PositionReasons.PositionSchemaVersionNotFound },
        { PositionSimulations.SchemaActivate, "activation of a version never drafted", PositionReasons.PositionSchemaVersionNotFound },
        { PositionSimulations.CreateDraft, "the same position twice", PositionReasons.PositionDuplicate },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task IllegalPositionMoves_AreRefusedAndJournaledWithoutEffect(string simulation, string scenario, ReasonCode expected)
    {
        var company = "co-" + Guid.NewGuid().ToString("N")[..8];
        var id = await ActivePositionAsync(company, "Picker");
        var body = simulation switch
        {
            PositionSimulations.Activate => $$"""{"position_id":"{{id}}"}""",
            PositionSimulations.SchemaUpdate => $$"""{"company_id":"{{company}}","position_id":"{{id}}","schema_version_id":"v7","field_specs":[{{Spec}}],"change_reason":"x"}""",
            PositionSimulations.SchemaActivate => $$"""{"company_id":"{{company}}","position_id":"{{id}}","schema_version_id":"v7","apply_scope":"NEW_HIRES_ONLY"}""",
            _ => $$"""
                {"company_id":"{{company}}","position_title":"Picker","department":"Logistics","jurisdiction":"DE-BY","schedule_type":"SHIFT",
                 "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
                """,
        };
        var lifecycle = await f.CountAsync("acme", "position_ledger");
        var schema = await f.CountAsync("acme", "position_requirements_schema_ledger");
        var result = await f.RunAsync("alice", simulation, Key("bad"), body);
        Assert.True(result.Outcome == ExecutionOutcome.Refused, scenario);
        Assert.Equal(expected, result.Reason);
        Assert.Equal(lifecycle, await f.CountAsync("acme", "position_ledger"));
        Assert.Equal(schema, await f.CountAsync("acme", "position_requirements_schema_ledger"));
    }

    [Fact]
    public async Task CreatePosition_UnderAMissingCompany_IsRefused()
    {
        var result = await f.RunAsync("alice", PositionSimulations.CreateDraft, Key("p"), """
            {"company_id":"nobody-co","position_title":"Ghost","department":"None","jurisdiction":"DE","schedule_type":"FULL_TIME",
             "permission_profile_ref":"ap","compensation_band_ref":"band"}
            """);
        Assert.Equal(PositionReasons.PositionAuthCompanyInvalid, result.Reason);
    }

    [Fact]
    public async Task SchemaDraft_WithAnInvalidFieldSpec_IsRefusedBeforeStorage()
    {
        var id = await ActivePositionAsync("acme-bad-spec", "Loader");
        var result = await f.RunAsync("alice", PositionSimulations.SchemaCreateDraft, Key("p"), $$"""
            {"company_id":"acme-bad-spec","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{Spec.Replace("ALWAYS", "CONDITIONAL", StringComparison.Ordinal)}}]}
            """);
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(PositionReasons.PositionSchemaScopeInvalid, result.Reason);
    }

    [Fact]
    public async Task ValidateAuthCompany_AnswersOkOrFailWithTheReason_AndWritesNothing()
    {
        var id = await ActivePositionAsync("acme-checks", "Checker");
        var before = await f.CountAsync("acme", "position_ledger");
        async Task<(string Status, string Reason)> Check(string company, string action)
        {
            var r = await Ok(PositionSimulations.ValidateAuthCompany, $$"""{"company_id":"{{company}}","position_id":"{{id}}","requested_action":"{{action}}"}""");
            Assert.Equal(PositionReasons.PositionValidated, r.Reason);
            using var doc = JsonDocument.Parse(r.Body!);
            return (doc.RootElement.GetProperty("validation_status").GetString()!, doc.RootElement.GetProperty("validation_reason_code").GetString()!);
        }

        Assert.Equal(("OK", "POSITION_OK_VALIDATE_AUTH_COMPANY"), await Check("acme-checks", "SUSPEND"));
        Assert.Equal(("OK", "POSITION_OK_VALIDATE_AUTH_COMPANY"), await Check("acme-checks", "RETIRE"));
        Assert.Equal(("FAIL", "POSITION_TRANSITION_INVALID"), await Check("acme-checks", "ACTIVATE")); // already ACTIVE
        Assert.Equal(("FAIL", "POSITION_AUTH_COMPANY_INVALID"), await Check("someone-else", "SUSPEND"));
        await Ok(PositionSimulations.CompanyUpsert, """{"company_id":"acme-checks","legal_name":"acme-checks GmbH","jurisdiction":"DE-BY","lifecycle_state":"SUSPENDED"}""");
        Assert.Equal(("FAIL", "POSITION_AUTH_COMPANY_INVALID"), await Check("acme-checks", "SUSPEND"));
        Assert.Equal(before, await f.CountAsync("acme", "position_ledger"));

        var missing = await f.RunAsync("alice", PositionSimulations.ValidateAuthCompany, Key("v"),
            """{"company_id":"acme-checks","position_id":"pos_0000000000000000","requested_action":"RETIRE"}""");
        Assert.Equal(PositionReasons.PositionNotFound, missing.Reason);
    }

    [Fact]
    public async Task BandPolicyCheck_AllowsTheOwnBand_EscalatesAnother()
    {
        var id = await ActivePositionAsync("acme-bands", "Banded");
        async Task<(string Result, string Reason)> Check(string band)
        {
            var r = await Ok(PositionSimulations.BandPolicyCheck, $$"""{"position_id":"{{id}}","compensation_band_ref":"{{band}}"}""");
            Assert.Equal(PositionReasons.PositionBandChecked, r.Reason);
            using var doc = JsonDocument.Parse(r.Body!);
            return (doc.RootElement.GetProperty("policy_result").GetString()!, doc.RootElement.GetProperty("policy_reason_code").GetString()!);
        }

        Assert.Equal(("ALLOW", "POSITION_OK_BAND_POLICY_CHECK"), await Check("band.b2"));
        Assert.Equal(("ESCALATE", "ACCESS_AP_REQUIRED"), await Check("band.b9"));
        Assert.Equal(ReasonCodes.InputFieldInvalid, (await f.RunAsync("alice", PositionSimulations.BandPolicyCheck, Key("b"),
            """{"position_id":"pos_x","compensation_band_ref":"band.b2"}""")).Reason);
    }

    private async Task<ReadResult> HoldersAsync(string positionId, Dictionary<string, string>? query = null) =>
        await PositionModule.Module.Routes.Single(r => r.Name == "ListPositionHolders").Query(new ReadRequest(f.Db, new TenantId("acme"),
            new Dictionary<string, string> { ["position_id"] = positionId }, query ?? [], UnixNanos.FromDateTimeOffset(DateTimeOffset.UtcNow)), default);

    private static string[] Rows(ReadResult r, string field) =>
        Assert.IsType<ReadResult.Ok>(r).Body["holders"]!.AsArray().Select(h => h![field]!.GetValue<string>()).ToArray();

    [Fact]
    public async Task Holders_AssignEndAndReassign_AreGoverned_ListedByPositionWithPaging_AndJournaled()
    {
        var id = await ActivePositionAsync("acme-holders", "Picker");
        var other = await ActivePositionAsync("acme-holders", "Packer");
        foreach (var user in new[] { "hana", "ivo", "jon" }) await Ok(PositionSimulations.HolderAssign, $$"""{"position_id":"{{id}}","user_id":"{{user}}"}""");
        await Ok(PositionSimulations.HolderAssign, $$"""{"position_id":"{{other}}","user_id":"kai"}""");
        var repeat = await Ok(PositionSimulations.HolderAssign, $$"""{"position_id":"{{id}}","user_id":"ivo"}""");
        Assert.Equal(PositionReasons.HolderAssigned, repeat.Reason);
        var ended = await Ok(PositionSimulations.HolderEnd, $$"""{"position_id":"{{id}}","user_id":"ivo"}""");
        Assert.Equal("ENDED", Field(ended, "holder", "status"));
        var again = await f.RunAsync("alice", PositionSimulations.HolderEnd, Key("p"), $$"""{"position_id":"{{id}}","user_id":"ivo"}""");
        Assert.Equal(PositionReasons.HolderNotCurrent, again.Reason);

        Assert.Equal(["hana", "ivo", "jon"], Rows(await HoldersAsync(id), "user_id"));
        Assert.Equal(["CURRENT", "ENDED", "CURRENT"], Rows(await HoldersAsync(id), "status"));
        Assert.Equal(["hana", "jon"], Rows(await HoldersAsync(id, new() { ["status"] = "CURRENT" }), "user_id"));
        var page = Assert.IsType<ReadResult.Ok>(await HoldersAsync(id, new() { ["limit"] = "2" })).Body;
        Assert.Equal($"{id}:ivo", page["next_after"]!.GetValue<string>());
        Assert.Equal(["jon"], Rows(await HoldersAsync(id, new() { ["after"] = $"{id}:ivo" }), "user_id"));
        Assert.Equal(["kai"], Rows(await HoldersAsync(other), "user_id"));

        // Bad paging and unknown positions are refused; ivo's holding: assigned, ended, one journal entry each.
        Assert.Equal(ReasonCodes.QueryParameterInvalid, Assert.IsType<ReadResult.Refused>(await HoldersAsync(id, new() { ["after"] = $"{other}:kai" })).Reason);
        Assert.Equal(ReasonCodes.QueryParameterInvalid, Assert.IsType<ReadResult.Refused>(await HoldersAsync(id, new() { ["status"] = "GONE" })).Reason);
        Assert.Equal(PositionReasons.PositionNotFound, Assert.IsType<ReadResult.Refused>(await HoldersAsync("pos_0000000000000000")).Reason);
        Assert.Equal(PositionReasons.PositionNotFound, Assert.IsType<ReadResult.Refused>(await HoldersAsync("nope")).Reason);
        Assert.Equal(2, await f.CountAsync("acme", "position_holder_ledger", $"stream_id = '{id}:ivo'"));
        Assert.Equal(1, await f.CountAsync("acme", "journal", $$"""
            event_type = 'STATE_TRANSITION' AND engine = 'PH1.POSITION' AND payload::jsonb @> '{"holder_id":"{{id}}:ivo","state_from":"CURRENT","state_to":"ENDED"}'
            """));
    }

    [Fact]
    public async Task Holders_OfAPositionNotActive_OrMissing_OrBadInput_AreRefused_AndWriteNothing()
    {
        var id = await ActivePositionAsync("acme-holders2", "Loader");
        await Ok(PositionSimulations.RetireOrSuspend, $$"""{"position_id":"{{id}}","requested_state":"SUSPENDED"}""");
        var before = await f.CountAsync("acme", "position_holder_ledger");
        var suspended = await f.RunAsync("alice", PositionSimulations.HolderAssign, Key("p"), $$"""{"position_id":"{{id}}","user_id":"lea"}""");
        Assert.Equal(PositionReasons.PositionTransitionInvalid, suspended.Reason);
        var missing = await f.RunAsync("alice", PositionSimulations.HolderAssign, Key("p"), """{"position_id":"pos_0000000000000000","user_id":"lea"}""");
        Assert.Equal(PositionReasons.PositionNotFound, missing.Reason);
        var bad = await f.RunAsync("alice", PositionSimulations.HolderAssign, Key("p"), $$"""{"position_id":"{{id}}","user_id":"lea smith"}""");
        Assert.Equal(ReasonCodes.InputFieldInvalid, bad.Reason);
        Assert.Equal(before, await f.CountAsync("acme", "position_holder_ledger"));
    }

    [Fact]
    public async Task Rebuild_AfterPositionTraffic_IsIdentical_AndAHandAlteredRowIsFoundAndRestored()
    {
        // Its own tenant: the alteration below must not meet the other tests' rows.
        async Task<ExecutionResult> Globex(string simulation, string body)
        {
            var result = await f.RunAsync("carol", simulation, Key("g"), body, tenant: "globex");
            Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
            return result;
        }
        await Globex(PositionSimulations.CompanyUpsert, """{"company_id":"gx-co","legal_name":"Globex Co","jurisdiction":"US","lifecycle_state":"DRAFT"}""");
        await Globex(PositionSimulations.CompanyUpsert, """{"company_id":"gx-co","legal_name":"Globex Company","jurisdiction":"US","lifecycle_state":"ACTIVE"}""");
        var id = Field(await Globex(PositionSimulations.CreateDraft, """
            {"company_id":"gx-co","position_title":"Welder","department":"Plant","jurisdiction":"US","schedule_type":"FULL_TIME",
             "permission_profile_ref":"ap.welder","compensation_band_ref":"band.w1"}
            """), "position", "position_id");
        await Globex(PositionSimulations.Activate, $$"""{"position_id":"{{id}}"}""");
        await Globex(PositionSimulations.SchemaCreateDraft, $$"""{"company_id":"gx-co","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{Spec}}]}""");
        await Globex(PositionSimulations.SchemaUpdate, $$"""
            {"company_id":"gx-co","position_id":"{{id}}","schema_version_id":"v1","field_specs":[{{Spec}},{{ConditionalSpec}}],"change_reason":"hazmat","selectors":{"jurisdiction":"US"} }
            """);
        await Globex(PositionSimulations.SchemaActivate, $$"""{"company_id":"gx-co","position_id":"{{id}}","schema_version_id":"v1","apply_scope":"CURRENT_AND_NEW","backfill_launch_confirmed":true}""");
        await Globex(PositionSimulations.SchemaCreateDraft, $$"""{"company_id":"gx-co","position_id":"{{id}}","schema_version_id":"v2","field_specs":[{{Spec}}]}""");
        await Globex(PositionSimulations.SchemaActivate, $$"""{"company_id":"gx-co","position_id":"{{id}}","schema_version_id":"v2","apply_scope":"NEW_HIRES_ONLY"}""");
        await Globex(PositionSimulations.HolderAssign, $$"""{"position_id":"{{id}}","user_id":"gx-ann"}""");
        await Globex(PositionSimulations.HolderAssign, $$"""{"position_id":"{{id}}","user_id":"gx-bo"}""");
        await Globex(PositionSimulations.HolderEnd, $$"""{"position_id":"{{id}}","user_id":"gx-bo"}""");
        await Globex(PositionSimulations.RetireOrSuspend, $$"""{"position_id":"{{id}}","requested_state":"SUSPENDED"}""");

        // One journal vocabulary: the schema stream's transitions (NONE → DRAFT → ACTIVE) beside the version they wrote or activated.
        Assert.Equal(1, await f.CountAsync("globex", "journal", $$"""
            event_type = 'STATE_TRANSITION' AND engine = 'PH1.POSITION' AND payload::jsonb @> '{"position_id":"{{id}}","schema_version_id":"v1",
            "state_from":"DRAFT","state_to":"ACTIVE","apply_scope":"CURRENT_AND_NEW"}'
            """));
        Assert.Equal(1, await f.CountAsync("globex", "journal", $$"""
            event_type = 'STATE_TRANSITION' AND payload::jsonb @> '{"position_id":"{{id}}","schema_version_id":"v1","state_from":"NONE","state_to":"DRAFT","field_count":"1"}'
            """));

        var reports = await f.Maintenance.RebuildAsync("position", "globex", apply: false);
        Assert.Equal(["tenant_company", "position", "position_requirements_schema", "position_holder"], reports.Select(r => r.Store));
        Assert.All(reports, r => Assert.True(r.Identical && r.Rows > 0, $"{r.Store}: {string.Join(",", r.Differences)}"));

        // Only the documents change (status, source event and time stay): the comparison must read the JSON.
        await f.OwnerExecAsync("globex", $$"""UPDATE selene.position_requirements_schema_current SET doc = jsonb_set(doc, '{active_version_id}', '"v1"') WHERE stream_id = '{{id}}'""");
        await f.OwnerExecAsync("globex", """UPDATE selene.tenant_company_current SET doc = jsonb_set(doc, '{legal_name}', '"Forged"') WHERE stream_id = 'gx-co'""");
        var altered = await f.Maintenance.RebuildAsync("PH1.POSITION", "globex", apply: false);
        Assert.Equal([["gx-co"], [], [id], []], altered.Select(r => r.Differences.ToArray()));

        Assert.All(await f.Maintenance.RebuildAsync("position", "globex", apply: true), r => Assert.True(r.Applied));
        Assert.All(await f.Maintenance.RebuildAsync("position", "globex", apply: false), r => Assert.True(r.Identical));
        await using var tx = await Selene.Postgres.TenantTransaction.BeginAsync(f.Db.App, "globex");
        Assert.Equal("v2", (await PositionModule.Schemas.GetAsync(tx, id, default))!.ActiveVersionId);
        Assert.Equal("Globex Company", (await PositionModule.Companies.GetAsync(tx, "gx-co", default))!.LegalName);
    }
}
