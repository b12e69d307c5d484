namespace Selene.Engines.Link;

/// <summary>
/// PH1.LINK's legacy delivery ids (reference §0.3, §1.8). LINK owns invite drafts and tokens only; sending goes through
/// LINK_DELIVER_INVITE (BCAST + DELIVERY). These ids stay in the catalog so that a caller naming them is refused as
/// LEGACY_DO_NOT_WIRE instead of "unknown"; they have no handler and never execute.
/// </summary>
public static class LinkSimulations
{
    /// <summary>The legacy records, all LEGACY_DO_NOT_WIRE.</summary>
    public static IReadOnlyList<SimulationRecord> Legacy { get; } =
    [
        LegacyRecord("LINK_INVITE_SEND_COMMIT"),
        LegacyRecord("LINK_INVITE_RESEND_COMMIT"),
        LegacyRecord("LINK_DELIVERY_FAILURE_HANDLING_COMMIT"),
    ];

    private static SimulationRecord LegacyRecord(string id) =>
        new(id, "PH1.LINK", SimulationType.Commit, SimulationStatus.LegacyDoNotWire, "LINK_INVITE", AccessMode.W, "none", [ReasonCodes.LegacyDoNotWire]);
}
