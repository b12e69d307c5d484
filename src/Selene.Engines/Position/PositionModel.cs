namespace Selene.Engines.Position;

/// <summary>Lifecycle of a position (reference §5.2): DRAFT → ACTIVE → SUSPENDED | RETIRED.</summary>
public enum PositionLifecycle
{
    /// <summary>Created, not yet in use.</summary>
    Draft,
    /// <summary>In use: schemas may be updated and activated.</summary>
    Active,
    /// <summary>Paused; may be activated again or retired.</summary>
    Suspended,
    /// <summary>Ended (terminal).</summary>
    Retired,
}

/// <summary>Lifecycle of a tenant company.</summary>
public enum CompanyLifecycle
{
    /// <summary>Being set up.</summary>
    Draft,
    /// <summary>Positions may be created under it.</summary>
    Active,
    /// <summary>Paused.</summary>
    Suspended,
    /// <summary>Ended.</summary>
    Retired,
}

/// <summary>How a position is worked.</summary>
public enum ScheduleType
{
    /// <summary>Full time.</summary>
    FullTime,
    /// <summary>Part time.</summary>
    PartTime,
    /// <summary>Contract.</summary>
    Contract,
    /// <summary>Shift work.</summary>
    Shift,
}

/// <summary>The type of a requirement field's value.</summary>
public enum FieldType
{
    /// <summary>Text.</summary>
    String,
    /// <summary>Whole number.</summary>
    Integer,
    /// <summary>Decimal number.</summary>
    Decimal,
    /// <summary>Calendar date.</summary>
    Date,
    /// <summary>One of a fixed set.</summary>
    Enum,
    /// <summary>A structured value.</summary>
    Object,
}

/// <summary>When a field is required.</summary>
public enum RequiredRule
{
    /// <summary>Always.</summary>
    Always,
    /// <summary>When its predicate holds for the selectors.</summary>
    Conditional,
}

/// <summary>How sensitive a field's value is.</summary>
public enum Sensitivity
{
    /// <summary>Not sensitive.</summary>
    Safe,
    /// <summary>Personal.</summary>
    Private,
    /// <summary>Confidential.</summary>
    Confidential,
}

/// <summary>How a field may be asked and shown.</summary>
public enum ExposureRule
{
    /// <summary>May be spoken.</summary>
    Speak,
    /// <summary>Text only.</summary>
    TextOnly,
    /// <summary>Never shown to the invitee.</summary>
    InternalOnly,
}

/// <summary>What proves a field's value.</summary>
public enum EvidenceMode
{
    /// <summary>The person's answer.</summary>
    UserAnswer,
    /// <summary>A document (photo evidence and sender confirmation).</summary>
    DocRequired,
    /// <summary>Derived by a tool.</summary>
    ToolDerived,
    /// <summary>An attestation.</summary>
    Attestation,
}

/// <summary>
/// Who a newly activated schema applies to. Stored and shown as NEW_HIRES_ONLY | CURRENT_AND_NEW (the reference's
/// PositionSchemaApplyScope); the seed's tokens NewHiresOnly | CurrentAndNew (cross-engine integration packet) are
/// accepted on input and answered as <c>apply_scope_result</c> (<see cref="ApplyScopes.SeedToken"/>).
/// </summary>
public enum ApplyScope
{
    /// <summary>Only sessions that start after activation.</summary>
    [WireAlias("NewHiresOnly")]
    NewHiresOnly,
    /// <summary>Also current staff: a backfill campaign is handed off.</summary>
    [WireAlias("CurrentAndNew")]
    CurrentAndNew,
}

/// <summary>The seed's spelling of <see cref="ApplyScope"/>.</summary>
public static class ApplyScopes
{
    /// <summary>The seed's token for a scope, as POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT answers <c>apply_scope_result</c>.</summary>
    public static string SeedToken(ApplyScope scope) => scope switch
    {
        ApplyScope.NewHiresOnly => "NewHiresOnly",
        ApplyScope.CurrentAndNew => "CurrentAndNew",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, "not an apply scope"),
    };
}

/// <summary>One requirement field (reference §5.1). Prompts come from here, never from code.</summary>
/// <param name="RequiredPredicateRef">Required exactly when <see cref="RequiredRule"/> is CONDITIONAL.</param>
public sealed record FieldSpec(
    string FieldKey,
    FieldType FieldType,
    RequiredRule RequiredRule,
    Sensitivity Sensitivity,
    ExposureRule ExposureRule,
    EvidenceMode EvidenceMode,
    string PromptShort,
    string PromptLong,
    string? RequiredPredicateRef = null,
    string? ValidationRef = null);

/// <summary>The selector snapshot a schema is written for.</summary>
public sealed record SchemaSelectors(string? CompanySize = null, string? IndustryCode = null, string? Jurisdiction = null, string? PositionFamily = null);

/// <summary>A tenant company as the position engine reads it.</summary>
public sealed record CompanyView(string CompanyId, CompanyLifecycle Lifecycle);

/// <summary>The current row of a tenant company (one stream per company id).</summary>
public sealed record CompanyState(
    string TenantId,
    string CompanyId,
    string LegalName,
    string Jurisdiction,
    CompanyLifecycle Lifecycle,
    long CreatedAt,
    long UpdatedAt);

/// <summary>The current row of a position.</summary>
public sealed record PositionState(
    string TenantId,
    string PositionId,
    string CompanyId,
    string Title,
    string Department,
    string Jurisdiction,
    ScheduleType ScheduleType,
    string PermissionProfileRef,
    string CompensationBandRef,
    PositionLifecycle Lifecycle,
    long CreatedAt,
    long UpdatedAt);

/// <summary>One schema version's content and where it stands.</summary>
public sealed record SchemaVersionState(
    string SchemaVersionId,
    SchemaSelectors Selectors,
    IReadOnlyList<FieldSpec> FieldSpecs,
    bool Activated,
    long LastEventAt);

/// <summary>
/// A position's requirement schemas (one stream per position): every version drafted, and which one is active.
/// The stream is DRAFT until a version is activated, ACTIVE from then on (<see cref="PositionDecider.SchemaStatus"/>).
/// </summary>
public sealed record PositionSchemas(IReadOnlyDictionary<string, SchemaVersionState> Versions, string? ActiveVersionId, ApplyScope? ActiveApplyScope)
{
    public static PositionSchemas Empty { get; } = new(new Dictionary<string, SchemaVersionState>(StringComparer.Ordinal), null, null);
}
