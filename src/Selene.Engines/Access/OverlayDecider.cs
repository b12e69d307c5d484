namespace Selene.Engines.Access;

/// <summary>What the runtime hands the overlay decider.</summary>
public sealed record OverlayContext(string TenantId, string ActorUserId, UnixNanos Now);

/// <summary>
/// Tenant overlays, pure (reference §7.1, §7.4): tenant-scoped, versioned op lists over the access profiles
/// (they never change a GLOBAL record), DRAFT → ACTIVE → RETIRED per version, one ACTIVE version per overlay id.
/// </summary>
public static class OverlayDecider
{
    public const int MaxOps = 64;

    /// <summary>Reads wire ops into typed ops: an unknown op, or a ref an op does not take or lacks, is ACCESS_OVERLAY_OP_INVALID.</summary>
    public static (IReadOnlyList<OverlayOp>? Ops, Decision<OverlayEvent>.Rejected? Error) ReadOps(IReadOnlyList<OverlayOpText> ops)
    {
        if (ops.Count is 0 or > MaxOps) return (null, OpInvalid($"overlay_ops holds 1..{MaxOps} ops"));
        var list = new List<OverlayOp>(ops.Count);
        for (var i = 0; i < ops.Count; i++)
        {
            var o = ops[i];
            if (!WireNames.TryParse<OverlayOpKind>(o.Op, out var kind))
                return (null, OpInvalid($"overlay_ops[{i}]: op must be ADD_PERMISSION, REMOVE_PERMISSION, TIGHTEN_CONSTRAINT or SET_ESCALATION_POLICY"));
            var (needsCapability, needsConstraint, needsPolicy) = kind switch
            {
                OverlayOpKind.AddPermission or OverlayOpKind.RemovePermission => (true, false, false),
                OverlayOpKind.TightenConstraint => (false, true, false),
                _ => (false, false, true),
            };
            if (needsCapability != (o.CapabilityId is not null) || needsConstraint != (o.ConstraintRef is not null) || needsPolicy != (o.EscalationPolicyRef is not null))
            {
                var wants = needsCapability ? "capability_id" : needsConstraint ? "constraint_ref" : "escalation_policy_ref";
                return (null, OpInvalid($"overlay_ops[{i}]: {o.Op} takes exactly {wants}"));
            }
            if (o.CapabilityId is { } c && !ProfileDecider.IsCapabilityToken(c))
                return (null, OpInvalid($"overlay_ops[{i}]: capability_id must be a requested_action token (UPPER_SNAKE, at most 128 chars)"));
            if (o.ConstraintRef is { } k && !IdRules.IsValidName(k, 128))
                return (null, OpInvalid($"overlay_ops[{i}]: constraint_ref must be 1..128 of [A-Za-z0-9_.-]"));
            if (o.EscalationPolicyRef is { } p && !IdRules.IsValidName(p, 128))
                return (null, OpInvalid($"overlay_ops[{i}]: escalation_policy_ref must be 1..128 of [A-Za-z0-9_.-]"));
            list.Add(new OverlayOp(kind, o.CapabilityId, o.ConstraintRef, o.EscalationPolicyRef));
        }
        return (list, null);
    }

    /// <summary>Shape and bounds of a command (its ops first), before storage is touched; null when valid.</summary>
    public static Decision<OverlayEvent>.Rejected? Validate(UpdateOverlay command)
    {
        if (command.Ops is { } text && ReadOps(text).Error is { } badOps) return badOps;
        if (!IdRules.IsValidName(command.OverlayId))
            return Invalid(AccessReasons.AccessContractValidationFailed, "overlay_id must be 1..64 of [A-Za-z0-9_.-]");
        if (command.OverlayVersionId <= 0)
            return Invalid(AccessReasons.AccessContractValidationFailed, "overlay_version_id must be a positive integer");
        if (!IdRules.IsBoundedText(command.Reason, ProfileDecider.MaxReasonLength))
            return Invalid(AccessReasons.AccessContractValidationFailed, $"reason must be 1..{ProfileDecider.MaxReasonLength} printable chars");
        var writes = command.Action is OverlayEventAction.CreateDraft or OverlayEventAction.UpdateDraft;
        if (writes && command.Ops is null) return OpInvalid($"{WireNames.Of(command.Action)} needs overlay_ops");
        if (!writes && command.Ops is not null) return OpInvalid($"{WireNames.Of(command.Action)} takes no overlay_ops");
        return null;
    }

