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
/// is written under PH1.ACCESS (<see cref="AccessReasons.EngineId"/>), the module's one engine id.
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
    /// <summary>The projection status of a profile or overlay stream with a version in force.</summary>
    private static readonly string InForce = WireNames.Of(VersionedStreamStatus.Active);
    /// <summary>At most this many overlays in one listing (as many ledger rows as the listing folded before it moved).</summary>
    private const int MaxListed = 10000;

    private static SimulationRecord Record(string id, SimulationType type, string action, params ReasonCode[] codes) =>
        new(id, Owner, type, SimulationStatus.Active, action, AccessMode.X, Scope, codes);

    private static readonly ReasonCode[] SchemaRefusals =
        [AccessReasons.AccessContractValidationFailed, AccessReasons.AccessApScopeViolation, AccessReasons.AccessSchemaRefMissing, AccessReasons.AccessApTransitionInvalid];

    /// <summary>
    /// The tenant overlays: <c>access_ap_overlay_ledger</c> / <c>access_ap_overlay_current</c>, one stream per overlay
    /// id holding every version; the stream is ACTIVE while one version is in force, INACTIVE otherwise.
    /// </summary>
    public static Aggregate<OverlayState, OverlayEvent, OverlayEvent> Overlays { get; } = new(
        AccessReasons.EngineId, storeName: "access_ap_overlay", streamField: "overlay_id", viewName: "overlay",
        streamOf: e => e.OverlayId,
        eventTypeOf: e => WireNames.Of(OverlayActionOf(e)),
        evolve: (state, e, _) => OverlayDecider.Evolve(state, e),
        statusOf: s => WireNames.Of(s.ActiveVersionId is null ? VersionedStreamStatus.Inactive : VersionedStreamStatus.Active),
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

    /// <summary>
    /// The AP schema versions: <c>access_ap_schema_ledger</c> / <c>access_ap_schema_current</c>, one stream per profile
    /// and scope (<see cref="ProfileDecider.StreamId"/>) holding every version; GLOBAL streams are kept under the
    /// reserved tenant key, read by every tenant and written only by a platform operator. The stream is ACTIVE while a
    /// version is current, INACTIVE otherwise.
    /// </summary>
    public static Aggregate<ApProfileStream, ApSchemaEvent, ApEvent> Schemas { get; } = new(
        AccessReasons.EngineId, storeName: "access_ap_schema", streamField: "access_profile_stream", viewName: "access_profile",
        streamOf: e => ProfileDecider.StreamId(e.Scope, e.AccessProfileId),
        eventTypeOf: SchemaActionOf,
        evolve: (state, e, _) => ProfileDecider.EvolveStream(state, e),
        statusOf: s => WireNames.Of(s.Profile.CurrentVersionId is null ? VersionedStreamStatus.Inactive : VersionedStreamStatus.Active),
        view: s => ProfileViews.Version(s, s.Profile.CurrentVersionId ?? s.Profile.Versions.Keys.Max()),
        journalFields: e =>
        [
            ("access_profile_id", e.AccessProfileId),
            ("scope_key", e.ScopeKey),
            ("schema_version_id", Invariant(e.SchemaVersionId)),
            ("event_action", SchemaActionOf(e)),
            ("lifecycle_state", WireNames.Of(e switch { ApVersionActivated => ApLifecycle.Active, ApVersionRetired => ApLifecycle.Retired, _ => ApLifecycle.Draft })),
            .. e is ApVersionRetired { SupersededBy: { } by } ? [("superseded_by_version_id", Invariant(by))] : Array.Empty<(string, string)>(),
            .. e is ApVersionActivated { Lineage: { } lineage } ? [("activation_rule_action_set_ref", lineage.RuleActionSetRef)] : Array.Empty<(string, string)>(),
        ],
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["CREATE_DRAFT"] = typeof(ApVersionWritten),
            ["UPDATE_DRAFT"] = typeof(ApVersionWritten),
            ["ACTIVATE"] = typeof(ApVersionActivated),
            ["RETIRE"] = typeof(ApVersionRetired),
        },
        isGlobalStream: ProfileDecider.IsGlobalStream);

    /// <summary>
    /// The authoring reviews: <c>access_ap_authoring_review_ledger</c> / <c>_current</c>, one stream per version
    /// (<see cref="ProfileDecider.VersionStreamId"/>; GLOBAL ones under the reserved tenant key); its status is the
    /// review's confirmation state. Its event ids are the review event ids activation lineage names.
    /// </summary>
    public static Aggregate<ApReviewStream, ApReviewEvent, ApEvent> Reviews { get; } = new(
        AccessReasons.EngineId, storeName: "access_ap_authoring_review", streamField: "authoring_review_stream", viewName: "authoring_review",
        streamOf: e => ProfileDecider.VersionStreamId(e.Scope, e.AccessProfileId, e.SchemaVersionId),
        eventTypeOf: ReviewKindOf,
        evolve: ProfileDecider.EvolveReview,
        statusOf: s => WireNames.Of(s.State),
        view: s => ProfileViews.Review(ProfileDecider.ReviewOf(s, null)!),
        journalFields: e =>
        [
            ("access_profile_id", e.AccessProfileId),
            ("scope_key", e.ScopeKey),
            ("schema_version_id", Invariant(e.SchemaVersionId)),
            ("event_action", ReviewKindOf(e)),
            .. e is ApReviewChannelChosen c ? [("review_channel", WireNames.Of(c.Channel))] : Array.Empty<(string, string)>(),
        ],
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["REVIEW_CHANNEL_COMMIT"] = typeof(ApReviewChannelChosen),
            ["CONFIRMATION_COMMIT"] = typeof(ApReviewConfirmed),
        },
        isGlobalStream: ProfileDecider.IsGlobalStream);

    /// <summary>
    /// The rule actions recorded in reviews: <c>access_ap_rule_review_actions_ledger</c> / <c>_current</c>, one stream per
    /// version holding the ids of its rule actions (its own ledger's, which the activation's rule-action set hashes);
    /// the ledger's event_type is the rule action.
    /// </summary>
    public static Aggregate<ApRuleActionsStream, ApRuleActionRecorded, ApEvent> RuleActions { get; } = new(
        AccessReasons.EngineId, storeName: "access_ap_rule_review_actions", streamField: "rule_actions_stream", viewName: "rule_actions",
        streamOf: e => ProfileDecider.VersionStreamId(e.Scope, e.AccessProfileId, e.SchemaVersionId),
        eventTypeOf: e => WireNames.Of(e.Action),
        evolve: ProfileDecider.EvolveRuleActions,
        statusOf: _ => "RECORDED",
        view: s => new JsonObject { ["rule_action_count"] = s.RuleActionIds.Count, ["rule_action_ids"] = new JsonArray(s.RuleActionIds.Select(i => (JsonNode)i).ToArray()) },
        journalFields: e =>
        [
            ("access_profile_id", e.AccessProfileId),
            ("scope_key", e.ScopeKey),
            ("schema_version_id", Invariant(e.SchemaVersionId)),
            ("rule_action", WireNames.Of(e.Action)),
        ],
        isGlobalStream: ProfileDecider.IsGlobalStream);

    /// <summary>The store pairs of the profiles half.</summary>
    public static IReadOnlyList<IAggregate> Aggregates { get; } = [Overlays, Schemas, Reviews, RuleActions];

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
        Ap<ApSchemaWriteInput, ApProfileStream>(SchemaCreateDraft, SimulationType.Draft, Schemas,
            i => new CreateApDraft(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.ProfilePayload, i.Reason),
            [AccessReasons.AccessApSchemaDrafted, AccessReasons.AccessApSchemaInvalid, .. SchemaRefusals]),
        Ap<ApSchemaWriteInput, ApProfileStream>(SchemaUpdate, SimulationType.Commit, Schemas,
            i => new UpdateApDraft(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.ProfilePayload, i.Reason),
            [AccessReasons.AccessApSchemaUpdated, AccessReasons.AccessApSchemaInvalid, .. SchemaRefusals]),
        Ap<ApSchemaMoveInput, ApProfileStream>(SchemaActivate, SimulationType.Commit, Schemas,
            i => new ActivateAp(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.Reason),
            [AccessReasons.AccessApSchemaActivated, AccessReasons.AccessApActivationConflict, .. SchemaRefusals]),
        Ap<ApSchemaMoveInput, ApProfileStream>(SchemaRetire, SimulationType.Commit, Schemas,
            i => new RetireAp(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.Reason),
            [AccessReasons.AccessApSchemaRetired, .. SchemaRefusals]),
        Ap<ReviewChannelInput, ApReviewStream>(ReviewChannelCommit, SimulationType.Commit, Reviews,
            i => new ChooseReviewChannel(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.ReviewChannel, i.Reason),
            [AccessReasons.AccessApReviewChannelChosen, .. SchemaRefusals]),
        Ap<RuleActionInput, ApRuleActionsStream>(RuleActionCommit, SimulationType.Commit, RuleActions,
            i => new RecordRuleAction(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.RuleAction, i.SuggestedRuleRef, i.CapabilityId, i.ConstraintRef,
                i.EscalationPolicyRef, i.Reason),
            [AccessReasons.AccessApRuleActionRecorded, .. SchemaRefusals]),
        Ap<ConfirmInput, ApReviewStream>(ConfirmCommit, SimulationType.Commit, Reviews,
            i => new ConfirmReview(i.Scope, i.AccessProfileId, i.SchemaVersionId, i.AuthoringConfirmationState, i.Reason),
            [AccessReasons.AccessApReviewConfirmed, .. SchemaRefusals]),
        new EngineSimulation<OverlayUpdateInput, UpdateOverlay, OverlayState, OverlayEvent, bool>(
            Record(OverlayUpdate, SimulationType.Commit, SchemaManage, AccessReasons.AccessApOverlayUpdated, AccessReasons.AccessOverlayOpInvalid,
                AccessReasons.AccessOverlayRefInvalid, AccessReasons.AccessApTransitionInvalid, AccessReasons.AccessContractValidationFailed),
            Overlays,
            toCommand: i => new UpdateOverlay(i.OverlayId, i.OverlayVersionId, i.EventAction, i.OverlayOps, i.Reason),
            validate: c => OverlayDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, _) => c.OverlayId,
            decide: (state, command, _, ctx) => OverlayDecider.Decide(state, command, new OverlayContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now))),
        // Compile writes the user's instance: the governance half's Instances aggregate is its target.
        new EngineSimulation<CompileInput, CompileInstance, AccessInstanceState, GovernanceEvent, CompileReads>(
            Record(InstanceCompile, SimulationType.Commit, CompileRefresh, AccessReasons.AccessInstanceCompiled, AccessReasons.AccessSchemaRefMissing,
                AccessReasons.AccessProfileNotActive, AccessReasons.AccessOverlayRefInvalid, AccessReasons.AccessOverlayOpInvalid, AccessReasons.AccessPositionRefMissing,
                AccessReasons.AccessContractValidationFailed),
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

    /// <summary>
    /// What an AP decision sees: the profile stream, the version's review and rule actions, and whether the tenant may
    /// write GLOBAL rows. The simulation's target stream fills its own slot (see <see cref="With"/>).
    /// </summary>
    private sealed record ApFacts(ApProfileStream? Profile, ApReviewStream? Review, ApRuleActionsStream? RuleActions, bool PlatformOperator)
    {
        public ApReviewState? ReviewState => ProfileDecider.ReviewOf(Review, RuleActions);

        /// <summary>These facts with the target's state in its slot.</summary>
        public ApFacts With(object? target) => target switch
        {
            ApProfileStream p => this with { Profile = p },
            ApReviewStream r => this with { Review = r },
            ApRuleActionsStream a => this with { RuleActions = a },
            _ => this,
        };
    }

    /// <summary>
    /// One AP simulation on the pipeline. Its target is the stream its events go to: the profile stream (schema moves),
    /// the version's review stream (channel, confirmation) or its rule-action stream. Every one of them takes the profile
    /// stream's lock (schema moves as their target, review steps right after their own), so the moves and review steps
    /// of one profile are serialized and decide on facts no one else is writing; no simulation locks a review or
    /// rule-action stream after the profile's, so the order cannot deadlock.
    /// </summary>
    private static EngineSimulation<TInput, ApCommand, TState, ApEvent, ApFacts> Ap<TInput, TState>(string id, SimulationType type,
        IAggregate<TState, ApEvent> target, Func<TInput, ApCommand> toCommand, ReasonCode[] codes) where TInput : class where TState : class =>
        new(Record(id, type, SchemaManage, codes), target, toCommand,
            validate: c => ProfileDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, _) => ReferenceEquals(target, Schemas) ? ProfileDecider.StreamId(c.Scope, c.AccessProfileId)
                : ProfileDecider.VersionStreamId(c.Scope, c.AccessProfileId, c.SchemaVersionId),
            decide: (_, command, facts, ctx) => ProfileDecider.Decide(facts.Profile?.Profile ?? ApProfileState.Empty, command,
                new ApContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now, facts.PlatformOperator, facts.ReviewState)),
            readFacts: async (tx, command, state, ctx, ct) => (await ReadApFactsAsync(tx, command, ReferenceEquals(target, Schemas), ctx, ct)).With(state),
            // The body it always had: the command's version and its review after the decision (no ledger_event_id).
            result: (state, command, facts, _) =>
            {
                var after = facts.With(state);
                var json = new JsonObject { ["access_profile"] = ProfileViews.Version(after.Profile!, command.SchemaVersionId) };
                if (after.ReviewState is { } review) json["authoring_review"] = ProfileViews.Review(review);
                return json;
            });

    /// <summary>The facts besides the target: the profile stream is locked unless it is the target (already locked).</summary>
    private static async Task<ApFacts> ReadApFactsAsync(TenantTransaction tx, ApCommand command, bool profileIsTarget, ExecutionContext ctx, CancellationToken ct)
    {
        var profile = profileIsTarget ? null : await Schemas.LockAndLoadAsync(tx, ProfileDecider.StreamId(command.Scope, command.AccessProfileId), ct);
        var version = ProfileDecider.VersionStreamId(command.Scope, command.AccessProfileId, command.SchemaVersionId);
        return new ApFacts(profile, await Reviews.GetAsync(tx, version, ct), await RuleActions.GetAsync(tx, version, ct),
            command.Scope == ApScope.Global && await EngineStore.SessionIsPlatformOperatorAsync(tx, ct));
    }

    /// <summary>The ledger's event_type of a schema event: the action that wrote it.</summary>
    private static string SchemaActionOf(ApSchemaEvent e) => e switch
    {
        ApVersionWritten { IsUpdate: true } => "UPDATE_DRAFT",
        ApVersionWritten => "CREATE_DRAFT",
        ApVersionActivated => "ACTIVATE",
        ApVersionRetired => "RETIRE",
        _ => throw new InvalidOperationException($"schema event {e.GetType().Name} is not handled"),
    };

    /// <summary>The ledger's event_type of a review event (the event kinds of 0007).</summary>
    private static string ReviewKindOf(ApReviewEvent e) => e is ApReviewChannelChosen ? "REVIEW_CHANNEL_COMMIT" : "CONFIRMATION_COMMIT";

    /// <summary>At most this many current versions in one listing (as before the move).</summary>
    private const int MaxProfilesListed = 1000;

    /// <summary>GET /v1/access/profiles: the ACTIVE versions the tenant sees, GLOBAL ones first, each scope by profile id.</summary>
    private static async Task<ReadResult> ListProfilesAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        IEnumerable<(string StreamId, ApProfileStream State)> streams =
            [.. await Schemas.ListGlobalAsync(tx, InForce, null, MaxProfilesListed, ct), .. await Schemas.ListAsync(tx, InForce, null, MaxProfilesListed, ct)];
        return new ReadResult.Ok(new JsonObject
        {
            ["access_profiles"] = new JsonArray(streams.Take(MaxProfilesListed).Select(s => (JsonNode)ProfileViews.Current(s.State)).ToArray()),
        });
    }

    /// <summary>GET /v1/access/profiles/{access_profile_id}: every version in GLOBAL and the tenant's scope, with authoring reviews.</summary>
    private static async Task<ReadResult> GetProfileAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["access_profile_id"];
        if (!IdRules.IsValidName(id)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "access_profile_id is 1..64 of [A-Za-z0-9_.-]");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var streams = new List<ApProfileStream>();
        var reviews = new Dictionary<(ApScope, int), ApReviewState>();
        foreach (var scope in new[] { ApScope.Global, ApScope.Tenant })
        {
            if (await Schemas.GetAsync(tx, ProfileDecider.StreamId(scope, id), ct) is not { } stream) continue;
            streams.Add(stream);
            foreach (var v in stream.Profile.Versions.Keys)
            {
                var version = ProfileDecider.VersionStreamId(scope, id, v);
                if (ProfileDecider.ReviewOf(await Reviews.GetAsync(tx, version, ct), await RuleActions.GetAsync(tx, version, ct)) is { } review)
                    reviews[(scope, v)] = review;
            }
        }
        return ProfileViews.ProfileDetail(id, streams, reviews) is { } profile
            ? new ReadResult.Ok(new JsonObject { ["access_profile"] = profile })
            : new ReadResult.Refused(AccessReasons.AccessSchemaRefMissing, "no such access profile in this tenant or GLOBAL");
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
        (await Overlays.ListAsync(tx, InForce, null, int.MaxValue, ct))
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
        // Lock order: the instance stream (the target) and the user's access lock, then the profiles: each is one
        // projection row, so a compile never reads a profile half-way through an activation.
        var write = await GovernanceHandlers.InstanceWriteFactsAsync(tx, command.TargetUserId, current, ctx, ct);
        var (global, tenantProfile) = await CompileProfilesAsync(tx, command, ct);
        var overlays = new Dictionary<string, OverlayState>(StringComparer.Ordinal);
        foreach (var r in command.OverlayVersionRefs)
            if (await Overlays.GetAsync(tx, r.OverlayId, ct) is { } overlay) overlays[r.OverlayId] = overlay;
        var positionExists = command.PositionId is { } positionId && await Position.PositionModule.Positions.GetAsync(tx, positionId, ct) is not null;
        return new CompileReads(new CompileFacts(global, tenantProfile, overlays, positionExists, current?.ToExisting()), write);
    }

    /// <summary>
    /// The compile's profile facts: the GLOBAL stream of the profile, and the tenant's own when the request names a
    /// tenant version (empty when there is none). Each is one projection row, so it is never read half-way through an
    /// activation.
    /// </summary>
    private static async Task<(ApProfileState Global, ApProfileState Tenant)> CompileProfilesAsync(TenantTransaction tx, CompileInstance command, CancellationToken ct)
    {
        var global = await Schemas.GetAsync(tx, ProfileDecider.StreamId(ApScope.Global, command.AccessProfileId), ct);
        var tenant = command.TenantProfileVersionRef is null ? null : await Schemas.GetAsync(tx, ProfileDecider.StreamId(ApScope.Tenant, command.AccessProfileId), ct);
        return (global?.Profile ?? ApProfileState.Empty, tenant?.Profile ?? ApProfileState.Empty);
    }

    private static HandlerOutcome.Rejected Refused(string simulationId, ReasonCode reason, string detail, params (string, string)[] payload) =>
        new(reason, detail, new JournalDraft(AccessReasons.EngineId, JournalEventTypes.SimulationRefused, reason,
            JournalPayload.Create([("simulation_id", simulationId), .. payload])));

    private static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
}
