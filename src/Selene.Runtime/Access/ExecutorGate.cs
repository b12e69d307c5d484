using System.Text.Json.Nodes;
using Selene.Engines.Access;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Access;

/// <summary>The gate's verdict on one governed request, with what the executor needs to act on it.</summary>
public sealed record GateVerdict(
    AccessGateDecision Decision,
    string RequestedAction,
    AccessMode RequestedMode,
    string? EscalationCaseId,
    EscalationCaseState? ExistingCase,
    string? AccessInstanceId)
{
    /// <summary>The board said no to exactly this request: no later grant makes it pass.</summary>
    public bool CaseDenied => ExistingCase?.Status == EscalationStatus.Denied;

    public bool Allowed => Decision.Decision == AccessDecisionKind.Allow && !CaseDenied;

    /// <summary>The refusal a non-ALLOW verdict becomes (reference §7.2 consumer rule).</summary>
    public ReasonCode RefusalReason =>
        CaseDenied ? AccessReasons.AccessEscalationDenied
        : Decision.Decision == AccessDecisionKind.Deny ? AccessReasons.AccessScopeViolation
        : ReasonCodes.AccessApRequired;

    /// <summary>An approver or board can resolve it: ESCALATE for a mode upgrade, and this request has no closed case yet.</summary>
    public bool OpensCase =>
        EscalationCaseId is not null && Decision.Decision == AccessDecisionKind.Escalate && Decision.Trigger == EscalationTrigger.ApApprovalRequired && ExistingCase is null or { Status: EscalationStatus.Open };
}

/// <summary>
/// The executor's ACCESS gate (issue 3): before any governed simulation decides, the acting user's stored
/// instance and overrides are read inside the executor's transaction and PH1.ACCESS.001 decides for the
/// simulation's requested_action at its declared mode. ONE_SHOT overrides count only for the request whose
/// escalation case they answer — the same user, simulation, key and request hash. API-key callers present no
/// device, so the instance's device trust governs.
/// </summary>
public static class ExecutorGate
{
    /// <summary>The escalation case a request of <paramref name="actor"/> binds to: null without a key (no request to bind a case to).</summary>
    public static string? CaseIdOf(SimulationRecord record, TenantId tenant, UserId actor, IdempotencyKey? key) =>
        key is { } k ? Governance.EscalationCaseId(tenant.Value, actor.Value, record.SimulationId, k.Value) : null;

    /// <summary>
    /// The verdict on the gate's facts (read with the turn's other facts in one round trip), or null when this key already
    /// opened a case for a different request (the caller gets IDEMPOTENCY_KEY_REUSED: an approval given for one body never
    /// carries over to another).
    /// </summary>
    public static GateVerdict? Decide(GateFacts facts, SimulationRecord record, UserId actor, string? caseId, string requestHash, UnixNanos now)
    {
        var existing = (EscalationCaseState?)GovernanceHandlers.Cases.ReadState(facts.Case);
        if (existing is not null && !string.Equals(existing.RequestHash, requestHash, StringComparison.Ordinal)) return null;
        var (instance, overrides) = Views(facts);
        var decision = AccessGate.Decide(new AccessGateRequest(actor.Value, instance, overrides, record.RequestedAction, record.RequiredMode,
            DeviceTrustLevel.Dtl4, SensitiveDataRequest: false, now));
        return new GateVerdict(decision, record.RequestedAction, record.RequiredMode, caseId, existing, instance?.AccessInstanceId);
    }

