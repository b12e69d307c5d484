namespace Selene.Contracts;

/// <summary>How bad an outcome is. Mirrors the PH1.J severity vocabulary (INFO | WARN | ERROR).</summary>
public enum Severity
{
    /// <summary>An expected, successful outcome.</summary>
    Info,
    /// <summary>A refusal: the caller asked for something that is not allowed or not valid now.</summary>
    Warn,
    /// <summary>A failure of Selene or its infrastructure.</summary>
    Error,
}

/// <summary>
/// What kind of outcome a reason code reports. Every code declares its kind, and its HTTP status follows from the
/// kind alone (Selene.Server's <c>Problems.StatusFor</c>, a switch over this enum), so a new code needs no table
/// edit elsewhere and no refusal falls back to a default status. Wire name: UPPER_SNAKE (NOT_FOUND).
/// </summary>
public enum ReasonKind
{
    /// <summary>The request did what was asked (200). Exactly the INFO codes.</summary>
    Success,
    /// <summary>The request is malformed or breaks a rule of its own shape, whatever the stored state (400).</summary>
    Invalid,
    /// <summary>No valid API key came with the request (401).</summary>
    Unauthenticated,
    /// <summary>The caller is known but may not do this: the access gate, a governance gate, another tenant (403).</summary>
    Forbidden,
    /// <summary>What the request names does not exist, or not in the caller's tenant (404).</summary>
    NotFound,
    /// <summary>The route exists, but not for this HTTP method (405).</summary>
    MethodNotAllowed,
    /// <summary>Well-formed and allowed, but the current state does not permit it: an illegal transition, a duplicate (409).</summary>
    Conflict,
    /// <summary>The body exceeds the size limit (413).</summary>
    TooLarge,
    /// <summary>The body's media type is not accepted (415).</summary>
    UnsupportedMediaType,
    /// <summary>A budget is used up: the tenant's or the user's executions of the day (429); it resets the next UTC day.</summary>
    QuotaExceeded,
    /// <summary>Selene cannot serve the request now (database unreachable, gate switched off); later may succeed (503).</summary>
    Unavailable,
    /// <summary>A failure inside Selene: a broken invariant, never the caller's input (500).</summary>
    Internal,
}

/// <summary>
/// One registered reason code (ARCHITECTURE.md law 7). The name is the contract (UPPER_SNAKE, never reused);
/// the numeric id is stable once allocated; <see cref="Engine"/> names the engine that owns the code; <see cref="Kind"/>
/// says what kind of outcome it is (and so its HTTP status).
/// A code is declared as a static field of its owner's code class (<see cref="ReasonCodes"/> for the kernel, an
/// engine's own class in its pure folder) and registered through a <see cref="ReasonCodeRegistry"/>; a test proves
/// that every declared code is registered, so an unregistered code cannot be emitted.
/// </summary>
public sealed record ReasonCode
{
    public ReasonCode(string name, uint id, string engine, Severity severity, ReasonKind kind, bool retryable)
    {
        Name = name;
        Id = id;
        Engine = engine;
        Severity = severity;
        Kind = kind;
        Retryable = retryable;
    }

    public string Name { get; }
    public uint Id { get; }
    public string Engine { get; }
    public Severity Severity { get; }
    public ReasonKind Kind { get; }
    public bool Retryable { get; }

    public override string ToString() => Name;
}

/// <summary>
/// The kernel's reason codes, grouped by owning engine like SQLSTATE classes. Ids are allocated in blocks of 1000
/// per engine (see docs/reason-codes.md): 1xxx edge/API, 2xxx PH1.J, 3xxx PH1.F, 4xxx PH1.OS, 7xxx the PH1.ACCESS
/// gate, 10xxx PH1.WORK (the OS orchestrator: outbox handoffs), 11xxx PH1.LEASE, 12xxx PH1.SCHED (the engines own the rest of their block in their own code classes: 5xxx PH1.POSITION, 6xxx PH1.CAPREQ,
/// 7xxx PH1.ACCESS). Inside a block, x0xx are success codes and x1xx.. are refusals and failures.
/// </summary>
public static class ReasonCodes
{
    public const string EngineApi = "SELENE.API";
    public const string EngineJournal = "PH1.J";
    public const string EngineStorage = "PH1.F";
    public const string EngineAccess = "PH1.ACCESS";
    public const string EngineOs = "PH1.OS";
    public const string EngineWork = "PH1.WORK";
    public const string EngineLease = "PH1.LEASE";
    public const string EngineSched = "PH1.SCHED";
    public const string EngineGov = "PH1.GOV";

