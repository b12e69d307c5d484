namespace Selene.Engines.CapReq;

/// <summary>
/// The one PH1.CAPREQ ledger event: an action moved the request to <see cref="Status"/>. Content fields
/// (capability, scope, justification) are set by CREATE_DRAFT; <see cref="Reference"/> carries the action's
/// own reference (approval route, approval ref, reason, fulfilment ref).
/// </summary>
public sealed record CapreqEvent(
    string TenantId,
    string CapreqId,
    CapreqAction Action,
    CapreqStatus Status,
    string ActorUserId,
    string ReasonCode,
    string PayloadHash,
    string? RequestedCapabilityId,
    string? TargetScopeRef,
    string? Justification,
    string? Reference,
    long CreatedAt);
