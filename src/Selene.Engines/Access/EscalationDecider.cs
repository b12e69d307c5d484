using Selene.Kernel.Access;

namespace Selene.Engines.Access;

// ---- overrides (ledger access_override_ledger, stream = override id) ---------------------------------------------

/// <summary>An event of one override's stream: granted once, revoked at most once.</summary>
public abstract record OverrideEvent(string OverrideId) : GovernanceEvent;

/// <summary>
/// GRANT: the override as written. ONE_SHOT overrides name their escalation case and carry no expiry; TEMPORARY
/// ones expire at <see cref="ExpiresAt"/>; PERMANENT ones hold until revoked.
/// </summary>
public sealed record OverrideGranted(
    string OverrideId,
    string AccessInstanceId,
    string TargetUserId,
    OverrideType OverrideType,
    string Scope,
    AccessMode GrantMode,
    long StartsAt,
    long? ExpiresAt,
    string? EscalationCaseId,
    string ApprovedByUserId,
    string ApprovedViaSimulationId,
    string? ApprovalRef,
    string Reason,
    long CreatedAt) : OverrideEvent(OverrideId);

/// <summary>REVOKE: the override ends now, by <see cref="RevokedByUserId"/> through <see cref="RevokedViaSimulationId"/>.</summary>
public sealed record OverrideRevoked(
    string OverrideId,
    string RevokedByUserId,
    string RevokedViaSimulationId,
    string? ApprovalRef,
    string Reason,
    long CreatedAt) : OverrideEvent(OverrideId);

/// <summary>
/// One override (a row of <c>access_override_current</c>). Its stored status is ACTIVE or REVOKED; EXPIRED is what
/// readers call an ACTIVE override whose window has passed (<see cref="StatusAt"/>).
/// </summary>
public sealed record OverrideState(
    string OverrideId,
    string AccessInstanceId,
    string TargetUserId,
    OverrideType OverrideType,
    string Scope,
    AccessMode GrantMode,
    OverrideStatus Status,
    long StartsAt,
    long? ExpiresAt,
    string? EscalationCaseId,
    string ApprovedByUserId,
    string ApprovedViaSimulationId,
    string? ApprovalRef,
    long CreatedAt,
    long UpdatedAt)
{
    /// <summary>The status at <paramref name="now"/>: an ACTIVE override past its expiry is EXPIRED.</summary>
    public OverrideStatus StatusAt(UnixNanos now) =>
        Status == OverrideStatus.Active && ExpiresAt is { } end && end <= now.Value ? OverrideStatus.Expired : Status;

    /// <summary>The gate's view of the override.</summary>
    public AccessOverrideView ToView() => new(OverrideId, OverrideType, Scope, GrantMode, Status, StartsAt, ExpiresAt);

    /// <summary>The conflict rule's view of the override.</summary>
    public StoredOverride ToStored() => new(OverrideId, TargetUserId, OverrideType, Scope, GrantMode, Status == OverrideStatus.Revoked, StartsAt, ExpiresAt,
        EscalationCaseId);
}

// ---- escalation cases (ledger access_escalation_case_ledger, stream = case id) -----------------------------------

/// <summary>An event of one escalation case: opened once by the executor, then resolved once.</summary>
public abstract record EscalationCaseEvent(string EscalationCaseId) : GovernanceEvent;

/// <summary>OPEN: the gate refused the request and an approver or board can resolve it; the ACTIVE policy it bound, if any.</summary>
public sealed record EscalationCaseOpened(
    string EscalationCaseId,
    string TargetUserId,
    string AccessInstanceId,
    string SimulationId,
    string RequestIdempotencyKey,
    string RequestHash,
    string RequestedAction,
    AccessMode RequestedMode,
    AccessMode EffectiveMode,
    EscalationTrigger EscalationTrigger,
    string? BoardPolicyId,
    int? PolicyVersionId,
    string? PolicyPayloadJson,
    string OpenedCorrelationId,
    long OpenedAt) : EscalationCaseEvent(EscalationCaseId);

