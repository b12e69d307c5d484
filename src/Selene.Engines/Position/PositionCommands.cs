namespace Selene.Engines.Position;

/// <summary>A PH1.POSITION command: one per simulation that changes truth (reference §5.3).</summary>
public abstract record PositionCommand;

/// <summary>POSITION_SIM_001_CREATE_DRAFT.</summary>
public sealed record CreatePosition(
    string CompanyId, string Title, string Department, string Jurisdiction, ScheduleType ScheduleType,
    string PermissionProfileRef, string CompensationBandRef) : PositionCommand;

/// <summary>POSITION_SIM_004_ACTIVATE_COMMIT.</summary>
public sealed record ActivatePosition(string PositionId) : PositionCommand;

/// <summary>POSITION_SIM_005_RETIRE_OR_SUSPEND_COMMIT; <see cref="RequestedState"/> is SUSPENDED or RETIRED.</summary>
public sealed record RetireOrSuspendPosition(string PositionId, PositionLifecycle RequestedState) : PositionCommand;

/// <summary>POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT.</summary>
public sealed record CreateSchemaDraft(string PositionId, string CompanyId, string SchemaVersionId, SchemaSelectors Selectors, IReadOnlyList<FieldSpec> FieldSpecs)
    : PositionCommand;

/// <summary>POSITION_REQUIREMENTS_SCHEMA_UPDATE_COMMIT.</summary>
public sealed record UpdateSchema(string PositionId, string CompanyId, string SchemaVersionId, SchemaSelectors Selectors, IReadOnlyList<FieldSpec> FieldSpecs, string ChangeReason)
    : PositionCommand;

/// <summary>
/// POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT. <see cref="BackfillLaunchConfirmed"/> is ONB_SCHEMA_MANAGE's extra
/// confirmation of a CURRENT_AND_NEW activation (reference §4.5: it launches a backfill campaign over current staff);
/// the module refuses CURRENT_AND_NEW without it before any storage (<see cref="PositionDecider.LaunchUnconfirmed"/>).
/// </summary>
public sealed record ActivateSchema(string PositionId, string CompanyId, string SchemaVersionId, ApplyScope ApplyScope, bool BackfillLaunchConfirmed = false)
    : PositionCommand;

/// <summary>A PH1.POSITION ledger event.</summary>
public abstract record PositionEvent(string TenantId, string PositionId, string ActorUserId, long At);

/// <summary>An event of the position itself (its creation and lifecycle): the position's stream.</summary>
public abstract record PositionLifecycleEvent(string TenantId, string PositionId, string ActorUserId, long At)
    : PositionEvent(TenantId, PositionId, ActorUserId, At);

/// <summary>An event of the position's requirement schemas: their own stream, one per position.</summary>
public abstract record SchemaEvent(string TenantId, string PositionId, string ActorUserId, long At)
    : PositionEvent(TenantId, PositionId, ActorUserId, At);

/// <summary>The position was created as a draft.</summary>
public sealed record PositionCreated(string TenantId, string PositionId, string ActorUserId, long At, string CompanyId, string Title, string Department,
    string Jurisdiction, ScheduleType ScheduleType, string PermissionProfileRef, string CompensationBandRef)
    : PositionLifecycleEvent(TenantId, PositionId, ActorUserId, At);

/// <summary>The position moved from one lifecycle state to another.</summary>
public sealed record PositionLifecycleChanged(string TenantId, string PositionId, string ActorUserId, long At, PositionLifecycle From, PositionLifecycle To)
    : PositionLifecycleEvent(TenantId, PositionId, ActorUserId, At);

/// <summary>A schema version was drafted or its draft updated (<see cref="ChangeReason"/> set on update).</summary>
public sealed record SchemaVersionWritten(string TenantId, string PositionId, string ActorUserId, long At, string SchemaVersionId,
    SchemaSelectors Selectors, IReadOnlyList<FieldSpec> FieldSpecs, string? ChangeReason)
    : SchemaEvent(TenantId, PositionId, ActorUserId, At);

/// <summary>A schema version became the active one.</summary>
public sealed record SchemaVersionActivated(string TenantId, string PositionId, string ActorUserId, long At, string SchemaVersionId, ApplyScope ApplyScope)
    : SchemaEvent(TenantId, PositionId, ActorUserId, At);

/// <summary>TENANT_COMPANY_UPSERT_COMMIT: create a tenant company or change its name, jurisdiction or lifecycle.</summary>
public sealed record UpsertCompany(string CompanyId, string LegalName, string Jurisdiction, CompanyLifecycle Lifecycle);

/// <summary>A company's upsert: its whole content after it (the company's ledger event).</summary>
public sealed record CompanyWritten(string TenantId, string CompanyId, string LegalName, string Jurisdiction, CompanyLifecycle Lifecycle, string ActorUserId, long At);
