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
    /// <summary>Make a user a current holder of an ACTIVE position (new in issue 13; the reference has no holder simulation).</summary>
    public const string HolderAssign = "POSITION_HOLDER_ASSIGN_COMMIT";
    /// <summary>End a current holder's holding (new in issue 13).</summary>
    public const string HolderEnd = "POSITION_HOLDER_END_COMMIT";

    /// <summary>
    /// The requested action (and blueprint) of the requirement-schema lifecycle: reference §5.5 runs it inside
    /// ONB_SCHEMA_MANAGE, whose access gate it is (§4.5), apart from the positions' own POSITION_MANAGE.
    /// </summary>
    public const string SchemaManageAction = "ONB_SCHEMA_MANAGE";

    /// <summary>Keys are claimed per (tenant, simulation); each ledger's backstop is (tenant, stream, event type, key).</summary>
    public const string IdempotencyScope = "tenant+simulation_id+key";

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        Record(CompanyUpsert, SimulationType.Commit, "ONB_BIZ_SETUP", AccessMode.A, PositionReasons.CompanyUpserted, PositionReasons.PositionTransitionInvalid),
        Record(CreateDraft, SimulationType.Draft, "POSITION_MANAGE", AccessMode.W,
            PositionReasons.PositionCreated, PositionReasons.PositionDuplicate, PositionReasons.PositionAuthCompanyInvalid),
        Record(ValidateAuthCompany, SimulationType.Draft, "POSITION_MANAGE", AccessMode.R, PositionReasons.PositionValidated, PositionReasons.PositionNotFound),
        Record(BandPolicyCheck, SimulationType.Draft, "POSITION_MANAGE", AccessMode.R, PositionReasons.PositionBandChecked, PositionReasons.PositionNotFound),
        Record(Activate, SimulationType.Commit, "POSITION_MANAGE", AccessMode.A,
            PositionReasons.PositionActivated, PositionReasons.PositionTransitionInvalid, PositionReasons.PositionNotFound),
        Record(RetireOrSuspend, SimulationType.Commit, "POSITION_MANAGE", AccessMode.A,
            PositionReasons.PositionRetiredOrSuspended, PositionReasons.PositionTransitionInvalid, PositionReasons.PositionNotFound),
        Record(SchemaCreateDraft, SimulationType.Draft, SchemaManageAction, AccessMode.W,
            PositionReasons.PositionSchemaDrafted, PositionReasons.PositionSchemaVersionExists, PositionReasons.PositionSchemaScopeInvalid),
        Record(SchemaUpdate, SimulationType.Commit, SchemaManageAction, AccessMode.W,
            PositionReasons.PositionSchemaUpdated, PositionReasons.PositionSchemaVersionNotFound, PositionReasons.PositionSchemaScopeInvalid),
        // A CURRENT_AND_NEW activation needs the actor's APPROVED request for POSITION_SCHEMA_CHANGE where the tenant's
        // approval policy says so (the CAPREQ gate, fulfilled by the activation).
        Record(SchemaActivate, SimulationType.Commit, SchemaManageAction, AccessMode.A,
            PositionReasons.PositionSchemaActivated, PositionReasons.PositionSchemaAlreadyActive, PositionReasons.PositionSchemaVersionNotFound,
            PositionReasons.BackfillLaunchUnconfirmed) with
        {
            RequiredCapability = PositionDecider.SchemaChangeCapability, CapabilityByTenantPolicy = true,
        },
        Record(HolderAssign, SimulationType.Commit, "POSITION_MANAGE", AccessMode.A,
            PositionReasons.HolderAssigned, PositionReasons.PositionTransitionInvalid, PositionReasons.PositionNotFound),
        Record(HolderEnd, SimulationType.Commit, "POSITION_MANAGE", AccessMode.A,
            PositionReasons.HolderEnded, PositionReasons.HolderNotCurrent, PositionReasons.PositionNotFound),
    ];

    /// <summary>The record of one simulation id.</summary>
    public static SimulationRecord Of(string simulationId) => All.Single(r => r.SimulationId == simulationId);

    private static SimulationRecord Record(string id, SimulationType type, string action, AccessMode mode, params ReasonCode[] codes) =>
        new(id, PositionReasons.EngineId, type, SimulationStatus.Active, action, mode, IdempotencyScope, codes);
}
