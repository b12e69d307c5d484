namespace Selene.Engines.Position;

/// <summary>Whether a user holds a position now (CURRENT) or held it once (ENDED; a later assignment makes them CURRENT again).</summary>
public enum HolderStatus
{
    /// <summary>The user holds the position.</summary>
    Current,
    /// <summary>The user's holding ended.</summary>
    Ended,
}

/// <summary>
/// Who holds a position: one row per (tenant, position, user), stream <see cref="HolderDecider.HolderId"/> (the tenant is the row's). A backfill's
/// targets are exactly the rows that are <see cref="HolderStatus.Current"/> when a CURRENT_AND_NEW schema is activated.
/// </summary>
/// <param name="Source">How the holding began: ASSIGN (the governed simulation) or ONBOARDING (an EMPLOYEE onboarding's completion).</param>
public sealed record PositionHolder(
    string TenantId,
    string HolderId,
    string PositionId,
    string UserId,
    HolderStatus Status,
    string Source,
    long AssignedAt,
    long? EndedAt,
    string LastReasonCode,
    long CreatedAt,
    long UpdatedAt);

/// <summary>A holder command: POSITION_HOLDER_ASSIGN_COMMIT or POSITION_HOLDER_END_COMMIT.</summary>
public abstract record HolderCommand(string PositionId, string UserId);

/// <summary>POSITION_HOLDER_ASSIGN_COMMIT; <see cref="Source"/> is ASSIGN, or ONBOARDING when ONB's completion assigns.</summary>
public sealed record AssignHolder(string PositionId, string UserId, string Source = HolderDecider.AssignSource) : HolderCommand(PositionId, UserId);

/// <summary>POSITION_HOLDER_END_COMMIT.</summary>
public sealed record EndHolder(string PositionId, string UserId) : HolderCommand(PositionId, UserId);

/// <summary>A holder's ledger event: the holding began (<see cref="To"/> CURRENT) or ended.</summary>
public sealed record HolderChanged(string TenantId, string HolderId, string PositionId, string UserId, string ActorUserId, string ReasonCode, long At,
    HolderStatus To, string Source);

/// <summary>
/// Position holders, pure. Assigning needs the position ACTIVE; assigning a current holder again is accepted and
/// changes nothing (ONB's completion and a manual assignment may meet); ending needs a current holder.
/// </summary>
public static class HolderDecider
{
    public const string AssignSource = "ASSIGN";
    public const string OnboardingSource = "ONBOARDING";

    /// <summary><c>{position_id}:{user_id}</c>: one stream per holder of a position in the tenant, listed by the position's prefix.</summary>
    public static string HolderId(string positionId, string userId) => positionId + ":" + userId;

    /// <summary>The prefix of every holder id of a position.</summary>
    public static string HolderPrefixOf(string positionId) => positionId + ":";

    /// <summary>Whether <paramref name="id"/> is a holder id of <paramref name="positionId"/>.</summary>
    public static bool IsHolderIdOf(string positionId, string id) =>
        id.StartsWith(HolderPrefixOf(positionId), StringComparison.Ordinal) && IdRules.IsValidName(id[HolderPrefixOf(positionId).Length..]);

    /// <summary>Shape and bounds of a command; null when valid.</summary>
    public static Decision<HolderChanged>.Rejected? Validate(HolderCommand c) => c switch
    {
        _ when !IdRules.IsShortHashId(c.PositionId, "pos_") => new(ReasonCodes.InputFieldInvalid, "position_id must look like pos_<16 hex>"),
        _ when !IdRules.IsValidName(c.UserId) => new(ReasonCodes.InputFieldInvalid, "user_id must be 1..64 of [A-Za-z0-9_.-]"),
        AssignHolder a when a.Source is not (AssignSource or OnboardingSource) => new(ReasonCodes.InputFieldInvalid, "source must be ASSIGN or ONBOARDING"),
        _ => null,
    };

    public static Decision<HolderChanged> Decide(PositionHolder? holder, PositionState? position, HolderCommand command, string tenantId, string actorUserId, UnixNanos now)
    {
        if (Validate(command) is { } invalid) return invalid;
        if (position is null) return new Decision<HolderChanged>.Rejected(PositionReasons.PositionNotFound, "no such position in this tenant");
        var id = HolderId(command.PositionId, command.UserId);
        switch (command)
        {
            case AssignHolder a:
                if (holder is { Status: HolderStatus.Current }) return new Decision<HolderChanged>.Accepted([], PositionReasons.HolderAssigned, []);
                if (position.Lifecycle != PositionLifecycle.Active)
                    return new Decision<HolderChanged>.Rejected(PositionReasons.PositionTransitionInvalid, $"holders are assigned to ACTIVE positions only (this one is {WireNames.Of(position.Lifecycle)})");
                return Accept(new HolderChanged(tenantId, id, a.PositionId, a.UserId, actorUserId, PositionReasons.HolderAssigned.Name, now.Value, HolderStatus.Current, a.Source),
                    PositionReasons.HolderAssigned);
            case EndHolder e:
                if (holder is not { Status: HolderStatus.Current })
                    return new Decision<HolderChanged>.Rejected(PositionReasons.HolderNotCurrent, $"user {IdRules.Shorten(e.UserId)} does not hold this position");
                return Accept(new HolderChanged(tenantId, id, e.PositionId, e.UserId, actorUserId, PositionReasons.HolderEnded.Name, now.Value, HolderStatus.Ended, holder.Source),
                    PositionReasons.HolderEnded);
            default:
                return new Decision<HolderChanged>.Rejected(ReasonCodes.InputSchemaInvalid, "unknown command");
        }
    }

    /// <summary>Folds a holder event. Rebuild = fold in event id order.</summary>
    public static PositionHolder Evolve(PositionHolder? holder, HolderChanged e) => (holder, e.To) switch
    {
        (null, HolderStatus.Current) => new PositionHolder(e.TenantId, e.HolderId, e.PositionId, e.UserId, HolderStatus.Current, e.Source, e.At, null, e.ReasonCode, e.At, e.At),
        ({ Status: HolderStatus.Ended } h, HolderStatus.Current) => h with { Status = HolderStatus.Current, Source = e.Source, AssignedAt = e.At, EndedAt = null, LastReasonCode = e.ReasonCode, UpdatedAt = e.At },
        ({ Status: HolderStatus.Current } h, HolderStatus.Ended) => h with { Status = HolderStatus.Ended, EndedAt = e.At, LastReasonCode = e.ReasonCode, UpdatedAt = e.At },
        _ => throw new InvalidOperationException($"holder event ({WireNames.Of(e.To)}) does not apply to holder {e.HolderId}"),
    };

    private static Decision<HolderChanged>.Accepted Accept(HolderChanged e, ReasonCode reason) => new([e], reason, []);
}
