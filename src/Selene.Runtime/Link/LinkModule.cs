using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Link;
using Selene.Engines.Position;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Link;

/// <summary>LINK_INVITE_GENERATE_DRAFT body.</summary>
internal sealed record GenerateInput(InviteeType InviteeType, string? SchemaVersionId = null, Dictionary<string, string>? PrefilledFields = null,
    string? ExpirationPolicyId = null);
/// <summary>LINK_INVITE_DRAFT_UPDATE_COMMIT body.</summary>
internal sealed record DraftUpdateInput(string DraftId, Dictionary<string, string> Fields);
/// <summary>LINK_INVITE_OPEN_ACTIVATE_COMMIT body.</summary>
internal sealed record OpenInput(string TokenId, string DeviceFingerprint, AppPlatform AppPlatform, string AppInstanceId, string DeepLinkNonce, long LinkOpenedAt);
/// <summary>LINK_INVITE_REVOKE_REVOKE body.</summary>
internal sealed record RevokeInput(string TokenId, string Reason, string? ApOverrideRef = null);
/// <summary>LINK_INVITE_EXPIRED_RECOVERY_COMMIT body.</summary>
internal sealed record RecoveryInput(string ExpiredTokenId);
/// <summary>LINK_INVITE_FORWARD_BLOCK_COMMIT body.</summary>
internal sealed record ForwardBlockInput(string TokenId, string PresentedDeviceFingerprint);
/// <summary>LINK_DELIVER_INVITE_START_COMMIT body: where the invite goes (the inviter confirmed it).</summary>
internal sealed record DeliverStartInput(string TokenId, InviteDeliveryMethod DeliveryMethod, string Destination);
/// <summary>LINK_INVITE_MARK_SENT_COMMIT body (the OS's handoff only).</summary>
internal sealed record MarkSentInput(string TokenId);
/// <summary>LINK_ROLE_PROPOSE_DRAFT body.</summary>
internal sealed record RoleProposeInput(string RequestedRoleName, string ProposalText, string? RequestedPositionTemplate = null);
/// <summary>LINK_INVITE_DUAL_ROLE_CONFLICT_ESCALATE_DRAFT body.</summary>
internal sealed record ConflictEscalateInput(string InviteeIdentityHint, string ConflictReason, string? TokenId = null);

/// <summary>What a LINK decision reads besides its target: the draft or token it pairs with, the pinned position's schema, the AP override.</summary>
internal sealed record LinkFacts(LinkDraft? Draft, LinkToken? Token, LinkSchemaFacts? Schema = null, bool OverrideInForce = false);

/// <summary>How the invitee's device opened a link: what <see cref="LinkModule.OpenAsync"/> passes to LINK_INVITE_OPEN_ACTIVATE_COMMIT.</summary>
public sealed record InviteOpen(string DeviceFingerprint, AppPlatform AppPlatform, string AppInstanceId, string DeepLinkNonce, long LinkOpenedAt);

/// <summary>
/// PH1.LINK on the engine platform: four aggregates (drafts, stream = draft id; tokens, stream = token id; role
/// proposals; dual-role conflict escalations), the eight simulations of reference §3.4, LINK_DELIVER_INVITE's start and
/// mark-sent projection with its delivery steps' handoff (<see cref="LinkInviteDelivery"/>), the invite secrets' index
/// (each issued token's derived secret, hashed, in <c>selene.link_token_index</c>) and the administrators' reads.
/// Lock order: a simulation that touches a token and its draft locks the token first; generation locks the new
/// draft (its token is new, and no one can reach it before the commit); a draft update locks the draft and reads its
/// token without a lock — every token change that matters to it (revoke, recovery, consume) also writes the draft,
/// and so waits for the draft's lock.
/// </summary>
public static class LinkModule
{
    /// <summary>Where an invite opens: the invitee's page under <c>selene serve</c>, followed by the secret.</summary>
    public const string InvitePathPrefix = "/invite/";

