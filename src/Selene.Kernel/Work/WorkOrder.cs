using System.Globalization;
using System.Text;
using Selene.Kernel.Lease;

namespace Selene.Kernel.Work;

/// <summary>Work order statuses (reference §11.1). DRAFT, CLARIFY and CONFIRM are pending; DONE, REFUSED, FAILED, CANCELED are final.</summary>
public enum WorkOrderStatus
{
    Draft,
    Clarify,
    Confirm,
    Executing,
    Done,
    Refused,
    Failed,
    Canceled,
}

/// <summary>The ledger's event types (reference §11.1, KC.23 superset).</summary>
public enum WorkEventType
{
    WorkOrderCreated,
    FieldSet,
    StatusChanged,
    StepStarted,
    StepFinished,
    LeaseAcquired,
    LeaseRenewed,
    LeaseReleased,
    WorkOrderCanceled,
}

/// <summary>
/// One step of a runnable blueprint: the simulation it runs, its inputs (input name → work-order field) and what it
/// writes back (work-order field → dotted path into the simulation's result, e.g. <c>capreq.capreq_id</c>).
/// </summary>
public sealed record RunStep(string StepId, string SimulationId, IReadOnlyDictionary<string, string> Inputs, IReadOnlyDictionary<string, string> Outputs);

/// <summary>
/// A blueprint that can run as a work order: the fields it needs from the requester (asked one at a time, in this
/// order), whether the requester confirms before it executes, and its ordered steps.
/// </summary>
public sealed record RunBlueprint(string BlueprintId, IReadOnlyList<string> RequiredFields, bool ConfirmBeforeExecuting, IReadOnlyList<RunStep> Steps);

/// <summary>The work order's lease as stored: its owner, the SHA-256 of its token (the token itself is never stored) and its expiry.</summary>
public sealed record WorkLease(string OwnerId, string TokenHash, long ExpiresAtMs);

/// <summary>
/// The projection of one work order (<c>work_order_current</c>). The anti-repeat fields of reference §11.1:
/// <see cref="AskedFields"/> (every field ever asked, never asked again) and <see cref="PromptDedupeKeys"/> (one per prompt).
/// <see cref="ActiveStep"/> is the next step to run (= the number of finished steps).
/// </summary>
public sealed record WorkOrderState(
    string WorkOrderId,
    string BlueprintId,
    string RequesterUserId,
    WorkOrderStatus Status,
    IReadOnlyDictionary<string, string> Fields,
    IReadOnlyList<string> MissingFields,
    IReadOnlyList<string> AskedFields,
    IReadOnlyList<string> PromptDedupeKeys,
    bool Confirmed,
    int ActiveStep,
    int StepAttempts,
    WorkLease? Lease,
    long CreatedAtMs,
    long UpdatedAtMs);

/// <summary>One ledger event. Only the members of its <see cref="Type"/> are set.</summary>
public sealed record WorkEvent(
    WorkEventType Type,
    string WorkOrderId,
    WorkOrderStatus Status,
    string ActorUserId,
    long AtMs,
    string? BlueprintId = null,
    IReadOnlyDictionary<string, string>? Fields = null,
    string? AskedField = null,
    string? PromptDedupeKey = null,
    int? StepIndex = null,
    WorkLease? Lease = null);

/// <summary>What the requester is asked next: one field (CLARIFY) or the confirmation (CONFIRM), with its dedupe key.</summary>
public sealed record WorkPrompt(WorkPromptKind Kind, string? FieldId, string PromptDedupeKey);

/// <summary>The kinds of prompt a work order makes.</summary>
public enum WorkPromptKind
{
    Clarify,
    Confirm,
}

/// <summary>A PH1.WORK command.</summary>
public abstract record WorkCommand(string WorkOrderId);

/// <summary>Start a run of a blueprint with the fields the requester gave already.</summary>
public sealed record StartWorkOrder(string WorkOrderId, string BlueprintId, IReadOnlyDictionary<string, string> Fields) : WorkCommand(WorkOrderId);