    /// <summary>Decides one command against the overlay's versions (null: the overlay has none yet).</summary>
    public static Decision<OverlayEvent> Decide(OverlayState? overlay, UpdateOverlay command, OverlayContext ctx)
    {
        if (Validate(command) is { } invalid) return invalid;
        overlay ??= OverlayState.Empty(command.OverlayId);
        var ops = command.Ops is { } text ? ReadOps(text).Ops : null;
        var v = command.OverlayVersionId;
        var at = ctx.Now.Value;
        overlay.Versions.TryGetValue(v, out var version);
        if (command.Action != OverlayEventAction.CreateDraft && version is null)
            return Invalid(AccessReasons.AccessOverlayRefInvalid, $"version {v} of overlay {command.OverlayId} was never drafted");

        switch (command.Action)
        {
            case OverlayEventAction.CreateDraft:
                if (version is not null) return Transition($"overlay version {v} exists already ({WireNames.Of(version.Lifecycle)})");
                return Accept(new OverlayVersionWritten(ctx.TenantId, command.OverlayId, v, ctx.ActorUserId, at, command.Reason, ops!, IsUpdate: false));

            case OverlayEventAction.UpdateDraft:
                if (version!.Lifecycle != ApLifecycle.Draft) return Transition($"overlay version {v} is {WireNames.Of(version.Lifecycle)}: only a DRAFT is updated");
                return Accept(new OverlayVersionWritten(ctx.TenantId, command.OverlayId, v, ctx.ActorUserId, at, command.Reason, ops!, IsUpdate: true));

            case OverlayEventAction.Activate:
                if (version!.Lifecycle != ApLifecycle.Draft) return Transition($"overlay version {v} is {WireNames.Of(version.Lifecycle)}: only a DRAFT is activated");
                var activated = new OverlayVersionActivated(ctx.TenantId, command.OverlayId, v, ctx.ActorUserId, at, command.Reason);
                if (overlay.ActiveVersionId is { } previous)
                {
                    var superseded = new OverlayVersionRetired(ctx.TenantId, command.OverlayId, previous, ctx.ActorUserId, at, command.Reason, SupersededBy: v, WasActive: true);
                    return new Decision<OverlayEvent>.Accepted([superseded, activated], AccessReasons.AccessApOverlayUpdated, []);
                }
                return Accept(activated);

            case OverlayEventAction.Retire:
                if (version!.Lifecycle == ApLifecycle.Retired) return Transition($"overlay version {v} is RETIRED already");
                return Accept(new OverlayVersionRetired(ctx.TenantId, command.OverlayId, v, ctx.ActorUserId, at, command.Reason, SupersededBy: null,
                    WasActive: overlay.ActiveVersionId == v));

            default:
                return Invalid(ReasonCodes.InputSchemaInvalid, "unknown event_action");
        }
    }

    /// <summary>Folds one event into the overlay's versions (null: the overlay's first event). Uses nothing but the event.</summary>
    public static OverlayState Evolve(OverlayState? state, OverlayEvent e)
    {
        state ??= OverlayState.Empty(e.OverlayId);
        var versions = new Dictionary<int, OverlayVersionState>(state.Versions);
        switch (e)
        {
            case OverlayVersionWritten w:
                versions[w.OverlayVersionId] = new OverlayVersionState(w.OverlayVersionId, ApLifecycle.Draft, w.Ops, w.At);
                return state with { Versions = versions };
            case OverlayVersionActivated a:
                versions[a.OverlayVersionId] = versions[a.OverlayVersionId] with { Lifecycle = ApLifecycle.Active, LastEventAt = a.At };
                return state with { Versions = versions, ActiveVersionId = a.OverlayVersionId };
            case OverlayVersionRetired r:
                versions[r.OverlayVersionId] = versions[r.OverlayVersionId] with { Lifecycle = ApLifecycle.Retired, LastEventAt = r.At };
                return state with { Versions = versions, ActiveVersionId = state.ActiveVersionId == r.OverlayVersionId ? null : state.ActiveVersionId };
            default:
                return state;
        }
    }

    private static Decision<OverlayEvent>.Accepted Accept(OverlayEvent e) => new([e], AccessReasons.AccessApOverlayUpdated, []);

    private static Decision<OverlayEvent>.Rejected Transition(string detail) => new(AccessReasons.AccessApTransitionInvalid, detail);

    private static Decision<OverlayEvent>.Rejected OpInvalid(string detail) => new(AccessReasons.AccessOverlayOpInvalid, detail);

    private static Decision<OverlayEvent>.Rejected Invalid(ReasonCode reason, string detail) => new(reason, detail);
}