/// <summary>APPROVE or DENY: the case is resolved <see cref="ResolvedVia"/>, approved with <see cref="OverrideId"/> when there is one.</summary>
public sealed record EscalationCaseResolved(
    string EscalationCaseId,
    EscalationStatus Status,
    ResolvedVia ResolvedVia,
    string? OverrideId,
    long ResolvedAt) : EscalationCaseEvent(EscalationCaseId);

/// <summary>
/// One escalation case (a row of <c>access_escalation_case_current</c>): the request it is about, the policy version
/// it bound (snapshot, null when none governs), and its resolution. Invariant: resolved exactly when not OPEN.
/// </summary>
public sealed record EscalationCaseState(
    string EscalationCaseId,
    string TargetUserId,
    string AccessInstanceId,
    string SimulationId,
    string RequestIdempotencyKey,
    string RequestHash,
    string RequestedAction,
    AccessMode RequestedMode,
    AccessMode EffectiveMode,
    EscalationTrigger EscalationTrigger,
    string? BoardPolicyId,
    int? PolicyVersionId,
    string? PolicyPayloadJson,
    EscalationStatus Status,
    ResolvedVia? ResolvedVia,
    string? OverrideId,
    string OpenedCorrelationId,
    long OpenedAt,
    long? ResolvedAt)
{
    /// <summary>The rules' view of the case (its policy snapshot parsed by <paramref name="parse"/>).</summary>
    public EscalationCaseView ToView(Func<string, BoardPolicyPayload?> parse) => new(EscalationCaseId, TargetUserId, RequestedAction, RequestedMode, Status,
        BoardPolicyId, PolicyVersionId, PolicyPayloadJson is { } json ? parse(json) : null);
}

// ---- board votes (ledger access_board_votes_ledger, stream = case id) ---------------------------------------------

/// <summary>VOTE: one member's vote on a case, with the threshold status it produced.</summary>
public sealed record BoardVoteCast(
    string EscalationCaseId,
    string BoardPolicyId,
    int PolicyVersionId,
    string VoterUserId,
    VoteValue VoteValue,
    string Reason,
    ThresholdStatus ThresholdStatus,
    long CreatedAt) : GovernanceEvent;

/// <summary>One recorded vote: <see cref="VoteRowId"/> is its ledger event id.</summary>
public sealed record RecordedVote(long VoteRowId, string BoardPolicyId, int PolicyVersionId, string VoterUserId, VoteValue VoteValue, string Reason,
    ThresholdStatus ThresholdStatusAfter, long CreatedAt);

/// <summary>The votes on one case in ledger order (a row of <c>access_board_votes_current</c>); its status is the last vote's threshold status.</summary>
public sealed record CaseVotesState(string EscalationCaseId, ThresholdStatus ThresholdStatus, IReadOnlyList<RecordedVote> Votes)
{
    public IReadOnlyList<BoardVote> ToBoardVotes() => Votes.Select(v => new BoardVote(v.VoteRowId, v.VoterUserId, v.VoteValue)).ToArray();
}

// ---- commands and facts -------------------------------------------------------------------------------------------

/// <summary>
/// ACCESS_OVERRIDE_TEMP_GRANT_COMMIT (ONE_SHOT for a case, or TEMPORARY for a duration) and
/// ACCESS_OVERRIDE_PERM_GRANT_COMMIT (PERMANENT), written by <see cref="SimulationId"/>.
/// </summary>
public sealed record GrantOverride(string SimulationId, string TargetUserId, string? AccessEngineInstanceId, string OverrideScope, AccessMode GrantMode,
    OverrideType OverrideType, long? DurationMs, string? EscalationCaseId, string? ApprovalRef, string Reason);

/// <summary>ACCESS_OVERRIDE_REVOKE_COMMIT.</summary>
public sealed record RevokeOverride(string SimulationId, string TargetUserId, string OverrideId, string? AccessEngineInstanceId, string? ApprovalRef, string Reason);

