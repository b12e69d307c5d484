using System.Globalization;
using System.Text.RegularExpressions;

namespace Selene.Engines.Link;

/// <summary>
/// What a LINK decision reads: the draft and the token it acts on (the draft's active token for a draft update), and
/// the facts another engine owns — the position schema an EMPLOYEE invite pins, and whether the AP override a
/// revoke names is in force.
/// </summary>
public sealed record LinkState(LinkDraft? Draft, LinkToken? Token, LinkSchemaFacts? Schema = null, bool ApOverrideInForce = false)
{
    public static LinkState Empty { get; } = new(null, null);
}

/// <summary>Deterministic PH1.LINK ids and hashes (reference §3.1), all derived from their inputs.</summary>
public static class LinkIds
{
    public const string DraftPrefix = "draft_";
    public const string TokenPrefix = "link_";
    public const string DevicePrefix = "dfp_";
    public const string RoleProposalPrefix = "role_prop_";
    public const string EscalationPrefix = "esc_";

    /// <summary>The hash of what an invite says: inviter, type, tenant, schema version, expiration policy and the prefill.</summary>
    public static string PayloadHash(string tenantId, string inviterUserId, GenerateInvite g) =>
        Hashing.ShortHash(32, tenantId, inviterUserId, WireNames.Of(g.InviteeType), g.SchemaVersionId ?? "", g.ExpirationPolicyId ?? "",
            string.Join("\u001f", g.PrefilledFields.Select(f => f.Key + "=" + f.Value)));

    /// <summary>
    /// <c>draft_{hash(tenant, inviter, payload_hash, key)}</c>: the key is part of it, so two invites with equal content
    /// (two new hires of one position, prefilled alike) are two drafts, while a retry of one request is the same draft.
    /// </summary>
    public static string DraftId(string tenantId, string inviterUserId, string payloadHash, string idempotencyKey) =>
        DraftPrefix + Hashing.ShortHash(16, tenantId, inviterUserId, payloadHash, idempotencyKey);

    /// <summary><c>link_{hash(tenant, draft, generation)}</c>: generation 0 is the draft's first token, each recovery the next.</summary>
    public static string TokenId(string tenantId, string draftId, int generation) =>
        TokenPrefix + Hashing.ShortHash(16, tenantId, draftId, generation.ToString(CultureInfo.InvariantCulture));

    /// <summary>What a token keeps of a device: a hash of its fingerprint, salted with the tenant and token (never the fingerprint itself).</summary>
    public static string DeviceHash(string tenantId, string tokenId, string fingerprint) => DevicePrefix + Hashing.ShortHash(32, tenantId, tokenId, fingerprint);

    public static string RoleProposalId(string tenantId, string roleName, string proposalText) =>
        RoleProposalPrefix + Hashing.ShortHash(16, tenantId, roleName, Hashing.Sha256Hex(proposalText));

    public static string EscalationCaseId(string tenantId, string hint, string? tokenId, string reason) =>
        EscalationPrefix + Hashing.ShortHash(16, tenantId, hint, tokenId ?? "", Hashing.Sha256Hex(reason));

    public static bool IsDraftId(string? id) => IdRules.IsShortHashId(id, DraftPrefix);

    public static bool IsTokenId(string? id) => IdRules.IsShortHashId(id, TokenPrefix);
}

/// <summary>
/// PH1.LINK, pure (reference §3): invite drafts and tokens. <see cref="Decide"/> turns (state, command, context) into
/// events or a refusal; <see cref="EvolveDraft"/> and <see cref="EvolveToken"/> fold events. LINK never sends, never
/// owns a schema (it pins the position's ACTIVE one) and grants nothing.
/// </summary>
public static partial class LinkDecider
{
    /// <summary>A token lives 7 days from issue (reference §3.1; expiration policies are stored, not yet applied).</summary>
    public const long TokenTtlNs = 7L * 24 * 3600 * 1_000_000_000;

    public const int MaxFields = 64;
    public const int MaxFieldValueLength = 256;
    public const int MaxReasonLength = 256;
    public const int MaxDestinationLength = 256;

    /// <summary>The outbox event of an invite delivery's steps (LINK_DELIVER_INVITE), run by the OS.</summary>
    public const string DeliveryStepEvent = "LINK_INVITE_DELIVERY_STEP_DUE";

    /// <summary>The field keys that pin an invite to its tenant and position: set at creation, never changed.</summary>
    public static IReadOnlySet<string> PinnedKeys { get; } = new HashSet<string>(["tenant_id", "company_id", "position_id"], StringComparer.Ordinal);

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex FieldKeyPattern();

