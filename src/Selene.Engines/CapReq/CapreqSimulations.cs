namespace Selene.Engines.CapReq;

/// <summary>The six PH1.CAPREQ lifecycle simulations (reference §6.3), all ACTIVE.</summary>
public static class CapreqSimulations
{
    public const string CreateDraft = "CAPREQ_CREATE_DRAFT";
    public const string SubmitForApproval = "CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT";
    public const string Approve = "CAPREQ_APPROVE_COMMIT";
    public const string Reject = "CAPREQ_REJECT_COMMIT";
    public const string Fulfill = "CAPREQ_FULFILL_COMMIT";
    public const string CancelRevoke = "CAPREQ_CANCEL_REVOKE";

    /// <summary>Keys are claimed per (tenant, simulation); the ledger's backstop is (tenant, capreq_id, action, key).</summary>
    public const string IdempotencyScope = "tenant+simulation_id+key";

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        new(CreateDraft, CapreqReasons.EngineId, SimulationType.Draft, SimulationStatus.Active, "CAPREQ_MANAGE", AccessMode.W, IdempotencyScope,
            [CapreqReasons.CapreqCreated, CapreqReasons.CapreqTransitionInvalid]),
        new(SubmitForApproval, CapreqReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, "CAPREQ_MANAGE", AccessMode.W, IdempotencyScope,
            [CapreqReasons.CapreqSubmitted, CapreqReasons.CapreqTransitionInvalid, CapreqReasons.CapreqNotFound, CapreqReasons.CapreqIdRequired, CapreqReasons.CapreqRequesterMismatch]),
        new(Approve, CapreqReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, "CAPREQ_MANAGE", AccessMode.A, IdempotencyScope,
            [CapreqReasons.CapreqApproved, CapreqReasons.CapreqTransitionInvalid, CapreqReasons.CapreqNotFound, CapreqReasons.CapreqIdRequired, CapreqReasons.CapreqSelfApprovalForbidden]),
        new(Reject, CapreqReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, "CAPREQ_MANAGE", AccessMode.A, IdempotencyScope,
            [CapreqReasons.CapreqRejected, CapreqReasons.CapreqTransitionInvalid, CapreqReasons.CapreqNotFound, CapreqReasons.CapreqIdRequired]),
        new(Fulfill, CapreqReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, "CAPREQ_MANAGE", AccessMode.A, IdempotencyScope,
            [CapreqReasons.CapreqFulfilled, CapreqReasons.CapreqTransitionInvalid, CapreqReasons.CapreqNotFound, CapreqReasons.CapreqIdRequired]),
        new(CancelRevoke, CapreqReasons.EngineId, SimulationType.Revoke, SimulationStatus.Active, "CAPREQ_MANAGE", AccessMode.W, IdempotencyScope,
            [CapreqReasons.CapreqCanceled, CapreqReasons.CapreqTransitionInvalid, CapreqReasons.CapreqNotFound, CapreqReasons.CapreqIdRequired, CapreqReasons.CapreqRequesterMismatch]),
    ];
}
