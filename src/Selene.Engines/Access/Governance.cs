using Selene.Kernel.Access;

namespace Selene.Engines.Access;

/// <summary>Where an escalation case stands.</summary>
public enum EscalationStatus
{
    /// <summary>Waiting for its approval path.</summary>
    Open,
    /// <summary>The approval path granted it: the original request, retried with its key, passes the gate.</summary>
    Approved,
    /// <summary>The board rejected it: retries are refused for good.</summary>
    Denied,
}

/// <summary>How an escalation case was resolved.</summary>
public enum ResolvedVia
{
    /// <summary>The bound board policy's threshold was reached (or became unreachable).</summary>
    BoardVote,
    /// <summary>An approver wrote an override naming the case.</summary>
    Override,
}

/// <summary>How an instance's identity was verified (reference §7.1).</summary>
public enum VerificationLevel
{
    /// <summary>Not verified.</summary>
    None,
    /// <summary>A time-based passcode.</summary>
    PasscodeTime,
    /// <summary>A biometric check.</summary>
    Biometric,
    /// <summary>A step-up proof.</summary>
    StepUp,
}

/// <summary>Lifecycle of one board-policy version.</summary>
public enum PolicyVersionState
{
    /// <summary>Editable, not in force.</summary>
    Draft,
    /// <summary>The policy's version in force.</summary>
    Active,
    /// <summary>Retired or superseded; history only.</summary>
    Retired,
}

/// <summary>Events of a board-policy version.</summary>
public enum PolicyEventAction
{
    /// <summary>A new version, as a draft.</summary>
    CreateDraft,
    /// <summary>A draft changed.</summary>
    UpdateDraft,
    /// <summary>A draft becomes the one version in force (the previous one is superseded).</summary>
    Activate,
    /// <summary>A draft or the active version retires.</summary>
    Retire,
}

/// <summary>
/// A board policy as written in <c>policy_payload</c>: the approval primitive with its numbers, the board's
/// members, and the requested_action tokens it governs (<c>["*"]</c> when absent).
/// </summary>
public sealed record BoardPolicyPayload(
    ApprovalPrimitive Primitive,
    IReadOnlyList<string> Members,
    int? RequiredApprovals = null,
    int? QuorumPercent = null,
    string? RequiredApproverUserId = null,
    IReadOnlyList<string>? AppliesTo = null)
{
    public BoardPolicy ToPolicy() => new(Primitive, Members, RequiredApprovals, QuorumPercent, RequiredApproverUserId);

    /// <summary>True when the policy governs <paramref name="requestedAction"/> (case-insensitive, "*" for all).</summary>
    public bool Governs(string requestedAction) =>
        (AppliesTo ?? ["*"]).Any(a => a == "*" || string.Equals(a, requestedAction, StringComparison.OrdinalIgnoreCase));
}

/// <summary>An ACTIVE board policy version as stored.</summary>
public sealed record ActiveBoardPolicy(string BoardPolicyId, int VersionId, BoardPolicyPayload Payload, string PayloadJson);

/// <summary>An escalation case as the rules see it.</summary>
public sealed record EscalationCaseView(
    string CaseId,
    string TargetUserId,
    string RequestedAction,
    AccessMode RequestedMode,
    EscalationStatus Status,
    string? BoardPolicyId,
    int? PolicyVersionId,
    BoardPolicyPayload? Policy);

/// <summary>An override as stored, for conflict and revocation checks.</summary>
public sealed record StoredOverride(
    string OverrideId,
    string TargetUserId,
    OverrideType Type,
    string Scope,
    AccessMode GrantMode,
    bool Revoked,
    long StartsAt,
    long? ExpiresAt,
    string? EscalationCaseId);