    /// <summary>The fields required of an invitee type when no position schema is pinned (reference §3.3 fallback defaults).</summary>
    public static IReadOnlyList<string> DefaultRequired(InviteeType type) => type switch
    {
        InviteeType.Employee => ["company_id", "location_id", "position_id", "start_date"],
        InviteeType.Associate => ["company_id", "position_id"],
        _ => ["tenant_id"],
    };

    /// <summary>The required field keys not in <paramref name="known"/>, sorted (ordinal): what is still missing (reference §3.3).</summary>
    public static IReadOnlyList<string> Missing(IEnumerable<string> requiredKeys, IReadOnlyDictionary<string, string> known) =>
        requiredKeys.Where(k => !known.ContainsKey(k)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether a token is past its expiry at <paramref name="now"/> (evaluated lazily on open and recovery, §3.2).</summary>
    public static bool IsPastExpiry(LinkToken token, UnixNanos now) => now.Value > token.ExpiresAt;

    /// <summary>CONSUMED, REVOKED and EXPIRED end a token.</summary>
    public static bool IsTerminal(LinkTokenStatus s) => s is LinkTokenStatus.Consumed or LinkTokenStatus.Revoked or LinkTokenStatus.Expired;

    /// <summary>COMMITTED and REVOKED end a draft.</summary>
    public static bool IsTerminal(LinkDraftStatus s) => s is LinkDraftStatus.Committed or LinkDraftStatus.Revoked;

    /// <summary>Bounds and shapes of a command, checked before any state is read; null when valid.</summary>
    public static Decision<LinkEvent>.Rejected? Validate(LinkCommand command) => command switch
    {
        GenerateInvite g when !Enum.IsDefined(g.InviteeType) => Invalid("invitee_type must be COMPANY, CUSTOMER, EMPLOYEE, FAMILY_MEMBER, FRIEND or ASSOCIATE"),
        GenerateInvite g when g.SchemaVersionId is null && g.InviteeType is InviteeType.Employee or InviteeType.Company =>
            Invalid("schema_version_id is required for an EMPLOYEE or COMPANY invite"),
        GenerateInvite g when g.SchemaVersionId is { } v && !IdRules.IsValidName(v) => Invalid("schema_version_id must be 1..64 of [A-Za-z0-9_.-]"),
        GenerateInvite g when g.ExpirationPolicyId is { } p && !IdRules.IsValidName(p) => Invalid("expiration_policy_id must be 1..64 of [A-Za-z0-9_.-]"),
        GenerateInvite g => ValidateFields(g.PrefilledFields, "prefilled_fields"),
        UpdateDraft u when !LinkIds.IsDraftId(u.DraftId) => Invalid("draft_id must look like draft_<16 hex>"),
        UpdateDraft u when u.Fields.Count == 0 => Invalid("fields must name at least one field"),
        UpdateDraft u => ValidateFields(u.Fields, "fields"),
        LinkTokenCommand t when !LinkIds.IsTokenId(t.TokenId) => Invalid("token_id must look like link_<16 hex>"),
        OpenActivate o when !IdRules.IsBoundedText(o.DeviceFingerprint, 256) => Invalid("device_fingerprint must be 1..256 printable chars"),
        OpenActivate o when !Enum.IsDefined(o.AppPlatform) => Invalid("app_platform must be IOS, ANDROID, DESKTOP or WEB"),
        OpenActivate o when !IdRules.IsValidIdempotencyKey(o.AppInstanceId) || !IdRules.IsValidIdempotencyKey(o.DeepLinkNonce) =>
            Invalid("app_instance_id and deep_link_nonce must be 1..128 printable ASCII characters without spaces"),
        OpenActivate o when o.LinkOpenedAt <= 0 => Invalid("link_opened_at must be a positive time in ns"),
        RequestInviteDelivery d when !Enum.IsDefined(d.DeliveryMethod) => Invalid("delivery_method must be SELENE_APP (the only first delivery BCAST allows a non-user)"),
        RequestInviteDelivery d when !IdRules.IsBoundedText(d.Destination, MaxDestinationLength) =>
            Invalid($"destination must be 1..{MaxDestinationLength} printable chars: the invitee's address on the method's channel"),
        ForwardBlock f when !IdRules.IsBoundedText(f.PresentedDeviceFingerprint, 256) => Invalid("presented_device_fingerprint must be 1..256 printable chars"),
        RevokeInvite r when !IdRules.IsBoundedText(r.Reason, MaxReasonLength) => Invalid($"reason must be 1..{MaxReasonLength} printable chars"),
        RevokeInvite r when r.ApOverrideRef is { } o && !IdRules.IsValidName(o, 128) => Invalid("ap_override_ref must be 1..128 of [A-Za-z0-9_.-]"),
        ProposeRole p when !IdRules.IsBoundedText(p.RequestedRoleName, 128) || !IdRules.IsBoundedText(p.ProposalText, 1024) =>
            Invalid("requested_role_name must be 1..128 and proposal_text 1..1024 printable chars"),
        ProposeRole p when p.RequestedPositionTemplate is { } t && !IdRules.IsBoundedText(t, 128) => Invalid("requested_position_template must be 1..128 printable chars"),
        EscalateDualRoleConflict e when !IdRules.IsBoundedText(e.InviteeIdentityHint, 256) || !IdRules.IsBoundedText(e.ConflictReason, MaxReasonLength) =>
            Invalid($"invitee_identity_hint must be 1..256 and conflict_reason 1..{MaxReasonLength} printable chars"),
        EscalateDualRoleConflict e when e.TokenId is { } t && !LinkIds.IsTokenId(t) => Invalid("token_id must look like link_<16 hex>"),
        _ => null,
    };

    private static Decision<LinkEvent>.Rejected? ValidateFields(IReadOnlyDictionary<string, string> fields, string name)
    {
        if (fields.Count > MaxFields) return Invalid($"{name} holds at most {MaxFields} fields");
        foreach (var (key, value) in fields)
        {
            if (!FieldKeyPattern().IsMatch(key)) return Invalid($"{name}: '{IdRules.Shorten(key)}' is not a field key (lower_snake, at most 64 chars)");
            if (!IdRules.IsBoundedText(value, MaxFieldValueLength)) return Invalid($"{name}.{key} must be 1..{MaxFieldValueLength} printable chars");
        }
        return null;
    }

    /// <summary>Decides a draft or token command against the state the runtime read.</summary>
    public static Decision<LinkEvent> Decide(LinkState state, LinkCommand command, LinkContext ctx)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (Validate(command) is { } invalid) return invalid;
        return command switch
        {
            GenerateInvite g => DecideGenerate(state, g, ctx),
            UpdateDraft u => DecideUpdate(state, u, ctx),
            OpenActivate o => DecideOpen(state.Token, o, ctx),
            ForwardBlock f => DecideForwardBlock(state.Token, f, ctx),
            RevokeInvite r => DecideRevoke(state, r, ctx),
            RecoverExpired r => DecideRecover(state, r, ctx),
            MarkSent m => DecideMarkSent(state.Token, m, ctx),
            RequestInviteDelivery d => DecideDeliveryRequest(state.Token, d, ctx),
            ConsumeInvite c => DecideConsume(state, c, ctx),
            _ => Invalid("not a draft or token command"),
        };
    }

