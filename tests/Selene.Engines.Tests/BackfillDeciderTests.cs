using Selene.Engines.Onb;

namespace Selene.Engines.Tests;

/// <summary>
/// Requirement backfill, pure (reference §4.2): targets are the current holders with what they miss, 0 open targets
/// complete at once, notify/remind/answer/fail move targets until terminal, the campaign completes with its counts
/// only when every target is terminal, and terminal targets stay put.
/// </summary>
public sealed class BackfillDeciderTests
{
    private const string PositionId = "pos_0123456789abcdef";
    private static readonly OnbContext Ctx = new("acme", "alice", new UnixNanos(1_800_000_000_000_000_000), "k1");

    private static readonly OnbQuestion License = new("license_no", OnbFieldType.String, "License?", "Your license number", false);
    private static readonly OnbQuestion Years = new("years", OnbFieldType.Integer, "Years?", "Years of experience", false);

    private static BackfillHolder Holder(string user, params string[] known) => new(user, known.ToHashSet(StringComparer.Ordinal));

    private static BackfillStartFacts Facts(params BackfillHolder[] holders) => new("acme_co", holders, [License, Years]);

    private static StartBackfill Start(string scope = BackfillDecider.CurrentAndNew) => new("acme_co", PositionId, "v2", scope);

    private static (BackfillCampaign Campaign, Dictionary<string, BackfillTarget> Targets) Apply(
        BackfillCampaign? campaign, Dictionary<string, BackfillTarget> targets, Decision<BackfillEvent> d)
    {
        foreach (var e in Assert.IsType<Decision<BackfillEvent>.Accepted>(d).Events)
        {
            switch (e)
            {
                case BackfillCampaignEvent c: campaign = BackfillDecider.EvolveCampaign(campaign, c); break;
                case BackfillTargetAdded a: targets[a.UserId] = BackfillDecider.EvolveTarget(null, a); break;
                case BackfillTargetStepped s: var user = targets.Single(t => t.Value.TargetId == s.TargetId).Key; targets[user] = BackfillDecider.EvolveTarget(targets[user], s); break;
            }
        }
        return (campaign!, targets);
    }

    private static (BackfillCampaign Campaign, Dictionary<string, BackfillTarget> Targets) Started(params BackfillHolder[] holders) =>
        Apply(null, new Dictionary<string, BackfillTarget>(StringComparer.Ordinal), BackfillDecider.DecideStart(null, Start(), Facts(holders), Ctx));

    private static (BackfillCampaign, Dictionary<string, BackfillTarget>) Step((BackfillCampaign C, Dictionary<string, BackfillTarget> T) s, BackfillTargetCommand command) =>
        Apply(s.C, s.T, BackfillDecider.DecideTarget(s.C, s.T[command.UserId], command, Ctx));

    [Fact]
    public void Start_TargetsEveryCurrentHolder_WithWhatTheyMiss_InSchemaOrder_AndRuns()
    {
        var (campaign, targets) = Started(Holder("bob"), Holder("carol", "license_no"), Holder("dave", "license_no", "years"));
        Assert.Equal(BackfillCampaignState.Running, campaign.State);
        Assert.Equal(3, campaign.TotalTargets);
        Assert.Null(campaign.CompletedTargets);
        Assert.Equal(BackfillDecider.CampaignId("acme", PositionId, "v2", "k1"), campaign.CampaignId);
        Assert.Equal(["license_no", "years"], targets["bob"].Missing.Select(q => q.FieldKey));
        Assert.Equal(["years"], targets["carol"].Missing.Select(q => q.FieldKey));
        Assert.Equal(BackfillTargetStatus.Pending, targets["bob"].Status);
        Assert.Equal(BackfillTargetStatus.Exempted, targets["dave"].Status);
        Assert.Equal(BackfillDecider.TargetId(campaign.CampaignId, "bob"), targets["bob"].TargetId);
    }

