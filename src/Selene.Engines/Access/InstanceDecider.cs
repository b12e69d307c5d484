using Selene.Kernel.Access;

namespace Selene.Engines.Access;

/// <summary>Which write produced an access instance's state (the ledger's event_type).</summary>
public enum InstanceEventAction
{
    /// <summary>The tenant's first administrator, written by <c>selene tenant create</c>.</summary>
    BootstrapAdmin,
    /// <summary>ACCESS_INSTANCE_UPSERT_COMMIT.</summary>
    Upsert,
    /// <summary>ACCESS_INSTANCE_COMPILE_COMMIT (with the compiled lineage).</summary>
    Compile,
    /// <summary>A lifecycle change (reserved by the reference; no simulation writes it yet).</summary>
    Lifecycle,
}

/// <summary>
/// One write of a user's access instance (ledger <c>access_instance_ledger</c>, stream = user id): the instance's whole
/// new state. <see cref="BaselinePermissionsJson"/> is canonical JSON (<c>{"allow": [...], "financial_auth": bool}</c>,
/// plus the overlays' refs for a compile).
/// </summary>
public sealed record AccessInstanceWritten(
    string AccessInstanceId,
    string TenantId,
    string UserId,
    InstanceEventAction EventAction,
    string RoleTemplateId,
    AccessMode AccessMode,
    string BaselinePermissionsJson,
    bool IdentityVerified,
    VerificationLevel VerificationLevel,
    DeviceTrustLevel DeviceTrustLevel,
    AccessLifecycle LifecycleState,
    CompiledLineage? Lineage,
    long CreatedAt) : GovernanceEvent;

/// <summary>
/// A user's access instance (a row of <c>access_instance_current</c>, status = lifecycle state): what the gate reads
/// on every turn. <see cref="Lineage"/> is set by a compile and cleared by an upsert.
/// </summary>
public sealed record AccessInstanceState(
    string AccessInstanceId,
    string TenantId,
    string UserId,
    string RoleTemplateId,
    AccessMode AccessMode,
    string BaselinePermissionsJson,
    bool IdentityVerified,
    VerificationLevel VerificationLevel,
    DeviceTrustLevel DeviceTrustLevel,
    AccessLifecycle LifecycleState,
    CompiledLineage? Lineage,
    long CreatedAt,
    long UpdatedAt)
{
    /// <summary>The posture a compile keeps unless told otherwise.</summary>
    public ExistingInstance ToExisting() => new(LifecycleState, IdentityVerified, VerificationLevel, DeviceTrustLevel);
}

/// <summary>ACCESS_INSTANCE_UPSERT_COMMIT: the user's access instance as an administrator sets it (mode null: the role's default).</summary>
public sealed record UpsertInstance(string TargetUserId, string RoleTemplateId, IReadOnlyList<string> Allow, AccessMode? AccessMode, bool FinancialAuth,
    bool IdentityVerified, VerificationLevel VerificationLevel, DeviceTrustLevel DeviceTrustLevel, AccessLifecycle LifecycleState);

/// <summary>
/// What an instance write reads besides the target's state: the acting user's instance and overrides in force (their
/// authority) and the gate's view of the target's current instance (null: none).
/// </summary>
public sealed record InstanceAuthority(AccessInstanceView? Actor, IReadOnlyList<AccessOverrideView> ActorOverrides, AccessInstanceView? Current);

/// <summary>
/// Access instances, pure (reference §7.1): who may write whose instance (<see cref="Governance.CheckInstanceAuthority"/>),
/// the instance each write produces, and the fold. Every write carries the whole new state.
/// </summary>
public static class InstanceDecider
{
    /// <summary>The instance id of a user: content-addressed by tenant and user, so it never changes.</summary>
    public static string AccessInstanceId(string tenantId, string userId) => "ai_" + Hashing.ShortHash(16, tenantId, userId);

