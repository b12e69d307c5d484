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
/// board policies and board votes. Votes and overrides resolve the escalation cases the executor opens.
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

    private static SimulationRecord Record(string id, string action, AccessMode mode, params ReasonCode[] codes) =>
        new(id, Engine, SimulationType.Commit, SimulationStatus.Active, action, mode, Scope, codes);

    /// <summary>
    /// Board policies: <c>access_board_policy_ledger</c> / <c>access_board_policy_current</c>, stream id = board policy
    /// id, one row per policy with every version.
    /// </summary>
    public static Aggregate<BoardPolicyState, BoardPolicyEvent, GovernanceEvent> Policies { get; } = new(
        ReasonCodes.EngineAccess, storeName: "access_board_policy", streamField: "board_policy_id", viewName: "board_policy",
        streamOf: e => e.BoardPolicyId,
        eventTypeOf: e => WireNames.Of(e.EventAction),
        evolve: BoardPolicyDecider.Evolve,
        statusOf: s => WireNames.Of(s.Status),
        view: GovernanceViews.Policy,
        journalFields: e => [
            ("policy_version_id", e.PolicyVersionId.ToString(CultureInfo.InvariantCulture)), ("event_action", WireNames.Of(e.EventAction)),
            ("version_state_from", e.VersionStateFrom is { } from ? WireNames.Of(from) : "NONE"), ("version_state_to", WireNames.Of(e.LifecycleState))]);

    /// <summary>The store pairs of the governance half on the engine platform (the rebuild walks them).</summary>
    public static IReadOnlyList<IAggregate> Aggregates { get; } = [Policies];

    /// <summary>The HTTP read routes of the governance half on the engine platform.</summary>
    public static IReadOnlyList<ReadRoute> Routes { get; } =
    [
        new ReadRoute("ListBoardPolicies", "/access/board-policies", "Board policies with every version and the one in force.", NotFound: false,
            ListPoliciesAsync),
        new ReadRoute("GetBoardPolicy", "/access/board-policies/{board_policy_id}", "One board policy with every version and the one in force.",
            NotFound: true, GetPolicyAsync),
    ];

    public static IReadOnlyList<ISimulationHandler> All { get; } =
    [
        new DelegateHandler<InstanceUpsertInput, InstanceUpsertInput>(
            Record(InstanceUpsert, "ACCESS_INSTANCE_COMPILE_REFRESH", AccessMode.X, ReasonCodes.AccessInstanceUpserted, ReasonCodes.AccessSelfGrantForbidden,
                ReasonCodes.AccessGrantExceedsAuthority),
            ValidateInstance, UpsertInstanceAsync),
        new DelegateHandler<TempGrantInput, TempGrantInput>(
            Record(TempGrant, "ACCESS_OVERRIDE_MANAGE", AccessMode.A, ReasonCodes.AccessOverrideTempGranted, ReasonCodes.AccessOverrideConflict,
                ReasonCodes.AccessGrantExceedsAuthority, ReasonCodes.AccessEscalationCaseNotFound, ReasonCodes.AccessEscalationCaseClosed),
            ValidateTemp, (tx, i, ctx, ct) => GrantAsync(tx, TempGrant, i.TargetUserId, i.AccessEngineInstanceId, i.OverrideScope, i.GrantMode,
                i.DurationMs is null ? OverrideType.OneShot : OverrideType.Temporary, i.DurationMs, i.EscalationCaseId, i.ApprovalRef, i.Reason, ctx, ct)),
        new DelegateHandler<PermGrantInput, PermGrantInput>(
            Record(PermGrant, "ACCESS_OVERRIDE_MANAGE", AccessMode.A, ReasonCodes.AccessOverridePermGranted, ReasonCodes.AccessOverrideConflict,
                ReasonCodes.AccessGrantExceedsAuthority, ReasonCodes.AccessEscalationCaseNotFound, ReasonCodes.AccessEscalationCaseClosed),
            ValidatePerm, (tx, i, ctx, ct) => GrantAsync(tx, PermGrant, i.TargetUserId, i.AccessEngineInstanceId, i.OverrideScope, i.GrantMode,
                OverrideType.Permanent, null, i.EscalationCaseId, i.ApprovalRef, i.Reason, ctx, ct)),
        new DelegateHandler<RevokeInput, RevokeInput>(
            Record(Revoke, "ACCESS_OVERRIDE_MANAGE", AccessMode.A, ReasonCodes.AccessOverrideRevoked, ReasonCodes.AccessOverrideNotFound,
                ReasonCodes.AccessOverrideNotActive, ReasonCodes.AccessGrantExceedsAuthority),
            ValidateRevoke, RevokeAsync),
        new EngineSimulation<BoardPolicyInput, UpdateBoardPolicy, BoardPolicyState, GovernanceEvent, IReadOnlySet<string>>(
            Record(BoardPolicyUpdate, "ACCESS_SCHEMA_MANAGE", AccessMode.X, ReasonCodes.AccessBoardPolicyUpdated, ReasonCodes.AccessBoardPolicyInvalid,
                ReasonCodes.AccessBoardPolicyTransitionInvalid),
            Policies,
            toCommand: i => new UpdateBoardPolicy(i.BoardPolicyId, i.PolicyVersionId, i.EventAction, i.Reason, i.PolicyPayload),
            validate: c => BoardPolicyDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, _) => c.BoardPolicyId,
            decide: (state, c, known, ctx) => BoardPolicyDecider.Decide(state, c, known, ctx.Actor.Value, ctx.Now),
            readFacts: async (tx, c, _, _, ct) => c.PolicyPayload is { } payload
                ? await AccessGovernanceStore.ExistingIdentitiesAsync(tx, payload.Members, ct)
                : new HashSet<string>(StringComparer.Ordinal),
            result: (state, c, _, _) => new JsonObject
            {
                ["board_policy"] = GovernanceViews.Policy(state!),
                ["policy_version_id"] = c.PolicyVersionId,
                ["policy_state"] = WireNames.Of(state!.Versions.Single(v => v.PolicyVersionId == c.PolicyVersionId).LifecycleState),
            }),
        new DelegateHandler<BoardVoteInput, BoardVoteInput>(
            Record(BoardVote, "ACCESS_ESCALATION_VOTE", AccessMode.W, ReasonCodes.AccessBoardVoteRecorded, ReasonCodes.AccessBoardMemberRequired,
                ReasonCodes.AccessBoardVoteDuplicate, ReasonCodes.AccessEscalationCaseNotFound, ReasonCodes.AccessEscalationCaseClosed),
            ValidateVote, VoteAsync),
    ];

    // ---- input validation (pure) --------------------------------------------------------------------------

    private static (T?, JsonInputError?) Ok<T>(T value) where T : class => (value, null);

    private static (T?, JsonInputError?) Bad<T>(string detail) where T : class => (null, new JsonInputError(ReasonCodes.InputFieldInvalid, detail));

    private static string? CheckCommon(string targetUserId, string reason, string? approvalRef)
    {
        if (!IdRules.IsValidName(targetUserId)) return "target_user_id must be a valid user id";
        if (!IdRules.IsBoundedText(reason, 512)) return "reason must be 1..512 characters";
        if (approvalRef is not null && !IdRules.IsBoundedText(approvalRef, 256)) return "approval_ref must be 1..256 characters";
        return null;
    }

    private static (InstanceUpsertInput?, JsonInputError?) ValidateInstance(InstanceUpsertInput i)
    {
        if (!IdRules.IsValidName(i.TargetUserId)) return Bad<InstanceUpsertInput>("target_user_id must be a valid user id");
        if (!IdRules.IsValidName(i.RoleTemplateId)) return Bad<InstanceUpsertInput>("role_template_id must be a valid name");
        if (i.Allow.Count > 256 || i.Allow.Any(a => !Governance.IsActionToken(a)))
            return Bad<InstanceUpsertInput>("allow lists at most 256 requested_action tokens (A-Z, 0-9, _) or \"*\"");
        if (i.IdentityVerified == (i.VerificationLevel == VerificationLevel.None))
            return Bad<InstanceUpsertInput>("identity_verified and verification_level disagree (NONE means not verified)");
        return Ok(i);
    }

    private static (TempGrantInput?, JsonInputError?) ValidateTemp(TempGrantInput i)
    {
        if (CheckCommon(i.TargetUserId, i.Reason, i.ApprovalRef) is { } bad) return Bad<TempGrantInput>(bad);
        if (!Governance.IsActionToken(i.OverrideScope)) return Bad<TempGrantInput>("override_scope must be a requested_action token or \"*\"");
        if (i.DurationMs is null && i.EscalationCaseId is null)
            return Bad<TempGrantInput>("a temporary grant needs duration_ms (TEMPORARY) or escalation_case_id (ONE_SHOT for that request)");
        if (i.DurationMs is { } d && (d < 1000 || d > Governance.MaxTemporaryDurationMs))
            return Bad<TempGrantInput>($"duration_ms must be 1000..{Governance.MaxTemporaryDurationMs}");
        return i.EscalationCaseId is { } c && !IsCaseId(c) ? Bad<TempGrantInput>("escalation_case_id must look like esc_<16 hex>") : Ok(i);
    }

    private static (PermGrantInput?, JsonInputError?) ValidatePerm(PermGrantInput i)
    {
        if (CheckCommon(i.TargetUserId, i.Reason, i.ApprovalRef) is { } bad) return Bad<PermGrantInput>(bad);
        if (!Governance.IsActionToken(i.OverrideScope)) return Bad<PermGrantInput>("override_scope must be a requested_action token or \"*\"");
        return i.EscalationCaseId is { } c && !IsCaseId(c) ? Bad<PermGrantInput>("escalation_case_id must look like esc_<16 hex>") : Ok(i);
    }

    private static (RevokeInput?, JsonInputError?) ValidateRevoke(RevokeInput i)
    {
        if (CheckCommon(i.TargetUserId, i.Reason, i.ApprovalRef) is { } bad) return Bad<RevokeInput>(bad);
        return IdRules.IsShortHashId(i.OverrideId, "ovr_") ? Ok(i) : Bad<RevokeInput>("override_id must look like ovr_<16 hex>");
    }

    private static (BoardVoteInput?, JsonInputError?) ValidateVote(BoardVoteInput i)
    {
        if (!IsCaseId(i.EscalationCaseId)) return Bad<BoardVoteInput>("escalation_case_id must look like esc_<16 hex>");
        if (!IdRules.IsValidName(i.BoardPolicyId)) return Bad<BoardVoteInput>("board_policy_id must be a valid name");
        if (!IdRules.IsBoundedText(i.Reason, 512)) return Bad<BoardVoteInput>("reason must be 1..512 characters");
        return i.VoterUserId is { } v && !IdRules.IsValidName(v) ? Bad<BoardVoteInput>("voter_user_id must be a valid user id") : Ok(i);
    }

    public static bool IsCaseId(string id) => IdRules.IsShortHashId(id, "esc_");

    // ---- execution ----------------------------------------------------------------------------------------

    private static HandlerOutcome.Rejected Refuse(string simulationId, ReasonCode reason, string detail, params (string, string)[] payload) =>
        new(reason, detail, new JournalDraft(ReasonCodes.EngineAccess, JournalEventTypes.SimulationRefused, reason,
            JournalPayload.Create([("simulation_id", simulationId), .. payload])));

    private static GovernanceStamp Stamp(ExecutionContext ctx, ReasonCode reason) =>
        new(ctx.Actor.Value, reason.Name, ctx.Correlation.ToString(), ctx.IdempotencyKey.Value, ctx.Now.Value);

    private static HandlerOutcome.Accepted Accept(ReasonCode reason, JsonObject result, params JournalDraft[] journal) => new(reason, result, journal, []);

    private static async Task<HandlerOutcome> UpsertInstanceAsync(TenantTransaction tx, InstanceUpsertInput i, ExecutionContext ctx, CancellationToken ct)
    {
        await tx.LockEntityAsync("access:" + i.TargetUserId, ct);
        var mode = i.AccessMode ?? Governance.RoleDefaultMode(i.RoleTemplateId);
        var (actor, actorOverrides) = await ExecutorGate.LoadAsync(tx, ctx.Actor.Value, null, ctx.Now, ct);
        var existing = await AccessStore.GetByUserAsync(tx, i.TargetUserId, ct);
        if (Governance.CheckInstanceAuthority(ctx.Actor.Value, actor, actorOverrides, i.TargetUserId, mode, i.Allow, i.FinancialAuth, ctx.Now,
                existing is null ? null : AccessCheck.ToView(existing)) is { } refusal)
            return Refuse(InstanceUpsert, refusal.Reason, refusal.Detail, ("target_user_id", i.TargetUserId));

        var created = await AccessGovernanceStore.EnsureIdentityAsync(tx, i.TargetUserId, ctx.Now.Value, ct);
        var instanceId = TenantBootstrap.AccessInstanceId(ctx.Tenant.Value, i.TargetUserId);
        var baseline = CanonicalJson.SerializeToString(new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["allow"] = i.Allow.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
            ["financial_auth"] = i.FinancialAuth,
        });
        var row = new AccessInstanceRow(ctx.Tenant.Value, instanceId, i.TargetUserId, i.RoleTemplateId, WireNames.Of(mode), baseline, i.IdentityVerified,
            WireNames.Of(i.VerificationLevel), WireNames.Of(i.DeviceTrustLevel), WireNames.Of(i.LifecycleState), 0, existing?.CreatedAt ?? ctx.Now.Value, ctx.Now.Value);
        var eventId = await AccessStore.WriteInstanceAsync(tx, row, "UPSERT", ReasonCodes.AccessInstanceUpserted.Name, InstanceUpsert, ctx.Actor.Value,
            ctx.Correlation.ToString(), ctx.IdempotencyKey.Value, ct);
        var stored = row with { SourceEventId = eventId };
        return Accept(ReasonCodes.AccessInstanceUpserted, new JsonObject { ["access_instance"] = AccessCheck.ToJson(stored), ["identity_created"] = created },
            new JournalDraft(ReasonCodes.EngineAccess, InstanceUpsert, ReasonCodes.AccessInstanceUpserted, JournalPayload.Create(
                ("access_instance_id", instanceId), ("user_id", i.TargetUserId), ("effective_access_mode", WireNames.Of(mode)),
                ("lifecycle_state", WireNames.Of(i.LifecycleState)), ("ledger_event_id", eventId.ToString(CultureInfo.InvariantCulture)))));
    }

    private static async Task<HandlerOutcome> GrantAsync(TenantTransaction tx, string simulationId, string target, string? instanceRef, string scope,
        AccessMode grantMode, OverrideType type, long? durationMs, string? caseId, string? approvalRef, string reason, ExecutionContext ctx, CancellationToken ct)
    {
        await tx.LockEntityAsync("access:" + target, ct);
        var instance = await AccessStore.GetByUserAsync(tx, target, ct);
        if (instance is null) return Refuse(simulationId, ReasonCodes.AccessInstanceMissing, $"{target} has no access instance", ("target_user_id", target));
        if (instanceRef is not null && instanceRef != instance.AccessInstanceId)
            return Refuse(simulationId, ReasonCodes.AccessScopeMismatch, "access_engine_instance_id is not the target user's instance", ("target_user_id", target));

        var (approver, approverOverrides) = await ExecutorGate.LoadAsync(tx, ctx.Actor.Value, null, ctx.Now, ct);
        if (Governance.CheckGrantAuthority(ctx.Actor.Value, approver, approverOverrides, target, scope, grantMode, ctx.Now) is { } refusal)
            return Refuse(simulationId, refusal.Reason, refusal.Detail, ("target_user_id", target), ("scope", scope));

        EscalationCaseRow? escalation = null;
        if (caseId is not null)
        {
            escalation = await AccessGovernanceStore.GetCaseAsync(tx, caseId, forUpdate: true, ct);
            if (escalation is null || escalation.TargetUserId != target)
                return Refuse(simulationId, ReasonCodes.AccessEscalationCaseNotFound, $"no escalation case {caseId} for {target}", ("escalation_case_id", caseId));
            if (escalation.Status != "OPEN")
                return Refuse(simulationId, ReasonCodes.AccessEscalationCaseClosed, $"the case is {escalation.Status}", ("escalation_case_id", caseId));
            if (!Governance.Answers(BoardPolicies.ToView(escalation), scope, grantMode))
                return Refuse(simulationId, ReasonCodes.AccessGrantExceedsAuthority,
                    $"the case asks for {escalation.RequestedAction} at mode {escalation.RequestedMode}; this grant does not answer it", ("escalation_case_id", caseId));
        }

        var startsAt = ctx.Now.Value;
        long? expiresAt = durationMs is { } d ? checked(startsAt + d * 1_000_000) : null;
        var existing = (await AccessGovernanceStore.InForceOverridesAsync(tx, target, null, ctx.Now.Value, ct)).Select(ToStored);
        if (Governance.Conflict(existing, type, scope, startsAt, expiresAt, ctx.Now) is { } clash)
            return Refuse(simulationId, ReasonCodes.AccessOverrideConflict, $"override {clash.OverrideId} already covers {scope} in this window",
                ("target_user_id", target), ("override_id", clash.OverrideId));

        var reasonCode = type == OverrideType.Permanent ? ReasonCodes.AccessOverridePermGranted : ReasonCodes.AccessOverrideTempGranted;
        var row = new OverrideRow(Governance.OverrideId(ctx.Tenant.Value, instance.AccessInstanceId, simulationId, ctx.IdempotencyKey.Value),
            instance.AccessInstanceId, target, WireNames.Of(type), scope, WireNames.Of(grantMode), "ACTIVE", startsAt, expiresAt, caseId,
            ctx.Actor.Value, simulationId, approvalRef, ctx.Now.Value, ctx.Now.Value);
        await AccessGovernanceStore.GrantOverrideAsync(tx, row, reason, Stamp(ctx, reasonCode), ct);
        var journal = new List<JournalDraft> { OverrideJournal(simulationId, reasonCode, row) };
        var result = new JsonObject { ["override"] = GovernanceViews.Override(row) };
        if (escalation is not null)
        {
            journal.Add(await ResolveAsync(tx, escalation, "APPROVED", "OVERRIDE", row.OverrideId, ctx, ct));
            result["escalation_case_status"] = "APPROVED";
        }
        return new HandlerOutcome.Accepted(reasonCode, result, journal, []);
    }

    private static async Task<HandlerOutcome> RevokeAsync(TenantTransaction tx, RevokeInput i, ExecutionContext ctx, CancellationToken ct)
    {
        await tx.LockEntityAsync("access:" + i.TargetUserId, ct);
        var row = await AccessGovernanceStore.GetOverrideAsync(tx, i.OverrideId, ct);
        if (row is null || row.TargetUserId != i.TargetUserId)
            return Refuse(Revoke, ReasonCodes.AccessOverrideNotFound, $"no override {i.OverrideId} for {i.TargetUserId}", ("override_id", i.OverrideId));
        if (i.AccessEngineInstanceId is not null && i.AccessEngineInstanceId != row.AccessInstanceId)
            return Refuse(Revoke, ReasonCodes.AccessScopeMismatch, "access_engine_instance_id is not the override's instance", ("override_id", i.OverrideId));
        if (row.Status != "ACTIVE" || row.ExpiresAt <= ctx.Now.Value)
            return Refuse(Revoke, ReasonCodes.AccessOverrideNotActive, $"override {i.OverrideId} is no longer in force", ("override_id", i.OverrideId));
        var (approver, approverOverrides) = await ExecutorGate.LoadAsync(tx, ctx.Actor.Value, null, ctx.Now, ct);
        if (Governance.CheckGrantAuthority(ctx.Actor.Value, approver, approverOverrides, i.TargetUserId, row.Scope, WireNames.Parse<AccessMode>(row.GrantMode),
                ctx.Now) is { } refusal)
            return Refuse(Revoke, refusal.Reason, refusal.Detail, ("override_id", i.OverrideId));

        await AccessGovernanceStore.RevokeOverrideAsync(tx, row, Revoke, i.ApprovalRef, i.Reason, Stamp(ctx, ReasonCodes.AccessOverrideRevoked), ct);
        var revoked = row with { Status = "REVOKED", UpdatedAt = ctx.Now.Value };
        return Accept(ReasonCodes.AccessOverrideRevoked, new JsonObject { ["override"] = GovernanceViews.Override(revoked) },
            OverrideJournal(Revoke, ReasonCodes.AccessOverrideRevoked, revoked));
    }

    private static async Task<HandlerOutcome> VoteAsync(TenantTransaction tx, BoardVoteInput i, ExecutionContext ctx, CancellationToken ct)
    {
        if (i.VoterUserId is { } named && named != ctx.Actor.Value)
            return Refuse(BoardVote, ReasonCodes.AccessScopeMismatch, "a vote is cast by the voter's own key", ("escalation_case_id", i.EscalationCaseId));
        await tx.LockEntityAsync("case:" + i.EscalationCaseId, ct);
        var escalation = await AccessGovernanceStore.GetCaseAsync(tx, i.EscalationCaseId, forUpdate: true, ct);
        if (escalation is null)
            return Refuse(BoardVote, ReasonCodes.AccessEscalationCaseNotFound, $"no escalation case {i.EscalationCaseId}", ("escalation_case_id", i.EscalationCaseId));
        var view = BoardPolicies.ToView(escalation);
        var votes = await AccessGovernanceStore.VotesAsync(tx, i.EscalationCaseId, ct);
        var recorded = BoardPolicies.ToVotes(votes);
        if (Governance.CheckVote(view, i.BoardPolicyId, ctx.Actor.Value, recorded) is { } refusal)
            return Refuse(BoardVote, refusal.Reason, refusal.Detail, ("escalation_case_id", i.EscalationCaseId), ("voter_user_id", ctx.Actor.Value));

        var next = recorded.Append(new BoardVote(long.MaxValue, ctx.Actor.Value, i.VoteValue)).ToArray();
        var threshold = Governance.Threshold(view, next);
        var stamp = Stamp(ctx, ReasonCodes.AccessBoardVoteRecorded);
        var voteId = await AccessGovernanceStore.AppendVoteAsync(tx, i.EscalationCaseId, i.BoardPolicyId, escalation.PolicyVersionId!.Value,
            WireNames.Of(i.VoteValue), i.Reason, WireNames.Of(threshold), stamp, ct);
        var journal = new List<JournalDraft>
        {
            new(ReasonCodes.EngineAccess, BoardVote, ReasonCodes.AccessBoardVoteRecorded, JournalPayload.Create(
                ("escalation_case_id", i.EscalationCaseId), ("board_policy_id", i.BoardPolicyId), ("voter_user_id", ctx.Actor.Value),
                ("vote_value", WireNames.Of(i.VoteValue)), ("threshold_status", WireNames.Of(threshold)),
                ("vote_row_id", voteId.ToString(CultureInfo.InvariantCulture)))),
        };

        if (threshold == ThresholdStatus.Satisfied)
        {
            // The board's answer is a ONE_SHOT override for exactly the refused request (its case), approved via this vote.
            var row = new OverrideRow(Governance.OverrideId(ctx.Tenant.Value, escalation.AccessInstanceId, BoardVote, "case:" + escalation.EscalationCaseId),
                escalation.AccessInstanceId, escalation.TargetUserId, WireNames.Of(OverrideType.OneShot), escalation.RequestedAction, escalation.RequestedMode,
                "ACTIVE", ctx.Now.Value, null, escalation.EscalationCaseId, ctx.Actor.Value, BoardVote,
                $"board:{escalation.BoardPolicyId}:v{escalation.PolicyVersionId}", ctx.Now.Value, ctx.Now.Value);
            // Keyed by the case, not the deciding voter's key: one board answer per case, whatever keys the voters chose.
            await AccessGovernanceStore.GrantOverrideAsync(tx, row, $"board threshold satisfied on {escalation.EscalationCaseId}",
                Stamp(ctx, ReasonCodes.AccessOverrideTempGranted) with { IdempotencyKey = "case:" + escalation.EscalationCaseId }, ct);
            journal.Add(OverrideJournal(BoardVote, ReasonCodes.AccessOverrideTempGranted, row));
            journal.Add(await ResolveAsync(tx, escalation, "APPROVED", "BOARD_VOTE", row.OverrideId, ctx, ct));
        }
        else if (threshold == ThresholdStatus.Rejected)
        {
            journal.Add(await ResolveAsync(tx, escalation, "DENIED", "BOARD_VOTE", null, ctx, ct));
        }

        var after = await AccessGovernanceStore.GetCaseAsync(tx, i.EscalationCaseId, forUpdate: false, ct);
        return new HandlerOutcome.Accepted(ReasonCodes.AccessBoardVoteRecorded, new JsonObject
        {
            ["vote_row_id"] = voteId,
            ["threshold_status"] = WireNames.Of(threshold),
            ["escalation_case"] = GovernanceViews.Case(after!, await AccessGovernanceStore.VotesAsync(tx, i.EscalationCaseId, ct)),
        }, journal, []);
    }

    private static async Task<JournalDraft> ResolveAsync(TenantTransaction tx, EscalationCaseRow escalation, string status, string via, string? overrideId,
        ExecutionContext ctx, CancellationToken ct)
    {
        var reason = status == "APPROVED" ? ReasonCodes.AccessEscalationApproved : ReasonCodes.AccessEscalationDenied;
        var resolved = escalation with { Status = status, ResolvedVia = via, OverrideId = overrideId, ResolvedAt = ctx.Now.Value };
        await AccessGovernanceStore.ResolveCaseAsync(tx, escalation.EscalationCaseId, status, via, overrideId,
            GovernanceViews.Case(resolved, []).ToJsonString(), Stamp(ctx, reason), ct);
        return new JournalDraft(ReasonCodes.EngineAccess, JournalEventTypes.EscalationCaseResolved, reason, JournalPayload.Create(
            ("escalation_case_id", escalation.EscalationCaseId), ("target_user_id", escalation.TargetUserId), ("status", status),
            ("resolved_via", via), ("override_id", overrideId ?? "NONE")));
    }

    private static JournalDraft OverrideJournal(string simulationId, ReasonCode reason, OverrideRow row) =>
        new(ReasonCodes.EngineAccess, simulationId, reason, JournalPayload.Create(
            ("override_id", row.OverrideId), ("override_type", row.OverrideType), ("override_status", row.Status),
            ("access_instance_id", row.AccessInstanceId), ("target_user_id", row.TargetUserId), ("scope", row.Scope), ("grant_mode", row.GrantMode),
            ("escalation_case_id", row.EscalationCaseId ?? "NONE")));

    private static StoredOverride ToStored(OverrideRow o) => new(o.OverrideId, o.TargetUserId, WireNames.Parse<OverrideType>(o.OverrideType), o.Scope,
        WireNames.Parse<AccessMode>(o.GrantMode), o.Status == "REVOKED", o.StartsAt, o.ExpiresAt, o.EscalationCaseId);

    // ---- read routes ----------------------------------------------------------------------------------------

    /// <summary>The tenant's board policies in id order (the first 1000), each with every version.</summary>
    private static async Task<ReadResult> ListPoliciesAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Policies.ListAsync(tx, null, null, 1000, ct);
        return new ReadResult.Ok(new JsonObject { ["board_policies"] = new JsonArray(rows.Select(r => (JsonNode)GovernanceViews.Policy(r.State)).ToArray()) });
    }

    private static async Task<ReadResult> GetPolicyAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var id = request.RouteValues["board_policy_id"];
        return await Policies.GetAsync(tx, id, ct) is { } state
            ? new ReadResult.Ok(new JsonObject { ["board_policy"] = GovernanceViews.Policy(state) })
            : new ReadResult.Refused(ReasonCodes.AccessBoardPolicyNotFound, "no such board policy in this tenant");
    }
}
