using System.Text.Json.Nodes;
using Selene.Engines.Onb;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Link;

namespace Selene.Runtime.Onb;

/// <summary>Where a backfill target stands, as their page shows it.</summary>
public enum BackfillPageOutcome
{
    /// <summary>No such link (an unknown or malformed secret, or an invite's).</summary>
    NotFound,
    /// <summary>The target is open: show the field asked now.</summary>
    Active,
    /// <summary>This entry's answer completed the target.</summary>
    Completed,
    /// <summary>The target had ended before this entry: the link is used up (ONB_BACKFILL_LINK_USED).</summary>
    Used,
    /// <summary>The page sent something malformed (a request id out of bounds); nothing changed.</summary>
    Invalid,
}

/// <summary>
/// What a backfill target's page shows after one entry: the outcome, the reason code (and detail) of what just happened,
/// the target and the field asked now (null when none), and a refused answer's error.
/// </summary>
public sealed record BackfillPage(BackfillPageOutcome Outcome, ReasonCode Reason, string? Detail, BackfillTarget? Target, OnbQuestion? Question,
    InviteeFieldError? FieldError = null);

/// <summary>
/// A backfill target's page entry (unauthenticated: the secret of their personal link is the credential,
/// <see cref="PersonalLinks"/>). The secret resolves through the one index of link secrets to its tenant and target; each
/// answer is ONB_REQUIREMENT_BACKFILL_ANSWER_COMMIT through the one executor AS THE CAMPAIGN'S CREATOR (the holder acts on
/// the campaign's request, as an invitee acts on their inviter's invite), keyed by the target and the page's request id,
/// so a double-submitted form is one execution and the same request id with another answer is refused
/// (IDEMPOTENCY_KEY_REUSED). Once the target has ended the link is used up: every entry answers ONB_BACKFILL_LINK_USED.
/// </summary>
public static class OnbBackfillPage
{
    private sealed record Resolved(TenantId Tenant, BackfillCampaign Campaign, BackfillTarget Target);

    /// <summary>The page of a link: the field asked now, or why there is none.</summary>
    public static async Task<BackfillPage> OpenAsync(SeleneDatabase db, string secret, CancellationToken ct)
    {
        if (await ResolveAsync(db, secret, ct) is not { } r) return NotFound();
        return Page(r.Target, OnbReasons.All.FirstOrDefault(c => c.Name == r.Target.LastReasonCode) ?? ReasonCodes.QueryOk, null, used: true);
    }

    /// <summary>One answer to the field asked now; a refused answer comes back as <see cref="BackfillPage.FieldError"/> and changes nothing.</summary>
    public static async Task<BackfillPage> AnswerAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string fieldKey, string value, string requestId,
        CancellationToken ct)
    {
        if (await ResolveAsync(db, secret, ct) is not { } r) return NotFound();
        if (BackfillDecider.IsTerminal(r.Target.Status)) return Page(r.Target, OnbReasons.OnbBackfillLinkUsed, null, used: true);
        if (!IdRules.IsValidIdempotencyKey(requestId))
            return Page(r.Target, OnbReasons.OnbRefuseInvalid, null, used: false) with
            {
                Outcome = BackfillPageOutcome.Invalid, Detail = "request_id must be 1..128 printable ASCII characters without spaces",
            };
        var result = await OnbInvitee.ExecuteAsync(executor, r.Tenant, new UserId(r.Campaign.CreatedByUserId), OnbSimulations.BackfillAnswerCommit,
            "bf_page:" + Hashing.ShortHash(32, r.Target.TargetId, requestId),
            new JsonObject { ["campaign_id"] = r.Campaign.CampaignId, ["recipient_user_id"] = r.Target.UserId, ["field_key"] = fieldKey, ["value"] = value }, ct);
        var target = await TargetAsync(db, r.Tenant, r.Target.TargetId, ct) ?? r.Target;
        if (!result.Succeeded)
            return Page(target, result.Reason, result.Detail, used: false) with { FieldError = new InviteeFieldError(fieldKey, result.Reason.Name, result.Detail ?? "") };
        return target.Status == BackfillTargetStatus.Completed
            ? new BackfillPage(BackfillPageOutcome.Completed, result.Reason, result.Detail, target, null)
            : Page(target, result.Reason, result.Detail, used: false);
    }

    private static BackfillPage NotFound() => new(BackfillPageOutcome.NotFound, Engines.Link.LinkReasons.LinkRefuseNotFound, "no such link", null, null);

    /// <summary>An open target's page at its next field; an ended one's is the used-up link (<paramref name="used"/>) — or, for the entry that ended it, the refusal as it is.</summary>
    private static BackfillPage Page(BackfillTarget target, ReasonCode reason, string? detail, bool used) =>
        BackfillDecider.IsTerminal(target.Status) || BackfillDecider.NextQuestion(target) is not { } next
            ? new BackfillPage(BackfillPageOutcome.Used, used ? OnbReasons.OnbBackfillLinkUsed : reason,
                used ? $"this link's questions are closed (the target is {WireNames.Of(target.Status)})" : detail, target, null)
            : new BackfillPage(BackfillPageOutcome.Active, reason, detail, target, next);

    /// <summary>The tenant, campaign and target of a presented secret, or null (malformed, unknown, or an invite's).</summary>
    private static async Task<Resolved?> ResolveAsync(SeleneDatabase db, string secret, CancellationToken ct)
    {
        if (!LinkKey.IsWellFormedSecret(secret) || await LinkTokenIndex.ResolveAsync(db, LinkKey.HashOf(secret), ct) is not { } found) return null;
        var colon = found.TokenId.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !BackfillDecider.IsCampaignId(found.TokenId[..colon])) return null;
        await using var tx = await TenantTransaction.BeginAsync(db.App, found.TenantId, ct);
        var campaign = await OnbBackfill.Campaigns.GetAsync(tx, found.TokenId[..colon], ct);
        var target = await OnbBackfill.Targets.GetAsync(tx, found.TokenId, ct);
        return campaign is null || target is null ? null : new Resolved(new TenantId(found.TenantId), campaign, target);
    }

    private static async Task<BackfillTarget?> TargetAsync(SeleneDatabase db, TenantId tenant, string targetId, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        return await OnbBackfill.Targets.GetAsync(tx, targetId, ct);
    }
}
