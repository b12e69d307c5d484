using System.Text.Json.Nodes;
using Selene.Postgres;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Delivery;

/// <summary>
/// One engine's deliveries in a tenant, as listing items (<see cref="DeliveryListing"/>): every item has the fields
/// <c>tenant_id, at, source_engine, item_id, channel, to, status, reason_code, provider_ref, proof</c> (and may carry more).
/// </summary>
public delegate Task<IReadOnlyList<JsonObject>> DeliveryFeed(TenantTransaction tx, string? messageId, CancellationToken ct);

/// <summary>
/// <c>selene deliveries</c>: what was sent where, with proofs, across the engines that deliver. Each engine adds one
/// feed to <see cref="Feeds"/> (PH1.DELIVERY's attempts and PH1.REM's firings); the listing merges
/// them by time, then engine and id.
/// </summary>
public static class DeliveryListing
{
    /// <summary>The most items one tenant's listing answers per feed.</summary>
    public const int Limit = 1000;

    /// <summary>The feeds: ONE line per engine that delivers.</summary>
    public static IReadOnlyList<DeliveryFeed> Feeds { get; } =
    [
        AttemptsAsync,
        Rem.RemModule.FiringsAsync,
    ];

    /// <summary>The field of a listing item shown under a table column.</summary>
    public static string Column(string header) => header switch
    {
        "TENANT" => "tenant_id",
        "AT" => "at",
        "ENGINE" => "source_engine",
        "ID" => "item_id",
        "CHANNEL" => "channel",
        "TO" => "to",
        "STATUS" => "status",
        "REASON" => "reason_code",
        "PROVIDER" => "provider_ref",
        "PROOF" => "proof",
        _ => throw new ArgumentOutOfRangeException(nameof(header), header, "no such column"),
    };

    /// <summary>Every tenant's deliveries (or one tenant's), optionally of one message (broadcast), in time order.</summary>
    public static async Task<IReadOnlyList<JsonObject>> ListAsync(SeleneDatabase db, TenantId? tenant, string? messageId, CancellationToken ct = default)
    {
        var tenants = tenant is { } t ? [t.Value] : await KeyStore.TenantsAsync(db, ct);
        var items = new List<JsonObject>();
        foreach (var id in tenants)
        {
            await using var tx = await TenantTransaction.BeginAsync(db.App, id, ct);
            foreach (var feed in Feeds) items.AddRange(await feed(tx, messageId, ct));
        }
        return items
            .OrderBy(i => i["tenant_id"]!.GetValue<string>(), StringComparer.Ordinal)
            .ThenBy(i => i["at"]!.GetValue<string>(), StringComparer.Ordinal)
            .ThenBy(i => i["source_engine"]!.GetValue<string>(), StringComparer.Ordinal)
            .ThenBy(i => i["item_id"]!.GetValue<string>(), StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>PH1.DELIVERY's feed: its attempts, with the attempt's view under <c>delivery</c>.</summary>
    private static async Task<IReadOnlyList<JsonObject>> AttemptsAsync(TenantTransaction tx, string? messageId, CancellationToken ct) =>
        (await DeliveryModule.ListAttemptsAsync(tx, messageId, null, null, null, Limit, ct)).Select(a => new JsonObject
        {
            ["tenant_id"] = tx.TenantId,
            ["at"] = new UnixNanos(a.CreatedAt).ToString(),
            ["source_engine"] = Selene.Engines.Delivery.DeliveryReasons.EngineId,
            ["item_id"] = a.DeliveryAttemptId,
            ["channel"] = WireNames.Of(a.Send.Channel),
            ["to"] = a.Send.Address,
            ["status"] = WireNames.Of(a.Status),
            ["reason_code"] = a.ReasonCode,
            ["provider_ref"] = a.ProviderRef,
            ["proof"] = a.DeliveryProofRef,
            ["delivery"] = DeliveryModule.View(a),
        }).ToArray();
}
