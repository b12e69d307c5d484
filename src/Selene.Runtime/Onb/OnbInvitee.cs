using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Link;
using Selene.Engines.Onb;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Link;
using Selene.Runtime.Position;

namespace Selene.Runtime.Onb;

/// <summary>Where an invitee stands, as their page shows it.</summary>
public enum InviteeOutcome
{
    /// <summary>The session is open on this device: show the next step.</summary>
    Active,
    /// <summary>The link is bound to another device (a forwarded link); the session was not touched.</summary>
    Blocked,
    /// <summary>The link expired before it was opened (the administrator recovers it into a new one).</summary>
    Expired,
    /// <summary>The administrator revoked the link.</summary>
    Revoked,
    /// <summary>No such link (an unknown or malformed secret).</summary>
    NotFound,
    /// <summary>Onboarding is COMPLETE (the link is CONSUMED).</summary>
    Completed,
    /// <summary>The invitee declined the terms: onboarding ended.</summary>
    Declined,
    /// <summary>The sender rejected the invitee's evidence: onboarding ended.</summary>
    Rejected,
    /// <summary>The page sent something malformed (a device or request id out of bounds); nothing changed.</summary>
    Invalid,
}

/// <summary>Why an answer was refused, for the page to show next to its field.</summary>
public sealed record InviteeFieldError(string FieldKey, string Code, string Message);

/// <summary>
/// What the invitee's page shows after one entry: the outcome, the reason code (and detail) of what just happened, the
/// session and its view (next step and the one next question; null when there is no session on this device), the terms
/// version to show, the refused answer's error, and — only from the <see cref="OnbInvitee.CompleteAsync"/> that
/// completed the session — the invitee's new API key, which exists nowhere else in plain text.
/// </summary>
public sealed record InviteePage(InviteeOutcome Outcome, ReasonCode Reason, string? Detail, OnbSession? Session, OnbView? View, string TermsVersionId,
    InviteeFieldError? FieldError = null, string? ApiKey = null);

/// <summary>
/// The invitee's page entry (unauthenticated: the secret in the link is the credential, bound to the first device that
/// opens it). Each call resolves the secret, opens and activates the link on this device when it is not yet bound
/// (<see cref="LinkModule.OpenAsync"/>, platform WEB, the device fingerprint derived from the page's device id), starts or
/// resumes the session with the token's stored activation context, and runs one step. Every execution goes through the
/// one executor AS THE INVITE'S INVITER, like the open: the invitee has no identity yet, the invite is the inviter's, and
/// the journal names who stands behind it. Idempotency keys derive from the session, the step and the page's request id,
/// so a double-submitted form is one execution. Another device gets <see cref="InviteeOutcome.Blocked"/> and the session
/// is not touched.
/// </summary>
public static class OnbInvitee
{
    /// <summary>
    /// The device fingerprint a page's device id stands for: <c>web:</c> + SHA-256 of the id. The one derivation of the
    /// page's device (the page never opens a link itself). LINK keeps only a hash of the fingerprint, and whatever holds
    /// the fingerprint itself holds a hash of the id: the id the browser presents is stored and journaled nowhere.
    /// </summary>
    public static string FingerprintOf(string deviceId) => "web:" + Hashing.Sha256Hex("device|" + deviceId);

