using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Selene.Engines.Onb;

namespace Selene.Engines.Tests;

/// <summary>PH1.ONB sessions, pure: start and resume (§4.2), one question at a time, the step order and its guards, folding.</summary>
public sealed class OnbDeciderTests
{
    private const string Tenant = "acme";
    private const string Invitee = "invitee";
    private const string Token = "link_00000000000000a1";
    private const string Device = "dfp_device";
    private static readonly UnixNanos Now = new(1_800_000_000_000_000_000);

    private static readonly OnbQuestion[] Questions =
    [
        new("legal_name", OnbFieldType.String, "Your legal name?", "As in your passport.", false),
        new("start_date", OnbFieldType.Date, "Start date?", "YYYY-MM-DD.", false),
        new("work_permit", OnbFieldType.String, "Work permit number?", "Photo needed.", true),
    ];

    private static OnbContext Ctx(string actor = Invitee, string key = "k") => new(Tenant, actor, Now, key);

    private static OnbStartFacts Facts(string type = "EMPLOYEE", OnbQuestion[]? questions = null, string status = "ACTIVATED", string platform = "WEB",
        params (string, string)[] fields) =>
        new(Token, status, "draft_00000000000000a1", type, "alice", Device, platform, "app-1", "nonce-1", 42,
            fields.ToImmutableSortedDictionary(f => f.Item1, f => f.Item2, StringComparer.Ordinal), "position:pos_1", "v2", "position_requirements_active",
            "selector:acme:pos_1:7", questions ?? Questions);

    private static StartSession Start(string device = Device, string platform = "WEB", string nonce = "nonce-1") => new(Token, device, platform, "app-1", nonce, 42);

    private static readonly OnbAccessFacts GoodAccess = new("acc_1", false, true, true, true, true);

    private static Decision<OnbEvent>.Accepted Ok(Decision<OnbEvent> d) => d as Decision<OnbEvent>.Accepted
        ?? throw new Xunit.Sdk.XunitException($"refused: {((Decision<OnbEvent>.Rejected)d).Reason.Name} {((Decision<OnbEvent>.Rejected)d).Detail}");

    private static void Refused(ReasonCode expected, Decision<OnbEvent> d) =>
        Assert.Equal(expected.Name, Assert.IsType<Decision<OnbEvent>.Rejected>(d).Reason.Name);

    private static OnbSession Apply(OnbSession? s, Decision<OnbEvent> d, ref long id)
    {
        foreach (var e in Ok(d).Events) s = OnbDecider.Evolve(s, e, ++id);
        return s!;
    }

    private static OnbSession Started(OnbStartFacts? facts = null, string platform = "WEB")
    {
        long id = 0;
        return Apply(null, OnbDecider.Decide(null, Start(platform: platform), Ctx(), facts ?? Facts(platform: platform)), ref id);
    }