/// <summary>ACCESS_BOARD_VOTE_COMMIT (<see cref="VoterUserId"/>: the voter the body names, if any).</summary>
public sealed record CastBoardVote(string SimulationId, string EscalationCaseId, string BoardPolicyId, VoteValue VoteValue, string Reason, string? VoterUserId);

/// <summary>
/// What a grant or revocation reads besides its own stream: the acting approver's instance and overrides in force,
/// the target user's instance id (null: no instance), the case the grant names (null: none or not found), and the
/// target's overrides in force (for the conflict rule).
/// </summary>
public sealed record OverrideFacts(
    AccessInstanceView? Approver,
    IReadOnlyList<AccessOverrideView> ApproverOverrides,
    string? TargetInstanceId,
    EscalationCaseState? Case,
    IReadOnlyList<StoredOverride> InForce);

/// <summary>Who decides and when (pure context of the governance deciders).</summary>
public sealed record GovernanceContext(string TenantId, string ActorUserId, UnixNanos Now);

/// <summary>
/// Overrides, escalation cases and board votes, pure (reference §7.3–§7.5; docs/access-approvals.md): who may grant
/// or revoke what, which grant answers a case, what a vote changes, and how each stream folds. A decision that
/// resolves a case appends to several streams: the override or vote first, then the case.
/// </summary>
public static class EscalationDecider
{
    /// <summary>Decides a grant (the target is the override id content-addressed by the request's key).</summary>
    public static Decision<GovernanceEvent> Grant(GrantOverride c, string overrideId, OverrideFacts facts, GovernanceContext ctx)
    {
        if (facts.TargetInstanceId is null) return Refuse(ReasonCodes.AccessInstanceMissing, $"{c.TargetUserId} has no access instance");
        if (c.AccessEngineInstanceId is not null && c.AccessEngineInstanceId != facts.TargetInstanceId)
            return Refuse(ReasonCodes.AccessScopeMismatch, "access_engine_instance_id is not the target user's instance");
        if (Governance.CheckGrantAuthority(ctx.ActorUserId, facts.Approver, facts.ApproverOverrides, c.TargetUserId, c.OverrideScope, c.GrantMode, ctx.Now)
            is { } refusal)
            return Refuse(refusal.Reason, refusal.Detail);
        if (c.EscalationCaseId is { } caseId)
        {
            var escalation = facts.Case;
            if (escalation is null || escalation.TargetUserId != c.TargetUserId)
                return Refuse(AccessReasons.AccessEscalationCaseNotFound, $"no escalation case {caseId} for {c.TargetUserId}");
            if (escalation.Status != EscalationStatus.Open)
                return Refuse(AccessReasons.AccessEscalationCaseClosed, $"the case is {WireNames.Of(escalation.Status)}");
            if (!Governance.Answers(escalation.ToView(_ => null), c.OverrideScope, c.GrantMode))
                return Refuse(AccessReasons.AccessGrantExceedsAuthority,
                    $"the case asks for {escalation.RequestedAction} at mode {WireNames.Of(escalation.RequestedMode)}; this grant does not answer it");
        }

        var startsAt = ctx.Now.Value;
        long? expiresAt = c.DurationMs is { } d ? checked(startsAt + d * 1_000_000) : null;
        if (Governance.Conflict(facts.InForce, c.OverrideType, c.OverrideScope, startsAt, expiresAt, ctx.Now) is { } clash)
            return Refuse(AccessReasons.AccessOverrideConflict, $"override {clash.OverrideId} already covers {c.OverrideScope} in this window");

        var reason = c.OverrideType == OverrideType.Permanent ? AccessReasons.AccessOverridePermGranted : AccessReasons.AccessOverrideTempGranted;
        GovernanceEvent granted = new OverrideGranted(overrideId, facts.TargetInstanceId, c.TargetUserId, c.OverrideType, c.OverrideScope, c.GrantMode,
            startsAt, expiresAt, c.EscalationCaseId, ctx.ActorUserId, c.SimulationId, c.ApprovalRef, c.Reason, ctx.Now.Value);
        return new Decision<GovernanceEvent>.Accepted(c.EscalationCaseId is { } answered
            ? [granted, new EscalationCaseResolved(answered, EscalationStatus.Approved, ResolvedVia.Override, overrideId, ctx.Now.Value)]
            : [granted], reason, []);
    }

