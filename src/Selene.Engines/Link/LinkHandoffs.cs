namespace Selene.Engines.Link;

/// <summary>
/// The outbox event types PH1.LINK hands to the orchestrator. LINK never calls ONB: an accepted activation carries
/// <see cref="InviteActivated"/>, and the OS runs ONB_SESSION_START_DRAFT with it (reference §4.5, issue 11 item 2).
/// </summary>
public static class LinkHandoffs
{
    /// <summary>Outbox operation type: each handoff is run as another engine's simulation commit.</summary>
    public const string OperationType = "SIMULATION_COMMIT";

    /// <summary>A link was activated on its device: start the onboarding session with the activation context; keyed by token.</summary>
    public const string InviteActivated = "LINK_INVITE_ACTIVATED";

    /// <summary>The outbox key of an activation's handoff: this prefix and the token id (one per token).</summary>
    public const string ActivatedKeyPrefix = "link_activated:";
}
