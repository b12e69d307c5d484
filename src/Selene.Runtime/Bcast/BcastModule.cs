using Selene.Postgres;

namespace Selene.Runtime.Bcast;

/// <summary>TEMPORARY stand-in until the BCAST module lands on main (issue 12); removed at the merge.</summary>
public static class BcastModule
{
    /// <summary>The recipient's wire status, or null. Stand-in: every recipient is REMINDER_SET.</summary>
    public static Task<string?> RecipientStatusAsync(TenantTransaction tx, string broadcastId, string recipientId, CancellationToken ct) =>
        Task.FromResult<string?>("REMINDER_SET");
}
