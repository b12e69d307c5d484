using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.CapReq;
using Selene.Kernel.Work;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Work;

/// <summary>WORK_ORDER_START_COMMIT body.</summary>
internal sealed record StartInput(string WorkOrderId, string BlueprintId, IReadOnlyDictionary<string, string>? Fields = null);
/// <summary>WORK_ORDER_FIELD_SET_COMMIT body.</summary>
internal sealed record FieldSetInput(string WorkOrderId, string FieldId, string Value);
/// <summary>WORK_ORDER_CONFIRM_COMMIT and WORK_ORDER_CANCEL_REVOKE body.</summary>
internal sealed record WorkOrderRef(string WorkOrderId);

/// <summary>
/// The blueprints a requester can run as a work order. This build has one: CAPREQ_REQUEST asks the three fields of a
/// capability request one at a time, asks for confirmation, then drafts the request and submits it for approval,
/// each step through the outbox under the work order's lease.
/// </summary>
public static class WorkBlueprints
{
    public const string CapreqRequest = "CAPREQ_REQUEST";

    public static IReadOnlyList<RunBlueprint> All { get; } =
    [
        new(CapreqRequest, ["requested_capability_id", "target_scope_ref", "justification"], ConfirmBeforeExecuting: true,
        [
            new RunStep("draft", CapreqSimulations.CreateDraft,
                new Dictionary<string, string>
                {
                    ["requested_capability_id"] = "requested_capability_id", ["target_scope_ref"] = "target_scope_ref", ["justification"] = "justification",
                },
                new Dictionary<string, string> { ["capreq_id"] = "capreq.capreq_id" }),
            new RunStep("submit", CapreqSimulations.SubmitForApproval,
                new Dictionary<string, string> { ["capreq_id"] = "capreq_id" },
                new Dictionary<string, string>()),
        ]),
    ];

    public static RunBlueprint? Find(string? blueprintId) => All.FirstOrDefault(b => b.BlueprintId == blueprintId);
}

/// <summary>
/// PH1.WORK on the engine platform (issue 10 item 2): work orders in one store pair, four simulations a requester
/// drives (start, answer a field, confirm, cancel), one read route, and the handoff route that runs each due step:
/// the outbox worker takes the work order's lease (PH1.LEASE) and records STEP_STARTED, then runs the step's
/// simulation as the requester under that lease; the step's effect, STEP_FINISHED and the next step's outbox row
/// commit together. A step's inputs are read from the ledger's projection at each attempt, so a worker that takes an
/// expired lease over resumes from the ledger, never from another worker's memory.
/// </summary>
public static class WorkModule
{
    public const string Start = "WORK_ORDER_START_COMMIT";
    public const string FieldSet = "WORK_ORDER_FIELD_SET_COMMIT";
    public const string Confirm = "WORK_ORDER_CONFIRM_COMMIT";
    public const string Cancel = "WORK_ORDER_CANCEL_REVOKE";
    private const string Manage = "WORK_ORDER_MANAGE";
    private const string Scope = "tenant+simulation_id+key";

    /// <summary>Work orders: <c>work_order_ledger</c> / <c>work_order_current</c>, stream id = work order id.</summary>
    public static Aggregate<WorkOrderState, WorkEvent, WorkEvent> Orders { get; } = new(
        ReasonCodes.EngineWork, storeName: "work_order", streamField: "work_order_id", viewName: "work_order",
        streamOf: e => e.WorkOrderId,
        eventTypeOf: e => WireNames.Of(e.Type),
        evolve: (state, e, _) => WorkDecider.Evolve(state, e),
        statusOf: s => WireNames.Of(s.Status),
        view: View,
        journalFields: e => e.StepIndex is { } step ? [("step_index", step.ToString(CultureInfo.InvariantCulture))] : []);

    /// <summary>A step is retried five times, five seconds apart, within a day; a deferred step (a live lease) is looked at again after five seconds.</summary>
    /// <remarks>Declared before <see cref="Module"/>: static members initialize in declaration order.</remarks>
    public static HandoffPolicy StepPolicy { get; } = new(5, TimeSpan.FromSeconds(5), TimeSpan.FromDays(1));

