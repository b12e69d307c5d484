namespace Selene.Engines.Position;

/// <summary>
/// PH1.POSITION's engine id and reason codes (block 5xxx: 50xx successes, 51xx refusals), company upserts
/// included. Registered through the engine's module; ids are stable once allocated and names are never reused.
/// </summary>
public static class PositionReasons
{
    /// <summary>The journal's engine id for companies, positions and requirement schemas.</summary>
    public const string EngineId = "PH1.POSITION";

    public static readonly ReasonCode PositionCreated = new("POSITION_OK_CREATE_DRAFT", 5001, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionActivated = new("POSITION_OK_ACTIVATE_COMMIT", 5002, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionRetiredOrSuspended = new("POSITION_OK_RETIRE_OR_SUSPEND_COMMIT", 5003, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionSchemaDrafted = new("POSITION_OK_REQUIREMENTS_SCHEMA_CREATE_DRAFT", 5004, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionSchemaUpdated = new("POSITION_OK_REQUIREMENTS_SCHEMA_UPDATE_COMMIT", 5005, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionSchemaActivated = new("POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", 5006, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode CompanyUpserted = new("TENANT_COMPANY_OK_UPSERT", 5007, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionValidated = new("POSITION_OK_VALIDATE_AUTH_COMPANY", 5008, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionBandChecked = new("POSITION_OK_BAND_POLICY_CHECK", 5009, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode HolderAssigned = new("POSITION_OK_HOLDER_ASSIGN_COMMIT", 5010, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode HolderEnded = new("POSITION_OK_HOLDER_END_COMMIT", 5011, EngineId, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode PositionTransitionInvalid = new("POSITION_TRANSITION_INVALID", 5101, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode PositionNotFound = new("POSITION_NOT_FOUND", 5102, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode PositionDuplicate = new("POSITION_DUPLICATE", 5103, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode PositionAuthCompanyInvalid = new("POSITION_AUTH_COMPANY_INVALID", 5104, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode PositionSchemaScopeInvalid = new("POSITION_SCHEMA_SCOPE_INVALID", 5105, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode PositionSchemaVersionNotFound = new("POSITION_SCHEMA_VERSION_NOT_FOUND", 5106, EngineId, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode PositionSchemaVersionExists = new("POSITION_SCHEMA_VERSION_EXISTS", 5107, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode PositionSchemaAlreadyActive = new("POSITION_SCHEMA_ALREADY_ACTIVE", 5108, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The user does not hold the position (now): there is nothing to end.</summary>
    public static readonly ReasonCode HolderNotCurrent = new("POSITION_HOLDER_NOT_CURRENT", 5109, EngineId, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>A CURRENT_AND_NEW activation without its backfill launch acknowledgement (<c>backfill_launch_confirmed</c>): nothing is activated.</summary>
    public static readonly ReasonCode BackfillLaunchUnconfirmed = new("POSITION_BACKFILL_LAUNCH_UNCONFIRMED", 5110, EngineId, Severity.Warn, ReasonKind.Invalid, false);
    /// <summary>Every code above, in id order.</summary>
    public static IReadOnlyList<ReasonCode> All { get; } = ReasonCodeRegistry.DeclaredIn(typeof(PositionReasons));
}
