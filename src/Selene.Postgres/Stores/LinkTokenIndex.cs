namespace Selene.Postgres.Stores;

/// <summary>
/// The index of invite secrets (<c>selene.link_token_index</c>, migration 0022): the SHA-256 of each token's derived
/// secret, its tenant and token id. Written with the token's issue in the issuing transaction; read across tenants
/// only through <c>selene.resolve_invite</c>, which reveals the (tenant, token) of a matching hash and nothing else.
/// </summary>
public static class LinkTokenIndex
{
    /// <summary>Queues the index row of a token just issued in <paramref name="tx"/> (sent with the transaction's next batch).</summary>
    public static void DeferInsert(TenantTransaction tx, string tokenHash, string tokenId, long now) =>
        tx.Defer(new Npgsql.NpgsqlBatchCommand("INSERT INTO selene.link_token_index (token_hash, tenant_id, token_id, created_at) VALUES ($1, $2, $3, $4)")
            .Bind(tokenHash, tx.TenantId, tokenId, now), "link token index", expectedRows: 1);

    /// <summary>The (tenant, token id) whose secret hashes to <paramref name="tokenHash"/>, or null.</summary>
    public static async Task<(string TenantId, string TokenId)?> ResolveAsync(SeleneDatabase db, string tokenHash, CancellationToken ct)
    {
        await using var cmd = db.App.CreateCommand("SELECT tenant_id, token_id FROM selene.resolve_invite($1)");
        cmd.Bind(tokenHash);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return (reader.GetString(0), reader.GetString(1));
    }
}