    /// <summary>The baseline JSON of an allow-list and financial authorization (plus a compile's refs), canonical.</summary>
    public static string Baseline(IReadOnlyList<string> allow, bool financialAuth, IReadOnlyList<string>? constraintRefs = null,
        IReadOnlyList<string>? escalationPolicyRefs = null)
    {
        var baseline = new SortedDictionary<string, object>(StringComparer.Ordinal) { ["allow"] = allow, ["financial_auth"] = financialAuth };
        if (constraintRefs is not null) baseline["constraint_refs"] = constraintRefs;
        if (escalationPolicyRefs is not null) baseline["escalation_policy_refs"] = escalationPolicyRefs;
        return CanonicalJson.SerializeToString(baseline);
    }

    /// <summary>Decides an administrator's upsert of <paramref name="c"/>.TargetUserId's instance.</summary>
    public static Decision<GovernanceEvent> Upsert(UpsertInstance c, InstanceAuthority facts, GovernanceContext ctx)
    {
        var mode = c.AccessMode ?? Governance.RoleDefaultMode(c.RoleTemplateId);
        if (Governance.CheckInstanceAuthority(ctx.ActorUserId, facts.Actor, facts.ActorOverrides, c.TargetUserId, mode, c.Allow, c.FinancialAuth, ctx.Now,
                facts.Current) is { } refusal)
            return new Decision<GovernanceEvent>.Rejected(refusal.Reason, refusal.Detail);
        var allow = c.Allow.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new Decision<GovernanceEvent>.Accepted(new AccessInstanceWritten(AccessInstanceId(ctx.TenantId, c.TargetUserId), ctx.TenantId, c.TargetUserId,
            InstanceEventAction.Upsert, c.RoleTemplateId, mode, Baseline(allow, c.FinancialAuth), c.IdentityVerified, c.VerificationLevel, c.DeviceTrustLevel,
            c.LifecycleState, null, ctx.Now.Value), AccessReasons.AccessInstanceUpserted);
    }

    /// <summary>
    /// Decides writing a compiled instance (<see cref="CompileDecider"/> produced it): the same limits as an upsert —
    /// nobody compiles their own instance or hands out more than they hold.
    /// </summary>
    public static Decision<GovernanceEvent> Compiled(InstanceCompiled c, ReasonCode reason, InstanceAuthority facts, GovernanceContext ctx)
    {
        if (Governance.CheckInstanceAuthority(ctx.ActorUserId, facts.Actor, facts.ActorOverrides, c.TargetUserId, c.Mode, c.Allow, c.FinancialAuth, ctx.Now,
                facts.Current) is { } refusal)
            return new Decision<GovernanceEvent>.Rejected(refusal.Reason, refusal.Detail);
        return new Decision<GovernanceEvent>.Accepted(new AccessInstanceWritten(AccessInstanceId(c.TenantId, c.TargetUserId), c.TenantId, c.TargetUserId,
            InstanceEventAction.Compile, c.RoleTemplateId, c.Mode, Baseline(c.Allow, c.FinancialAuth, c.ConstraintRefs, c.EscalationPolicyRefs),
            c.IdentityVerified, c.VerificationLevel, c.DeviceTrust, c.Lifecycle, c.Lineage, c.At), reason);
    }

    /// <summary>The tenant's first administrator: full authority (mode X, every action, financial authorization, verified, trusted device).</summary>
    public static AccessInstanceWritten Bootstrap(string tenantId, string adminUserId, string roleTemplateId, UnixNanos now) =>
        new(AccessInstanceId(tenantId, adminUserId), tenantId, adminUserId, InstanceEventAction.BootstrapAdmin, roleTemplateId, AccessMode.X,
            Baseline(["*"], true), true, VerificationLevel.StepUp, DeviceTrustLevel.Dtl4, AccessLifecycle.Active, null, now.Value);

    /// <summary>Folds one write (pure; uses only the event): the instance keeps the time it was first written.</summary>
    public static AccessInstanceState Evolve(AccessInstanceState? state, AccessInstanceWritten e) =>
        new(e.AccessInstanceId, e.TenantId, e.UserId, e.RoleTemplateId, e.AccessMode, e.BaselinePermissionsJson, e.IdentityVerified, e.VerificationLevel,
            e.DeviceTrustLevel, e.LifecycleState, e.Lineage, state?.CreatedAt ?? e.CreatedAt, e.CreatedAt);
}
