using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.CapReq;
using Selene.Engines.Gov;
using Selene.Engines.Onb;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Runtime.Access;
using Selene.Runtime.CapReq;
using Selene.Runtime.Delivery;
using Selene.Runtime.Link;
using Selene.Runtime.Onb;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Runtime.Position;
using Selene.Testing;

namespace Selene.Runtime.Tests.Onb;

/// <summary>
/// Issue 13 item 3, ONB_SCHEMA_MANAGE end to end on real PostgreSQL (the packet's Step 7 "CAPREQ approval/denial path for
/// governed schema changes" and "fail-closed when a required approval, access or simulation gate is missing"): a schema
/// manager drafts, updates and activates a requirement schema version for current staff too; the tenant's approval
/// policy (PH1.GOV) makes that activation need the manager's APPROVED capability request POSITION_SCHEMA_CHANGE for
/// exactly that version, which the activation fulfils; the activation's handoff launches the backfill campaign. Each
/// missing gate refuses with its own code and changes nothing. Every test has a tenant of its own (the policy is the
/// tenant's), and every scenario replays.
/// </summary>
public sealed class GovernedSchemaChangeTests : IAsyncLifetime
{
    private static readonly LinkKey Key = new(Enumerable.Range(1, LinkKey.KeyBytes).Select(i => (byte)(i * 11)).ToArray());
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2031, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly string _sink = Path.Combine(Path.GetTempPath(), "selene-schemaflow-" + Guid.NewGuid().ToString("N")[..8]);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private OutboxWorker _worker = null!;
    private string _tenant = null!;
    private long _correlation = 31_000;
    private int _keys;

