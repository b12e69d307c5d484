using System.Collections.Immutable;
using Selene.Engines.Link;

namespace Selene.Engines.Tests;

/// <summary>PH1.LINK, pure: generation and missing fields (§3.3), the token and draft state machines (§3.2), folding.</summary>
public sealed class LinkDeciderTests
{
    private const string Tenant = "acme";
    private const string Admin = "alice";
    private static readonly UnixNanos Now = new(1_800_000_000_000_000_000);
    private static readonly LinkSchemaFacts Picker = new("pos_0000000000000001", "co-1", "ACTIVE", "v2", ["bank_account", "legal_name", "start_date"]);

    private static LinkContext Ctx(long? now = null, string key = "k1", string actor = Admin) => new(Tenant, actor, new UnixNanos(now ?? Now.Value), key);

    private static ImmutableSortedDictionary<string, string> Fields(params (string Key, string Value)[] fields) =>
        fields.ToImmutableSortedDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    private static GenerateInvite Employee(params (string, string)[] prefill) =>
        new(InviteeType.Employee, "v2", Fields([("position_id", Picker.PositionId), .. prefill]));

    private static Decision<LinkEvent>.Accepted Ok(Decision<LinkEvent> d) =>
        d as Decision<LinkEvent>.Accepted ?? throw new Xunit.Sdk.XunitException($"refused: {((Decision<LinkEvent>.Rejected)d).Reason.Name} {((Decision<LinkEvent>.Rejected)d).Detail}");

    private static void Refused(ReasonCode expected, Decision<LinkEvent> d) =>
        Assert.Equal(expected.Name, Assert.IsType<Decision<LinkEvent>.Rejected>(d).Reason.Name);

    /// <summary>Folds the events of an accepted decision into a draft and token (the runtime's two streams).</summary>
    private static (LinkDraft? Draft, LinkToken? Token, Dictionary<string, LinkToken> Tokens) Fold(LinkDraft? draft, Dictionary<string, LinkToken> tokens, IEnumerable<LinkEvent> events, ref long id)
    {
        LinkToken? last = null;
        foreach (var e in events)
        {
            id++;
            switch (e)
            {
                case LinkDraftEvent d: draft = LinkDecider.EvolveDraft(draft, d, id); break;
                case LinkTokenEvent t: tokens[t.TokenId] = last = LinkDecider.EvolveToken(tokens.GetValueOrDefault(t.TokenId), t, id); break;
            }
        }
        return (draft, last, tokens);
    }

    /// <summary>A generated EMPLOYEE invite, folded: its draft and first token.</summary>
    private static (LinkDraft Draft, LinkToken Token) Generated(params (string, string)[] prefill)
    {
        long id = 0;
        var (draft, token, _) = Fold(null, [], Ok(LinkDecider.Decide(LinkState.Empty with { Schema = Picker }, Employee(prefill), Ctx())).Events, ref id);
        return (draft!, token!);
    }

    private static LinkToken WithStatus(LinkToken t, LinkTokenStatus s, string? device = null) =>
        t with { Status = s, BoundDeviceFingerprintHash = s == LinkTokenStatus.Activated ? device ?? LinkIds.DeviceHash(Tenant, t.TokenId, "phone-1") : null };

    [Fact]
    public void DeliveryRequest_OfADraftCreatedLink_RecordsItAndHandsOffOneSetupStep_KeyedByTheRequest()
    {
        var (draft, token) = Generated();
        var request = new RequestInviteDelivery(token.TokenId, InviteDeliveryMethod.SeleneApp, "dana-phone");
        var first = Ok(LinkDecider.Decide(new LinkState(draft, token), request, Ctx(key: "deliver-1")));
        var change = Assert.IsType<LinkTokenChanged>(Assert.Single(first.Events));
        Assert.Equal((LinkAction.DeliveryRequest, LinkTokenStatus.DraftCreated, LinkTokenStatus.DraftCreated), (change.Action, change.From, change.To));
        Assert.Equal(LinkTokenStatus.DraftCreated, LinkDecider.EvolveToken(token, change, 9).Status);
        var step = Assert.Single(first.Outbox);
        Assert.Equal((LinkDecider.DeliveryStepEvent, "SETUP", "SELENE_APP", "dana-phone"),
            (step.EventType, step.Payload["step"], step.Payload["delivery_method"], step.Payload["destination"]));
        // The same request decides the same step; another request is another.
        Assert.Equal(step.IdempotencyKey, Assert.Single(Ok(LinkDecider.Decide(new LinkState(draft, token), request, Ctx(key: "deliver-1"))).Outbox).IdempotencyKey);
        Assert.NotEqual(step.IdempotencyKey, Assert.Single(Ok(LinkDecider.Decide(new LinkState(draft, token), request, Ctx(key: "deliver-2"))).Outbox).IdempotencyKey);
    }

