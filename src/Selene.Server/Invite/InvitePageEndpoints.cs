using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Selene.Engines.Link;
using Selene.Engines.Onb;
using Selene.Postgres;
using Selene.Runtime;
using Selene.Runtime.Link;
using Selene.Runtime.Onb;

namespace Selene.Server.Invite;

/// <summary>
/// The invitee's page under <c>selene serve</c> (docs/invite-page.md): <c>GET /invite/{secret}</c> opens and activates the
/// link on this browser's device and shows where the invitee stands; <c>POST /invite/{secret}</c> takes a step's form.
/// The invitee has no API key: the secret is the credential and the browser's device id (<see cref="InvitePages.DeviceCookie"/>)
/// binds it to one browser. Every answer carries <see cref="SecurityHeaders"/>; a POST without this browser's device id
/// or the page's form token is refused (403 INVITE_PAGE_FORM_REFUSED) and changes nothing.
/// </summary>
public static partial class InvitePageEndpoints
{
    /// <summary>The route of the page (the secret is a route value; <see cref="LinkModule.InvitePathPrefix"/> + secret).</summary>
    public const string Pattern = "/invite/{secret}";

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex DeviceIdPattern();

    /// <summary>Whether a text is a device id the page's script makes: 32 lower-case hex characters.</summary>
    public static bool IsDeviceId(string? text) => text is not null && DeviceIdPattern().IsMatch(text);

    // Form tokens are MACs under a key of this process: a form from before a restart is refused and a reload gives a new one.
    private static readonly byte[] FormKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>The form token of a page: it proves the POST comes from a page this server rendered for this secret and device.</summary>
    public static string FormToken(string secret, string deviceId) =>
        Convert.ToBase64String(HMACSHA256.HashData(FormKey, Encoding.UTF8.GetBytes("invite-form|" + secret + "|" + deviceId)))
            .Replace('+', '-').Replace('/', '_').TrimEnd('=');

    /// <summary>
    /// A request path as Selene logs it: an invite page's secret is replaced by <c>[secret]</c>, so no log line
    /// written by Selene carries one.
    /// </summary>
    public static string LoggedPath(PathString path) =>
        path.StartsWithSegments("/invite", StringComparison.OrdinalIgnoreCase, out _) ? "/invite/[secret]" : path.ToString();

