using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.Access;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Access;

/// <summary>ACCESS_INSTANCE_UPSERT_COMMIT body: the user's access instance as an administrator sets it.</summary>
internal sealed record InstanceUpsertInput(
    string TargetUserId,
    string RoleTemplateId,
    IReadOnlyList<string> Allow,
    AccessMode? AccessMode = null,
    bool FinancialAuth = false,
    bool IdentityVerified = true,
    VerificationLevel VerificationLevel = VerificationLevel.PasscodeTime,
    DeviceTrustLevel DeviceTrustLevel = DeviceTrustLevel.Dtl3,
    AccessLifecycle LifecycleState = AccessLifecycle.Active);

/// <summary>ACCESS_OVERRIDE_TEMP_GRANT_COMMIT body: ONE_SHOT (case, no duration) or TEMPORARY (duration).</summary>
internal sealed record TempGrantInput(string TargetUserId, string OverrideScope, AccessMode GrantMode, string Reason, long? DurationMs = null,
    string? EscalationCaseId = null, string? ApprovalRef = null, string? AccessEngineInstanceId = null);

/// <summary>ACCESS_OVERRIDE_PERM_GRANT_COMMIT body.</summary>
internal sealed record PermGrantInput(string TargetUserId, string OverrideScope, AccessMode GrantMode, string Reason,
    string? EscalationCaseId = null, string? ApprovalRef = null, string? AccessEngineInstanceId = null);

/// <summary>ACCESS_OVERRIDE_REVOKE_COMMIT body.</summary>
internal sealed record RevokeInput(string TargetUserId, string OverrideId, string Reason, string? ApprovalRef = null, string? AccessEngineInstanceId = null);

/// <summary>ACCESS_BOARD_POLICY_UPDATE_COMMIT body.</summary>
internal sealed record BoardPolicyInput(string BoardPolicyId, int PolicyVersionId, PolicyEventAction EventAction, string Reason,
    BoardPolicyPayload? PolicyPayload = null);

/// <summary>ACCESS_BOARD_VOTE_COMMIT body.</summary>
internal sealed record BoardVoteInput(string EscalationCaseId, string BoardPolicyId, VoteValue VoteValue, string Reason, string? VoterUserId = null);

/// <summary>
/// The PH2.ACCESS.002 approval-path simulations (reference §7.5): access instances, overrides (grant, revoke),
/// board policies and board votes. Votes and overrides resolve the escalation cases the executor opens. Overrides,
/// cases, votes and board policies are aggregates of the engine platform (one event type, <see cref="GovernanceEvent"/>):
/// a vote appends the vote, and when it decides the case, the board's ONE_SHOT override and the case's resolution.
/// </summary>
public static class GovernanceHandlers
{
    public const string InstanceUpsert = "ACCESS_INSTANCE_UPSERT_COMMIT";
    public const string TempGrant = "ACCESS_OVERRIDE_TEMP_GRANT_COMMIT";
    public const string PermGrant = "ACCESS_OVERRIDE_PERM_GRANT_COMMIT";
    public const string Revoke = "ACCESS_OVERRIDE_REVOKE_COMMIT";
    public const string BoardPolicyUpdate = "ACCESS_BOARD_POLICY_UPDATE_COMMIT";
    public const string BoardVote = "ACCESS_BOARD_VOTE_COMMIT";
    private const string Engine = "PH2.ACCESS.002";
    private const string Scope = "tenant+simulation_id+key";
    /// <summary>At most this many rows in one listing (as the listings before the move).</summary>
    private const int MaxListed = 1000;

    private static SimulationRecord Record(string id, string action, AccessMode mode, params ReasonCode[] codes) =>
        new(id, Engine, SimulationType.Commit, SimulationStatus.Active, action, mode, Scope, codes);

