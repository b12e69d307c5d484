using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.CapReq;
using Selene.Postgres;
using Selene.Runtime.Platform;

namespace Selene.Runtime.CapReq;

/// <summary>CAPREQ_CREATE_DRAFT body.</summary>
internal sealed record CreateDraftInput(string RequestedCapabilityId, string TargetScopeRef, string Justification);
/// <summary>CAPREQ_SUBMIT_FOR_APPROVAL_COMMIT body.</summary>
internal sealed record SubmitInput(string? CapreqId = null, string? ApprovalRouteRef = null);
/// <summary>CAPREQ_APPROVE_COMMIT body.</summary>
internal sealed record ApproveInput(string? CapreqId = null, string? ApprovalRef = null);
/// <summary>CAPREQ_REJECT_COMMIT body.</summary>
internal sealed record RejectInput(string? CapreqId = null, string? RejectReason = null);
/// <summary>CAPREQ_FULFILL_COMMIT body.</summary>
internal sealed record FulfillInput(string? CapreqId = null, string? FulfillmentRef = null);
/// <summary>CAPREQ_CANCEL_REVOKE body.</summary>
internal sealed record CancelInput(string? CapreqId = null, string? CancelReason = null);

/// <summary>
/// PH1.CAPREQ on the engine platform: one aggregate (store pair <c>capreq</c>, one stream per capreq id), six
/// simulations, two read routes. Everything else (locking, ledger, projection, journal, rebuild) is the platform's.
/// </summary>
public static class CapreqModule
{
    /// <summary>The capability requests: <c>capreq_ledger</c> / <c>capreq_current</c>, stream id = capreq id.</summary>
    public static Aggregate<CapreqState, CapreqEvent, CapreqEvent> Requests { get; } = new(
        CapreqReasons.EngineId, storeName: "capreq", streamField: "capreq_id", viewName: "capreq",
        streamOf: e => e.CapreqId,
        eventTypeOf: e => CapreqNames.Action(e.Action),
        evolve: CapreqDecider.Evolve,
        statusOf: s => CapreqNames.Status(s.Status),
        view: ToJson,
        journalFields: e => [("payload_hash", e.PayloadHash)]);

    public static EngineModule Module { get; } = new(
        "capreq", CapreqReasons.EngineId,
        [
            Simulation<CreateDraftInput>(CapreqSimulations.CreateDraft, i => new CreateCapreqDraft(i.RequestedCapabilityId, i.TargetScopeRef, i.Justification)),
            Simulation<SubmitInput>(CapreqSimulations.SubmitForApproval, i => new CapreqTransition(CapreqAction.SubmitForApproval, i.CapreqId, i.ApprovalRouteRef)),
            Simulation<ApproveInput>(CapreqSimulations.Approve, i => new CapreqTransition(CapreqAction.Approve, i.CapreqId, i.ApprovalRef)),
            Simulation<RejectInput>(CapreqSimulations.Reject, i => new CapreqTransition(CapreqAction.Reject, i.CapreqId, i.RejectReason)),
            Simulation<FulfillInput>(CapreqSimulations.Fulfill, i => new CapreqTransition(CapreqAction.Fulfill, i.CapreqId, i.FulfillmentRef)),
            Simulation<CancelInput>(CapreqSimulations.CancelRevoke, i => new CapreqTransition(CapreqAction.Cancel, i.CapreqId, i.CancelReason)),
        ],
        [Requests],
        CapreqReasons.All,
        [
            new ReadRoute("GetCapreq", "/capreqs/{capreq_id}", "One capability request.", NotFound: true, GetAsync),
            new ReadRoute("ListCapreqs", "/capreqs",
                "List capability requests; optional status=DRAFT|PENDING_APPROVAL|APPROVED|REJECTED|FULFILLED|CANCELED, after, limit (1..500).",
                NotFound: false, ListAsync, ListPage.Parameters),
        ],
        CapreqReasons.RetiredNames);

    private static EngineSimulation<TInput, CapreqCommand, CapreqState, CapreqEvent, bool> Simulation<TInput>(string simulationId, Func<TInput, CapreqCommand> toCommand)
        where TInput : class => new(
        CapreqSimulations.All.Single(r => r.SimulationId == simulationId),
        Requests,
        toCommand,
        validate: c => CapreqDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
        targetOf: (c, context) => c.TargetCapreqId(context.Tenant.Value)!,
        decide: (state, command, selfApproval, context) =>
            CapreqDecider.Decide(state, command, new CapreqContext(context.Tenant.Value, context.Actor.Value, context.Now, selfApproval)),
        readFacts: SelfApprovalAsync);

