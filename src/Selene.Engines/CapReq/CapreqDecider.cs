namespace Selene.Engines.CapReq;

/// <summary>What the runtime hands the decider besides state and command.</summary>
/// <param name="SelfApprovalAllowed">The tenant's policy lets a requester approve their own request (default: no).</param>
public sealed record CapreqContext(string TenantId, string ActorUserId, UnixNanos Now, bool SelfApprovalAllowed = false);

/// <summary>
/// The PH1.CAPREQ state machine (reference §6.2), pure: <see cref="Decide"/> turns (state, command) into one
/// event or a refusal; <see cref="Evolve"/> folds an event into the projection. CAPREQ records lifecycle truth
/// only and never grants authority.
/// </summary>
public static class CapreqDecider
{
    public const int MaxCapabilityIdLength = 128;
    public const int MaxScopeRefLength = 256;
    public const int MaxJustificationLength = 1024;
    public const int MaxReferenceLength = 256;

    /// <summary>
    /// Bounds and shapes of the inputs, checked before any storage is touched. Returns null when valid.
    /// </summary>
    public static Decision<CapreqEvent>.Rejected? Validate(CapreqCommand command)
    {
        switch (command)
        {
            case CreateCapreqDraft c:
                if (!IdRules.IsValidName(c.RequestedCapabilityId, MaxCapabilityIdLength))
                    return Invalid(ReasonCodes.InputFieldInvalid, $"requested_capability_id must be 1..{MaxCapabilityIdLength} chars of [A-Za-z0-9_.-]");
                if (!IdRules.IsBoundedText(c.TargetScopeRef, MaxScopeRefLength))
                    return Invalid(ReasonCodes.InputFieldInvalid, $"target_scope_ref must be 1..{MaxScopeRefLength} printable chars");
                if (!IdRules.IsBoundedText(c.Justification, MaxJustificationLength))
                    return Invalid(ReasonCodes.InputFieldInvalid, $"justification must be 1..{MaxJustificationLength} printable chars");
                return null;
            case CapreqTransition t:
                if (string.IsNullOrEmpty(t.CapreqId)) return Invalid(CapreqReasons.CapreqIdRequired, "capreq_id is required");
                if (!CapreqIds.IsWellFormed(t.CapreqId)) return Invalid(ReasonCodes.InputFieldInvalid, "capreq_id must look like capreq_<16 hex>");
                if (t.Reference is not null && !IdRules.IsBoundedText(t.Reference, MaxReferenceLength))
                    return Invalid(ReasonCodes.InputFieldInvalid, $"references and reasons must be 1..{MaxReferenceLength} printable chars");
                if (t.Kind is CapreqAction.CreateDraft) return Invalid(ReasonCodes.InputFieldInvalid, "CREATE_DRAFT takes content, not a capreq_id");
                return null;
            default:
                return Invalid(ReasonCodes.InputSchemaInvalid, "unknown command");
        }
    }

    /// <summary>The tenant capability that lets a requester approve their own request when an ACTIVE overlay adds it.</summary>
    public const string SelfApproveCapability = "CAPREQ_SELF_APPROVE";

    /// <summary>
    /// The tenant's policy on self-approval, from the ops of its ACTIVE overlays: allowed when one adds
    /// CAPREQ_SELF_APPROVE and none removes it (a removal wins, as in instance compilation).
    /// </summary>
    public static bool SelfApprovalAllowed(IEnumerable<(string Op, string? CapabilityId)> activeOverlayOps)
    {
        var ops = activeOverlayOps.Where(o => string.Equals(o.CapabilityId, SelfApproveCapability, StringComparison.Ordinal)).Select(o => o.Op).ToArray();
        return ops.Contains("ADD_PERMISSION") && !ops.Contains("REMOVE_PERMISSION");
    }