    /// <summary>
    /// Board policies: <c>access_board_policy_ledger</c> / <c>access_board_policy_current</c>, stream id = board policy
    /// id, one row per policy with every version.
    /// </summary>
    public static Aggregate<BoardPolicyState, BoardPolicyEvent, GovernanceEvent> Policies { get; } = new(
        AccessReasons.EngineId, storeName: "access_board_policy", streamField: "board_policy_id", viewName: "board_policy",
        streamOf: e => e.BoardPolicyId,
        eventTypeOf: e => WireNames.Of(e.EventAction),
        evolve: BoardPolicyDecider.Evolve,
        statusOf: s => WireNames.Of(s.Status),
        view: GovernanceViews.Policy,
        journalFields: e => [
            ("policy_version_id", e.PolicyVersionId.ToString(CultureInfo.InvariantCulture)), ("event_action", WireNames.Of(e.EventAction)),
            ("version_state_from", e.VersionStateFrom is { } from ? WireNames.Of(from) : "NONE"), ("version_state_to", WireNames.Of(e.LifecycleState))]);

    /// <summary>
    /// Access instances: <c>access_instance_ledger</c> / <c>access_instance_current</c>, stream id = user id (one instance
    /// per user; its id is content-addressed by tenant and user), events BOOTSTRAP_ADMIN, UPSERT and COMPILE, each the
    /// whole new instance; status its lifecycle state.
    /// </summary>
    public static Aggregate<AccessInstanceState, AccessInstanceWritten, GovernanceEvent> Instances { get; } = new(
        AccessReasons.EngineId, storeName: "access_instance", streamField: "user_id", viewName: "access_instance",
        streamOf: e => e.UserId,
        eventTypeOf: e => WireNames.Of(e.EventAction),
        evolve: (state, e, _) => InstanceDecider.Evolve(state, e),
        statusOf: s => WireNames.Of(s.LifecycleState),
        view: AccessCheck.ToJson,
        journalFields: InstanceJournal);