    private static readonly ReasonCode[] Refusals =
    [
        ReasonCodes.WorkOrderNotFound, ReasonCodes.WorkOrderClosed, ReasonCodes.WorkTransitionInvalid,
    ];

    public static EngineModule Module { get; } = new(
        "work", ReasonCodes.EngineWork,
        [
            Simulation<StartInput>(Start, SimulationType.Commit, i => new StartWorkOrder(i.WorkOrderId, i.BlueprintId, i.Fields ?? new Dictionary<string, string>()),
                ReasonCodes.WorkOrderCreated, ReasonCodes.WorkOrderExists, ReasonCodes.WorkBlueprintUnknown, ReasonCodes.WorkFieldUnknown),
            Simulation<FieldSetInput>(FieldSet, SimulationType.Commit, i => new SetWorkField(i.WorkOrderId, i.FieldId, i.Value),
                [ReasonCodes.WorkFieldSet, ReasonCodes.WorkFieldUnknown, ReasonCodes.WorkFieldUnchanged, .. Refusals]),
            Simulation<WorkOrderRef>(Confirm, SimulationType.Commit, i => new ConfirmWorkOrder(i.WorkOrderId), [ReasonCodes.WorkOrderConfirmed, .. Refusals]),
            Simulation<WorkOrderRef>(Cancel, SimulationType.Revoke, i => new CancelWorkOrder(i.WorkOrderId), [ReasonCodes.WorkOrderCanceled, .. Refusals]),
        ],
        [Orders],
        [],
        [new ReadRoute("GetWorkOrder", "/work-orders/{work_order_id}", "One work order: its status, fields, what it asked, its steps and lease.", NotFound: true, GetAsync)],
        Handoffs: [new HandoffRoute(WorkDecider.StepDueEvent, "WORK_STEP", _ => [], StepPolicy, StepAsync)]);

    private static EngineSimulation<TInput, WorkCommand, WorkOrderState, WorkEvent, bool> Simulation<TInput>(string id, SimulationType type,
        Func<TInput, WorkCommand> toCommand, params ReasonCode[] codes) where TInput : class => new(
        new SimulationRecord(id, ReasonCodes.EngineWork, type, SimulationStatus.Active, Manage, AccessMode.W, Scope, codes),
        Orders, toCommand,
        validate: WorkDecider.Validate,
        targetOf: (c, _) => c.WorkOrderId,
        decide: (state, command, _, ctx) => WorkDecider.Decide(state, command, Context(ctx, WorkBlueprints.Find(command is StartWorkOrder s ? s.BlueprintId : state?.BlueprintId))),
        result: (state, _, _, events) => new JsonObject
        {
            ["work_order"] = state is null ? null : View(state),
            ["prompt"] = state is not null && WorkDecider.PromptOf(state) is { } prompt ? Prompt(prompt) : null,
        });

    private static WorkContext Context(ExecutionContext ctx, RunBlueprint? blueprint) =>
        new(ctx.Tenant.Value, ctx.Actor.Value, blueprint, ctx.Turn.Value, ctx.Now.Value / 1_000_000);

    /// <summary>Whether <paramref name="claim"/> is the live lease of its work order at <paramref name="now"/> (the turn gate's lease_valid).</summary>
    public static async Task<bool> HoldsLeaseAsync(TenantTransaction tx, LeaseClaim claim, UnixNanos now, CancellationToken ct) =>
        WorkDecider.HoldsLease(await Orders.GetAsync(tx, claim.WorkOrderId, ct), claim.OwnerId, claim.Token, now.Value / 1_000_000);

