using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Selene.Engines.Onb;
using Selene.Postgres;
using Selene.Runtime;
using Selene.Runtime.Link;
using Selene.Runtime.Onb;

namespace Selene.Server.Invite;

/// <summary>
/// A backfill target's page (docs/backfill.md): <c>GET /invite/backfill/{secret}</c> shows the one field asked now,
/// <c>POST</c> answers it. The same page as the invitee's in everything but its steps: the same frame, CSP and headers,
/// device cookie and form token (<see cref="ReadPostAsync"/>), request-id idempotency, and the secret kept out of every
/// log line (<see cref="LoggedPath"/> covers <c>/invite/…</c>). No device binding: the link is personal and ends when its
/// target does; after that every entry answers 409 ONB_BACKFILL_LINK_USED.
/// </summary>
public static partial class InvitePageEndpoints
{
    /// <summary>The route of a backfill target's page (<see cref="PersonalLinks.BackfillPathPrefix"/> + secret).</summary>
    public const string BackfillPattern = "/invite/backfill/{secret}";

    private static async Task<IResult> BackfillGetAsync(HttpContext context, string secret, SeleneDatabase db)
    {
        if (!LinkKey.IsWellFormedSecret(secret)) return Html(context, InvitePages.NotFound());
        if (DeviceOf(context.Request) is not { } device) return Html(context, InvitePages.DevicePending());
        return Html(context, Render(await OnbBackfillPage.OpenAsync(db, secret, context.RequestAborted), BackfillForm(secret, device)));
    }

    /// <summary>
    /// An answer. An accepted one answers 303 to the page (the next field), except the one that completed the target,
    /// whose page is the answer itself (the link is used up from then on). A refused one answers its code's status with
    /// the page and the error next to the field, the typed value put back; nothing changed.
    /// </summary>
    private static async Task<IResult> BackfillPostAsync(HttpContext context, string secret, ServerOptions options, SimulationExecutor executor, SeleneDatabase db)
    {
        var (posted, refusal) = await ReadPostAsync(context, secret, options);
        if (posted is not var (form, device, step)) return refusal!;
        if (step != "answer" || One(form, "field_key") is not { } field || One(form, "value") is not { } value)
            return Html(context, InvitePages.FormRefused(ReasonCodes.InputSchemaInvalid));
        if (One(form, "request_id") is not { } requestId || !IdRules.IsValidIdempotencyKey(requestId))
            return Html(context, InvitePages.FormRefused(ReasonCodes.InputFieldInvalid));
        var entry = await OnbBackfillPage.AnswerAsync(executor, db, secret, field, value, requestId, context.RequestAborted);
        if (entry.Outcome == BackfillPageOutcome.Active && entry.Reason.Kind == ReasonKind.Success)
            return SeeOther(context, secret, entry.Reason, PersonalLinks.BackfillPathPrefix);
        var page = Render(entry, BackfillForm(secret, device), value);
        return Html(context, entry.Reason.Kind == ReasonKind.Success ? page : page with { Status = Problems.StatusFor(entry.Reason), Reason = entry.Reason });
    }

    private static InviteForm BackfillForm(string secret, string device) =>
        new(PersonalLinks.BackfillPathPrefix + secret, FormToken(secret, device), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    private static InvitePage Render(BackfillPage entry, InviteForm form, string? typed = null) => entry switch
    {
        { Outcome: BackfillPageOutcome.NotFound } => InvitePages.NotFound(),
        { Outcome: BackfillPageOutcome.Completed } => InvitePages.BackfillDone(entry.Reason),
        { Target: { } target, Question: { } question } =>
            InvitePages.BackfillQuestion(target, question, form, entry.Reason, entry.FieldError, entry.FieldError is null ? null : typed),
        _ => InvitePages.BackfillUsed(entry.Reason.Kind == ReasonKind.Success ? OnbReasons.OnbBackfillLinkUsed : entry.Reason),
    };
}
