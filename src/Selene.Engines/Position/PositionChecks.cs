namespace Selene.Engines.Position;

/// <summary>What POSITION_SIM_002 answers.</summary>
public enum ValidationStatus
{
    /// <summary>The move may be asked for.</summary>
    Ok,
    /// <summary>It may not; the reason code says why.</summary>
    Fail,
}

/// <summary>What POSITION_SIM_003 answers (the gate's vocabulary).</summary>
public enum PolicyResult
{
    /// <summary>The band is the position's own.</summary>
    Allow,
    /// <summary>Another band: an approver must agree (AP approval path).</summary>
    Escalate,
    /// <summary>Reserved by the reference; never produced.</summary>
    Deny,
}

/// <summary>The lifecycle moves POSITION_SIM_002 validates.</summary>
public enum RequestedPositionAction
{
    /// <summary>DRAFT or SUSPENDED → ACTIVE.</summary>
    Activate,
    /// <summary>ACTIVE → SUSPENDED.</summary>
    Suspend,
    /// <summary>ACTIVE or SUSPENDED → RETIRED.</summary>
    Retire,
}

/// <summary>
/// The read-only position checks of reference §5.2: company authorization of a lifecycle move
/// (POSITION_SIM_002_VALIDATE_AUTH_COMPANY) and the compensation band policy (POSITION_SIM_003_BAND_POLICY_CHECK).
/// Both answer with a result and a reason code; neither writes anything.
/// </summary>
public static class PositionChecks
{
    /// <summary>OK, or FAIL with why: company not ACTIVE, company mismatch, or a move the lifecycle does not allow.</summary>
    public static (ValidationStatus Status, ReasonCode Reason, string Detail) ValidateAuthCompany(PositionState position, CompanyView? company,
        string companyId, RequestedPositionAction action)
    {
        if (!string.Equals(position.CompanyId, companyId, StringComparison.Ordinal))
            return (ValidationStatus.Fail, PositionReasons.PositionAuthCompanyInvalid, $"the position belongs to company {position.CompanyId}");
        if (company is null || company.Lifecycle != CompanyLifecycle.Active)
            return (ValidationStatus.Fail, PositionReasons.PositionAuthCompanyInvalid, $"company {companyId} is not ACTIVE");
        var legal = action switch
        {
            RequestedPositionAction.Activate => position.Lifecycle is PositionLifecycle.Draft or PositionLifecycle.Suspended,
            RequestedPositionAction.Suspend => position.Lifecycle is PositionLifecycle.Active,
            _ => position.Lifecycle is PositionLifecycle.Active or PositionLifecycle.Suspended,
        };
        return legal
            ? (ValidationStatus.Ok, PositionReasons.PositionValidated, $"{WireNames.Of(action)} is allowed from {WireNames.Of(position.Lifecycle)}")
            : (ValidationStatus.Fail, PositionReasons.PositionTransitionInvalid, $"{WireNames.Of(action)} is not allowed from {WireNames.Of(position.Lifecycle)}");
    }

    /// <summary>ALLOW when the band is the position's own, otherwise ESCALATE (an approver must agree); DENY is reserved.</summary>
    public static (PolicyResult Result, ReasonCode Reason, string Detail) BandPolicy(PositionState position, string compensationBandRef) =>
        string.Equals(position.CompensationBandRef, compensationBandRef, StringComparison.Ordinal)
            ? (PolicyResult.Allow, PositionReasons.PositionBandChecked, "the band is the position's own")
            : (PolicyResult.Escalate, ReasonCodes.AccessApRequired, $"band {compensationBandRef} differs from the position's band: approval required");
}
