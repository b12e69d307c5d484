namespace Selene.Runtime;

/// <summary>The journal event types Selene writes (an extensible registry, reference §12.1).</summary>
public static class JournalEventTypes
{
    /// <summary>A simulation changed an engine's state (payload: state_from, state_to and the ledger reference).</summary>
    public const string StateTransition = "STATE_TRANSITION";
    /// <summary>A simulation was refused by its engine; nothing changed.</summary>
    public const string SimulationRefused = "SIMULATION_REFUSED";
    /// <summary>An authenticated request was refused before anything was decided (payload: request, http_status, detail); nothing changed.</summary>
    public const string RequestRefused = "REQUEST_REFUSED";
    /// <summary>An operator rebuilt a projection from its ledger.</summary>
    public const string ProjectionRebuilt = "PROJECTION_REBUILT";
    /// <summary>A read-only check simulation answered (payload: its result and reason); nothing else changed.</summary>
    public const string CheckAnswered = "CHECK_ANSWERED";
    /// <summary>PH1.OS decided one move for a turn (payload: move, fail-closed, first guard failure, the hash of the recorded gate input).</summary>
    public const string TurnDecision = "TURN_DECISION";
    /// <summary>The executor's ACCESS gate decided on a governed request (every decision, ALLOW included).</summary>
    public const string AccessDecision = "ACCESS_DECISION";
    /// <summary>A refused request opened an escalation case for approvers.</summary>
    public const string EscalationCaseOpened = "ACCESS_ESCALATION_CASE_OPENED";
    /// <summary>A PH1.OS utility review ran for one tenant and day (payload: counts per action; the rows carry the run's correlation id).</summary>
    public const string OsUtilityReviewed = "OS_UTILITY_REVIEWED";
}
