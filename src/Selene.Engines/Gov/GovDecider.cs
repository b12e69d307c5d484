namespace Selene.Engines.Gov;

/// <summary>What the runtime hands the decider besides state and command.</summary>
/// <param name="PlatformOperator">The acting tenant is a platform operator (may write GLOBAL settings).</param>
/// <param name="ArtifactKnown">For a definition change: the catalog has the definition.</param>
/// <param name="ArtifactProtected">For a definition change: the definition is PH1.GOV's own (never deprecated: it lifts the switches).</param>
/// <param name="CapabilityGoverned">For an approval policy: some simulation of the catalog requires the capability by the tenant's policy.</param>
public sealed record GovContext(string TenantId, string ActorUserId, UnixNanos Now, bool PlatformOperator, bool ArtifactKnown = false, bool ArtifactProtected = false,
    bool CapabilityGoverned = false);

/// <summary>
/// PH1.GOV's control plane, pure: incident switches and daily budgets per scope, and definition governance
/// (reference §11.5). It grants nothing and executes nothing; the turn gate reads what it stores.
/// </summary>
public static class GovDecider
{
    /// <summary>The control stream of the acting tenant, and the platform's (under the reserved tenant key).</summary>
    public const string TenantStream = "TENANT";
    public const string GlobalStream = "GLOBAL";

    /// <summary>Daily budgets when a tenant set none: generous, but bounded (seed build plan P2, cost guardrails).</summary>
    public const long DefaultTenantDailyExecutions = 1_000_000;
    public const long DefaultUserDailyExecutions = 100_000;

    /// <summary>The largest budget a tenant may set.</summary>
    public const long MaxDailyExecutions = 100_000_000;

    public const int MaxNoteLength = 256;

    /// <summary>The capability a definition change needs an APPROVED request for (the CAPREQ gate).</summary>
    public const string DefinitionChangeCapability = "GOV_DEFINITION_CHANGE";

    /// <summary>The control stream of a scope.</summary>
    public static string ControlStream(GovScope scope) => scope == GovScope.Global ? GlobalStream : TenantStream;

    /// <summary>A definition's stream: <c>SIMULATION:&lt;id&gt;</c> or <c>BLUEPRINT:&lt;id&gt;</c>, GLOBAL-prefixed in the global scope.</summary>
    public static string DefinitionStream(GovScope scope, GovArtifactKind kind, string artifactId) =>
        (scope == GovScope.Global ? "GLOBAL:" : "") + WireNames.Of(kind) + ":" + artifactId;

    /// <summary>The scope an APPROVED capability request must name for a definition change: its stream id.</summary>
    public static string CapabilityScope(SetDefinition command) => DefinitionStream(command.Scope, command.Kind, command.ArtifactId);

    public static bool IsGlobalStream(string streamId) => streamId == GlobalStream || streamId.StartsWith("GLOBAL:", StringComparison.Ordinal);

    /// <summary>The status of a control stream: which switch is on (the kill switch wins).</summary>
    public static GovControlStatus StatusOf(GovControlState s) =>
        s.KillSwitch ? GovControlStatus.KillSwitch : s.SafeMode ? GovControlStatus.SafeMode : GovControlStatus.Normal;

    /// <summary>Bounds and shapes, before any storage. Null when valid.</summary>
    public static JsonInputError? Validate(GovCommand command)
    {
        if (!IdRules.IsBoundedText(command.Note, MaxNoteLength))
            return new JsonInputError(ReasonCodes.InputFieldInvalid, $"note must be 1..{MaxNoteLength} printable characters: say why");
        if (!Enum.IsDefined(command.Scope)) return new JsonInputError(ReasonCodes.InputFieldInvalid, "scope must be TENANT or GLOBAL");
        switch (command)
        {
            case SetSwitch s when !Enum.IsDefined(s.Switch):
                return new JsonInputError(ReasonCodes.InputFieldInvalid, "switch must be SAFE_MODE or KILL_SWITCH");
            case SetQuota q when q.TenantDailyExecutions is < 1 or > MaxDailyExecutions || q.UserDailyExecutions is < 1 or > MaxDailyExecutions:
                return new JsonInputError(ReasonCodes.InputFieldInvalid, $"daily executions must be 1..{MaxDailyExecutions} (or absent for the default)");
            case SetDefinition d when !IdRules.IsValidName(d.ArtifactId, 128):
                return new JsonInputError(ReasonCodes.InputFieldInvalid, "artifact_id must be 1..128 characters of [A-Za-z0-9._:-]");
            case SetApprovalPolicy a when !IdRules.IsValidName(a.CapabilityId, 128):
                return new JsonInputError(ReasonCodes.InputFieldInvalid, "capability_id must be 1..128 characters of [A-Za-z0-9._:-]");
            case SetDefinition d when !Enum.IsDefined(d.Kind) || !Enum.IsDefined(d.Action):
                return new JsonInputError(ReasonCodes.InputFieldInvalid, "artifact_kind must be SIMULATION or BLUEPRINT, action ACTIVATE, DEPRECATE or ROLLBACK");
            default:
                return null;
        }
    }