    /// <summary>Opens the link on this device if needed and starts or resumes the session.</summary>
    public static async Task<InviteePage> EnterAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, CancellationToken ct) =>
        (await OpenAsync(executor, db, secret, deviceId, ct)).Page;

    /// <summary>One answer (ONB_DRAFT_UPDATE_COMMIT); a refused answer comes back as <see cref="InviteePage.FieldError"/> and changes nothing.</summary>
    public static Task<InviteePage> AnswerAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, string fieldKey, string value,
        string requestId, CancellationToken ct) =>
        StepAsync(executor, db, secret, deviceId, requestId, OnbSimulations.DraftUpdateCommit, "answer:" + fieldKey,
            s => new JsonObject { ["onboarding_session_id"] = s.SessionId, ["field_key"] = fieldKey, ["value"] = value }, ct, fieldKey);

    /// <summary>The terms (ONB_TERMS_ACCEPT_COMMIT) in <see cref="OnbModule.TermsVersion"/>: accepted, or declined (which ends onboarding).</summary>
    public static Task<InviteePage> TermsAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, bool accepted, string requestId,
        CancellationToken ct) =>
        StepAsync(executor, db, secret, deviceId, requestId, OnbSimulations.TermsAcceptCommit, "terms",
            s => new JsonObject { ["onboarding_session_id"] = s.SessionId, ["terms_version_id"] = OnbModule.TermsVersion, ["accepted"] = accepted }, ct);

    /// <summary>The evidence photo (ONB_EMPLOYEE_PHOTO_CAPTURE_SEND_COMMIT), sent to the inviter, who confirms it.</summary>
    public static Task<InviteePage> PhotoAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, string photoBlobRef, string requestId,
        CancellationToken ct) =>
        StepAsync(executor, db, secret, deviceId, requestId, OnbSimulations.EmployeePhotoCaptureSendCommit, "photo",
            s => new JsonObject { ["onboarding_session_id"] = s.SessionId, ["photo_blob_ref"] = photoBlobRef, ["sender_user_id"] = s.InviterUserId }, ct);

    /// <summary>
    /// The primary device (ONB_PRIMARY_DEVICE_CONFIRM_COMMIT): the device bound to the link, proven as the page reports
    /// (<paramref name="proofType"/>); the device id recorded is LINK's hash of its fingerprint.
    /// </summary>
    public static Task<InviteePage> DeviceAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, OnbProofType proofType,
        string requestId, CancellationToken ct) =>
        StepAsync(executor, db, secret, deviceId, requestId, OnbSimulations.PrimaryDeviceConfirmCommit, "device",
            s => new JsonObject
            {
                ["onboarding_session_id"] = s.SessionId,
                ["device_id"] = s.DeviceFingerprintHash,
                ["proof_type"] = WireNames.Of(proofType),
                ["proof_ok"] = true,
            }, ct);

    /// <summary>
    /// The access instance (ONB_ACCESS_INSTANCE_CREATE_COMMIT, unless it exists) and completion (ONB_COMPLETE_COMMIT). The
    /// execution that completes the session also mints the invitee's first API key in the same transaction and returns it
    /// here once (<see cref="InviteePage.ApiKey"/>); the stored result never holds it, so a replay or a later call has none.
    /// </summary>
    public static async Task<InviteePage> CompleteAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, string requestId,
        CancellationToken ct)
    {
        var open = await OpenAsync(executor, db, secret, deviceId, ct);
        if (open.Context is not { } c || open.Page.Outcome != InviteeOutcome.Active) return open.Page;
        if (!IdRules.IsValidIdempotencyKey(requestId)) return Invalid(open.Page, "request_id must be 1..128 printable ASCII characters without spaces");
        if (c.Session.Status == OnbStatus.PrimaryDeviceConfirmed)
        {
            var (userId, roleId) = await InviteeIdentityAsync(db, c, ct);
            var access = await RunAsync(executor, c, OnbSimulations.AccessInstanceCreateCommit, "access", requestId,
                new JsonObject { ["onboarding_session_id"] = c.Session.SessionId, ["user_id"] = userId, ["role_id"] = roleId }, ct);
            if (!access.Succeeded) return await PageAsync(db, c, access.Reason, access.Detail, ct);
        }
        string? apiKey = null;
        var completed = await RunAsync(executor, c, OnbSimulations.CompleteCommit, "complete", requestId,
            new JsonObject { ["onboarding_session_id"] = c.Session.SessionId }, ct,
            async (tx, context, result, token) =>
            {
                // Only the execution that completed the session mints the key; the plaintext stays in this call.
                if (result["completed_now"]?.GetValue<bool>() == true && result["session"]?["user_id"]?.GetValue<string>() is { } user)
                    apiKey = await KeyStore.IssueFirstKeyAsync(tx, new UserId(user), context.Now.Value, token);
                return [];
            });
        var page = await PageAsync(db, c, completed.Reason, completed.Detail, ct);
        return completed.Outcome == ExecutionOutcome.Executed ? page with { ApiKey = apiKey } : page;
    }

    /// <summary>
    /// Who the invitee becomes: the user id the administrator prefilled (<c>user_id</c>) when it is a valid one, else
    /// <c>u_</c> + a hash of the tenant and session; the role is the position's permission profile for an EMPLOYEE of a
    /// position, else <c>invitee_{type}</c>.
    /// </summary>
    public static async Task<(string UserId, string RoleId)> InviteeIdentityAsync(SeleneDatabase db, InviteeContext c, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, c.Tenant.Value, ct);
        var draft = await LinkModule.Drafts.GetAsync(tx, c.Session.DraftId, ct);
        var userId = draft?.Fields.GetValueOrDefault("user_id") is { } prefilled && UserId.IsValid(prefilled)
            ? prefilled
            : "u_" + Hashing.ShortHash(16, c.Tenant.Value, c.Session.SessionId);
        var role = "invitee_" + c.Session.InviteeType.ToLowerInvariant();
        if (c.Session.Known.GetValueOrDefault("position_id") is { } positionId && IdRules.IsShortHashId(positionId, "pos_")
            && await PositionModule.Positions.GetAsync(tx, positionId, ct) is { } position && IdRules.IsValidName(position.PermissionProfileRef))
            role = position.PermissionProfileRef;
        return (userId, role);
    }

    /// <summary>The resolved invite an entry acts on: tenant, token, inviter and the session on this device.</summary>
    public sealed record InviteeContext(TenantId Tenant, string TokenId, UserId Inviter, OnbSession Session);

    private sealed record Opened(InviteePage Page, InviteeContext? Context);

    private static InviteePage Ended(InviteeOutcome outcome, ReasonCode reason, string? detail) => new(outcome, reason, detail, null, null, OnbModule.TermsVersion);

    private static InviteePage Invalid(InviteePage page, string detail) => page with { Outcome = InviteeOutcome.Invalid, Reason = OnbReasons.OnbRefuseInvalid, Detail = detail };

    /// <summary>
    /// Resolves the secret, opens the link on this device unless it is bound to it already, and starts or resumes the
    /// session from the token's stored activation context (ONB_SESSION_START_DRAFT, keyed by the token: the handoff and
    /// the page give the same session, one per token).
    /// </summary>
    private static async Task<Opened> OpenAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, CancellationToken ct)
    {
        if (await LinkModule.ResolveAsync(db, secret, ct) is not { } invite) return new(Ended(InviteeOutcome.NotFound, LinkReasons.LinkRefuseNotFound, "no such invite link"), null);
        if (!IdRules.IsValidIdempotencyKey(deviceId))
            return new(Ended(InviteeOutcome.Invalid, OnbReasons.OnbRefuseInvalid, "device_id must be 1..128 printable ASCII characters without spaces"), null);
        var fingerprint = FingerprintOf(deviceId);
        var device = LinkIds.DeviceHash(invite.Tenant.Value, invite.TokenId, fingerprint);
        var (token, inviter) = await TokenAsync(db, invite.Tenant, invite.TokenId, ct);
        if (token is null || inviter is null) return new(Ended(InviteeOutcome.NotFound, LinkReasons.LinkRefuseNotFound, "no such invite link"), null);

        var boundHere = token.BoundDeviceFingerprintHash == device;
        if (token.Status == LinkTokenStatus.Consumed)
        {
            if (!boundHere) return new(Ended(InviteeOutcome.Blocked, LinkReasons.LinkTokenConsumed, "this link was used on another device"), null);
            var done = await SessionAsync(db, invite.Tenant, invite.TokenId, ct);
            return new(Page(InviteeOutcome.Completed, LinkReasons.LinkTokenConsumed, "onboarding is complete", done), null);
        }
        if (!(token.Status == LinkTokenStatus.Activated && boundHere))
        {
            // A revoked or expired link says so before any open (a repeated open could otherwise replay an earlier answer).
            if (LinkDecider.Finished(token, UnixNanos.FromDateTimeOffset(executor.Clock.GetUtcNow())) is { } finished)
                return new(Ended(OutcomeOf(finished.Reason), finished.Reason, finished.Detail), null);
            // Not yet bound (or bound elsewhere: LINK records the forward block and answers BLOCKED).
            var hash = Hashing.ShortHash(16, invite.TokenId, deviceId);
            var opened = await LinkModule.OpenAsync(executor, db, secret, new InviteOpen(fingerprint, AppPlatform.Web, "web_" + hash, "page_" + hash,
                UnixNanos.FromDateTimeOffset(executor.Clock.GetUtcNow()).Value), ct);
            if (!opened.Succeeded) return new(Ended(OutcomeOf(opened.Reason), opened.Reason, opened.Detail), null);
            if (JsonNode.Parse(opened.Body!)?["activation_status"]?.GetValue<string>() != WireNames.Of(LinkTokenStatus.Activated))
                return new(Ended(InviteeOutcome.Blocked, opened.Reason, "this link is bound to another device"), null);
            (token, _) = await TokenAsync(db, invite.Tenant, invite.TokenId, ct);
            if (token is null) return new(Ended(InviteeOutcome.NotFound, LinkReasons.LinkRefuseNotFound, "no such invite link"), null);
        }

        var start = new JsonObject
        {
            ["token_id"] = token.TokenId,
            ["device_fingerprint_hash"] = token.BoundDeviceFingerprintHash,
            ["app_platform"] = token.AppPlatform is { } p ? WireNames.Of(p) : null,
            ["app_instance_id"] = token.AppInstanceId,
            ["deep_link_nonce"] = token.DeepLinkNonce,
            ["link_opened_at"] = token.LinkOpenedAt,
        };
        var started = await ExecuteAsync(executor, invite.Tenant, inviter.Value, OnbSimulations.SessionStartDraft, "onb_start:" + token.TokenId, start, ct);
        var session = await SessionAsync(db, invite.Tenant, invite.TokenId, ct);
        if (session is null) return new(Ended(InviteeOutcome.Invalid, started.Reason, started.Detail), null);
        var page = Page(InviteeOutcome.Active, started.Reason, started.Detail, session);
        return new(page, page.Outcome == InviteeOutcome.Active ? new InviteeContext(invite.Tenant, invite.TokenId, inviter.Value, session) : null);
    }

    private static InviteeOutcome OutcomeOf(ReasonCode reason) =>
        reason == LinkReasons.LinkTokenExpired ? InviteeOutcome.Expired
        : reason == LinkReasons.LinkTokenRevoked ? InviteeOutcome.Revoked
        : reason == LinkReasons.LinkTokenConsumed ? InviteeOutcome.Completed
        : reason == LinkReasons.LinkRefuseNotFound ? InviteeOutcome.NotFound
        : InviteeOutcome.Invalid;

    /// <summary>The page of a session: ended sessions say so, open ones show their next step.</summary>
    private static InviteePage Page(InviteeOutcome outcome, ReasonCode reason, string? detail, OnbSession? session)
    {
        var o = session?.Status switch
        {
            OnbStatus.Complete => InviteeOutcome.Completed,
            OnbStatus.TermsDeclined => InviteeOutcome.Declined,
            OnbStatus.VerificationRejected => InviteeOutcome.Rejected,
            _ => outcome,
        };
        return new InviteePage(o, reason, detail, session, session is null ? null : OnbDecider.View(session), session?.TermsVersionId ?? OnbModule.TermsVersion);
    }

    private static async Task<InviteePage> StepAsync(SimulationExecutor executor, SeleneDatabase db, string secret, string deviceId, string requestId,
        string simulationId, string step, Func<OnbSession, JsonObject> body, CancellationToken ct, string? fieldKey = null)
    {
        var open = await OpenAsync(executor, db, secret, deviceId, ct);
        if (open.Context is not { } c || open.Page.Outcome != InviteeOutcome.Active) return open.Page;
        if (!IdRules.IsValidIdempotencyKey(requestId)) return Invalid(open.Page, "request_id must be 1..128 printable ASCII characters without spaces");
        var result = await RunAsync(executor, c, simulationId, step, requestId, body(c.Session), ct);
        var page = await PageAsync(db, c, result.Reason, result.Detail, ct);
        return fieldKey is not null && !result.Succeeded ? page with { FieldError = new InviteeFieldError(fieldKey, result.Reason.Name, result.Detail ?? "") } : page;
    }

    /// <summary>Runs one step of the session as the inviter, keyed by session, step and request id.</summary>
    private static Task<ExecutionResult> RunAsync(SimulationExecutor executor, InviteeContext c, string simulationId, string step, string requestId, JsonObject body,
        CancellationToken ct, CommitHook? onCommit = null) =>
        ExecuteAsync(executor, c.Tenant, c.Inviter, simulationId, "onb_page:" + Hashing.ShortHash(32, c.Session.SessionId, step, requestId), body, ct, onCommit);

    /// <summary>
    /// Runs one page step through the executor as <paramref name="actor"/> under <paramref name="key"/>, in a correlation
    /// derived from them (a repeat of the step is the same job in the journal); the backfill page's answers too.
    /// </summary>
    internal static Task<ExecutionResult> ExecuteAsync(SimulationExecutor executor, TenantId tenant, UserId actor, string simulationId, string key, JsonObject body,
        CancellationToken ct, CommitHook? onCommit = null)
    {
        var correlation = CorrelationId.FromDigest(SHA256.HashData(Encoding.UTF8.GetBytes($"{tenant.Value}|{actor.Value}|{simulationId}|{key}")));
        return executor.ExecuteAsync(new ExecutionRequest(tenant, actor, simulationId, key, JsonSerializer.SerializeToElement(body), correlation, new TurnId(1)), ct,
            onCommit);
    }

    private static async Task<InviteePage> PageAsync(SeleneDatabase db, InviteeContext c, ReasonCode reason, string? detail, CancellationToken ct) =>
        Page(InviteeOutcome.Active, reason, detail, await SessionAsync(db, c.Tenant, c.TokenId, ct));

    private static async Task<(LinkToken? Token, UserId? Inviter)> TokenAsync(SeleneDatabase db, TenantId tenant, string tokenId, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        if (await LinkModule.Tokens.GetAsync(tx, tokenId, ct) is not { } token) return (null, null);
        return (token, await LinkModule.Drafts.GetAsync(tx, token.DraftId, ct) is { } draft ? new UserId(draft.InviterUserId) : null);
    }

    private static async Task<OnbSession?> SessionAsync(SeleneDatabase db, TenantId tenant, string tokenId, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        return await OnbModule.SessionOfTokenAsync(tx, tokenId, ct);
    }
}
