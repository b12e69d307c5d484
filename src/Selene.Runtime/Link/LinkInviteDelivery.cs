using System.Text.Json.Nodes;
using Selene.Engines.Bcast;
using Selene.Engines.Delivery;
using Selene.Engines.Link;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Delivery;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Link;

/// <summary>
/// LINK_DELIVER_INVITE after its start (reference §3.6: BCAST draft → BCAST deliver → DELIVERY send → on success the OS
/// projects the token DRAFT_CREATED → SENT), one <see cref="LinkDecider.DeliveryStepEvent"/> row per step, run by the
/// outbox worker as the inviter through the one executor, each step handing on the next with its effect (its commit
/// hook), as the backfill loop does (<c>OnbBackfillLoop</c>). The invitee is not a user: their recipient id is the token
/// id, and the destination the inviter confirmed becomes that recipient's channel setup (SETUP). The message carries the
/// invite's placeholder, which DELIVERY expands into the link only on its way to the provider (<see cref="PersonalLinks"/>).
/// MARK looks at the broadcast's delivery attempts: one SENT projects the token SENT; a FAILED one (none SENT) ends the
/// request with <see cref="LinkReasons.LinkInviteDeliveryFailed"/> and the token stays DRAFT_CREATED (the attempt's
/// reason is on the invite's read); while none has settled the step is refused as pending, a retryable reason, so the
/// outbox looks again after its backoff.
/// </summary>
public static class LinkInviteDelivery
{
    /// <summary>The steps, in order.</summary>
    public const string Setup = "SETUP", Draft = "DRAFT", Deliver = "DELIVER", Mark = "MARK";

    /// <summary>The route's name in the journal (the stage picks each row's simulation).</summary>
    public const string RouteName = "LINK_INVITE_DELIVERY_STEP";

    /// <summary>
    /// MARK waits for DELIVERY's attempt (five provider tries, 30 seconds apart): twenty looks 30 seconds apart cover it;
    /// past them the row is dead-lettered with LINK_INVITE_DELIVERY_PENDING and an operator re-drives it.
    /// </summary>
    public static HandoffPolicy Policy { get; } = new(20, TimeSpan.FromSeconds(30), TimeSpan.FromDays(1));

    internal static HandoffRoute Route { get; } = new(LinkDecider.DeliveryStepEvent, RouteName, _ => [], Policy, StepAsync);

    /// <summary>The message: the invite's placeholder, expanded into the invitee's link only when DELIVERY sends it.</summary>
    internal static string MessageText(string tokenId) =>
        $"You are invited to join. Open {PersonalLinks.InvitePlaceholder(tokenId)} in your browser to start your onboarding; the link works on one device.";

    private static CreateBroadcastDraft DraftOf(string tokenId) =>
        new(BcastClassification.Simple, "invite:" + tokenId, "invite:" + tokenId, ContentText: MessageText(tokenId));

    /// <summary>
    /// The broadcast of one request: BCAST's id of the DRAFT step's envelope, creator and handoff key, all fixed by the
    /// request, so the later steps (and the invite's read) find it without storing it.
    /// </summary>
    public static string BroadcastIdOf(string tenantId, string inviterUserId, string tokenId, string request) =>
        DraftOf(tokenId).TargetBroadcastId(new BcastContext(tenantId, inviterUserId, default,
            OutboxWorker.HandoffKey(tenantId, LinkDecider.DeliveryStep(tenantId, tokenId, request, Draft).IdempotencyKey)))!;

