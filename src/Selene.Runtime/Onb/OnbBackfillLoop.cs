using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.Bcast;
using Selene.Engines.Onb;
using Selene.Engines.Rem;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Bcast;
using Selene.Runtime.Link;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Onb;

/// <summary>
/// A backfill target's loop through the outbox (reference §4.5 ONB_REQUIREMENT_BACKFILL: per recipient {BCAST draft →
/// deliver → REM schedule BCAST_MHP_FOLLOWUP → ONB notify}), one <see cref="BackfillDecider.StepDueEvent"/> row per step.
/// The route's stage reads the target (and, for BCAST's steps, the target's broadcast) and runs the step's simulation
/// through the one executor as the campaign's creator; what comes next is enqueued with the step's effect (its commit
/// hook), so a step that does not commit hands nothing on and is retried like any handoff. BCAST's own mechanics carry
/// the reminders: after the WAITING window the recipient is escalated and deferred with a reminder, REM fires it at its
/// due time and BCAST delivers the follow-up; ONB only counts. A step of a target that has ended is settled without
/// running anything (<see cref="HandoffAttempt.Done"/>), and the end itself (the last answer, or the failure) hands on
/// CLOSE (the broadcast is canceled, so a reminder already scheduled fires into a closed recipient and sends nothing)
/// and COMPLETE (the campaign completes once every target is terminal).
/// </summary>
public static class OnbBackfillLoop
{
    /// <summary>How many reminders follow the request before a target fails (ONB_BACKFILL_REMINDERS_EXHAUSTED).</summary>
    public const int MaxReminders = 2;

    /// <summary>How long a holder has between the request (or a reminder) and the next reminder, and after the last one.</summary>
    public static readonly TimeSpan ReminderInterval = TimeSpan.FromDays(1);

    /// <summary>The route's name in the journal (the stage picks each row's simulation).</summary>
    public const string RouteName = "ONB_BACKFILL_STEP";

    /// <summary>The message's placeholder for the holder's personal link, expanded only when DELIVERY sends it (<see cref="PersonalLinks"/>).</summary>
    internal static string MessageText(BackfillTarget target)
    {
        var count = target.Missing.Length;
        return $"Your position's requirements have changed: please answer {count.ToString(CultureInfo.InvariantCulture)} " +
               $"question{(count == 1 ? "" : "s")}, one at a time, at {PersonalLinks.Placeholder(target.TargetId)}";
    }

    /// <summary>
    /// Every simulation a campaign's loop runs as its launcher — its own steps and what they hand on (DELIVERY's send and
    /// proof, REM's reminder, BCAST's proof and firing, a holder's answer and the completion). A start checks the launcher
    /// may run them all (<see cref="BackfillStartFacts.LauncherWithheld"/>); a test holds the list to what a campaign runs.
    /// </summary>
    public static IReadOnlyList<string> LauncherSimulations { get; } =
    [
        BcastSimulations.CreateDraft, BcastSimulations.DeliverCommit, BcastSimulations.EscalateCommit, BcastSimulations.DeferCommit,
        BcastSimulations.CancelCommit, BcastSimulations.DeliveryProofCommit, BcastSimulations.ReminderFiredCommit,
        Delivery.DeliveryModule.Send, Delivery.DeliveryModule.Proof, RemSimulations.Schedule, RemSimulations.DeliverDue,
        OnbSimulations.BackfillNotifyCommit, OnbSimulations.BackfillTargetFailCommit, OnbSimulations.BackfillAnswerCommit, OnbSimulations.BackfillCompleteCommit,
    ];

    internal static HandoffRoute Route { get; } = new(BackfillDecider.StepDueEvent, RouteName, _ => [], Stage: StepAsync);

    /// <summary>The draft of a target's broadcast: SIMPLE, no acknowledgement required, its text carrying the link's placeholder.</summary>
    private static CreateBroadcastDraft Draft(BackfillTarget t) =>
        new(BcastClassification.Simple, "backfill:" + t.CampaignId, "backfill:" + t.TargetId, ContentText: MessageText(t));