/// <summary>
/// The pure rules of the approval paths (reference §7.3–§7.5): ids, board-policy lifecycle and payload checks,
/// which policy an escalation binds, who may vote and what a vote changes, and who may grant which override.
/// docs/access-approvals.md states them in prose.
/// </summary>
public static class Governance
{
    /// <summary>The longest TEMPORARY override: 90 days.</summary>
    public const long MaxTemporaryDurationMs = 90L * 24 * 3600 * 1000;

    /// <summary>One case per (tenant, user, simulation, idempotency key): the retried request finds its own case.</summary>
    public static string EscalationCaseId(string tenantId, string userId, string simulationId, string idempotencyKey) =>
        "esc_" + Hashing.ShortHash(16, tenantId, userId, simulationId, idempotencyKey);

    /// <summary>Content-addressed override id: the same write retried with its key names the same override.</summary>
    public static string OverrideId(string tenantId, string accessInstanceId, string simulationId, string idempotencyKey) =>
        "ovr_" + Hashing.ShortHash(16, tenantId, accessInstanceId, simulationId, idempotencyKey);

    // ---- board policies ---------------------------------------------------------------------------------

    /// <summary>Null when the payload is a valid policy, else why not (ACCESS_BOARD_POLICY_INVALID).</summary>
    public static string? ValidatePayload(BoardPolicyPayload payload)
    {
        if (payload.Members.Any(m => !IdRules.IsValidName(m))) return "every member must be a valid user id";
        if (payload.Members.Count > 64) return "a board has at most 64 members";
        if (payload.RequiredApproverUserId is { } named && !IdRules.IsValidName(named)) return "required_approver_user_id must be a valid user id";
        if (payload.AppliesTo is { } actions && (actions.Count is 0 or > 64 || actions.Any(a => !IsActionToken(a))))
            return "applies_to must list 1..64 requested_action tokens (or \"*\")";
        return BoardThreshold.Validate(payload.ToPolicy());
    }

