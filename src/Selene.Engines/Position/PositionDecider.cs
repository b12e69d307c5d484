using System.Text.RegularExpressions;

namespace Selene.Engines.Position;

/// <summary>What the runtime hands the decider: who, when, and the facts it looked up.</summary>
/// <param name="Company">The company the command names (null when it does not exist).</param>
public sealed record PositionContext(string TenantId, string ActorUserId, UnixNanos Now, string IdempotencyKey, CompanyView? Company);

/// <summary>
/// PH1.POSITION, pure (reference §5.2): the position lifecycle and versioned requirement schemas with one active
/// version per position. Activation with CURRENT_AND_NEW hands off a backfill through the outbox.
/// </summary>
public static partial class PositionDecider
{
    public const string BackfillHandoffEvent = "POSITION_REQUIREMENTS_ACTIVATED";

    /// <summary>
    /// The capability a CURRENT_AND_NEW activation needs an APPROVED request for where the tenant's approval policy says
    /// so (PH1.GOV's GOV_APPROVAL_POLICY_SET_COMMIT; the CAPREQ gate).
    /// </summary>
    public const string SchemaChangeCapability = "POSITION_SCHEMA_CHANGE";

    /// <summary>
    /// The scope that request must name: <c>{position_id}:{schema_version_id}</c>, the version whose activation reaches
    /// current staff. Null for a NEW_HIRES_ONLY activation, which changes only future onboardings and needs no approval.
    /// </summary>
    public static string? SchemaChangeScope(PositionCommand command) =>
        command is ActivateSchema { ApplyScope: ApplyScope.CurrentAndNew } a ? a.PositionId + ":" + a.SchemaVersionId : null;

    /// <summary>
    /// ONB_SCHEMA_MANAGE's extra confirmation (reference §4.5): a CURRENT_AND_NEW activation launches a backfill over
    /// current staff, so it must say so (<c>backfill_launch_confirmed</c>). Checked with the input, before any storage;
    /// kept out of <see cref="Validate"/> so that activations recorded before the confirmation existed still replay.
    /// </summary>
    public static Decision<PositionEvent>.Rejected? LaunchUnconfirmed(PositionCommand command) =>
        command is ActivateSchema { ApplyScope: ApplyScope.CurrentAndNew, BackfillLaunchConfirmed: false }
            ? Invalid(PositionReasons.BackfillLaunchUnconfirmed,
                "a CURRENT_AND_NEW activation asks every current holder for what the version requires: confirm the backfill launch with backfill_launch_confirmed: true")
            : null;
    public const int MaxTitleLength = 128;
    public const int MaxDepartmentLength = 96;
    public const int MaxFieldSpecs = 64;

    /// <summary><c>pos_{short_hash(tenant, company, title, department, jurisdiction)}</c> (reference §5.1).</summary>
    public static string PositionId(string tenantId, string companyId, string title, string department, string jurisdiction) =>
        "pos_" + Hashing.ShortHash(16, tenantId, companyId, title, department, jurisdiction);

