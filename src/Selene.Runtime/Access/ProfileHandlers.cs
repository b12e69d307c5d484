using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.Access;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Access;

/// <summary>ACCESS_AP_SCHEMA_CREATE_DRAFT and ACCESS_AP_SCHEMA_UPDATE_COMMIT body.</summary>
internal sealed record ApSchemaWriteInput(string AccessProfileId, int SchemaVersionId, ApScope Scope, ApProfilePayload ProfilePayload, string Reason);
/// <summary>ACCESS_AP_SCHEMA_ACTIVATE_COMMIT and ACCESS_AP_SCHEMA_RETIRE_COMMIT body.</summary>
internal sealed record ApSchemaMoveInput(string AccessProfileId, int SchemaVersionId, ApScope Scope, string Reason);
/// <summary>ACCESS_AP_AUTHORING_REVIEW_CHANNEL_COMMIT body.</summary>
internal sealed record ReviewChannelInput(string AccessProfileId, int SchemaVersionId, ApScope Scope, ReviewChannel ReviewChannel, string Reason);
/// <summary>ACCESS_AP_AUTHORING_RULE_ACTION_COMMIT body.</summary>
internal sealed record RuleActionInput(string AccessProfileId, int SchemaVersionId, ApScope Scope, RuleAction RuleAction, string Reason,
    string? SuggestedRuleRef = null, string? CapabilityId = null, string? ConstraintRef = null, string? EscalationPolicyRef = null);
/// <summary>ACCESS_AP_AUTHORING_CONFIRM_COMMIT body.</summary>
internal sealed record ConfirmInput(string AccessProfileId, int SchemaVersionId, ApScope Scope, ConfirmationState AuthoringConfirmationState, string Reason);
/// <summary>ACCESS_AP_OVERLAY_UPDATE_COMMIT body.</summary>
internal sealed record OverlayUpdateInput(string OverlayId, int OverlayVersionId, OverlayEventAction EventAction, string Reason,
    IReadOnlyList<OverlayOpText>? OverlayOps = null);
/// <summary>ACCESS_INSTANCE_COMPILE_COMMIT body.</summary>
internal sealed record CompileInput(string TargetUserId, string AccessProfileId, int GlobalProfileVersionRef, string CompileReason,
    int? TenantProfileVersionRef = null, IReadOnlyList<OverlayVersionRef>? OverlayVersionRefs = null, string? PositionId = null,
    AccessLifecycle? LifecycleState = null, bool? IdentityVerified = null, VerificationLevel? VerificationLevel = null, DeviceTrustLevel? DeviceTrustLevel = null);

/// <summary>One op of an ACTIVE overlay of the session tenant (op is ADD_PERMISSION | REMOVE_PERMISSION | TIGHTEN_CONSTRAINT | SET_ESCALATION_POLICY).</summary>
public sealed record ActiveOverlayOp(string OverlayId, int OverlayVersionId, string Op, string? CapabilityId, string? ConstraintRef, string? EscalationPolicyRef);

/// <summary>
/// The PH2.ACCESS.002 "master access schema" simulations wired to the executor (reference §7.5): AP schema
/// versions, their authoring review, tenant overlays, and compiling a user's access instance. Every journal entry
/// is written under PH1.ACCESS (<see cref="ReasonCodes.EngineAccess"/>), the module's one engine id.
/// </summary>
public static class ProfileHandlers
{
    /// <summary>The catalog's owning engine (the reference's name); journal entries go under PH1.ACCESS.</summary>
    private const string Owner = "PH2.ACCESS.002";
    public const string SchemaCreateDraft = "ACCESS_AP_SCHEMA_CREATE_DRAFT";
    public const string SchemaUpdate = "ACCESS_AP_SCHEMA_UPDATE_COMMIT";
    public const string SchemaActivate = "ACCESS_AP_SCHEMA_ACTIVATE_COMMIT";
    public const string SchemaRetire = "ACCESS_AP_SCHEMA_RETIRE_COMMIT";
    public const string ReviewChannelCommit = "ACCESS_AP_AUTHORING_REVIEW_CHANNEL_COMMIT";
    public const string RuleActionCommit = "ACCESS_AP_AUTHORING_RULE_ACTION_COMMIT";
    public const string ConfirmCommit = "ACCESS_AP_AUTHORING_CONFIRM_COMMIT";
    public const string OverlayUpdate = "ACCESS_AP_OVERLAY_UPDATE_COMMIT";
    public const string InstanceCompile = "ACCESS_INSTANCE_COMPILE_COMMIT";
    private const string SchemaManage = "ACCESS_SCHEMA_MANAGE";
    private const string CompileRefresh = "ACCESS_INSTANCE_COMPILE_REFRESH";
    private const string Scope = "tenant+simulation_id+key";
    /// <summary>At most this many overlays in one listing (as many ledger rows as the listing folded before it moved).</summary>
    private const int MaxListed = 10000;