/// <summary>The requester answers (or corrects) one field.</summary>
public sealed record SetWorkField(string WorkOrderId, string FieldId, string Value) : WorkCommand(WorkOrderId);

/// <summary>The requester confirms: the work order executes.</summary>
public sealed record ConfirmWorkOrder(string WorkOrderId) : WorkCommand(WorkOrderId);

/// <summary>The requester cancels a work order that has not ended.</summary>
public sealed record CancelWorkOrder(string WorkOrderId) : WorkCommand(WorkOrderId);

/// <summary>An executor asks for the work order's lease before it runs <see cref="StepIndex"/> (the OS, never a caller).</summary>
public sealed record LeaseWorkOrder(string WorkOrderId, string OwnerId, long TtlMs, int StepIndex) : WorkCommand(WorkOrderId);

/// <summary>Step <see cref="StepIndex"/> committed with these outputs (the OS, in the step's own transaction).</summary>
public sealed record FinishWorkStep(string WorkOrderId, int StepIndex, IReadOnlyDictionary<string, string> Outputs) : WorkCommand(WorkOrderId);

/// <summary>What a decision needs besides state and command: the blueprint, the turn (for prompt keys), the time, and for a lease the token it grants.</summary>
public sealed record WorkContext(string TenantId, string ActorUserId, RunBlueprint? Blueprint, ulong TurnId, long NowMs);

/// <summary>A granted lease: its events (the lease and STEP_STARTED), the token (the executor keeps it; the state keeps its hash), and whether it took an expired lease over.</summary>
public sealed record WorkLeaseGrant(IReadOnlyList<WorkEvent> Events, ReasonCode Reason, string Token, bool ResumeFromLedger);

/// <summary>
/// PH1.WORK, pure (reference §11.1–11.2): a blueprint run as a work order. It asks one missing field at a time and
/// never asks a field twice (a field asked once stays in <see cref="WorkOrderState.AskedFields"/>; if every missing field
/// was asked, nothing new is asked), asks for confirmation where the blueprint says, then executes its steps in order,
/// each under the work order's lease (PH1.LEASE), and ends DONE after the last. Every change is a ledger event; the
/// projection is their fold.
/// </summary>
public static class WorkDecider
{
    public const int MaxFieldValueLength = 1024;
    public const int MaxFields = 32;

    /// <summary>Ids are 1..128 characters of [A-Za-z0-9._:-].</summary>
    public static bool IsValidId(string? id) => IdRules.IsValidName(id, 128);

    /// <summary>The prompt key of reference §11.1: FNV-1a-64 of turn | field | work order (the conversation), hex.</summary>
    public static string PromptDedupeKey(ulong turnId, string fieldId, string workOrderId) =>
        "prompt_" + LeaseDecider.Fnv1a64(Encoding.UTF8.GetBytes($"{turnId.ToString(CultureInfo.InvariantCulture)}|{fieldId}|{workOrderId}"))
            .ToString("x16", CultureInfo.InvariantCulture);

    public static bool IsFinal(WorkOrderStatus s) => s is WorkOrderStatus.Done or WorkOrderStatus.Refused or WorkOrderStatus.Failed or WorkOrderStatus.Canceled;

    /// <summary>Bounds and shapes before any storage; null when valid.</summary>
    public static JsonInputError? Validate(WorkCommand command)
    {
        if (!IsValidId(command.WorkOrderId)) return new(ReasonCodes.InputFieldInvalid, "work_order_id must be 1..128 characters of [A-Za-z0-9._:-]");
        switch (command)
        {
            case StartWorkOrder s:
                if (!IsValidId(s.BlueprintId)) return new(ReasonCodes.InputFieldInvalid, "blueprint_id must be 1..128 characters of [A-Za-z0-9._:-]");
                if (s.Fields.Count > MaxFields) return new(ReasonCodes.InputFieldInvalid, $"at most {MaxFields} fields");
                foreach (var (id, value) in s.Fields)
                    if (FieldProblem(id, value) is { } problem) return problem;
                return null;
            case SetWorkField f:
                return FieldProblem(f.FieldId, f.Value);
            default:
                return null;
        }
    }

