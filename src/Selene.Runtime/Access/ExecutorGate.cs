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
    string EscalationCaseId,
    EscalationCaseRow? ExistingCase,
    string? AccessInstanceId)
{
    public bool Allowed => Decision.Decision == AccessDecisionKind.Allow;

    /// <summary>The refusal a non-ALLOW verdict becomes (reference §7.2 consumer rule).</summary>
    public ReasonCode RefusalReason =>
        ExistingCase?.Status == "DENIED" ? ReasonCodes.AccessEscalationDenied
        : Decision.Decision == AccessDecisionKind.Deny ? ReasonCodes.AccessScopeViolation
        : ReasonCodes.AccessApRequired;

    /// <summary>An approver or board can resolve it: ESCALATE for a mode upgrade, and no case has been denied.</summary>
    public bool OpensCase =>
        Decision.Decision == AccessDecisionKind.Escalate && Decision.Trigger == EscalationTrigger.ApApprovalRequired && ExistingCase?.Status != "DENIED";
}

/// <summary>
/// The executor's ACCESS gate (issue 3): before any governed simulation decides, the acting user's stored
/// instance and overrides are read inside the executor's transaction and PH1.ACCESS.001 decides for the
/// simulation's requested_action at its declared mode. ONE_SHOT overrides count only for the request whose
/// escalation case they answer. API-key callers present no device, so the instance's device trust governs.
/// </summary>
public static class ExecutorGate
{
    public static async Task<GateVerdict> DecideAsync(TenantTransaction tx, SimulationRecord record, ExecutionContext context, CancellationToken ct)
    {
        var user = context.Actor.Value;
        var caseId = Governance.EscalationCaseId(context.Tenant.Value, user, record.SimulationId, context.IdempotencyKey.Value);
        var (instance, overrides) = await LoadAsync(tx, user, caseId, ct);
        var existing = await AccessGovernanceStore.GetCaseAsync(tx, caseId, forUpdate: false, ct);
        var decision = AccessGate.Decide(new AccessGateRequest(user, instance, overrides, record.RequestedAction, record.RequiredMode,
            DeviceTrustLevel.Dtl4, SensitiveDataRequest: false, context.Now));
        return new GateVerdict(decision, record.RequestedAction, record.RequiredMode, caseId, existing, instance?.AccessInstanceId);
    }

    /// <summary>The user's instance and the overrides the gate may count (ONE_SHOT ones only for <paramref name="caseId"/>).</summary>
    public static async Task<(AccessInstanceView? Instance, IReadOnlyList<AccessOverrideView> Overrides)> LoadAsync(TenantTransaction tx, string userId,
        string? caseId, CancellationToken ct)
    {
        var row = await AccessStore.GetByUserAsync(tx, userId, ct);
        if (row is null) return (null, []);
        var overrides = (await AccessGovernanceStore.ListOverridesAsync(tx, userId, ct))
            .Where(o => o.Status == "ACTIVE" && (o.OverrideType != "ONE_SHOT" || string.Equals(o.EscalationCaseId, caseId, StringComparison.Ordinal)))
            .Select(ToView)
            .ToArray();
        return (AccessCheck.ToView(row), overrides);
    }

    public static AccessOverrideView ToView(OverrideRow o) => new(o.OverrideId, WireNames.Parse<OverrideType>(o.OverrideType), o.Scope,
        WireNames.Parse<AccessMode>(o.GrantMode), WireNames.Parse<OverrideStatus>(o.Status), o.StartsAt, o.ExpiresAt);

    /// <summary>The journal entry of a gate decision (payload from the reference's payload_min allowlist, plus step and case).</summary>
    public static JournalDraft Journal(GateVerdict verdict, ReasonCode reason, string simulationId) =>
        new(ReasonCodes.EngineAccess, JournalEventTypes.AccessDecision, reason, JournalPayload.Create(
            ("simulation_id", simulationId),
            ("access_instance_id", verdict.AccessInstanceId ?? "NONE"),
            ("requested_action", verdict.RequestedAction),
            ("requested_mode", WireNames.Of(verdict.RequestedMode)),
            ("access_decision", WireNames.Of(verdict.Decision.Decision)),
            ("effective_access_mode", verdict.Decision.EffectiveMode is { } m ? WireNames.Of(m) : "NONE"),
            ("gate_reason_code", verdict.Decision.Reason.Name),
            ("gate_step", verdict.Decision.Step.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("escalation_case_id", verdict.OpensCase || verdict.ExistingCase is not null ? verdict.EscalationCaseId : "NONE")));

    /// <summary>The refusal's detail line: the gate's rule, and what to do next.</summary>
    public static string RefusalDetail(GateVerdict verdict, SimulationRecord record) =>
        verdict.ExistingCase?.Status == "DENIED"
            ? $"escalation case {verdict.EscalationCaseId} for this request was denied"
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
    /// Opens the request's escalation case (idempotently) in the refusal transaction, binding the ACTIVE board
    /// policy that governs the action, if any. Returns the journal entry when this call opened it.
    /// </summary>
    public static async Task<JournalDraft?> OpenCaseAsync(TenantTransaction tx, GateVerdict verdict, string simulationId, ExecutionContext context,
        CancellationToken ct)
    {
        var policies = (await AccessGovernanceStore.ActivePoliciesAsync(tx, ct))
            .Select(p => BoardPolicies.TryParse(p.PayloadJson, out var payload) ? new ActiveBoardPolicy(p.BoardPolicyId, p.VersionId, payload!, p.PayloadJson) : null)
            .OfType<ActiveBoardPolicy>();
        var bound = Governance.BindPolicy(policies, verdict.RequestedAction);
        var row = new EscalationCaseRow(verdict.EscalationCaseId, context.Actor.Value, verdict.AccessInstanceId!, simulationId, context.IdempotencyKey.Value,
            verdict.RequestedAction, WireNames.Of(verdict.RequestedMode), WireNames.Of(verdict.Decision.EffectiveMode!.Value), WireNames.Of(EscalationTrigger.ApApprovalRequired),
            bound?.BoardPolicyId, bound?.VersionId, bound?.PayloadJson, "OPEN", null, null, context.Correlation.ToString(), context.Now.Value, null);
        var stamp = new GovernanceStamp(context.Actor.Value, ReasonCodes.AccessEscalationOpened.Name, context.Correlation.ToString(),
            context.IdempotencyKey.Value, context.Now.Value);
        if (!await AccessGovernanceStore.OpenCaseAsync(tx, row, GovernanceViews.Case(row, []).ToJsonString(), stamp, ct)) return null;
        return new JournalDraft(ReasonCodes.EngineAccess, JournalEventTypes.EscalationCaseOpened, ReasonCodes.AccessEscalationOpened, JournalPayload.Create(
            ("escalation_case_id", row.EscalationCaseId),
            ("target_user_id", row.TargetUserId),
            ("simulation_id", simulationId),
            ("requested_action", row.RequestedAction),
            ("requested_mode", row.RequestedMode),
            ("board_policy_id", row.BoardPolicyId ?? "NONE")));
    }
}