    /// <summary>
    /// Of <paramref name="records"/>, the requested actions (as <c>ACTION@MODE</c>, sorted, once each) for which the gate
    /// would not ALLOW <paramref name="actor"/> now, decided as <see cref="Decide"/> does for a request without an
    /// escalation case: what a process running those simulations as the actor checks before it starts.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WithheldAsync(TenantTransaction tx, string actor, IEnumerable<SimulationRecord> records, UnixNanos now,
        CancellationToken ct)
    {
        var (instance, overrides) = await LoadAsync(tx, actor, caseId: null, now, ct);
        return records
            .Where(r => AccessGate.Decide(new AccessGateRequest(actor, instance, overrides, r.RequestedAction, r.RequiredMode, DeviceTrustLevel.Dtl4,
                SensitiveDataRequest: false, now)).Decision != AccessDecisionKind.Allow)
            .Select(r => $"{r.RequestedAction}@{WireNames.Of(r.RequiredMode)}")
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The user's instance and the overrides the gate may count (ONE_SHOT ones only for <paramref name="caseId"/>).</summary>
    public static async Task<(AccessInstanceView? Instance, IReadOnlyList<AccessOverrideView> Overrides)> LoadAsync(TenantTransaction tx, string userId,
        string? caseId, UnixNanos now, CancellationToken ct) =>
        Views(await AccessGovernanceQueries.GateFactsAsync(tx, userId, caseId, now.Value, ct));

    /// <summary>The gate's view of the facts: the user's instance (null when none) and the overrides it may count.</summary>
    public static (AccessInstanceView? Instance, IReadOnlyList<AccessOverrideView> Overrides) Views(GateFacts facts) =>
        GovernanceHandlers.Instances.ReadState(facts.Instance) is not AccessInstanceState instance ? (null, [])
        : (AccessCheck.ToView(instance), facts.Overrides.Select(r => ((OverrideState)GovernanceHandlers.Overrides.ReadState(r)!).ToView()).ToArray());

    /// <summary>The journal entry of a gate decision (payload from the reference's payload_min allowlist, plus step and case).</summary>
    public static JournalDraft Journal(GateVerdict verdict, ReasonCode reason, string simulationId) =>
        new(AccessReasons.EngineId, JournalEventTypes.AccessDecision, reason, JournalPayload.Create(
            ("simulation_id", simulationId),
            ("access_instance_id", verdict.AccessInstanceId ?? "NONE"),
            ("requested_action", verdict.RequestedAction),
            ("requested_mode", WireNames.Of(verdict.RequestedMode)),
            ("access_decision", WireNames.Of(verdict.Decision.Decision)),
            ("effective_access_mode", verdict.Decision.EffectiveMode is { } m ? WireNames.Of(m) : "NONE"),
            ("gate_reason_code", verdict.Decision.Reason.Name),
            ("gate_step", verdict.Decision.Step.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("escalation_case_id", verdict.OpensCase || verdict.ExistingCase is not null ? verdict.EscalationCaseId! : "NONE")));

    /// <summary>The refusal's detail line: the gate's rule, and what to do next.</summary>
    public static string RefusalDetail(GateVerdict verdict, SimulationRecord record) =>
        verdict.CaseDenied
            ? $"escalation case {verdict.EscalationCaseId} for this request was denied"
            : verdict.ExistingCase is { Status: EscalationStatus.Approved } && !verdict.Allowed
                ? $"escalation case {verdict.EscalationCaseId} was approved, but its grant is no longer in force (revoked or expired): send the request under a new Idempotency-Key to open a new case"
            : verdict.OpensCase
                ? $"{record.SimulationId} needs {record.RequestedAction} at mode {record.RequiredMode}: {verdict.Decision.Rule}; escalation case {verdict.EscalationCaseId} awaits approval, then retry with the same Idempotency-Key"
                : $"{record.SimulationId} needs {record.RequestedAction} at mode {record.RequiredMode}: {verdict.Decision.Rule}";

    /// <summary>What a refused caller is told beyond the reason code: the gate's answer and, when there is one, the case to resolve.</summary>
    public static JsonObject Problem(GateVerdict verdict)
    {
        var d = verdict.Decision;
        var problem = new JsonObject
        {
            ["access_decision"] = WireNames.Of(d.Decision),
            ["gate_reason_code"] = d.Reason.Name,
            ["gate_step"] = d.Step,
            ["gate_rule"] = d.Rule,
            ["requested_action"] = verdict.RequestedAction,
            ["requested_mode"] = WireNames.Of(verdict.RequestedMode),
            ["effective_access_mode"] = d.EffectiveMode is { } m ? WireNames.Of(m) : null,
            ["restriction_flags"] = new JsonArray(d.RestrictionFlags.Select(f => (JsonNode)WireNames.Of(f)).ToArray()),
        };
        if (d.Trigger is { } trigger) problem["escalation_trigger"] = WireNames.Of(trigger);
        if (verdict.OpensCase || verdict.ExistingCase is not null) problem["escalation_case_id"] = verdict.EscalationCaseId;
        return problem;
    }

    /// <summary>
    /// Opens the request's escalation case (idempotently: under the case stream's lock, an existing case is left as it
    /// is) in the refusal transaction, binding the ACTIVE board policy that governs the action, if any. Returns the
    /// journal entry when this call opened it.
    /// </summary>
    public static async Task<JournalDraft?> OpenCaseAsync(TenantTransaction tx, GateVerdict verdict, string simulationId, ExecutionContext context,
        string requestHash, CancellationToken ct)
    {
        if (await GovernanceHandlers.Cases.LockAndLoadAsync(tx, verdict.EscalationCaseId!, ct) is not null) return null;
        var policies = (await GovernanceHandlers.Policies.ListAsync(tx, WireNames.Of(BoardPolicyStatus.Active), null, 1000, ct))
            .Select(p => p.State.Active(BoardPolicies.Parse))
            .OfType<ActiveBoardPolicy>();
        var bound = Governance.BindPolicy(policies, verdict.RequestedAction, context.Actor.Value);
        var opened = new EscalationCaseOpened(verdict.EscalationCaseId!, context.Actor.Value, verdict.AccessInstanceId!, simulationId,
            context.IdempotencyKey.Value, requestHash, verdict.RequestedAction, verdict.RequestedMode, verdict.Decision.EffectiveMode!.Value,
            EscalationTrigger.ApApprovalRequired, bound?.BoardPolicyId, bound?.VersionId, bound?.PayloadJson, context.Correlation.ToString(), context.Now.Value);
        await GovernanceHandlers.Cases.WriteAsync(tx, null, opened, context, AccessReasons.AccessEscalationOpened, ct);
        return new JournalDraft(AccessReasons.EngineId, JournalEventTypes.EscalationCaseOpened, AccessReasons.AccessEscalationOpened, JournalPayload.Create(
            ("escalation_case_id", opened.EscalationCaseId),
            ("target_user_id", opened.TargetUserId),
            ("simulation_id", simulationId),
            ("requested_action", opened.RequestedAction),
            ("requested_mode", WireNames.Of(opened.RequestedMode)),
            ("board_policy_id", opened.BoardPolicyId ?? "NONE")));
    }
}
