using System.Globalization;
using System.Text;

namespace Selene.Kernel.Lease;

/// <summary>What an executor asks of PH1.LEASE (reference §11.3).</summary>
public enum LeaseOperation
{
    /// <summary>Take the work order's lease: granted when there is none, it expired, or the caller already holds it.</summary>
    Acquire,
    /// <summary>Extend the caller's live lease: its owner and token must match.</summary>
    Renew,
    /// <summary>Give the caller's live lease up: its owner and token must match.</summary>
    Release,
}

/// <summary>
/// The work order's ACTIVE lease as stored (owner, token, expiry). A lease is live while now &lt; <see cref="ExpiresAtMs"/>;
/// from <see cref="ExpiresAtMs"/> on it has expired (the instant of expiry belongs to the next holder).
/// </summary>
public sealed record ActiveLease(string OwnerId, string Token, long ExpiresAtMs);

/// <summary>
/// PH1.LEASE's input (reference §11.3). Times are unix epoch milliseconds; the caller passes <see cref="NowMs"/>.
/// </summary>
/// <param name="RequestedTtlMs">1..<see cref="LeaseDecider.MaxTtlMs"/> for ACQUIRE and RENEW; not used by RELEASE.</param>
/// <param name="LeaseToken">The caller's token: needed to RENEW or RELEASE, ignored by ACQUIRE.</param>
/// <param name="Active">The stored ACTIVE lease of the work order, expired or not; null when there is none.</param>
public sealed record LeaseInput(
    string TenantId,
    string WorkOrderId,
    string LeaseOwnerId,
    LeaseOperation Operation,
    long RequestedTtlMs,
    long NowMs,
    string? LeaseToken,
    ActiveLease? Active);

/// <summary>Who holds the lease that a denial refers to: never its token.</summary>
public sealed record LeaseHolder(string OwnerId, long ExpiresAtMs);

/// <summary>The outcome of <see cref="LeaseDecider.Decide(LeaseInput)"/>: granted, denied, or a reason-coded invalid input.</summary>
public abstract record LeaseOutcome
{
    private LeaseOutcome() { }

    /// <summary>
    /// The operation is granted. ACQUIRE and RENEW: a new <see cref="Token"/> valid until <see cref="ExpiresAtMs"/> =
    /// now + ttl. RELEASE: <see cref="Token"/> is null and <see cref="ExpiresAtMs"/> = now (the lease ends).
    /// <see cref="ResumeFromLedgerRequired"/> is true exactly when an ACQUIRE took over an expired lease: the new holder
    /// resumes from the persisted ledger, never from anyone's memory.
    /// </summary>
    public sealed record Granted(string? Token, long ExpiresAtMs, bool ResumeFromLedgerRequired, ReasonCode Reason) : LeaseOutcome;

    /// <summary>
    /// The operation is refused: LEASE_TTL_OUT_OF_BOUNDS, LEASE_NOT_FOUND, LEASE_HELD_BY_OTHER or LEASE_TOKEN_INVALID.
    /// <see cref="Holder"/> is the live lease's holder, null when there is no live lease.
    /// </summary>
    public sealed record Denied(ReasonCode Reason, LeaseHolder? Holder) : LeaseOutcome;

    /// <summary>The input is malformed (ids, times, the snapshot): LEASE_INPUT_INVALID with what was wrong.</summary>
    public sealed record Invalid(ReasonCode Reason, string Detail) : LeaseOutcome;
}

/// <summary>
/// PH1.LEASE, single-executor ownership of a work order (reference §11.3). Pure and deterministic: no clock, no
/// randomness; the token is a hash of (tenant | work order | owner | now | ttl). At most one live holder: a grant
/// to an owner other than the live holder is impossible. Checks in order: input shape, ttl bounds (ACQUIRE/RENEW),
/// then the operation's eligibility.
/// </summary>
public static class LeaseDecider
{
    /// <summary>The longest lease (reference §11.3: requested_ttl_ms 1..300000).</summary>
    public const long MaxTtlMs = 300_000;

    /// <summary>Ids and tokens are 1..128 printable characters.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Decides <paramref name="input"/>'s operation.</summary>
    public static LeaseOutcome Decide(LeaseInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Validate(input) is { } invalid) return new LeaseOutcome.Invalid(ReasonCodes.LeaseInputInvalid, invalid);
        if (input.Operation != LeaseOperation.Release && input.RequestedTtlMs is < 1 or > MaxTtlMs)
            return new LeaseOutcome.Denied(ReasonCodes.LeaseTtlOutOfBounds, HolderOf(input));

