using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Selene.Engines.Link;
using Selene.Postgres;
using Selene.Runtime;
using Selene.Runtime.Link;

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

    private static async Task<IResult> GetAsync(HttpContext context, string secret, SimulationExecutor executor, SeleneDatabase db, TimeProvider clock)
    {
        if (!LinkKey.IsWellFormedSecret(secret)) return Html(context, InvitePages.NotFound());
        if (DeviceOf(context.Request) is not { } device) return Html(context, InvitePages.DevicePending());
        var form = new InviteForm(LinkModule.InvitePathPrefix + secret, FormToken(secret, device), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        return Html(context, await OpenAsync(executor, db, clock, secret, device, form, context.RequestAborted));
    }

    /// <summary>
    /// Opens the link on this browser (LINK_INVITE_OPEN_ACTIVATE_COMMIT through <see cref="LinkModule.OpenAsync"/>, platform
    /// WEB) and renders the outcome. The device id itself is not sent to LINK: the fingerprint and app instance are
    /// hashes of it, so neither storage nor the journal holds the id that the browser presents.
    /// </summary>
    private static async Task<InvitePage> OpenAsync(SimulationExecutor executor, SeleneDatabase db, TimeProvider clock, string secret, string device, InviteForm form, CancellationToken ct)
    {
        var open = new InviteOpen("web:" + Hashing.Sha256Hex("device|" + device), AppPlatform.Web, "web_" + Hashing.ShortHash(16, "app", device),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), UnixNanos.FromDateTimeOffset(clock.GetUtcNow()).Value);
        var result = await LinkModule.OpenAsync(executor, db, secret, open, ct);
        if (!result.Succeeded)
        {
            return result.Reason switch
            {
                var r when r == LinkReasons.LinkRefuseNotFound => InvitePages.NotFound(),
                var r when r == LinkReasons.LinkTokenExpired => InvitePages.Expired(r),
                var r when r == LinkReasons.LinkTokenRevoked => InvitePages.Revoked(r),
                var r when r == LinkReasons.LinkTokenConsumed => InvitePages.Consumed(r),
                var r => InvitePages.Unavailable(r),
            };
        }
        var status = JsonNode.Parse(result.Body!)?["activation_status"]?.GetValue<string>();
        return status == "BLOCKED" ? InvitePages.Blocked() : InvitePages.Activated(form);
    }

    /// <summary>
    /// A step's form. Only this browser's own pages can post: the device cookie is SameSite=Strict (a cross-site form
    /// sends none) and the form token must match this secret and device. A refused POST changes nothing. Until the
    /// onboarding session is wired to the page no step runs here: an accepted POST is answered with the page as it
    /// stands (303 to GET, so a reload never re-posts).
    /// </summary>
    private static async Task<IResult> PostAsync(HttpContext context, string secret, ServerOptions options)
    {
        if (!LinkKey.IsWellFormedSecret(secret)) return Html(context, InvitePages.NotFound());
        var request = context.Request;
        if (!request.HasFormContentType) return Html(context, InvitePages.FormRefused(ReasonCodes.InputMediaTypeUnsupported));
        if (request.ContentLength > options.MaxBodyBytes)
            return Html(context, InvitePages.FormRefused(ReasonCodes.InputPayloadTooLarge));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            // Past the form reader's limits (more than 1024 fields, an over-long key): input, never a 500.
            return Html(context, InvitePages.FormRefused(ReasonCodes.InputSchemaInvalid));
        }
        if (DeviceOf(request) is not { } device || form["form_token"].Count != 1 ||
            !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(form["form_token"].ToString()), Encoding.ASCII.GetBytes(FormToken(secret, device))))
            return Html(context, InvitePages.FormRefused(ReasonCodes.InvitePageFormRefused));
        // The steps of the onboarding session are dispatched here once it is wired; "refresh" (and any step until then) shows the page again.
        SecurityHeaders(context.Response, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        return new SeeOther(LinkModule.InvitePathPrefix + secret);
    }

    /// <summary>303 See Other: after a form POST the browser GETs the page (a reload never re-posts).</summary>
    private sealed class SeeOther(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            httpContext.Response.Headers["X-Reason-Code"] = ReasonCodes.QueryOk.Name;
            return Task.CompletedTask;
        }
    }
}