    [GeneratedRegex("^(selector\\.)?(company_size|industry_code|jurisdiction|position_family)[=:][A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex PredicatePattern();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex FieldKeyPattern();

    /// <summary>Shape and bounds of a command, before storage is touched; null when valid.</summary>
    public static Decision<PositionEvent>.Rejected? Validate(PositionCommand command) => command switch
    {
        CreatePosition c when !IdRules.IsValidName(c.CompanyId) => Invalid(ReasonCodes.InputFieldInvalid, "company_id must be 1..64 of [A-Za-z0-9_.-]"),
        CreatePosition c when !IdRules.IsBoundedText(c.Title, MaxTitleLength) => Invalid(ReasonCodes.InputFieldInvalid, $"position_title must be 1..{MaxTitleLength} printable chars"),
        CreatePosition c when !IdRules.IsBoundedText(c.Department, MaxDepartmentLength) => Invalid(ReasonCodes.InputFieldInvalid, $"department must be 1..{MaxDepartmentLength} printable chars"),
        CreatePosition c when !IdRules.IsBoundedText(c.Jurisdiction, 64) => Invalid(ReasonCodes.InputFieldInvalid, "jurisdiction must be 1..64 printable chars"),
        CreatePosition c when !IdRules.IsBoundedText(c.PermissionProfileRef, 128) || !IdRules.IsBoundedText(c.CompensationBandRef, 128) =>
            Invalid(ReasonCodes.InputFieldInvalid, "permission_profile_ref and compensation_band_ref must be 1..128 printable chars"),
        RetireOrSuspendPosition r when r.RequestedState is not (PositionLifecycle.Suspended or PositionLifecycle.Retired) =>
            Invalid(ReasonCodes.InputFieldInvalid, "requested_state must be SUSPENDED or RETIRED"),
        CreateSchemaDraft d => ValidateSchema(d.SchemaVersionId, d.FieldSpecs),
        UpdateSchema u when !IdRules.IsBoundedText(u.ChangeReason, 256) => Invalid(ReasonCodes.InputFieldInvalid, "change_reason must be 1..256 printable chars"),
        UpdateSchema u => ValidateSchema(u.SchemaVersionId, u.FieldSpecs),
        ActivateSchema a when !IdRules.IsValidName(a.SchemaVersionId) => Invalid(ReasonCodes.InputFieldInvalid, "schema_version_id must be 1..64 of [A-Za-z0-9_.-]"),
        _ => null,
    };

    private static Decision<PositionEvent>.Rejected? ValidateSchema(string versionId, IReadOnlyList<FieldSpec> specs)
    {
        if (!IdRules.IsValidName(versionId)) return Invalid(ReasonCodes.InputFieldInvalid, "schema_version_id must be 1..64 of [A-Za-z0-9_.-]");
        if (specs.Count is 0 or > MaxFieldSpecs) return Invalid(PositionReasons.PositionSchemaScopeInvalid, $"a schema has 1..{MaxFieldSpecs} field specs");
        if (specs.Select(s => s.FieldKey).Distinct(StringComparer.Ordinal).Count() != specs.Count)
            return Invalid(PositionReasons.PositionSchemaScopeInvalid, "field keys must be unique");
        foreach (var s in specs)
        {
            if (!FieldKeyPattern().IsMatch(s.FieldKey)) return Invalid(PositionReasons.PositionSchemaScopeInvalid, $"field_key '{s.FieldKey}' must be lower_snake, at most 64 chars");
            var conditional = s.RequiredRule == RequiredRule.Conditional;
            if (conditional != (s.RequiredPredicateRef is not null))
                return Invalid(PositionReasons.PositionSchemaScopeInvalid, $"{s.FieldKey}: required_predicate_ref is required exactly when required_rule is CONDITIONAL");
            if (s.RequiredPredicateRef is { } p && !PredicatePattern().IsMatch(p))
                return Invalid(PositionReasons.PositionSchemaScopeInvalid, $"{s.FieldKey}: predicate must be [selector.]key=value or key:value with key company_size|industry_code|jurisdiction|position_family");
            if (!IdRules.IsBoundedText(s.PromptShort, 256) || !IdRules.IsBoundedText(s.PromptLong, 1024))
                return Invalid(PositionReasons.PositionSchemaScopeInvalid, $"{s.FieldKey}: prompt_short is 1..256 and prompt_long 1..1024 printable chars");
            if (s.ValidationRef is not null && !IdRules.IsBoundedText(s.ValidationRef, 128))
                return Invalid(PositionReasons.PositionSchemaScopeInvalid, $"{s.FieldKey}: validation_ref is 1..128 printable chars");
        }
        return null;
    }

    public static Decision<PositionEvent> Decide(PositionState? position, PositionSchemas schemas, PositionCommand command, PositionContext ctx)
    {
        if (Validate(command) is { } invalid) return invalid;
        var at = ctx.Now.Value;
        switch (command)
        {
            case CreatePosition c:
                if (CompanyProblem(ctx.Company, c.CompanyId) is { } companyProblem) return companyProblem;
                // The id is content-addressed: a position with this company, title, department and jurisdiction is this one.
                if (position is not null)
                    return Invalid(PositionReasons.PositionDuplicate, "a position with this company, title, department and jurisdiction exists");
                var id = PositionId(ctx.TenantId, c.CompanyId, c.Title, c.Department, c.Jurisdiction);
                return Accept(new PositionCreated(ctx.TenantId, id, ctx.ActorUserId, at, c.CompanyId, c.Title, c.Department, c.Jurisdiction,
                    c.ScheduleType, c.PermissionProfileRef, c.CompensationBandRef), PositionReasons.PositionCreated);

            case ActivatePosition:
                if (position is null) return NotFound();
                if (position.Lifecycle is not (PositionLifecycle.Draft or PositionLifecycle.Suspended))
                    return Transition(position.Lifecycle, PositionLifecycle.Active);
                if (CompanyProblem(ctx.Company, position.CompanyId) is { } activateCompany) return activateCompany;
                return Accept(new PositionLifecycleChanged(ctx.TenantId, position.PositionId, ctx.ActorUserId, at, position.Lifecycle, PositionLifecycle.Active),
                    PositionReasons.PositionActivated);

            case RetireOrSuspendPosition r:
                if (position is null) return NotFound();
                // ACTIVE|SUSPENDED → SUSPENDED|RETIRED; suspending what is suspended already is not a transition.
                if (position.Lifecycle is not (PositionLifecycle.Active or PositionLifecycle.Suspended) || position.Lifecycle == r.RequestedState)
                    return Transition(position.Lifecycle, r.RequestedState);
                return Accept(new PositionLifecycleChanged(ctx.TenantId, position.PositionId, ctx.ActorUserId, at, position.Lifecycle, r.RequestedState),
                    PositionReasons.PositionRetiredOrSuspended);

            case CreateSchemaDraft d:
                if (position is null) return NotFound();
                if (position.Lifecycle == PositionLifecycle.Retired) return Invalid(PositionReasons.PositionTransitionInvalid, "a retired position takes no new schema");
                if (CompanyProblem(ctx.Company, position.CompanyId, d.CompanyId) is { } draftCompany) return draftCompany;
                if (schemas.Versions.ContainsKey(d.SchemaVersionId))
                    return Invalid(PositionReasons.PositionSchemaVersionExists, $"schema version {d.SchemaVersionId} exists already");
                return Accept(new SchemaVersionWritten(ctx.TenantId, position.PositionId, ctx.ActorUserId, at, d.SchemaVersionId, d.Selectors, d.FieldSpecs, null),
                    PositionReasons.PositionSchemaDrafted);

            case UpdateSchema u:
                if (position is null) return NotFound();
                if (position.Lifecycle != PositionLifecycle.Active) return Invalid(PositionReasons.PositionTransitionInvalid, "schemas are updated on ACTIVE positions only");
                if (CompanyProblem(ctx.Company, position.CompanyId, u.CompanyId) is { } updateCompany) return updateCompany;
                if (!schemas.Versions.TryGetValue(u.SchemaVersionId, out var drafted))
                    return Invalid(PositionReasons.PositionSchemaVersionNotFound, $"no draft of schema version {u.SchemaVersionId}");
                if (drafted.Activated) return Invalid(PositionReasons.PositionTransitionInvalid, $"schema version {u.SchemaVersionId} was activated: draft a new version");
                return Accept(new SchemaVersionWritten(ctx.TenantId, position.PositionId, ctx.ActorUserId, at, u.SchemaVersionId, u.Selectors, u.FieldSpecs, u.ChangeReason),
                    PositionReasons.PositionSchemaUpdated);

            case ActivateSchema a:
                if (position is null) return NotFound();
                if (position.Lifecycle != PositionLifecycle.Active) return Invalid(PositionReasons.PositionTransitionInvalid, "schemas are activated on ACTIVE positions only");
                if (CompanyProblem(ctx.Company, position.CompanyId, a.CompanyId) is { } activateSchemaCompany) return activateSchemaCompany;
                if (!schemas.Versions.ContainsKey(a.SchemaVersionId))
                    return Invalid(PositionReasons.PositionSchemaVersionNotFound, $"no draft of schema version {a.SchemaVersionId}");
                if (schemas.ActiveVersionId == a.SchemaVersionId)
                    return Invalid(PositionReasons.PositionSchemaAlreadyActive, $"schema version {a.SchemaVersionId} is the active one");
                var activated = new SchemaVersionActivated(ctx.TenantId, position.PositionId, ctx.ActorUserId, at, a.SchemaVersionId, a.ApplyScope);
                IReadOnlyList<OutboxMessage> outbox = a.ApplyScope == ApplyScope.CurrentAndNew
                    ? [new OutboxMessage("SIMULATION_COMMIT",
                        "backfill:" + Hashing.ShortHash(32, ctx.TenantId, position.PositionId, a.SchemaVersionId, ctx.IdempotencyKey),
                        BackfillHandoffEvent,
                        new Dictionary<string, string>
                        {
                            ["tenant_id"] = ctx.TenantId,
                            ["company_id"] = position.CompanyId,
                            ["position_id"] = position.PositionId,
                            ["schema_version_id"] = a.SchemaVersionId,
                            ["apply_scope"] = "CURRENT_AND_NEW",
                        })]
                    : [];
                return new Decision<PositionEvent>.Accepted([activated], PositionReasons.PositionSchemaActivated, outbox);

            default:
                return Invalid(ReasonCodes.InputSchemaInvalid, "unknown command");
        }
    }

    /// <summary>Folds a lifecycle event into the position row.</summary>
    public static PositionState Evolve(PositionState? state, PositionEvent e) => (state, e) switch
    {
        (null, PositionCreated c) => new PositionState(c.TenantId, c.PositionId, c.CompanyId, c.Title, c.Department, c.Jurisdiction,
            c.ScheduleType, c.PermissionProfileRef, c.CompensationBandRef, PositionLifecycle.Draft, c.At, c.At),
        ({ } s, PositionLifecycleChanged l) when s.Lifecycle == l.From => s with { Lifecycle = l.To, UpdatedAt = l.At },
        ({ } s, SchemaVersionWritten or SchemaVersionActivated) => s,
        _ => throw new InvalidOperationException($"event {e.GetType().Name} does not apply to position {state?.PositionId ?? "(none)"}"),
    };

    /// <summary>Folds a schema event into the position's schema versions.</summary>
    public static PositionSchemas EvolveSchemas(PositionSchemas schemas, PositionEvent e)
    {
        var versions = new Dictionary<string, SchemaVersionState>(schemas.Versions, StringComparer.Ordinal);
        switch (e)
        {
            case SchemaVersionWritten w:
                versions[w.SchemaVersionId] = new SchemaVersionState(w.SchemaVersionId, w.Selectors, w.FieldSpecs,
                    versions.TryGetValue(w.SchemaVersionId, out var old) && old.Activated, w.At);
                return schemas with { Versions = versions };
            case SchemaVersionActivated a:
                versions[a.SchemaVersionId] = versions[a.SchemaVersionId] with { Activated = true, LastEventAt = a.At };
                return new PositionSchemas(versions, a.SchemaVersionId, a.ApplyScope);
            default:
                return schemas;
        }
    }

    /// <summary>The status of a position's schema stream: ACTIVE once a version is active, DRAFT before.</summary>
    public static string SchemaStatus(PositionSchemas schemas) => schemas.ActiveVersionId is null ? "DRAFT" : "ACTIVE";

    private static Decision<PositionEvent>.Rejected? CompanyProblem(CompanyView? company, string expectedCompanyId, string? namedCompanyId = null)
    {
        if (namedCompanyId is not null && !string.Equals(namedCompanyId, expectedCompanyId, StringComparison.Ordinal))
            return Invalid(PositionReasons.PositionAuthCompanyInvalid, $"company {namedCompanyId} is not the position's company");
        if (company is null || !string.Equals(company.CompanyId, expectedCompanyId, StringComparison.Ordinal))
            return Invalid(PositionReasons.PositionAuthCompanyInvalid, $"company {expectedCompanyId} does not exist");
        return company.Lifecycle == CompanyLifecycle.Active ? null
            : Invalid(PositionReasons.PositionAuthCompanyInvalid, $"company {expectedCompanyId} is not ACTIVE");
    }

    private static Decision<PositionEvent>.Accepted Accept(PositionEvent e, ReasonCode reason) => new([e], reason, []);

    private static Decision<PositionEvent>.Rejected NotFound() => Invalid(PositionReasons.PositionNotFound, "no such position in this tenant");

    private static Decision<PositionEvent>.Rejected Transition(PositionLifecycle from, PositionLifecycle to) =>
        Invalid(PositionReasons.PositionTransitionInvalid, $"a position cannot go from {from} to {to}");

    private static Decision<PositionEvent>.Rejected Invalid(ReasonCode reason, string detail) => new(reason, detail);
}