    private static Decision<LinkEvent> DecideGenerate(LinkState state, GenerateInvite g, LinkContext ctx)
    {
        if (g.PrefilledFields.TryGetValue("tenant_id", out var tenant) && !string.Equals(tenant, ctx.TenantId, StringComparison.Ordinal))
            return Invalid("prefilled_fields.tenant_id names another tenant");
        var fields = g.PrefilledFields.SetItem("tenant_id", ctx.TenantId);
        IReadOnlyList<string> required;
        string schemaRef;
        if (g.InviteeType == InviteeType.Employee && g.PrefilledFields.TryGetValue("position_id", out var positionId))
        {
            // An EMPLOYEE invite to a position pins that position's ACTIVE schema (reference §3.3, §4.1).
            if (state.Schema is not { } schema || !string.Equals(schema.PositionId, positionId, StringComparison.Ordinal))
                return NotFound($"position {IdRules.Shorten(positionId)} does not exist");
            if (schema.Lifecycle != LinkSchemaFacts.ActiveLifecycle) return Invalid($"position {positionId} is {schema.Lifecycle}, not ACTIVE");
            if (schema.ActiveSchemaVersionId is not { } active) return Invalid($"position {positionId} has no ACTIVE requirement schema");
            if (!string.Equals(active, g.SchemaVersionId, StringComparison.Ordinal))
                return Invalid($"schema_version_id must be the position's ACTIVE version {active}");
            if (g.PrefilledFields.TryGetValue("company_id", out var company) && !string.Equals(company, schema.CompanyId, StringComparison.Ordinal))
                return Invalid($"position {positionId} belongs to company {schema.CompanyId}, not {IdRules.Shorten(company)}");
            fields = fields.SetItem("company_id", schema.CompanyId);
            required = schema.RequiredFieldKeys;
            schemaRef = "position:" + positionId;
        }
        else
        {
            required = DefaultRequired(g.InviteeType);
            schemaRef = "invitee:" + WireNames.Of(g.InviteeType);
        }

        var payloadHash = LinkIds.PayloadHash(ctx.TenantId, ctx.ActorUserId, g);
        var draftId = LinkIds.DraftId(ctx.TenantId, ctx.ActorUserId, payloadHash, ctx.IdempotencyKey);
        // The ids derive from the request and its key: an existing draft is this same invite, answered again unchanged.
        if (state.Draft is not null) return new Decision<LinkEvent>.Accepted([], LinkReasons.LinkOkGenerateDraft, []);
        var tokenId = LinkIds.TokenId(ctx.TenantId, draftId, 0);
        var reason = LinkReasons.LinkOkGenerateDraft.Name;
        return new Decision<LinkEvent>.Accepted([
            new LinkDraftCreated(ctx.TenantId, draftId, ctx.ActorUserId, reason, ctx.Now.Value, g.InviteeType, g.SchemaVersionId, schemaRef, g.ExpirationPolicyId,
                payloadHash, fields, [.. required.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], tokenId),
            new LinkTokenIssued(ctx.TenantId, tokenId, ctx.ActorUserId, reason, ctx.Now.Value, draftId, 0, checked(ctx.Now.Value + TokenTtlNs), null),
        ], LinkReasons.LinkOkGenerateDraft, []);
    }