    private static JsonInputError? FieldProblem(string id, string value) =>
        !IdRules.IsValidName(id, 64) ? new(ReasonCodes.InputFieldInvalid, "field ids are 1..64 characters of [A-Za-z0-9._:-]")
        : !IdRules.IsBoundedText(value, MaxFieldValueLength) ? new(ReasonCodes.InputFieldInvalid, $"field values are 1..{MaxFieldValueLength} printable characters")
        : null;

    /// <summary>The outbox event type of a step that is due: the OS runs it through the outbox worker.</summary>
    public const string StepDueEvent = "WORK_STEP_DUE";

    /// <summary>
    /// Decides one command against the work order (null: it does not exist yet). A decision that makes a step due
    /// (the work order starts executing, or a step finished and another follows) enqueues <see cref="StepDueEvent"/>
    /// for it, keyed by (tenant, work order, step): one row per step, whoever decides it.
    /// </summary>
    public static Decision<WorkEvent> Decide(WorkOrderState? state, WorkCommand command, WorkContext ctx)
    {
        if (Validate(command) is { } invalid) return Refuse(invalid.Reason, invalid.Detail);
        if (command is StartWorkOrder start)
        {
            if (state is not null) return Refuse(ReasonCodes.WorkOrderExists, $"work order {start.WorkOrderId} exists already ({WireNames.Of(state.Status)})");
            var blueprint = ctx.Blueprint;
            if (blueprint is null || blueprint.BlueprintId != start.BlueprintId)
                return Refuse(ReasonCodes.WorkBlueprintUnknown, $"no runnable blueprint {start.BlueprintId}");
            if (start.Fields.Keys.FirstOrDefault(k => !blueprint.RequiredFields.Contains(k)) is { } stray)
                return Refuse(ReasonCodes.WorkFieldUnknown, $"blueprint {blueprint.BlueprintId} has no field {stray}");
            var created = new WorkEvent(WorkEventType.WorkOrderCreated, start.WorkOrderId, WorkOrderStatus.Draft, ctx.ActorUserId, ctx.NowMs,
                BlueprintId: blueprint.BlueprintId, Fields: start.Fields);
            var draft = Evolve(null, created);
            return Accept(ReasonCodes.WorkOrderCreated, [created, .. Advance(draft, blueprint, ctx)], ctx.TenantId);
        }

        if (state is null) return Refuse(ReasonCodes.WorkOrderNotFound, $"no work order {command.WorkOrderId}");
        if (IsFinal(state.Status)) return Refuse(ReasonCodes.WorkOrderClosed, $"work order {state.WorkOrderId} is {WireNames.Of(state.Status)}");
        var bp = ctx.Blueprint!;
        switch (command)
        {
            case SetWorkField f:
                if (state.Status is not (WorkOrderStatus.Clarify or WorkOrderStatus.Confirm or WorkOrderStatus.Draft))
                    return Refuse(ReasonCodes.WorkTransitionInvalid, $"fields are answered before the work order executes; it is {WireNames.Of(state.Status)}");
                if (!bp.RequiredFields.Contains(f.FieldId)) return Refuse(ReasonCodes.WorkFieldUnknown, $"blueprint {bp.BlueprintId} has no field {f.FieldId}");
                if (state.Fields.TryGetValue(f.FieldId, out var old) && old == f.Value)
                    return Refuse(ReasonCodes.WorkFieldUnchanged, $"field {f.FieldId} has this value already");
                var set = new WorkEvent(WorkEventType.FieldSet, state.WorkOrderId, state.Status, ctx.ActorUserId, ctx.NowMs,
                    Fields: new Dictionary<string, string> { [f.FieldId] = f.Value });
                // A correction after confirming asks for confirmation again: the requester confirmed other values.
                var after = Evolve(state, set) with { Confirmed = false };
                return Accept(ReasonCodes.WorkFieldSet, [set, .. Advance(after, bp, ctx)], ctx.TenantId);
            case ConfirmWorkOrder:
                if (state.Status != WorkOrderStatus.Confirm) return Refuse(ReasonCodes.WorkTransitionInvalid, $"nothing to confirm: the work order is {WireNames.Of(state.Status)}");
                return Accept(ReasonCodes.WorkOrderConfirmed,
                    [new WorkEvent(WorkEventType.StatusChanged, state.WorkOrderId, WorkOrderStatus.Executing, ctx.ActorUserId, ctx.NowMs)], ctx.TenantId);
            case CancelWorkOrder:
                return Accept(ReasonCodes.WorkOrderCanceled,
                    [new WorkEvent(WorkEventType.WorkOrderCanceled, state.WorkOrderId, WorkOrderStatus.Canceled, ctx.ActorUserId, ctx.NowMs)], ctx.TenantId);
            case LeaseWorkOrder:
                return Refuse(ReasonCodes.InputSchemaInvalid, "a lease is decided by DecideLease");
            case FinishWorkStep s:
                if (state.Status != WorkOrderStatus.Executing || s.StepIndex != state.ActiveStep)
                    return Refuse(ReasonCodes.WorkTransitionInvalid, $"step {s.StepIndex} is not the work order's next step ({state.ActiveStep}, {WireNames.Of(state.Status)})");
                var last = s.StepIndex == bp.Steps.Count - 1;
                List<WorkEvent> events = [new WorkEvent(WorkEventType.StepFinished, state.WorkOrderId, last ? WorkOrderStatus.Done : WorkOrderStatus.Executing,
                    ctx.ActorUserId, ctx.NowMs, Fields: s.Outputs, StepIndex: s.StepIndex)];
                if (last && state.Lease is not null)
                    events.Add(new WorkEvent(WorkEventType.LeaseReleased, state.WorkOrderId, WorkOrderStatus.Done, ctx.ActorUserId, ctx.NowMs));
                return Accept(last ? ReasonCodes.WorkOrderDone : ReasonCodes.WorkStepFinished, events, ctx.TenantId);
            default:
                return Refuse(ReasonCodes.InputSchemaInvalid, "unknown work command");
        }
    }