    // ---- Edge / API (1xxx) -------------------------------------------------------------------------
    public static readonly ReasonCode HealthOk = new("HEALTH_OK", 1001, EngineApi, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode QueryOk = new("QUERY_OK", 1002, EngineApi, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode InputSchemaInvalid = new("INPUT_SCHEMA_INVALID", 1101, EngineApi, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode InputUnknownField = new("INPUT_UNKNOWN_FIELD", 1102, EngineApi, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode InputFieldInvalid = new("INPUT_FIELD_INVALID", 1103, EngineApi, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode InputPayloadTooLarge = new("INPUT_PAYLOAD_TOO_LARGE", 1104, EngineApi, Severity.Warn, ReasonKind.TooLarge, false);
    public static readonly ReasonCode InputMediaTypeUnsupported = new("INPUT_MEDIA_TYPE_UNSUPPORTED", 1105, EngineApi, Severity.Warn, ReasonKind.UnsupportedMediaType, false);
    public static readonly ReasonCode QueryParameterInvalid = new("QUERY_PARAMETER_INVALID", 1106, EngineApi, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode AuthKeyMissing = new("AUTH_KEY_MISSING", 1111, EngineApi, Severity.Warn, ReasonKind.Unauthenticated, false);
    public static readonly ReasonCode AuthKeyInvalid = new("AUTH_KEY_INVALID", 1112, EngineApi, Severity.Warn, ReasonKind.Unauthenticated, false);
    public static readonly ReasonCode TenantScopeViolation = new("TENANT_SCOPE_VIOLATION", 1113, EngineApi, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode SimulationUnknown = new("SIMULATION_UNKNOWN", 1121, EngineApi, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode SimulationNotActive = new("SIMULATION_NOT_ACTIVE", 1122, EngineApi, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>The simulation runs only as the outbox worker's handoff (<see cref="SimulationRecord.HandoffOnly"/>), never on a caller's request.</summary>
    public static readonly ReasonCode SimulationHandoffOnly = new("SIMULATION_HANDOFF_ONLY", 1123, EngineApi, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode IdempotencyKeyMissing = new("IDEMPOTENCY_KEY_MISSING", 1131, EngineApi, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode IdempotencyKeyInvalid = new("IDEMPOTENCY_KEY_INVALID", 1132, EngineApi, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode IdempotencyKeyReused = new("IDEMPOTENCY_KEY_REUSED", 1133, EngineApi, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode TenantExists = new("TENANT_EXISTS", 1151, EngineApi, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode IdentityUnknown = new("IDENTITY_UNKNOWN", 1152, EngineApi, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode TurnAuthorityInputRejected = new("TURN_AUTHORITY_INPUT_REJECTED", 1161, EngineApi, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode RouteNotFound = new("ROUTE_NOT_FOUND", 1141, EngineApi, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode MethodNotAllowed = new("METHOD_NOT_ALLOWED", 1142, EngineApi, Severity.Warn, ReasonKind.MethodNotAllowed, false);
    /// <summary>The invitee's page made this browser's device id and reloads with it (the first visit of a browser).</summary>
    public static readonly ReasonCode InvitePageDevicePending = new("INVITE_PAGE_DEVICE_PENDING", 1071, EngineApi, Severity.Info, ReasonKind.Success, false);
    /// <summary>A POST to the invitee's page without this browser's device id or the page's form token (a cross-site or stale form): nothing changed.</summary>
    public static readonly ReasonCode InvitePageFormRefused = new("INVITE_PAGE_FORM_REFUSED", 1171, EngineApi, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode InternalError = new("INTERNAL_ERROR", 1901, EngineApi, Severity.Error, ReasonKind.Internal, false);
    public static readonly ReasonCode StorageUnavailable = new("STORAGE_UNAVAILABLE", 1902, EngineApi, Severity.Error, ReasonKind.Unavailable, true);

    // ---- PH1.J audit journal (2xxx) ----------------------------------------------------------------
    public static readonly ReasonCode JournalAppended = new("PH1_J_OK_APPEND", 2001, EngineJournal, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode JournalChainVerified = new("J_CHAIN_VERIFIED", 2002, EngineJournal, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode JournalContractValidationFailed = new("J_CONTRACT_VALIDATION_FAILED", 2101, EngineJournal, Severity.Error, ReasonKind.Internal, false);
    public static readonly ReasonCode JournalAppendOnlyViolation = new("J_APPEND_ONLY_VIOLATION", 2102, EngineJournal, Severity.Error, ReasonKind.Internal, false);
    public static readonly ReasonCode JournalChainBroken = new("J_CHAIN_BROKEN", 2103, EngineJournal, Severity.Error, ReasonKind.Internal, false);
    /// <summary>`selene replay`: every step of the correlation that is decided again reproduced what was recorded.</summary>
    public static readonly ReasonCode JournalReplayReproduced = new("J_REPLAY_REPRODUCED", 2005, EngineJournal, Severity.Info, ReasonKind.Success, false);
    /// <summary>`selene replay`: a step decided again from its recorded inputs gave another outcome, or this version cannot read its record.</summary>
    public static readonly ReasonCode JournalReplayDiverged = new("J_REPLAY_DIVERGED", 2106, EngineJournal, Severity.Error, ReasonKind.Internal, false);
    // 205x/215x: the audited break-glass (issue 15 item 3, docs/breakglass.md). Its chain verifies as J_CHAIN_VERIFIED / J_CHAIN_BROKEN.
    /// <summary>A break-glass window was opened: the login holds selene_breakglass until it closes or expires.</summary>
    public static readonly ReasonCode BreakGlassOpened = new("BREAKGLASS_OPENED", 2051, EngineJournal, Severity.Info, ReasonKind.Success, false);
    /// <summary>A break-glass window was closed by an operator and the role revoked.</summary>
    public static readonly ReasonCode BreakGlassClosed = new("BREAKGLASS_CLOSED", 2052, EngineJournal, Severity.Info, ReasonKind.Success, false);
    /// <summary>A break-glass window that had expired was closed by the sweep (open, close, serve, audit verify) and the role revoked.</summary>
    public static readonly ReasonCode BreakGlassExpired = new("BREAKGLASS_EXPIRED", 2053, EngineJournal, Severity.Info, ReasonKind.Success, false);
    /// <summary>A row of a protected table changed under an open break-glass window; the audit holds its old and new image.</summary>
    public static readonly ReasonCode BreakGlassStatementRecorded = new("BREAKGLASS_STATEMENT_RECORDED", 2054, EngineJournal, Severity.Info, ReasonKind.Success, false);
    /// <summary>The append-only trigger refused a break-glass login whose window has expired (even in a session opened before).</summary>
    public static readonly ReasonCode BreakGlassWindowExpired = new("BREAKGLASS_WINDOW_EXPIRED", 2151, EngineJournal, Severity.Warn, ReasonKind.Forbidden, false);
    /// <summary>The login may not get break-glass: a superuser, a role that can create roles, Selene's own roles or a member of the owner or app role.</summary>
    public static readonly ReasonCode BreakGlassLoginRefused = new("BREAKGLASS_LOGIN_REFUSED", 2152, EngineJournal, Severity.Warn, ReasonKind.Forbidden, false);
    /// <summary>The login already has an open window: close it first (one window per login).</summary>
    public static readonly ReasonCode BreakGlassWindowAlreadyOpen = new("BREAKGLASS_WINDOW_ALREADY_OPEN", 2153, EngineJournal, Severity.Warn, ReasonKind.Conflict, false);
    /// <summary>Nothing to close: no open window (for that login).</summary>
    public static readonly ReasonCode BreakGlassNoOpenWindow = new("BREAKGLASS_NO_OPEN_WINDOW", 2154, EngineJournal, Severity.Warn, ReasonKind.NotFound, false);

    // ---- PH1.F storage foundation (3xxx) -----------------------------------------------------------
    public static readonly ReasonCode StorageIdempotencyReplay = new("F_IDEMPOTENCY_REPLAY", 3001, EngineStorage, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode StorageProjectionRebuilt = new("F_PROJECTION_REBUILT", 3002, EngineStorage, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode StorageAppendOnlyViolation = new("F_APPEND_ONLY_VIOLATION", 3101, EngineStorage, Severity.Error, ReasonKind.Conflict, false);
    public static readonly ReasonCode StorageTenantScopeViolation = new("F_TENANT_SCOPE_VIOLATION", 3102, EngineStorage, Severity.Error, ReasonKind.Forbidden, false);
    public static readonly ReasonCode StorageMigrationChecksumMismatch = new("F_MIGRATION_CHECKSUM_MISMATCH", 3103, EngineStorage, Severity.Error, ReasonKind.Internal, false);
    public static readonly ReasonCode StorageSerializationRetry = new("F_SERIALIZATION_RETRY", 3104, EngineStorage, Severity.Error, ReasonKind.Unavailable, true);
    public static readonly ReasonCode StorageProjectionMismatch = new("F_PROJECTION_MISMATCH", 3105, EngineStorage, Severity.Error, ReasonKind.Internal, false);
    // 306x/316x: the embedded cluster's supervisor in `selene serve` (issue 15 item 5, docs/decisions.md).
    /// <summary>The embedded PostgreSQL had died and the supervisor started it again.</summary>
    public static readonly ReasonCode StorageEmbeddedRestarted = new("F_EMBEDDED_RESTARTED", 3061, EngineStorage, Severity.Info, ReasonKind.Success, false);
    /// <summary>The embedded PostgreSQL's postmaster is gone (its pid file names a dead process): requests get STORAGE_UNAVAILABLE until it is back.</summary>
    public static readonly ReasonCode StorageEmbeddedDied = new("F_EMBEDDED_DIED", 3161, EngineStorage, Severity.Error, ReasonKind.Unavailable, true);
    /// <summary>One restart attempt of the embedded PostgreSQL failed; the supervisor tries again after its backoff.</summary>
    public static readonly ReasonCode StorageEmbeddedRestartFailed = new("F_EMBEDDED_RESTART_FAILED", 3162, EngineStorage, Severity.Error, ReasonKind.Unavailable, true);
    /// <summary>Every restart attempt failed: the supervisor stops and `selene serve` exits, so a service manager (or an operator) takes over.</summary>
    public static readonly ReasonCode StorageEmbeddedRestartGaveUp = new("F_EMBEDDED_RESTART_GAVE_UP", 3163, EngineStorage, Severity.Error, ReasonKind.Unavailable, false);
    // 307x/317x: `selene chaos`, the fault-injection harness (issue 15 item 7, docs/reliability.md). The journal chain and the
    // projections report with J_CHAIN_VERIFIED/J_CHAIN_BROKEN and F_PROJECTION_REBUILT/F_PROJECTION_MISMATCH.
    /// <summary>`selene chaos`: every invariant and every SLO held under the fault profile.</summary>
    public static readonly ReasonCode ChaosPassed = new("F_CHAOS_PASSED", 3071, EngineStorage, Severity.Info, ReasonKind.Success, false);
    /// <summary>`selene chaos`: an execution the server acknowledged (2xx) has no stored result or no ledger effect after the run.</summary>
    public static readonly ReasonCode ChaosAcknowledgedLost = new("F_CHAOS_ACKNOWLEDGED_LOST", 3171, EngineStorage, Severity.Error, ReasonKind.Internal, false);
    /// <summary>`selene chaos`: one idempotency key has ledger effects of more than one execution.</summary>
    public static readonly ReasonCode ChaosEffectDuplicated = new("F_CHAOS_EFFECT_DUPLICATED", 3172, EngineStorage, Severity.Error, ReasonKind.Internal, false);
    /// <summary>`selene chaos`: a request sent again with its idempotency key (or a concurrent copy) was answered with other bytes.</summary>
    public static readonly ReasonCode ChaosReplayDiffers = new("F_CHAOS_REPLAY_DIFFERS", 3173, EngineStorage, Severity.Error, ReasonKind.Internal, false);
    /// <summary>`selene chaos`: outbox handoffs were still due, in flight, failed or dead-lettered when the bounded wait ended.</summary>
    public static readonly ReasonCode ChaosOutboxNotDrained = new("F_CHAOS_OUTBOX_NOT_DRAINED", 3174, EngineStorage, Severity.Error, ReasonKind.Internal, false);
    /// <summary>`selene chaos`: an availability or recovery-time objective was missed (a 5xx other than the retryable 503, a hang, a slow recovery).</summary>
    public static readonly ReasonCode ChaosSloMissed = new("F_CHAOS_SLO_MISSED", 3175, EngineStorage, Severity.Error, ReasonKind.Internal, false);
    /// <summary>`selene chaos`: the harness itself could not run the profile (the server did not start, the load could not be set up).</summary>
    public static readonly ReasonCode ChaosHarnessFailed = new("F_CHAOS_HARNESS_FAILED", 3176, EngineStorage, Severity.Error, ReasonKind.Internal, false);

    // ---- PH1.OS orchestration gate, top-level turn slice, utility review (4xxx) ----------------------
    // 40xx successes; 41xx gate failures (reference §1.3/§1.4, in the order of the seed's hex ids); 419x the
    // engine's failure modes; 42xx the wiring and top-level slice (§1.5/§1.6); 43xx the utility review (§1.7).
    public static readonly ReasonCode OsOkPolicyEvaluate = new("PH1_OS_OK_POLICY_EVALUATE", 4001, EngineOs, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OsOkDecisionCompute = new("PH1_OS_OK_DECISION_COMPUTE", 4002, EngineOs, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OsUtilityReviewOk = new("PH1_OS_OK_UTILITY_REVIEW", 4003, EngineOs, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OsFailSessionGate = new("OS_FAIL_SESSION_GATE", 4110, EngineOs, Severity.Warn, ReasonKind.Conflict, true);
    public static readonly ReasonCode OsFailUnderstandingGate = new("OS_FAIL_UNDERSTANDING_GATE", 4111, EngineOs, Severity.Warn, ReasonKind.Invalid, true);
    public static readonly ReasonCode OsFailConfirmationGate = new("OS_FAIL_CONFIRMATION_GATE", 4112, EngineOs, Severity.Warn, ReasonKind.Conflict, true);
    public static readonly ReasonCode OsFailAccessGate = new("OS_FAIL_ACCESS_GATE", 4113, EngineOs, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode OsFailBlueprintGate = new("OS_FAIL_BLUEPRINT_GATE", 4114, EngineOs, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode OsFailSimulationGate = new("OS_FAIL_SIMULATION_GATE", 4115, EngineOs, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode OsFailIdempotencyGate = new("OS_FAIL_IDEMPOTENCY_GATE", 4116, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsFailLeaseGate = new("OS_FAIL_LEASE_GATE", 4117, EngineOs, Severity.Warn, ReasonKind.Conflict, true);
    public static readonly ReasonCode OsFailOneTurnOneMove = new("OS_FAIL_ONE_TURN_ONE_MOVE", 4118, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsFailOutcomeClassificationGate = new("OS_FAIL_OUTCOME_CLASSIFICATION_GATE", 4119, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsFailOutcomeUnresolvedGate = new("OS_FAIL_OUTCOME_UNRESOLVED_GATE", 4120, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsFailPolicyGate = new("OS_FAIL_POLICY_GATE", 4121, EngineOs, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode OsFailTenantGate = new("OS_FAIL_TENANT_GATE", 4122, EngineOs, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode OsFailGovGate = new("OS_FAIL_GOV_GATE", 4123, EngineOs, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode OsFailQuotaGate = new("OS_FAIL_QUOTA_GATE", 4124, EngineOs, Severity.Warn, ReasonKind.Forbidden, true);
    public static readonly ReasonCode OsFailWorkGate = new("OS_FAIL_WORK_GATE", 4125, EngineOs, Severity.Warn, ReasonKind.Forbidden, true);
    public static readonly ReasonCode OsFailCapreqGate = new("OS_FAIL_CAPREQ_GATE", 4126, EngineOs, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode OsFailGovernanceContradiction = new("OS_FAIL_GOVERNANCE_CONTRADICTION", 4127, EngineOs, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode OsFailPromptPolicyGate = new("OS_FAIL_PROMPT_POLICY_GATE", 4128, EngineOs, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode OsFailOptionalBudgetGate = new("OS_FAIL_OPTIONAL_BUDGET_GATE", 4129, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsFailClarifyOwnerPrecedence = new("OS_FAIL_CLARIFY_OWNER_PRECEDENCE", 4130, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsInputSchemaInvalid = new("PH1_OS_INPUT_SCHEMA_INVALID", 4191, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsUpstreamInputMissing = new("PH1_OS_UPSTREAM_INPUT_MISSING", 4192, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsBudgetExceeded = new("PH1_OS_BUDGET_EXCEEDED", 4193, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsInternalPipelineError = new("PH1_OS_INTERNAL_PIPELINE_ERROR", 4194, EngineOs, Severity.Error, ReasonKind.Internal, true);
    public static readonly ReasonCode OsNotInvokedDisabled = new("PH1_OS_NOT_INVOKED_DISABLED", 4195, EngineOs, Severity.Warn, ReasonKind.Unavailable, true);
    public static readonly ReasonCode OsValidationFailed = new("PH1_OS_VALIDATION_FAILED", 4201, EngineOs, Severity.Error, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsToplevelSequenceInvalid = new("PH1_OS_TOPLEVEL_SEQUENCE_INVALID", 4211, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsToplevelUnknownOptionalEngine = new("PH1_OS_TOPLEVEL_UNKNOWN_OPTIONAL_ENGINE", 4212, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsToplevelOptionalBudgetInvalid = new("PH1_OS_TOPLEVEL_OPTIONAL_BUDGET_INVALID", 4213, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsToplevelRuntimeBoundaryViolation = new("PH1_OS_TOPLEVEL_RUNTIME_BOUNDARY_VIOLATION", 4214, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsToplevelClarifyOwnerInvalid = new("PH1_OS_TOPLEVEL_CLARIFY_OWNER_INVALID", 4215, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsToplevelOptionalPolicyBlock = new("PH1_OS_TOPLEVEL_OPTIONAL_POLICY_BLOCK", 4216, EngineOs, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode LegacyDoNotWire = new("LEGACY_DO_NOT_WIRE", 4221, EngineOs, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode OsUtilityEngineNotOptional = new("PH1_OS_UTILITY_ENGINE_NOT_OPTIONAL", 4301, EngineOs, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode OsUtilityNoOutcomes = new("PH1_OS_UTILITY_NO_OUTCOMES", 4302, EngineOs, Severity.Warn, ReasonKind.NotFound, false);

    // ---- PH1.ACCESS access gate (7xxx; the engine's own codes are Selene.Engines.Access.AccessReasons) ----
    public static readonly ReasonCode AccessAllowed = new("ACCESS_ALLOWED", 7001, EngineAccess, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode AccessDenied = new("ACCESS_DENIED", 7101, EngineAccess, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessEscalateRequired = new("ACCESS_ESCALATE_REQUIRED", 7102, EngineAccess, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessInstanceMissing = new("ACCESS_INSTANCE_MISSING", 7103, EngineAccess, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode AccessScopeMismatch = new("ACCESS_SCOPE_MISMATCH", 7104, EngineAccess, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessApRequired = new("ACCESS_AP_REQUIRED", 7105, EngineAccess, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessSensitiveDeny = new("ACCESS_SENSITIVE_DENY", 7106, EngineAccess, Severity.Warn, ReasonKind.Forbidden, false);
    public static readonly ReasonCode AccessDeviceUntrusted = new("ACCESS_DEVICE_UNTRUSTED", 7107, EngineAccess, Severity.Warn, ReasonKind.Forbidden, false);

    // ---- PH1.WORK the OS orchestrator: outbox handoffs run by the worker (10xxx; reference §11, §13.1) ----------
    public static readonly ReasonCode OutboxHandoffConfirmed = new("OUTBOX_HANDOFF_CONFIRMED", 10001, EngineWork, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode OutboxRedriven = new("OUTBOX_REDRIVEN", 10002, EngineWork, Severity.Info, ReasonKind.Success, false);
    // Not yet: the attempt is put back without being counted (a switch that refuses every dispatch for a while).
    public static readonly ReasonCode OutboxAttemptDeferred = new("OUTBOX_ATTEMPT_DEFERRED", 10003, EngineWork, Severity.Info, ReasonKind.Success, false);
    // A row written before migration 0017 names no actor to run as: it is dead-lettered, never run as anyone.
    public static readonly ReasonCode OutboxHandoffActorMissing = new("OUTBOX_HANDOFF_ACTOR_MISSING", 10101, EngineWork, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode OutboxRowNotFound = new("OUTBOX_ROW_NOT_FOUND", 10102, EngineWork, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode OutboxRedriveStateInvalid = new("OUTBOX_REDRIVE_STATE_INVALID", 10103, EngineWork, Severity.Warn, ReasonKind.Conflict, false);
    // Work orders (reference §11.1-11.2): a blueprint run, field by field, confirmed, then step by step.
    public static readonly ReasonCode WorkOrderCreated = new("WORK_OK_CREATED", 10011, EngineWork, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode WorkFieldSet = new("WORK_OK_FIELD_SET", 10012, EngineWork, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode WorkOrderConfirmed = new("WORK_OK_CONFIRMED", 10013, EngineWork, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode WorkOrderCanceled = new("WORK_OK_CANCELED", 10014, EngineWork, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode WorkStepFinished = new("WORK_OK_STEP_FINISHED", 10015, EngineWork, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode WorkOrderDone = new("WORK_OK_DONE", 10016, EngineWork, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode WorkOrderExists = new("WORK_ORDER_EXISTS", 10111, EngineWork, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode WorkBlueprintUnknown = new("WORK_BLUEPRINT_UNKNOWN", 10112, EngineWork, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode WorkFieldUnknown = new("WORK_FIELD_UNKNOWN", 10113, EngineWork, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode WorkOrderNotFound = new("WORK_ORDER_NOT_FOUND", 10114, EngineWork, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode WorkOrderClosed = new("WORK_ORDER_CLOSED", 10115, EngineWork, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode WorkTransitionInvalid = new("WORK_TRANSITION_INVALID", 10116, EngineWork, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode WorkFieldUnchanged = new("WORK_FIELD_UNCHANGED", 10117, EngineWork, Severity.Warn, ReasonKind.Conflict, false);

    // ---- PH1.LEASE single-executor ownership of a work order (11xxx; reference §11.3) -------------------
    public static readonly ReasonCode LeaseAcquired = new("LEASE_ACQUIRED", 11001, EngineLease, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode LeaseRenewed = new("LEASE_RENEWED", 11002, EngineLease, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode LeaseReleased = new("LEASE_RELEASED", 11003, EngineLease, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode LeaseInputInvalid = new("LEASE_INPUT_INVALID", 11101, EngineLease, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode LeaseTtlOutOfBounds = new("LEASE_TTL_OUT_OF_BOUNDS", 11102, EngineLease, Severity.Warn, ReasonKind.Invalid, false);
    // Held by another executor until it expires or is released: asking again later may succeed.
    public static readonly ReasonCode LeaseHeldByOther = new("LEASE_HELD_BY_OTHER", 11103, EngineLease, Severity.Warn, ReasonKind.Conflict, true);
    public static readonly ReasonCode LeaseNotFound = new("LEASE_NOT_FOUND", 11104, EngineLease, Severity.Warn, ReasonKind.NotFound, false);
    public static readonly ReasonCode LeaseTokenInvalid = new("LEASE_TOKEN_INVALID", 11105, EngineLease, Severity.Warn, ReasonKind.Conflict, false);

    // ---- PH1.SCHED step retry / wait / fail (12xxx; reference §11.4) -------------------------------------
    // A FAIL or WAIT is a decision about a failed step, not an error of the caller: the codes say why the step
    // does not run again now. None is retryable: retrying is what the decision itself schedules.
    public static readonly ReasonCode SchedRetryScheduled = new("SCHED_RETRY_SCHEDULED", 12001, EngineSched, Severity.Info, ReasonKind.Success, false);
    public static readonly ReasonCode SchedInputInvalid = new("SCHED_INPUT_INVALID", 12101, EngineSched, Severity.Warn, ReasonKind.Invalid, false);
    public static readonly ReasonCode SchedTimeout = new("SCHED_TIMEOUT", 12102, EngineSched, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode SchedMaxRetriesReached = new("SCHED_MAX_RETRIES_REACHED", 12103, EngineSched, Severity.Warn, ReasonKind.Conflict, false);
    public static readonly ReasonCode SchedNotRetryable = new("SCHED_NOT_RETRYABLE", 12104, EngineSched, Severity.Warn, ReasonKind.Conflict, false);


    // ---- PH1.GOV governance gate inputs (13xxx): why the gov, quota or CAPREQ gate refused a turn ----------
    // The gate answers OS_FAIL_GOV_GATE / OS_FAIL_QUOTA_GATE / OS_FAIL_CAPREQ_GATE; these name the cause (the turn's
    // cause_reason_code, and a direct call's answer). The switches and quotas lift without the caller's doing anything
    // different, so they are retryable; a missing approval needs a person.
    public static readonly ReasonCode GovKillSwitchActive = new("GOV_KILL_SWITCH_ACTIVE", 13101, EngineGov, Severity.Warn, ReasonKind.Conflict, true);
    public static readonly ReasonCode GovSafeModeActive = new("GOV_SAFE_MODE_ACTIVE", 13102, EngineGov, Severity.Warn, ReasonKind.Conflict, true);
    public static readonly ReasonCode QuotaTenantDailyExceeded = new("QUOTA_TENANT_DAILY_EXCEEDED", 13103, EngineGov, Severity.Warn, ReasonKind.QuotaExceeded, true);
    public static readonly ReasonCode QuotaUserDailyExceeded = new("QUOTA_USER_DAILY_EXCEEDED", 13104, EngineGov, Severity.Warn, ReasonKind.QuotaExceeded, true);
    public static readonly ReasonCode GovCapreqApprovalMissing = new("GOV_CAPREQ_APPROVAL_MISSING", 13105, EngineGov, Severity.Warn, ReasonKind.Forbidden, false);

    /// <summary>
    /// The kernel's codes (edge/API, PH1.J, PH1.F, PH1.OS, the PH1.ACCESS gate's, PH1.WORK, PH1.LEASE, PH1.SCHED and the PH1.GOV gate inputs): every field of this class.
    /// Engine codes live with their engines; the process's full registry is the kernel's extended by every engine
    /// module's (Selene.Runtime's <c>EngineModules.Reasons</c>).
    /// </summary>
    public static ReasonCodeRegistry Kernel { get; } = new(ReasonCodeRegistry.DeclaredIn(typeof(ReasonCodes)));
}