    /// <summary>
    /// Overrides: <c>access_override_ledger</c> / <c>access_override_current</c>, stream id = override id (content-addressed
    /// by the granting request), events GRANT and REVOKE; status ACTIVE or REVOKED (EXPIRED is computed by readers).
    /// </summary>
    public static Aggregate<OverrideState, OverrideEvent, GovernanceEvent> Overrides { get; } = new(
        AccessReasons.EngineId, storeName: "access_override", streamField: "override_id", viewName: "override",
        streamOf: e => e.OverrideId,
        eventTypeOf: EscalationDecider.OverrideEventType,
        evolve: (state, e, _) => EscalationDecider.EvolveOverride(state, e),
        statusOf: s => WireNames.Of(s.Status),
        view: s => GovernanceViews.Override(s),
        journalFields: e => e is OverrideGranted g
            ? [("override_type", WireNames.Of(g.OverrideType)), ("access_instance_id", g.AccessInstanceId), ("target_user_id", g.TargetUserId),
                ("scope", g.Scope), ("grant_mode", WireNames.Of(g.GrantMode)), ("escalation_case_id", g.EscalationCaseId ?? "NONE")]
            : [],
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal) { ["GRANT"] = typeof(OverrideGranted), ["REVOKE"] = typeof(OverrideRevoked) });

    /// <summary>
    /// Escalation cases: <c>access_escalation_case_ledger</c> / <c>access_escalation_case_current</c>, stream id = case id,
    /// events OPEN (by the executor), APPROVE and DENY; status OPEN, APPROVED or DENIED.
    /// </summary>
    public static Aggregate<EscalationCaseState, EscalationCaseEvent, GovernanceEvent> Cases { get; } = new(
        AccessReasons.EngineId, storeName: "access_escalation_case", streamField: "escalation_case_id", viewName: "escalation_case",
        streamOf: e => e.EscalationCaseId,
        eventTypeOf: EscalationDecider.CaseEventType,
        evolve: (state, e, _) => EscalationDecider.EvolveCase(state, e),
        statusOf: s => WireNames.Of(s.Status),
        view: s => GovernanceViews.Case(s, null),
        journalFields: e => e is EscalationCaseResolved r ? [("resolved_via", WireNames.Of(r.ResolvedVia)), ("override_id", r.OverrideId ?? "NONE")] : [],
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["OPEN"] = typeof(EscalationCaseOpened), ["APPROVE"] = typeof(EscalationCaseResolved), ["DENY"] = typeof(EscalationCaseResolved),
        });

    /// <summary>
    /// Board votes: <c>access_board_votes_ledger</c> / <c>access_board_votes_current</c>, stream id = case id (every vote on
    /// it), event VOTE whose id is the vote's row id; status the threshold status after the last vote.
    /// </summary>
    public static Aggregate<CaseVotesState, BoardVoteCast, GovernanceEvent> Votes { get; } = new(
        AccessReasons.EngineId, storeName: "access_board_votes", streamField: "escalation_case_id", viewName: "votes",
        streamOf: e => e.EscalationCaseId,
        eventTypeOf: _ => "VOTE",
        evolve: EscalationDecider.EvolveVotes,
        statusOf: s => WireNames.Of(s.ThresholdStatus),
        view: s => new JsonObject { ["votes"] = GovernanceViews.Votes(s) },
        journalFields: e => [("board_policy_id", e.BoardPolicyId), ("voter_user_id", e.VoterUserId), ("vote_value", WireNames.Of(e.VoteValue)),
            ("threshold_status", WireNames.Of(e.ThresholdStatus))]);

    /// <summary>The store pairs of the governance half on the engine platform (the rebuild walks them).</summary>
    public static IReadOnlyList<IAggregate> Aggregates { get; } = [Instances, Policies, Overrides, Cases, Votes];

    /// <summary>The HTTP read routes of the governance half on the engine platform.</summary>
    public static IReadOnlyList<ReadRoute> Routes { get; } =
    [
        new ReadRoute("ListAccessInstances", "/access/instances", "The tenant's access instances by user id (the first 1000).", NotFound: false,
            ListInstancesAsync),
        new ReadRoute("GetAccessInstance", "/access/instances/{user_id}", "One user's access instance.", NotFound: true, GetInstanceAsync),
        new ReadRoute("ListBoardPolicies", "/access/board-policies", "Board policies with every version and the one in force.", NotFound: false,
            ListPoliciesAsync),
        new ReadRoute("GetBoardPolicy", "/access/board-policies/{board_policy_id}", "One board policy with every version and the one in force.",
            NotFound: true, GetPolicyAsync),
        new ReadRoute("ListAccessOverrides", "/access/overrides", "Overrides of the tenant (status ACTIVE, EXPIRED or REVOKED); optional user_id.",
            NotFound: false, ListOverridesAsync, QueryParameters: ["user_id"]),
        new ReadRoute("ListEscalationCases", "/access/escalations",
            "Escalation cases with their votes and threshold status; optional status=OPEN|APPROVED|DENIED.", NotFound: false, ListCasesAsync, QueryParameters: ["status"]),
        new ReadRoute("GetEscalationCase", "/access/escalations/{escalation_case_id}", "One escalation case with its votes and threshold status.",
            NotFound: true, GetCaseAsync),
    ];

    public static IReadOnlyList<ISimulationHandler> All { get; } =
    [
        new EngineSimulation<InstanceUpsertInput, UpsertInstance, AccessInstanceState, GovernanceEvent, InstanceWriteFacts>(
            Record(InstanceUpsert, "ACCESS_INSTANCE_COMPILE_REFRESH", AccessMode.X, AccessReasons.AccessInstanceUpserted, AccessReasons.AccessSelfGrantForbidden,
                AccessReasons.AccessGrantExceedsAuthority),
            Instances,
            toCommand: i => new UpsertInstance(i.TargetUserId, i.RoleTemplateId, i.Allow, i.AccessMode, i.FinancialAuth, i.IdentityVerified, i.VerificationLevel,
                i.DeviceTrustLevel, i.LifecycleState),
            validate: ValidateInstance, targetOf: (c, _) => c.TargetUserId,
            decide: (_, c, facts, ctx) => InstanceDecider.Upsert(c, facts.Authority, Context(ctx)),
            readFacts: (tx, c, current, ctx, ct) => InstanceWriteFactsAsync(tx, c.TargetUserId, current, ctx, ct),
            result: InstanceResult),
        new EngineSimulation<TempGrantInput, GrantOverride, OverrideState, GovernanceEvent, OverrideFacts>(
            Record(TempGrant, "ACCESS_OVERRIDE_MANAGE", AccessMode.A, AccessReasons.AccessOverrideTempGranted, AccessReasons.AccessOverrideConflict,
                AccessReasons.AccessGrantExceedsAuthority, AccessReasons.AccessEscalationCaseNotFound, AccessReasons.AccessEscalationCaseClosed),
            Overrides,
            toCommand: i => new GrantOverride(TempGrant, i.TargetUserId, i.AccessEngineInstanceId, i.OverrideScope, i.GrantMode,
                i.DurationMs is null ? OverrideType.OneShot : OverrideType.Temporary, i.DurationMs, i.EscalationCaseId, i.ApprovalRef, i.Reason),
            validate: ValidateGrant, targetOf: OverrideIdOf,
            decide: (_, c, facts, ctx) => EscalationDecider.Grant(c, OverrideIdOf(c, ctx), facts, Context(ctx)),
            readFacts: GrantFactsAsync, others: [Cases], result: GrantResult),
        new EngineSimulation<PermGrantInput, GrantOverride, OverrideState, GovernanceEvent, OverrideFacts>(
            Record(PermGrant, "ACCESS_OVERRIDE_MANAGE", AccessMode.A, AccessReasons.AccessOverridePermGranted, AccessReasons.AccessOverrideConflict,
                AccessReasons.AccessGrantExceedsAuthority, AccessReasons.AccessEscalationCaseNotFound, AccessReasons.AccessEscalationCaseClosed),
            Overrides,
            toCommand: i => new GrantOverride(PermGrant, i.TargetUserId, i.AccessEngineInstanceId, i.OverrideScope, i.GrantMode, OverrideType.Permanent, null,
                i.EscalationCaseId, i.ApprovalRef, i.Reason),
            validate: ValidateGrant, targetOf: OverrideIdOf,
            decide: (_, c, facts, ctx) => EscalationDecider.Grant(c, OverrideIdOf(c, ctx), facts, Context(ctx)),
            readFacts: GrantFactsAsync, others: [Cases], result: GrantResult),
        new EngineSimulation<RevokeInput, RevokeOverride, OverrideState, GovernanceEvent, OverrideFacts>(
            Record(Revoke, "ACCESS_OVERRIDE_MANAGE", AccessMode.A, AccessReasons.AccessOverrideRevoked, AccessReasons.AccessOverrideNotFound,
                AccessReasons.AccessOverrideNotActive, AccessReasons.AccessGrantExceedsAuthority),
            Overrides,
            toCommand: i => new RevokeOverride(Revoke, i.TargetUserId, i.OverrideId, i.AccessEngineInstanceId, i.ApprovalRef, i.Reason),
            validate: ValidateRevoke, targetOf: (c, _) => c.OverrideId,
            decide: (state, c, facts, ctx) => EscalationDecider.Revoke(state, c, facts, Context(ctx)),
            readFacts: async (tx, c, _, ctx, ct) =>
            {
                await tx.LockEntityAsync("access", c.TargetUserId, ct); // the lock every writer of a user's access takes
                var (approver, approverOverrides) = await ExecutorGate.LoadAsync(tx, ctx.Actor.Value, null, ctx.Now, ct);
                return new OverrideFacts(approver, approverOverrides, null, null, []);
            },
            result: (state, _, _, _) => new JsonObject { ["override"] = GovernanceViews.Override(state!) }),
        new EngineSimulation<BoardPolicyInput, UpdateBoardPolicy, BoardPolicyState, GovernanceEvent, IReadOnlySet<string>>(
            Record(BoardPolicyUpdate, "ACCESS_SCHEMA_MANAGE", AccessMode.X, AccessReasons.AccessBoardPolicyUpdated, AccessReasons.AccessBoardPolicyInvalid,
                AccessReasons.AccessBoardPolicyTransitionInvalid),
            Policies,
            toCommand: i => new UpdateBoardPolicy(i.BoardPolicyId, i.PolicyVersionId, i.EventAction, i.Reason, i.PolicyPayload),
            validate: c => BoardPolicyDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, _) => c.BoardPolicyId,
            decide: (state, c, known, ctx) => BoardPolicyDecider.Decide(state, c, known, ctx.Actor.Value, ctx.Now),
            readFacts: async (tx, c, _, _, ct) => c.PolicyPayload is { } payload
                ? await KeyStore.ExistingIdentitiesAsync(tx, payload.Members, ct)
                : new HashSet<string>(StringComparer.Ordinal),
            result: (state, c, _, _) => new JsonObject
            {
                ["board_policy"] = GovernanceViews.Policy(state!),
                ["policy_version_id"] = c.PolicyVersionId,
                ["policy_state"] = WireNames.Of(state!.Versions.Single(v => v.PolicyVersionId == c.PolicyVersionId).LifecycleState),
            }),
        // Lock order shared by every writer of a case: its votes stream, then the case, then the board's override.
        new EngineSimulation<BoardVoteInput, CastBoardVote, CaseVotesState, GovernanceEvent, EscalationCaseState?>(
            Record(BoardVote, "ACCESS_ESCALATION_VOTE", AccessMode.W, AccessReasons.AccessBoardVoteRecorded, AccessReasons.AccessBoardMemberRequired,
                AccessReasons.AccessBoardVoteDuplicate, AccessReasons.AccessEscalationCaseNotFound, AccessReasons.AccessEscalationCaseClosed),
            Votes,
            toCommand: i => new CastBoardVote(BoardVote, i.EscalationCaseId, i.BoardPolicyId, i.VoteValue, i.Reason, i.VoterUserId),
            validate: ValidateVote, targetOf: (c, _) => c.EscalationCaseId,
            decide: (votes, c, escalation, ctx) => EscalationDecider.Vote(votes, c, escalation, BoardPolicies.Parse, Context(ctx)),
            readFacts: (tx, c, _, _, ct) => Cases.LockAndLoadAsync(tx, c.EscalationCaseId, ct),
            others: [Overrides, Cases],
            result: (votes, _, escalation, events) => new JsonObject
            {
                ["vote_row_id"] = votes!.Votes[^1].VoteRowId,
                ["threshold_status"] = WireNames.Of(votes.ThresholdStatus),
                ["escalation_case"] = GovernanceViews.Case(
                    events.OfType<EscalationCaseResolved>().Aggregate(escalation!, (s, e) => EscalationDecider.EvolveCase(s, e)), votes),
            }),
    ];

    private static GovernanceContext Context(ExecutionContext ctx) => new(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now);

    /// <summary>A grant's override id: content-addressed by the target's instance, the simulation and the request's key.</summary>
    private static string OverrideIdOf(GrantOverride c, ExecutionContext ctx) =>
        Governance.OverrideId(ctx.Tenant.Value, InstanceDecider.AccessInstanceId(ctx.Tenant.Value, c.TargetUserId), c.SimulationId, ctx.IdempotencyKey.Value);

    /// <summary>
    /// A grant's facts: under the user's access lock, the approver's authority, the target's instance and overrides in
    /// force (one round trip each), and the case it names, locked (its stream after the override's, as for votes).
    /// </summary>
    private static async Task<OverrideFacts> GrantFactsAsync(TenantTransaction tx, GrantOverride c, OverrideState? _, ExecutionContext ctx, CancellationToken ct)
    {
        await tx.LockEntityAsync("access", c.TargetUserId, ct); // the lock every writer of a user's access takes
        var (approver, approverOverrides) = await ExecutorGate.LoadAsync(tx, ctx.Actor.Value, null, ctx.Now, ct);
        var target = await AccessGovernanceQueries.GateFactsAsync(tx, c.TargetUserId, null, ctx.Now.Value, ct);
        var escalation = c.EscalationCaseId is { } caseId ? await Cases.LockAndLoadAsync(tx, caseId, ct) : null;
        return new OverrideFacts(approver, approverOverrides, ((AccessInstanceState?)Instances.ReadState(target.Instance))?.AccessInstanceId, escalation,
            target.Overrides.Select(r => ((OverrideState)Overrides.ReadState(r)!).ToStored()).ToArray());
    }

    private static JsonObject GrantResult(OverrideState? state, GrantOverride c, OverrideFacts facts, IReadOnlyList<GovernanceEvent> events)
    {
        var result = new JsonObject { ["override"] = GovernanceViews.Override(state!) };
        if (events.OfType<EscalationCaseResolved>().SingleOrDefault() is { } resolved) result["escalation_case_status"] = WireNames.Of(resolved.Status);
        return result;
    }

    // ---- input validation (pure) --------------------------------------------------------------------------

    private static string? CheckCommon(string targetUserId, string reason, string? approvalRef)
    {
        if (!IdRules.IsValidName(targetUserId)) return "target_user_id must be a valid user id";
        if (!IdRules.IsBoundedText(reason, 512)) return "reason must be 1..512 characters";
        if (approvalRef is not null && !IdRules.IsBoundedText(approvalRef, 256)) return "approval_ref must be 1..256 characters";
        return null;
    }

    private static JsonInputError? Invalid(string detail) => new(ReasonCodes.InputFieldInvalid, detail);

    private static JsonInputError? ValidateInstance(UpsertInstance c)
    {
        if (!IdRules.IsValidName(c.TargetUserId)) return Invalid("target_user_id must be a valid user id");
        if (!IdRules.IsValidName(c.RoleTemplateId)) return Invalid("role_template_id must be a valid name");
        if (c.Allow.Count > 256 || c.Allow.Any(a => !Governance.IsActionToken(a)))
            return Invalid("allow lists at most 256 requested_action tokens (A-Z, 0-9, _) or \"*\"");
        if (c.IdentityVerified == (c.VerificationLevel == VerificationLevel.None))
            return Invalid("identity_verified and verification_level disagree (NONE means not verified)");
        return null;
    }

    private static JsonInputError? ValidateGrant(GrantOverride c)
    {
        if (CheckCommon(c.TargetUserId, c.Reason, c.ApprovalRef) is { } bad) return Invalid(bad);
        if (!Governance.IsActionToken(c.OverrideScope)) return Invalid("override_scope must be a requested_action token or \"*\"");
        if (c.OverrideType != OverrideType.Permanent)
        {
            if (c.DurationMs is null && c.EscalationCaseId is null)
                return Invalid("a temporary grant needs duration_ms (TEMPORARY) or escalation_case_id (ONE_SHOT for that request)");
            if (c.DurationMs is { } d && (d < 1000 || d > Governance.MaxTemporaryDurationMs))
                return Invalid($"duration_ms must be 1000..{Governance.MaxTemporaryDurationMs}");
        }
        return c.EscalationCaseId is { } id && !IsCaseId(id) ? Invalid("escalation_case_id must look like esc_<16 hex>") : null;
    }

    private static JsonInputError? ValidateRevoke(RevokeOverride c)
    {
        if (CheckCommon(c.TargetUserId, c.Reason, c.ApprovalRef) is { } bad) return Invalid(bad);
        return IdRules.IsShortHashId(c.OverrideId, "ovr_") ? null : Invalid("override_id must look like ovr_<16 hex>");
    }

    private static JsonInputError? ValidateVote(CastBoardVote c)
    {
        if (!IsCaseId(c.EscalationCaseId)) return Invalid("escalation_case_id must look like esc_<16 hex>");
        if (!IdRules.IsValidName(c.BoardPolicyId)) return Invalid("board_policy_id must be a valid name");
        if (!IdRules.IsBoundedText(c.Reason, 512)) return Invalid("reason must be 1..512 characters");
        return c.VoterUserId is { } v && !IdRules.IsValidName(v) ? Invalid("voter_user_id must be a valid user id") : null;
    }

    public static bool IsCaseId(string id) => IdRules.IsShortHashId(id, "esc_");

    // ---- access instances -------------------------------------------------------------------------------------

    /// <summary>What an instance write reads: the actor's authority over the target, and whether the target's identity was created.</summary>
    internal sealed record InstanceWriteFacts(InstanceAuthority Authority, bool IdentityCreated);

    /// <summary>
    /// The facts of every instance write (upsert and compile): under the user's access lock (after the instance stream's),
    /// the actor's instance and overrides in force, the gate's view of the target's current instance, and the target's
    /// identity, created when missing (users come into a tenant with their instance). A refused write creates nothing: the
    /// executor rolls the simulation's transaction back and records the refusal in a transaction of its own.
    /// </summary>
    internal static async Task<InstanceWriteFacts> InstanceWriteFactsAsync(TenantTransaction tx, string targetUserId, AccessInstanceState? current,
        ExecutionContext ctx, CancellationToken ct)
    {
        await tx.LockEntityAsync("access", targetUserId, ct); // the lock every writer of a user's access takes
        var (actor, actorOverrides) = await ExecutorGate.LoadAsync(tx, ctx.Actor.Value, null, ctx.Now, ct);
        var created = await KeyStore.EnsureIdentityAsync(tx, targetUserId, ctx.Now.Value, ct);
        return new InstanceWriteFacts(new InstanceAuthority(actor, actorOverrides, current is null ? null : AccessCheck.ToView(current)), created);
    }

    /// <summary>The result of an instance write: the instance as stored, and whether its user was new to the tenant.</summary>
    internal static JsonObject InstanceResult(AccessInstanceState? state, object _, InstanceWriteFacts facts, IReadOnlyList<GovernanceEvent> events) =>
        new() { ["access_instance"] = AccessCheck.ToJson(state!), ["identity_created"] = facts.IdentityCreated };

    /// <summary>The journal fields of an instance write, beside the standard ones (a compile adds its lineage and counts).</summary>
    private static IEnumerable<(string, string)> InstanceJournal(AccessInstanceWritten e)
    {
        yield return ("access_instance_id", e.AccessInstanceId);
        yield return ("event_action", WireNames.Of(e.EventAction));
        yield return ("effective_access_mode", WireNames.Of(e.AccessMode));
        if (e.Lineage is not { } l) yield break;
        yield return ("compiled_global_profile_id", l.GlobalProfileId);
        yield return ("compiled_global_profile_version", l.GlobalProfileVersion.ToString(CultureInfo.InvariantCulture));
        if (l.TenantProfileVersion is { } tv) yield return ("compiled_tenant_profile_version", tv.ToString(CultureInfo.InvariantCulture));
        if (l.OverlaySetRef is { } set) yield return ("compiled_overlay_set_ref", set);
        if (l.PositionId is { } position) yield return ("compiled_position_id", position);
    }

    // ---- read routes ----------------------------------------------------------------------------------------

    /// <summary>The tenant's board policies in id order (the first 1000), each with every version.</summary>
    private static async Task<ReadResult> ListPoliciesAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Policies.ListAsync(tx, null, null, MaxListed, ct);
        return new ReadResult.Ok(new JsonObject { ["board_policies"] = new JsonArray(rows.Select(r => (JsonNode)GovernanceViews.Policy(r.State)).ToArray()) });
    }

    private static async Task<ReadResult> GetPolicyAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var id = request.RouteValues["board_policy_id"];
        return await Policies.GetAsync(tx, id, ct) is { } state
            ? new ReadResult.Ok(new JsonObject { ["board_policy"] = GovernanceViews.Policy(state) })
            : new ReadResult.Refused(AccessReasons.AccessBoardPolicyNotFound, "no such board policy in this tenant");
    }

    /// <summary>GET /v1/access/overrides: the newest 1000 overrides (optionally of one user), their status as of now.</summary>
    private static async Task<ReadResult> ListOverridesAsync(ReadRequest request, CancellationToken ct)
    {
        var user = request.QueryValues.GetValueOrDefault("user_id", "");
        if (user.Length > 0 && !IdRules.IsValidName(user)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "user_id must be a valid user id");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await AccessGovernanceQueries.OverridesNewestFirstAsync(tx, user.Length > 0 ? user : null, ct);
        return new ReadResult.Ok(new JsonObject
        {
            ["overrides"] = new JsonArray(rows.Select(r => (JsonNode)GovernanceViews.Override((OverrideState)Overrides.ReadState(r)!, request.Now)).ToArray()),
        });
    }

    /// <summary>GET /v1/access/escalations: the newest 1000 cases (optionally of one status), each with its votes.</summary>
    private static async Task<ReadResult> ListCasesAsync(ReadRequest request, CancellationToken ct)
    {
        var status = request.QueryValues.GetValueOrDefault("status", "");
        if (status.Length > 0 && !WireNames.TryParse<EscalationStatus>(status, out _))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "status must be OPEN, APPROVED or DENIED");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await AccessGovernanceQueries.CasesNewestFirstAsync(tx, status.Length > 0 ? status : null, ct);
        return new ReadResult.Ok(new JsonObject
        {
            ["escalation_cases"] = new JsonArray(rows.Select(r => (JsonNode)GovernanceViews.Case((EscalationCaseState)Cases.ReadState(r.Case)!,
                (CaseVotesState?)Votes.ReadState(r.Votes))).ToArray()),
        });
    }

    /// <summary>GET /v1/access/escalations/{escalation_case_id}: one case with its votes.</summary>
    private static async Task<ReadResult> GetCaseAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["escalation_case_id"];
        if (!IsCaseId(id)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "escalation_case_id must look like esc_<16 hex>");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        return await Cases.GetAsync(tx, id, ct) is { } escalation
            ? new ReadResult.Ok(new JsonObject { ["escalation_case"] = GovernanceViews.Case(escalation, await Votes.GetAsync(tx, id, ct)) })
            : new ReadResult.Refused(AccessReasons.AccessEscalationCaseNotFound, "no such escalation case in this tenant");
    }

    /// <summary>GET /v1/access/instances: the tenant's instances in user id order (the first 1000).</summary>
    private static async Task<ReadResult> ListInstancesAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Instances.ListAsync(tx, null, null, MaxListed, ct);
        return new ReadResult.Ok(new JsonObject { ["access_instances"] = new JsonArray(rows.Select(r => (JsonNode)AccessCheck.ToJson(r.State)).ToArray()) });
    }

    /// <summary>GET /v1/access/instances/{user_id}: one user's instance.</summary>
    private static async Task<ReadResult> GetInstanceAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        return await Instances.GetAsync(tx, request.RouteValues["user_id"], ct) is { } instance
            ? new ReadResult.Ok(new JsonObject { ["access_instance"] = AccessCheck.ToJson(instance) })
            : new ReadResult.Refused(ReasonCodes.AccessInstanceMissing, "the user has no access instance in this tenant");
    }
}
