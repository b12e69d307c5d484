using Npgsql;
using Selene.Contracts;

namespace Selene.Postgres;

/// <summary>
/// The API key a request came with, and whether the database confirmed it during this request. The HTTP edge may accept
/// a key from its cache without a round trip of its own (docs/performance.md, issue 14); the request's first transaction
/// (<see cref="TenantTransaction.OpenAsync"/>) then checks, in its first batch, that the key still resolves to the tenant
/// and user the transaction acts for. A key revoked (or an identity deactivated) by any process is therefore refused
/// by the very next request. Invariant: <see cref="Verified"/> only ever goes from false to true, and only after a
/// check against the database passed.
/// </summary>
public sealed class ApiKeyCheck
{
    /// <param name="keyHash">The SHA-256 hex of the key (the plain key is never kept).</param>
    /// <param name="verified">True when the database resolved the key during this request already.</param>
    public ApiKeyCheck(string keyHash, TenantId tenant, UserId user, bool verified)
    {
        KeyHash = keyHash;
        Tenant = tenant;
        User = user;
        Verified = verified;
    }

    public string KeyHash { get; }
    public TenantId Tenant { get; }
    public UserId User { get; }

    /// <summary>True once the database confirmed the key during this request.</summary>
    public bool Verified { get; private set; }

    internal void Passed() => Verified = true;

    /// <summary>
    /// The check as one batch command: a row when the key resolves to exactly (<paramref name="tenantId"/>,
    /// <paramref name="userId"/>) now (<c>selene.resolve_api_key</c>: not revoked, identity ACTIVE), none otherwise.
    /// </summary>
    internal NpgsqlBatchCommand Command(string tenantId, string userId) =>
        new NpgsqlBatchCommand("SELECT 1 FROM selene.resolve_api_key($1) WHERE tenant_id = $2 AND user_id = $3").Bind(KeyHash, tenantId, userId);
}

/// <summary>The request's API key no longer resolves to the tenant and user it was accepted for (revoked, or its identity deactivated): 401.</summary>
public sealed class ApiKeyRejectedException() : Exception("the API key no longer resolves to the tenant and user it was accepted for");