    private static async Task<HandoffAttempt> StepAsync(SeleneDatabase db, OutboxRow row, JsonObject payload, HandoffWorker worker, UnixNanos now, CancellationToken ct)
    {
        string Text(string name) => payload[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var (tokenId, request, step) = (Text("token_id"), Text("request"), Text("step"));
        if (!LinkIds.IsTokenId(tokenId) || !IdRules.IsValidName(request) || step is not (Setup or Draft or Deliver or Mark))
            return new HandoffAttempt.Refused(LinkReasons.LinkRefuseInvalid, "the step's payload names no token, request and step");
        var inviter = row.ActorUserId ?? "";
        var broadcast = BroadcastIdOf(row.TenantId, inviter, tokenId, request);

        LinkToken? token;
        IReadOnlyList<DeliveryAttempt> attempts = [];
        await using (var tx = await TenantTransaction.BeginAsync(db.App, row.TenantId, ct))
        {
            token = await LinkModule.Tokens.GetAsync(tx, tokenId, ct);
            if (step == Mark) attempts = await DeliveryModule.ListAttemptsAsync(tx, broadcast, tokenId, null, null, 100, ct);
        }
        if (token is null) return new HandoffAttempt.Refused(LinkReasons.LinkRefuseNotFound, $"no invite link {tokenId}");
        // Before anything is sent, a link that was opened, revoked or consumed meanwhile needs no invite any more.
        if (step != Mark && token.Status != LinkTokenStatus.DraftCreated)
            return new HandoffAttempt.Done(LinkReasons.LinkOkDeliveryRequest, $"link {tokenId} is {WireNames.Of(token.Status)}: nothing is sent");

        switch (step)
        {
            case Setup:
                var method = WireNames.Parse<InviteDeliveryMethod>(Text("delivery_method"));
                return Run(DeliveryModule.ChannelSetupCommit, new JsonObject
                {
                    ["user_id"] = tokenId,
                    ["setup_source"] = WireNames.Of(ChannelSetupSource.FirstSendRequest),
                    ["bindings"] = new JsonObject { [WireNames.Of(ChannelOf(method))] = Text("destination") },
                }, Next(row, tokenId, request, Draft, new Dictionary<string, string> { ["delivery_method"] = WireNames.Of(method) }));
            case Draft:
                var draft = DraftOf(tokenId);
                return Run(BcastSimulations.CreateDraft, new JsonObject
                {
                    ["classification"] = WireNames.Of(draft.Classification), ["audience_spec"] = draft.AudienceSpec,
                    ["content_payload_ref"] = draft.ContentPayloadRef, ["content_text"] = draft.ContentText,
                }, Next(row, tokenId, request, Deliver, new Dictionary<string, string> { ["delivery_method"] = Text("delivery_method") }));
            case Deliver:
                // The app is the invite's first delivery (BCAST's policy); BCAST walks its fallback if the app fails.
                return Run(BcastSimulations.DeliverCommit, new JsonObject
                {
                    ["broadcast_id"] = broadcast, ["recipient_id"] = tokenId, ["delivery_method"] = WireNames.Of(BcastDeliveryMethod.SeleneApp),
                    ["recipient_region"] = WireNames.Of(BcastRecipientRegion.Global), ["app_unavailable"] = false, ["delivery_plan_ref"] = "invite",
                    ["simulation_context"] = "invite:" + tokenId,
                }, Next(row, tokenId, request, Mark));
            default: // MARK
                // The invitee may open the delivered link (or finish) before this look comes round: it was delivered, and there is
                // nothing left to project (found by `selene demo`; before, the refused projection dead-lettered the row).
                if (token.Status is not (LinkTokenStatus.DraftCreated or LinkTokenStatus.Sent))
                    return new HandoffAttempt.Done(LinkReasons.LinkOkMarkSent, $"link {tokenId} is {WireNames.Of(token.Status)} already: the invite reached the invitee");
                if (attempts.FirstOrDefault(a => a.Status == DeliveryStatus.Sent) is not null)
                    return Run(LinkSimulations.MarkSentCommit, new JsonObject { ["token_id"] = tokenId });
                if (attempts.Where(a => a.Status == DeliveryStatus.Failed).MaxBy(a => a.CreatedAt) is { } failed && attempts.All(a => a.Status != DeliveryStatus.Pending))
                    return new HandoffAttempt.Done(LinkReasons.LinkInviteDeliveryFailed,
                        $"delivery {failed.DeliveryAttemptId} of link {tokenId} FAILED ({failed.ReasonCode}): the link stays DRAFT_CREATED");
                return new HandoffAttempt.Refused(LinkReasons.LinkInviteDeliveryPending, $"the delivery of link {tokenId} has not settled yet");
        }
    }

    /// <summary>The channel DELIVERY uses for an invite's method (BCAST's SELENE_APP is DELIVERY's APP_PUSH).</summary>
    private static DeliveryChannel ChannelOf(InviteDeliveryMethod method) => method switch
    {
        InviteDeliveryMethod.SeleneApp => DeliveryChannel.AppPush,
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    /// <summary>Enqueues the next step with the step's effect, under the step's correlation.</summary>
    private static CommitHook Next(OutboxRow row, string tokenId, string request, string step, IReadOnlyDictionary<string, string>? extra = null) =>
        (tx, context, _, _) =>
        {
            OutboxStore.Enqueue(tx, context.Correlation, [LinkDecider.DeliveryStep(row.TenantId, tokenId, request, step, extra)], context.Now.Value,
                new OutboxOrigin(context.Actor.Value, context.Turn));
            return Task.FromResult<IReadOnlyList<JournalDraft>>([]);
        };

    private static HandoffAttempt.Run Run(string simulationId, JsonObject inputs, CommitHook? next = null) => new(simulationId, inputs, null, next);
}