    /// <summary>Decides one command against the current row (null when the request does not exist yet).</summary>
    public static Decision<CapreqEvent> Decide(CapreqState? state, CapreqCommand command, CapreqContext context)
    {
        if (Validate(command) is { } invalid) return invalid;

        var capreqId = command.TargetCapreqId(context.TenantId)!;
        var required = RequiredStatuses(command.Action);
        if (state is null)
        {
            if (command.Action != CapreqAction.CreateDraft)
                return Invalid(CapreqReasons.CapreqNotFound, $"capability request {capreqId} does not exist");
        }
        else
        {
            if (command.Action == CapreqAction.CreateDraft)
                return Invalid(CapreqReasons.CapreqTransitionInvalid, $"capability request {capreqId} already exists ({CapreqNames.Status(state.Status)})");
            if (!required.Contains(state.Status))
                return Invalid(CapreqReasons.CapreqTransitionInvalid,
                    $"{CapreqNames.Action(command.Action)} needs {string.Join(" or ", required.Select(CapreqNames.Status))}, the request is {CapreqNames.Status(state.Status)}");
            // Submitting and canceling speak for the requester (reference §6.3 inputs: requester_user_id).
            if (command.Action is CapreqAction.SubmitForApproval or CapreqAction.Cancel &&
                !string.Equals(state.RequesterUserId, context.ActorUserId, StringComparison.Ordinal))
                return Invalid(CapreqReasons.CapreqRequesterMismatch, $"only the requester {state.RequesterUserId} may {CapreqNames.Action(command.Action)}");
            // Approval is someone else's: a requester approves their own request only where the tenant allows it.
            if (command.Action == CapreqAction.Approve && !context.SelfApprovalAllowed &&
                string.Equals(state.RequesterUserId, context.ActorUserId, StringComparison.Ordinal))
                return Invalid(CapreqReasons.CapreqSelfApprovalForbidden, "a requester cannot approve their own request in this tenant");
        }

        var next = NextStatus(command.Action);
        var reason = SuccessReason(command.Action);
        var (capability, scope, justification, reference) = command switch
        {
            CreateCapreqDraft c => (c.RequestedCapabilityId, c.TargetScopeRef, c.Justification, (string?)null),
            CapreqTransition t => (null, null, null, t.Reference),
            _ => throw new InvalidOperationException("unreachable: validated above"),
        };
        var payloadHash = CapreqIds.PayloadHash(command.Action, context.TenantId, capreqId,
            capability ?? state?.RequestedCapabilityId, scope ?? state?.TargetScopeRef, justification ?? state?.Justification);

        var @event = new CapreqEvent(context.TenantId, capreqId, command.Action, next, context.ActorUserId, reason.Name,
            payloadHash, capability, scope, justification, reference, context.Now.Value);
        return new Decision<CapreqEvent>.Accepted(@event, reason);
    }

    /// <summary>Folds one ledger event (with its ledger id) into the projection. Rebuild = fold in id order.</summary>
    public static CapreqState Evolve(CapreqState? state, CapreqEvent e, long eventId)
    {
        if (state is null)
        {
            if (e.Action != CapreqAction.CreateDraft)
                throw new InvalidOperationException($"ledger event {eventId} ({CapreqNames.Action(e.Action)}) precedes its CREATE_DRAFT");
            return new CapreqState(e.TenantId, e.CapreqId, e.ActorUserId, e.RequestedCapabilityId!, e.TargetScopeRef!,
                e.Justification!, e.Status, e.Action, e.ActorUserId, e.PayloadHash, eventId, e.ReasonCode, e.CreatedAt, e.CreatedAt);
        }
        if (e.Action == CapreqAction.CreateDraft)
            throw new InvalidOperationException($"ledger event {eventId} creates {e.CapreqId}, which already exists");
        return state with
        {
            Status = e.Status,
            LastAction = e.Action,
            LastActorUserId = e.ActorUserId,
            PayloadHash = e.PayloadHash,
            SourceEventId = eventId,
            LastReasonCode = e.ReasonCode,
            UpdatedAt = e.CreatedAt,
        };
    }

    /// <summary>The exact guards of reference §6.2.</summary>
    public static IReadOnlyList<CapreqStatus> RequiredStatuses(CapreqAction action) => action switch
    {
        CapreqAction.CreateDraft => [],
        CapreqAction.SubmitForApproval => [CapreqStatus.Draft],
        CapreqAction.Approve => [CapreqStatus.PendingApproval],
        CapreqAction.Reject => [CapreqStatus.PendingApproval],
        CapreqAction.Fulfill => [CapreqStatus.Approved],
        CapreqAction.Cancel => [CapreqStatus.Draft, CapreqStatus.PendingApproval, CapreqStatus.Approved],
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    public static CapreqStatus NextStatus(CapreqAction action) => action switch
    {
        CapreqAction.CreateDraft => CapreqStatus.Draft,
        CapreqAction.SubmitForApproval => CapreqStatus.PendingApproval,
        CapreqAction.Approve => CapreqStatus.Approved,
        CapreqAction.Reject => CapreqStatus.Rejected,
        CapreqAction.Fulfill => CapreqStatus.Fulfilled,
        CapreqAction.Cancel => CapreqStatus.Canceled,
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    public static ReasonCode SuccessReason(CapreqAction action) => action switch
    {
        CapreqAction.CreateDraft => CapreqReasons.CapreqCreated,
        CapreqAction.SubmitForApproval => CapreqReasons.CapreqSubmitted,
        CapreqAction.Approve => CapreqReasons.CapreqApproved,
        CapreqAction.Reject => CapreqReasons.CapreqRejected,
        CapreqAction.Fulfill => CapreqReasons.CapreqFulfilled,
        CapreqAction.Cancel => CapreqReasons.CapreqCanceled,
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    private static Decision<CapreqEvent>.Rejected Invalid(ReasonCode reason, string detail) => new(reason, detail);
}
