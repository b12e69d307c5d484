using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.CapReq;
using Selene.Postgres;
using Selene.Postgres.Stores;

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

/// <summary>The six PH1.CAPREQ simulations wired to the executor.</summary>
public static class CapreqHandlers
{
    public static IReadOnlyList<ISimulationHandler> All { get; } =
    [
        new Handler<CreateDraftInput>(CapreqSimulations.CreateDraft, i => new CreateCapreqDraft(i.RequestedCapabilityId, i.TargetScopeRef, i.Justification)),
        new Handler<SubmitInput>(CapreqSimulations.SubmitForApproval, i => new CapreqTransition(CapreqAction.SubmitForApproval, i.CapreqId, i.ApprovalRouteRef)),
        new Handler<ApproveInput>(CapreqSimulations.Approve, i => new CapreqTransition(CapreqAction.Approve, i.CapreqId, i.ApprovalRef)),
        new Handler<RejectInput>(CapreqSimulations.Reject, i => new CapreqTransition(CapreqAction.Reject, i.CapreqId, i.RejectReason)),
        new Handler<FulfillInput>(CapreqSimulations.Fulfill, i => new CapreqTransition(CapreqAction.Fulfill, i.CapreqId, i.FulfillmentRef)),
        new Handler<CancelInput>(CapreqSimulations.CancelRevoke, i => new CapreqTransition(CapreqAction.Cancel, i.CapreqId, i.CancelReason)),
    ];

    private sealed class Handler<TInput>(string simulationId, Func<TInput, CapreqCommand> toCommand) : ISimulationHandler where TInput : class
    {
        public SimulationRecord Record { get; } = CapreqSimulations.All.Single(r => r.SimulationId == simulationId);

        public bool TryPrepare(JsonElement body, out object? input, out JsonInputError? error)
        {
            input = null;
            if (!StrictJson.TryRead<TInput>(body, out var parsed, out error)) return false;
            var command = toCommand(parsed!);
            if (CapreqDecider.Validate(command) is { } invalid)
            {
                error = new JsonInputError(invalid.Reason, invalid.Detail);
                return false;
            }
            input = command;
            return true;
        }

        public async Task<HandlerOutcome> ExecuteAsync(TenantTransaction tx, object input, ExecutionContext context, CancellationToken ct)
        {
            var command = (CapreqCommand)input;
            var capreqId = command.TargetCapreqId(context.Tenant.Value)!;
            var row = await CapreqStore.LockAndLoadAsync(tx, capreqId, ct);
            var state = row is null ? null : CapreqMapping.ToState(row);
            // Only an approval by the requester needs the tenant's self-approval policy (its ACTIVE overlays).
            var selfApproval = command.Action == CapreqAction.Approve && state is not null && state.RequesterUserId == context.Actor.Value &&
                CapreqDecider.SelfApprovalAllowed((await AccessProfileStore.ActiveOverlayOpsAsync(tx, ct)).Select(o => (o.Op, o.CapabilityId)));
            var decision = CapreqDecider.Decide(state, command, new CapreqContext(context.Tenant.Value, context.Actor.Value, context.Now, selfApproval));

            switch (decision)
            {
                case Decision<CapreqEvent>.Rejected rejected:
                    return new HandlerOutcome.Rejected(rejected.Reason, rejected.Detail, new JournalDraft(
                        ReasonCodes.EngineCapreq, JournalEventTypes.SimulationRefused, rejected.Reason,
                        JournalPayload.Create(
                            ("simulation_id", Record.SimulationId),
                            ("capreq_id", capreqId),
                            ("state", state is null ? "NONE" : CapreqNames.Status(state.Status)))));

                case Decision<CapreqEvent>.Accepted accepted:
                    var journal = new List<JournalDraft>();
                    long lastEventId = 0;
                    foreach (var e in accepted.Events)
                    {
                        var from = state is null ? "NONE" : CapreqNames.Status(state.Status);
                        lastEventId = await CapreqStore.AppendAsync(tx, CapreqMapping.ToLedgerRow(e, context), ct);
                        state = CapreqDecider.Evolve(state, e, lastEventId);
                        journal.Add(new JournalDraft(ReasonCodes.EngineCapreq, JournalEventTypes.StateTransition, accepted.Reason,
                            JournalPayload.Create(
                                ("simulation_id", Record.SimulationId),
                                ("capreq_id", capreqId),
                                ("state_from", from),
                                ("state_to", CapreqNames.Status(e.Status)),
                                ("ledger_event_id", lastEventId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                                ("payload_hash", e.PayloadHash))));
                    }
                    await CapreqStore.UpsertAsync(tx, CapreqMapping.ToCurrentRow(state!), ct);
                    var result = new JsonObject
                    {
                        ["capreq"] = CapreqMapping.ToJson(CapreqMapping.ToCurrentRow(state!)),
                        ["ledger_event_id"] = lastEventId,
                    };
                    return new HandlerOutcome.Accepted(accepted.Reason, result, journal, accepted.Outbox);

                default:
                    throw new InvalidOperationException("unknown decision");
            }
        }
    }
}

/// <summary>Between the engine's vocabulary and storage rows, and the public JSON view of a request.</summary>
public static class CapreqMapping
{
    public static CapreqState ToState(CapreqCurrentRow r) => new(
        r.TenantId, r.CapreqId, r.RequesterUserId, r.RequestedCapabilityId, r.TargetScopeRef, r.Justification,
        CapreqNames.ParseStatus(r.Status), CapreqNames.ParseAction(r.LastAction), r.LastActorUserId, r.PayloadHash,
        r.SourceEventId, r.LastReasonCode, r.CreatedAt, r.UpdatedAt);