        var active = input.Active;
        var live = active is not null && input.NowMs < active.ExpiresAtMs;
        if (input.Operation == LeaseOperation.Acquire)
        {
            if (live && !string.Equals(active!.OwnerId, input.LeaseOwnerId, StringComparison.Ordinal))
                return new LeaseOutcome.Denied(ReasonCodes.LeaseHeldByOther, HolderOf(input));
            // Over an expired lease the previous holder may have stopped anywhere: only the ledger knows.
            return Grant(input, resumeFromLedger: active is not null && !live, ReasonCodes.LeaseAcquired);
        }

        if (!live) return new LeaseOutcome.Denied(ReasonCodes.LeaseNotFound, null);
        if (!string.Equals(active!.OwnerId, input.LeaseOwnerId, StringComparison.Ordinal))
            return new LeaseOutcome.Denied(ReasonCodes.LeaseHeldByOther, HolderOf(input));
        if (!string.Equals(active.Token, input.LeaseToken, StringComparison.Ordinal))
            return new LeaseOutcome.Denied(ReasonCodes.LeaseTokenInvalid, HolderOf(input));
        return input.Operation == LeaseOperation.Renew
            ? Grant(input, resumeFromLedger: false, ReasonCodes.LeaseRenewed)
            : new LeaseOutcome.Granted(null, input.NowMs, false, ReasonCodes.LeaseReleased);
    }

    /// <summary>Null when <paramref name="input"/> is well-formed, else the first rule it breaks (the ttl is checked by <see cref="Decide"/>).</summary>
    public static string? Validate(LeaseInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!Selene.Contracts.TenantId.IsValid(input.TenantId)) return "tenant_id is not a valid tenant id";
        if (!IdRules.IsBoundedText(input.WorkOrderId, MaxIdLength)) return "work_order_id is 1..128 printable characters";
        if (!IdRules.IsBoundedText(input.LeaseOwnerId, MaxIdLength)) return "lease_owner_id is 1..128 printable characters";
        if (!Enum.IsDefined(input.Operation)) return "operation is ACQUIRE, RENEW or RELEASE";
        // now + ttl must fit a long, whatever ttl was asked for.
        if (input.NowMs is < 0 or > long.MaxValue - MaxTtlMs) return "now is a unix time in milliseconds, ≥ 0 and in range";
        if (input.LeaseToken is not null && !IdRules.IsBoundedText(input.LeaseToken, MaxIdLength)) return "lease_token is 1..128 printable characters when present";
        if (input.Active is { } a)
        {
            if (!IdRules.IsBoundedText(a.OwnerId, MaxIdLength)) return "the active lease's owner is 1..128 printable characters";
            if (!IdRules.IsBoundedText(a.Token, MaxIdLength)) return "the active lease's token is 1..128 printable characters";
            if (a.ExpiresAtMs < 0) return "the active lease's expires_at is a unix time in milliseconds, ≥ 0";
        }
        return null;
    }

    /// <summary>
    /// The lease token: <c>lease_</c> and 16 lowercase hex digits of FNV-1a-64 over the UTF-8 bytes of
    /// "tenant|work_order|owner|now|ttl" (decimal numbers). Deterministic across processes and runs.
    /// </summary>
    public static string Token(string tenantId, string workOrderId, string ownerId, long nowMs, long ttlMs)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        ArgumentNullException.ThrowIfNull(workOrderId);
        ArgumentNullException.ThrowIfNull(ownerId);
        var text = string.Join('|', tenantId, workOrderId, ownerId,
            nowMs.ToString(CultureInfo.InvariantCulture), ttlMs.ToString(CultureInfo.InvariantCulture));
        return "lease_" + Fnv1a64(Encoding.UTF8.GetBytes(text)).ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> bytes)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var b in bytes)
        {
            // The multiplication wraps by definition of FNV; this project checks arithmetic otherwise.
            hash = unchecked((hash ^ b) * 0x100000001b3UL);
        }
        return hash;
    }

    private static LeaseOutcome.Granted Grant(LeaseInput input, bool resumeFromLedger, ReasonCode reason) =>
        new(Token(input.TenantId, input.WorkOrderId, input.LeaseOwnerId, input.NowMs, input.RequestedTtlMs),
            input.NowMs + input.RequestedTtlMs, resumeFromLedger, reason);

    private static LeaseHolder? HolderOf(LeaseInput input) =>
        input.Active is { } a && input.NowMs < a.ExpiresAtMs ? new LeaseHolder(a.OwnerId, a.ExpiresAtMs) : null;
}
