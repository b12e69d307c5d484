using Selene.Kernel.Access;

namespace Selene.Engines.Access;

/// <summary>What the runtime hands the compile decider.</summary>
public sealed record CompileContext(string TenantId, string ActorUserId, UnixNanos Now);

/// <summary>
/// ACCESS_INSTANCE_COMPILE_COMMIT, pure (reference §7.2 design rules, §7.5): resolves the permission chain
/// global AP → tenant AP → tenant overlays into one user's allow list, mode and financial authorization, and the
/// lineage it came from. Every reference must resolve and be ACTIVE; anything else is refused, never guessed.
/// The derivation is written down in docs/access-approvals.md ("Compiling an access instance").
/// </summary>
public static class CompileDecider
{
    public const int MaxOverlayRefs = 16;

    /// <summary><c>ovs_</c> + 32 hex of the sorted "overlay_id@version" refs; null when there are none.</summary>
    public static string? OverlaySetRef(IEnumerable<OverlayVersionRef> refs)
    {
        var parts = refs.Select(r => r.OverlayId + "@" + r.OverlayVersionId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Order(StringComparer.Ordinal).ToArray();
        return parts.Length == 0 ? null : "ovs_" + Hashing.ShortHash(32, parts);
    }

    public static Decision<InstanceCompiled>.Rejected? Validate(CompileInstance c)
    {
        if (!UserId.IsValid(c.TargetUserId))
            return Invalid(AccessReasons.AccessContractValidationFailed, "target_user_id must be 1..64 of [A-Za-z0-9_.-]");
        if (!IdRules.IsValidName(c.AccessProfileId))
            return Invalid(AccessReasons.AccessContractValidationFailed, "access_profile_id must be 1..64 of [A-Za-z0-9_.-]");
        if (c.GlobalProfileVersionRef <= 0 || c.TenantProfileVersionRef is <= 0)
            return Invalid(AccessReasons.AccessContractValidationFailed, "profile version refs are positive integers");
        if (c.OverlayVersionRefs.Count > MaxOverlayRefs)
            return Invalid(AccessReasons.AccessContractValidationFailed, $"at most {MaxOverlayRefs} overlay_version_refs");
        if (c.OverlayVersionRefs.Any(r => !IdRules.IsValidName(r.OverlayId) || r.OverlayVersionId <= 0))
            return Invalid(AccessReasons.AccessContractValidationFailed, "an overlay ref is an overlay_id (1..64 of [A-Za-z0-9_.-]) and a positive overlay_version_id");
        if (c.OverlayVersionRefs.Select(r => r.OverlayId).Distinct(StringComparer.Ordinal).Count() != c.OverlayVersionRefs.Count)
            return Invalid(AccessReasons.AccessContractValidationFailed, "an overlay is referenced at most once");
        if (c.PositionId is { } p && !IdRules.IsValidName(p))
            return Invalid(AccessReasons.AccessContractValidationFailed, "position_id must be 1..64 of [A-Za-z0-9_.-]");
        if (!IdRules.IsBoundedText(c.CompileReason, ProfileDecider.MaxReasonLength))
            return Invalid(AccessReasons.AccessContractValidationFailed, $"compile_reason must be 1..{ProfileDecider.MaxReasonLength} printable chars");
        return null;
    }

    public static Decision<InstanceCompiled> Decide(CompileInstance c, CompileFacts facts, CompileContext ctx)
    {
        if (Validate(c) is { } invalid) return invalid;

        if (ActiveVersion(facts.Global, c.GlobalProfileVersionRef, "GLOBAL", c.AccessProfileId) is { } globalProblem) return globalProblem;
        var global = facts.Global.Versions[c.GlobalProfileVersionRef].Payload;
        ApProfilePayload? tenant = null;
        if (c.TenantProfileVersionRef is { } tv)
        {
            if (ActiveVersion(facts.Tenant, tv, "TENANT", c.AccessProfileId) is { } tenantProblem) return tenantProblem;
            tenant = facts.Tenant.Versions[tv].Payload;
        }

        var ops = new List<OverlayOp>();
        foreach (var r in c.OverlayVersionRefs.OrderBy(r => r.OverlayId, StringComparer.Ordinal))
        {
            if (!facts.Overlays.TryGetValue(r.OverlayId, out var overlay) || !overlay.Versions.TryGetValue(r.OverlayVersionId, out var version))
                return Invalid(AccessReasons.AccessOverlayRefInvalid, $"overlay {r.OverlayId} has no version {r.OverlayVersionId} in this tenant");
            if (overlay.ActiveVersionId != r.OverlayVersionId)
                return Invalid(AccessReasons.AccessOverlayRefInvalid, $"version {r.OverlayVersionId} of overlay {r.OverlayId} is {WireNames.Of(version.Lifecycle)}, not the ACTIVE one");
            ops.AddRange(version.Ops);
        }
        if (c.PositionId is { } positionId && !facts.PositionExists)
            return Invalid(AccessReasons.AccessPositionRefMissing, $"no position {positionId} in this tenant");

        // 1. The global profile is the base. 2. A tenant profile can only narrow it: allow lists intersect, the lower
        // mode wins, financial authorization needs both. 3. Overlays: (allow ∪ added) \ removed, order-free (a removal
        // always wins); a wildcard list cannot lose a token, so that is refused rather than silently kept.
        var allow = global.CapabilityAllowList;
        var mode = global.AccessMode;
        var financial = global.FinancialAuth;
        if (tenant is not null)
        {
            allow = Intersect(allow, tenant.CapabilityAllowList);
            mode = (AccessMode)Math.Min((int)mode, (int)tenant.AccessMode);
            financial = financial && tenant.FinancialAuth;
        }
        var added = ops.Where(o => o.Op == OverlayOpKind.AddPermission).Select(o => o.CapabilityId!).ToHashSet(StringComparer.Ordinal);
        var removed = ops.Where(o => o.Op == OverlayOpKind.RemovePermission).Select(o => o.CapabilityId!).ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<string> compiled;
        if (IsWildcard(allow))
        {
            if (removed.Count > 0)
                return Invalid(AccessReasons.AccessOverlayOpInvalid,
                    $"REMOVE_PERMISSION {removed.Order(StringComparer.Ordinal).First()} cannot apply to a wildcard allow list: give the profile an explicit list");
            compiled = [ProfileDecider.Wildcard];
        }
        else
        {
            compiled = allow.Union(added, StringComparer.Ordinal).Except(removed, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        }

        var existing = facts.Existing;
        var lineage = new CompiledLineage(c.AccessProfileId, c.GlobalProfileVersionRef, c.TenantProfileVersionRef is null ? null : c.AccessProfileId,
            c.TenantProfileVersionRef, OverlaySetRef(c.OverlayVersionRefs), c.PositionId);
        return new Decision<InstanceCompiled>.Accepted(new InstanceCompiled(
            ctx.TenantId, c.TargetUserId, c.AccessProfileId, compiled, mode, financial,
            c.Lifecycle ?? existing?.Lifecycle ?? AccessLifecycle.Active,
            c.IdentityVerified ?? existing?.IdentityVerified ?? true,
            c.VerificationLevel ?? existing?.VerificationLevel ?? VerificationLevel.PasscodeTime,
            c.DeviceTrust ?? existing?.DeviceTrust ?? DeviceTrustLevel.Dtl3,
            lineage,
            Distinct(ops.Where(o => o.Op == OverlayOpKind.TightenConstraint).Select(o => o.ConstraintRef!)),
            Distinct(ops.Where(o => o.Op == OverlayOpKind.SetEscalationPolicy).Select(o => o.EscalationPolicyRef!)),
            NewInstance: existing is null, c.CompileReason, ctx.ActorUserId, ctx.Now.Value), AccessReasons.AccessInstanceCompiled);
    }

    private static Decision<InstanceCompiled>.Rejected? ActiveVersion(ApProfileState profile, int version, string scope, string profileId)
    {
        if (!profile.Versions.TryGetValue(version, out var v))
            return Invalid(AccessReasons.AccessSchemaRefMissing, $"{scope} profile {profileId} has no version {version}");
        return profile.CurrentVersionId == version ? null
            : Invalid(AccessReasons.AccessProfileNotActive, $"version {version} of {scope} profile {profileId} is {WireNames.Of(v.Lifecycle)}, not the ACTIVE one");
    }

    private static bool IsWildcard(IReadOnlyList<string> list) => list.Count == 1 && list[0] == ProfileDecider.Wildcard;

    /// <summary>Intersection of two allow lists where ["*"] is everything.</summary>
    private static IReadOnlyList<string> Intersect(IReadOnlyList<string> a, IReadOnlyList<string> b) =>
        IsWildcard(a) ? b : IsWildcard(b) ? a : a.Intersect(b, StringComparer.Ordinal).ToArray();

    private static IReadOnlyList<string> Distinct(IEnumerable<string> refs) => refs.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    private static Decision<InstanceCompiled>.Rejected Invalid(ReasonCode reason, string detail) => new(reason, detail);
}