    [Fact]
    public void Start_ByALauncherTheGateWouldRefuseAStepOfTheLoop_IsRefused_NamingWhatIsWithheld_AndStartsNothing()
    {
        var refused = Assert.IsType<Decision<BackfillEvent>.Rejected>(BackfillDecider.DecideStart(null, Start(),
            Facts(Holder("bob")) with { LauncherWithheld = ["BCAST_DELIVER_COMMIT@W", "BCAST_DRAFT_CREATE@W"] }, Ctx));
        Assert.Equal(OnbReasons.OnbBackfillLauncherAccessMissing, refused.Reason);
        Assert.Contains("BCAST_DELIVER_COMMIT@W, BCAST_DRAFT_CREATE@W", refused.Detail, StringComparison.Ordinal);
        // Nothing withheld (or a record written before the launcher's access was read): the start goes ahead.
        Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideStart(null, Start(), Facts(Holder("bob")) with { LauncherWithheld = [] }, Ctx));
        Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideStart(null, Start(), Facts(Holder("bob")), Ctx));
    }

    [Fact]
    public void Handoffs_TheStartBeginsEachOpenTargetsLoop_AndATargetsEndClosesItAndChecksTheCampaign()
    {
        var start = Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideStart(null, Start(),
            Facts(Holder("bob"), Holder("carol", "license_no"), Holder("dave", "license_no", "years")), Ctx));
        var id = BackfillDecider.CampaignId("acme", PositionId, "v2", "k1");
        // One DRAFT step per PENDING target (dave, exempted, is asked nothing), each keyed by its target, step and round.
        Assert.Equal([$"bfc_step:{id}:bob:DRAFT:0", $"bfc_step:{id}:carol:DRAFT:0"], start.Outbox.Select(m => m.IdempotencyKey));
        Assert.All(start.Outbox, m => Assert.Equal((BackfillDecider.StepDueEvent, BackfillSteps.Draft, "0", (long?)null),
            (m.EventType, m.Payload["step"], m.Payload["round"], m.NotBefore)));
        Assert.Equal(["bob", "carol"], start.Outbox.Select(m => m.Payload["user_id"]));

        var s = Apply(null, new Dictionary<string, BackfillTarget>(StringComparer.Ordinal), start);
        // carol's only answer ends her target: CLOSE and COMPLETE are handed on with it; bob's first of two hands on nothing.
        var carol = Assert.IsType<Decision<BackfillEvent>.Accepted>(
            BackfillDecider.DecideTarget(s.Campaign, s.Targets["carol"], new AnswerTarget(id, "carol", "years", "3"), Ctx));
        Assert.Equal([BackfillSteps.Close, BackfillSteps.Complete], carol.Outbox.Select(m => m.Payload["step"]));
        Assert.Empty(Assert.IsType<Decision<BackfillEvent>.Accepted>(
            BackfillDecider.DecideTarget(s.Campaign, s.Targets["bob"], new AnswerTarget(id, "bob", "license_no", "L-1"), Ctx)).Outbox);
        var failed = Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideTarget(s.Campaign, s.Targets["bob"], new FailTarget(id, "bob"), Ctx));
        Assert.Equal([$"bfc_step:{id}:bob:CLOSE:0", $"bfc_step:{id}:bob:COMPLETE:0"], failed.Outbox.Select(m => m.IdempotencyKey));
        // A notify hands nothing on (the loop's stage enqueues the next step), and neither does a step on an ended target.
        Assert.Empty(Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideTarget(s.Campaign, s.Targets["bob"], new NotifyTarget(id, "bob"), Ctx)).Outbox);
        var ended = Apply(s.Campaign, s.Targets, carol);
        Assert.Empty(Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideTarget(ended.Item1, ended.Item2["carol"], new FailTarget(id, "carol"), Ctx)).Outbox);
    }

    [Fact]
    public void Start_WithNoHolders_IsCompletedAtOnce_ZeroOfZero()
    {
        var (campaign, targets) = Started();
        Assert.Empty(targets);
        Assert.Equal(BackfillCampaignState.Completed, campaign.State);
        Assert.Equal(0, campaign.TotalTargets);
        Assert.Equal(0, campaign.CompletedTargets);
        Assert.Equal(Ctx.Now.Value, campaign.CompletedAt);
    }

    [Fact]
    public void Start_WhereEveryHolderMissesNothing_IsCompletedAtOnce_AllExempted()
    {
        var (campaign, _) = Started(Holder("dave", "license_no", "years"));
        Assert.Equal(BackfillCampaignState.Completed, campaign.State);
        Assert.Equal(1, campaign.CompletedTargets);
    }

    [Fact]
    public void Start_NewHiresOnly_IsScopeInvalid_AndWritesNothing()
    {
        var d = Assert.IsType<Decision<BackfillEvent>.Rejected>(BackfillDecider.DecideStart(null, Start("NEW_HIRES_ONLY"), Facts(Holder("bob")), Ctx));
        Assert.Equal(OnbReasons.OnbBackfillScopeInvalid, d.Reason);
    }

    [Fact]
    public void Start_OtherCompanyOrNoPosition_IsRefused_AndAStartedKeyIsAnsweredUnchanged()
    {
        Assert.Equal(OnbReasons.OnbRefuseInvalid, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideStart(null, Start() with { CompanyId = "other_co" }, Facts(Holder("bob")), Ctx)).Reason);
        Assert.Equal(OnbReasons.OnbRefuseNotFound, Assert.IsType<Decision<BackfillEvent>.Rejected>(BackfillDecider.DecideStart(null, Start(), null, Ctx)).Reason);
        var (campaign, _) = Started(Holder("bob"));
        Assert.Empty(Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideStart(campaign, Start(), Facts(Holder("bob")), Ctx)).Events);
    }

    [Fact]
    public void Loop_OneAnswersOneFieldAtATime_OneIsRemindedUntilFailed_CompletesOneOfTwo()
    {
        var s = Started(Holder("bob"), Holder("carol", "license_no"));
        s = Step(s, new NotifyTarget(s.Campaign.CampaignId, "bob"));
        s = Step(s, new NotifyTarget(s.Campaign.CampaignId, "carol"));
        Assert.Equal(BackfillTargetStatus.Requested, s.Targets["bob"].Status);
        Assert.Equal(1, s.Targets["bob"].Notified);

        // Not all terminal: completion is refused.
        Assert.Equal(OnbReasons.OnbBackfillTargetsOpen, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideComplete(s.Campaign, s.Targets.Values.ToList(), new CompleteBackfill(s.Campaign.CampaignId), Ctx)).Reason);

        // Bob answers the asked field only, one at a time; a bad value changes nothing.
        Assert.Equal(OnbReasons.OnbRefuseStateInvalid, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideTarget(s.Campaign, s.Targets["bob"], new AnswerTarget(s.Campaign.CampaignId, "bob", "years", "4"), Ctx)).Reason);
        s = Step(s, new AnswerTarget(s.Campaign.CampaignId, "bob", "license_no", "B-123"));
        Assert.Equal(BackfillTargetStatus.Requested, s.Targets["bob"].Status);
        Assert.Equal("years", BackfillDecider.NextQuestion(s.Targets["bob"])!.FieldKey);
        Assert.Equal(OnbReasons.OnbAnswerInvalid, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideTarget(s.Campaign, s.Targets["bob"], new AnswerTarget(s.Campaign.CampaignId, "bob", "years", "four"), Ctx)).Reason);
        s = Step(s, new AnswerTarget(s.Campaign.CampaignId, "bob", "years", "4"));
        Assert.Equal(BackfillTargetStatus.Completed, s.Targets["bob"].Status);
        Assert.Null(BackfillDecider.NextQuestion(s.Targets["bob"]));

        // Carol is reminded, then her reminders are exhausted.
        s = Step(s, new NotifyTarget(s.Campaign.CampaignId, "carol", Reminder: true));
        Assert.Equal(BackfillTargetStatus.Reminded, s.Targets["carol"].Status);
        Assert.Equal(1, s.Targets["carol"].Reminded);
        s = Step(s, new FailTarget(s.Campaign.CampaignId, "carol"));
        Assert.Equal(BackfillTargetStatus.Failed, s.Targets["carol"].Status);
        Assert.Equal("ONB_BACKFILL_REMINDERS_EXHAUSTED", s.Targets["carol"].LastReasonCode);

        var done = BackfillDecider.DecideComplete(s.Campaign, s.Targets.Values.ToList(), new CompleteBackfill(s.Campaign.CampaignId), Ctx);
        var campaign = Apply(s.Campaign, s.Targets, done).Campaign;
        Assert.Equal(BackfillCampaignState.Completed, campaign.State);
        Assert.Equal(1, campaign.CompletedTargets);
        Assert.Equal(2, campaign.TotalTargets);
        // A second completion is answered unchanged.
        Assert.Empty(Assert.IsType<Decision<BackfillEvent>.Accepted>(
            BackfillDecider.DecideComplete(campaign, s.Targets.Values.ToList(), new CompleteBackfill(campaign.CampaignId), Ctx)).Events);
    }

    [Fact]
    public void TerminalTargets_StayPut_UnderNotifyReminderAnswerAndFail()
    {
        var s = Started(Holder("bob", "license_no"), Holder("dave", "license_no", "years"));
        s = Step(s, new AnswerTarget(s.Campaign.CampaignId, "bob", "years", "2"));
        foreach (var user in new[] { "bob", "dave" })
        {
            BackfillTargetCommand[] commands =
            [
                new NotifyTarget(s.Campaign.CampaignId, user), new NotifyTarget(s.Campaign.CampaignId, user, true),
                new AnswerTarget(s.Campaign.CampaignId, user, "years", "3"), new FailTarget(s.Campaign.CampaignId, user),
            ];
            foreach (var c in commands)
                Assert.Empty(Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideTarget(s.Campaign, s.Targets[user], c, Ctx)).Events);
        }
    }

    [Fact]
    public void Target_NotInTheCampaign_IsNotifyBlocked_AndNoCampaignIsNotFound()
    {
        var s = Started(Holder("bob"));
        var other = s.Targets["bob"] with { UserId = "eve" };
        Assert.Equal(OnbReasons.OnbBackfillNotifyBlocked, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideTarget(s.Campaign, null, new NotifyTarget(s.Campaign.CampaignId, "eve"), Ctx)).Reason);
        Assert.Equal(OnbReasons.OnbBackfillNotifyBlocked, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideTarget(s.Campaign, other, new NotifyTarget(s.Campaign.CampaignId, "bob"), Ctx)).Reason);
        Assert.Equal(OnbReasons.OnbRefuseNotFound, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideTarget(null, null, new NotifyTarget(s.Campaign.CampaignId, "bob"), Ctx)).Reason);
        Assert.Equal(OnbReasons.OnbRefuseInvalid, Assert.IsType<Decision<BackfillEvent>.Rejected>(
            BackfillDecider.DecideTarget(s.Campaign, s.Targets["bob"], new NotifyTarget("bfc_nope", "bob"), Ctx)).Reason);
    }

    [Fact]
    public void Start_IsDeterministic_TargetsInUserOrder_WhateverTheHoldersOrder()
    {
        var a = Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideStart(null, Start(), Facts(Holder("carol"), Holder("bob")), Ctx));
        var b = Assert.IsType<Decision<BackfillEvent>.Accepted>(BackfillDecider.DecideStart(null, Start(), Facts(Holder("bob"), Holder("carol"), Holder("bob")), Ctx));
        Assert.Equal(a.Events.Count, b.Events.Count);
        Assert.Equal(a.Events.OfType<BackfillTargetAdded>().Select(t => t.UserId), b.Events.OfType<BackfillTargetAdded>().Select(t => t.UserId));
        Assert.Equal(["bob", "carol"], a.Events.OfType<BackfillTargetAdded>().Select(t => t.UserId));
    }
}
