namespace Selene.Kernel.Access;

/// <summary>
/// PH1.ACCESS.001, the read-only gate (reference §7.2), in its exact ten-step order. Pure: the same request
/// always gives the same decision. Steps 1–2 establish whose instance it is; 3 computes the effective mode;
/// 4–8 apply lifecycle, allow-list, sensitivity and device rules; 9–10 compare modes.
/// </summary>
public static class AccessGate
{
    public static AccessGateDecision Decide(AccessGateRequest request)
    {
        var instance = request.Instance;
        if (instance is null)
            return Deny(null, RestrictionFlag.InstanceMissing, ReasonCodes.AccessInstanceMissing, 1, "no access instance for the user");
        if (!string.Equals(instance.UserId, request.UserId, StringComparison.Ordinal))
            return Deny(null, RestrictionFlag.UserScopeMismatch, ReasonCodes.AccessScopeMismatch, 2, "the access instance belongs to another user");

        var effective = EffectiveMode(instance, request.Overrides, request.RequestedAction, request.Now);

        if (instance.Lifecycle == AccessLifecycle.Suspended)
            return Deny(effective, RestrictionFlag.InstanceSuspended, ReasonCodes.AccessDenied, 4, "the access instance is suspended");
        if (instance.Lifecycle == AccessLifecycle.Restricted || !instance.IdentityVerified)
            return Escalate(effective, [], EscalationTrigger.StepUpProofRequired, ReasonCodes.AccessEscalateRequired, 5,
                "the instance is restricted or the identity is not verified: step-up proof required");
        if (!AllowListCovers(instance.AllowList, request.RequestedAction) && !OverrideCovers(request.Overrides, request.RequestedAction, request.Now))
            return Deny(effective, RestrictionFlag.ActionNotAllowed, ReasonCodes.AccessDenied, 6, $"the baseline allow-list does not contain {request.RequestedAction}");
        if (request.SensitiveDataRequest && !instance.FinancialAuth)
            return Deny(effective, RestrictionFlag.SensitiveFieldsBlocked, ReasonCodes.AccessSensitiveDeny, 7, "sensitive data needs financial authorization");
        var deviceTrust = (DeviceTrustLevel)Math.Min((int)request.CallerDeviceTrust, (int)instance.DeviceTrust);
        if (deviceTrust <= DeviceTrustLevel.Dtl2 && request.RequestedMode >= AccessMode.A)
            return Escalate(effective, [RestrictionFlag.DeviceUntrusted], EscalationTrigger.StepUpProofRequired, ReasonCodes.AccessDeviceUntrusted, 8,
                "approve or execute from a device of trust DTL2 or lower needs step-up proof");
        if (request.RequestedMode <= effective)
            return new AccessGateDecision(AccessDecisionKind.Allow, effective, [], null, ReasonCodes.AccessAllowed, 9,
                $"requested mode {request.RequestedMode} is within the effective mode {effective}");
        return Escalate(effective, [RestrictionFlag.ModeUpgradeRequired], EscalationTrigger.ApApprovalRequired, ReasonCodes.AccessApRequired, 10,
            $"requested mode {request.RequestedMode} exceeds the effective mode {effective}: approval required");
    }

    /// <summary>
    /// max(base mode, grant modes of ACTIVE overrides in scope whose window [starts_at, expires_at) holds now).
    /// An override's scope is one requested_action or "*": a grant for one action never lifts another.
    /// </summary>
    public static AccessMode EffectiveMode(AccessInstanceView instance, IReadOnlyList<AccessOverrideView> overrides, string requestedAction, UnixNanos now)
    {
        var mode = instance.BaseMode;
        foreach (var o in overrides)
        {
            if (o.GrantMode is { } grant && InForce(o, requestedAction, now) && grant > mode) mode = grant;
        }
        return mode;
    }

    /// <summary>An override is in force when ACTIVE, not a revocation, in scope, and its window holds now.</summary>
    public static bool InForce(AccessOverrideView o, string requestedAction, UnixNanos now) =>
        o.Status == OverrideStatus.Active && o.Type != OverrideType.Revoke &&
        (o.Scope == "*" || string.Equals(o.Scope, requestedAction, StringComparison.OrdinalIgnoreCase)) &&
        o.StartsAt <= now.Value && (o.ExpiresAt is null || now.Value < o.ExpiresAt.Value);

    /// <summary>No list = legacy allow; otherwise a case-insensitive match or "*".</summary>
    public static bool AllowListCovers(IReadOnlyList<string>? allowList, string requestedAction) =>
        allowList is null || allowList.Any(a => a == "*" || string.Equals(a, requestedAction, StringComparison.OrdinalIgnoreCase));

    // An approved override for an action is the approval path's answer to "not on the allow-list" as well:
    // without this, an action outside the baseline could never be granted (reference §7.2 design rules:
    // approvable actions escalate, never silently deny).
    private static bool OverrideCovers(IReadOnlyList<AccessOverrideView> overrides, string requestedAction, UnixNanos now) =>
        overrides.Any(o => o.GrantMode is not null && InForce(o, requestedAction, now));

    private static AccessGateDecision Deny(AccessMode? effective, RestrictionFlag flag, ReasonCode reason, int step, string rule) =>
        new(AccessDecisionKind.Deny, effective, [flag], null, reason, step, rule);

    private static AccessGateDecision Escalate(AccessMode? effective, IReadOnlyList<RestrictionFlag> flags, EscalationTrigger trigger, ReasonCode reason, int step, string rule) =>
        new(AccessDecisionKind.Escalate, effective, flags, trigger, reason, step, rule);
}