    [Theory]
    [InlineData(LinkTokenStatus.Sent, "LINK_REFUSE_STATE_INVALID")]
    [InlineData(LinkTokenStatus.Activated, "LINK_REFUSE_STATE_INVALID")]
    [InlineData(LinkTokenStatus.Revoked, "LINK_TOKEN_REVOKED")]
    [InlineData(LinkTokenStatus.Consumed, "LINK_TOKEN_CONSUMED")]
    public void DeliveryRequest_OfALinkNotDraftCreated_IsRefused(LinkTokenStatus status, string reason)
    {
        var (draft, token) = Generated();
        var refused = Assert.IsType<Decision<LinkEvent>.Rejected>(LinkDecider.Decide(new LinkState(draft, WithStatus(token, status)),
            new RequestInviteDelivery(token.TokenId, InviteDeliveryMethod.SeleneApp, "dana-phone"), Ctx()));
        Assert.Equal(reason, refused.Reason.Name);
        Assert.Equal(LinkReasons.LinkTokenExpired, Assert.IsType<Decision<LinkEvent>.Rejected>(LinkDecider.Decide(new LinkState(draft, token),
            new RequestInviteDelivery(token.TokenId, InviteDeliveryMethod.SeleneApp, "dana-phone"), Ctx(now: token.ExpiresAt + 1))).Reason);
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(new LinkState(draft, token), new RequestInviteDelivery(token.TokenId, InviteDeliveryMethod.SeleneApp, ""), Ctx()));
    }

    [Fact]
    public void Open_ThatActivates_HandsTheActivationContextToOnboarding_OnceAndWithoutTheFingerprint()
    {
        var (draft, token) = Generated();
        var open = new OpenActivate(token.TokenId, "phone-1", AppPlatform.Web, "app-1", "nonce-1", Now.Value);
        var activated = Ok(LinkDecider.Decide(new LinkState(draft, token), open, Ctx()));
        var handoff = Assert.Single(activated.Outbox);
        Assert.Equal((LinkHandoffs.InviteActivated, LinkHandoffs.ActivatedKeyPrefix + token.TokenId, LinkHandoffs.OperationType),
            (handoff.EventType, handoff.IdempotencyKey, handoff.OperationType));
        Assert.Equal(new Dictionary<string, string>
        {
            ["token_id"] = token.TokenId,
            ["device_fingerprint_hash"] = LinkIds.DeviceHash(Tenant, token.TokenId, "phone-1"),
            ["app_platform"] = "WEB",
            ["app_instance_id"] = "app-1",
            ["deep_link_nonce"] = "nonce-1",
            ["link_opened_at"] = Now.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, handoff.Payload);
        Assert.DoesNotContain("phone-1", handoff.Payload.Values);
        // The bound device opening again, and another device's blocked attempt, hand nothing off.
        var bound = WithStatus(token, LinkTokenStatus.Activated);
        Assert.Empty(Ok(LinkDecider.Decide(new LinkState(draft, bound), open, Ctx())).Outbox);
        Assert.Empty(Ok(LinkDecider.Decide(new LinkState(draft, bound), open with { DeviceFingerprint = "laptop-9" }, Ctx())).Outbox);
    }

    [Fact]
    public void Generate_Employee_PinsThePositionsActiveSchema_AndMissingIsRequiredMinusPrefill()
    {
        var (draft, token) = Generated(("legal_name", "Ana Lima"));
        Assert.Equal(("position:" + Picker.PositionId, "v2", LinkDraftStatus.DraftCreated), (draft.SchemaRef, draft.SchemaVersionId, draft.Status));
        Assert.Equal(["bank_account", "legal_name", "start_date"], draft.RequiredFields.ToArray());
        Assert.Equal(["bank_account", "start_date"], draft.MissingFields.ToArray());
        Assert.Equal((Tenant, "co-1"), (draft.Fields["tenant_id"], draft.Fields["company_id"]));
        Assert.Equal((LinkTokenStatus.DraftCreated, Now.Value + LinkDecider.TokenTtlNs, draft.DraftId, token.TokenId), (token.Status, token.ExpiresAt, token.DraftId, draft.ActiveTokenId));
        Assert.Matches("^draft_[0-9a-f]{16}$", draft.DraftId);
        Assert.Matches("^link_[0-9a-f]{16}$", token.TokenId);
    }

    public static TheoryData<InviteeType, string[]> Defaults() => new()
    {
        { InviteeType.Company, [] },
        { InviteeType.Customer, [] },
        { InviteeType.FamilyMember, [] },
        { InviteeType.Friend, [] },
        { InviteeType.Associate, ["company_id", "position_id"] },
        { InviteeType.Employee, ["company_id", "location_id", "position_id", "start_date"] },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Generate_WithoutAPositionSchema_UsesTheInviteeTypesDefaults(InviteeType type, string[] missing)
    {
        // The tenant is known from the caller, so the defaults' tenant_id is never missing.
        long id = 0;
        var (draft, _, _) = Fold(null, [], Ok(LinkDecider.Decide(LinkState.Empty, new GenerateInvite(type, "v1", Fields()), Ctx())).Events, ref id);
        Assert.Equal(missing, draft!.MissingFields.ToArray());
        Assert.Equal("invitee:" + WireNames.Of(type), draft.SchemaRef);
    }

    [Fact]
    public void Generate_RefusesWhatContradictsTheFacts()
    {
        var ok = LinkState.Empty with { Schema = Picker };
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok, new GenerateInvite(InviteeType.Employee, null, Fields()), Ctx()));
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok, Employee(("tenant_id", "globex")), Ctx()));
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok, Employee(("company_id", "co-9")), Ctx()));
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok, Employee() with { SchemaVersionId = "v1" }, Ctx()));
        Refused(LinkReasons.LinkRefuseNotFound, LinkDecider.Decide(LinkState.Empty, Employee(), Ctx()));
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok with { Schema = Picker with { ActiveSchemaVersionId = null } }, Employee(), Ctx()));
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok with { Schema = Picker with { Lifecycle = "DRAFT" } }, Employee(), Ctx()));
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok, Employee(("Bad Key", "x")), Ctx()));
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(ok, Employee(("note", "nul\u0000")), Ctx()));
    }

    [Fact]
    public void Generate_SameRequestIsTheSameInvite_AnotherKeyIsAnotherInvite()
    {
        var a = Ok(LinkDecider.Decide(LinkState.Empty with { Schema = Picker }, Employee(), Ctx(key: "k1")));
        var b = Ok(LinkDecider.Decide(LinkState.Empty with { Schema = Picker }, Employee(), Ctx(key: "k2")));
        Assert.NotEqual(((LinkDraftCreated)a.Events[0]).DraftId, ((LinkDraftCreated)b.Events[0]).DraftId);
        var (draft, _) = Generated();
        var again = Ok(LinkDecider.Decide(new LinkState(draft, null, Picker), Employee(), Ctx(key: "k1")));
        Assert.Empty(again.Events);
    }

    [Fact]
    public void DraftUpdate_FillsMissingFields_ReadyWhenNoneMissing_PinnedKeysNeverChange()
    {
        var (draft, token) = Generated();
        var state = new LinkState(draft, token);
        var first = Ok(LinkDecider.Decide(state, new UpdateDraft(draft.DraftId, Fields(("bank_account", "DE89"))), Ctx(key: "u1")));
        long id = 10;
        var (d1, _, _) = Fold(draft, [], first.Events, ref id);
        Assert.Equal(LinkDraftStatus.DraftCreated, d1!.Status);
        Assert.Equal(["legal_name", "start_date"], d1.MissingFields.ToArray());
        var second = Ok(LinkDecider.Decide(state with { Draft = d1 }, new UpdateDraft(draft.DraftId, Fields(("legal_name", "Ana"), ("start_date", "2030-05-01"))), Ctx(key: "u2")));
        var (d2, _, _) = Fold(d1, [], second.Events, ref id);
        Assert.Equal((LinkDraftStatus.DraftReady, 0), (d2!.Status, d2.MissingFields.Length));

        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(state, new UpdateDraft(draft.DraftId, Fields(("position_id", "pos_0000000000000002"))), Ctx()));
        Refused(LinkReasons.LinkRefuseStateInvalid, LinkDecider.Decide(state with { Token = token with { Status = LinkTokenStatus.Revoked } },
            new UpdateDraft(draft.DraftId, Fields(("legal_name", "x"))), Ctx()));
        Refused(LinkReasons.LinkRefuseStateInvalid, LinkDecider.Decide(state, new UpdateDraft(draft.DraftId, Fields(("legal_name", "x"))), Ctx(now: token.ExpiresAt + 1)));
        Refused(LinkReasons.LinkRefuseNotFound, LinkDecider.Decide(LinkState.Empty, new UpdateDraft(draft.DraftId, Fields(("legal_name", "x"))), Ctx()));
    }

    /// <summary>The token moves of §3.2 (as built here), written out independently of the decider.</summary>
    public enum Move { Open, OpenSameDevice, OpenOtherDevice, ForwardBlock, Revoke, RevokeWithOverride, Recover, MarkSent, Consume }

    public static TheoryData<LinkTokenStatus, Move> AllPairs()
    {
        var data = new TheoryData<LinkTokenStatus, Move>();
        foreach (var s in Enum.GetValues<LinkTokenStatus>()) foreach (var m in Enum.GetValues<Move>()) data.Add(s, m);
        return data;
    }

    /// <summary>Expected (outcome code, status after) for a live, unexpired token; null status = unchanged.</summary>
    private static (string Reason, LinkTokenStatus? To) Expected(LinkTokenStatus from, Move move) => (from, move) switch
    {
        (LinkTokenStatus.Consumed, Move.Consume) => ("LINK_OK_CONSUME", null),
        (LinkTokenStatus.Consumed, Move.Open or Move.OpenSameDevice or Move.OpenOtherDevice or Move.Revoke or Move.RevokeWithOverride or Move.Recover) => ("LINK_TOKEN_CONSUMED", null),
        (LinkTokenStatus.Revoked, Move.Revoke or Move.RevokeWithOverride) => ("LINK_OK_REVOKE", null),
        (LinkTokenStatus.Revoked, Move.Open or Move.OpenSameDevice or Move.OpenOtherDevice or Move.Recover) => ("LINK_TOKEN_REVOKED", null),
        (LinkTokenStatus.Expired, Move.Open or Move.OpenSameDevice or Move.OpenOtherDevice) => ("LINK_TOKEN_EXPIRED", null),
        (LinkTokenStatus.DraftCreated or LinkTokenStatus.Sent, Move.Open or Move.OpenSameDevice or Move.OpenOtherDevice) => ("LINK_OK_OPEN_ACTIVATE", LinkTokenStatus.Activated),
        (LinkTokenStatus.Activated, Move.Open or Move.OpenSameDevice) => ("LINK_OK_OPEN_ACTIVATE", null),
        (LinkTokenStatus.Activated, Move.OpenOtherDevice or Move.ForwardBlock) => ("LINK_OK_FORWARD_BLOCK_COMMIT", LinkTokenStatus.Activated),
        (LinkTokenStatus.DraftCreated or LinkTokenStatus.Sent, Move.Revoke or Move.RevokeWithOverride) => ("LINK_OK_REVOKE", LinkTokenStatus.Revoked),
        (LinkTokenStatus.Activated, Move.Revoke) => ("LINK_AP_OVERRIDE_REQUIRED", null),
        (LinkTokenStatus.Activated, Move.RevokeWithOverride) => ("LINK_OK_REVOKE", LinkTokenStatus.Revoked),
        (LinkTokenStatus.DraftCreated, Move.MarkSent) => ("LINK_OK_MARK_SENT", LinkTokenStatus.Sent),
        (LinkTokenStatus.Sent, Move.MarkSent) => ("LINK_OK_MARK_SENT", null),
        (LinkTokenStatus.Activated, Move.Consume) => ("LINK_OK_CONSUME", LinkTokenStatus.Consumed),
        _ => ("LINK_REFUSE_STATE_INVALID", null),
    };

    private static LinkCommand CommandFor(Move move, string tokenId) => move switch
    {
        Move.Open or Move.OpenSameDevice => new OpenActivate(tokenId, "phone-1", AppPlatform.Web, "app-1", "nonce-1", Now.Value),
        Move.OpenOtherDevice => new OpenActivate(tokenId, "laptop-9", AppPlatform.Web, "app-9", "nonce-9", Now.Value),
        Move.ForwardBlock => new ForwardBlock(tokenId, "laptop-9"),
        Move.Revoke => new RevokeInvite(tokenId, "wrong person"),
        Move.RevokeWithOverride => new RevokeInvite(tokenId, "wrong person", "ovr-1"),
        Move.Recover => new RecoverExpired(tokenId),
        Move.MarkSent => new MarkSent(tokenId),
        Move.Consume => new ConsumeInvite(tokenId),
        _ => throw new ArgumentOutOfRangeException(nameof(move)),
    };

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void TokenStatusAndMove_BeforeExpiry_FollowTheTable(LinkTokenStatus from, Move move)
    {
        var (draft, fresh) = Generated();
        var token = WithStatus(fresh, from);
        var d = LinkDecider.Decide(new LinkState(draft, token, ApOverrideInForce: true), CommandFor(move, token.TokenId), Ctx());
        var (reason, to) = Expected(from, move);
        if (d is Decision<LinkEvent>.Rejected r)
        {
            Assert.Equal(reason, r.Reason.Name);
            Assert.Null(to);
            return;
        }
        var accepted = (Decision<LinkEvent>.Accepted)d;
        Assert.Equal(reason, accepted.Reason.Name);
        var change = accepted.Events.OfType<LinkTokenChanged>().SingleOrDefault();
        if (to is null) Assert.Null(change);
        else Assert.Equal((from, to.Value), (change!.From, change.To));
    }

    /// <summary>The draft moves of §3.2 (as built here): two updates, and the token moves that also move the draft.</summary>
    public enum DraftMove { UpdateSome, UpdateAll, Revoke, Consume, Recover }

    public static TheoryData<LinkDraftStatus, DraftMove> AllDraftPairs()
    {
        var data = new TheoryData<LinkDraftStatus, DraftMove>();
        foreach (var s in Enum.GetValues<LinkDraftStatus>()) foreach (var m in Enum.GetValues<DraftMove>()) data.Add(s, m);
        return data;
    }

    /// <summary>
    /// Expected (outcome code, draft status after) for a draft in <paramref name="from"/> whose token allows the move;
    /// null status = the draft's status is unchanged. Written out independently of the decider.
    /// </summary>
    private static (string Reason, LinkDraftStatus? To) ExpectedDraft(LinkDraftStatus from, DraftMove move) => (from, move) switch
    {
        (LinkDraftStatus.Committed or LinkDraftStatus.Revoked, DraftMove.UpdateSome or DraftMove.UpdateAll or DraftMove.Consume or DraftMove.Recover) => ("LINK_REFUSE_STATE_INVALID", null),
        (LinkDraftStatus.Committed or LinkDraftStatus.Revoked, DraftMove.Revoke) => ("LINK_OK_REVOKE", null),
        (LinkDraftStatus.DraftCreated, DraftMove.UpdateAll) => ("LINK_OK_DRAFT_UPDATE_COMMIT", LinkDraftStatus.DraftReady),
        (_, DraftMove.UpdateSome or DraftMove.UpdateAll) => ("LINK_OK_DRAFT_UPDATE_COMMIT", null),
        (_, DraftMove.Revoke) => ("LINK_OK_REVOKE", LinkDraftStatus.Revoked),
        (_, DraftMove.Consume) => ("LINK_OK_CONSUME", LinkDraftStatus.Committed),
        (_, DraftMove.Recover) => ("LINK_OK_EXPIRED_RECOVERY_COMMIT", null),
        _ => throw new ArgumentOutOfRangeException(nameof(move)),
    };

    [Theory]
    [MemberData(nameof(AllDraftPairs))]
    public void DraftStatusAndMove_FollowTheTable(LinkDraftStatus from, DraftMove move)
    {
        var (generated, fresh) = Generated();
        // DRAFT_READY has every required field; the others keep the generated (incomplete) fields.
        var draft = from == LinkDraftStatus.DraftReady
            ? generated with { Status = from, Fields = generated.Fields.SetItems(Fields(("bank_account", "DE89"), ("legal_name", "Ana"), ("start_date", "2030-05-01"))), MissingFields = [] }
            : generated with { Status = from };
        var token = WithStatus(fresh, move == DraftMove.Consume ? LinkTokenStatus.Activated : LinkTokenStatus.DraftCreated);
        var (command, now) = move switch
        {
            DraftMove.UpdateSome => ((LinkCommand)new UpdateDraft(draft.DraftId, Fields(("legal_name", "Ana"))), Now.Value),
            DraftMove.UpdateAll => (new UpdateDraft(draft.DraftId, Fields(("bank_account", "DE89"), ("legal_name", "Ana"), ("start_date", "2030-05-01"))), Now.Value),
            DraftMove.Revoke => (new RevokeInvite(token.TokenId, "wrong person"), Now.Value),
            DraftMove.Consume => (new ConsumeInvite(token.TokenId), Now.Value),
            _ => (new RecoverExpired(token.TokenId), token.ExpiresAt + 1),
        };
        var d = LinkDecider.Decide(new LinkState(draft, token), command, Ctx(now: now));
        var (reason, to) = ExpectedDraft(from, move);
        if (d is Decision<LinkEvent>.Rejected r)
        {
            Assert.Equal((reason, (LinkDraftStatus?)null), (r.Reason.Name, to));
            return;
        }
        var accepted = (Decision<LinkEvent>.Accepted)d;
        Assert.Equal(reason, accepted.Reason.Name);
        var change = accepted.Events.OfType<LinkDraftChanged>().SingleOrDefault();
        Assert.Equal(to, change?.To);
        if (change is not null) Assert.Equal(from, change.From);
        if (to is not null)
        {
            long id = 60;
            Assert.Equal(to, Fold(draft, new() { [token.TokenId] = token }, accepted.Events, ref id).Draft!.Status);
        }
    }

    [Theory]
    [InlineData(LinkTokenStatus.DraftCreated)]
    [InlineData(LinkTokenStatus.Sent)]
    [InlineData(LinkTokenStatus.Activated)]
    public void PastExpiry_OpenIsRefused_AndRecoveryIssuesANewTokenForTheSameDraft(LinkTokenStatus from)
    {
        var (draft, fresh) = Generated();
        var token = WithStatus(fresh, from);
        var later = token.ExpiresAt + 1;
        Refused(LinkReasons.LinkTokenExpired, LinkDecider.Decide(new LinkState(draft, token), CommandFor(Move.Open, token.TokenId), Ctx(now: later)));
        Refused(LinkReasons.LinkRefuseStateInvalid, LinkDecider.Decide(new LinkState(draft, token), new RecoverExpired(token.TokenId), Ctx(now: token.ExpiresAt)));

        var recovered = Ok(LinkDecider.Decide(new LinkState(draft, token), new RecoverExpired(token.TokenId), Ctx(now: later, key: "r1")));
        long id = 20;
        var tokens = new Dictionary<string, LinkToken> { [token.TokenId] = token };
        var (d, issued, _) = Fold(draft, tokens, recovered.Events, ref id);
        Assert.Equal((LinkTokenStatus.Expired, issued!.TokenId), (tokens[token.TokenId].Status, tokens[token.TokenId].RecoveredByTokenId));
        Assert.Equal((LinkTokenStatus.DraftCreated, draft.DraftId, 1, later + LinkDecider.TokenTtlNs, token.TokenId),
            (issued.Status, issued.DraftId, issued.Generation, issued.ExpiresAt, issued.RecoveredFromTokenId));
        Assert.Equal((issued.TokenId, 2, draft.Fields), (d!.ActiveTokenId, d.TokenCount, d.Fields));
        // The old token is history now: neither opened nor recovered again.
        Refused(LinkReasons.LinkTokenExpired, LinkDecider.Decide(new LinkState(d, tokens[token.TokenId]), CommandFor(Move.Open, token.TokenId), Ctx(now: later)));
        Refused(LinkReasons.LinkRefuseStateInvalid, LinkDecider.Decide(new LinkState(d, tokens[token.TokenId]), new RecoverExpired(token.TokenId), Ctx(now: later)));
    }

    [Fact]
    public void Open_BindsTheFirstDevice_AnotherDeviceIsBlocked_TheBoundDeviceGoesOn()
    {
        var (draft, token) = Generated();
        var opened = Ok(LinkDecider.Decide(new LinkState(draft, token), CommandFor(Move.Open, token.TokenId), Ctx()));
        long id = 30;
        var (_, bound, tokens) = Fold(draft, new() { [token.TokenId] = token }, opened.Events, ref id);
        Assert.Equal((LinkTokenStatus.Activated, LinkIds.DeviceHash(Tenant, token.TokenId, "phone-1"), AppPlatform.Web, "nonce-1"),
            (bound!.Status, bound.BoundDeviceFingerprintHash, bound.AppPlatform, bound.DeepLinkNonce));
        Assert.DoesNotContain("phone-1", bound.BoundDeviceFingerprintHash);

        var forwarded = Ok(LinkDecider.Decide(new LinkState(draft, bound), CommandFor(Move.OpenOtherDevice, token.TokenId), Ctx()));
        Assert.Equal(LinkReasons.LinkOkForwardBlockCommit, forwarded.Reason);
        var (_, afterBlock, _) = Fold(draft, tokens, forwarded.Events, ref id);
        Assert.Equal((LinkTokenStatus.Activated, bound.BoundDeviceFingerprintHash, 1), (afterBlock!.Status, afterBlock.BoundDeviceFingerprintHash, afterBlock.ForwardBlockCount));
        Assert.Empty(Ok(LinkDecider.Decide(new LinkState(draft, afterBlock), CommandFor(Move.OpenSameDevice, token.TokenId), Ctx())).Events);
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.Decide(new LinkState(draft, afterBlock), new ForwardBlock(token.TokenId, "phone-1"), Ctx()));
    }

    [Fact]
    public void Revoke_OpenedLinkNeedsAnOverrideInForce_AndRevokesTheDraft()
    {
        var (draft, fresh) = Generated();
        var token = WithStatus(fresh, LinkTokenStatus.Activated);
        Refused(LinkReasons.LinkApOverrideRequired, LinkDecider.Decide(new LinkState(draft, token), new RevokeInvite(token.TokenId, "x", "ovr-1"), Ctx()));
        var revoked = Ok(LinkDecider.Decide(new LinkState(draft, token, ApOverrideInForce: true), new RevokeInvite(token.TokenId, "x", "ovr-1"), Ctx()));
        long id = 40;
        var (d, t, _) = Fold(draft, new() { [token.TokenId] = token }, revoked.Events, ref id);
        Assert.Equal((LinkTokenStatus.Revoked, "ovr-1", LinkDraftStatus.Revoked), (t!.Status, t.ApOverrideRef, d!.Status));
    }

    [Fact]
    public void Consume_CommitsTheDraft_AndIsIdempotent()
    {
        var (draft, fresh) = Generated();
        var token = WithStatus(fresh, LinkTokenStatus.Activated);
        var consumed = Ok(LinkDecider.Decide(new LinkState(draft, token), new ConsumeInvite(token.TokenId), Ctx()));
        long id = 50;
        var (d, t, _) = Fold(draft, new() { [token.TokenId] = token }, consumed.Events, ref id);
        Assert.Equal((LinkTokenStatus.Consumed, LinkDraftStatus.Committed), (t!.Status, d!.Status));
        Assert.Empty(Ok(LinkDecider.Decide(new LinkState(d, t), new ConsumeInvite(token.TokenId), Ctx())).Events);
        Refused(LinkReasons.LinkTokenConsumed, LinkDecider.Decide(new LinkState(d, t), new RecoverExpired(t.TokenId), Ctx(now: t.ExpiresAt + 1)));
    }

    [Fact]
    public void Evolve_RejectsAnEventFromAnotherStatus_AndADraftCreatedTwice()
    {
        var (draft, token) = Generated();
        var change = new LinkTokenChanged(Tenant, token.TokenId, Admin, "LINK_OK_REVOKE", Now.Value, LinkAction.Revoke, LinkTokenStatus.Sent, LinkTokenStatus.Revoked);
        Assert.Throws<InvalidOperationException>(() => LinkDecider.EvolveToken(token, change, 99));
        var created = (LinkDraftCreated)Ok(LinkDecider.Decide(LinkState.Empty with { Schema = Picker }, Employee(), Ctx())).Events[0];
        Assert.Throws<InvalidOperationException>(() => LinkDecider.EvolveDraft(draft, created, 99));
    }

    [Fact]
    public void RoleProposalAndEscalation_AreOncePerContent()
    {
        var p = new ProposeRole("Night picker", "A picker role for the night shift", "picker");
        var first = Ok(LinkDecider.DecideRoleProposal(null, p, Ctx()));
        var proposal = LinkDecider.EvolveRoleProposal(null, (LinkRoleProposed)first.Events.Single(), 1);
        Assert.Equal("PENDING_AP_APPROVAL", proposal.Status);
        Assert.Matches("^role_prop_[0-9a-f]{16}$", proposal.RoleProposalId);
        Assert.Empty(Ok(LinkDecider.DecideRoleProposal(proposal, p, Ctx())).Events);

        var e = new EscalateDualRoleConflict("ana@example.com", "already a supervisor", null);
        var escalated = LinkDecider.EvolveEscalation(null, (LinkConflictEscalated)Ok(LinkDecider.DecideEscalation(null, e, Ctx())).Events.Single(), 1);
        Assert.Equal("ESCALATED", escalated.Status);
        Refused(LinkReasons.LinkRefuseInvalid, LinkDecider.DecideEscalation(null, e with { TokenId = "tok" }, Ctx()));
    }

    [Fact]
    public void Simulations_AreTheEightOfReference34_PlusLinkDeliverInvitesStartAndMarkSent_AndTheLegacyIdsStayRefused()
    {
        Assert.Equal(10, LinkSimulations.All.Count);
        Assert.Equal([LinkSimulations.DeliverInviteStart, LinkSimulations.MarkSentCommit],
            LinkSimulations.All.Where(s => s.RequestedAction == LinkSimulations.DeliverAction).Select(s => s.SimulationId));
        Assert.True(LinkSimulations.All.Single(s => s.SimulationId == LinkSimulations.MarkSentCommit).HandoffOnly);
        Assert.All(LinkSimulations.All, s => Assert.Equal((LinkReasons.EngineId, SimulationStatus.Active), (s.OwningEngine, s.Status)));
        Assert.All(LinkSimulations.Legacy, s => Assert.Equal(SimulationStatus.LegacyDoNotWire, s.Status));
        Assert.All(LinkSimulations.All.SelectMany(s => s.ReasonCodes), c => Assert.Contains(c, LinkReasons.All));
        Assert.All(LinkReasons.All, c => Assert.Equal(8u, c.Id / 1000));
    }
}
