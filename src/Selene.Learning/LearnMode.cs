namespace Selene.Learning;

/// <summary>
/// How a tenant's turns use what the loop learned (rollout, reference §10): <see cref="Shadow"/> computes and stores
/// priors and never shows them (the default: a turn's response is byte-identical to no learning at all),
/// <see cref="Guided"/> adds applicable priors to a turn's response as suggestions and journals the consultation,
/// <see cref="Prescriptive"/> also marks the one prior that meets the prescriptive thresholds for pre-flight avoidance.
/// </summary>
public enum LearnMode
{
    Shadow,
    Guided,
    Prescriptive,
}

/// <summary>LEARN_MODE_SET_COMMIT: switch the tenant's mode.</summary>
public sealed record SetLearnMode(LearnMode Mode, string Note);

/// <summary>MODE_SET: the tenant's mode changed from <see cref="Previous"/> to <see cref="Mode"/>.</summary>
public sealed record LearnModeSet(LearnMode Mode, LearnMode Previous, string ActorUserId, string Note, long At);

/// <summary>The tenant's mode (stream <c>TENANT</c> of <c>learn_mode</c>); no row means <see cref="LearnMode.Shadow"/>.</summary>
public sealed record LearnModeState(LearnMode Mode, long Version, string LastActorUserId, string LastNote, long UpdatedAt);

/// <summary>PH1.LEARN's one simulation: the mode switch, COMMIT (always confirmed), requested action LEARN_CONTROL at mode X.</summary>
public static class LearnSimulations
{
    public const string ModeSet = "LEARN_MODE_SET_COMMIT";
    public const string RequestedAction = "LEARN_CONTROL";

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        new(ModeSet, LearnReasons.EngineId, SimulationType.Commit, SimulationStatus.Active, RequestedAction, AccessMode.X, "tenant+simulation_id+key",
            [LearnReasons.LearnModeSet, LearnReasons.LearnModeUnchanged]),
    ];
}

/// <summary>The mode switch, pure.</summary>
public static class LearnModeDecider
{
    /// <summary>The one stream of a tenant's mode.</summary>
    public const string Stream = "TENANT";

    public const int MaxNoteLength = 256;

    public static JsonInputError? Validate(SetLearnMode command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!Enum.IsDefined(command.Mode)) return new JsonInputError(ReasonCodes.InputFieldInvalid, "mode must be SHADOW, GUIDED or PRESCRIPTIVE");
        if (!IdRules.IsBoundedText(command.Note, MaxNoteLength))
            return new JsonInputError(ReasonCodes.InputFieldInvalid, $"note must be 1..{MaxNoteLength} printable characters: say why");
        return null;
    }

    public static Decision<LearnModeSet> Decide(LearnModeState? state, SetLearnMode command, string actorUserId, UnixNanos now)
    {
        if (Validate(command) is { } invalid) return new Decision<LearnModeSet>.Rejected(invalid.Reason, invalid.Detail);
        var current = state?.Mode ?? LearnMode.Shadow;
        if (current == command.Mode)
            return new Decision<LearnModeSet>.Rejected(LearnReasons.LearnModeUnchanged, $"the tenant's learning mode already is {WireNames.Of(current)}");
        return new Decision<LearnModeSet>.Accepted(new LearnModeSet(command.Mode, current, actorUserId, command.Note, now.Value), LearnReasons.LearnModeSet);
    }

    public static LearnModeState Evolve(LearnModeState? state, LearnModeSet e, long eventId) =>
        new(e.Mode, (state?.Version ?? 0) + 1, e.ActorUserId, e.Note, e.At);
}
