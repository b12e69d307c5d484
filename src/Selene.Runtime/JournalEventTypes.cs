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
    /// <summary>An outbox handoff's attempt failed (reason: the failure's code; payload: outbox id, event type, simulation, attempt).</summary>
    public const string OutboxAttemptFailure = "OUTBOX_ATTEMPT_FAILURE";
    /// <summary>PH1.SCHED scheduled the handoff's next attempt (payload: next_attempt_at).</summary>
    public const string OutboxRetryScheduled = "OUTBOX_RETRY_SCHEDULED";
    /// <summary>A handoff was refused for a reason that means "not now": put back without burning an attempt.</summary>
    public const string OutboxAttemptDeferred = "OUTBOX_ATTEMPT_DEFERRED";
    /// <summary>The handoff was given up (reason: PH1.SCHED's, or why it can never run; payload: the last error).</summary>
    public const string OutboxDeadLettered = "OUTBOX_DEAD_LETTERED";
    /// <summary>The handoff's effect committed; written in the same transaction as the effect.</summary>
    public const string OutboxConfirmed = "OUTBOX_CONFIRMED";
    /// <summary>An operator put a DEAD_LETTER handoff back to PENDING (<c>selene outbox retry</c>).</summary>
    public const string OutboxRedriven = "OUTBOX_REDRIVEN";
    /// <summary>A GUIDED or PRESCRIPTIVE turn consulted the learning loop's priors (payload: mode, priors read, offered, prescribed).</summary>
    public const string LearnPriorsConsulted = "LEARN_PRIORS_CONSULTED";
    /// <summary>An ingest pass read the journal into the learning loop's facts (payload: seqs read, facts and quarantined stored).</summary>
    public const string LearnIngested = "LEARN_INGESTED";
    /// <summary>A binder pass folded facts into priors (payload: facts bound, minted, supported, contradicted).</summary>
    public const string LearnBound = "LEARN_BOUND";
}