    private static Decision<LinkEvent> DecideUpdate(LinkState state, UpdateDraft u, LinkContext ctx)
    {
        if (state.Draft is not { } draft) return NotFound($"draft {u.DraftId} does not exist");
        if (IsTerminal(draft.Status)) return State($"draft {draft.DraftId} is {WireNames.Of(draft.Status)}");
        if (state.Token is not { } token || IsTerminal(token.Status) || IsPastExpiry(token, ctx.Now))
            return State($"draft {draft.DraftId} has no live link (its token is {(state.Token is { } t ? WireNames.Of(t.Status) : "missing")}{(state.Token is { } x && IsPastExpiry(x, ctx.Now) ? ", past its expiry" : "")})");
        if (u.Fields.Keys.FirstOrDefault(k => PinnedKeys.Contains(k) && draft.Fields.TryGetValue(k, out var pinned) && pinned != u.Fields[k]) is { } changed)
            return Invalid($"{changed} pins the invite and cannot change; revoke it and invite again");
        var merged = draft.Fields.SetItems(u.Fields);
        var to = Missing(draft.RequiredFields, merged).Count == 0 ? LinkDraftStatus.DraftReady : LinkDraftStatus.DraftCreated;
        return new Decision<LinkEvent>.Accepted([new LinkDraftChanged(ctx.TenantId, draft.DraftId, ctx.ActorUserId, LinkReasons.LinkOkDraftUpdateCommit.Name, ctx.Now.Value,
            LinkAction.DraftUpdate, draft.Status, to == draft.Status ? null : to, Fields: u.Fields)], LinkReasons.LinkOkDraftUpdateCommit, []);
    }

    /// <summary>The refusal of a move on a finished token (a consumed, revoked or expired link, or one past its expiry at <paramref name="now"/>), or null when the token is live.</summary>
    public static Decision<LinkEvent>.Rejected? Finished(LinkToken token, UnixNanos now) => token.Status switch
    {
        LinkTokenStatus.Consumed => new(LinkReasons.LinkTokenConsumed, $"link {token.TokenId} was used to complete onboarding already"),
        LinkTokenStatus.Revoked => new(LinkReasons.LinkTokenRevoked, $"link {token.TokenId} was revoked"),
        LinkTokenStatus.Expired => new(LinkReasons.LinkTokenExpired, $"link {token.TokenId} expired and was recovered into {token.RecoveredByTokenId}"),
        _ when IsPastExpiry(token, now) => new(LinkReasons.LinkTokenExpired, $"link {token.TokenId} expired at {new UnixNanos(token.ExpiresAt)}; it can be recovered"),
        _ => null,
    };

