namespace Selene.Engines.Onb;

/// <summary>Where a business onboarding stands (reference §4.3 ONB_BIZ_*): the company shell set up, validated (ACTIVE), complete.</summary>
public enum OnbBusinessStatus
{
    /// <summary>The company shell exists in DRAFT.</summary>
    Started,
    /// <summary>The company was validated and is ACTIVE.</summary>
    Validated,
    /// <summary>Business onboarding is complete (terminal).</summary>
    Complete,
}

/// <summary>One business onboarding (one row of <c>onb_business_current</c>; stream = company id, one per company).</summary>
public sealed record OnbBusiness(string TenantId, string CompanyId, OnbBusinessStatus Status, string StartedByUserId, string LastReasonCode, long SourceEventId,
    long CreatedAt, long UpdatedAt);

/// <summary>A business onboarding step (<see cref="Step"/> START, VALIDATE, COMPLETE); the start carries the company shell's name and jurisdiction.</summary>
public sealed record OnbBusinessStepped(string TenantId, string CompanyId, string ActorUserId, string ReasonCode, long At, string Step, OnbBusinessStatus To,
    string? LegalName = null, string? Jurisdiction = null);

/// <summary>A business onboarding command, one per ONB_BIZ_* simulation.</summary>
public abstract record OnbBusinessCommand(string CompanyId);

/// <summary>ONB_BIZ_START_DRAFT: set up the company shell in DRAFT.</summary>
public sealed record StartBusiness(string CompanyId, string LegalName, string Jurisdiction) : OnbBusinessCommand(CompanyId);

/// <summary>ONB_BIZ_VALIDATE_COMPANY_COMMIT: the shell becomes ACTIVE.</summary>
public sealed record ValidateBusinessCompany(string CompanyId) : OnbBusinessCommand(CompanyId);

/// <summary>ONB_BIZ_COMPLETE_COMMIT.</summary>
public sealed record CompleteBusiness(string CompanyId) : OnbBusinessCommand(CompanyId);

/// <summary>
/// Business onboarding, pure (reference §4.3, §4.5 ONB_BIZ_SETUP): company shell DRAFT → ACTIVE → business onboarding
/// COMPLETE. POSITION owns the company: the decider reads its lifecycle (the wire name <see cref="Decide"/> is given,
/// null when there is none) and the runtime writes it through POSITION's company
/// decider; a company that is not where the step needs it is <c>ONB_BIZ_COMPANY_INVALID</c>.
/// </summary>
public static class OnbBusinessDecider
{
    public static Decision<OnbBusinessStepped>.Rejected? Validate(OnbBusinessCommand c) => c switch
    {
        _ when !IdRules.IsValidName(c.CompanyId) => new(OnbReasons.OnbRefuseInvalid, "company_id must be 1..64 of [A-Za-z0-9_.-]"),
        StartBusiness s when !IdRules.IsBoundedText(s.LegalName, 256) || !IdRules.IsBoundedText(s.Jurisdiction, 64) =>
            new(OnbReasons.OnbRefuseInvalid, "legal_name must be 1..256 and jurisdiction 1..64 printable chars"),
        _ => null,
    };

    public static Decision<OnbBusinessStepped> Decide(OnbBusiness? business, OnbBusinessCommand command, string? companyLifecycle, OnbContext ctx)
    {
        if (Validate(command) is { } invalid) return invalid;
        switch (command)
        {
            case StartBusiness s:
                if (business is not null) return Repeat(business, OnbBusinessStatus.Started, OnbReasons.OnbOkBizStart);
                if (companyLifecycle is not null)
                    return Company($"company {s.CompanyId} exists already ({companyLifecycle}): business onboarding sets up a new company");
                return new Decision<OnbBusinessStepped>.Accepted(
                    Step(s, ctx, "START", OnbBusinessStatus.Started, OnbReasons.OnbOkBizStart) with { LegalName = s.LegalName, Jurisdiction = s.Jurisdiction },
                    OnbReasons.OnbOkBizStart);
            case ValidateBusinessCompany v:
                if (business is null) return NotFound(v.CompanyId);
                if (business.Status != OnbBusinessStatus.Started) return Repeat(business, OnbBusinessStatus.Validated, OnbReasons.OnbOkBizValidateCompany);
                if (companyLifecycle != "DRAFT") return Company($"company {v.CompanyId} is {companyLifecycle ?? "missing"}: only a DRAFT shell is validated");
                return new Decision<OnbBusinessStepped>.Accepted(Step(v, ctx, "VALIDATE", OnbBusinessStatus.Validated, OnbReasons.OnbOkBizValidateCompany),
                    OnbReasons.OnbOkBizValidateCompany);
            case CompleteBusiness x:
                if (business is null) return NotFound(x.CompanyId);
                if (business.Status != OnbBusinessStatus.Validated) return Repeat(business, OnbBusinessStatus.Complete, OnbReasons.OnbOkBizComplete);
                if (companyLifecycle != "ACTIVE") return Company($"company {x.CompanyId} is {companyLifecycle ?? "missing"}: business onboarding completes with an ACTIVE company");
                return new Decision<OnbBusinessStepped>.Accepted(Step(x, ctx, "COMPLETE", OnbBusinessStatus.Complete, OnbReasons.OnbOkBizComplete), OnbReasons.OnbOkBizComplete);
            default:
                return new Decision<OnbBusinessStepped>.Rejected(OnbReasons.OnbRefuseInvalid, "not a business onboarding command");
        }
    }

    /// <summary>Folds a step. Rebuild = fold in event id order.</summary>
    public static OnbBusiness Evolve(OnbBusiness? business, OnbBusinessStepped e, long eventId) => (business, e.Step) switch
    {
        (null, "START") => new OnbBusiness(e.TenantId, e.CompanyId, e.To, e.ActorUserId, e.ReasonCode, eventId, e.At, e.At),
        ({ } b, "VALIDATE" or "COMPLETE") => b with { Status = e.To, LastReasonCode = e.ReasonCode, SourceEventId = eventId, UpdatedAt = e.At },
        _ => throw new InvalidOperationException($"ledger event {eventId} ({e.Step}) does not apply to business onboarding {e.CompanyId}"),
    };

    // The step the business has passed already is answered again unchanged; any other order is refused.
    private static Decision<OnbBusinessStepped> Repeat(OnbBusiness b, OnbBusinessStatus reached, ReasonCode ok) =>
        b.Status >= reached
            ? new Decision<OnbBusinessStepped>.Accepted([], ok, [])
            : new Decision<OnbBusinessStepped>.Rejected(OnbReasons.OnbRefuseStateInvalid, $"business onboarding of {b.CompanyId} is {WireNames.Of(b.Status)}");

    private static OnbBusinessStepped Step(OnbBusinessCommand c, OnbContext ctx, string step, OnbBusinessStatus to, ReasonCode reason) =>
        new(ctx.TenantId, c.CompanyId, ctx.ActorUserId, reason.Name, ctx.Now.Value, step, to);

    private static Decision<OnbBusinessStepped>.Rejected Company(string detail) => new(OnbReasons.OnbBizCompanyInvalid, detail);

    private static Decision<OnbBusinessStepped>.Rejected NotFound(string companyId) =>
        new(OnbReasons.OnbRefuseNotFound, $"no business onboarding of company {IdRules.Shorten(companyId)}");
}
