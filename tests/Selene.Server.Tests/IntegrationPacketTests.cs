using System.Net;
using System.Text.Json.Nodes;
using Selene.Contracts;
using Selene.Postgres.Stores;
using Selene.Runtime.Outbox;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The cross-engine packet's Step 7 "fail-closed when a required gate is missing", at the seam between POSITION and ONB
/// (docs/integration.md): a CURRENT_AND_NEW activation hands the backfill launch to ONB through the outbox, and the
/// launch passes the OS gates again as the activation's actor. When the access gate or the simulation gate is missing at
/// that moment, no campaign starts, nobody is messaged, and the handoff shows why; nothing half-happens. A real server on
/// 127.0.0.1 on a database of its own, a fake clock, the file sink.
/// </summary>
public sealed class IntegrationPacketTests : IAsyncLifetime
{
    private const string BackfillStart = "ONB_REQUIREMENT_BACKFILL_START_DRAFT";
    private WorkforceServer _server = null!;
    private string _position = "";

    public async Task InitializeAsync() => _server = await WorkforceServer.StartAsync(new DateTimeOffset(2030, 3, 2, 8, 0, 0, TimeSpan.Zero));

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private const string Specs = """
        [{"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
          "evidence_mode":"USER_ANSWER","prompt_short":"Licence number?","prompt_long":"Licence number?"}]
        """;

    /// <summary>A company, an ACTIVE position with ann and bo as its holders (the app as their channel), and schema v1 drafted.</summary>
    private async Task PositionWithHoldersAsync()
    {
        await _server.RunAsync("TENANT_COMPANY_UPSERT_COMMIT", """{"company_id":"co","legal_name":"Co GmbH","jurisdiction":"DE","lifecycle_state":"ACTIVE"}""");
        _position = (await _server.RunAsync("POSITION_SIM_001_CREATE_DRAFT", """
            {"company_id":"co","position_title":"Driver","department":"Logistics","jurisdiction":"DE","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """))["position"]!["position_id"]!.GetValue<string>();
        await _server.RunAsync("POSITION_SIM_004_ACTIVATE_COMMIT", $$"""{"position_id":"{{_position}}"}""");
        foreach (var user in new[] { "ann", "bo" })
        {
            await _server.RunAsync("POSITION_HOLDER_ASSIGN_COMMIT", $$"""{"position_id":"{{_position}}","user_id":"{{user}}"}""");
            await _server.RunAsync("DELIVERY_CHANNEL_SETUP_COMMIT", $$$"""{"user_id":"{{{user}}}","setup_source":"SETTINGS","bindings":{"APP_PUSH":"{{{user}}}-phone"}}""");
        }
        await _server.RunAsync("POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT", $$"""{"company_id":"co","position_id":"{{_position}}","schema_version_id":"v1","field_specs":{{Specs}}}""");
    }

    private string Activation => $$"""{"company_id":"co","position_id":"{{_position}}","schema_version_id":"v1","apply_scope":"CURRENT_AND_NEW"}""";

    /// <summary>An ACTIVE access instance for <paramref name="user"/> at mode A allowing <paramref name="allow"/> (<c>*</c>: every action); its key.</summary>
    private async Task<string> UserAsync(string user, params string[] allow)
    {
        await InstanceAsync(user, "ACTIVE", allow);
        return (await KeyStore.CreateKeyAsync(_server.Db, new TenantId(WorkforceServer.Tenant), new UserId(user), 1, default))!;
    }

    private Task<JsonNode> InstanceAsync(string user, string state, params string[] allow) => _server.RunAsync("ACCESS_INSTANCE_UPSERT_COMMIT", new JsonObject
    {
        ["target_user_id"] = user, ["role_template_id"] = "role-" + user, ["access_mode"] = "A", ["lifecycle_state"] = state,
        ["allow"] = new JsonArray(allow.Select(a => (JsonNode)a).ToArray()),
    }.ToJsonString());

