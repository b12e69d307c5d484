using System.Collections.Concurrent;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime;

/// <summary>
/// The HTTP edge's API-key resolution (docs/performance.md, issue 14). A key the database resolved is remembered
/// (by its hash: hash → tenant and user; never the plain key), so that a request whose endpoint checks the key inside its
/// own first transaction (<see cref="ApiKeyCheck"/>: turns and simulations) costs no round trip and no transaction of
/// its own. Invariants: a remembered key is never trusted alone — every request that took it from here is either
/// checked by its transaction's first batch or by <see cref="VerifyAsync"/> before it is answered, so a key revoked by
/// any process is refused by the very next request; a key the database refused is forgotten at once; at most
/// <see cref="Capacity"/> keys are remembered (all are forgotten when that is reached).
/// </summary>
public sealed class ApiKeys(SeleneDatabase db)
{
    /// <summary>How many keys are remembered at most.</summary>
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, (TenantId Tenant, UserId User)> _known = new(StringComparer.Ordinal);

    /// <summary>
    /// The check of <paramref name="key"/>, or null when the database does not resolve it. With <paramref name="checkedInTransaction"/>
    /// a remembered key is answered without a round trip, unverified (the request's transaction or <see cref="VerifyAsync"/>
    /// checks it); otherwise the database is asked now.
    /// </summary>
    public async Task<ApiKeyCheck?> AuthenticateAsync(string key, bool checkedInTransaction, CancellationToken ct)
    {
        var hash = KeyStore.HashKey(key);
        if (checkedInTransaction && _known.TryGetValue(hash, out var known)) return new ApiKeyCheck(hash, known.Tenant, known.User, verified: false);
        var resolved = await KeyStore.ResolveHashAsync(db, hash, ct);
        if (resolved is not { } who)
        {
            _known.TryRemove(hash, out _);
            return null;
        }
        if (_known.Count >= Capacity) _known.Clear();
        _known[hash] = who;
        return new ApiKeyCheck(hash, who.Tenant, who.User, verified: true);
    }

    /// <summary>
    /// True when the key was confirmed during this request, else asks the database now (one round trip): true when the
    /// key still resolves to the check's tenant and user; otherwise the key is forgotten and false.
    /// </summary>
    public async Task<bool> VerifyAsync(ApiKeyCheck check, CancellationToken ct)
    {
        if (check.Verified) return true;
        if (await KeyStore.ResolveHashAsync(db, check.KeyHash, ct) is { } who && who.Tenant == check.Tenant && who.User == check.User) return true;
        Forget(check);
        return false;
    }

    /// <summary>Forgets the key (the database refused it).</summary>
    public void Forget(ApiKeyCheck check) => _known.TryRemove(check.KeyHash, out _);
}