    public static CapreqCurrentRow ToCurrentRow(CapreqState s) => new(
        s.TenantId, s.CapreqId, s.RequesterUserId, s.RequestedCapabilityId, s.TargetScopeRef, s.Justification,
        CapreqNames.Status(s.Status), CapreqNames.Action(s.LastAction), s.LastActorUserId, s.PayloadHash,
        s.SourceEventId, s.LastReasonCode, s.CreatedAt, s.UpdatedAt);

    public static CapreqLedgerRow ToLedgerRow(CapreqEvent e, ExecutionContext context) => new(
        0, e.TenantId, e.CapreqId, e.ActorUserId, CapreqNames.Action(e.Action), CapreqNames.Status(e.Status), e.ReasonCode,
        e.PayloadHash, e.RequestedCapabilityId, e.TargetScopeRef, e.Justification, e.Reference,
        context.Correlation.ToString(), context.IdempotencyKey.Value, e.CreatedAt);

    public static CapreqEvent ToEvent(CapreqLedgerRow r) => new(
        r.TenantId, r.CapreqId, CapreqNames.ParseAction(r.Action), CapreqNames.ParseStatus(r.Status), r.ActorUserId,
        r.ReasonCode, r.PayloadHash, r.RequestedCapabilityId, r.TargetScopeRef, r.Justification, r.Reference, r.CreatedAt);

    public static JsonObject ToJson(CapreqCurrentRow r) => new()
    {
        ["capreq_id"] = r.CapreqId,
        ["tenant_id"] = r.TenantId,
        ["requester_user_id"] = r.RequesterUserId,
        ["requested_capability_id"] = r.RequestedCapabilityId,
        ["target_scope_ref"] = r.TargetScopeRef,
        ["justification"] = r.Justification,
        ["status"] = r.Status,
        ["last_action"] = r.LastAction,
        ["last_actor_user_id"] = r.LastActorUserId,
        ["last_reason_code"] = r.LastReasonCode,
        ["payload_hash"] = r.PayloadHash,
        ["source_event_id"] = r.SourceEventId,
        ["created_at"] = new UnixNanos(r.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(r.UpdatedAt).ToString(),
    };
}