    private static Decision<LinkEvent> DecideOpen(LinkToken? token, OpenActivate o, LinkContext ctx)
    {
        if (token is null) return NotFound($"link {o.TokenId} does not exist");
        if (Finished(token, ctx.Now) is { } finished) return finished;
        var device = LinkIds.DeviceHash(ctx.TenantId, token.TokenId, o.DeviceFingerprint);
        if (token.Status == LinkTokenStatus.Activated)
        {
            // The bound device opening again is the same activation (idempotent); another device is the forward branch.
            return device == token.BoundDeviceFingerprintHash
                ? new Decision<LinkEvent>.Accepted([], LinkReasons.LinkOkOpenActivate, [])
                : Blocked(token, device, ctx);
        }
        return new Decision<LinkEvent>.Accepted([Token(ctx, token, LinkAction.OpenActivate, LinkTokenStatus.Activated, LinkReasons.LinkOkOpenActivate) with
        {
            DeviceFingerprintHash = device,
            AppPlatform = o.AppPlatform,
            AppInstanceId = o.AppInstanceId,
            DeepLinkNonce = o.DeepLinkNonce,
            LinkOpenedAt = o.LinkOpenedAt,
        }], LinkReasons.LinkOkOpenActivate, [Activated(token.TokenId, device, o)]);
    }