    /// <summary>Decides a switch or budget change against the scope's control stream (null: never set).</summary>
    public static Decision<GovControlEvent> DecideControl(GovControlState? state, GovCommand command, GovContext context)
    {
        if (Validate(command) is { } invalid) return new Decision<GovControlEvent>.Rejected(invalid.Reason, invalid.Detail);
        if (command.Scope == GovScope.Global && !context.PlatformOperator)
            return new Decision<GovControlEvent>.Rejected(GovReasons.GovGlobalScopeForbidden, "only a platform-operator tenant sets GLOBAL governance");
        switch (command)
        {
            case SetSwitch s:
                var current = s.Switch == GovSwitch.SafeMode ? state?.SafeMode ?? false : state?.KillSwitch ?? false;
                if (current == s.Enabled)
                    return new Decision<GovControlEvent>.Rejected(GovReasons.GovSwitchUnchanged,
                        $"{WireNames.Of(s.Switch)} is already {(s.Enabled ? "on" : "off")} in the {WireNames.Of(s.Scope)} scope");
                return new Decision<GovControlEvent>.Accepted(
                    new GovSwitchSet(s.Scope, s.Switch, s.Enabled, context.ActorUserId, s.Note, context.Now.Value), GovReasons.GovSwitchSet);
            case SetQuota q:
                return new Decision<GovControlEvent>.Accepted(
                    new GovQuotaSet(q.Scope, q.TenantDailyExecutions, q.UserDailyExecutions, context.ActorUserId, q.Note, context.Now.Value), GovReasons.GovQuotaSet);
            case SetApprovalPolicy a:
                if (!context.CapabilityGoverned)
                    return new Decision<GovControlEvent>.Rejected(GovReasons.GovApprovalCapabilityUnknown,
                        $"no simulation requires {a.CapabilityId} by the tenant's policy: a policy for it would govern nothing");
                if ((state?.RequiresApproval(a.CapabilityId) ?? false) == a.Required)
                    return new Decision<GovControlEvent>.Rejected(GovReasons.GovApprovalPolicyUnchanged,
                        $"{a.CapabilityId} is already {(a.Required ? "" : "not ")}required in the {WireNames.Of(a.Scope)} scope");
                return new Decision<GovControlEvent>.Accepted(
                    new GovApprovalPolicySet(a.Scope, a.CapabilityId, a.Required, context.ActorUserId, a.Note, context.Now.Value), GovReasons.GovApprovalPolicySet);
            default:
                return new Decision<GovControlEvent>.Rejected(ReasonCodes.InputSchemaInvalid, "not a control command");
        }
    }

    public static GovControlState EvolveControl(GovControlState? state, GovControlEvent e, long eventId)
    {
        var s = state ?? new GovControlState(e.Scope, false, false, null, null, e.ActorUserId, e.Note, e.At);
        s = s with { LastActorUserId = e.ActorUserId, LastNote = e.Note, UpdatedAt = e.At };
        return e switch
        {
            GovSwitchSet { Switch: GovSwitch.SafeMode } w => s with { SafeMode = w.Enabled },
            GovSwitchSet w => s with { KillSwitch = w.Enabled },
            GovQuotaSet q => s with { TenantDailyExecutions = q.TenantDailyExecutions, UserDailyExecutions = q.UserDailyExecutions },
            GovApprovalPolicySet a => s with
            {
                ApprovalRequired = (a.Required ? (s.ApprovalRequired ?? []).Append(a.CapabilityId) : (s.ApprovalRequired ?? []).Where(c => c != a.CapabilityId))
                    .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
            },
            _ => throw new InvalidOperationException($"ledger event {eventId} is not a control event"),
        };
    }

    /// <summary>Decides a definition change against the definition's stream (null: never changed, so ACTIVE as shipped).</summary>
    public static Decision<GovDefinitionSet> DecideDefinition(GovDefinitionState? state, SetDefinition command, GovContext context)
    {
        if (Validate(command) is { } invalid) return new Decision<GovDefinitionSet>.Rejected(invalid.Reason, invalid.Detail);
        if (command.Scope == GovScope.Global && !context.PlatformOperator)
            return new Decision<GovDefinitionSet>.Rejected(GovReasons.GovGlobalScopeForbidden, "only a platform-operator tenant sets GLOBAL governance");
        var name = $"{WireNames.Of(command.Kind)} {command.ArtifactId}";
        if (!context.ArtifactKnown)
            return new Decision<GovDefinitionSet>.Rejected(GovReasons.GovDefinitionUnknown, $"the catalog has no {name}");
        if (context.ArtifactProtected)
            return new Decision<GovDefinitionSet>.Rejected(GovReasons.GovDefinitionProtected, $"{name} is governance's own: it is never deprecated");

        var status = state?.Status ?? GovDefinitionStatus.Active;
        GovDefinitionStatus next;
        switch (command.Action)
        {
            case GovDefinitionAction.Rollback:
                if (state is not { History.Count: > 0 })
                    return new Decision<GovDefinitionSet>.Rejected(GovReasons.GovDefinitionTransitionInvalid, $"{name} has no change to roll back");
                next = state.History[^1];
                break;
            default:
                next = command.Action == GovDefinitionAction.Activate ? GovDefinitionStatus.Active : GovDefinitionStatus.Deprecated;
                if (next == status)
                    return new Decision<GovDefinitionSet>.Rejected(GovReasons.GovDefinitionTransitionInvalid, $"{name} is already {WireNames.Of(status)}");
                break;
        }
        return new Decision<GovDefinitionSet>.Accepted(new GovDefinitionSet(command.Scope, command.Kind, command.ArtifactId, command.Action, next, status,
            context.ActorUserId, command.Note, context.Now.Value), GovReasons.GovDefinitionSet);
    }

    public static GovDefinitionState EvolveDefinition(GovDefinitionState? state, GovDefinitionSet e, long eventId)
    {
        var history = state?.History ?? [];
        // A rollback pops the status it returns to; any other change pushes the status it leaves.
        IReadOnlyList<GovDefinitionStatus> next = e.Action == GovDefinitionAction.Rollback ? [.. history.Take(history.Count - 1)] : [.. history, e.Previous];
        return new GovDefinitionState(e.Scope, e.Kind, e.ArtifactId, e.Status, next, (state?.Version ?? 0) + 1, e.ActorUserId, e.Note, e.At);
    }
}
