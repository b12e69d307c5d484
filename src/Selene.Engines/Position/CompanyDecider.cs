namespace Selene.Engines.Position;

/// <summary>Tenant companies (reference §5.1 TenantCompany): upsert with a monotone lifecycle; RETIRED is terminal.</summary>
public static class CompanyDecider
{
    /// <summary>The command's own fields (pure, before any state is read): null when valid, else the input refusal.</summary>
    public static Decision<CompanyWritten>.Rejected? Validate(UpsertCompany command)
    {
        if (!IdRules.IsValidName(command.CompanyId))
            return new Decision<CompanyWritten>.Rejected(ReasonCodes.InputFieldInvalid, "company_id must be 1..64 of [A-Za-z0-9_.-]");
        if (!IdRules.IsBoundedText(command.LegalName, 256))
            return new Decision<CompanyWritten>.Rejected(ReasonCodes.InputFieldInvalid, "legal_name must be 1..256 printable chars");
        if (!IdRules.IsBoundedText(command.Jurisdiction, 64))
            return new Decision<CompanyWritten>.Rejected(ReasonCodes.InputFieldInvalid, "jurisdiction must be 1..64 printable chars");
        return null;
    }

    public static Decision<CompanyWritten> Decide(CompanyState? existing, UpsertCompany command, string tenantId, string actorUserId, UnixNanos now)
    {
        if (Validate(command) is { } invalid) return invalid;
        if (existing is { Lifecycle: CompanyLifecycle.Retired })
            return new Decision<CompanyWritten>.Rejected(PositionReasons.PositionTransitionInvalid, $"company {command.CompanyId} is retired");
        if (existing is not null && command.Lifecycle == CompanyLifecycle.Draft && existing.Lifecycle != CompanyLifecycle.Draft)
            return new Decision<CompanyWritten>.Rejected(PositionReasons.PositionTransitionInvalid, "a company never returns to DRAFT");
        return new Decision<CompanyWritten>.Accepted(
            new CompanyWritten(tenantId, command.CompanyId, command.LegalName, command.Jurisdiction, command.Lifecycle, actorUserId, now.Value),
            PositionReasons.CompanyUpserted);
    }

    /// <summary>Folds an upsert into the company's row: its content replaced, its creation time kept.</summary>
    public static CompanyState Evolve(CompanyState? state, CompanyWritten e) =>
        new(e.TenantId, e.CompanyId, e.LegalName, e.Jurisdiction, e.Lifecycle, state?.CreatedAt ?? e.At, e.At);
}
