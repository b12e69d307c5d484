namespace Selene.Engines.Position;

/// <summary>The PH1.POSITION simulations (reference §5.3) and the tenant-company upsert, all ACTIVE.</summary>
public static class PositionSimulations
{
    public const string CompanyUpsert = "TENANT_COMPANY_UPSERT_COMMIT";
    public const string CreateDraft = "POSITION_SIM_001_CREATE_DRAFT";
    public const string ValidateAuthCompany = "POSITION_SIM_002_VALIDATE_AUTH_COMPANY";
    public const string BandPolicyCheck = "POSITION_SIM_003_BAND_POLICY_CHECK";
    public const string Activate = "POSITION_SIM_004_ACTIVATE_COMMIT";
    public const string RetireOrSuspend = "POSITION_SIM_005_RETIRE_OR_SUSPEND_COMMIT";
    public const string SchemaCreateDraft = "POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT";
    public const string SchemaUpdate = "POSITION_REQUIREMENTS_SCHEMA_UPDATE_COMMIT";
    public const string SchemaActivate = "POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT";

    /// <summary>Keys are claimed per (tenant, simulation); each ledger's backstop is (tenant, stream, event type, key).</summary>
    public const string IdempotencyScope = "tenant+simulation_id+key";

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        Record(CompanyUpsert, SimulationType.Commit, "ONB_BIZ_SETUP", AccessMode.A, ReasonCodes.CompanyUpserted, ReasonCodes.PositionTransitionInvalid),
        Record(CreateDraft, SimulationType.Draft, "POSITION_MANAGE", AccessMode.W,
            ReasonCodes.PositionCreated, ReasonCodes.PositionDuplicate, ReasonCodes.PositionAuthCompanyInvalid),
        Record(ValidateAuthCompany, SimulationType.Draft, "POSITION_MANAGE", AccessMode.R, ReasonCodes.PositionValidated, ReasonCodes.PositionNotFound),
        Record(BandPolicyCheck, SimulationType.Draft, "POSITION_MANAGE", AccessMode.R, ReasonCodes.PositionBandChecked, ReasonCodes.PositionNotFound),
        Record(Activate, SimulationType.Commit, "POSITION_MANAGE", AccessMode.A,
            ReasonCodes.PositionActivated, ReasonCodes.PositionTransitionInvalid, ReasonCodes.PositionNotFound),
        Record(RetireOrSuspend, SimulationType.Commit, "POSITION_MANAGE", AccessMode.A,
            ReasonCodes.PositionRetiredOrSuspended, ReasonCodes.PositionTransitionInvalid, ReasonCodes.PositionNotFound),
        Record(SchemaCreateDraft, SimulationType.Draft, "POSITION_MANAGE", AccessMode.W,
            ReasonCodes.PositionSchemaDrafted, ReasonCodes.PositionSchemaVersionExists, ReasonCodes.PositionSchemaScopeInvalid),
        Record(SchemaUpdate, SimulationType.Commit, "POSITION_MANAGE", AccessMode.W,
            ReasonCodes.PositionSchemaUpdated, ReasonCodes.PositionSchemaVersionNotFound, ReasonCodes.PositionSchemaScopeInvalid),
        Record(SchemaActivate, SimulationType.Commit, "POSITION_MANAGE", AccessMode.A,
            ReasonCodes.PositionSchemaActivated, ReasonCodes.PositionSchemaAlreadyActive, ReasonCodes.PositionSchemaVersionNotFound),
    ];

    /// <summary>The record of one simulation id.</summary>
    public static SimulationRecord Of(string simulationId) => All.Single(r => r.SimulationId == simulationId);

    private static SimulationRecord Record(string id, SimulationType type, string action, AccessMode mode, params ReasonCode[] codes) =>
        new(id, ReasonCodes.EnginePosition, type, SimulationStatus.Active, action, mode, IdempotencyScope, codes);
}