    /// <summary>
    /// The handoff of an activation (reference §4.5 ONB_INVITED S01): the orchestrator starts the onboarding session with
    /// the activation context, keyed by the token so a link hands off once. The fingerprint travels only as its hash.
    /// </summary>
    private static OutboxMessage Activated(string tokenId, string deviceHash, OpenActivate o) =>
        new(LinkHandoffs.OperationType, LinkHandoffs.ActivatedKeyPrefix + tokenId, LinkHandoffs.InviteActivated, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["token_id"] = tokenId,
            ["device_fingerprint_hash"] = deviceHash,
            ["app_platform"] = WireNames.Of(o.AppPlatform),
            ["app_instance_id"] = o.AppInstanceId,
            ["deep_link_nonce"] = o.DeepLinkNonce,
            ["link_opened_at"] = o.LinkOpenedAt.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private static Decision<LinkEvent> DecideForwardBlock(LinkToken? token, ForwardBlock f, LinkContext ctx)
    {
        if (token is null) return NotFound($"link {f.TokenId} does not exist");
        if (token.Status != LinkTokenStatus.Activated) return State($"link {token.TokenId} is {WireNames.Of(token.Status)}: only an activated link is bound to a device");
        var device = LinkIds.DeviceHash(ctx.TenantId, token.TokenId, f.PresentedDeviceFingerprint);
        return device == token.BoundDeviceFingerprintHash ? Invalid("the presented device is the one the link is bound to") : Blocked(token, device, ctx);
    }

    /// <summary>
    /// Another device presented a bound link: it is BLOCKED and the attempt is recorded on the token, whose status and
    /// binding stay as they are, so the invitee's own device goes on (docs/decisions.md).
    /// </summary>
    private static Decision<LinkEvent> Blocked(LinkToken token, string device, LinkContext ctx) =>
        new Decision<LinkEvent>.Accepted([Token(ctx, token, LinkAction.ForwardBlock, token.Status, LinkReasons.LinkOkForwardBlockCommit) with { DeviceFingerprintHash = device }],
            LinkReasons.LinkOkForwardBlockCommit, []);

    private static Decision<LinkEvent> DecideRevoke(LinkState state, RevokeInvite r, LinkContext ctx)
    {
        if (state.Token is not { } token) return NotFound($"link {r.TokenId} does not exist");
        switch (token.Status)
        {
            case LinkTokenStatus.Revoked:
                return new Decision<LinkEvent>.Accepted([], LinkReasons.LinkOkRevoke, []);
            case LinkTokenStatus.Consumed:
                return new Decision<LinkEvent>.Rejected(LinkReasons.LinkTokenConsumed, $"link {token.TokenId} was used to complete onboarding: it cannot be revoked");
            case LinkTokenStatus.Expired:
                return State($"link {token.TokenId} expired and was recovered into {token.RecoveredByTokenId}: revoke that one");
            case LinkTokenStatus.Activated when r.ApOverrideRef is null || !state.ApOverrideInForce:
                return new Decision<LinkEvent>.Rejected(LinkReasons.LinkApOverrideRequired,
                    r.ApOverrideRef is null ? $"link {token.TokenId} was opened: revoking it needs ap_override_ref" : $"AP override {r.ApOverrideRef} is not in force for this actor");
        }
        var events = new List<LinkEvent>
        {
            Token(ctx, token, LinkAction.Revoke, LinkTokenStatus.Revoked, LinkReasons.LinkOkRevoke) with { RevokedReason = r.Reason, ApOverrideRef = r.ApOverrideRef },
        };
        if (state.Draft is { } draft && draft.ActiveTokenId == token.TokenId && !IsTerminal(draft.Status))
            events.Add(new LinkDraftChanged(ctx.TenantId, draft.DraftId, ctx.ActorUserId, LinkReasons.LinkOkRevoke.Name, ctx.Now.Value, LinkAction.Revoke, draft.Status,
                LinkDraftStatus.Revoked));
        return new Decision<LinkEvent>.Accepted(events, LinkReasons.LinkOkRevoke, []);
    }

    private static Decision<LinkEvent> DecideRecover(LinkState state, RecoverExpired r, LinkContext ctx)
    {
        if (state.Token is not { } token) return NotFound($"link {r.TokenId} does not exist");
        if (token.Status == LinkTokenStatus.Revoked) return new Decision<LinkEvent>.Rejected(LinkReasons.LinkTokenRevoked, $"link {token.TokenId} was revoked: a revoked link is never recovered");
        if (token.Status == LinkTokenStatus.Consumed) return new Decision<LinkEvent>.Rejected(LinkReasons.LinkTokenConsumed, $"link {token.TokenId} was used already");
        if (token.Status == LinkTokenStatus.Expired) return State($"link {token.TokenId} was recovered already into {token.RecoveredByTokenId}");
        if (!IsPastExpiry(token, ctx.Now)) return State($"link {token.TokenId} has not expired (it expires at {new UnixNanos(token.ExpiresAt)})");
        if (state.Draft is not { } draft || draft.DraftId != token.DraftId) throw new InvalidOperationException($"link {token.TokenId}'s draft {token.DraftId} was not loaded");
        if (IsTerminal(draft.Status)) return State($"draft {draft.DraftId} is {WireNames.Of(draft.Status)}");

        var generation = draft.TokenCount;
        var next = LinkIds.TokenId(ctx.TenantId, draft.DraftId, generation);
        var reason = LinkReasons.LinkOkExpiredRecoveryCommit;
        return new Decision<LinkEvent>.Accepted([
            Token(ctx, token, LinkAction.ExpiredRecovery, LinkTokenStatus.Expired, reason) with { RecoveredByTokenId = next },
            new LinkTokenIssued(ctx.TenantId, next, ctx.ActorUserId, reason.Name, ctx.Now.Value, draft.DraftId, generation, checked(ctx.Now.Value + TokenTtlNs), token.TokenId),
            new LinkDraftChanged(ctx.TenantId, draft.DraftId, ctx.ActorUserId, reason.Name, ctx.Now.Value, LinkAction.ExpiredRecovery, draft.Status, NewTokenId: next),
        ], reason, []);
    }

    /// <summary>
    /// LINK_DELIVER_INVITE's start: a live DRAFT_CREATED token (a SENT one was delivered already; an opened one needs no
    /// invite) records the request and hands its first step to the OS, keyed by token and request (the idempotency key),
    /// so a retry of the same request hands off nothing new.
    /// </summary>
    private static Decision<LinkEvent> DecideDeliveryRequest(LinkToken? token, RequestInviteDelivery d, LinkContext ctx)
    {
        if (token is null) return NotFound($"link {d.TokenId} does not exist");
        if (Finished(token, ctx.Now) is { } finished) return finished;
        if (token.Status != LinkTokenStatus.DraftCreated)
            return State($"link {token.TokenId} is {WireNames.Of(token.Status)}: only a DRAFT_CREATED link is delivered");
        var request = Hashing.ShortHash(16, ctx.TenantId, token.TokenId, ctx.IdempotencyKey);
        var reason = LinkReasons.LinkOkDeliveryRequest;
        return new Decision<LinkEvent>.Accepted([Token(ctx, token, LinkAction.DeliveryRequest, LinkTokenStatus.DraftCreated, reason)], reason,
            [DeliveryStep(ctx.TenantId, token.TokenId, request, "SETUP", new Dictionary<string, string>
            {
                ["delivery_method"] = WireNames.Of(d.DeliveryMethod),
                ["destination"] = d.Destination,
            })]);
    }

    /// <summary>
    /// One step of an invite's delivery as an outbox message: key <c>link_deliver:{token}:{request}:{step}</c>, so each step of
    /// a request has one row whoever hands it on; <paramref name="extra"/> adds the step's own inputs.
    /// </summary>
    public static OutboxMessage DeliveryStep(string tenantId, string tokenId, string request, string step, IReadOnlyDictionary<string, string>? extra = null)
    {
        var payload = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["tenant_id"] = tenantId, ["token_id"] = tokenId, ["request"] = request, ["step"] = step,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) payload[k] = v;
        return new OutboxMessage(LinkHandoffs.OperationType, $"link_deliver:{tokenId}:{request}:{step}", DeliveryStepEvent, payload);
    }

