namespace Selene.Engines.Access;

/// <summary>
/// The one event type of ACCESS governance on the engine platform: every governance aggregate's ledger events
/// derive from it, so a decision may append to several of them (the pipeline routes each event by its type).
/// </summary>
public abstract record GovernanceEvent;

/// <summary>Where a board policy as a whole stands (the <c>status</c> column of <c>access_board_policy_current</c>).</summary>
public enum BoardPolicyStatus
{
    /// <summary>No version is in force; at least one is a draft.</summary>
    Draft,
    /// <summary>One version is in force.</summary>
    Active,
    /// <summary>Every version is retired: none in force, none editable.</summary>
    Retired,
}

/// <summary>
/// One event of a board-policy version (ledger <c>access_board_policy_ledger</c>, stream = board policy id):
/// <see cref="EventAction"/> moved version <see cref="PolicyVersionId"/> to <see cref="LifecycleState"/>, with
/// <see cref="PolicyPayloadJson"/> (canonical JSON of a <see cref="BoardPolicyPayload"/>) its payload from then on.
/// <see cref="VersionStateFrom"/> is the version's state before (null: it did not exist).
/// </summary>
public sealed record BoardPolicyEvent(
    string BoardPolicyId,
    int PolicyVersionId,
    PolicyEventAction EventAction,
    PolicyVersionState? VersionStateFrom,
    PolicyVersionState LifecycleState,
    string PolicyPayloadJson,
    string Reason,
    string ActorUserId,
    long CreatedAt) : GovernanceEvent;

/// <summary>One version of a board policy: its state, its payload, and its own last event.</summary>
public sealed record BoardPolicyVersion(
    int PolicyVersionId,
    PolicyVersionState LifecycleState,
    string PolicyPayloadJson,
    PolicyEventAction LastEventAction,
    long UpdatedAt);

/// <summary>
/// A board policy (one row of <c>access_board_policy_current</c>): every version in version order, and the one in
/// force. Invariant: at most one version is ACTIVE, and <see cref="ActivePolicyVersionId"/> names it.
/// </summary>
public sealed record BoardPolicyState(
    string BoardPolicyId,
    BoardPolicyStatus Status,
    int? ActivePolicyVersionId,
    IReadOnlyList<BoardPolicyVersion> Versions,
    long SourceEventId,
    long UpdatedAt)
{
    /// <summary>The version in force with its payload, or null.</summary>
    public ActiveBoardPolicy? Active(Func<string, BoardPolicyPayload?> parse) =>
        Versions.FirstOrDefault(v => v.PolicyVersionId == ActivePolicyVersionId) is { } v && parse(v.PolicyPayloadJson) is { } payload
            ? new ActiveBoardPolicy(BoardPolicyId, v.PolicyVersionId, payload, v.PolicyPayloadJson)
            : null;
}

/// <summary>ACCESS_BOARD_POLICY_UPDATE_COMMIT: one lifecycle action on one version (a payload for CREATE_DRAFT and UPDATE_DRAFT).</summary>
public sealed record UpdateBoardPolicy(string BoardPolicyId, int PolicyVersionId, PolicyEventAction EventAction, string Reason, BoardPolicyPayload? PolicyPayload);

/// <summary>
/// Board-policy versions, pure (reference §7.5): versions move DRAFT → ACTIVE → RETIRED (<see cref="Governance.Transition"/>);
/// activating one supersedes (retires) the version in force; members must be users of the tenant.
/// </summary>
public static class BoardPolicyDecider
{
    /// <summary>Bounds and shapes, before any storage (null when valid).</summary>
    public static Decision<GovernanceEvent>.Rejected? Validate(UpdateBoardPolicy c)
    {
        if (!IdRules.IsValidName(c.BoardPolicyId)) return Bad("board_policy_id must be a valid name");
        if (c.PolicyVersionId < 1) return Bad("policy_version_id must be a positive integer");
        if (!IdRules.IsBoundedText(c.Reason, 512)) return Bad("reason must be 1..512 characters");
        var needsPayload = c.EventAction is PolicyEventAction.CreateDraft or PolicyEventAction.UpdateDraft;
        if (needsPayload != (c.PolicyPayload is not null))
            return Bad(needsPayload ? "CREATE_DRAFT and UPDATE_DRAFT need policy_payload" : "ACTIVATE and RETIRE take no policy_payload");
        if (c.PolicyPayload is { } payload && Governance.ValidatePayload(payload) is { } invalid)
            return new(AccessReasons.AccessBoardPolicyInvalid, invalid);
        return null;
    }

    /// <summary>
    /// Decides one action on a version. <paramref name="knownMembers"/> are the payload's members that are users of
    /// the tenant (only read when there is a payload).
    /// </summary>
    public static Decision<GovernanceEvent> Decide(BoardPolicyState? state, UpdateBoardPolicy c, IReadOnlySet<string> knownMembers, string actorUserId, UnixNanos now)
    {
        var version = state?.Versions.FirstOrDefault(v => v.PolicyVersionId == c.PolicyVersionId);
        var (next, illegal) = Governance.Transition(version?.LifecycleState, c.EventAction);
        if (next is null) return new Decision<GovernanceEvent>.Rejected(AccessReasons.AccessBoardPolicyTransitionInvalid, illegal!);

        string payloadJson;
        if (c.PolicyPayload is { } payload)
        {
            if (payload.Members.FirstOrDefault(m => !knownMembers.Contains(m)) is { } stranger)
                return new Decision<GovernanceEvent>.Rejected(AccessReasons.AccessBoardPolicyInvalid, $"board member {stranger} is not a user of this tenant");
            payloadJson = CanonicalJson.SerializeToString(payload);
        }
        else
        {
            payloadJson = version!.PolicyPayloadJson;
        }
        return new Decision<GovernanceEvent>.Accepted(new BoardPolicyEvent(c.BoardPolicyId, c.PolicyVersionId, c.EventAction, version?.LifecycleState,
            next.Value, payloadJson, c.Reason, actorUserId, now.Value), AccessReasons.AccessBoardPolicyUpdated);
    }

    /// <summary>Folds one event into the policy (pure; uses only the event and its id).</summary>
    public static BoardPolicyState Evolve(BoardPolicyState? state, BoardPolicyEvent e, long eventId)
    {
        var versions = new SortedDictionary<int, BoardPolicyVersion>();
        foreach (var v in state?.Versions ?? []) versions[v.PolicyVersionId] = v;
        if (e.EventAction == PolicyEventAction.Activate)
        {
            // Superseded: the version in force retires; its own last event and time stay as they were.
            foreach (var superseded in versions.Values.Where(v => v.LifecycleState == PolicyVersionState.Active).ToArray())
                versions[superseded.PolicyVersionId] = superseded with { LifecycleState = PolicyVersionState.Retired };
        }
        versions[e.PolicyVersionId] = new BoardPolicyVersion(e.PolicyVersionId, e.LifecycleState, e.PolicyPayloadJson, e.EventAction, e.CreatedAt);

        var active = versions.Values.FirstOrDefault(v => v.LifecycleState == PolicyVersionState.Active);
        var status = active is not null ? BoardPolicyStatus.Active
            : versions.Values.Any(v => v.LifecycleState == PolicyVersionState.Draft) ? BoardPolicyStatus.Draft
            : BoardPolicyStatus.Retired;
        return new BoardPolicyState(e.BoardPolicyId, status, active?.PolicyVersionId, versions.Values.ToArray(), eventId, e.CreatedAt);
    }

    private static Decision<GovernanceEvent>.Rejected Bad(string detail) => new(ReasonCodes.InputFieldInvalid, detail);
}