    private const string Company = "acme-logistics";

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        var services = HandoffServices.None.With(Key).With(new DeliveryProviders(new FileSinkProvider(_sink), new Dictionary<Engines.Delivery.DeliveryChannel, IDeliveryProvider>()));
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock, services: services));
        _worker = new OutboxWorker(_db, _executor, _clock, new OutboxWorkerOptions("w1", 50, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), services));
        _tenant = "t" + Guid.NewGuid().ToString("N")[..10];
        await new TenantBootstrap(_db, _clock).CreateAsync(new TenantId(_tenant), new UserId("alice"));
        // sam manages requirement schemas, launches their backfills (the handoff and the campaign's whole loop run as him, so he
        // may run every step of it: OnbBackfillLoop.LauncherSimulations) and asks for capabilities; olga may ask for
        // capabilities but manages no schema.
        string[] loop = [.. OnbBackfillLoop.LauncherSimulations.Select(id => SeleneCatalog.Default.Posture(id).Record!.RequestedAction).Distinct()];
        await InstanceAsync("sam", "schema_manager", [PositionSimulations.SchemaManageAction, OnbSimulations.BackfillAction, "CAPREQ_MANAGE", .. loop]);
        await InstanceAsync("olga", "clerk", ["CAPREQ_MANAGE", "POSITION_MANAGE"]);
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        if (Directory.Exists(_sink)) Directory.Delete(_sink, recursive: true);
    }

    [Fact]
    public async Task CapreqApproval_GovernedSchemaChange_ActivatesCurrentAndNew_FulfilsTheRequest_AndLaunchesTheBackfill()
    {
        var position = await PositionWithV1Async();
        await PolicyAsync(required: true);

        // ONB_SCHEMA_MANAGE: draft v2, update it with a change reason, ask for the approval of exactly that version.
        await DraftAndUpdateV2Async("sam", position);
        var capreq = await ApprovedCapreqAsync("sam", position + ":v2");

        var activated = await RunAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v2", "CURRENT_AND_NEW", confirmed: true));
        Assert.True(activated.Succeeded, $"{activated.Reason.Name} {activated.Detail}");
        var result = JsonNode.Parse(activated.Body!)!;
        Assert.Equal(("CurrentAndNew", true), (result["apply_scope_result"]!.GetValue<string>(), result["backfill_handoff_required"]!.GetValue<bool>()));
        Assert.Equal("v2", await ActiveVersionAsync(position));

        // The activation spent the approval (FULFILLED by sam, in its transaction); a second change needs a new one.
        var fulfilled = await CapreqAsync(capreq);
        Assert.Equal((CapreqStatus.Fulfilled, "sam"), (fulfilled.Status, fulfilled.LastActorUserId));

        // The handoff launches the backfill campaign over the current holder (assigned, never onboarded: she misses all of v2).
        await DrainAsync();
        await using (var tx = await TenantTransaction.BeginAsync(_db.App, _tenant))
        {
            var campaign = Assert.Single(await OnbBackfill.Campaigns.ListAsync(tx, null, null, 10, default)).State;
            Assert.Equal((position, "v2", 1), (campaign.PositionId, campaign.SchemaVersionId, campaign.TotalTargets));
            var target = Assert.Single(await OnbBackfill.TargetsOfAsync(tx, campaign.CampaignId, default));
            Assert.Equal("h1", target.UserId);
            Assert.Equal(["legal_name", "licence_number"], target.Missing.Select(q => q.FieldKey));
        }
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, _tenant, golden: null);
    }

    [Fact]
    public async Task CapreqDenial_GovernedSchemaChange_FailsClosedAtTheCapreqGate_AndChangesNothing()
    {
        var position = await PositionWithV1Async();
        await PolicyAsync(required: true);
        await DraftAndUpdateV2Async("sam", position);
        var capreq = await SubmittedCapreqAsync("sam", position + ":v2");
        await OkAsync("alice", CapreqSimulations.Reject, RuntimeFixture.IdBody(capreq));

        var refused = await RunAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v2", "CURRENT_AND_NEW", confirmed: true));
        Assert.Equal((ExecutionOutcome.Refused, ReasonCodes.GovCapreqApprovalMissing), (refused.Outcome, refused.Reason));
        Assert.Contains(PositionDecider.SchemaChangeCapability, refused.Detail, StringComparison.Ordinal);
        await AssertNothingChangedAsync(position);
        Assert.Equal(CapreqStatus.Rejected, (await CapreqAsync(capreq)).Status);
        Assert.Equal(ReasonCodes.OsFailCapreqGate.Name, await LastTurnReasonAsync());
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, _tenant, golden: null);
    }

    [Fact]
    public async Task FailClosed_ApprovalGateMissing_NoCapreq_RefusesAndChangesNothing()
    {
        var position = await PositionWithV1Async();
        await PolicyAsync(required: true);
        await DraftAndUpdateV2Async("sam", position);
        // A request for another version is not an approval of this one.
        var other = await ApprovedCapreqAsync("sam", position + ":v3");

        var refused = await RunAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v2", "CURRENT_AND_NEW", confirmed: true));
        Assert.Equal((ExecutionOutcome.Refused, ReasonCodes.GovCapreqApprovalMissing), (refused.Outcome, refused.Reason));
        await AssertNothingChangedAsync(position);
        Assert.Equal(CapreqStatus.Approved, (await CapreqAsync(other)).Status);
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, _tenant, golden: null);
    }

    [Fact]
    public async Task FailClosed_AccessGateMissing_WithAnApprovedCapreq_RefusesAndSpendsNothing()
    {
        var position = await PositionWithV1Async();
        await PolicyAsync(required: true);
        await DraftAndUpdateV2Async("alice", position);
        var capreq = await ApprovedCapreqAsync("olga", position + ":v2");

        // olga's approval is real, but she has no ONB_SCHEMA_MANAGE: the access gate refuses before anything runs.
        var refused = await RunAsync("olga", PositionSimulations.SchemaActivate, Activation(position, "v2", "CURRENT_AND_NEW", confirmed: true));
        Assert.Equal(ExecutionOutcome.Refused, refused.Outcome);
        Assert.Equal(Engines.Access.AccessReasons.AccessScopeViolation, refused.Reason);
        Assert.Equal(ReasonCodes.OsFailAccessGate.Name, await LastTurnReasonAsync());
        await AssertNothingChangedAsync(position);
        Assert.Equal(CapreqStatus.Approved, (await CapreqAsync(capreq)).Status);
        // Drafting and updating are ONB_SCHEMA_MANAGE's too.
        Assert.Equal(Engines.Access.AccessReasons.AccessScopeViolation, (await RunAsync("olga", PositionSimulations.SchemaCreateDraft, Draft(position, "v9"))).Reason);
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, _tenant, golden: null);
    }

    [Fact]
    public async Task FailClosed_SimulationGateMissing_DeprecatedActivation_RefusesAndSpendsNothing()
    {
        var position = await PositionWithV1Async();
        await PolicyAsync(required: true);
        await DraftAndUpdateV2Async("sam", position);
        var capreq = await ApprovedCapreqAsync("sam", position + ":v2");

        // Governance deprecates the activation (itself under the CAPREQ gate: alice's approved GOV_DEFINITION_CHANGE).
        var scope = "SIMULATION:" + PositionSimulations.SchemaActivate;
        var definition = await ApprovedCapreqAsync("alice", scope, GovDecider.DefinitionChangeCapability, approver: "sam");
        await OkAsync("alice", GovSimulations.DefinitionSet, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["artifact_kind"] = "SIMULATION", ["artifact_id"] = PositionSimulations.SchemaActivate, ["action"] = "DEPRECATE", ["note"] = "schema freeze",
        }));
        Assert.Equal(CapreqStatus.Fulfilled, (await CapreqAsync(definition)).Status);

        var refused = await RunAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v2", "CURRENT_AND_NEW", confirmed: true));
        Assert.Equal((false, ReasonCodes.SimulationNotActive), (refused.Succeeded, refused.Reason));
        Assert.Contains("DEPRECATED by TENANT governance", refused.Detail, StringComparison.Ordinal);
        await AssertNothingChangedAsync(position);
        Assert.Equal(CapreqStatus.Approved, (await CapreqAsync(capreq)).Status);
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, _tenant, golden: null);
    }

    [Fact]
    public async Task FailClosed_BackfillLaunchUnconfirmed_IsRefusedReasonCoded_AndChangesNothing()
    {
        var position = await PositionWithV1Async();
        await PolicyAsync(required: true);
        await DraftAndUpdateV2Async("sam", position);
        var capreq = await ApprovedCapreqAsync("sam", position + ":v2");

        var refused = await RunAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v2", "CurrentAndNew", confirmed: false));
        Assert.Equal((ExecutionOutcome.Invalid, PositionReasons.BackfillLaunchUnconfirmed), (refused.Outcome, refused.Reason));
        await AssertNothingChangedAsync(position);
        Assert.Equal(CapreqStatus.Approved, (await CapreqAsync(capreq)).Status);
    }

    [Fact]
    public async Task ApprovalPolicy_GovernsOnlyCurrentAndNew_AndWithoutItNoApprovalIsNeededOrSpent()
    {
        var position = await PositionWithV1Async();
        await DraftAndUpdateV2Async("sam", position);
        await OkAsync("sam", PositionSimulations.SchemaCreateDraft, Draft(position, "v3"));
        var unused = await ApprovedCapreqAsync("sam", position + ":v3");

        // Without the policy a confirmed CURRENT_AND_NEW activation runs as before, and an approval lying around is not spent.
        await OkAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v3", "CURRENT_AND_NEW", confirmed: true));
        Assert.Equal(CapreqStatus.Approved, (await CapreqAsync(unused)).Status);

        // With it, a NEW_HIRES_ONLY activation (future onboardings only) still needs none.
        await PolicyAsync(required: true);
        await OkAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v2", "NEW_HIRES_ONLY", confirmed: false));
        Assert.Equal("v2", await ActiveVersionAsync(position));
    }

    [Fact]
    public async Task ApprovalPolicy_IsSetThroughGovernance_Only()
    {
        // Not by a schema manager (GOV_CONTROL at X is the administrators'), not for a capability nothing governs, not twice.
        Assert.Equal(Engines.Access.AccessReasons.AccessScopeViolation, (await RunAsync("sam", GovSimulations.ApprovalPolicySet, Policy(PositionDecider.SchemaChangeCapability, true))).Reason);
        Assert.Equal(GovReasons.GovApprovalCapabilityUnknown, (await RunAsync("alice", GovSimulations.ApprovalPolicySet, Policy("PAYROLL_RUN", true))).Reason);
        Assert.Equal(GovReasons.GovApprovalCapabilityUnknown,
            (await RunAsync("alice", GovSimulations.ApprovalPolicySet, Policy(GovDecider.DefinitionChangeCapability, false))).Reason);
        await PolicyAsync(required: true);
        Assert.Equal(GovReasons.GovApprovalPolicyUnchanged, (await RunAsync("alice", GovSimulations.ApprovalPolicySet, Policy(PositionDecider.SchemaChangeCapability, true))).Reason);
        await OkAsync("alice", GovSimulations.ApprovalPolicySet, Policy(PositionDecider.SchemaChangeCapability, false));
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, _tenant, golden: null);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private const string LegalNameSpec = """
        {"field_key":"legal_name","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
         "evidence_mode":"USER_ANSWER","prompt_short":"Legal name?","prompt_long":"Your full legal name?"}
        """;
    private const string LicenceSpec = """
        {"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
         "evidence_mode":"USER_ANSWER","prompt_short":"Licence number?","prompt_long":"The number on your forklift licence?"}
        """;

    private static string Draft(string position, string version) =>
        $$"""{"company_id":"{{Company}}","position_id":"{{position}}","schema_version_id":"{{version}}","field_specs":[{{LegalNameSpec}}]}""";

    private static string Activation(string position, string version, string scope, bool confirmed) =>
        $$"""{"company_id":"{{Company}}","position_id":"{{position}}","schema_version_id":"{{version}}","apply_scope":"{{scope}}","backfill_launch_confirmed":{{(confirmed ? "true" : "false")}}}""";

    private static string Policy(string capability, bool required) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["capability_id"] = capability, ["required"] = required, ["note"] = "changes for current staff need approval",
    });

    private Task PolicyAsync(bool required) => OkAsync("alice", GovSimulations.ApprovalPolicySet, Policy(PositionDecider.SchemaChangeCapability, required));

    /// <summary>An ACTIVE position with v1 (legal name) active for new hires and one current holder, h1 (assigned).</summary>
    private async Task<string> PositionWithV1Async()
    {
        await OkAsync("alice", PositionSimulations.CompanyUpsert, $$"""{"company_id":"{{Company}}","legal_name":"Acme Logistics GmbH","jurisdiction":"DE-BY","lifecycle_state":"ACTIVE"}""");
        var created = await OkAsync("alice", PositionSimulations.CreateDraft, $$"""
            {"company_id":"{{Company}}","position_title":"Forklift Driver","department":"Logistics","jurisdiction":"DE-BY","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """);
        var position = created["position"]!["position_id"]!.GetValue<string>();
        await OkAsync("alice", PositionSimulations.Activate, $$"""{"position_id":"{{position}}"}""");
        await OkAsync("sam", PositionSimulations.SchemaCreateDraft, Draft(position, "v1"));
        await OkAsync("sam", PositionSimulations.SchemaActivate, Activation(position, "v1", "NEW_HIRES_ONLY", confirmed: false));
        await OkAsync("alice", PositionSimulations.HolderAssign, $$"""{"position_id":"{{position}}","user_id":"h1"}""");
        return position;
    }

    private async Task DraftAndUpdateV2Async(string actor, string position)
    {
        await OkAsync(actor, PositionSimulations.SchemaCreateDraft, Draft(position, "v2"));
        await OkAsync(actor, PositionSimulations.SchemaUpdate, $$"""
            {"company_id":"{{Company}}","position_id":"{{position}}","schema_version_id":"v2","field_specs":[{{LegalNameSpec}},{{LicenceSpec}}],
             "change_reason":"drivers must hold a forklift licence"}
            """);
    }

    private async Task<string> SubmittedCapreqAsync(string requester, string scope, string capability = PositionDecider.SchemaChangeCapability)
    {
        var draft = await RunAsync(requester, CapreqSimulations.CreateDraft, RuntimeFixture.CreateBody(capability, scope, "forklift licences for current drivers"));
        Assert.True(draft.Succeeded, $"{draft.Reason.Name} {draft.Detail}");
        var id = RuntimeFixture.CapreqIdOf(draft);
        await OkAsync(requester, CapreqSimulations.SubmitForApproval, RuntimeFixture.IdBody(id));
        return id;
    }

    private async Task<string> ApprovedCapreqAsync(string requester, string scope, string capability = PositionDecider.SchemaChangeCapability, string approver = "alice")
    {
        var id = await SubmittedCapreqAsync(requester, scope, capability);
        await OkAsync(approver, CapreqSimulations.Approve, RuntimeFixture.IdBody(id));
        return id;
    }

    /// <summary>The refused activation changed nothing: v1 is still active, and no backfill was handed off.</summary>
    private async Task AssertNothingChangedAsync(string position)
    {
        Assert.Equal("v1", await ActiveVersionAsync(position));
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, _tenant);
        await using var cmd = tx.Command($"SELECT count(*) FROM selene.outbox WHERE event_type = '{PositionDecider.BackfillHandoffEvent}'");
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }

    private async Task<string?> ActiveVersionAsync(string position)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, _tenant);
        return (await PositionModule.Schemas.GetAsync(tx, position, default))?.ActiveVersionId;
    }

    private async Task<CapreqState> CapreqAsync(string id)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, _tenant);
        return (await CapreqModule.Requests.GetAsync(tx, id, default))!;
    }

    /// <summary>The reason of the tenant's last TURN_DECISION (the gate's own code for a refused turn).</summary>
    private async Task<string> LastTurnReasonAsync()
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, _tenant);
        await using var cmd = tx.Command("SELECT reason_code FROM selene.journal WHERE event_type = 'TURN_DECISION' ORDER BY seq DESC LIMIT 1");
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task InstanceAsync(string user, string role, string[] allow) =>
        await OkAsync("alice", GovernanceHandlers.InstanceUpsert, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["target_user_id"] = user, ["role_template_id"] = role, ["access_mode"] = "A", ["allow"] = allow, ["lifecycle_state"] = "ACTIVE",
        }));

    private async Task DrainAsync() => Assert.True(await _worker.DrainAsync(50), "the outbox did not drain in 50 passes");

    private Task<ExecutionResult> RunAsync(string actor, string simulation, string body)
    {
        using var doc = JsonDocument.Parse(body);
        return _executor.ExecuteAsync(new ExecutionRequest(new TenantId(_tenant), new UserId(actor), simulation, $"k-{++_keys}", doc.RootElement.Clone(),
            new CorrelationId((UInt128)Interlocked.Increment(ref _correlation)), new TurnId(1)));
    }

    private async Task<JsonNode> OkAsync(string actor, string simulation, string body)
    {
        var result = await RunAsync(actor, simulation, body);
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return JsonNode.Parse(result.Body!)!;
    }
}