    /// <summary>Decides a revocation of <paramref name="current"/> (null: no such override).</summary>
    public static Decision<GovernanceEvent> Revoke(OverrideState? current, RevokeOverride c, OverrideFacts facts, GovernanceContext ctx)
    {
        if (current is null || current.TargetUserId != c.TargetUserId)
            return Refuse(AccessReasons.AccessOverrideNotFound, $"no override {c.OverrideId} for {c.TargetUserId}");
        if (c.AccessEngineInstanceId is not null && c.AccessEngineInstanceId != current.AccessInstanceId)
            return Refuse(ReasonCodes.AccessScopeMismatch, "access_engine_instance_id is not the override's instance");
        if (current.StatusAt(ctx.Now) != OverrideStatus.Active)
            return Refuse(AccessReasons.AccessOverrideNotActive, $"override {c.OverrideId} is no longer in force");
        if (Governance.CheckGrantAuthority(ctx.ActorUserId, facts.Approver, facts.ApproverOverrides, c.TargetUserId, current.Scope, current.GrantMode, ctx.Now)
            is { } refusal)
            return Refuse(refusal.Reason, refusal.Detail);
        return new Decision<GovernanceEvent>.Accepted(
            new OverrideRevoked(c.OverrideId, ctx.ActorUserId, c.SimulationId, c.ApprovalRef, c.Reason, ctx.Now.Value), AccessReasons.AccessOverrideRevoked);
    }

    /// <summary>
    /// Decides a vote on <paramref name="escalation"/> (null: no such case) given its <paramref name="votes"/> so far.
    /// The vote that reaches the threshold also grants the board's answer, a ONE_SHOT override for exactly the refused
    /// request, and approves the case; the vote that makes it unreachable denies the case.
    /// </summary>
    public static Decision<GovernanceEvent> Vote(CaseVotesState? votes, CastBoardVote c, EscalationCaseState? escalation,
        Func<string, BoardPolicyPayload?> parse, GovernanceContext ctx)
    {
        if (c.VoterUserId is { } named && named != ctx.ActorUserId)
            return Refuse(ReasonCodes.AccessScopeMismatch, "a vote is cast by the voter's own key");
        if (escalation is null) return Refuse(AccessReasons.AccessEscalationCaseNotFound, $"no escalation case {c.EscalationCaseId}");
        var view = escalation.ToView(parse);
        var recorded = votes?.ToBoardVotes() ?? [];
        if (Governance.CheckVote(view, c.BoardPolicyId, ctx.ActorUserId, recorded) is { } refusal) return Refuse(refusal.Reason, refusal.Detail);

        var threshold = Governance.Threshold(view, recorded.Append(new BoardVote(long.MaxValue, ctx.ActorUserId, c.VoteValue)));
        var now = ctx.Now.Value;
        var events = new List<GovernanceEvent>
        {
            new BoardVoteCast(c.EscalationCaseId, c.BoardPolicyId, escalation.PolicyVersionId!.Value, ctx.ActorUserId, c.VoteValue, c.Reason, threshold, now),
        };
        if (threshold == ThresholdStatus.Satisfied)
        {
            // Keyed by the case, not the deciding voter's key: one board answer per case, whatever keys the voters chose.
            var overrideId = Governance.OverrideId(ctx.TenantId, escalation.AccessInstanceId, c.SimulationId, "case:" + escalation.EscalationCaseId);
            events.Add(new OverrideGranted(overrideId, escalation.AccessInstanceId, escalation.TargetUserId, OverrideType.OneShot, escalation.RequestedAction,
                escalation.RequestedMode, now, null, escalation.EscalationCaseId, ctx.ActorUserId, c.SimulationId,
                $"board:{escalation.BoardPolicyId}:v{escalation.PolicyVersionId}", $"board threshold satisfied on {escalation.EscalationCaseId}", now));
            events.Add(new EscalationCaseResolved(escalation.EscalationCaseId, EscalationStatus.Approved, ResolvedVia.BoardVote, overrideId, now));
        }
        else if (threshold == ThresholdStatus.Rejected)
        {
            events.Add(new EscalationCaseResolved(escalation.EscalationCaseId, EscalationStatus.Denied, ResolvedVia.BoardVote, null, now));
        }
        return new Decision<GovernanceEvent>.Accepted(events, AccessReasons.AccessBoardVoteRecorded, []);
    }