    private async Task<OutboxRow> ActivationHandoffAsync() =>
        Assert.Single(await _server.OutboxAsync(), r => r.EventType == "POSITION_REQUIREMENTS_ACTIVATED");

    private async Task AssertNoCampaignAndNoMessageAsync()
    {
        Assert.Empty((await _server.ReadAsync("/v1/backfill-campaigns"))["campaigns"]!.AsArray());
        Assert.Empty(_server.Messages("ann"));
        Assert.Empty(_server.Messages("bo"));
        Assert.DoesNotContain(await _server.OutboxAsync(), r => r.EventType.StartsWith("ONB_BACKFILL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailClosed_AccessGate_TheActivationsActorLosesAccessBeforeTheLaunch_NoCampaignStarts_UntilAnActorWithAccessRedrivesIt()
    {
        await PositionWithHoldersAsync();
        var erin = await UserAsync("erin", "*"); // a second administrator: the whole launch is hers to run
        AssertSuccess(await _server.Api.SimulateAsync(erin, "POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", JsonNode.Parse(Activation)!.AsObject()),
            "POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT");
        // Before the worker takes the handoff, alice suspends erin: the launch runs as erin, and the access gate says no.
        await InstanceAsync("erin", "SUSPENDED", "*");
        await _server.DrainAsync();

        var handoff = await ActivationHandoffAsync();
        Assert.Equal(OutboxStatus.DeadLetter, handoff.Status);
        Assert.StartsWith("ACCESS_", handoff.LastErrorReasonCode, StringComparison.Ordinal);
        await AssertNoCampaignAndNoMessageAsync();
        var journal = await _server.Api.JournalAsync(_server.AdminKey, handoff.CorrelationId);
        Assert.Contains(journal, e => e!["event_type"]!.GetValue<string>() == "ACCESS_DECISION" && e["payload"]!.ToJsonString().Contains(BackfillStart, StringComparison.Ordinal));

        // With erin's access back, an operator re-drives the handoff once: the campaign starts over both holders.
        await InstanceAsync("erin", "ACTIVE", "*");
        var redriven = await new OutboxOperations(_server.Db, _server.Clock).RedriveAsync(new TenantId(WorkforceServer.Tenant), handoff.OutboxId, default);
        Assert.True(redriven.Succeeded, redriven.Detail);
        await _server.DrainAsync();
        Assert.Equal(OutboxStatus.Confirmed, (await ActivationHandoffAsync()).Status);
        var campaign = Assert.Single((await _server.ReadAsync("/v1/backfill-campaigns"))["campaigns"]!.AsArray())!;
        Assert.Equal(("erin", 2), (campaign["created_by_user_id"]!.GetValue<string>(), campaign["total_target_count"]!.GetValue<int>()));
        Assert.Single(_server.Messages("ann"));
    }

    [Fact]
    public async Task FailClosed_AccessGate_ALauncherWhoMayNotRunTheLoopsSteps_StartsNoCampaign_NamingTheActionsWithheld()
    {
        // dan may change the position and launch a backfill, but not broadcast: the loop would stop at its first step.
        await PositionWithHoldersAsync();
        var dan = await UserAsync("dan", "POSITION_MANAGE", "ONB_REQUIREMENT_BACKFILL");
        AssertSuccess(await _server.Api.SimulateAsync(dan, "POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", JsonNode.Parse(Activation)!.AsObject()),
            "POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT");
        await _server.DrainAsync();

        var handoff = await ActivationHandoffAsync();
        Assert.Equal((OutboxStatus.DeadLetter, "ONB_BACKFILL_LAUNCHER_ACCESS_MISSING"), (handoff.Status, handoff.LastErrorReasonCode));
        var failure = Assert.Single(await _server.Api.JournalAsync(_server.AdminKey, handoff.CorrelationId), e => e!["event_type"]!.GetValue<string>() == "OUTBOX_ATTEMPT_FAILURE")!;
        Assert.Contains("BCAST_DRAFT_CREATE@W", failure["payload"]!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertNoCampaignAndNoMessageAsync();

        // Given what the loop needs, and re-driven: the campaign starts and reaches both holders.
        await InstanceAsync("dan", "ACTIVE", "*");
        Assert.True((await new OutboxOperations(_server.Db, _server.Clock).RedriveAsync(new TenantId(WorkforceServer.Tenant), handoff.OutboxId, default)).Succeeded);
        await _server.DrainAsync();
        Assert.Equal("dan", Assert.Single((await _server.ReadAsync("/v1/backfill-campaigns"))["campaigns"]!.AsArray())!["created_by_user_id"]!.GetValue<string>());
        Assert.Equal((1, 1), (_server.Messages("ann").Count, _server.Messages("bo").Count));
    }

    [Fact]
    public async Task FailClosed_SimulationGate_ADeprecatedBackfillStart_StartsNoCampaign_UntilItIsActiveAgainAndTheHandoffIsRedriven()
    {
        await PositionWithHoldersAsync();
        var bob = await UserAsync("bob", "CAPREQ_MANAGE");
        await DefinitionAsync("DEPRECATE", bob);
        AssertProblem(await _server.Api.SimulateAsync(_server.AdminKey, BackfillStart, new JsonObject
        {
            ["company_id"] = "co", ["position_id"] = _position, ["schema_version_id"] = "v1", ["rollout_scope"] = "CURRENT_AND_NEW",
        }), HttpStatusCode.Conflict, "SIMULATION_NOT_ACTIVE");

        // POSITION's part runs (the schema is active for everyone from now on); ONB's launch is refused by the catalog gate.
        await _server.RunAsync("POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", Activation);
        await _server.DrainAsync();
        var handoff = await ActivationHandoffAsync();
        Assert.Equal((OutboxStatus.DeadLetter, "SIMULATION_NOT_ACTIVE"), (handoff.Status, handoff.LastErrorReasonCode));
        await AssertNoCampaignAndNoMessageAsync();

        // Rolled back (with another approval) and re-driven: the campaign starts, once.
        await DefinitionAsync("ROLLBACK", bob);
        var redriven = await new OutboxOperations(_server.Db, _server.Clock).RedriveAsync(new TenantId(WorkforceServer.Tenant), handoff.OutboxId, default);
        Assert.True(redriven.Succeeded, redriven.Detail);
        await _server.DrainAsync();
        Assert.Equal(2, Assert.Single((await _server.ReadAsync("/v1/backfill-campaigns"))["campaigns"]!.AsArray())!["total_target_count"]!.GetValue<int>());
        Assert.Equal((1, 1), (_server.Messages("ann").Count, _server.Messages("bo").Count));
    }

    /// <summary>alice changes the backfill start's definition in her tenant, with a GOV_DEFINITION_CHANGE request bob approved for exactly it.</summary>
    private async Task DefinitionAsync(string action, string approver)
    {
        var capreq = (await _server.RunAsync("CAPREQ_CREATE_DRAFT", $$"""
            {"requested_capability_id":"GOV_DEFINITION_CHANGE","target_scope_ref":"SIMULATION:{{BackfillStart}}","justification":"{{action}} the backfill launch"}
            """))["capreq"]!["capreq_id"]!.GetValue<string>();
        await _server.RunAsync("CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT", $$"""{"capreq_id":"{{capreq}}"}""");
        await _server.RunAsync("CAPREQ_APPROVE_COMMIT", $$"""{"capreq_id":"{{capreq}}"}""", approver);
        await _server.RunAsync("GOV_DEFINITION_SET_COMMIT", $$"""{"artifact_kind":"SIMULATION","artifact_id":"{{BackfillStart}}","action":"{{action}}","note":"packet test"}""");
    }
}