    /// <summary>A requested_action token: 1..128 characters of A–Z, 0–9 and '_', or "*".</summary>
    public static bool IsActionToken(string token) =>
        token == "*" || (token.Length is >= 1 and <= 128 && token.All(c => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'));

    /// <summary>
    /// The state a version reaches through <paramref name="action"/>, or why the transition is illegal. Versions
    /// move DRAFT → ACTIVE → RETIRED and never back; only drafts are edited; retiring a draft is allowed.
    /// </summary>
    public static (PolicyVersionState? Next, string? Refusal) Transition(PolicyVersionState? current, PolicyEventAction action) =>
        (current, action) switch
        {
            (null, PolicyEventAction.CreateDraft) => (PolicyVersionState.Draft, null),
            (not null, PolicyEventAction.CreateDraft) => (null, "this policy version already exists"),
            (null, _) => (null, "this policy version does not exist"),
            (PolicyVersionState.Draft, PolicyEventAction.UpdateDraft) => (PolicyVersionState.Draft, null),
            (PolicyVersionState.Draft, PolicyEventAction.Activate) => (PolicyVersionState.Active, null),
            (PolicyVersionState.Draft or PolicyVersionState.Active, PolicyEventAction.Retire) => (PolicyVersionState.Retired, null),
            _ => (null, $"a {WireNames.Of(current.Value)} version cannot {WireNames.Of(action)}"),
        };

    /// <summary>
    /// The policy an escalation binds when it opens: among ACTIVE policies governing the action whose electorate for
    /// this user is still a valid board (the user is not part of it), the one with the smallest id (ordinal). None:
    /// the case can be resolved only by an approver's override.
    /// </summary>
    public static ActiveBoardPolicy? BindPolicy(IEnumerable<ActiveBoardPolicy> active, string requestedAction, string targetUserId) =>
        active.Where(p => p.Payload.Governs(requestedAction) && BoardThreshold.Validate(Electorate(p.Payload, targetUserId)) is null)
            .OrderBy(p => p.BoardPolicyId, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>The electorate of a case: the bound policy's members, without the user the case is about.</summary>
    public static BoardPolicy Electorate(BoardPolicyPayload policy, string targetUserId)
    {
        var members = policy.Members.Where(m => !string.Equals(m, targetUserId, StringComparison.Ordinal)).ToArray();
        return policy.ToPolicy() with { Members = members };
    }

    /// <summary>Why a vote is refused (reason and detail), or null when it may be recorded.</summary>
    public static (ReasonCode Reason, string Detail)? CheckVote(EscalationCaseView escalation, string boardPolicyId, string voter,
        IEnumerable<BoardVote> votes)
    {
        if (escalation.Status != EscalationStatus.Open)
            return (AccessReasons.AccessEscalationCaseClosed, $"the case is {WireNames.Of(escalation.Status)}");
        if (escalation.Policy is null || escalation.BoardPolicyId is null)
            return (AccessReasons.AccessBoardPolicyInvalid, "no board policy governs this case; an approver resolves it with an override");
        if (!string.Equals(escalation.BoardPolicyId, boardPolicyId, StringComparison.Ordinal))
            return (AccessReasons.AccessBoardPolicyInvalid, $"the case is bound to board policy {escalation.BoardPolicyId}");
        if (string.Equals(voter, escalation.TargetUserId, StringComparison.Ordinal))
            return (AccessReasons.AccessBoardMemberRequired, "the user a case is about does not vote on it");
        if (!escalation.Policy.Members.Contains(voter, StringComparer.Ordinal))
            return (AccessReasons.AccessBoardMemberRequired, $"{voter} is not a member of board policy {boardPolicyId}");
        if (votes.Any(v => string.Equals(v.VoterUserId, voter, StringComparison.Ordinal)))
            return (AccessReasons.AccessBoardVoteDuplicate, $"{voter} has already voted on this case");
        return null;
    }

    /// <summary>The threshold status of a case's votes under the policy version it bound.</summary>
    public static ThresholdStatus Threshold(EscalationCaseView escalation, IEnumerable<BoardVote> votes) =>
        escalation.Policy is null ? ThresholdStatus.Pending : BoardThreshold.Compute(Electorate(escalation.Policy, escalation.TargetUserId), votes);

    /// <summary>The default mode of a role template (reference §7.1): admin ⇒ X, approve ⇒ A, write/editor ⇒ W, else R.</summary>
    public static AccessMode RoleDefaultMode(string roleTemplateId)
    {
        var role = roleTemplateId.ToUpperInvariant();
        return role.Contains("ADMIN", StringComparison.Ordinal) ? AccessMode.X
            : role.Contains("APPROVE", StringComparison.Ordinal) ? AccessMode.A
            : role.Contains("WRITE", StringComparison.Ordinal) || role.Contains("EDITOR", StringComparison.Ordinal) ? AccessMode.W
            : AccessMode.R;
    }

    /// <summary>
    /// Why <paramref name="actorUserId"/> may not give <paramref name="targetUserId"/> an instance with this mode,
    /// allow-list and financial authorization, or null: nobody writes their own instance, and nobody hands out more
    /// than they hold (every action on their own list, a mode no higher than their own for it, financial
    /// authorization only when they have it), nor rewrites the <paramref name="current"/> instance of someone who
    /// holds more than they do.
    /// </summary>
    public static (ReasonCode Reason, string Detail)? CheckInstanceAuthority(string actorUserId, AccessInstanceView? actor,
        IReadOnlyList<AccessOverrideView> actorOverrides, string targetUserId, AccessMode mode, IReadOnlyList<string> allow, bool financialAuth, UnixNanos now,
        AccessInstanceView? current = null)
    {
        // Nor does anyone rewrite the instance of someone who holds more than they do.
        if (current is not null && actor is not null && !string.Equals(actorUserId, targetUserId, StringComparison.Ordinal))
        {
            var held = current.AllowList ?? ["*"];
            if (CheckInstanceAuthority(actorUserId, actor, actorOverrides, targetUserId, current.BaseMode, held, current.FinancialAuth, now) is { } above)
                return (AccessReasons.AccessGrantExceedsAuthority, $"{targetUserId} holds more than the actor: {above.Detail}");
        }
        if (string.Equals(actorUserId, targetUserId, StringComparison.Ordinal))
            return (AccessReasons.AccessSelfGrantForbidden, "nobody writes their own access instance");
        if (actor is null) return (AccessReasons.AccessGrantExceedsAuthority, "the actor has no access instance");
        if (mode > actor.BaseMode) return (AccessReasons.AccessGrantExceedsAuthority, $"the actor's own mode {actor.BaseMode} is below {mode}");
        foreach (var action in allow)
        {
            if (CheckGrantAuthority(actorUserId, actor, actorOverrides, targetUserId, action, mode, now) is { } refusal) return refusal;
        }
        if (financialAuth && !actor.FinancialAuth)
            return (AccessReasons.AccessGrantExceedsAuthority, "financial authorization can only be given by someone who has it");
        return null;
    }

    // ---- overrides ----------------------------------------------------------------------------------------

    /// <summary>
    /// Why <paramref name="approver"/> may not grant <paramref name="grantMode"/> on <paramref name="scope"/> to
    /// <paramref name="targetUserId"/>, or null. Nobody grants to themselves; nobody grants an action their own
    /// baseline does not cover, or a mode above their own effective mode for that action.
    /// </summary>
    public static (ReasonCode Reason, string Detail)? CheckGrantAuthority(string approverUserId, AccessInstanceView? approver,
        IReadOnlyList<AccessOverrideView> approverOverrides, string targetUserId, string scope, AccessMode grantMode, UnixNanos now)
    {
        if (string.Equals(approverUserId, targetUserId, StringComparison.Ordinal))
            return (AccessReasons.AccessSelfGrantForbidden, "an approver cannot grant access to themselves");
        if (approver is null) return (AccessReasons.AccessGrantExceedsAuthority, "the approver has no access instance");
        var covers = scope == "*" ? approver.AllowList is null || approver.AllowList.Contains("*") : AccessGate.AllowListCovers(approver.AllowList, scope);
        if (!covers) return (AccessReasons.AccessGrantExceedsAuthority, $"the approver's own access does not cover {scope}");
        var own = AccessGate.EffectiveMode(approver, approverOverrides, scope, now);
        if (grantMode > own) return (AccessReasons.AccessGrantExceedsAuthority, $"the approver's effective mode {own} is below the mode granted ({grantMode})");
        return null;
    }

    /// <summary>
    /// No two ACTIVE overrides with the same scope whose windows overlap (reference §7.4). ONE_SHOT overrides belong
    /// to their escalation case and never conflict with the others.
    /// </summary>
    public static StoredOverride? Conflict(IEnumerable<StoredOverride> existing, OverrideType type, string scope, long startsAt, long? expiresAt, UnixNanos now)
    {
        if (type == OverrideType.OneShot) return null;
        return existing.FirstOrDefault(o =>
            !o.Revoked && o.Type != OverrideType.OneShot &&
            string.Equals(o.Scope, scope, StringComparison.OrdinalIgnoreCase) &&
            (o.ExpiresAt is null || o.ExpiresAt.Value > now.Value) &&
            o.StartsAt < (expiresAt ?? long.MaxValue) && startsAt < (o.ExpiresAt ?? long.MaxValue));
    }

    /// <summary>Whether an override answers an escalation case: its scope covers the action and its mode reaches the mode asked.</summary>
    public static bool Answers(EscalationCaseView escalation, string scope, AccessMode grantMode) =>
        (scope == "*" || string.Equals(scope, escalation.RequestedAction, StringComparison.OrdinalIgnoreCase)) && grantMode >= escalation.RequestedMode;
}