    /// <summary>Only an approval by the requester needs the tenant's self-approval policy (its ACTIVE overlays).</summary>
    private static async Task<bool> SelfApprovalAsync(TenantTransaction tx, CapreqCommand command, CapreqState? state, ExecutionContext context, CancellationToken ct) =>
        command.Action == CapreqAction.Approve && state is not null && state.RequesterUserId == context.Actor.Value &&
        CapreqDecider.SelfApprovalAllowed((await Access.ProfileHandlers.ActiveOverlayOpsAsync(tx, ct)).Select(o => (o.Op, o.CapabilityId)));

    /// <summary>
    /// The CAPREQ gate's fulfilment (issue 10): a simulation that required this APPROVED request (locked by the caller)
    /// executed in <paramref name="tx"/>, so the request becomes FULFILLED in the same transaction, by the executing
    /// actor, with the simulation as its fulfilment reference. Returns the STATE_TRANSITION journal entry.
    /// </summary>
    public static async Task<JournalDraft> FulfilForAsync(TenantTransaction tx, CapreqState approved, ExecutionContext context, string simulationId, CancellationToken ct)
    {
        var command = new CapreqTransition(CapreqAction.Fulfill, approved.CapreqId, "executed:" + simulationId);
        if (CapreqDecider.Decide(approved, command, new CapreqContext(context.Tenant.Value, context.Actor.Value, context.Now)) is not Decision<CapreqEvent>.Accepted accepted)
            throw new InvalidOperationException($"capability request {approved.CapreqId} was locked APPROVED and still could not be fulfilled");
        var e = accepted.Events[0];
        var (after, eventId) = await Requests.WriteAsync(tx, approved, e, context, accepted.Reason, ct);
        return new JournalDraft(CapreqReasons.EngineId, JournalEventTypes.StateTransition, accepted.Reason, JournalPayload.Create(
            ("simulation_id", simulationId),
            ("capreq_id", approved.CapreqId),
            ("state_from", CapreqNames.Status(approved.Status)),
            ("state_to", CapreqNames.Status(after.Status)),
            ("ledger_event_id", eventId.ToString(CultureInfo.InvariantCulture)),
            ("payload_hash", e.PayloadHash)));
    }

    /// <summary>The public JSON view of a request.</summary>
    public static JsonObject ToJson(CapreqState s) => new()
    {
        ["capreq_id"] = s.CapreqId,
        ["tenant_id"] = s.TenantId,
        ["requester_user_id"] = s.RequesterUserId,
        ["requested_capability_id"] = s.RequestedCapabilityId,
        ["target_scope_ref"] = s.TargetScopeRef,
        ["justification"] = s.Justification,
        ["status"] = CapreqNames.Status(s.Status),
        ["last_action"] = CapreqNames.Action(s.LastAction),
        ["last_actor_user_id"] = s.LastActorUserId,
        ["last_reason_code"] = s.LastReasonCode,
        ["payload_hash"] = s.PayloadHash,
        ["source_event_id"] = s.SourceEventId,
        ["created_at"] = new UnixNanos(s.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
    };

    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var capreqId = request.RouteValues["capreq_id"];
        if (!CapreqIds.IsWellFormed(capreqId))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "capreq_id must look like capreq_<16 hex>");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var state = await Requests.GetAsync(tx, capreqId, ct);
        return state is null
            ? new ReadResult.Refused(CapreqReasons.CapreqNotFound, $"no capability request {capreqId} in this tenant")
            : new ReadResult.Ok(new JsonObject { ["capreq"] = ToJson(state) });
    }

    private static async Task<ReadResult> ListAsync(ReadRequest request, CancellationToken ct)
    {
        if (ListPage.Read<CapreqStatus>(request, CapreqIds.IsWellFormed, "a capreq id", out var page) is { } refused) return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Requests.ListAsync(tx, page.Status, page.After, page.Limit, ct);
        return new ReadResult.Ok(page.Body("capreqs", rows, r => ToJson(r.State), r => r.StreamId));
    }
}
