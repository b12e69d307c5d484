namespace Selene.Contracts;

/// <summary>
/// The outcome of a pure decider: either <see cref="Accepted"/> with the events to append (and the outbox
/// handoffs to enqueue), or <see cref="Rejected"/> with a registered reason code. Expected outcomes are values,
/// never exceptions or booleans (CONVENTIONS.md).
/// </summary>
public abstract record Decision<TEvent>
{
    private Decision() { }

    /// <summary>The command is legal: append <paramref name="Events"/> and enqueue <paramref name="Outbox"/>.</summary>
    public sealed record Accepted(IReadOnlyList<TEvent> Events, ReasonCode Reason, IReadOnlyList<OutboxMessage> Outbox)
        : Decision<TEvent>
    {
        public Accepted(TEvent single, ReasonCode reason) : this([single], reason, []) { }
    }

    /// <summary>The command is refused; nothing may change.</summary>
    public sealed record Rejected(ReasonCode Reason, string Detail) : Decision<TEvent>;
}

/// <summary>A handoff for the orchestrator, written to the outbox in the same transaction as its cause.</summary>
/// <param name="OperationType">TOOL_CALL | NOTIFICATION | BROADCAST | WEB_FETCH | SIMULATION_COMMIT (KC.13.2).</param>
/// <param name="IdempotencyKey">Derived deterministically from the causing event, so a retry enqueues nothing new.</param>
/// <param name="EventType">The handoff's name, e.g. POSITION_REQUIREMENTS_ACTIVATED.</param>
/// <param name="Payload">Bounded, immutable payload (canonical JSON once stored).</param>
/// <param name="NotBefore">
/// The earliest time (ns) a worker may run it; null or earlier than the enqueueing turn's time: at once. This is how an
/// engine asks for something at a time (a reminder's due time, the end of a waiting window): the outbox worker is the
/// one due worker, so a timed handoff fires under its lease, once, and survives a restart like any other.
/// </param>
public sealed record OutboxMessage(
    string OperationType,
    string IdempotencyKey,
    string EventType,
    IReadOnlyDictionary<string, string> Payload,
    long? NotBefore = null);
