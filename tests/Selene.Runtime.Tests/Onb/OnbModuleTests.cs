using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Link;
using Selene.Engines.Onb;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using Selene.Runtime.Link;
using Selene.Runtime.Onb;
using Selene.Runtime.Outbox;
using Selene.Runtime.Platform;
using Selene.Runtime.Position;
using Selene.Testing;

namespace Selene.Runtime.Tests.Onb;

/// <summary>
/// PH1.ONB on real PostgreSQL and a fake clock: a company, a position and its ACTIVE requirement schema made through
/// POSITION's simulations, an EMPLOYEE invite with prefill, the invitee's page entry (<see cref="OnbInvitee"/>) pinning
/// the session to the schema version the invite pinned, the outbox handoff of the activation giving the same session,
/// one question at a time, terms, the verification gates only with DOC_REQUIRED, the device, the access instance through
/// ACCESS and completion in one transaction with LINK's consumption, the invitee's API key, a forwarded link, reads and rebuild.
/// </summary>
public sealed class OnbModuleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private static readonly LinkKey Key = new(Enumerable.Range(1, LinkKey.KeyBytes).Select(i => (byte)(i * 11)).ToArray());
    private readonly FakeTimeProvider _clock = new(T0);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private long _correlation = 9000;
    private int _keys;
    private int _requests;

    private const string LicenceSpec = """
        {"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"PRIVATE","exposure_rule":"TEXT_ONLY",
         "evidence_mode":"USER_ANSWER","prompt_short":"Licence number?","prompt_long":"Please type the number on your forklift licence."}
        """;
    private const string LicenceDocSpec = """
        {"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"PRIVATE","exposure_rule":"TEXT_ONLY",
         "evidence_mode":"DOC_REQUIRED","prompt_short":"Licence number?","prompt_long":"Please type the number on your forklift licence."}
        """;
    private const string StartSpec = """
        {"field_key":"start_date","field_type":"DATE","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
         "evidence_mode":"USER_ANSWER","prompt_short":"Start date?","prompt_long":"When do you start?"}
        """;
    private const string YearsSpec = """
        {"field_key":"years_experience","field_type":"INTEGER","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
         "evidence_mode":"USER_ANSWER","prompt_short":"Years?","prompt_long":"How many years have you driven forklifts?"}
        """;
    private const string HazmatSpec = """
        {"field_key":"hazmat_cert","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"SAFE","exposure_rule":"SPEAK",
         "evidence_mode":"ATTESTATION","prompt_short":"Hazmat?","prompt_long":"Your hazmat certificate number?"}
        """;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _executor = new SimulationExecutor(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock, services: HandoffServices.None.With(Key)));
        await new TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<ExecutionResult> RunAsync(string simulation, string body, string user = "alice")
    {
        using var doc = JsonDocument.Parse(body);
        Assert.True(CorrelationId.TryParse((++_correlation).ToString(System.Globalization.CultureInfo.InvariantCulture), out var correlation));
        return await _executor.ExecuteAsync(new ExecutionRequest(new TenantId("acme"), new UserId(user), simulation, $"k-{++_keys}", doc.RootElement.Clone(),
            correlation, new TurnId(1)));
    }

    private async Task<JsonNode> OkAsync(string simulation, string body, string user = "alice")
    {
        var result = await RunAsync(simulation, body, user);
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return JsonNode.Parse(result.Body!)!;
    }

    /// <summary>An ACTIVE position of an ACTIVE company with schema v1 ACTIVE: licence_number, start_date, years_experience (in that order).</summary>
    private async Task<string> PositionAsync(bool documentRequired = false)
    {
        await OkAsync(PositionSimulations.CompanyUpsert, """{"company_id":"acme-logistics","legal_name":"Acme Logistics GmbH","jurisdiction":"DE-BY","lifecycle_state":"ACTIVE"}""");
        var created = await OkAsync(PositionSimulations.CreateDraft, """
            {"company_id":"acme-logistics","position_title":"Forklift Driver","department":"Logistics","jurisdiction":"DE-BY","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """);
        var position = created["position"]!["position_id"]!.GetValue<string>();
        await OkAsync(PositionSimulations.Activate, $$"""{"position_id":"{{position}}"}""");
        await OkAsync(PositionSimulations.SchemaCreateDraft, $$"""
            {"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v1",
             "field_specs":[{{(documentRequired ? LicenceDocSpec : LicenceSpec)}},{{StartSpec}},{{YearsSpec}}],"selectors":{"jurisdiction":"DE-BY"} }
            """);
        await OkAsync(PositionSimulations.SchemaActivate, $$"""{"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}""");
        return position;
    }

    /// <summary>An EMPLOYEE invite to the position with start_date prefilled: its token id and secret.</summary>
    private async Task<(string TokenId, string Secret)> InviteAsync(string position, string user = "alice")
    {
        var generated = await OkAsync(LinkSimulations.GenerateDraft, $$"""
            {"invitee_type":"EMPLOYEE","schema_version_id":"v1","prefilled_fields":{"position_id":"{{position}}","start_date":"2030-06-01","first_name":"Dana"} }
            """, user);
        var tokenId = generated["token"]!["token_id"]!.GetValue<string>();
        return (tokenId, Key.SecretOf("acme", tokenId));
    }

    private string Request() => $"req-{++_requests}";

    private async Task<OnbSession> SessionAsync(string sessionId)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        return await OnbModule.Sessions.GetAsync(tx, sessionId, default) ?? throw new InvalidOperationException("no session");
    }

    private async Task<(LinkToken Token, LinkDraft Draft)> LinkAsync(string tokenId)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        var token = (await LinkModule.Tokens.GetAsync(tx, tokenId, default))!;
        return (token, (await LinkModule.Drafts.GetAsync(tx, token.DraftId, default))!);
    }

    /// <summary>A session as stored, as text (records holding immutable collections compare by reference).</summary>
    private static string Json(OnbSession? s) => s is null ? "null" : OnbModule.SessionView(s).ToJsonString();

    /// <summary>The session, the token and the draft as text.</summary>
    private async Task<string> StateTextAsync(string sessionId, string tokenId)
    {
        var (token, draft) = await LinkAsync(tokenId);
        return Json(await SessionAsync(sessionId)) + LinkModule.TokenView(token, null).ToJsonString() + LinkModule.DraftView(draft).ToJsonString();
    }

    private Task<ReadResult> Read(string route, Dictionary<string, string> values, Dictionary<string, string>? query = null) =>
        OnbModule.Module.Routes.Single(r => r.Name == route).Query(new ReadRequest(_db, new TenantId("acme"), values, query ?? [],
            UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);

    /// <summary>The journal's STATE_TRANSITION entries of one simulation, as engine:state_to in journal order.</summary>
    private async Task<List<string>> TransitionsAsync(string simulationId)
    {
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var cmd = tx.Command("""
            SELECT engine, payload::jsonb->>'state_to' FROM selene.journal WHERE tenant_id = 'acme' AND payload::jsonb->>'simulation_id' = $1 AND event_type = 'STATE_TRANSITION'
            ORDER BY seq
            """);
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = simulationId });
        var transitions = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(default);
        while (await r.ReadAsync(default)) transitions.Add($"{r.GetString(0)}:{r.GetString(1)}");
        return transitions;
    }

    private OutboxWorker Worker() => new(_db, _executor, _clock, new OutboxWorkerOptions("w1", 16, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1)),
        OnbModule.Module.Handoffs);

    private static void AssertActive(InviteePage page)
    {
        Assert.True(page.Outcome == InviteeOutcome.Active, $"{page.Outcome}: {page.Reason.Name} {page.Detail}");
        Assert.NotNull(page.Session);
    }

    /// <summary>Answers every question the page asks, in the order it asks them.</summary>
    private async Task<IReadOnlyList<string>> AnswerAllAsync(string secret, string device)
    {
        var answers = new Dictionary<string, string>(StringComparer.Ordinal) { ["licence_number"] = "FL-1234", ["years_experience"] = "7", ["hazmat_cert"] = "HZ-9" };
        var asked = new List<string>();
        var page = await OnbInvitee.EnterAsync(_executor, _db, secret, device, default);
        while (page.View?.NextStep == OnbNextStep.AskMissing)
        {
            var question = page.View.NextQuestion!;
            asked.Add(question.FieldKey);
            page = await OnbInvitee.AnswerAsync(_executor, _db, secret, device, question.FieldKey, answers[question.FieldKey], Request(), default);
            AssertActive(page);
            Assert.Null(page.FieldError);
        }
        Assert.Equal(OnbNextStep.Terms, page.View!.NextStep);
        return asked;
    }

    [Fact]
    public async Task Enter_PinsTheSchemaVersionTheInvitePinned_AndASchemaActivatedLaterChangesNothing()
    {
        var position = await PositionAsync();
        var (tokenId, secret) = await InviteAsync(position);

        var page = await OnbInvitee.EnterAsync(_executor, _db, secret, "phone-1", default);
        AssertActive(page);
        var session = page.Session!;
        Assert.Equal(OnbDecider.SessionId("acme", tokenId), session.SessionId);
        Assert.Equal(("position:" + position, "v1", OnbModule.PositionOverlay, $"selector:acme:{position}:v1"),
            (session.PinnedSchemaId, session.PinnedSchemaVersion, session.PinnedOverlaySetId, session.PinnedSelectorSnapshotRef));
        Assert.Equal(["licence_number", "start_date", "years_experience"], session.Questions.Select(q => q.FieldKey));
        Assert.Equal((OnbFieldType.Date, "When do you start?"), (session.Questions[1].FieldType, session.Questions[1].PromptLong));
        Assert.Empty(session.RequiredGates);
        Assert.Equal(("EMPLOYEE", "alice", "WEB"), (session.InviteeType, session.InviterUserId, session.AppPlatform));
        // The prefilled start date is known, so the first question is the licence, never the start date.
        Assert.Equal("2030-06-01", session.Known["start_date"]);
        Assert.Equal(new OnbView(OnbNextStep.AskMissing, session.Questions[0], 1, 3), page.View);
        var (token, _) = await LinkAsync(tokenId);
        Assert.Equal((LinkTokenStatus.Activated, LinkIds.DeviceHash("acme", tokenId, OnbInvitee.FingerprintOf("phone-1"))),
            (token.Status, token.BoundDeviceFingerprintHash));

        // POSITION activates a new version with other fields: the pinned session keeps its questions.
        await OkAsync(PositionSimulations.SchemaCreateDraft, $$"""
            {"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v2","field_specs":[{{HazmatSpec}}],"selectors":{"jurisdiction":"DE-BY"} }
            """);
        await OkAsync(PositionSimulations.SchemaActivate, $$"""{"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v2","apply_scope":"NEW_HIRES_ONLY"}""");
        var again = await OnbInvitee.EnterAsync(_executor, _db, secret, "phone-1", default);
        AssertActive(again);
        Assert.Equal(session.Questions.ToArray(), again.Session!.Questions.ToArray());
        Assert.Equal(("v1", session.SourceEventId), (again.Session.PinnedSchemaVersion, again.Session.SourceEventId));
        Assert.Equal(session.Questions[0], again.View!.NextQuestion);
    }

    [Fact]
    public async Task Handoff_OfTheActivation_StartsTheSameSessionThePageDoes()
    {
        var position = await PositionAsync();
        var (tokenId, secret) = await InviteAsync(position);
        // The device opens the link (as the page does), and the outbox worker runs the activation's handoff first.
        var opened = await LinkModule.OpenAsync(_executor, _db, secret, new InviteOpen(OnbInvitee.FingerprintOf("phone-1"), AppPlatform.Web, "web_app", "nonce-1",
            UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value), default);
        Assert.Equal(LinkReasons.LinkOkOpenActivate, opened.Reason);
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        var sessionId = OnbDecider.SessionId("acme", tokenId);
        var started = await SessionAsync(sessionId);
        Assert.Equal(("position:" + position, "v1", "nonce-1"), (started.PinnedSchemaId, started.PinnedSchemaVersion, started.DeepLinkNonce));

        // The page then resumes that session: the same one, unchanged.
        var page = await OnbInvitee.EnterAsync(_executor, _db, secret, "phone-1", default);
        AssertActive(page);
        Assert.Equal(Json(started), Json(page.Session));
        Assert.Equal(new OutboxPass(0, 0, 0, 0, 0, 0), await Worker().RunOnceAsync());

        // The other order: the page starts a second invite's session, and the handoff that runs afterwards resumes it.
        var (otherToken, otherSecret) = await InviteAsync(position);
        var entered = await OnbInvitee.EnterAsync(_executor, _db, otherSecret, "phone-2", default);
        AssertActive(entered);
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        Assert.Equal(Json(entered.Session), Json(await SessionAsync(OnbDecider.SessionId("acme", otherToken))));

        var list = Assert.IsType<ReadResult.Ok>(await Read("ListOnboardingSessions", []));
        Assert.Equal(2, list.Body["onboarding_sessions"]!.AsArray().Count);
    }

    [Fact]
    public async Task Handoff_OfTheActivation_RunningOnlyAfterTheOnboardingCompleted_SettlesAsDone_WithoutTouchingTheSession()
    {
        // Found by `selene demo`, whose worker runs between steps: the invitee finished on the page before the worker took
        // LINK's activation handoff, whose start then met a CONSUMED link and was dead-lettered (ONB_REFUSE_STATE_INVALID).
        var position = await PositionAsync();
        var (tokenId, secret) = await InviteAsync(position);
        await AnswerAllAsync(secret, "phone-1");
        await OnbInvitee.TermsAsync(_executor, _db, secret, "phone-1", true, Request(), default);
        await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Passcode, Request(), default);
        var done = await OnbInvitee.CompleteAsync(_executor, _db, secret, "phone-1", Request(), default);
        Assert.Equal(InviteeOutcome.Completed, done.Outcome);

        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        Assert.Equal(Json(done.Session), Json(await SessionAsync(OnbDecider.SessionId("acme", tokenId))));
        Assert.Equal(LinkTokenStatus.Consumed, (await LinkAsync(tokenId)).Token.Status);
    }

    [Fact]
    public async Task Answers_OneAtATimeInSchemaOrder_ABadAnswerIsRefusedWithNothingStored_AndADoubleSubmitIsOneExecution()
    {
        var position = await PositionAsync();
        var (_, secret) = await InviteAsync(position);
        var entered = await OnbInvitee.EnterAsync(_executor, _db, secret, "phone-1", default);
        var sessionId = entered.Session!.SessionId;

        var first = await OnbInvitee.AnswerAsync(_executor, _db, secret, "phone-1", "licence_number", "FL-1234", "req-a", default);
        AssertActive(first);
        Assert.Equal(("years_experience", 2), (first.View!.NextQuestion!.FieldKey, first.View.Answered));
        // The same form sent twice is one execution: the session did not move again.
        var twice = await OnbInvitee.AnswerAsync(_executor, _db, secret, "phone-1", "licence_number", "FL-1234", "req-a", default);
        Assert.Equal(first.Session!.SourceEventId, twice.Session!.SourceEventId);

        var bad = await OnbInvitee.AnswerAsync(_executor, _db, secret, "phone-1", "years_experience", "seven", "req-b", default);
        Assert.Equal(InviteeOutcome.Active, bad.Outcome);
        Assert.Equal(OnbReasons.OnbAnswerInvalid, bad.Reason);
        Assert.Equal(("years_experience", "ONB_ANSWER_INVALID"), (bad.FieldError!.FieldKey, bad.FieldError.Code));
        Assert.Contains("whole number", bad.FieldError.Message, StringComparison.Ordinal);
        Assert.Equal(Json(first.Session), Json(bad.Session));
        Assert.Equal(Json(first.Session), Json(await SessionAsync(sessionId)));
        // A field that is not a question of this session is refused too, and nothing changes.
        var unknown = await OnbInvitee.AnswerAsync(_executor, _db, secret, "phone-1", "salary", "1", "req-c", default);
        Assert.Equal(OnbReasons.OnbRefuseInvalid, unknown.Reason);
        Assert.Equal(Json(first.Session), Json(await SessionAsync(sessionId)));

        var last = await OnbInvitee.AnswerAsync(_executor, _db, secret, "phone-1", "years_experience", "7", "req-d", default);
        Assert.Equal((OnbNextStep.Terms, 3), (last.View!.NextStep, last.View.Answered));
        Assert.Equal("7", last.Session!.Known["years_experience"]);
    }

    [Fact]
    public async Task FullFlow_CompletesInOneTransaction_WithAnActiveAccessInstance_AConsumedLink_AndAKeyStoredNowhere()
    {
        var position = await PositionAsync();
        var (tokenId, secret) = await InviteAsync(position);
        Assert.Equal(["licence_number", "years_experience"], await AnswerAllAsync(secret, "phone-1"));
        var terms = await OnbInvitee.TermsAsync(_executor, _db, secret, "phone-1", true, Request(), default);
        Assert.Equal((OnbStatus.TermsAccepted, OnbNextStep.PrimaryDevice, OnbModule.TermsVersion), (terms.Session!.Status, terms.View!.NextStep, terms.TermsVersionId));
        // No field demands a document: the photo step is refused, there is no gate.
        var photo = await OnbInvitee.PhotoAsync(_executor, _db, secret, "phone-1", "blob://id-card", Request(), default);
        Assert.Equal(OnbReasons.OnbRefuseStateInvalid, photo.Reason);
        var device = await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Passcode, Request(), default);
        Assert.Equal((OnbStatus.PrimaryDeviceConfirmed, OnbNextStep.AccessInstance), (device.Session!.Status, device.View!.NextStep));

        var request = Request();
        var done = await OnbInvitee.CompleteAsync(_executor, _db, secret, "phone-1", request, default);
        Assert.Equal((InviteeOutcome.Completed, OnbReasons.OnbOkComplete), (done.Outcome, done.Reason));
        var session = done.Session!;
        Assert.Equal((OnbStatus.Complete, OnbNextStep.Done), (session.Status, done.View!.NextStep));
        var userId = session.UserId!;
        Assert.StartsWith("u_", userId, StringComparison.Ordinal);

        // ACCESS holds the instance, ACTIVE, with the position's permission profile as its role.
        await using (var tx = await TenantTransaction.BeginAsync(_db.App, "acme"))
        {
            var instance = (await GovernanceHandlers.Instances.GetAsync(tx, userId, default))!;
            Assert.Equal((session.AccessInstanceId, Selene.Kernel.Access.AccessLifecycle.Active, "ap.driver"),
                (instance.AccessInstanceId, instance.LifecycleState, instance.RoleTemplateId));
        }
        var (token, draft) = await LinkAsync(tokenId);
        Assert.Equal((LinkTokenStatus.Consumed, LinkDraftStatus.Committed), (token.Status, draft.Status));

        // The key works, once: a second completion is the same answer without a key.
        Assert.NotNull(done.ApiKey);
        Assert.Equal((new TenantId("acme"), new UserId(userId)), await KeyStore.ResolveAsync(_db, done.ApiKey!, default));
        var replay = await OnbInvitee.CompleteAsync(_executor, _db, secret, "phone-1", request, default);
        Assert.Equal((InviteeOutcome.Completed, (string?)null), (replay.Outcome, replay.ApiKey));
        var direct = await RunAsync(OnbSimulations.CompleteCommit, $$"""{"onboarding_session_id":"{{session.SessionId}}"}""");
        Assert.True(direct.Succeeded);
        Assert.False(JsonNode.Parse(direct.Body!)!["completed_now"]!.GetValue<bool>());

        // Neither the key nor the secret is in any table or journal row; the journal names each engine's own transition.
        var (tables, rows) = await DatabaseText.ReadAsync(_db, "acme");
        Assert.Contains("api_keys", tables);
        Assert.All(rows, text =>
        {
            Assert.DoesNotContain(done.ApiKey!, text, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        });
        Assert.Equal(["PH1.ONB:ACCESS_INSTANCE_CREATED", $"{Selene.Engines.Access.AccessReasons.EngineId}:ACTIVE"],
            await TransitionsAsync(OnbSimulations.AccessInstanceCreateCommit));
        Assert.Equal(["PH1.ONB:COMPLETE", "PH1.LINK:CONSUMED", "PH1.LINK:COMMITTED", "PH1.POSITION:CURRENT"], await TransitionsAsync(OnbSimulations.CompleteCommit));

        // The new user holds the position from the completion on, through POSITION (source ONBOARDING), once.
        var holders = await PositionModule.Module.Routes.Single(r => r.Name == "ListPositionHolders").Query(new ReadRequest(_db, new TenantId("acme"),
            new Dictionary<string, string> { ["position_id"] = position }, new Dictionary<string, string>(), UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);
        var holder = Assert.Single(Assert.IsType<ReadResult.Ok>(holders).Body["holders"]!.AsArray())!;
        Assert.Equal((userId, "CURRENT", "ONBOARDING"),
            (holder["user_id"]!.GetValue<string>(), holder["status"]!.GetValue<string>(), holder["source"]!.GetValue<string>()));

        // The page shows the end on the device; the link refuses any other device.
        var later = await OnbInvitee.EnterAsync(_executor, _db, secret, "phone-1", default);
        Assert.Equal(InviteeOutcome.Completed, later.Outcome);
        Assert.Equal(InviteeOutcome.Blocked, (await OnbInvitee.EnterAsync(_executor, _db, secret, "laptop-2", default)).Outcome);

        // POSITION, LINK, ONB and ACCESS decisions of the whole flow decide again as recorded.
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, "acme", "onboarding-v1");
    }

    [Fact]
    public async Task DocumentRequired_GatesPhotoEvidenceAndTheSendersConfirmation()
    {
        var position = await PositionAsync(documentRequired: true);
        var (_, secret) = await InviteAsync(position);
        await AnswerAllAsync(secret, "phone-1");
        var terms = await OnbInvitee.TermsAsync(_executor, _db, secret, "phone-1", true, Request(), default);
        Assert.Equal([OnbGate.PhotoEvidenceCapture, OnbGate.SenderConfirmation], terms.Session!.RequiredGates.ToArray());
        Assert.Equal(OnbNextStep.PhotoEvidence, terms.View!.NextStep);
        // The device waits for the evidence.
        var early = await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Biometric, Request(), default);
        Assert.Equal(OnbReasons.OnbRefuseStateInvalid, early.Reason);

        var photo = await OnbInvitee.PhotoAsync(_executor, _db, secret, "phone-1", "blob://licence-front", Request(), default);
        Assert.Equal((OnbStatus.VerificationPending, "alice", OnbNextStep.SenderConfirmation),
            (photo.Session!.Status, photo.Session.SenderUserId, photo.View!.NextStep));
        var sessionId = photo.Session.SessionId;
        // The sender (the inviter) confirms through the executor.
        await OkAsync(OnbSimulations.EmployeeSenderVerifyCommit, $$"""{"onboarding_session_id":"{{sessionId}}","decision":"CONFIRM"}""");
        var device = await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Biometric, Request(), default);
        Assert.Equal(OnbStatus.PrimaryDeviceConfirmed, device.Session!.Status);
        var done = await OnbInvitee.CompleteAsync(_executor, _db, secret, "phone-1", Request(), default);
        Assert.Equal((InviteeOutcome.Completed, true), (done.Outcome, done.Session!.VerificationConfirmed));
        Assert.NotNull(done.ApiKey);
    }

    [Fact]
    public async Task AForwardedLink_IsBlockedOnTheOtherDevice_AndTheSessionIsUntouched()
    {
        var position = await PositionAsync();
        var (tokenId, secret) = await InviteAsync(position);
        var mine = await OnbInvitee.AnswerAsync(_executor, _db, secret, "phone-1", "licence_number", "FL-1", Request(), default);
        AssertActive(mine);

        var other = await OnbInvitee.AnswerAsync(_executor, _db, secret, "laptop-2", "years_experience", "3", Request(), default);
        Assert.Equal((InviteeOutcome.Blocked, (OnbSession?)null, (OnbView?)null), (other.Outcome, other.Session, other.View));
        Assert.Equal(Json(mine.Session), Json(await SessionAsync(mine.Session!.SessionId)));
        var (token, _) = await LinkAsync(tokenId);
        Assert.Equal((1, LinkIds.DeviceHash("acme", tokenId, OnbInvitee.FingerprintOf("laptop-2"))), (token.ForwardBlockCount, token.LastBlockedFingerprintHash));

        // Unknown and malformed secrets find nothing; a malformed device id changes nothing.
        Assert.Equal(InviteeOutcome.NotFound, (await OnbInvitee.EnterAsync(_executor, _db, "A" + secret[1..] == secret ? "B" + secret[1..] : "A" + secret[1..], "phone-1", default)).Outcome);
        Assert.Equal(InviteeOutcome.NotFound, (await OnbInvitee.EnterAsync(_executor, _db, "short", "phone-1", default)).Outcome);
        Assert.Equal(InviteeOutcome.Invalid, (await OnbInvitee.EnterAsync(_executor, _db, secret, "has space", default)).Outcome);
    }

    [Fact]
    public async Task Completion_RefusedByLink_LeavesSessionTokenAndDraftUnchanged()
    {
        // bob invites and runs onboarding steps; alice grants him the override that lets him revoke an opened link.
        await OkAsync("ACCESS_INSTANCE_UPSERT_COMMIT", """
            {"target_user_id":"bob","role_template_id":"recruiter","access_mode":"W","allow":["LINK_INVITE","LINK_OPEN_ACTIVATE","ONB_INVITED"]}
            """);
        var position = await PositionAsync();
        var (tokenId, secret) = await InviteAsync(position, "bob");
        await AnswerAllAsync(secret, "phone-1");
        await OnbInvitee.TermsAsync(_executor, _db, secret, "phone-1", true, Request(), default);
        var device = await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Passcode, Request(), default);
        var sessionId = device.Session!.SessionId;
        await OkAsync(OnbSimulations.AccessInstanceCreateCommit, $$"""{"onboarding_session_id":"{{sessionId}}","user_id":"dana","role_id":"ap.driver"}""", "bob");

        var granted = await OkAsync("ACCESS_OVERRIDE_TEMP_GRANT_COMMIT",
            """{"target_user_id":"bob","override_scope":"LINK_INVITE","grant_mode":"W","reason":"revoke an opened invite","duration_ms":3600000}""");
        await OkAsync(LinkSimulations.RevokeRevoke, $$"""{"token_id":"{{tokenId}}","reason":"withdrawn","ap_override_ref":"{{granted["override"]!["override_id"]}}"}""", "bob");
        var before = (await SessionAsync(sessionId), await LinkAsync(tokenId));
        var beforeText = await StateTextAsync(sessionId, tokenId);

        var refused = await RunAsync(OnbSimulations.CompleteCommit, $$"""{"onboarding_session_id":"{{sessionId}}"}""", "bob");
        Assert.Equal(OnbReasons.OnbLinkConsumeRefused, refused.Reason);
        Assert.Contains(LinkReasons.LinkRefuseStateInvalid.Name, refused.Detail, StringComparison.Ordinal);
        Assert.Equal(beforeText, await StateTextAsync(sessionId, tokenId));
        Assert.Equal((OnbStatus.AccessInstanceCreated, LinkTokenStatus.Revoked, LinkDraftStatus.Revoked),
            (before.Item1.Status, before.Item2.Token.Status, before.Item2.Draft.Status));
        // The page says the link was revoked.
        Assert.Equal(InviteeOutcome.Revoked, (await OnbInvitee.CompleteAsync(_executor, _db, secret, "phone-1", Request(), default)).Outcome);
    }

    [Fact]
    public async Task AccessInstance_RefusedByAccess_WritesNothing()
    {
        // carol may run onboarding but holds mode W: ACCESS refuses an instance of an admin role, whose default mode (X) is above hers.
        await OkAsync("ACCESS_INSTANCE_UPSERT_COMMIT", """
            {"target_user_id":"carol","role_template_id":"viewer","access_mode":"W","allow":["LINK_INVITE","LINK_OPEN_ACTIVATE","ONB_INVITED"]}
            """);
        var position = await PositionAsync();
        var (_, secret) = await InviteAsync(position, "carol");
        await AnswerAllAsync(secret, "phone-1");
        await OnbInvitee.TermsAsync(_executor, _db, secret, "phone-1", true, Request(), default);
        var device = await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Passcode, Request(), default);
        var sessionId = device.Session!.SessionId;

        var refused = await RunAsync(OnbSimulations.AccessInstanceCreateCommit, $$"""{"onboarding_session_id":"{{sessionId}}","user_id":"erin","role_id":"site_admin"}""", "carol");
        Assert.Equal(OnbReasons.OnbAccessInstanceRefused, refused.Reason);
        Assert.Equal(Json(device.Session), Json(await SessionAsync(sessionId)));
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        Assert.Null(await GovernanceHandlers.Instances.GetAsync(tx, "erin", default));
        Assert.Empty(await KeyStore.ExistingIdentitiesAsync(tx, ["erin"], default));
    }

    [Fact]
    public async Task Reads_ShowThePinnedSchemaAndNextStep_AndTheInviteNamesItsSession()
    {
        var position = await PositionAsync();
        var (tokenId, secret) = await InviteAsync(position);
        var page = await OnbInvitee.EnterAsync(_executor, _db, secret, "phone-1", default);
        var sessionId = page.Session!.SessionId;

        var one = Assert.IsType<ReadResult.Ok>(await Read("GetOnboardingSession", new() { ["onboarding_session_id"] = sessionId })).Body["session"]!;
        Assert.Equal(("position:" + position, "v1", "ASK_MISSING", "licence_number"),
            (one["pinned_schema_id"]!.GetValue<string>(), one["pinned_schema_version"]!.GetValue<string>(), one["next_step"]!.GetValue<string>(),
                one["next_question"]!["field_key"]!.GetValue<string>()));
        Assert.Equal(3, one["questions"]!.AsArray().Count);
        Assert.Equal("2030-06-01", one["known_fields"]!["start_date"]!.GetValue<string>());
        Assert.DoesNotContain(page.Session.DeepLinkNonce, one.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(page.Session.AppInstanceId, one.ToJsonString(), StringComparison.Ordinal);

        var missing = Assert.IsType<ReadResult.Refused>(await Read("GetOnboardingSession", new() { ["onboarding_session_id"] = "nope" }));
        Assert.Equal(OnbReasons.OnbRefuseNotFound, missing.Reason);
        var filtered = Assert.IsType<ReadResult.Ok>(await Read("ListOnboardingSessions", [], new() { ["status"] = "COMPLETE" }));
        Assert.Empty(filtered.Body["onboarding_sessions"]!.AsArray());
        Assert.IsType<ReadResult.Refused>(await Read("ListOnboardingSessions", [], new() { ["status"] = "NOPE" }));

        var invite = Assert.IsType<ReadResult.Ok>(await LinkModule.Module.Routes.Single(r => r.Name == "GetInvite").Query(new ReadRequest(_db, new TenantId("acme"),
            new Dictionary<string, string> { ["token_id"] = tokenId }, new Dictionary<string, string>(), UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default));
        Assert.Equal(sessionId, invite.Body["onboarding_session_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task BusinessOnboarding_SetsUpTheCompanyThroughPosition_DraftThenActiveThenComplete()
    {
        async Task<CompanyState?> CompanyAsync(string id)
        {
            await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
            return await Selene.Runtime.Position.PositionModule.Companies.GetAsync(tx, id, default);
        }

        var started = await OkAsync(OnbSimulations.BizStartDraft, """{"company_id":"newco","legal_name":"New Co GmbH","jurisdiction":"DE-BE"}""");
        Assert.Equal("STARTED", started["business"]!["status"]!.GetValue<string>());
        var shell = (await CompanyAsync("newco"))!;
        Assert.Equal((CompanyLifecycle.Draft, "New Co GmbH"), (shell.Lifecycle, shell.LegalName));
        // Completion waits for the validation; the steps go in order.
        Assert.Equal(OnbReasons.OnbRefuseStateInvalid, (await RunAsync(OnbSimulations.BizCompleteCommit, """{"company_id":"newco"}""")).Reason);
        await OkAsync(OnbSimulations.BizValidateCompanyCommit, """{"company_id":"newco"}""");
        Assert.Equal(CompanyLifecycle.Active, (await CompanyAsync("newco"))!.Lifecycle);
        var done = await OkAsync(OnbSimulations.BizCompleteCommit, """{"company_id":"newco"}""");
        Assert.Equal("COMPLETE", done["business"]!["status"]!.GetValue<string>());

        // A company that exists already is not a new business: refused, nothing written.
        await PositionAsync();
        var existing = await RunAsync(OnbSimulations.BizStartDraft, """{"company_id":"acme-logistics","legal_name":"Other","jurisdiction":"FR"}""");
        Assert.Equal(OnbReasons.OnbBizCompanyInvalid, existing.Reason);
        var kept = (await CompanyAsync("acme-logistics"))!;
        Assert.Equal(("Acme Logistics GmbH", CompanyLifecycle.Active), (kept.LegalName, kept.Lifecycle));
        Assert.Equal(OnbReasons.OnbRefuseNotFound, (await RunAsync(OnbSimulations.BizValidateCompanyCommit, """{"company_id":"ghost"}""")).Reason);

        var reports = await new Maintenance(_db, _clock).RebuildAsync("onb", "acme", apply: false);
        Assert.All(reports, r => Assert.True(r.Identical, string.Join("; ", r.Differences)));
        var business = reports.Single(r => r.Store == "onb_business");
        Assert.Equal((3, 1), (business.LedgerEvents, business.Rows));
    }

    private async Task<ReadResult> BackfillRead(string route, Dictionary<string, string> values, Dictionary<string, string>? query = null) =>
        await OnbModule.Module.Routes.Single(r => r.Name == route).Query(new ReadRequest(_db, new TenantId("acme"), values, query ?? [],
            UnixNanos.FromDateTimeOffset(_clock.GetUtcNow())), default);

    /// <summary>Schema v2 of the position: v1's fields and hazmat_cert, activated with <paramref name="scope"/>.</summary>
    private async Task ActivateV2Async(string position, string scope)
    {
        await OkAsync(PositionSimulations.SchemaCreateDraft, $$"""
            {"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v2",
             "field_specs":[{{LicenceSpec}},{{StartSpec}},{{YearsSpec}},{{HazmatSpec}}],"selectors":{"jurisdiction":"DE-BY"} }
            """);
        await OkAsync(PositionSimulations.SchemaActivate, $$"""{"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v2","apply_scope":"{{scope}}"}""");
    }

    [Fact]
    public async Task Backfill_CurrentAndNewActivation_StartsOneCampaignThroughTheOutbox_TargetingExactlyTheCurrentHolders_WithWhatEachMisses()
    {
        var position = await PositionAsync();
        // An onboarded employee (a holder through the completion; licence, start date and years known from the session),
        // a holder assigned by hand (nothing known), and one whose holding ended before the activation (not a target).
        var (_, secret) = await InviteAsync(position);
        await AnswerAllAsync(secret, "phone-1");
        await OnbInvitee.TermsAsync(_executor, _db, secret, "phone-1", true, Request(), default);
        await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Passcode, Request(), default);
        var employee = (await OnbInvitee.CompleteAsync(_executor, _db, secret, "phone-1", Request(), default)).Session!.UserId!;
        await OkAsync(PositionSimulations.HolderAssign, $$"""{"position_id":"{{position}}","user_id":"ann"}""");
        await OkAsync(PositionSimulations.HolderAssign, $$"""{"position_id":"{{position}}","user_id":"bo"}""");
        await OkAsync(PositionSimulations.HolderEnd, $$"""{"position_id":"{{position}}","user_id":"bo"}""");
        await Worker().RunOnceAsync(); // LINK's activation handoff of the invite, not this test's

        await ActivateV2Async(position, "CURRENT_AND_NEW");
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        // The start handed on one loop per target: each target's broadcast is drafted (BackfillCampaignTests follows the loop).
        Assert.Equal(new OutboxPass(2, 2, 0, 0, 0, 0), await Worker().RunOnceAsync());

        var list = Assert.IsType<ReadResult.Ok>(await BackfillRead("ListBackfillCampaigns", [])).Body["campaigns"]!.AsArray();
        var campaign = Assert.Single(list)!;
        Assert.Equal(("RUNNING", 2, "v2", position), (campaign["state"]!.GetValue<string>(), campaign["total_target_count"]!.GetValue<int>(),
            campaign["schema_version_id"]!.GetValue<string>(), campaign["position_id"]!.GetValue<string>()));
        var id = campaign["campaign_id"]!.GetValue<string>();
        var one = Assert.IsType<ReadResult.Ok>(await BackfillRead("GetBackfillCampaign", new() { ["campaign_id"] = id })).Body;
        var targets = one["targets"]!.AsArray().ToDictionary(t => t!["user_id"]!.GetValue<string>(), t => t!);
        Assert.Equal(new[] { "ann", employee }.Order(StringComparer.Ordinal), targets.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["hazmat_cert"], targets[employee]["missing_fields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(["licence_number", "start_date", "years_experience", "hazmat_cert"], targets["ann"]["missing_fields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.All(targets.Values, t => Assert.Equal("PENDING", t["status"]!.GetValue<string>()));

        Assert.IsType<ReadResult.Refused>(await BackfillRead("GetBackfillCampaign", new() { ["campaign_id"] = "bfc_0000000000000000" }));
        Assert.IsType<ReadResult.Refused>(await BackfillRead("GetBackfillCampaign", new() { ["campaign_id"] = "nope" }));
        Assert.Empty(Assert.IsType<ReadResult.Ok>(await BackfillRead("ListBackfillCampaigns", [], new() { ["status"] = "COMPLETED" })).Body["campaigns"]!.AsArray());

        var reports = await new Maintenance(_db, _clock).RebuildAsync("onb", "acme", apply: false);
        Assert.All(reports.Where(r => r.Store.StartsWith("onb_backfill", StringComparison.Ordinal)), r => Assert.True(r.Identical && r.Rows > 0, r.Store));
        Assert.Equal(2, reports.Count(r => r.Store.StartsWith("onb_backfill", StringComparison.Ordinal)));
        // The holders' onboardings, the schema change and the campaign's start through the outbox decide again as recorded.
        await ReplayAssert.EveryCorrelationReproducesAsync(_db, "acme", "backfill-start-v1");
    }

    [Fact]
    public async Task Backfill_NewHiresOnly_MakesNoCampaign_AndAStartWithThatScopeIsRefused()
    {
        var position = await PositionAsync();
        await OkAsync(PositionSimulations.HolderAssign, $$"""{"position_id":"{{position}}","user_id":"ann"}""");
        await ActivateV2Async(position, "NEW_HIRES_ONLY");
        Assert.Equal(new OutboxPass(0, 0, 0, 0, 0, 0), await Worker().RunOnceAsync());
        var refused = await RunAsync(OnbSimulations.BackfillStartDraft,
            $$"""{"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v2","rollout_scope":"NEW_HIRES_ONLY"}""");
        Assert.Equal(OnbReasons.OnbBackfillScopeInvalid, refused.Reason);
        Assert.Empty(Assert.IsType<ReadResult.Ok>(await BackfillRead("ListBackfillCampaigns", [])).Body["campaigns"]!.AsArray());
    }

    [Fact]
    public async Task Backfill_WithNoCurrentHolder_IsCompletedAtOnce_ZeroOfZero()
    {
        var position = await PositionAsync();
        await OkAsync(PositionSimulations.HolderAssign, $$"""{"position_id":"{{position}}","user_id":"bo"}""");
        await OkAsync(PositionSimulations.HolderEnd, $$"""{"position_id":"{{position}}","user_id":"bo"}""");
        await ActivateV2Async(position, "CURRENT_AND_NEW");
        Assert.Equal(new OutboxPass(1, 1, 0, 0, 0, 0), await Worker().RunOnceAsync());
        var campaign = Assert.Single(Assert.IsType<ReadResult.Ok>(await BackfillRead("ListBackfillCampaigns", [])).Body["campaigns"]!.AsArray())!;
        Assert.Equal(("COMPLETED", 0, 0), (campaign["state"]!.GetValue<string>(), campaign["total_target_count"]!.GetValue<int>(),
            campaign["completed_target_count"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Rebuild_OfTheSessionStore_IsIdentical()
    {
        var position = await PositionAsync(documentRequired: true);
        var (_, secret) = await InviteAsync(position);
        await AnswerAllAsync(secret, "phone-1");
        await OnbInvitee.TermsAsync(_executor, _db, secret, "phone-1", true, Request(), default);
        var photo = await OnbInvitee.PhotoAsync(_executor, _db, secret, "phone-1", "blob://licence", Request(), default);
        await OkAsync(OnbSimulations.EmployeeSenderVerifyCommit, $$"""{"onboarding_session_id":"{{photo.Session!.SessionId}}","decision":"CONFIRM"}""");
        await OnbInvitee.DeviceAsync(_executor, _db, secret, "phone-1", OnbProofType.Passcode, Request(), default);
        await OnbInvitee.CompleteAsync(_executor, _db, secret, "phone-1", Request(), default);
        var (_, declined) = await InviteAsync(position);
        await AnswerAllAsync(declined, "phone-2");
        Assert.Equal(InviteeOutcome.Declined, (await OnbInvitee.TermsAsync(_executor, _db, declined, "phone-2", false, Request(), default)).Outcome);

        var reports = await new Maintenance(_db, _clock).RebuildAsync("onb", "acme", apply: false);
        var report = reports.Single(r => r.Store == "onb_session");
        Assert.True(report.Identical, string.Join("; ", report.Differences));
        Assert.Equal(2, report.Rows);
    }
}