    private static readonly IReadOnlyDictionary<string, Type> DraftRecords = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["GENERATE"] = typeof(LinkDraftCreated),
        [WireNames.Of(LinkAction.DraftUpdate)] = typeof(LinkDraftChanged),
        [WireNames.Of(LinkAction.Revoke)] = typeof(LinkDraftChanged),
        [WireNames.Of(LinkAction.ExpiredRecovery)] = typeof(LinkDraftChanged),
        [WireNames.Of(LinkAction.Consume)] = typeof(LinkDraftChanged),
    };

    private static readonly IReadOnlyDictionary<string, Type> TokenRecords = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["ISSUE"] = typeof(LinkTokenIssued),
        [WireNames.Of(LinkAction.OpenActivate)] = typeof(LinkTokenChanged),
        [WireNames.Of(LinkAction.ForwardBlock)] = typeof(LinkTokenChanged),
        [WireNames.Of(LinkAction.Revoke)] = typeof(LinkTokenChanged),
        [WireNames.Of(LinkAction.ExpiredRecovery)] = typeof(LinkTokenChanged),
        [WireNames.Of(LinkAction.MarkSent)] = typeof(LinkTokenChanged),
        [WireNames.Of(LinkAction.DeliveryRequest)] = typeof(LinkTokenChanged),
        [WireNames.Of(LinkAction.Consume)] = typeof(LinkTokenChanged),
    };

    /// <summary>Invite drafts: <c>link_draft_ledger</c> / <c>link_draft_current</c>, stream id = draft id.</summary>
    public static Aggregate<LinkDraft, LinkDraftEvent, LinkEvent> Drafts { get; } = new(
        LinkReasons.EngineId, storeName: "link_draft", streamField: "draft_id", viewName: "draft",
        streamOf: e => e.DraftId,
        eventTypeOf: e => e is LinkDraftChanged c ? WireNames.Of(c.Action) : "GENERATE",
        evolve: LinkDecider.EvolveDraft,
        statusOf: s => WireNames.Of(s.Status),
        view: DraftView,
        journalFields: e => e is LinkDraftCreated c ? [("invitee_type", WireNames.Of(c.InviteeType)), ("schema_ref", c.SchemaRef)] : [],
        eventRecords: DraftRecords);

    /// <summary>Invite tokens: <c>link_token_ledger</c> / <c>link_token_current</c>, stream id = token id. No personal data, never the secret.</summary>
    public static Aggregate<LinkToken, LinkTokenEvent, LinkEvent> Tokens { get; } = new(
        LinkReasons.EngineId, storeName: "link_token", streamField: "token_id", viewName: "link",
        streamOf: e => e.TokenId,
        eventTypeOf: e => e is LinkTokenChanged c ? WireNames.Of(c.Action) : "ISSUE",
        evolve: LinkDecider.EvolveToken,
        statusOf: s => WireNames.Of(s.Status),
        view: s => TokenView(s, null),
        journalFields: e => e is LinkTokenIssued i ? [("draft_id", i.DraftId), ("generation", i.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture))] : [],
        eventRecords: TokenRecords);

    /// <summary>Role proposals: <c>link_role_proposal_ledger</c> / <c>_current</c>, stream id = role proposal id.</summary>
    public static Aggregate<LinkRoleProposal, LinkRoleProposed, LinkEvent> RoleProposals { get; } = new(
        LinkReasons.EngineId, storeName: "link_role_proposal", streamField: "role_proposal_id", viewName: "role_proposal",
        streamOf: e => e.RoleProposalId,
        eventTypeOf: _ => "PROPOSE",
        evolve: LinkDecider.EvolveRoleProposal,
        statusOf: s => s.Status,
        view: s => new JsonObject
        {
            ["role_proposal_id"] = s.RoleProposalId,
            ["requested_role_name"] = s.RequestedRoleName,
            ["proposal_text"] = s.ProposalText,
            ["requested_position_template"] = s.RequestedPositionTemplate,
            ["proposer_user_id"] = s.ProposerUserId,
            ["status"] = s.Status,
            ["created_at"] = new UnixNanos(s.CreatedAt).ToString(),
        });

    /// <summary>Dual-role conflict escalations: <c>link_escalation_ledger</c> / <c>_current</c>, stream id = escalation case id.</summary>
    public static Aggregate<LinkConflictEscalation, LinkConflictEscalated, LinkEvent> Escalations { get; } = new(
        LinkReasons.EngineId, storeName: "link_escalation", streamField: "escalation_case_id", viewName: "escalation",
        streamOf: e => e.EscalationCaseId,
        eventTypeOf: _ => "ESCALATE",
        evolve: LinkDecider.EvolveEscalation,
        statusOf: s => s.Status,
        view: s => new JsonObject
        {
            ["escalation_case_id"] = s.EscalationCaseId,
            ["invitee_identity_hint"] = s.InviteeIdentityHint,
            ["token_id"] = s.TokenId,
            ["conflict_reason"] = s.ConflictReason,
            ["escalated_by_user_id"] = s.EscalatedByUserId,
            ["status"] = s.Status,
            ["created_at"] = new UnixNanos(s.CreatedAt).ToString(),
        });

    public static EngineModule Module { get; } = new(
        "link", LinkReasons.EngineId,
        [
            new EngineSimulation<GenerateInput, GenerateInvite, LinkDraft, LinkEvent, LinkFacts>(
                Record(LinkSimulations.GenerateDraft), Drafts,
                toCommand: i => new GenerateInvite(i.InviteeType, i.SchemaVersionId,
                    (i.PrefilledFields ?? []).ToImmutableSortedDictionary(StringComparer.Ordinal), i.ExpirationPolicyId),
                validate: Validate,
                targetOf: (c, ctx) => LinkIds.DraftId(ctx.Tenant.Value, ctx.Actor.Value, LinkIds.PayloadHash(ctx.Tenant.Value, ctx.Actor.Value, c), ctx.IdempotencyKey.Value),
                decide: (draft, c, facts, ctx) => LinkDecider.Decide(new LinkState(draft, null, facts.Schema), c, Context(ctx)),
                readFacts: GenerateFactsAsync,
                others: [Tokens],
                result: (draft, _, _, events) => new JsonObject
                {
                    ["draft"] = DraftView(draft!),
                    ["token"] = events.OfType<LinkTokenIssued>().FirstOrDefault() is { } issued
                        ? new JsonObject { ["token_id"] = issued.TokenId, ["status"] = WireNames.Of(LinkTokenStatus.DraftCreated), ["expires_at"] = new UnixNanos(issued.ExpiresAt).ToString() }
                        : new JsonObject { ["token_id"] = draft!.ActiveTokenId },
                },
                effects: IndexIssuedTokensAsync),
            new EngineSimulation<DraftUpdateInput, UpdateDraft, LinkDraft, LinkEvent, LinkFacts>(
                Record(LinkSimulations.DraftUpdateCommit), Drafts,
                toCommand: i => new UpdateDraft(i.DraftId, i.Fields.ToImmutableSortedDictionary(StringComparer.Ordinal)),
                validate: Validate,
                targetOf: (c, _) => c.DraftId,
                decide: (draft, c, facts, ctx) => LinkDecider.Decide(new LinkState(draft, facts.Token), c, Context(ctx)),
                // The draft's lock serializes this with every token change that writes the draft; the token is read without one.
                readFacts: async (tx, _, draft, _, ct) => new LinkFacts(draft, draft is null ? null : await Tokens.GetAsync(tx, draft.ActiveTokenId, ct))),
            Token<OpenInput, OpenActivate>(LinkSimulations.OpenActivateCommit,
                i => new OpenActivate(i.TokenId, i.DeviceFingerprint, i.AppPlatform, i.AppInstanceId, i.DeepLinkNonce, i.LinkOpenedAt),
                lockDraft: false, result: OpenResult),
            Token<RevokeInput, RevokeInvite>(LinkSimulations.RevokeRevoke, i => new RevokeInvite(i.TokenId, i.Reason, i.ApOverrideRef), lockDraft: true),
            Token<RecoveryInput, RecoverExpired>(LinkSimulations.ExpiredRecoveryCommit, i => new RecoverExpired(i.ExpiredTokenId), lockDraft: true,
                result: RecoveryResult, effects: IndexIssuedTokensAsync),
            Token<ForwardBlockInput, ForwardBlock>(LinkSimulations.ForwardBlockCommit, i => new ForwardBlock(i.TokenId, i.PresentedDeviceFingerprint), lockDraft: false,
                result: (token, _, _, _) => new JsonObject
                {
                    ["token_id"] = token!.TokenId,
                    ["activation_status"] = "BLOCKED",
                    ["forward_block_count"] = token.ForwardBlockCount,
                }),
            Token<DeliverStartInput, RequestInviteDelivery>(LinkSimulations.DeliverInviteStart,
                i => new RequestInviteDelivery(i.TokenId, i.DeliveryMethod, i.Destination), lockDraft: false,
                result: (token, _, _, _) => new JsonObject { ["token_id"] = token!.TokenId, ["status"] = WireNames.Of(token.Status) }),
            Token<MarkSentInput, MarkSent>(LinkSimulations.MarkSentCommit, i => new MarkSent(i.TokenId), lockDraft: false,
                result: (token, _, _, _) => new JsonObject { ["token_id"] = token!.TokenId, ["status"] = WireNames.Of(token.Status) }),
            new EngineSimulation<RoleProposeInput, ProposeRole, LinkRoleProposal, LinkEvent, bool>(
                Record(LinkSimulations.RoleProposeDraft), RoleProposals,
                toCommand: i => new ProposeRole(i.RequestedRoleName, i.ProposalText, i.RequestedPositionTemplate),
                validate: Validate,
                targetOf: (c, ctx) => LinkIds.RoleProposalId(ctx.Tenant.Value, c.RequestedRoleName, c.ProposalText),
                decide: (existing, c, _, ctx) => LinkDecider.DecideRoleProposal(existing, c, Context(ctx))),
            new EngineSimulation<ConflictEscalateInput, EscalateDualRoleConflict, LinkConflictEscalation, LinkEvent, bool>(
                Record(LinkSimulations.DualRoleConflictEscalateDraft), Escalations,
                toCommand: i => new EscalateDualRoleConflict(i.InviteeIdentityHint, i.ConflictReason, i.TokenId),
                validate: Validate,
                targetOf: (c, ctx) => LinkIds.EscalationCaseId(ctx.Tenant.Value, c.InviteeIdentityHint, c.TokenId, c.ConflictReason),
                decide: (existing, c, _, ctx) => LinkDecider.DecideEscalation(existing, c, Context(ctx))),
        ],
        [Drafts, Tokens, RoleProposals, Escalations],
        LinkReasons.All,
        [
            new ReadRoute("ListInvites", "/invites",
                "Invite links in token id order; optional status=DRAFT_CREATED|SENT|ACTIVATED|CONSUMED|REVOKED|EXPIRED, after, limit (1..500). Never the secret.",
                NotFound: false, ListAsync, ListPage.Parameters),
            new ReadRoute("GetInvite", "/invites/{token_id}",
                "One invite link and its draft: status, missing fields, expiry, device binding hash, forward blocks, the onboarding session it started. Never the secret.", NotFound: true, GetAsync),
            new ReadRoute("GetInviteLink", "/invites/{token_id}/link",
                "The path of a live invite link (/invite/<secret>), derived from the server's link key on each read.", NotFound: true, LinkAsync),
            new ReadRoute("GetInviteDraft", "/invite-drafts/{draft_id}", "One invite draft with its active link.", NotFound: true, GetDraftAsync),
        ],
        Handoffs: [LinkInviteDelivery.Route]);

    private static SimulationRecord Record(string id) => LinkSimulations.All.Single(r => r.SimulationId == id);

    private static JsonInputError? Validate(LinkCommand c) =>
        LinkDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null;

    private static LinkContext Context(ExecutionContext ctx) => new(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now, ctx.IdempotencyKey.Value);

    /// <summary>A simulation on one token: the token is locked first, then (for a move that writes it) its draft.</summary>
    private static EngineSimulation<TInput, TCommand, LinkToken, LinkEvent, LinkFacts> Token<TInput, TCommand>(string simulationId,
        Func<TInput, TCommand> toCommand, bool lockDraft, Func<LinkToken?, TCommand, LinkFacts, IReadOnlyList<LinkEvent>, JsonObject>? result = null,
        EngineSimulation<TInput, TCommand, LinkToken, LinkEvent, LinkFacts>.Effects? effects = null)
        where TInput : class
        where TCommand : LinkTokenCommand => new(
        Record(simulationId), Tokens, toCommand,
        validate: Validate,
        targetOf: (c, _) => c.TokenId,
        decide: (token, c, facts, ctx) => LinkDecider.Decide(new LinkState(facts.Draft, token, null, facts.OverrideInForce), c, Context(ctx)),
        readFacts: async (tx, c, token, ctx, ct) =>
        {
            if (token is null) return new LinkFacts(null, null);
            var draft = lockDraft ? await Drafts.LockAndLoadAsync(tx, token.DraftId, ct) : await Drafts.GetAsync(tx, token.DraftId, ct);
            var inForce = c is RevokeInvite { ApOverrideRef: { } overrideRef } && await OverrideInForceAsync(tx, overrideRef, ctx, ct);
            return new LinkFacts(draft, token, null, inForce);
        },
        others: [Drafts],
        result: result,
        effects: effects);

    /// <summary>
    /// The position an EMPLOYEE invite names, as LINK's decider reads it: its company, lifecycle, ACTIVE schema version and
    /// what that version requires under its selectors (POSITION's <see cref="RequirementRules"/>). Read without POSITION's
    /// locks: engines never lock each other's streams.
    /// </summary>
    private static async Task<LinkFacts> GenerateFactsAsync(TenantTransaction tx, GenerateInvite g, LinkDraft? draft, ExecutionContext ctx, CancellationToken ct)
    {
        if (g.InviteeType != InviteeType.Employee || !g.PrefilledFields.TryGetValue("position_id", out var positionId) || !IdRules.IsShortHashId(positionId, "pos_")
            || await Position.PositionModule.Positions.GetAsync(tx, positionId, ct) is not { } position)
            return new LinkFacts(draft, null);
        var schemas = await Position.PositionModule.Schemas.GetAsync(tx, positionId, ct);
        var active = schemas?.ActiveVersionId is { } v ? schemas.Versions[v] : null;
        return new LinkFacts(draft, null, new LinkSchemaFacts(positionId, position.CompanyId, WireNames.Of(position.Lifecycle), active?.SchemaVersionId,
            active is null ? [] : RequirementRules.Required(active.FieldSpecs, active.Selectors).Select(f => f.FieldKey).ToArray()));
    }

    /// <summary>
    /// Whether the AP override a revoke names is in force for the acting user now: an ACCESS override that exists, targets
    /// the actor, is ACTIVE at this time (started, not expired, not revoked) and covers LINK_INVITE (or everything).
    /// </summary>
    private static async Task<bool> OverrideInForceAsync(TenantTransaction tx, string overrideId, ExecutionContext ctx, CancellationToken ct) =>
        await Access.GovernanceHandlers.Overrides.GetAsync(tx, overrideId, ct) is { } o
        && string.Equals(o.TargetUserId, ctx.Actor.Value, StringComparison.Ordinal)
        && o.OverrideType != OverrideType.Revoke
        && o.StartsAt <= ctx.Now.Value
        && o.StatusAt(ctx.Now) == OverrideStatus.Active
        && (o.Scope == "*" || o.Scope == LinkSimulations.InviteAction);

    /// <summary>
    /// Indexes every token the decision issued by the hash of its derived secret, in the decision's transaction; without a
    /// link key no token is issued (LINK_SECRET_KEY_UNAVAILABLE), since nobody could ever open it.
    /// </summary>
    private static Task<Decision<LinkEvent>.Rejected?> IndexIssuedTokensAsync(TenantTransaction tx, IReadOnlyList<LinkEvent> events, ExecutionContext ctx,
        ICollection<JournalDraft> journal, CancellationToken ct)
    {
        var issued = events.OfType<LinkTokenIssued>().ToArray();
        if (issued.Length == 0) return Task.FromResult<Decision<LinkEvent>.Rejected?>(null);
        if (ctx.Services?.Get<LinkKey>() is not { } key)
            return Task.FromResult<Decision<LinkEvent>.Rejected?>(new(LinkReasons.LinkSecretKeyUnavailable,
                "this Selene process has no link key, so it cannot issue invite links (the server keeps one in its data directory)"));
        foreach (var i in issued) LinkTokenIndex.DeferInsert(tx, LinkKey.HashOf(key.SecretOf(ctx.Tenant.Value, i.TokenId)), i.TokenId, ctx.Now.Value);
        return Task.FromResult<Decision<LinkEvent>.Rejected?>(null);
    }

    /// <summary>
    /// Open-activate's answer: ACTIVATED with the binding and the app-open context the device presented (what ONB's session
    /// start must present again), or BLOCKED for another device — which learns nothing of the bound device's context.
    /// </summary>
    private static JsonObject OpenResult(LinkToken? token, OpenActivate open, LinkFacts facts, IReadOnlyList<LinkEvent> events)
    {
        var blocked = events.OfType<LinkTokenChanged>().Any(e => e.Action == LinkAction.ForwardBlock);
        if (blocked)
            return new JsonObject
            {
                ["token_id"] = token!.TokenId,
                ["activation_status"] = "BLOCKED",
            };
        return new JsonObject
        {
            ["token_id"] = token!.TokenId,
            ["draft_id"] = token.DraftId,
            ["activation_status"] = WireNames.Of(token.Status),
            ["missing_required_fields"] = new JsonArray((facts.Draft?.MissingFields ?? []).Select(f => (JsonNode)f).ToArray()),
            ["bound_device_fingerprint_hash"] = token.BoundDeviceFingerprintHash,
            ["app_platform"] = token.AppPlatform is { } p ? WireNames.Of(p) : null,
            ["app_instance_id"] = token.AppInstanceId,
            ["deep_link_nonce"] = token.DeepLinkNonce,
            ["link_opened_at"] = token.LinkOpenedAt is { } at ? new UnixNanos(at).ToString() : null,
            ["prefilled_context_ref"] = "prefilled:" + token.TokenId,
        };
    }

    /// <summary>Recovery's answer: the new token (never its secret: the administrator reads the link), the draft and what it still misses.</summary>
    private static JsonObject RecoveryResult(LinkToken? expired, RecoverExpired command, LinkFacts facts, IReadOnlyList<LinkEvent> events)
    {
        var issued = events.OfType<LinkTokenIssued>().Single();
        return new JsonObject
        {
            ["expired_token_id"] = expired!.TokenId,
            ["new_token_id"] = issued.TokenId,
            ["draft_id"] = issued.DraftId,
            ["expires_at"] = new UnixNanos(issued.ExpiresAt).ToString(),
            ["missing_required_fields"] = new JsonArray((facts.Draft?.MissingFields ?? []).Select(f => (JsonNode)f).ToArray()),
        };
    }

    /// <summary>The (tenant, token id) a presented secret opens, or null (a malformed or unknown secret).</summary>
    public static async Task<(TenantId Tenant, string TokenId)?> ResolveAsync(SeleneDatabase db, string secret, CancellationToken ct) =>
        // The index holds backfill targets' links too (PersonalLinks): an invite's page opens invite tokens only.
        LinkKey.IsWellFormedSecret(secret) && await LinkTokenIndex.ResolveAsync(db, LinkKey.HashOf(secret), ct) is { } found && LinkIds.IsTokenId(found.TokenId)
            ? (new TenantId(found.TenantId), found.TokenId)
            : null;

    /// <summary>
    /// The invitee's device opens a link (the invite page's entry; the invitee has no API key): the secret is resolved to
    /// its tenant and token, and LINK_INVITE_OPEN_ACTIVATE_COMMIT runs through the one execution path as the link's
    /// inviter, whose authority covers opening their own invite. The idempotency key is derived from the token and every
    /// input, so a retry of the same open is answered with its first result. An unknown secret is LINK_REFUSE_NOT_FOUND.
    /// </summary>
    public static async Task<ExecutionResult> OpenAsync(SimulationExecutor executor, SeleneDatabase db, string secret, InviteOpen open, CancellationToken ct)
    {
        if (await ResolveAsync(db, secret, ct) is not { } invite || await InviterOfAsync(db, invite.Tenant, invite.TokenId, ct) is not { } inviter)
            return new ExecutionResult(ExecutionOutcome.Invalid, LinkReasons.LinkRefuseNotFound, "no such invite link", null, default);
        var body = new JsonObject
        {
            ["token_id"] = invite.TokenId,
            ["device_fingerprint"] = open.DeviceFingerprint,
            ["app_platform"] = WireNames.Of(open.AppPlatform),
            ["app_instance_id"] = open.AppInstanceId,
            ["deep_link_nonce"] = open.DeepLinkNonce,
            ["link_opened_at"] = open.LinkOpenedAt,
        };
        var key = "link_open:" + Hashing.ShortHash(32, invite.TokenId, open.DeviceFingerprint, WireNames.Of(open.AppPlatform), open.AppInstanceId, open.DeepLinkNonce,
            open.LinkOpenedAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var correlation = CorrelationId.FromDigest(SHA256.HashData(Encoding.UTF8.GetBytes($"{invite.Tenant.Value}|{inviter.Value}|{LinkSimulations.OpenActivateCommit}|{key}")));
        return await executor.ExecuteAsync(new ExecutionRequest(invite.Tenant, inviter, LinkSimulations.OpenActivateCommit, key,
            JsonSerializer.SerializeToElement(body), correlation, new TurnId(1)), ct);
    }

    private static async Task<UserId?> InviterOfAsync(SeleneDatabase db, TenantId tenant, string tokenId, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(db.App, tenant.Value, ct);
        return await Tokens.GetAsync(tx, tokenId, ct) is { } token && await Drafts.GetAsync(tx, token.DraftId, ct) is { } draft ? new UserId(draft.InviterUserId) : null;
    }

    private static string? Time(long? ns) => ns is { } v ? new UnixNanos(v).ToString() : null;

    /// <summary>The administrators' view of a draft: what the inviter gave, what is required and still missing.</summary>
    public static JsonObject DraftView(LinkDraft d) => new()
    {
        ["draft_id"] = d.DraftId,
        ["inviter_user_id"] = d.InviterUserId,
        ["invitee_type"] = WireNames.Of(d.InviteeType),
        ["schema_version_id"] = d.SchemaVersionId,
        ["schema_ref"] = d.SchemaRef,
        ["expiration_policy_id"] = d.ExpirationPolicyId,
        ["payload_hash"] = d.PayloadHash,
        ["fields"] = new JsonObject(d.Fields.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
        ["required_fields"] = new JsonArray(d.RequiredFields.Select(f => (JsonNode)f).ToArray()),
        ["missing_required_fields"] = new JsonArray(d.MissingFields.Select(f => (JsonNode)f).ToArray()),
        ["status"] = WireNames.Of(d.Status),
        ["active_token_id"] = d.ActiveTokenId,
        ["token_count"] = d.TokenCount,
        ["last_reason_code"] = d.LastReasonCode,
        ["created_at"] = Time(d.CreatedAt),
        ["updated_at"] = Time(d.UpdatedAt),
    };

    /// <summary>
    /// The administrators' view of a token: lifecycle, expiry (and, given the read's time, whether it has passed), the
    /// device binding as its hash, forward blocks and lineage. Never the secret, nor the bound device's app instance and
    /// nonce (what ONB's session start must present, known only to that device).
    /// </summary>
    public static JsonObject TokenView(LinkToken t, UnixNanos? now)
    {
        var view = new JsonObject
        {
            ["token_id"] = t.TokenId,
            ["draft_id"] = t.DraftId,
            ["generation"] = t.Generation,
            ["status"] = WireNames.Of(t.Status),
            ["expires_at"] = Time(t.ExpiresAt),
        };
        if (now is { } at) view["past_expiry"] = LinkDecider.IsPastExpiry(t, at);
        view["bound_device_fingerprint_hash"] = t.BoundDeviceFingerprintHash;
        view["app_platform"] = t.AppPlatform is { } p ? WireNames.Of(p) : null;
        view["link_opened_at"] = Time(t.LinkOpenedAt);
        view["forward_block_count"] = t.ForwardBlockCount;
        view["last_blocked_fingerprint_hash"] = t.LastBlockedFingerprintHash;
        view["revoked_reason"] = t.RevokedReason;
        view["ap_override_ref"] = t.ApOverrideRef;
        view["recovered_from_token_id"] = t.RecoveredFromTokenId;
        view["recovered_by_token_id"] = t.RecoveredByTokenId;
        view["last_reason_code"] = t.LastReasonCode;
        view["created_at"] = Time(t.CreatedAt);
        view["updated_at"] = Time(t.UpdatedAt);
        return view;
    }

    private static ReadResult.Refused NoToken(string id) => new(LinkReasons.LinkRefuseNotFound, $"no invite link {IdRules.Shorten(id)} in this tenant");

    private static async Task<ReadResult> ListAsync(ReadRequest request, CancellationToken ct)
    {
        if (ListPage.Read<LinkTokenStatus>(request, LinkIds.IsTokenId, "a token id", out var page) is { } refused) return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Tokens.ListAsync(tx, page.Status, page.After, page.Limit, ct);
        return new ReadResult.Ok(page.Body("invites", rows, r => TokenView(r.State, request.Now), r => r.StreamId));
    }

    // An id that is not a token id names no token: 404 as for any missing one, without a query.
    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["token_id"];
        if (!LinkIds.IsTokenId(id)) return NoToken(id);
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        if (await Tokens.GetAsync(tx, id, ct) is not { } token) return NoToken(id);
        var draft = await Drafts.GetAsync(tx, token.DraftId, ct) ?? throw new InvalidOperationException($"link {id}'s draft {token.DraftId} is missing");
        var session = await Onb.OnbModule.SessionOfTokenAsync(tx, id, ct);
        // LINK_DELIVER_INVITE's deliveries go to the token as recipient: the latest says whether (and why not) it arrived.
        var delivery = (await Delivery.DeliveryModule.ListAttemptsAsync(tx, null, id, null, null, 500, ct)).MaxBy(a => (a.CreatedAt, a.DeliveryAttemptId));
        return new ReadResult.Ok(new JsonObject
        {
            ["invite"] = TokenView(token, request.Now),
            ["draft"] = DraftView(draft),
            // The onboarding session the link started (one per token), once it has started.
            ["onboarding_session_id"] = session?.SessionId,
            ["last_delivery"] = delivery is null ? null : new JsonObject
            {
                ["delivery_attempt_id"] = delivery.DeliveryAttemptId,
                ["broadcast_id"] = delivery.Send.MessageId,
                ["channel"] = WireNames.Of(delivery.Send.Channel),
                ["status"] = WireNames.Of(delivery.Status),
                ["reason_code"] = delivery.ReasonCode,
            },
        });
    }

    /// <summary>
    /// GET /v1/invites/{token_id}/link: the invite's path, computed from the key on each read and never stored; only for a
    /// live link (a consumed, revoked or expired one answers why not, as opening it would).
    /// </summary>
    public static async Task<ReadResult> LinkAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["token_id"];
        if (!LinkIds.IsTokenId(id)) return NoToken(id);
        if (request.Services?.Get<LinkKey>() is not { } key)
            return new ReadResult.Refused(LinkReasons.LinkSecretKeyUnavailable, "this Selene process has no link key, so it cannot show invite links");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        if (await Tokens.GetAsync(tx, id, ct) is not { } token) return NoToken(id);
        if (LinkDecider.Finished(token, request.Now) is { } finished) return new ReadResult.Refused(finished.Reason, finished.Detail);
        return new ReadResult.Ok(new JsonObject
        {
            ["token_id"] = token.TokenId,
            ["link_path"] = InvitePathPrefix + key.SecretOf(request.Tenant.Value, token.TokenId),
            ["expires_at"] = Time(token.ExpiresAt),
        });
    }

    private static async Task<ReadResult> GetDraftAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["draft_id"];
        var missing = new ReadResult.Refused(LinkReasons.LinkRefuseNotFound, $"no invite draft {IdRules.Shorten(id)} in this tenant");
        if (!LinkIds.IsDraftId(id)) return missing;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        if (await Drafts.GetAsync(tx, id, ct) is not { } draft) return missing;
        var token = await Tokens.GetAsync(tx, draft.ActiveTokenId, ct);
        return new ReadResult.Ok(new JsonObject { ["draft"] = DraftView(draft), ["active_invite"] = token is null ? null : TokenView(token, request.Now) });
    }
}
