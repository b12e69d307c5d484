namespace Selene.Engines.Tests;

/// <summary>Shared inputs: one tenant, a requester and an approver, a fixed clock.</summary>
internal static class CapreqFixture
{
    public const string Tenant = "tenant-a";
    public const string Requester = "alice";
    public const string Approver = "bob";
    public const string Capability = "payroll.export";
    public const string Scope = "org:acme/dept:finance";
    public const string Justification = "Quarter-end reconciliation needs the payroll export.";

    public static readonly UnixNanos Now = new(1_750_000_000_000_000_000);

    public static CapreqContext Context(string actor = Requester, string tenant = Tenant, UnixNanos? now = null) =>
        new(tenant, actor, now ?? Now);

    /// <summary>Who performs an action: the approver approves, rejects and fulfils; the requester does the rest.</summary>
    public static CapreqContext ContextFor(CapreqAction action) =>
        Context(action is CapreqAction.Approve or CapreqAction.Reject or CapreqAction.Fulfill ? Approver : Requester);

    public static CreateCapreqDraft Draft() => new(Capability, Scope, Justification);

    public static string CapreqId(string tenant = Tenant) => CapreqIds.Derive(tenant, Capability, Scope, Justification);

    public static CapreqCommand Command(CapreqAction action, string? reference = "ref-1") => action == CapreqAction.CreateDraft
        ? Draft()
        : new CapreqTransition(action, CapreqId(), reference);

    /// <summary>The row of <see cref="CapreqId"/> as it stands in <paramref name="status"/>, created by the requester.</summary>
    public static CapreqState State(CapreqStatus status, string requester = Requester) =>
        new(Tenant, CapreqId(), requester, Capability, Scope, Justification, status, CapreqAction.CreateDraft, requester,
            "capreq_payload_0000000000000000", 7, "CAPREQ_OK_CREATE_DRAFT", Now.Value - 1000, Now.Value - 1000);

    public static Decision<CapreqEvent>.Accepted Accepted(Decision<CapreqEvent> decision) =>
        Assert.IsType<Decision<CapreqEvent>.Accepted>(decision);

    public static Decision<CapreqEvent>.Rejected Rejected(Decision<CapreqEvent> decision) =>
        Assert.IsType<Decision<CapreqEvent>.Rejected>(decision);

    public static CapreqEvent SingleEvent(Decision<CapreqEvent> decision) => Assert.Single(Accepted(decision).Events);
}