    private static SimulationRecord Record(string id, SimulationType type, string action, params ReasonCode[] codes) =>
        new(id, Owner, type, SimulationStatus.Active, action, AccessMode.X, Scope, codes);

    private static readonly ReasonCode[] SchemaRefusals =
        [ReasonCodes.AccessContractValidationFailed, ReasonCodes.AccessApScopeViolation, ReasonCodes.AccessSchemaRefMissing, ReasonCodes.AccessApTransitionInvalid];

    /// <summary>
    /// The tenant overlays: <c>access_ap_overlay_ledger</c> / <c>access_ap_overlay_current</c>, one stream per overlay
    /// id holding every version; the stream is ACTIVE while one version is in force, INACTIVE otherwise.
    /// </summary>
    public static Aggregate<OverlayState, OverlayEvent, OverlayEvent> Overlays { get; } = new(
        ReasonCodes.EngineAccess, storeName: "access_ap_overlay", streamField: "overlay_id", viewName: "overlay",
        streamOf: e => e.OverlayId,
        eventTypeOf: e => WireNames.Of(OverlayActionOf(e)),
        evolve: (state, e, _) => OverlayDecider.Evolve(state, e),
        statusOf: s => s.ActiveVersionId is null ? "INACTIVE" : "ACTIVE",
        view: ProfileViews.Overlay,
        journalFields: e =>
        [
            ("overlay_version_id", Invariant(e.OverlayVersionId)),
            ("event_action", WireNames.Of(OverlayActionOf(e))),
            ("lifecycle_state", WireNames.Of(e switch { OverlayVersionActivated => ApLifecycle.Active, OverlayVersionRetired => ApLifecycle.Retired, _ => ApLifecycle.Draft })),
        ],
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["CREATE_DRAFT"] = typeof(OverlayVersionWritten),
            ["UPDATE_DRAFT"] = typeof(OverlayVersionWritten),
            ["ACTIVATE"] = typeof(OverlayVersionActivated),
            ["RETIRE"] = typeof(OverlayVersionRetired),
        });

    /// <summary>The store pairs of the profiles half.</summary>
    public static IReadOnlyList<IAggregate> Aggregates { get; } = [Overlays];

    /// <summary>The HTTP read routes of the profiles half (the server maps them).</summary>
    public static IReadOnlyList<ReadRoute> Routes { get; } =
    [
        new ReadRoute("ListAccessOverlays", "/access/overlays", "The tenant's overlays with every version, its ops and the ACTIVE version.",
            NotFound: false, ListOverlaysAsync),
        new ReadRoute("ListAccessProfiles", "/access/profiles",
            "The current (ACTIVE) access profile versions the tenant sees: GLOBAL ones and its own TENANT ones.", NotFound: false, ListProfilesAsync),
        new ReadRoute("GetAccessProfile", "/access/profiles/{access_profile_id}",
            "Every version of one access profile (GLOBAL and the tenant's own) with lifecycle and authoring review.", NotFound: true, GetProfileAsync),
    ];

    public static IReadOnlyList<ISimulationHandler> All { get; } =
    [
        Profile<ApSchemaWriteInput>(SchemaCreateDraft, SimulationType.Draft,
            i => new CreateApDraft(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.ProfilePayload, i.Reason),
            [ReasonCodes.AccessApSchemaDrafted, ReasonCodes.AccessApSchemaInvalid, .. SchemaRefusals]),
        Profile<ApSchemaWriteInput>(SchemaUpdate, SimulationType.Commit,
            i => new UpdateApDraft(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.ProfilePayload, i.Reason),
            [ReasonCodes.AccessApSchemaUpdated, ReasonCodes.AccessApSchemaInvalid, .. SchemaRefusals]),
        Profile<ApSchemaMoveInput>(SchemaActivate, SimulationType.Commit,
            i => new ActivateAp(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.Reason),
            [ReasonCodes.AccessApSchemaActivated, ReasonCodes.AccessApActivationConflict, .. SchemaRefusals]),
        Profile<ApSchemaMoveInput>(SchemaRetire, SimulationType.Commit,
            i => new RetireAp(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.Reason),
            [ReasonCodes.AccessApSchemaRetired, .. SchemaRefusals]),
        Profile<ReviewChannelInput>(ReviewChannelCommit, SimulationType.Commit,
            i => new ChooseReviewChannel(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.ReviewChannel, i.Reason),
            [ReasonCodes.AccessApReviewChannelChosen, .. SchemaRefusals]),
        Profile<RuleActionInput>(RuleActionCommit, SimulationType.Commit,
            i => new RecordRuleAction(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.RuleAction, i.SuggestedRuleRef, i.CapabilityId, i.ConstraintRef,
                i.EscalationPolicyRef, i.Reason),
            [ReasonCodes.AccessApRuleActionRecorded, .. SchemaRefusals]),
        Profile<ConfirmInput>(ConfirmCommit, SimulationType.Commit,
            i => new ConfirmReview(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.AuthoringConfirmationState, i.Reason),
            [ReasonCodes.AccessApReviewConfirmed, .. SchemaRefusals]),
        new EngineSimulation<OverlayUpdateInput, UpdateOverlay, OverlayState, OverlayEvent, bool>(
            Record(OverlayUpdate, SimulationType.Commit, SchemaManage, ReasonCodes.AccessApOverlayUpdated, ReasonCodes.AccessOverlayOpInvalid,
                ReasonCodes.AccessOverlayRefInvalid, ReasonCodes.AccessApTransitionInvalid, ReasonCodes.AccessContractValidationFailed),
            Overlays,
            toCommand: i => new UpdateOverlay(i.OverlayId, i.OverlayVersionId, i.EventAction, i.OverlayOps, i.Reason),
            validate: c => OverlayDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, _) => c.OverlayId,
            decide: (state, command, _, ctx) => OverlayDecider.Decide(state, command, new OverlayContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now))),
        // Compile writes the user's instance: the governance half's Instances aggregate is its target.
        new EngineSimulation<CompileInput, CompileInstance, AccessInstanceState, GovernanceEvent, CompileReads>(
            Record(InstanceCompile, SimulationType.Commit, CompileRefresh, ReasonCodes.AccessInstanceCompiled, ReasonCodes.AccessSchemaRefMissing,
                ReasonCodes.AccessProfileNotActive, ReasonCodes.AccessOverlayRefInvalid, ReasonCodes.AccessOverlayOpInvalid, ReasonCodes.AccessPositionRefMissing,
                ReasonCodes.AccessContractValidationFailed),
            GovernanceHandlers.Instances,
            toCommand: i => new CompileInstance(i.TargetUserId, i.AccessProfileId, i.GlobalProfileVersionRef, i.TenantProfileVersionRef, i.OverlayVersionRefs ?? [],
                i.PositionId, i.CompileReason, i.LifecycleState, i.IdentityVerified, i.VerificationLevel, i.DeviceTrustLevel),
            validate: c => CompileDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, _) => c.TargetUserId,
            decide: (_, c, reads, ctx) => CompileDecider.Decide(c, reads.Compile, new CompileContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now)) switch
            {
                Decision<InstanceCompiled>.Accepted compiled => InstanceDecider.Compiled(compiled.Events[0], compiled.Reason, reads.Write.Authority,
                    new GovernanceContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now)),
                Decision<InstanceCompiled>.Rejected refused => new Decision<GovernanceEvent>.Rejected(refused.Reason, refused.Detail),
                _ => throw new InvalidOperationException("unknown decision"),
            },
            readFacts: ReadCompileFactsAsync,
            result: (state, c, reads, events) => GovernanceHandlers.InstanceResult(state, c, reads.Write, events)),
    ];

    // ---- AP schema versions and authoring review ---------------------------------------------------------------

    private static DelegateHandler<TInput, ApCommand> Profile<TInput>(string id, SimulationType type, Func<TInput, ApCommand> toCommand, ReasonCode[] codes)
        where TInput : class =>
        new(Record(id, type, SchemaManage, codes),
            i =>
            {
                var command = toCommand(i);
                return ProfileDecider.Validate(command) is { } invalid ? (null, new JsonInputError(invalid.Reason, invalid.Detail)) : (command, null);
            },
            (tx, command, ctx, ct) => ExecuteProfileAsync(id, tx, command, ctx, ct));

    private static async Task<HandlerOutcome> ExecuteProfileAsync(string simulationId, TenantTransaction tx, ApCommand command, ExecutionContext ctx, CancellationToken ct)
    {
        var tenant = ctx.Tenant.Value;
        var scopeKey = ProfileDecider.ScopeKey(command.Scope, tenant);
        var profileId = command.AccessProfileId;
        var v = command.SchemaVersionId;
        await AccessProfileStore.LockAsync(tx, WireNames.Of(command.Scope) + "|" + scopeKey + "|" + profileId, ct);
        var state = ProfileViews.FoldProfile(await AccessProfileStore.ApLedgerAsync(tx, scopeKey, profileId, ct));
        var reviewRow = await AccessProfileStore.GetReviewAsync(tx, scopeKey, profileId, v, ct);
        var review = ProfileViews.ToReview(reviewRow, reviewRow is null ? [] : await AccessProfileStore.RuleActionIdsAsync(tx, scopeKey, profileId, v, ct));
        var platformOperator = command.Scope == ApScope.Global && await AccessProfileStore.IsPlatformOperatorAsync(tx, ct);

        var decision = ProfileDecider.Decide(state, command, new ApContext(tenant, ctx.Actor.Value, ctx.Now, platformOperator, review));
        if (decision is Decision<ApEvent>.Rejected rejected)
            return Refused(simulationId, rejected.Reason, rejected.Detail, ("access_profile_id", profileId), ("scope_key", scopeKey),
                ("schema_version_id", Invariant(v)));

        var accepted = (Decision<ApEvent>.Accepted)decision;
        string? rowTenant = command.Scope == ApScope.Global ? null : tenant;
        var scope = WireNames.Of(command.Scope);
        var journal = new List<JournalDraft>();
        foreach (var e in accepted.Events)
        {
            var before = state.Versions.TryGetValue(e.SchemaVersionId, out var old) ? WireNames.Of(old.Lifecycle) : "NONE";
            ApSchemaLedgerRow Ledger(string action, string lifecycle) => new(0, rowTenant, scope, scopeKey, profileId, e.SchemaVersionId, action, lifecycle,
                null, null, null, null, null, e.Reason, accepted.Reason.Name, simulationId, tenant, ctx.Actor.Value, ctx.Correlation.ToString(),
                ctx.IdempotencyKey.Value, e.At);
            long rowId;
            switch (e)
            {
                case ApVersionWritten w:
                    rowId = await AccessProfileStore.AppendApEventAsync(tx, Ledger(w.IsUpdate ? "UPDATE_DRAFT" : "CREATE_DRAFT", "DRAFT") with
                    {
                        PayloadJson = CanonicalJson.SerializeToString(w.Payload),
                    }, ct);
                    break;
                case ApVersionActivated a:
                    rowId = await AccessProfileStore.AppendApEventAsync(tx, Ledger("ACTIVATE", "ACTIVE") with
                    {
                        ActivationReviewEventId = a.Lineage?.ReviewEventId,
                        ActivationRuleActionCount = a.Lineage?.RuleActionCount,
                        ActivationRuleActionSetRef = a.Lineage?.RuleActionSetRef,
                    }, ct);
                    await AccessProfileStore.UpsertApCurrentAsync(tx, new ApCurrentRow(rowTenant, scope, scopeKey, profileId, a.SchemaVersionId,
                        CanonicalJson.SerializeToString(state.Versions[a.SchemaVersionId].Payload), rowId, a.At), ct);
                    break;
                case ApVersionRetired r:
                    rowId = await AccessProfileStore.AppendApEventAsync(tx, Ledger("RETIRE", "RETIRED") with { SupersededByVersionId = r.SupersededBy }, ct);
                    // A superseded version's place is taken by the activation that follows; an explicit retirement of the current one clears it.
                    if (r.WasCurrent && r.SupersededBy is null) await AccessProfileStore.DeleteApCurrentAsync(tx, scopeKey, profileId, ct);
                    break;
                case ApReviewChannelChosen c:
                    rowId = await AccessProfileStore.AppendReviewEventAsync(tx, ReviewLedger(e, "REVIEW_CHANNEL_COMMIT", WireNames.Of(c.Channel), "REVIEW_IN_PROGRESS"), ct);
                    break;
                case ApRuleActionRecorded ra:
                    rowId = await AccessProfileStore.AppendRuleActionAsync(tx, new ApRuleActionRow(rowTenant, scope, scopeKey, profileId, v, WireNames.Of(ra.Action),
                        ra.SuggestedRuleRef, ra.CapabilityId, ra.ConstraintRef, ra.EscalationPolicyRef, ra.Reason, accepted.Reason.Name, simulationId, tenant,
                        ctx.Actor.Value, ctx.Correlation.ToString(), ctx.IdempotencyKey.Value, ra.At), ct);
                    break;
                case ApReviewConfirmed cf:
                    rowId = await AccessProfileStore.AppendReviewEventAsync(tx, ReviewLedger(e, "CONFIRMATION_COMMIT",
                        review?.Channel is { } channel ? WireNames.Of(channel) : null, WireNames.Of(cf.State)), ct);
                    break;
                default:
                    throw new InvalidOperationException($"event {e.GetType().Name} is not handled");
            }

            state = ProfileDecider.Evolve(state, e);
            var reviewBefore = review;
            review = ProfileDecider.EvolveReview(review, e, rowId);
            if (review is not null && !ReferenceEquals(review, reviewBefore))
            {
                await AccessProfileStore.UpsertReviewAsync(tx, new ApReviewRow(rowTenant, scope, scopeKey, profileId, v,
                    review.Channel is { } ch ? WireNames.Of(ch) : null, WireNames.Of(review.State), review.RuleActionIds.Count, review.LatestReviewEventId, e.At), ct);
            }
            var after = state.Versions.TryGetValue(e.SchemaVersionId, out var now) ? WireNames.Of(now.Lifecycle) : "NONE";
            var payload = new List<(string, string)>
            {
                ("access_profile_id", profileId), ("scope_key", scopeKey), ("schema_version_id", Invariant(e.SchemaVersionId)),
                ("state_from", before), ("state_to", after), ("ledger_event_id", Invariant(rowId)),
            };
            if (review is not null && e is ApReviewChannelChosen or ApRuleActionRecorded or ApReviewConfirmed)
                payload.Add(("confirmation_state", WireNames.Of(review.State)));
            if (e is ApVersionRetired { SupersededBy: { } by }) payload.Add(("superseded_by_version_id", Invariant(by)));
            if (e is ApVersionActivated { Lineage: { } lineage }) payload.Add(("activation_rule_action_set_ref", lineage.RuleActionSetRef));
            journal.Add(new JournalDraft(ReasonCodes.EngineAccess, simulationId, accepted.Reason, JournalPayload.Create([.. payload])));
        }

        var result = new JsonObject
        {
            ["access_profile"] = ProfileViews.Version(command.Scope, scopeKey, profileId, state.Versions[v], state.CurrentVersionId == v),
        };
        if (review is not null) result["authoring_review"] = ProfileViews.Review(review);
        return new HandlerOutcome.Accepted(accepted.Reason, result, journal, []);

        ApReviewLedgerRow ReviewLedger(ApEvent e, string kind, string? channel, string confirmationState) => new(rowTenant, scope, scopeKey, profileId, v, kind,
            channel, confirmationState, e.Reason, accepted.Reason.Name, simulationId, tenant, ctx.Actor.Value, ctx.Correlation.ToString(),
            ctx.IdempotencyKey.Value, e.At);
    }

    /// <summary>GET /v1/access/profiles: the ACTIVE versions the tenant sees (row-level security shows GLOBAL rows and its own).</summary>
    private static async Task<ReadResult> ListProfilesAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await AccessProfileStore.ListApCurrentAsync(tx, ct);
        return new ReadResult.Ok(new JsonObject { ["access_profiles"] = new JsonArray(rows.Select(r => (JsonNode)ProfileViews.Current(r)).ToArray()) });
    }

    /// <summary>GET /v1/access/profiles/{access_profile_id}: every version in GLOBAL and the tenant's scope, with authoring reviews.</summary>
    private static async Task<ReadResult> GetProfileAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["access_profile_id"];
        if (!IdRules.IsValidName(id)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "access_profile_id is 1..64 of [A-Za-z0-9_.-]");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        return ProfileViews.ProfileDetail(id, await AccessProfileStore.ApLedgerAllScopesAsync(tx, id, ct), await AccessProfileStore.ListReviewsAsync(tx, id, ct))
            is { } profile
            ? new ReadResult.Ok(new JsonObject { ["access_profile"] = profile })
            : new ReadResult.Refused(ReasonCodes.AccessSchemaRefMissing, "no such access profile in this tenant or GLOBAL");
    }

    // ---- Tenant overlays -----------------------------------------------------------------------------------------

    /// <summary>The ledger's event_type of an overlay event: the overlay action that wrote it.</summary>
    private static OverlayEventAction OverlayActionOf(OverlayEvent e) => e switch
    {
        OverlayVersionWritten { IsUpdate: true } => OverlayEventAction.UpdateDraft,
        OverlayVersionWritten => OverlayEventAction.CreateDraft,
        OverlayVersionActivated => OverlayEventAction.Activate,
        OverlayVersionRetired => OverlayEventAction.Retire,
        _ => throw new InvalidOperationException($"overlay event {e.GetType().Name} is not handled"),
    };

    /// <summary>
    /// Every op of every ACTIVE overlay of the session tenant, by overlay id and then in op order (one round trip:
    /// the ACTIVE overlay streams). For the executor's policy checks, e.g. an ADD_PERMISSION with capability_id
    /// CAPREQ_SELF_APPROVE.
    /// </summary>
    public static async Task<IReadOnlyList<ActiveOverlayOp>> ActiveOverlayOpsAsync(TenantTransaction tx, CancellationToken ct) =>
        (await Overlays.ListAsync(tx, "ACTIVE", null, int.MaxValue, ct))
            .OrderBy(o => o.StreamId, StringComparer.Ordinal)
            .SelectMany(o => o.State.Versions[o.State.ActiveVersionId!.Value].Ops.Select(op => new ActiveOverlayOp(o.StreamId, o.State.ActiveVersionId.Value,
                WireNames.Of(op.Op), op.CapabilityId, op.ConstraintRef, op.EscalationPolicyRef)))
            .ToArray();

    /// <summary>GET /v1/access/overlays: every overlay of the tenant with all its versions, by overlay id.</summary>
    private static async Task<ReadResult> ListOverlaysAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var overlays = await Overlays.ListAsync(tx, null, null, MaxListed, ct);
        return new ReadResult.Ok(new JsonObject
        {
            ["access_overlays"] = new JsonArray(overlays.OrderBy(o => o.StreamId, StringComparer.Ordinal).Select(o => (JsonNode)ProfileViews.Overlay(o.State)).ToArray()),
        });
    }

    // ---- Instance compile ------------------------------------------------------------------------------------------

    /// <summary>What a compile reads: the permission chain (profiles, overlays, position, the existing posture) and the instance write's facts.</summary>
    private sealed record CompileReads(CompileFacts Compile, GovernanceHandlers.InstanceWriteFacts Write);

    private static async Task<CompileReads> ReadCompileFactsAsync(TenantTransaction tx, CompileInstance command, AccessInstanceState? current,
        ExecutionContext ctx, CancellationToken ct)
    {
        var tenant = ctx.Tenant.Value;
        // Lock order: the instance stream (the target), the user's access lock, then each profile scope (shared with the
        // schema handlers), so a compile never reads a profile half-way through an activation.
        var write = await GovernanceHandlers.InstanceWriteFactsAsync(tx, command.TargetUserId, current, ctx, ct);
        await AccessProfileStore.LockAsync(tx, "GLOBAL|" + ProfileDecider.GlobalScopeKey + "|" + command.AccessProfileId, ct);
        await AccessProfileStore.LockAsync(tx, "TENANT|" + tenant + "|" + command.AccessProfileId, ct);
        var global = ProfileViews.FoldProfile(await AccessProfileStore.ApLedgerAsync(tx, ProfileDecider.GlobalScopeKey, command.AccessProfileId, ct));
        var tenantProfile = command.TenantProfileVersionRef is null ? ApProfileState.Empty
            : ProfileViews.FoldProfile(await AccessProfileStore.ApLedgerAsync(tx, tenant, command.AccessProfileId, ct));
        var overlays = new Dictionary<string, OverlayState>(StringComparer.Ordinal);
        foreach (var r in command.OverlayVersionRefs)
            if (await Overlays.GetAsync(tx, r.OverlayId, ct) is { } overlay) overlays[r.OverlayId] = overlay;
        var positionExists = command.PositionId is { } positionId && await Position.PositionModule.Positions.GetAsync(tx, positionId, ct) is not null;
        return new CompileReads(new CompileFacts(global, tenantProfile, overlays, positionExists, current?.ToExisting()), write);
    }

    private static HandlerOutcome.Rejected Refused(string simulationId, ReasonCode reason, string detail, params (string, string)[] payload) =>
        new(reason, detail, new JournalDraft(ReasonCodes.EngineAccess, JournalEventTypes.SimulationRefused, reason,
            JournalPayload.Create([("simulation_id", simulationId), .. payload])));

    private static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
}