    /// <summary>
    /// The id of the target's broadcast: BCAST derives it from the tenant, the creator, the envelope and the key of the
    /// DRAFT step's handoff, all fixed by the target, so every later step finds it without storing it anywhere.
    /// </summary>
    internal static string BroadcastIdOf(BackfillCampaign campaign, BackfillTarget t)
    {
        var key = OutboxWorker.HandoffKey(campaign.TenantId, BackfillDecider.StepDue(campaign.TenantId, campaign.CampaignId, t.UserId, BackfillSteps.Draft, 0).IdempotencyKey);
        return Draft(t).TargetBroadcastId(new BcastContext(campaign.TenantId, campaign.CreatedByUserId, default, key))!;
    }

    private static async Task<HandoffAttempt> StepAsync(SeleneDatabase db, OutboxRow row, JsonObject payload, HandoffWorker worker, UnixNanos now, CancellationToken ct)
    {
        string Text(string name) => payload[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var (campaignId, userId, step) = (Text("campaign_id"), Text("user_id"), Text("step"));
        if (!BackfillDecider.IsCampaignId(campaignId) || !IdRules.IsValidName(userId) || !BackfillSteps.All.Contains(step) ||
            !int.TryParse(Text("round"), NumberStyles.None, CultureInfo.InvariantCulture, out var round))
            return new HandoffAttempt.Refused(OnbReasons.OnbRefuseInvalid, "the step's payload names no campaign, user, step and round");

        BackfillCampaign? campaign;
        BackfillTarget? target;
        IReadOnlyList<BackfillTarget> all = [];
        BcastEnvelope? envelope = null;
        await using (var tx = await TenantTransaction.BeginAsync(db.App, row.TenantId, ct))
        {
            campaign = await OnbBackfill.Campaigns.GetAsync(tx, campaignId, ct);
            target = await OnbBackfill.Targets.GetAsync(tx, BackfillDecider.TargetId(campaignId, userId), ct);
            if (campaign is not null && target is not null)
            {
                if (step == BackfillSteps.Complete) all = await OnbBackfill.TargetsOfAsync(tx, campaignId, ct);
                if (step == BackfillSteps.Close) envelope = await BcastModule.Envelopes.GetAsync(tx, BroadcastIdOf(campaign, target), ct);
            }
        }
        if (campaign is null || target is null)
            return new HandoffAttempt.Refused(OnbReasons.OnbRefuseNotFound, $"no target {IdRules.Shorten(userId)} of campaign {campaignId}");

        switch (step)
        {
            case BackfillSteps.Complete:
                if (campaign.State != BackfillCampaignState.Running) return Skipped($"the campaign is {WireNames.Of(campaign.State)}");
                var open = all.Count(t => !BackfillDecider.IsTerminal(t.Status));
                if (open > 0) return Skipped($"{open.ToString(CultureInfo.InvariantCulture)} of {campaign.TotalTargets.ToString(CultureInfo.InvariantCulture)} targets are open");
                return Run(OnbSimulations.BackfillCompleteCommit, new JsonObject { ["campaign_id"] = campaignId });
            case BackfillSteps.Close:
                if (envelope is null || envelope.Status is BcastEnvelopeStatus.Canceled or BcastEnvelopeStatus.Expired)
                    return Skipped("the target's broadcast is not open");
                return Run(BcastSimulations.CancelCommit, new JsonObject
                {
                    ["broadcast_id"] = envelope.BroadcastId, ["cancel_reason"] = "backfill target " + WireNames.Of(target.Status),
                });
        }
        if (BackfillDecider.IsTerminal(target.Status)) return Skipped($"the target is {WireNames.Of(target.Status)}");

        var broadcast = BroadcastIdOf(campaign, target);
        var recipient = new JsonObject { ["broadcast_id"] = broadcast, ["recipient_id"] = userId };
        switch (step)
        {
            case BackfillSteps.Draft:
                var draft = Draft(target);
                return Run(BcastSimulations.CreateDraft, new JsonObject
                {
                    ["classification"] = WireNames.Of(draft.Classification), ["audience_spec"] = draft.AudienceSpec,
                    ["content_payload_ref"] = draft.ContentPayloadRef, ["content_text"] = draft.ContentText,
                }, Next((BackfillSteps.Deliver, 0, TimeSpan.Zero)));
            case BackfillSteps.Deliver:
                // The app first (BCAST's policy); BCAST walks its fallback when the app fails.
                return Run(BcastSimulations.DeliverCommit, new JsonObject
                {
                    ["broadcast_id"] = broadcast, ["recipient_id"] = userId, ["delivery_method"] = "SELENE_APP", ["recipient_region"] = "GLOBAL",
                    ["app_unavailable"] = false, ["delivery_plan_ref"] = "backfill", ["simulation_context"] = "backfill:" + campaignId,
                }, Next((BackfillSteps.Followup, 0, FollowupDelay(0))));
            case BackfillSteps.Followup when round >= MaxReminders:
                return Run(OnbSimulations.BackfillTargetFailCommit, new JsonObject { ["campaign_id"] = campaignId, ["recipient_user_id"] = userId });
            case BackfillSteps.Followup:
                recipient["escalation_reason"] = "NO_ANSWER";
                return Run(BcastSimulations.EscalateCommit, recipient, Next((BackfillSteps.Schedule, round, TimeSpan.Zero)));
            case BackfillSteps.Schedule:
                // BCAST hands the reminder to REM (BCAST_MHP_FOLLOWUP, due at the deferral's end); the next round's follow-up
                // waits for that reminder's delivery and its window (or, after the last reminder, one more interval).
                recipient["handoff_to_reminder"] = true;
                recipient["defer_duration_ms"] = (long)ReminderInterval.TotalMilliseconds;
                return Run(BcastSimulations.DeferCommit, recipient,
                    Next((BackfillSteps.Notify, round, TimeSpan.Zero), (BackfillSteps.Followup, round + 1, ReminderInterval + FollowupDelay(round + 1))));
            default: // NOTIFY
                return Run(OnbSimulations.BackfillNotifyCommit, new JsonObject
                {
                    ["campaign_id"] = campaignId, ["recipient_user_id"] = userId, ["reminder"] = round > 0,
                });
        }

        // Enqueues the next steps with the step's effect, at the effect's time plus each step's delay, under the step's correlation.
        CommitHook Next(params (string Step, int Round, TimeSpan Delay)[] next) => (tx, context, _, _) =>
        {
            OutboxStore.Enqueue(tx, context.Correlation,
                next.Select(n => BackfillDecider.StepDue(row.TenantId, campaignId, userId, n.Step, n.Round, context.Now.Value + n.Delay.Ticks * 100)).ToArray(),
                context.Now.Value, new OutboxOrigin(context.Actor.Value, context.Turn));
            return Task.FromResult<IReadOnlyList<JournalDraft>>([]);
        };
    }

    /// <summary>
    /// How long after a round's delivery its follow-up comes: BCAST's WAITING window (escalation needs it to have
    /// passed), or — once the reminders are exhausted — one more interval for a last answer before the target fails.
    /// </summary>
    private static TimeSpan FollowupDelay(int round) =>
        round >= MaxReminders ? ReminderInterval : TimeSpan.FromTicks(BcastDecider.WaitingWindowNs / 100);

    private static HandoffAttempt.Run Run(string simulationId, JsonObject inputs, CommitHook? next = null) => new(simulationId, inputs, null, next);

    private static HandoffAttempt.Done Skipped(string detail) => new(OnbReasons.OnbBackfillStepSkipped, detail);
}