    /// <summary>Maps the page's routes (left out of the OpenAPI document: they answer HTML to a browser, not JSON).</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(Pattern, GetAsync).ExcludeFromDescription();
        app.MapPost(Pattern, PostAsync).ExcludeFromDescription();
        app.MapGet(BackfillPattern, BackfillGetAsync).ExcludeFromDescription();
        app.MapPost(BackfillPattern, BackfillPostAsync).ExcludeFromDescription();
    }

    /// <summary>
    /// The headers of every invite page: never cached (the page shows personal data and, once, a key), no referrer (the
    /// secret is in the URL), a CSP that runs only the page's own inline style and script (by nonce), posts forms only to
    /// this origin and forbids framing, and no content sniffing.
    /// </summary>
    public static void SecurityHeaders(HttpResponse response, string nonce)
    {
        var headers = response.Headers;
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        headers["X-Content-Type-Options"] = "nosniff";
        headers["X-Frame-Options"] = "DENY";
        headers.ContentSecurityPolicy = $"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; " +
                                        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    }

    private static IResult Html(HttpContext context, InvitePage page)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        SecurityHeaders(context.Response, nonce);
        context.Response.Headers["X-Reason-Code"] = page.Reason.Name;
        return Results.Content(InvitePages.Document(page, nonce), "text/html; charset=utf-8", Encoding.UTF8, page.Status);
    }

    private static string? DeviceOf(HttpRequest request) =>
        request.Cookies.TryGetValue(InvitePages.DeviceCookie, out var id) && IsDeviceId(id) ? id : null;

    /// <summary>A fresh form for a rendered page: its own path, the form token of this secret and device, a new request id.</summary>
    private static InviteForm NewForm(string secret, string device) =>
        new(LinkModule.InvitePathPrefix + secret, FormToken(secret, device), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    /// <summary>
    /// Opens the link on this browser if needed and starts or resumes its onboarding session (<see cref="OnbInvitee.EnterAsync"/>):
    /// the page shows where the invitee stands, so a refresh resumes at the same question.
    /// </summary>
    private static async Task<IResult> GetAsync(HttpContext context, string secret, SimulationExecutor executor, SeleneDatabase db)
    {
        if (!LinkKey.IsWellFormedSecret(secret)) return Html(context, InvitePages.NotFound());
        if (DeviceOf(context.Request) is not { } device) return Html(context, InvitePages.DevicePending());
        var entered = await OnbInvitee.EnterAsync(executor, db, secret, device, context.RequestAborted);
        return Html(context, Render(entered, NewForm(secret, device)));
    }

    /// <summary>
    /// The page of an entry's outcome: the link's states (not found, forwarded, expired, withdrawn, used), else the session
    /// at its next step (or its end). A link used on another device says it was used; what the entry could not show (the
    /// session could not start: storage, or the inviter's authority) is the "try again later" page with its code.
    /// </summary>
    private static InvitePage Render(InviteePage entry, InviteForm form, string? rejectedValue = null) => entry switch
    {
        { Outcome: InviteeOutcome.NotFound } => InvitePages.NotFound(),
        { Outcome: InviteeOutcome.Expired } => InvitePages.Expired(entry.Reason),
        { Outcome: InviteeOutcome.Revoked } => InvitePages.Revoked(entry.Reason),
        { Outcome: InviteeOutcome.Blocked } when entry.Reason == LinkReasons.LinkTokenConsumed => InvitePages.Consumed(entry.Reason),
        { Outcome: InviteeOutcome.Blocked } => InvitePages.Blocked(),
        { Outcome: InviteeOutcome.Active or InviteeOutcome.Completed or InviteeOutcome.Declined or InviteeOutcome.Rejected, Session: { } session, View: { } view } =>
            InvitePages.Onboarding(session, view, form, entry.TermsVersionId, entry.FieldError, rejectedValue),
        _ => InvitePages.Unavailable(entry.Reason),
    };

    /// <summary>
    /// A step's form. Only this browser's own pages can post: the device cookie is SameSite=Strict (a cross-site form
    /// sends none) and the form token must match this secret and device; a malformed form is 400. A refused POST changes
    /// nothing. The step runs through <see cref="OnbInvitee"/> keyed by the form's request id, so a double submit is one
    /// execution. An accepted step answers 303 to the page (a reload never re-posts), except the completion that mints
    /// the invitee's key: its page is the answer itself (no-store like every page), because the key exists only in that
    /// answer. A refused step answers its code's status with the page and the error: next to the field (with the typed
    /// value) for an answer, above the step otherwise.
    /// </summary>
    private static async Task<IResult> PostAsync(HttpContext context, string secret, ServerOptions options, SimulationExecutor executor, SeleneDatabase db)
    {
        var (posted, refusal) = await ReadPostAsync(context, secret, options);
        if (posted is not var (form, device, step)) return refusal!;
        if (step == "refresh") return SeeOther(context, secret, ReasonCodes.QueryOk);
        var request = context.Request;
        if (One(form, "request_id") is not { } requestId || !IdRules.IsValidIdempotencyKey(requestId))
            return Html(context, InvitePages.FormRefused(ReasonCodes.InputFieldInvalid));

        var ct = context.RequestAborted;
        string? typed = null;
        InviteePage entry;
        switch (step)
        {
            case "answer":
                if (One(form, "field_key") is not { } field || One(form, "value") is not { } value)
                    return Html(context, InvitePages.FormRefused(ReasonCodes.InputSchemaInvalid));
                typed = value;
                entry = await OnbInvitee.AnswerAsync(executor, db, secret, device, field, value, requestId, ct);
                break;
            case "terms":
                // The invitee accepts or declines the terms the page showed: a form naming other terms records nothing.
                if (One(form, "accepted") is not ("true" or "false") || One(form, "terms_version_id") != OnbModule.TermsVersion)
                    return Html(context, InvitePages.FormRefused(ReasonCodes.InputFieldInvalid));
                entry = await OnbInvitee.TermsAsync(executor, db, secret, device, One(form, "accepted") == "true", requestId, ct);
                break;
            case "device":
                entry = await OnbInvitee.DeviceAsync(executor, db, secret, device, OnbProofType.Passcode, requestId, ct);
                break;
            case "complete":
                entry = await OnbInvitee.CompleteAsync(executor, db, secret, device, requestId, ct);
                if (entry is { ApiKey: { } key, Session: { } done }) return Html(context, InvitePages.Completed(done, key));
                break;
            default:
                return Html(context, InvitePages.FormRefused(ReasonCodes.InputSchemaInvalid));
        }
        if (entry.Outcome != InviteeOutcome.Active || entry.Reason.Kind == ReasonKind.Success) return SeeOther(context, secret, entry.Reason);
        var error = entry.FieldError ?? new InviteeFieldError(step, entry.Reason.Name, entry.Detail ?? entry.Reason.Name);
        var page = Render(entry with { FieldError = error }, NewForm(secret, device), typed);
        return Html(context, page with { Status = Problems.StatusFor(entry.Reason), Reason = entry.Reason });
    }

    /// <summary>
    /// The checks every page's POST passes before its step (the invite's and a backfill target's): a well-formed secret, a
    /// form body within the size limit, this browser's device id and the page's form token, and a step. Either the form,
    /// device and step, or the refusal to answer (nothing changed).
    /// </summary>
    private static async Task<((IFormCollection Form, string Device, string Step)? Posted, IResult? Refusal)> ReadPostAsync(HttpContext context, string secret,
        ServerOptions options)
    {
        if (!LinkKey.IsWellFormedSecret(secret)) return (null, Html(context, InvitePages.NotFound()));
        var request = context.Request;
        if (!request.HasFormContentType) return (null, Html(context, InvitePages.FormRefused(ReasonCodes.InputMediaTypeUnsupported)));
        if (request.ContentLength > options.MaxBodyBytes)
            return (null, Html(context, InvitePages.FormRefused(ReasonCodes.InputPayloadTooLarge)));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            // Past the form reader's limits (more than 1024 fields, an over-long key): input, never a 500.
            return (null, Html(context, InvitePages.FormRefused(ReasonCodes.InputSchemaInvalid)));
        }
        if (DeviceOf(request) is not { } device || One(form, "form_token") is not { } token ||
            !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token), Encoding.ASCII.GetBytes(FormToken(secret, device))))
            return (null, Html(context, InvitePages.FormRefused(ReasonCodes.InvitePageFormRefused)));
        if (One(form, "step") is not { } step) return (null, Html(context, InvitePages.FormRefused(ReasonCodes.InputSchemaInvalid)));
        return ((form, device, step), null);
    }

    /// <summary>The one value of a form field; null when it is missing or given more than once.</summary>
    private static string? One(IFormCollection form, string name) => form[name].Count == 1 ? form[name].ToString() : null;

    /// <summary>303 to the page, with the code of what the POST did (the step's, or QUERY_OK for "check again").</summary>
    private static IResult SeeOther(HttpContext context, string secret, ReasonCode reason, string pathPrefix = LinkModule.InvitePathPrefix)
    {
        SecurityHeaders(context.Response, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        return new SeeOtherResult(pathPrefix + secret, reason);
    }

    /// <summary>303 See Other: after a form POST the browser GETs the page (a reload never re-posts).</summary>
    private sealed class SeeOtherResult(string location, ReasonCode reason) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            httpContext.Response.Headers["X-Reason-Code"] = reason.Name;
            return Task.CompletedTask;
        }
    }
}