    private static Decision<LinkEvent> DecideMarkSent(LinkToken? token, MarkSent m, LinkContext ctx) => token switch
    {
        null => NotFound($"link {m.TokenId} does not exist"),
        { Status: LinkTokenStatus.Sent } => new Decision<LinkEvent>.Accepted([], LinkReasons.LinkOkMarkSent, []),
        { Status: LinkTokenStatus.DraftCreated } => new Decision<LinkEvent>.Accepted(
            [Token(ctx, token, LinkAction.MarkSent, LinkTokenStatus.Sent, LinkReasons.LinkOkMarkSent)], LinkReasons.LinkOkMarkSent, []),
        _ => State($"link {token.TokenId} is {WireNames.Of(token.Status)}: only a DRAFT_CREATED link is marked SENT"),
    };

    private static Decision<LinkEvent> DecideConsume(LinkState state, ConsumeInvite c, LinkContext ctx)
    {
        if (state.Token is not { } token) return NotFound($"link {c.TokenId} does not exist");
        if (token.Status == LinkTokenStatus.Consumed) return new Decision<LinkEvent>.Accepted([], LinkReasons.LinkOkConsume, []);
        if (token.Status != LinkTokenStatus.Activated) return State($"link {token.TokenId} is {WireNames.Of(token.Status)}: only an ACTIVATED link is consumed");
        if (state.Draft is not { } draft || draft.DraftId != token.DraftId) throw new InvalidOperationException($"link {token.TokenId}'s draft {token.DraftId} was not loaded");
        if (IsTerminal(draft.Status)) return State($"draft {draft.DraftId} is {WireNames.Of(draft.Status)}");
        var reason = LinkReasons.LinkOkConsume;
        return new Decision<LinkEvent>.Accepted([
            Token(ctx, token, LinkAction.Consume, LinkTokenStatus.Consumed, reason),
            new LinkDraftChanged(ctx.TenantId, draft.DraftId, ctx.ActorUserId, reason.Name, ctx.Now.Value, LinkAction.Consume, draft.Status, LinkDraftStatus.Committed),
        ], reason, []);
    }

    /// <summary>LINK_ROLE_PROPOSE_DRAFT: a proposal once per (tenant, role, text); the same proposal again is answered unchanged.</summary>
    public static Decision<LinkEvent> DecideRoleProposal(LinkRoleProposal? existing, ProposeRole p, LinkContext ctx)
    {
        if (Validate(p) is { } invalid) return invalid;
        if (existing is not null) return new Decision<LinkEvent>.Accepted([], LinkReasons.LinkOkRolePropose, []);
        return new Decision<LinkEvent>.Accepted([new LinkRoleProposed(ctx.TenantId, ctx.ActorUserId, LinkReasons.LinkOkRolePropose.Name, ctx.Now.Value,
            LinkIds.RoleProposalId(ctx.TenantId, p.RequestedRoleName, p.ProposalText), p.RequestedRoleName, p.ProposalText, p.RequestedPositionTemplate)],
            LinkReasons.LinkOkRolePropose, []);
    }

    /// <summary>LINK_INVITE_DUAL_ROLE_CONFLICT_ESCALATE_DRAFT: one case per (tenant, hint, token, reason).</summary>
    public static Decision<LinkEvent> DecideEscalation(LinkConflictEscalation? existing, EscalateDualRoleConflict e, LinkContext ctx)
    {
        if (Validate(e) is { } invalid) return invalid;
        if (existing is not null) return new Decision<LinkEvent>.Accepted([], LinkReasons.LinkOkDualRoleConflictEscalate, []);
        return new Decision<LinkEvent>.Accepted([new LinkConflictEscalated(ctx.TenantId, ctx.ActorUserId, LinkReasons.LinkOkDualRoleConflictEscalate.Name, ctx.Now.Value,
            LinkIds.EscalationCaseId(ctx.TenantId, e.InviteeIdentityHint, e.TokenId, e.ConflictReason), e.InviteeIdentityHint, e.TokenId, e.ConflictReason)],
            LinkReasons.LinkOkDualRoleConflictEscalate, []);
    }