    /// <summary>The ledger event_type of a case event: OPEN, APPROVE or DENY.</summary>
    public static string CaseEventType(EscalationCaseEvent e) => e switch
    {
        EscalationCaseOpened => "OPEN",
        EscalationCaseResolved { Status: EscalationStatus.Approved } => "APPROVE",
        EscalationCaseResolved => "DENY",
        _ => throw new InvalidOperationException($"case event {e.GetType().Name} is not handled"),
    };

    /// <summary>The ledger event_type of an override event: GRANT or REVOKE.</summary>
    public static string OverrideEventType(OverrideEvent e) => e switch
    {
        OverrideGranted => "GRANT",
        OverrideRevoked => "REVOKE",
        _ => throw new InvalidOperationException($"override event {e.GetType().Name} is not handled"),
    };

    /// <summary>Folds one override event (pure; uses only the event).</summary>
    public static OverrideState EvolveOverride(OverrideState? state, OverrideEvent e) => e switch
    {
        OverrideGranted g => new OverrideState(g.OverrideId, g.AccessInstanceId, g.TargetUserId, g.OverrideType, g.Scope, g.GrantMode, OverrideStatus.Active,
            g.StartsAt, g.ExpiresAt, g.EscalationCaseId, g.ApprovedByUserId, g.ApprovedViaSimulationId, g.ApprovalRef, g.CreatedAt, g.CreatedAt),
        OverrideRevoked r => (state ?? throw new InvalidOperationException($"override {r.OverrideId} is revoked before it is granted"))
            with { Status = OverrideStatus.Revoked, UpdatedAt = r.CreatedAt },
        _ => throw new InvalidOperationException($"override event {e.GetType().Name} is not handled"),
    };

    /// <summary>Folds one case event (pure; uses only the event).</summary>
    public static EscalationCaseState EvolveCase(EscalationCaseState? state, EscalationCaseEvent e) => e switch
    {
        EscalationCaseOpened o => new EscalationCaseState(o.EscalationCaseId, o.TargetUserId, o.AccessInstanceId, o.SimulationId, o.RequestIdempotencyKey,
            o.RequestHash, o.RequestedAction, o.RequestedMode, o.EffectiveMode, o.EscalationTrigger, o.BoardPolicyId, o.PolicyVersionId, o.PolicyPayloadJson,
            EscalationStatus.Open, null, null, o.OpenedCorrelationId, o.OpenedAt, null),
        EscalationCaseResolved r => (state ?? throw new InvalidOperationException($"case {r.EscalationCaseId} is resolved before it is opened"))
            with { Status = r.Status, ResolvedVia = r.ResolvedVia, OverrideId = r.OverrideId, ResolvedAt = r.ResolvedAt },
        _ => throw new InvalidOperationException($"case event {e.GetType().Name} is not handled"),
    };

    /// <summary>Folds one vote (pure): <paramref name="eventId"/> is its vote row id.</summary>
    public static CaseVotesState EvolveVotes(CaseVotesState? state, BoardVoteCast e, long eventId) =>
        new(e.EscalationCaseId, e.ThresholdStatus, [.. state?.Votes ?? [],
            new RecordedVote(eventId, e.BoardPolicyId, e.PolicyVersionId, e.VoterUserId, e.VoteValue, e.Reason, e.ThresholdStatus, e.CreatedAt)]);

    private static Decision<GovernanceEvent>.Rejected Refuse(ReasonCode reason, string detail) => new(reason, detail);
}
