namespace Selene.Engines.CapReq;

/// <summary>The current projection row of one capability request (<c>capreq_current</c>).</summary>
public sealed record CapreqState(
    string TenantId,
    string CapreqId,
    string RequesterUserId,
    string RequestedCapabilityId,
    string TargetScopeRef,
    string Justification,
    CapreqStatus Status,
    CapreqAction LastAction,
    string LastActorUserId,
    string PayloadHash,
    long SourceEventId,
    string LastReasonCode,
    long CreatedAt,
    long UpdatedAt);
