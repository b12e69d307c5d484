namespace Selene.Engines.Link;

/// <summary>
/// PH1.LINK's simulations (reference §3.4). The eight of the invite lifecycle are governed by LINK_INVITE (the
/// administrator's) or LINK_OPEN_ACTIVATE (the invitee's opening) as the requested action, at mode W; the start of an
/// invite's delivery and its mark-sent projection (handoff-only) by LINK_DELIVER_INVITE (§3.6). The legacy
/// delivery ids (§0.3, §1.8) stay in the catalog so that a caller naming them is refused as LEGACY_DO_NOT_WIRE instead
/// of "unknown"; they have no handler and never execute: sending goes through LINK_DELIVER_INVITE (BCAST + DELIVERY).
/// </summary>
public static class LinkSimulations
{
    public const string GenerateDraft = "LINK_INVITE_GENERATE_DRAFT";
    public const string DraftUpdateCommit = "LINK_INVITE_DRAFT_UPDATE_COMMIT";
    public const string OpenActivateCommit = "LINK_INVITE_OPEN_ACTIVATE_COMMIT";
    public const string RevokeRevoke = "LINK_INVITE_REVOKE_REVOKE";
    public const string ExpiredRecoveryCommit = "LINK_INVITE_EXPIRED_RECOVERY_COMMIT";
    public const string ForwardBlockCommit = "LINK_INVITE_FORWARD_BLOCK_COMMIT";
    public const string RoleProposeDraft = "LINK_ROLE_PROPOSE_DRAFT";
    public const string DualRoleConflictEscalateDraft = "LINK_INVITE_DUAL_ROLE_CONFLICT_ESCALATE_DRAFT";
    /// <summary>LINK_DELIVER_INVITE's start (reference §3.6): records the request; the OS delivers through BCAST and DELIVERY.</summary>
    public const string DeliverInviteStart = "LINK_DELIVER_INVITE_START_COMMIT";
    /// <summary>The OS's projection after the delivery succeeded (PH1LINK_MARK_SENT_COMMIT_ROW): handoff-only.</summary>
    public const string MarkSentCommit = "LINK_INVITE_MARK_SENT_COMMIT";

    /// <summary>The capability of delivering an invite (the LINK_DELIVER_INVITE blueprint's access gate).</summary>
    public const string DeliverAction = "LINK_DELIVER_INVITE";

    /// <summary>The administrator's capability for invites.</summary>
    public const string InviteAction = "LINK_INVITE";

    /// <summary>The capability of opening an invite on a device.</summary>
    public const string OpenAction = "LINK_OPEN_ACTIVATE";

    public static IReadOnlyList<SimulationRecord> All { get; } =
    [
        Record(GenerateDraft, SimulationType.Draft, InviteAction, "tenant+inviter+payload_hash+key",
            LinkReasons.LinkOkGenerateDraft, LinkReasons.LinkRefuseInvalid, LinkReasons.LinkRefuseNotFound, LinkReasons.LinkSecretKeyUnavailable),
        Record(DraftUpdateCommit, SimulationType.Commit, InviteAction, "draft_id+key",
            LinkReasons.LinkOkDraftUpdateCommit, LinkReasons.LinkRefuseInvalid, LinkReasons.LinkRefuseNotFound, LinkReasons.LinkRefuseStateInvalid),
        Record(OpenActivateCommit, SimulationType.Commit, OpenAction, "token_id+key",
            LinkReasons.LinkOkOpenActivate, LinkReasons.LinkOkForwardBlockCommit, LinkReasons.LinkRefuseInvalid, LinkReasons.LinkRefuseNotFound,
            LinkReasons.LinkTokenExpired, LinkReasons.LinkTokenRevoked, LinkReasons.LinkTokenConsumed),
        Record(RevokeRevoke, SimulationType.Revoke, InviteAction, "token_id",
            LinkReasons.LinkOkRevoke, LinkReasons.LinkRefuseInvalid, LinkReasons.LinkRefuseNotFound, LinkReasons.LinkRefuseStateInvalid,
            LinkReasons.LinkTokenConsumed, LinkReasons.LinkApOverrideRequired),
        Record(ExpiredRecoveryCommit, SimulationType.Commit, InviteAction, "expired_token_id+key",
            LinkReasons.LinkOkExpiredRecoveryCommit, LinkReasons.LinkRefuseInvalid, LinkReasons.LinkRefuseNotFound, LinkReasons.LinkRefuseStateInvalid,
            LinkReasons.LinkTokenRevoked, LinkReasons.LinkTokenConsumed, LinkReasons.LinkSecretKeyUnavailable),
        Record(ForwardBlockCommit, SimulationType.Commit, OpenAction, "token_id+presented_fingerprint_hash",
            LinkReasons.LinkOkForwardBlockCommit, LinkReasons.LinkRefuseInvalid, LinkReasons.LinkRefuseNotFound, LinkReasons.LinkRefuseStateInvalid),
        Record(RoleProposeDraft, SimulationType.Draft, InviteAction, "tenant+requested_role_name+proposal_hash",
            LinkReasons.LinkOkRolePropose, LinkReasons.LinkRefuseInvalid),
        Record(DualRoleConflictEscalateDraft, SimulationType.Draft, InviteAction, "tenant+hint+token+reason_hash",
            LinkReasons.LinkOkDualRoleConflictEscalate, LinkReasons.LinkRefuseInvalid),
        Record(DeliverInviteStart, SimulationType.Commit, DeliverAction, "tenant+simulation_id+key",
            LinkReasons.LinkOkDeliveryRequest, LinkReasons.LinkRefuseInvalid, LinkReasons.LinkRefuseNotFound, LinkReasons.LinkRefuseStateInvalid,
            LinkReasons.LinkTokenExpired, LinkReasons.LinkTokenRevoked, LinkReasons.LinkTokenConsumed),
        Record(MarkSentCommit, SimulationType.Commit, DeliverAction, "tenant+simulation_id+key",
            LinkReasons.LinkOkMarkSent, LinkReasons.LinkRefuseNotFound, LinkReasons.LinkRefuseStateInvalid) with { HandoffOnly = true },
    ];

    /// <summary>The legacy records, all LEGACY_DO_NOT_WIRE.</summary>
    public static IReadOnlyList<SimulationRecord> Legacy { get; } =
    [
        LegacyRecord("LINK_INVITE_SEND_COMMIT"),
        LegacyRecord("LINK_INVITE_RESEND_COMMIT"),
        LegacyRecord("LINK_DELIVERY_FAILURE_HANDLING_COMMIT"),
    ];

    private static SimulationRecord Record(string id, SimulationType type, string action, string scope, params ReasonCode[] reasons) =>
        new(id, LinkReasons.EngineId, type, SimulationStatus.Active, action, AccessMode.W, scope, reasons);

    private static SimulationRecord LegacyRecord(string id) =>
        new(id, LinkReasons.EngineId, SimulationType.Commit, SimulationStatus.LegacyDoNotWire, InviteAction, AccessMode.W, "none", [ReasonCodes.LegacyDoNotWire]);
}
