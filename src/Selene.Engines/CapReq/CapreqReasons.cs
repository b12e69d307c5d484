namespace Selene.Engines.CapReq;

/// <summary>
/// PH1.CAPREQ's engine id and reason codes (block 6xxx: 60xx successes, 61xx refusals). Registered through
/// the engine's module; ids are stable once allocated and names are never reused.
/// </summary>
public static class CapreqReasons
{
    /// <summary>The journal's engine id for capability requests.</summary>
    public const string EngineId = "PH1.CAPREQ";

    public static readonly ReasonCode CapreqCreated = new("CAPREQ_OK_CREATE_DRAFT", 6001, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode CapreqSubmitted = new("CAPREQ_OK_SUBMIT_FOR_APPROVAL", 6002, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode CapreqApproved = new("CAPREQ_OK_APPROVE", 6003, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode CapreqRejected = new("CAPREQ_OK_REJECT", 6004, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode CapreqFulfilled = new("CAPREQ_OK_FULFILL", 6005, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode CapreqCanceled = new("CAPREQ_OK_CANCEL", 6006, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode CapreqTransitionInvalid = new("CAPREQ_TRANSITION_INVALID", 6101, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode CapreqIdRequired = new("CAPREQ_ID_REQUIRED", 6102, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode CapreqNotFound = new("CAPREQ_NOT_FOUND", 6103, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode CapreqRequesterMismatch = new("CAPREQ_REQUESTER_MISMATCH", 6104, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode CapreqSelfApprovalForbidden = new("CAPREQ_SELF_APPROVAL_FORBIDDEN", 6105, EngineId, Severity.Warn, ReasonKind.Forbidden, false);
    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(CapreqReasons));

    /// <summary>
    /// Names the success codes carried before issue 9 gave them the seed's names; stored results and journal entries
    /// written under them still resolve.
    /// </summary>
    public static IReadOnlyDictionary<string, ReasonCode> RetiredNames { get; } = new Dictionary<string, ReasonCode>(StringComparer.Ordinal)
    {
        ["CAPREQ_CREATED"] = CapreqCreated,
        ["CAPREQ_SUBMITTED"] = CapreqSubmitted,
        ["CAPREQ_APPROVED"] = CapreqApproved,
        ["CAPREQ_REJECTED"] = CapreqRejected,
        ["CAPREQ_FULFILLED"] = CapreqFulfilled,
        ["CAPREQ_CANCELED"] = CapreqCanceled,
    };
}