    /// <summary>
    /// PH1.LEASE for the step about to run: ACQUIRE when there is no live lease (or it is the caller's own), else
    /// denied with the holder. The grant is recorded with STEP_STARTED for the step.
    /// </summary>
    public static Decision<WorkLeaseGrant> DecideLease(WorkOrderState? state, LeaseWorkOrder l, WorkContext ctx)
    {
        if (state is null) return new Decision<WorkLeaseGrant>.Rejected(ReasonCodes.WorkOrderNotFound, $"no work order {l.WorkOrderId}");
        if (state.Status != WorkOrderStatus.Executing || l.StepIndex != state.ActiveStep)
            return new Decision<WorkLeaseGrant>.Rejected(ReasonCodes.WorkTransitionInvalid,
                $"step {l.StepIndex} is not the work order's next step ({state.ActiveStep}, {WireNames.Of(state.Status)})");
        var active = state.Lease is { } held ? new ActiveLease(held.OwnerId, held.TokenHash, held.ExpiresAtMs) : null;
        switch (LeaseDecider.Decide(new LeaseInput(ctx.TenantId, state.WorkOrderId, l.OwnerId, LeaseOperation.Acquire, l.TtlMs, ctx.NowMs, null, active)))
        {
            case LeaseOutcome.Granted granted:
                var lease = new WorkLease(l.OwnerId, Hashing.Sha256Hex(Encoding.UTF8.GetBytes(granted.Token!)), granted.ExpiresAtMs);
                // The caller's own live lease is renewed; anything else (none, or an expired one taken over) is acquired.
                var renewal = active is not null && ctx.NowMs < active.ExpiresAtMs;
                WorkEvent[] events =
                [
                    new(renewal ? WorkEventType.LeaseRenewed : WorkEventType.LeaseAcquired, state.WorkOrderId, state.Status, ctx.ActorUserId, ctx.NowMs, Lease: lease),
                    new(WorkEventType.StepStarted, state.WorkOrderId, state.Status, ctx.ActorUserId, ctx.NowMs, StepIndex: l.StepIndex),
                ];
                return new Decision<WorkLeaseGrant>.Accepted(new WorkLeaseGrant(events, granted.Reason, granted.Token!, granted.ResumeFromLedgerRequired), granted.Reason);
            case LeaseOutcome.Denied denied:
                return new Decision<WorkLeaseGrant>.Rejected(denied.Reason,
                    denied.Holder is { } h ? $"the work order's lease is held by {h.OwnerId} until {h.ExpiresAtMs} ms" : "no lease");
            case LeaseOutcome.Invalid bad:
                return new Decision<WorkLeaseGrant>.Rejected(bad.Reason, bad.Detail);
            default:
                throw new InvalidOperationException("unknown lease outcome");
        }
    }

