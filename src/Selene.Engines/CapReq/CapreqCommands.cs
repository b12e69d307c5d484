namespace Selene.Engines.CapReq;

/// <summary>The lifecycle actions of PH1.CAPREQ (reference §6.1).</summary>
public enum CapreqAction
{
    /// <summary>Create the request as a draft.</summary>
    CreateDraft,
    /// <summary>Send a draft for approval.</summary>
    SubmitForApproval,
    /// <summary>Approve a pending request.</summary>
    Approve,
    /// <summary>Reject a pending request (terminal).</summary>
    Reject,
    /// <summary>Record that an approved request was carried out downstream (terminal).</summary>
    Fulfill,
    /// <summary>Cancel an open request (terminal).</summary>
    Cancel,
}

/// <summary>Where a capability request stands (reference §6.1).</summary>
public enum CapreqStatus
{
    /// <summary>Created, not yet submitted.</summary>
    Draft,
    /// <summary>Submitted and waiting for an approver.</summary>
    PendingApproval,
    /// <summary>Approved; waiting for fulfilment.</summary>
    Approved,
    /// <summary>Rejected by an approver (terminal).</summary>
    Rejected,
    /// <summary>Carried out (terminal).</summary>
    Fulfilled,
    /// <summary>Canceled before completion (terminal).</summary>
    Canceled,
}

/// <summary>A PH1.CAPREQ command: one per lifecycle simulation. Actor and tenant come from the context.</summary>
public abstract record CapreqCommand(CapreqAction Action)
{
    /// <summary>The capreq this command acts on (derived from content for <see cref="CreateCapreqDraft"/>).</summary>
    public abstract string? TargetCapreqId(string tenantId);
}

/// <summary>CAPREQ_CREATE_DRAFT inputs.</summary>
public sealed record CreateCapreqDraft(string RequestedCapabilityId, string TargetScopeRef, string Justification)
    : CapreqCommand(CapreqAction.CreateDraft)
{
    public override string? TargetCapreqId(string tenantId) =>
        CapreqIds.Derive(tenantId, RequestedCapabilityId, TargetScopeRef, Justification);
}

/// <summary>
/// A command on an existing request (submit, approve, reject, fulfil, cancel). <see cref="Reference"/> is the
/// action's own reference: approval_route_ref, approval_ref, reject_reason, fulfillment_ref or cancel_reason.
/// </summary>
public sealed record CapreqTransition(CapreqAction Kind, string? CapreqId, string? Reference) : CapreqCommand(Kind)
{
    public override string? TargetCapreqId(string tenantId) => CapreqId;
}

/// <summary>Deterministic CAPREQ ids and payload hashes (reference §6.1).</summary>
public static class CapreqIds
{
    public const string Prefix = "capreq_";

    /// <summary><c>capreq_{short_hash(tenant, capability, scope, justification)}</c>: same content in two tenants differs.</summary>
    public static string Derive(string tenantId, string capabilityId, string scopeRef, string justification) =>
        Prefix + Hashing.ShortHash(16, tenantId, capabilityId, scopeRef, justification);

    public static bool IsWellFormed(string? id) => IdRules.IsShortHashId(id, Prefix);

    public static string PayloadHash(CapreqAction action, string tenantId, string capreqId, string? capabilityId, string? scopeRef, string? justification) =>
        "capreq_payload_" + Hashing.ShortHash(16, CapreqNames.Action(action), tenantId, capreqId, capabilityId ?? "", scopeRef ?? "", justification ?? "");
}

/// <summary>The wire names of the CAPREQ enums (UPPER_SNAKE, as in the reference), through <see cref="WireNames"/>.</summary>
public static class CapreqNames
{
    public static string Action(CapreqAction a) => WireNames.Of(a);

    public static string Status(CapreqStatus s) => WireNames.Of(s);

    public static bool TryParseStatus(string? text, out CapreqStatus status) => WireNames.TryParse(text, out status);

    public static CapreqStatus ParseStatus(string text) => WireNames.Parse<CapreqStatus>(text);

    public static CapreqAction ParseAction(string text) => WireNames.Parse<CapreqAction>(text);
}
