using System.Security.Cryptography;
using Selene.Contracts;

namespace Selene.Postgres.Stores;

/// <summary>
/// Tenants, identities and API keys. Keys are random, shown once, and stored only as SHA-256 hashes. Creating
/// them is an operator action (owner role); resolving them is the runtime's (selene_app, through a
/// SECURITY DEFINER function that reveals nothing but the (tenant, user) of a matching hash).
/// </summary>
public static class KeyStore
{
    public const string KeyPrefix = "sel_";

    /// <summary>
    /// A new key for an existing identity of an existing tenant; returns the key (plain, once), or null when the
    /// tenant or the identity does not exist. Keys never create tenants or users: <c>selene tenant create</c> and the
    /// ACCESS simulations do.
    /// </summary>
    public static async Task<string?> CreateKeyAsync(SeleneDatabase db, TenantId tenant, UserId user, long now, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.Owner, tenant.Value, ct);
        await using (var check = tx.Command("""
            SELECT EXISTS (SELECT 1 FROM selene.tenants t JOIN selene.identities i ON i.tenant_id = t.tenant_id
                           WHERE t.tenant_id = $1 AND i.user_id = $2 AND i.status = 'ACTIVE')
            """))
        {
            check.Bind(tenant.Value, user.Value);
            if (!(bool)(await check.ExecuteScalarAsync(ct))!) return null;
        }
        var key = NewKey();
        await InsertKeyAsync(tx, key, user, now, ct);
        await tx.CommitAsync(ct);
        return key;
    }

    /// <summary>
    /// Creates the transaction's tenant and its first identity <paramref name="admin"/> (owner role). Returns false,
    /// writing nothing, when the tenant already exists.
    /// </summary>
    public static async Task<bool> CreateTenantAsync(TenantTransaction tx, UserId admin, bool platformOperator, long now, CancellationToken ct)
    {
        await using (var tenant = tx.Command("INSERT INTO selene.tenants (tenant_id, created_at, platform_operator) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"))
        {
            tenant.Bind(tx.TenantId, now, platformOperator);
            if (await tenant.ExecuteNonQueryAsync(ct) == 0) return false;
        }
        await using var identity = tx.Command("INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ($1, $2, $3)");
        identity.Bind(tx.TenantId, admin.Value, now);
        await identity.ExecuteNonQueryAsync(ct);
        return true;
    }

    /// <summary>Stores the hash of <paramref name="key"/> for (the transaction's tenant, user).</summary>
    public static async Task InsertKeyAsync(TenantTransaction tx, string key, UserId user, long now, CancellationToken ct)
    {
        await using var k = tx.Command("INSERT INTO selene.api_keys (key_hash, key_prefix, tenant_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5)");
        k.Bind(HashKey(key), key[..10], tx.TenantId, user.Value, now);
        await k.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// A new user's first key, in the transaction's tenant (the runtime role, through <c>selene.issue_first_api_key</c>):
    /// the plain key, once, or null when <paramref name="user"/> has a key already (a second completion never mints
    /// another; later keys are the operator's <c>selene keys create</c>).
    /// </summary>
    public static async Task<string?> IssueFirstKeyAsync(TenantTransaction tx, UserId user, long now, CancellationToken ct)
    {
        var key = NewKey();
        await using var cmd = tx.Command("SELECT selene.issue_first_api_key($1, $2, $3, $4)");
        cmd.Bind(HashKey(key), key[..10], user.Value, now);
        return (bool)(await cmd.ExecuteScalarAsync(ct))! ? key : null;
    }

    /// <summary>A new random key (shown once, stored only as its hash).</summary>
    public static string NewKey() =>
        KeyPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_').TrimEnd('=');

    public static string HashKey(string key) => Hashing.Sha256Hex(key);

    /// <summary>The (tenant, user) of a key, or null when the key is unknown or revoked.</summary>
    public static Task<(TenantId Tenant, UserId User)?> ResolveAsync(SeleneDatabase db, string key, CancellationToken ct) => ResolveHashAsync(db, HashKey(key), ct);

    /// <summary>The (tenant, user) of the key with this hash (<see cref="HashKey"/>), or null when it is unknown or revoked.</summary>
    public static async Task<(TenantId Tenant, UserId User)?> ResolveHashAsync(SeleneDatabase db, string keyHash, CancellationToken ct)
    {
        await using var cmd = db.App.CreateCommand("SELECT tenant_id, user_id FROM selene.resolve_api_key($1)");
        cmd.Bind(keyHash);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return (new TenantId(reader.GetString(0)), new UserId(reader.GetString(1)));
    }

    /// <summary>Every tenant id (owner role), for maintenance that walks tenant by tenant.</summary>
    public static async Task<IReadOnlyList<string>> TenantsAsync(SeleneDatabase db, CancellationToken ct)
    {
        await using var cmd = db.Owner.CreateCommand("SELECT tenant_id FROM selene.tenants ORDER BY tenant_id");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<string>();
        while (await reader.ReadAsync(ct)) list.Add(reader.GetString(0));
        return list;
    }

    /// <summary>Which of <paramref name="userIds"/> have an identity in the tenant.</summary>
    public static async Task<IReadOnlySet<string>> ExistingIdentitiesAsync(TenantTransaction tx, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        await using var cmd = tx.Command("SELECT user_id FROM selene.identities WHERE tenant_id = $1 AND user_id = ANY($2)");
        cmd.Bind(tx.TenantId, userIds.ToArray());
        var set = new HashSet<string>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) set.Add(r.GetString(0));
        return set;
    }

    /// <summary>Creates the identity when missing (ACCESS instance writes bring users into the tenant); true when it was created.</summary>
    public static async Task<bool> EnsureIdentityAsync(TenantTransaction tx, string userId, long now, CancellationToken ct)
    {
        await using var cmd = tx.Command("INSERT INTO selene.identities (tenant_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING");
        cmd.Bind(tx.TenantId, userId, now);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }
}