    /// <summary>
    /// Prepares one attempt of a due step: in a transaction of its own, takes the work order's lease for this worker
    /// (PH1.LEASE: refused while another worker's lease is live) and records STEP_STARTED; then the step runs as the
    /// requester with inputs read from the work order's projection, and its commit records STEP_FINISHED with the
    /// step's outputs and makes the next step due (or ends the work order DONE, releasing the lease).
    /// </summary>
    private static async Task<HandoffAttempt> StepAsync(SeleneDatabase db, OutboxRow row, JsonObject payload, HandoffWorker worker, UnixNanos now, CancellationToken ct)
    {
        var workOrderId = payload["work_order_id"]?.GetValue<string>() ?? "";
        if (!int.TryParse(payload["step_index"]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            return new HandoffAttempt.Refused(ReasonCodes.WorkTransitionInvalid, "the step's outbox row names no step index");
        var correlation = OutboxWorker.HandoffCorrelation(row);
        var turn = OutboxWorker.HandoffTurn(row);
        var actor = new UserId(row.ActorUserId!);

        WorkOrderState state;
        RunBlueprint blueprint;
        string token;
        await using (var tx = await TenantTransaction.BeginAsync(db.App, row.TenantId, ct))
        {
            var before = await Orders.LockAndLoadAsync(tx, workOrderId, ct);
            var found = WorkBlueprints.Find(before?.BlueprintId);
            // The lease ends with the worker's claim on the row, so a worker that reclaims the row finds both expired.
            var claimEnds = row.LeaseExpiresAt ?? now.Value + worker.LeaseDuration.Ticks * 100;
            var ttl = Math.Clamp((claimEnds - now.Value) / 1_000_000, 1, Selene.Kernel.Lease.LeaseDecider.MaxTtlMs);
            var context = new ExecutionContext(new TenantId(row.TenantId), actor, correlation, turn,
                new IdempotencyKey($"work-lease:{step.ToString(CultureInfo.InvariantCulture)}:{((before?.StepAttempts ?? 0) + 1).ToString(CultureInfo.InvariantCulture)}"), now);
            if (found is null) return new HandoffAttempt.Refused(ReasonCodes.WorkOrderNotFound, $"no work order {workOrderId} of a runnable blueprint");
            var leased = WorkDecider.DecideLease(before, new LeaseWorkOrder(workOrderId, worker.Owner, ttl, step), Context(context, found));
            if (leased is Decision<WorkLeaseGrant>.Rejected refused) return new HandoffAttempt.Refused(refused.Reason, refused.Detail);
            var grant = ((Decision<WorkLeaseGrant>.Accepted)leased).Events[0];
            var entries = new List<JournalEntry>();
            var current = before!;
            foreach (var e in grant.Events)
            {
                var (after, eventId) = await Orders.WriteAsync(tx, current, e, context, grant.Reason, ct);
                entries.Add(Entry(Journal(current, after, e, eventId, grant.Reason, "WORK_STEP"), context));
                current = after;
            }
            await JournalStore.AppendAsync(tx, entries, now.Value, ct);
            await tx.CommitAsync(ct);
            (state, blueprint, token) = (current, found, grant.Token);
        }

        var runStep = blueprint.Steps[step];
        var inputs = new JsonObject();
        foreach (var (input, field) in runStep.Inputs)
        {
            if (!state.Fields.TryGetValue(field, out var value))
                return new HandoffAttempt.Refused(ReasonCodes.WorkTransitionInvalid, $"step {runStep.StepId} needs field {field}, which the work order lacks");
            inputs[input] = value;
        }
        return new HandoffAttempt.Run(runStep.SimulationId, inputs, new LeaseClaim(workOrderId, worker.Owner, token),
            (tx, context, result, ct) => FinishAsync(tx, workOrderId, step, runStep, blueprint, context, result, ct));
    }

    /// <summary>In the step's own transaction: STEP_FINISHED with its outputs, and the next step's outbox row (or DONE).</summary>
    private static async Task<IReadOnlyList<JournalDraft>> FinishAsync(TenantTransaction tx, string workOrderId, int step, RunStep runStep, RunBlueprint blueprint,
        ExecutionContext context, JsonObject result, CancellationToken ct)
    {
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (field, path) in runStep.Outputs)
        {
            JsonNode? node = result;
            foreach (var part in path.Split('.')) node = node?[part];
            if (node is JsonValue value && value.TryGetValue<string>(out var text)) outputs[field] = text;
            else throw new InvalidOperationException($"step {runStep.StepId}'s result has no {path}");
        }
        var before = await Orders.LockAndLoadAsync(tx, workOrderId, ct);
        if (WorkDecider.Decide(before, new FinishWorkStep(workOrderId, step, outputs), Context(context, blueprint)) is not Decision<WorkEvent>.Accepted accepted)
            throw new InvalidOperationException($"work order {workOrderId} could not record step {step} it held the lease for");
        var entries = new List<JournalDraft>();
        var current = before!;
        foreach (var e in accepted.Events)
        {
            var (after, eventId) = await Orders.WriteAsync(tx, current, e, context, accepted.Reason, ct);
            entries.Add(Journal(current, after, e, eventId, accepted.Reason, runStep.SimulationId));
            current = after;
        }
        OutboxStore.Enqueue(tx, context.Correlation, accepted.Outbox, context.Now.Value, new OutboxOrigin(context.Actor.Value, context.Turn));
        return entries;
    }

    private static JournalDraft Journal(WorkOrderState before, WorkOrderState after, WorkEvent e, long eventId, ReasonCode reason, string simulationId) =>
        new(ReasonCodes.EngineWork, JournalEventTypes.StateTransition, reason, JournalPayload.Create([
            ("simulation_id", simulationId),
            ("work_order_id", e.WorkOrderId),
            ("event_type", WireNames.Of(e.Type)),
            ("state_from", WireNames.Of(before.Status)),
            ("state_to", WireNames.Of(after.Status)),
            ("ledger_event_id", eventId.ToString(CultureInfo.InvariantCulture)),
            .. e.StepIndex is { } s ? [("step_index", s.ToString(CultureInfo.InvariantCulture))] : Array.Empty<(string, string)>()]));

    private static JournalEntry Entry(JournalDraft d, ExecutionContext c) => new(c.Correlation, c.Turn, d.Engine, d.EventType, d.Reason, d.Payload, c.Actor.Value, c.IdempotencyKey.Value);

    private static JsonObject Prompt(WorkPrompt p) => new()
    {
        ["kind"] = WireNames.Of(p.Kind),
        ["field_id"] = p.FieldId,
        ["prompt_dedupe_key"] = p.PromptDedupeKey,
    };

    /// <summary>The public JSON view of a work order.</summary>
    public static JsonObject View(WorkOrderState s) => new()
    {
        ["work_order_id"] = s.WorkOrderId,
        ["blueprint_id"] = s.BlueprintId,
        ["requester_user_id"] = s.RequesterUserId,
        ["status"] = WireNames.Of(s.Status),
        ["fields"] = new JsonObject(s.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
        ["asked_fields"] = new JsonArray(s.AskedFields.Select(f => (JsonNode)f).ToArray()),
        ["prompt_dedupe_keys"] = new JsonArray(s.PromptDedupeKeys.Select(f => (JsonNode)f).ToArray()),
        ["confirmed"] = s.Confirmed,
        ["next_step"] = s.ActiveStep,
        ["step_attempts"] = s.StepAttempts,
        ["lease"] = s.Lease is { } l ? new JsonObject { ["owner_id"] = l.OwnerId, ["expires_at"] = new UnixNanos(l.ExpiresAtMs * 1_000_000).ToString() } : null,
        ["created_at"] = new UnixNanos(s.CreatedAtMs * 1_000_000).ToString(),
        ["updated_at"] = new UnixNanos(s.UpdatedAtMs * 1_000_000).ToString(),
    };

    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["work_order_id"];
        if (!WorkDecider.IsValidId(id)) return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "work_order_id must be 1..128 characters of [A-Za-z0-9._:-]");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var state = await Orders.GetAsync(tx, id, ct);
        if (state is null) return new ReadResult.Refused(ReasonCodes.WorkOrderNotFound, $"no work order {id} in this tenant");
        return new ReadResult.Ok(new JsonObject
        {
            ["work_order"] = View(state),
            ["prompt"] = WorkDecider.PromptOf(state) is { } prompt ? Prompt(prompt) : null,
        });
    }
}
