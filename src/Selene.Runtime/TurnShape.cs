using System.Collections.Immutable;
using Selene.Kernel.Os;

namespace Selene.Runtime;

/// <summary>
/// The caller's part of a turn, read into the gate's types: path, engine sequences, optional plan request, posture,
/// requested moves and outcome rows. The execution dependencies and the six governance decisions are Selene's part,
/// derived by the executor from stored state, and join in <see cref="ToTopLevel"/>.
/// </summary>
internal sealed record TurnShape(
    CorrelationId Correlation,
    TurnId Turn,
    TurnPath Path,
    TurnVoiceContext? Voice,
    ImmutableArray<string> AlwaysOn,
    ImmutableArray<string> Optional,
    byte MaxOptionalInvocations,
    OsTurnPosture Posture,
    OsMoveRequest Move,
    ImmutableArray<OsOutcomeEntry> Outcomes)
{
    /// <summary>The default of max_optional_invocations when the caller names none: the runtime's own budget.</summary>
    public const byte DefaultMaxOptionalInvocations = 8;

    public OsTopLevelInput ToTopLevel(OsExecutionDeps deps, OsGovernanceDecisions governance, bool simulationLegacy) => new()
    {
        Correlation = Correlation,
        Turn = Turn,
        Path = Path,
        Voice = Voice is null ? null : new OsVoiceContext(Voice.Platform, Voice.Trigger),
        AlwaysOnCompletedSequence = AlwaysOn,
        OptionalRequested = Optional,
        MaxOptionalInvocations = MaxOptionalInvocations,
        Posture = Posture,
        Move = Move,
        Governance = governance,
        Deps = deps,
        SimulationLegacyDoNotWire = simulationLegacy,
        Outcomes = Outcomes,
    };

    /// <summary>
    /// Reads the caller's part into the gate's types; inconsistencies the gate does not judge (a move without its
    /// simulation or tool, a repeated move, values the types cannot hold) are INPUT errors (400). List bounds and id
    /// syntax are left to the slice's schema check, which answers PH1_OS_INPUT_SCHEMA_INVALID the same way.
    /// </summary>
    public static bool TryRead(TurnRequest r, CorrelationId correlation, TurnId turn, out TurnShape? shape, out JsonInputError? error)
    {
        shape = null;
        error = null;
        var moves = r.RequestedMoves;
        if (moves.Count != moves.Distinct().Count())
            return Fail(out error, "requested_moves names a move twice");
        var wantsSimulation = moves.Contains(RequestedMove.DispatchSimulation);
        var wantsTool = moves.Contains(RequestedMove.DispatchTool);
        if (wantsSimulation != r.Simulation is not null)
            return Fail(out error, "'simulation' is required exactly when DISPATCH_SIMULATION is requested");
        if (wantsTool != r.Tool is not null)
            return Fail(out error, "'tool' is required exactly when DISPATCH_TOOL is requested");
        if (r.Tool is { } tool && !IdRules.IsValidName(tool.ToolId))
            return Fail(out error, "tool_id must be 1..64 characters of [A-Za-z0-9._:-]");
        if (r.MaxOptionalInvocations is < 0 or > byte.MaxValue)
            return Fail(out error, "max_optional_invocations must be between 0 and 64");

        var outcomes = ImmutableArray.CreateBuilder<OsOutcomeEntry>(r.Outcomes?.Count ?? 0);
        foreach (var o in r.Outcomes ?? [])
        {
            if (!WireNames.TryParse<OsOutcomeActionClass>(o.ActionClass, out var actionClass))
                return Fail(out error, "action_class must be ACT_NOW, QUEUE_LEARN, AUDIT_ONLY or DROP");
            var entryCorrelation = correlation;
            if (o.CorrelationId is not null && !CorrelationId.TryParse(o.CorrelationId, out entryCorrelation))
                return Fail(out error, "an outcome's correlation_id must be a decimal string between 1 and 2^128-1");
            if (o.TurnId is 0 or > long.MaxValue)
                return Fail(out error, "an outcome's turn_id must be between 1 and 2^63-1");
            // Engine ids, names and bounds of the rows are the slice's schema check (step 1), before anything is recorded.
            outcomes.Add(new OsOutcomeEntry(o.EngineId, o.OutcomeType, entryCorrelation, o.TurnId is { } t ? new TurnId(t) : turn, actionClass,
                o.ConsumedBy, o.LatencyCostMs, o.DecisionDelta, o.ReasonCode));
        }

        var p = r.Posture;
        shape = new TurnShape(correlation, turn, r.Path, r.VoiceContext, [.. r.AlwaysOnSequence], [.. r.OptionalRequested ?? []],
            (byte)(r.MaxOptionalInvocations ?? DefaultMaxOptionalInvocations),
            new OsTurnPosture(p.SessionActive, p.TranscriptOk, p.NlpConfidenceHigh, p.RequiresConfirmation, p.ConfirmationReceived, p.PromptPolicyGateOk),
            new OsMoveRequest(
                ChatRequested: moves.Contains(RequestedMove.Respond),
                ClarifyRequired: moves.Contains(RequestedMove.Clarify),
                ClarifyOwnerEngineId: r.ClarifyOwnerEngineId,
                ConfirmRequired: moves.Contains(RequestedMove.Confirm),
                ExplainRequested: moves.Contains(RequestedMove.Explain),
                WaitRequired: moves.Contains(RequestedMove.Wait),
                ToolRequested: wantsTool,
                SimulationRequested: wantsSimulation),
            outcomes.ToImmutable());
        return true;
    }

    private static bool Fail(out JsonInputError? error, string detail)
    {
        error = new JsonInputError(ReasonCodes.OsInputSchemaInvalid, detail);
        return false;
    }
}