    private static ImmutableSortedDictionary<string, string> Answers(params (string, string)[] a) =>
        a.ToImmutableSortedDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);

    /// <summary>Drives a session to <paramref name="target"/> along the one order of steps.</summary>
    private static OnbSession At(OnbStatus target, OnbStartFacts? facts = null)
    {
        long id = 10;
        var s = Started(facts);
        if (target == OnbStatus.DraftCreated) return s;
        var answers = Answers([.. new[] { ("legal_name", "Ana Lima"), ("start_date", "2030-05-01"), ("work_permit", "WP-1") }
            .Where(a => s.Questions.Any(q => q.FieldKey == a.Item1))]);
        s = Apply(s, OnbDecider.Decide(s, new AnswerQuestions(s.SessionId, answers), Ctx()), ref id);
        if (target == OnbStatus.TermsDeclined) return Apply(s, OnbDecider.Decide(s, new AcceptTerms(s.SessionId, "terms-3", false), Ctx()), ref id);
        s = Apply(s, OnbDecider.Decide(s, new AcceptTerms(s.SessionId, "terms-3", true), Ctx()), ref id);
        if (target == OnbStatus.TermsAccepted) return s;
        if (!s.RequiredGates.IsEmpty)
        {
            s = Apply(s, OnbDecider.Decide(s, new CapturePhoto(s.SessionId, "blob:1", "alice"), Ctx()), ref id);
            if (target == OnbStatus.VerificationPending) return s;
            var decision = target == OnbStatus.VerificationRejected ? OnbSenderDecision.Reject : OnbSenderDecision.Confirm;
            s = Apply(s, OnbDecider.Decide(s, new VerifyBySender(s.SessionId, decision), Ctx(actor: "alice")), ref id);
            if (target is OnbStatus.VerificationConfirmed or OnbStatus.VerificationRejected) return s;
        }
        s = Apply(s, OnbDecider.Decide(s, new ConfirmPrimaryDevice(s.SessionId, "phone-1", OnbProofType.Passcode, true), Ctx()), ref id);
        if (target == OnbStatus.PrimaryDeviceConfirmed) return s;
        s = Apply(s, OnbDecider.Decide(s, new CreateAccessInstance(s.SessionId, "ana", "picker"), Ctx(), access: GoodAccess), ref id);
        if (target == OnbStatus.AccessInstanceCreated) return s;
        return Apply(s, OnbDecider.Decide(s, new CompleteOnboarding(s.SessionId), Ctx()), ref id);
    }

    [Fact]
    public void Start_PinsTheSchema_GatesFollowDocumentFields_KnownIsThePrefill()
    {
        var s = Started(Facts(fields: [("legal_name", "Ana Lima"), ("tenant_id", Tenant)]));
        Assert.Equal((OnbDecider.SessionId(Tenant, Token), "position:pos_1", "v2", OnbStatus.DraftCreated), (s.SessionId, s.PinnedSchemaId, s.PinnedSchemaVersion, s.Status));
        Assert.Equal([OnbGate.PhotoEvidenceCapture, OnbGate.SenderConfirmation], s.RequiredGates.ToArray());
        Assert.Equal("start_date", OnbDecider.View(s).NextQuestion!.FieldKey);
        Assert.Empty(Started(Facts(type: "FRIEND")).RequiredGates);
        Assert.Empty(Started(Facts(questions: [Questions[0]])).RequiredGates);
    }

    [Fact]
    public void Start_RefusesAnotherContext_AndResumesTheSameOne()
    {
        Refused(OnbReasons.OnbContextMismatch, OnbDecider.Decide(null, Start(device: "dfp_other"), Ctx(), Facts()));
        Refused(OnbReasons.OnbContextMismatch, OnbDecider.Decide(null, Start(nonce: "nonce-2"), Ctx(), Facts()));
        Refused(OnbReasons.OnbRefuseStateInvalid, OnbDecider.Decide(null, Start(), Ctx(), Facts(status: "SENT")));
        Refused(OnbReasons.OnbRefuseNotFound, OnbDecider.Decide(null, Start(), Ctx(), null));
        var s = Started();
        Assert.Empty(Ok(OnbDecider.Decide(s, Start(), Ctx(), Facts())).Events);
    }

    [Fact]
    public void Questions_AreAskedOneAtATime_InSchemaOrder_NeverAgainOnceKnown()
    {
        long id = 20;
        var s = Started();
        var asked = new List<string>();
        while (OnbDecider.View(s) is { NextStep: OnbNextStep.AskMissing, NextQuestion: { } q })
        {
            asked.Add(q.FieldKey);
            var answer = q.FieldType == OnbFieldType.Date ? "2030-05-01" : "x-1";
            s = Apply(s, OnbDecider.Decide(s, new AnswerQuestions(s.SessionId, Answers((q.FieldKey, answer))), Ctx(key: q.FieldKey)), ref id);
        }
        Assert.Equal(["legal_name", "start_date", "work_permit"], asked);
        Assert.Equal((OnbNextStep.Terms, 3, 3), (OnbDecider.View(s).NextStep, OnbDecider.View(s).Answered, OnbDecider.View(s).QuestionCount));
    }

    [Theory]
    [InlineData(OnbFieldType.Date, "2030-02-30", false)]
    [InlineData(OnbFieldType.Date, "2030-02-28", true)]
    [InlineData(OnbFieldType.Date, "28/02/2030", false)]
    [InlineData(OnbFieldType.Integer, "42", true)]
    [InlineData(OnbFieldType.Integer, "4.2", false)]
    [InlineData(OnbFieldType.Decimal, "12.50", true)]
    [InlineData(OnbFieldType.Decimal, "12,50", false)]
    [InlineData(OnbFieldType.String, "Ana\u0000", false)]
    [InlineData(OnbFieldType.String, "", false)]
    [InlineData(OnbFieldType.Enum, "NIGHT_SHIFT", true)]
    [InlineData(OnbFieldType.Enum, "night shift", false)]
    public void Answers_AreCheckedByFieldType(OnbFieldType type, string answer, bool valid) => Assert.Equal(valid, OnbDecider.CheckAnswer(type, answer) is null);

    [Fact]
    public void Answers_ToUnknownFieldsOrBadValues_AreRefused_AndStoreNothing()
    {
        var s = Started();
        Refused(OnbReasons.OnbRefuseInvalid, OnbDecider.Decide(s, new AnswerQuestions(s.SessionId, Answers(("salary", "1"))), Ctx()));
        Refused(OnbReasons.OnbAnswerInvalid, OnbDecider.Decide(s, new AnswerQuestions(s.SessionId, Answers(("start_date", "soon"))), Ctx()));
        Refused(OnbReasons.OnbRequiredGateNotMet, OnbDecider.Decide(s, new AcceptTerms(s.SessionId, "terms-3", true), Ctx()));
    }

    /// <summary>Each step, as the command that asks for it.</summary>
    public enum StepKind { Answer, Terms, Photo, SenderVerify, Device, Access, Complete }

    private static OnbCommand CommandFor(StepKind step, string session) => step switch
    {
        StepKind.Answer => new AnswerQuestions(session, Answers(("legal_name", "Ana"))),
        StepKind.Terms => new AcceptTerms(session, "terms-3", true),
        StepKind.Photo => new CapturePhoto(session, "blob:1", "alice"),
        StepKind.SenderVerify => new VerifyBySender(session, OnbSenderDecision.Confirm),
        StepKind.Device => new ConfirmPrimaryDevice(session, "phone-1", OnbProofType.Biometric, true),
        StepKind.Access => new CreateAccessInstance(session, "ana", "picker"),
        _ => new CompleteOnboarding(session),
    };

    /// <summary>
    /// Reference §4.2 with this build's one order of steps, written out independently of the decider: from each status,
    /// which step is legal (and where it leads); every other is refused with the code given.
    /// </summary>
    private static (string Reason, OnbStatus? To) Expected(OnbStatus from, StepKind step) => (from, step) switch
    {
        (OnbStatus.TermsDeclined, _) => ("ONB_TERMS_DECLINED", null),
        (OnbStatus.VerificationRejected, _) => ("ONB_SENDER_REJECTED", null),
        (OnbStatus.Complete, StepKind.Complete) => ("ONB_OK_COMPLETE_COMMIT", null),
        (OnbStatus.Complete, _) => ("ONB_REFUSE_STATE_INVALID", null),
        (OnbStatus.DraftCreated, StepKind.Answer) => ("ONB_OK_DRAFT_UPDATE_COMMIT", OnbStatus.DraftCreated),
        (OnbStatus.DraftCreated, StepKind.Terms) => ("ONB_REQUIRED_GATE_NOT_MET", null),
        (OnbStatus.TermsAccepted, StepKind.Photo) => ("ONB_OK_EMPLOYEE_PHOTO_COMMIT", OnbStatus.VerificationPending),
        (OnbStatus.VerificationPending, StepKind.SenderVerify) => ("ONB_OK_EMPLOYEE_SENDER_VERIFY_COMMIT", OnbStatus.VerificationConfirmed),
        (OnbStatus.VerificationConfirmed, StepKind.Device) => ("ONB_OK_PRIMARY_DEVICE_CONFIRM_COMMIT", OnbStatus.PrimaryDeviceConfirmed),
        (OnbStatus.PrimaryDeviceConfirmed, StepKind.Access) => ("ONB_OK_ACCESS_INSTANCE_CREATE_COMMIT", OnbStatus.AccessInstanceCreated),
        (OnbStatus.AccessInstanceCreated, StepKind.Complete) => ("ONB_OK_COMPLETE_COMMIT", OnbStatus.Complete),
        (_, StepKind.Complete) => ("ONB_REQUIRED_GATE_NOT_MET", null),
        _ => ("ONB_REFUSE_STATE_INVALID", null),
    };

    public static TheoryData<OnbStatus, StepKind> AllPairs()
    {
        var data = new TheoryData<OnbStatus, StepKind>();
        foreach (var s in Enum.GetValues<OnbStatus>()) foreach (var k in Enum.GetValues<StepKind>()) data.Add(s, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void StatusAndStep_FollowTheTable(OnbStatus from, StepKind step)
    {
        var s = At(from);
        Assert.Equal(from, s.Status);
        var actor = step == StepKind.SenderVerify ? "alice" : Invitee;
        var d = OnbDecider.Decide(s, CommandFor(step, s.SessionId), Ctx(actor: actor), access: GoodAccess);
        var (reason, to) = Expected(from, step);
        if (d is Decision<OnbEvent>.Rejected r)
        {
            Assert.Equal(reason, r.Reason.Name);
            Assert.Null(to);
            return;
        }
        var accepted = (Decision<OnbEvent>.Accepted)d;
        Assert.Equal(reason, accepted.Reason.Name);
        if (to is null) Assert.Empty(accepted.Events);
        else Assert.Equal((from, to.Value), (((OnbSessionStepped)accepted.Events.Single()).From, ((OnbSessionStepped)accepted.Events.Single()).To));
    }

    [Fact]
    public void WithoutGates_TheDeviceFollowsTheTerms()
    {
        var s = At(OnbStatus.TermsAccepted, Facts(questions: [Questions[0], Questions[1]]));
        Assert.Equal(OnbNextStep.PrimaryDevice, OnbDecider.View(s).NextStep);
        Assert.Equal("ONB_OK_PRIMARY_DEVICE_CONFIRM_COMMIT", Ok(OnbDecider.Decide(s, CommandFor(StepKind.Device, s.SessionId), Ctx())).Reason.Name);
        Refused(OnbReasons.OnbRefuseStateInvalid, OnbDecider.Decide(s, CommandFor(StepKind.Photo, s.SessionId), Ctx()));
    }

    [Fact]
    public void Guards_SenderIsTheOneTheEvidenceWentTo_ProofMustHold_InviteeIsANewUser_EmployeeNeedsItsPosition()
    {
        var pending = At(OnbStatus.VerificationPending);
        Refused(OnbReasons.OnbContextMismatch, OnbDecider.Decide(pending, CommandFor(StepKind.SenderVerify, pending.SessionId), Ctx(actor: "mallory")));
        var confirmed = At(OnbStatus.VerificationConfirmed);
        Refused(OnbReasons.OnbPrimaryDeviceProofFailed, OnbDecider.Decide(confirmed, new ConfirmPrimaryDevice(confirmed.SessionId, "phone-1", OnbProofType.Passcode, false), Ctx()));
        var device = At(OnbStatus.PrimaryDeviceConfirmed);
        Refused(OnbReasons.OnbContextMismatch, OnbDecider.Decide(device, CommandFor(StepKind.Access, device.SessionId), Ctx(), access: GoodAccess with { UserExists = true }));
        Refused(OnbReasons.OnbRequiredGateNotMet, OnbDecider.Decide(device, CommandFor(StepKind.Access, device.SessionId), Ctx(), access: GoodAccess with { CompensationMatches = false }));
    }

    [Theory]
    [InlineData("WEB", null, null, true)]
    [InlineData("IOS", null, null, false)]
    [InlineData("IOS", "voice-r1", null, true)]
    [InlineData("ANDROID", "voice-r1", null, false)]
    [InlineData("ANDROID", "voice-r1", "wake-r1", true)]
    public void Complete_NeedsTheAssistantsReceiptsWhereThePlatformRequiresThem(string platform, string? voice, string? wake, bool completes)
    {
        long id = 0;
        var facts = Facts(platform: platform);
        var s = Apply(null, OnbDecider.Decide(null, Start(platform: platform), Ctx(), facts), ref id);
        foreach (var (command, actor) in new (OnbCommand, string)[]
        {
            (new AnswerQuestions(s.SessionId, Answers(("legal_name", "Ana"), ("start_date", "2030-05-01"), ("work_permit", "WP"))), Invitee),
            (new AcceptTerms(s.SessionId, "terms-3", true), Invitee), (new CapturePhoto(s.SessionId, "blob:1", "alice"), Invitee),
            (new VerifyBySender(s.SessionId, OnbSenderDecision.Confirm), "alice"), (new ConfirmPrimaryDevice(s.SessionId, "d", OnbProofType.Biometric, true), Invitee),
            (new CreateAccessInstance(s.SessionId, "ana", "picker"), Invitee),
        })
        {
            s = Apply(s, OnbDecider.Decide(s, command, Ctx(actor: actor), access: GoodAccess), ref id);
        }
        var d = OnbDecider.Decide(s, new CompleteOnboarding(s.SessionId, voice, wake), Ctx());
        if (completes) Assert.Equal(OnbStatus.Complete, Apply(s, d, ref id).Status);
        else Refused(OnbReasons.OnbRequiredGateNotMet, d);
    }

    [Fact]
    public void NextQuestion_IsAPureFunctionOfTheQuestionsAndTheKnownFields_AndNeverAKnownOne()
    {
        var gen =
            from questionKeys in Gen.Shuffle(new[] { "a_key", "b_key", "c_key", "d_key", "e_key", "f_key" })
            from count in Gen.Choose(0, 6)
            from known in Gen.SubListOf(questionKeys)
            select (Questions: questionKeys.Take(count).Select(k => new OnbQuestion(k, OnbFieldType.String, "p", "q", false)).ToArray(),
                Known: known.ToImmutableSortedDictionary(k => k, _ => "v", StringComparer.Ordinal));
        Prop.ForAll(gen.ToArbitrary(), x =>
        {
            var first = OnbDecider.NextQuestion(x.Questions, x.Known);
            var again = OnbDecider.NextQuestion(x.Questions.ToArray(), x.Known.ToImmutableSortedDictionary(StringComparer.Ordinal));
            var expected = x.Questions.FirstOrDefault(q => !x.Known.ContainsKey(q.FieldKey));
            return first == again && first == expected && (first is null || !x.Known.ContainsKey(first.FieldKey));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500).WithReplay(20261129UL, 7UL));
    }

    [Fact]
    public void Rebuild_FoldingTheEventsAgain_GivesTheSameSession()
    {
        var events = new List<(OnbEvent, long)>();
        long id = 0;
        OnbSession? live = null;
        void Run(Decision<OnbEvent> d)
        {
            foreach (var e in Ok(d).Events)
            {
                events.Add((e, ++id));
                live = OnbDecider.Evolve(live, e, id);
            }
        }
        Run(OnbDecider.Decide(null, Start(), Ctx(), Facts()));
        Run(OnbDecider.Decide(live, new AnswerQuestions(live!.SessionId, Answers(("legal_name", "Ana"), ("start_date", "2030-05-01"), ("work_permit", "WP"))), Ctx()));
        Run(OnbDecider.Decide(live, new AcceptTerms(live.SessionId, "terms-3", true), Ctx()));
        var rebuilt = events.Aggregate((OnbSession?)null, (s, x) => OnbDecider.Evolve(s, x.Item1, x.Item2));
        Assert.Equal(live with { Known = ImmutableSortedDictionary<string, string>.Empty, Questions = [], RequiredGates = [] },
            rebuilt! with { Known = ImmutableSortedDictionary<string, string>.Empty, Questions = [], RequiredGates = [] });
        Assert.Equal(live.Known, rebuilt.Known);
        Assert.Equal(live.Questions.ToArray(), rebuilt.Questions.ToArray());
        var stepped = (OnbSessionStepped)events[^1].Item1;
        Assert.Throws<InvalidOperationException>(() => OnbDecider.Evolve(rebuilt, stepped, 99));
    }
}