    /// <summary>
    /// Whether <paramref name="token"/> is the live lease of the work order held by <paramref name="ownerId"/> at
    /// <paramref name="nowMs"/> — the turn gate's <c>lease_valid</c> for a lease-gated step.
    /// </summary>
    public static bool HoldsLease(WorkOrderState? state, string ownerId, string token, long nowMs) =>
        state?.Lease is { } lease && nowMs < lease.ExpiresAtMs && lease.OwnerId == ownerId &&
        lease.TokenHash == Hashing.Sha256Hex(Encoding.UTF8.GetBytes(token));

    /// <summary>
    /// After a start or an answer: ask the first missing field nobody asked yet (CLARIFY), or — when every missing
    /// field was asked — nothing (the requester's answer is awaited; a field is never asked twice); with nothing missing,
    /// CONFIRM where the blueprint asks for it, else EXECUTING.
    /// </summary>
    private static IEnumerable<WorkEvent> Advance(WorkOrderState state, RunBlueprint blueprint, WorkContext ctx)
    {
        var missing = blueprint.RequiredFields.Where(f => !state.Fields.ContainsKey(f)).ToArray();
        if (missing.Length > 0)
        {
            if (missing.FirstOrDefault(f => !state.AskedFields.Contains(f)) is { } ask)
                yield return new WorkEvent(WorkEventType.StatusChanged, state.WorkOrderId, WorkOrderStatus.Clarify, ctx.ActorUserId, ctx.NowMs,
                    AskedField: ask, PromptDedupeKey: PromptDedupeKey(ctx.TurnId, ask, state.WorkOrderId));
            else if (state.Status != WorkOrderStatus.Clarify)
                yield return new WorkEvent(WorkEventType.StatusChanged, state.WorkOrderId, WorkOrderStatus.Clarify, ctx.ActorUserId, ctx.NowMs);
            yield break;
        }
        if (blueprint.ConfirmBeforeExecuting && !state.Confirmed)
        {
            yield return new WorkEvent(WorkEventType.StatusChanged, state.WorkOrderId, WorkOrderStatus.Confirm, ctx.ActorUserId, ctx.NowMs,
                PromptDedupeKey: PromptDedupeKey(ctx.TurnId, "confirm", state.WorkOrderId));
            yield break;
        }
        yield return new WorkEvent(WorkEventType.StatusChanged, state.WorkOrderId, WorkOrderStatus.Executing, ctx.ActorUserId, ctx.NowMs);
    }

    /// <summary>The prompt a state makes: the field it last asked while still missing, or the confirmation; null otherwise.</summary>
    public static WorkPrompt? PromptOf(WorkOrderState s) => s.Status switch
    {
        WorkOrderStatus.Clarify when s.AskedFields.LastOrDefault(f => !s.Fields.ContainsKey(f)) is { } field =>
            new WorkPrompt(WorkPromptKind.Clarify, field, s.PromptDedupeKeys[s.AskedFields.ToList().IndexOf(field)]),
        WorkOrderStatus.Confirm => new WorkPrompt(WorkPromptKind.Confirm, null, s.PromptDedupeKeys[^1]),
        _ => null,
    };