    /// <summary>Folds a draft event. Rebuild = fold in event id order.</summary>
    public static LinkDraft EvolveDraft(LinkDraft? draft, LinkDraftEvent e, long eventId)
    {
        switch (draft, e)
        {
            case (null, LinkDraftCreated c):
            {
                var missing = Missing(c.RequiredFields, c.Fields);
                return new LinkDraft(c.TenantId, c.DraftId, c.ActorUserId, c.InviteeType, c.SchemaVersionId, c.SchemaRef, c.ExpirationPolicyId, c.PayloadHash,
                    c.Fields, c.RequiredFields, [.. missing], missing.Count == 0 ? LinkDraftStatus.DraftReady : LinkDraftStatus.DraftCreated, c.TokenId, 1,
                    c.ReasonCode, eventId, c.At, c.At);
            }
            case ({ } d, LinkDraftChanged c) when c.From == d.Status:
            {
                var fields = c.Fields is { } set ? d.Fields.SetItems(set) : d.Fields;
                return d with
                {
                    Fields = fields,
                    MissingFields = [.. Missing(d.RequiredFields, fields)],
                    Status = c.To ?? d.Status,
                    ActiveTokenId = c.NewTokenId ?? d.ActiveTokenId,
                    TokenCount = d.TokenCount + (c.NewTokenId is null ? 0 : 1),
                    LastReasonCode = c.ReasonCode,
                    SourceEventId = eventId,
                    UpdatedAt = c.At,
                };
            }
            default:
                throw new InvalidOperationException($"ledger event {eventId} ({e.GetType().Name}) does not apply to draft {draft?.DraftId ?? "(none)"} ({(draft is null ? "missing" : WireNames.Of(draft.Status))})");
        }
    }

    /// <summary>Folds a token event. Rebuild = fold in event id order.</summary>
    public static LinkToken EvolveToken(LinkToken? token, LinkTokenEvent e, long eventId) => (token, e) switch
    {
        (null, LinkTokenIssued i) => new LinkToken(i.TenantId, i.TokenId, i.DraftId, i.Generation, LinkTokenStatus.DraftCreated, i.ExpiresAt, null, null, null, null, null,
            0, null, null, null, i.RecoveredFromTokenId, null, i.ReasonCode, eventId, i.At, i.At),
        ({ } t, LinkTokenChanged c) when c.From == t.Status => c.Action switch
        {
            LinkAction.OpenActivate => t with
            {
                BoundDeviceFingerprintHash = c.DeviceFingerprintHash,
                AppPlatform = c.AppPlatform,
                AppInstanceId = c.AppInstanceId,
                DeepLinkNonce = c.DeepLinkNonce,
                LinkOpenedAt = c.LinkOpenedAt,
            },
            LinkAction.ForwardBlock => t with { ForwardBlockCount = t.ForwardBlockCount + 1, LastBlockedFingerprintHash = c.DeviceFingerprintHash },
            LinkAction.Revoke => t with { RevokedReason = c.RevokedReason, ApOverrideRef = c.ApOverrideRef },
            LinkAction.ExpiredRecovery => t with { RecoveredByTokenId = c.RecoveredByTokenId },
            _ => t,
        } with { Status = c.To, LastReasonCode = c.ReasonCode, SourceEventId = eventId, UpdatedAt = c.At },
        _ => throw new InvalidOperationException($"ledger event {eventId} ({e.GetType().Name}) does not apply to link {token?.TokenId ?? "(none)"} ({(token is null ? "missing" : WireNames.Of(token.Status))})"),
    };

    /// <summary>Folds a role proposal event.</summary>
    public static LinkRoleProposal EvolveRoleProposal(LinkRoleProposal? existing, LinkRoleProposed e, long eventId) => existing is null
        ? new LinkRoleProposal(e.TenantId, e.RoleProposalId, e.RequestedRoleName, e.ProposalText, e.RequestedPositionTemplate, e.ActorUserId, "PENDING_AP_APPROVAL", e.At)
        : throw new InvalidOperationException($"ledger event {eventId} proposes {e.RoleProposalId}, which exists");

    /// <summary>Folds an escalation event.</summary>
    public static LinkConflictEscalation EvolveEscalation(LinkConflictEscalation? existing, LinkConflictEscalated e, long eventId) => existing is null
        ? new LinkConflictEscalation(e.TenantId, e.EscalationCaseId, e.InviteeIdentityHint, e.TokenId, e.ConflictReason, e.ActorUserId, "ESCALATED", e.At)
        : throw new InvalidOperationException($"ledger event {eventId} escalates {e.EscalationCaseId}, which exists");

    private static LinkTokenChanged Token(LinkContext ctx, LinkToken t, LinkAction action, LinkTokenStatus to, ReasonCode reason) =>
        new(ctx.TenantId, t.TokenId, ctx.ActorUserId, reason.Name, ctx.Now.Value, action, t.Status, to);

    private static Decision<LinkEvent>.Rejected Invalid(string detail) => new(LinkReasons.LinkRefuseInvalid, detail);

    private static Decision<LinkEvent>.Rejected NotFound(string detail) => new(LinkReasons.LinkRefuseNotFound, detail);

    private static Decision<LinkEvent>.Rejected State(string detail) => new(LinkReasons.LinkRefuseStateInvalid, detail);
}