    /// <summary>Folds one event (rebuild = this fold in event id order).</summary>
    public static WorkOrderState Evolve(WorkOrderState? state, WorkEvent e)
    {
        if (state is null)
        {
            if (e.Type != WorkEventType.WorkOrderCreated) throw new InvalidOperationException($"work order {e.WorkOrderId}: {e.Type} before its creation");
            return new WorkOrderState(e.WorkOrderId, e.BlueprintId!, e.ActorUserId, WorkOrderStatus.Draft, e.Fields ?? new Dictionary<string, string>(),
                [], [], [], false, 0, 0, null, e.AtMs, e.AtMs);
        }
        var s = state with { Status = e.Status, UpdatedAtMs = e.AtMs };
        switch (e.Type)
        {
            case WorkEventType.FieldSet or WorkEventType.StepFinished when e.Fields is { } fields:
                var merged = new SortedDictionary<string, string>(s.Fields.ToDictionary(), StringComparer.Ordinal);
                foreach (var (k, v) in fields) merged[k] = v;
                s = s with { Fields = merged };
                if (e.Type == WorkEventType.FieldSet) s = s with { Confirmed = false };
                if (e.Type == WorkEventType.StepFinished) s = s with { ActiveStep = e.StepIndex!.Value + 1, StepAttempts = 0 };
                break;
            case WorkEventType.StatusChanged:
                if (e.AskedField is { } asked) s = s with { AskedFields = [.. s.AskedFields, asked] };
                if (e.PromptDedupeKey is { } key) s = s with { PromptDedupeKeys = [.. s.PromptDedupeKeys, key] };
                if (e.Status == WorkOrderStatus.Executing && state.Status == WorkOrderStatus.Confirm) s = s with { Confirmed = true };
                break;
            case WorkEventType.StepStarted:
                s = s with { StepAttempts = s.StepAttempts + 1 };
                break;
            case WorkEventType.LeaseAcquired or WorkEventType.LeaseRenewed:
                s = s with { Lease = e.Lease };
                break;
            case WorkEventType.LeaseReleased:
                s = s with { Lease = null };
                break;
        }
        return s;
    }

    private static Decision<WorkEvent> Accept(ReasonCode reason, IReadOnlyList<WorkEvent> events, string tenantId)
    {
        // The step that becomes due: on EXECUTING from a pending status, the first unfinished one; after a finished step, the next.
        var due = events.LastOrDefault(e => e.Type == WorkEventType.StatusChanged && e.Status == WorkOrderStatus.Executing) is { } executing
            ? (int?)0
            : events.FirstOrDefault(e => e.Type == WorkEventType.StepFinished && e.Status == WorkOrderStatus.Executing)?.StepIndex + 1;
        IReadOnlyList<OutboxMessage> outbox = due is { } step
            ? [StepDue(tenantId, events[0].WorkOrderId, step)]
            : [];
        return new Decision<WorkEvent>.Accepted(events, reason, outbox);
    }

    /// <summary>The outbox row that makes step <paramref name="step"/> of a work order due.</summary>
    public static OutboxMessage StepDue(string tenantId, string workOrderId, int step) =>
        new("SIMULATION_COMMIT", "work_step:" + Hashing.ShortHash(32, tenantId, workOrderId, step.ToString(CultureInfo.InvariantCulture)), StepDueEvent,
            new Dictionary<string, string> { ["work_order_id"] = workOrderId, ["step_index"] = step.ToString(CultureInfo.InvariantCulture) });

    private static Decision<WorkEvent> Refuse(ReasonCode reason, string detail) => new Decision<WorkEvent>.Rejected(reason, detail);
}
