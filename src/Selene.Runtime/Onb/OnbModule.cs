using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.Access;
using Selene.Engines.Link;
using Selene.Engines.Onb;
using Selene.Engines.Position;
using Selene.Kernel.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using Selene.Runtime.Link;
using Selene.Runtime.Platform;
using Selene.Runtime.Position;

namespace Selene.Runtime.Onb;

/// <summary>ONB_SESSION_START_DRAFT body: the token and the app-open context it was activated with (the fingerprint as LINK's hash).</summary>
internal sealed record StartInput(string TokenId, string DeviceFingerprintHash, AppPlatform AppPlatform, string AppInstanceId, string DeepLinkNonce, long LinkOpenedAt);
/// <summary>ONB_DRAFT_UPDATE_COMMIT body: one answer per execution.</summary>
internal sealed record AnswerInput(string OnboardingSessionId, string FieldKey, string Value);
/// <summary>ONB_TERMS_ACCEPT_COMMIT body.</summary>
internal sealed record TermsInput(string OnboardingSessionId, string TermsVersionId, bool Accepted);
/// <summary>ONB_EMPLOYEE_PHOTO_CAPTURE_SEND_COMMIT body.</summary>
internal sealed record PhotoInput(string OnboardingSessionId, string PhotoBlobRef, string SenderUserId);
/// <summary>ONB_EMPLOYEE_SENDER_VERIFY_COMMIT body (the sender is the acting user).</summary>
internal sealed record VerifyInput(string OnboardingSessionId, OnbSenderDecision Decision);
/// <summary>ONB_PRIMARY_DEVICE_CONFIRM_COMMIT body.</summary>
internal sealed record DeviceInput(string OnboardingSessionId, string DeviceId, OnbProofType ProofType, bool ProofOk);
/// <summary>ONB_ACCESS_INSTANCE_CREATE_COMMIT body.</summary>
internal sealed record AccessInput(string OnboardingSessionId, string UserId, string RoleId);
/// <summary>ONB_COMPLETE_COMMIT body.</summary>
internal sealed record CompleteInput(string OnboardingSessionId, string? VoiceArtifactSyncReceiptRef = null, string? WakeArtifactSyncReceiptRef = null);

/// <summary>ONB_BIZ_START_DRAFT body: the company shell to set up.</summary>
internal sealed record BizStartInput(string CompanyId, string LegalName, string Jurisdiction);
/// <summary>ONB_BIZ_VALIDATE_COMPANY_COMMIT and ONB_BIZ_COMPLETE_COMMIT body.</summary>
internal sealed record BizCompanyInput(string CompanyId);

/// <summary>What an ONB decision reads besides its session: the start's facts (LINK's and POSITION's) or the access step's.</summary>
internal sealed record OnbFacts(OnbStartFacts? Start = null, OnbAccessFacts? Access = null);

/// <summary>
/// PH1.ONB on the engine platform: one aggregate (onboarding sessions, stream = session id, one per activated invite
/// token), the eight session simulations of reference §4.3 up to ONB_COMPLETE_COMMIT (ONB_INVITED), the handoff of a
/// link's activation (LINK_INVITE_ACTIVATED ⇒ ONB_SESSION_START_DRAFT) and the administrators' reads. ONB reads LINK's
/// and POSITION's rows without their locks and writes other engines' state only through their own deciders: the access
/// instance through ACCESS's <see cref="InstanceDecider"/>, the link's consumption through <see cref="LinkDecider"/>,
/// each in the ONB decision's transaction and journaled under that engine's id. Lock order: the session (target), then
/// the access instance stream and the user's access lock (access step), or the link token and then its draft (completion).
/// </summary>
public static class OnbModule
{
    /// <summary>The overlay a position-pinned session names (reference §4.1).</summary>
    public const string PositionOverlay = "position_requirements_active";

    /// <summary>The overlay of a session pinned to an invitee type's defaults.</summary>
    public const string DefaultOverlay = "default";

    /// <summary>The terms the invitee accepts (one version until a terms store exists).</summary>
    public const string TermsVersion = "selene-terms-v1";

    private static readonly IReadOnlyDictionary<string, Type> SessionRecords = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["START"] = typeof(OnbSessionStarted),
        ["ANSWER"] = typeof(OnbSessionStepped),
        ["TERMS"] = typeof(OnbSessionStepped),
        ["PHOTO"] = typeof(OnbSessionStepped),
        ["SENDER_VERIFY"] = typeof(OnbSessionStepped),
        ["PRIMARY_DEVICE"] = typeof(OnbSessionStepped),
        ["ACCESS_INSTANCE"] = typeof(OnbSessionStepped),
        ["COMPLETE"] = typeof(OnbSessionStepped),
    };

    /// <summary>Onboarding sessions: <c>onb_session_ledger</c> / <c>onb_session_current</c>, stream id = session id.</summary>
    public static Aggregate<OnbSession, OnbEvent, OnbEvent> Sessions { get; } = new(
        OnbReasons.EngineId, storeName: "onb_session", streamField: "onboarding_session_id", viewName: "session",
        streamOf: e => e.SessionId,
        eventTypeOf: e => e is OnbSessionStepped s ? s.Step : "START",
        evolve: OnbDecider.Evolve,
        statusOf: s => WireNames.Of(s.Status),
        view: SessionView,
        journalFields: e => e is OnbSessionStarted s ? [("token_id", s.TokenId), ("pinned_schema_id", s.PinnedSchemaId)] : [],
        eventRecords: SessionRecords);

    /// <summary>Business onboardings: <c>onb_business_ledger</c> / <c>onb_business_current</c>, stream id = company id.</summary>
    public static Aggregate<OnbBusiness, OnbBusinessStepped, OnbBusinessStepped> Businesses { get; } = new(
        OnbReasons.EngineId, storeName: "onb_business", streamField: "company_id", viewName: "business",
        streamOf: e => e.CompanyId,
        eventTypeOf: e => e.Step,
        evolve: OnbBusinessDecider.Evolve,
        statusOf: s => WireNames.Of(s.Status),
        view: b => new JsonObject
        {
            ["company_id"] = b.CompanyId,
            ["status"] = WireNames.Of(b.Status),
            ["started_by_user_id"] = b.StartedByUserId,
            ["last_reason_code"] = b.LastReasonCode,
            ["created_at"] = Time(b.CreatedAt),
            ["updated_at"] = Time(b.UpdatedAt),
        });

    public static EngineModule Module { get; } = new(
        "onb", OnbReasons.EngineId,
        [
            new EngineSimulation<StartInput, StartSession, OnbSession, OnbEvent, OnbFacts>(
                OnbSimulations.Of(OnbSimulations.SessionStartDraft), Sessions,
                toCommand: i => new StartSession(i.TokenId, i.DeviceFingerprintHash, WireNames.Of(i.AppPlatform), i.AppInstanceId, i.DeepLinkNonce, i.LinkOpenedAt),
                validate: Validate,
                targetOf: (c, ctx) => OnbDecider.SessionId(ctx.Tenant.Value, c.TokenId),
                decide: Decide,
                readFacts: StartFactsAsync),
            Step<AnswerInput, AnswerQuestions>(OnbSimulations.DraftUpdateCommit,
                i => new AnswerQuestions(i.OnboardingSessionId, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create(i.FieldKey, i.Value)]))),
            Step<TermsInput, AcceptTerms>(OnbSimulations.TermsAcceptCommit, i => new AcceptTerms(i.OnboardingSessionId, i.TermsVersionId, i.Accepted)),
            Step<PhotoInput, CapturePhoto>(OnbSimulations.EmployeePhotoCaptureSendCommit, i => new CapturePhoto(i.OnboardingSessionId, i.PhotoBlobRef, i.SenderUserId)),
            Step<VerifyInput, VerifyBySender>(OnbSimulations.EmployeeSenderVerifyCommit, i => new VerifyBySender(i.OnboardingSessionId, i.Decision)),
            Step<DeviceInput, ConfirmPrimaryDevice>(OnbSimulations.PrimaryDeviceConfirmCommit,
                i => new ConfirmPrimaryDevice(i.OnboardingSessionId, i.DeviceId, i.ProofType, i.ProofOk)),
            Step<AccessInput, CreateAccessInstance>(OnbSimulations.AccessInstanceCreateCommit, i => new CreateAccessInstance(i.OnboardingSessionId, i.UserId, i.RoleId),
                readFacts: AccessFactsAsync, effects: WriteAccessInstanceAsync),
            Step<CompleteInput, CompleteOnboarding>(OnbSimulations.CompleteCommit,
                i => new CompleteOnboarding(i.OnboardingSessionId, i.VoiceArtifactSyncReceiptRef, i.WakeArtifactSyncReceiptRef),
                effects: CompleteAsync,
                result: (session, _, _, events) => new JsonObject
                {
                    ["session"] = SessionView(session!),
                    ["ledger_event_id"] = session!.SourceEventId,
                    // Whether this execution completed the session (false: it was COMPLETE already and nothing changed).
                    ["completed_now"] = events.Count > 0,
                }),
            Business<BizStartInput, StartBusiness>(OnbSimulations.BizStartDraft, i => new StartBusiness(i.CompanyId, i.LegalName, i.Jurisdiction)),
            Business<BizCompanyInput, ValidateBusinessCompany>(OnbSimulations.BizValidateCompanyCommit, i => new ValidateBusinessCompany(i.CompanyId)),
            Business<BizCompanyInput, CompleteBusiness>(OnbSimulations.BizCompleteCommit, i => new CompleteBusiness(i.CompanyId)),
            .. OnbBackfill.Simulations,
        ],
        [Sessions, Businesses, OnbBackfill.Campaigns, OnbBackfill.Targets],
        OnbReasons.All,
        [
            new ReadRoute("ListOnboardingSessions", "/onboarding-sessions",
                "Onboarding sessions in session id order; optional status=DRAFT_CREATED|TERMS_ACCEPTED|…|COMPLETE, after, limit (1..500).",
                NotFound: false, ListAsync, ListPage.Parameters),
            new ReadRoute("GetOnboardingSession", "/onboarding-sessions/{onboarding_session_id}",
                "One onboarding session: pinned schema (id, version, overlay, selector), questions, known fields, gates, status, next step and question.",
                NotFound: true, GetAsync),
            .. OnbBackfill.Reads,
        ],
        Handoffs:
        [
            // POSITION activated a schema version for current staff too (reference §4.5 ONB_REQUIREMENT_BACKFILL): start the campaign.
            OnbBackfill.ActivationHandoff,
            // Each step of a backfill target's loop, and the campaign's completion check.
            OnbBackfillLoop.Route,
            // LINK activated an invite on its device (reference §4.5 ONB_INVITED S01): start the session with that context.
            new HandoffRoute(LinkHandoffs.InviteActivated, OnbSimulations.SessionStartDraft, StartInputs, Stage: StartAsync),
        ]);

    private static JsonObject StartInputs(JsonObject payload) => new()
    {
        ["token_id"] = payload["token_id"]?.GetValue<string>(),
        ["device_fingerprint_hash"] = payload["device_fingerprint_hash"]?.GetValue<string>(),
        ["app_platform"] = payload["app_platform"]?.GetValue<string>(),
        ["app_instance_id"] = payload["app_instance_id"]?.GetValue<string>(),
        ["deep_link_nonce"] = payload["deep_link_nonce"]?.GetValue<string>(),
        ["link_opened_at"] = long.TryParse(payload["link_opened_at"]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var at) ? at : 0,
    };

    /// <summary>
    /// The activation handoff's attempt: the start, unless the session it would start is there already — the page started
    /// it from the same open and the invitee may have finished (and consumed the link) before a worker that was behind took
    /// this row, when a start would be refused. Then nothing is left to do.
    /// </summary>
    private static async Task<HandoffAttempt> StartAsync(SeleneDatabase db, OutboxRow row, JsonObject payload, HandoffWorker worker, UnixNanos now, CancellationToken ct)
    {
        var inputs = StartInputs(payload);
        if (inputs["token_id"]?.GetValue<string>() is { } token && IdRules.IsShortHashId(token, "link_"))
        {
            OnbSession? session;
            await using (var tx = await TenantTransaction.BeginAsync(db.App, row.TenantId, ct))
                session = await Sessions.GetAsync(tx, OnbDecider.SessionId(row.TenantId, token), ct);
            if (session is not null && session.DeviceFingerprintHash == inputs["device_fingerprint_hash"]?.GetValue<string>()
                && session.DeepLinkNonce == inputs["deep_link_nonce"]?.GetValue<string>())
                return new HandoffAttempt.Done(OnbReasons.OnbOkSessionStart, $"the session {session.SessionId} this open starts is there already ({WireNames.Of(session.Status)})");
        }
        return new HandoffAttempt.Run(OnbSimulations.SessionStartDraft, inputs, null, null);
    }

    private static JsonInputError? Validate(OnbCommand c) =>
        OnbDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null;

    private static OnbContext Context(ExecutionContext ctx) => new(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now, ctx.IdempotencyKey.Value);

    private static Decision<OnbEvent> Decide(OnbSession? session, OnbCommand c, OnbFacts facts, ExecutionContext ctx) =>
        OnbDecider.Decide(session, c, Context(ctx), facts.Start, facts.Access);

    /// <summary>A simulation on an existing session (the session is the only stream it locks before deciding).</summary>
    private static EngineSimulation<TInput, TCommand, OnbSession, OnbEvent, OnbFacts> Step<TInput, TCommand>(string simulationId, Func<TInput, TCommand> toCommand,
        EngineSimulation<TInput, TCommand, OnbSession, OnbEvent, OnbFacts>.ReadFacts? readFacts = null,
        EngineSimulation<TInput, TCommand, OnbSession, OnbEvent, OnbFacts>.Effects? effects = null,
        Func<OnbSession?, TCommand, OnbFacts, IReadOnlyList<OnbEvent>, JsonObject>? result = null)
        where TInput : class
        where TCommand : OnbSessionCommand => new(
        OnbSimulations.Of(simulationId), Sessions, toCommand,
        validate: Validate,
        targetOf: (c, _) => c.SessionId,
        decide: (session, c, facts, ctx) => Decide(session, c, facts, ctx),
        readFacts: readFacts ?? ((_, _, _, _, _) => Task.FromResult(new OnbFacts())),
        result: result,
        effects: effects);

    // ---- the start: what LINK's token and draft and POSITION's schema say ---------------------------------------------

    /// <summary>
    /// The start's facts, read without LINK's or POSITION's locks: the token's status and activation context, the draft's
    /// fields, invitee type and inviter, and the schema the draft pinned (<see cref="PinAsync"/>). A resume (the session
    /// exists) needs no questions: they were pinned at its start.
    /// </summary>
    private static async Task<OnbFacts> StartFactsAsync(TenantTransaction tx, StartSession s, OnbSession? session, ExecutionContext ctx, CancellationToken ct)
    {
        if (await LinkModule.Tokens.GetAsync(tx, s.TokenId, ct) is not { } token) return new OnbFacts();
        var draft = await LinkModule.Drafts.GetAsync(tx, token.DraftId, ct) ?? throw new InvalidOperationException($"link {token.TokenId}'s draft {token.DraftId} is missing");
        var pin = session is null ? await PinAsync(tx, draft, ct) : new Pin(session.PinnedSchemaId, session.PinnedSchemaVersion, session.PinnedOverlaySetId,
            session.PinnedSelectorSnapshotRef, []);
        return new OnbFacts(new OnbStartFacts(token.TokenId, WireNames.Of(token.Status), draft.DraftId, WireNames.Of(draft.InviteeType), draft.InviterUserId,
            token.BoundDeviceFingerprintHash, token.AppPlatform is { } p ? WireNames.Of(p) : null, token.AppInstanceId, token.DeepLinkNonce, token.LinkOpenedAt,
            draft.Fields, pin.SchemaId, pin.Version, pin.Overlay, pin.SelectorRef, pin.Questions));
    }

    private sealed record Pin(string SchemaId, string? Version, string Overlay, string? SelectorRef, IReadOnlyList<OnbQuestion> Questions);

    /// <summary>
    /// The schema a session pins (reference §4.1), from what the invite's draft pinned at its creation: for an invite to a
    /// position (<c>position:{id}</c>), that position's schema AT THE DRAFT'S VERSION (an activated version never changes,
    /// and a version activated later is not this one), its required fields under that version's selectors in the schema's
    /// order, prompts, types and DOC_REQUIRED from the field specs; otherwise the invitee type's default fields.
    /// </summary>
    private static async Task<Pin> PinAsync(TenantTransaction tx, LinkDraft draft, CancellationToken ct)
    {
        const string positionRef = "position:";
        if (draft.SchemaRef.StartsWith(positionRef, StringComparison.Ordinal) && draft.SchemaVersionId is { } versionId)
        {
            var positionId = draft.SchemaRef[positionRef.Length..];
            var schemas = await PositionModule.Schemas.GetAsync(tx, positionId, ct);
            if (schemas is null || !schemas.Versions.TryGetValue(versionId, out var version))
                throw new InvalidOperationException($"draft {draft.DraftId} pins schema version {versionId} of position {positionId}, which does not exist");
            return new Pin(draft.SchemaRef, versionId, PositionOverlay, $"selector:{draft.TenantId}:{positionId}:{versionId}", QuestionsOf(version));
        }
        return new Pin("invitee:" + WireNames.Of(draft.InviteeType), draft.SchemaVersionId, DefaultOverlay, null,
            LinkDecider.DefaultRequired(draft.InviteeType).Select(DefaultQuestion).ToArray());
    }

    /// <summary>
    /// A schema version's questions: its required fields under its own selectors, in the schema's order, with prompts,
    /// types and DOC_REQUIRED from the field specs (a session's pin and a backfill's missing fields alike).
    /// </summary>
    internal static IReadOnlyList<OnbQuestion> QuestionsOf(SchemaVersionState version) =>
        RequirementRules.Required(version.FieldSpecs, version.Selectors)
            .Select(f => new OnbQuestion(f.FieldKey, TypeOf(f.FieldType), f.PromptShort, f.PromptLong, f.EvidenceMode == EvidenceMode.DocRequired))
            .ToArray();

    /// <summary>A default field's question (no schema names its prompts): dates by their <c>_date</c> suffix, everything else text.</summary>
    private static OnbQuestion DefaultQuestion(string key)
    {
        var words = key.Replace('_', ' ');
        var label = char.ToUpperInvariant(words[0]) + words[1..];
        return new OnbQuestion(key, key.EndsWith("_date", StringComparison.Ordinal) ? OnbFieldType.Date : OnbFieldType.String, label, $"Please enter your {words}.", false);
    }

    private static OnbFieldType TypeOf(FieldType t) => t switch
    {
        FieldType.String => OnbFieldType.String,
        FieldType.Integer => OnbFieldType.Integer,
        FieldType.Decimal => OnbFieldType.Decimal,
        FieldType.Date => OnbFieldType.Date,
        FieldType.Enum => OnbFieldType.Enum,
        FieldType.Object => OnbFieldType.Object,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a field type"),
    };

    // ---- the access instance, through ACCESS ---------------------------------------------------------------------------

    /// <summary>
    /// The access step's facts: the instance id ACCESS gives the user, whether the user exists in the tenant already, and
    /// for an EMPLOYEE the position the invite names (its company and lifecycle, and the invite's compensation tier, when
    /// one was prefilled, against the position's band). Read without POSITION's locks.
    /// </summary>
    private static async Task<OnbFacts> AccessFactsAsync(TenantTransaction tx, CreateAccessInstance c, OnbSession? session, ExecutionContext ctx, CancellationToken ct)
    {
        if (session is null) return new OnbFacts();
        var exists = (await KeyStore.ExistingIdentitiesAsync(tx, [c.UserId], ct)).Contains(c.UserId);
        bool companyActive = false, positionActive = false, inCompany = false, compensation = false;
        if (session.Known.TryGetValue("position_id", out var positionId) && IdRules.IsShortHashId(positionId, "pos_")
            && await PositionModule.Positions.GetAsync(tx, positionId, ct) is { } position)
        {
            var company = await PositionModule.Companies.GetAsync(tx, position.CompanyId, ct);
            companyActive = company?.Lifecycle == CompanyLifecycle.Active;
            positionActive = position.Lifecycle == PositionLifecycle.Active;
            inCompany = !session.Known.TryGetValue("company_id", out var companyId) || companyId == position.CompanyId;
            compensation = !session.Known.TryGetValue("compensation_tier_ref", out var tier) || tier == position.CompensationBandRef;
        }
        return new OnbFacts(Access: new OnbAccessFacts(InstanceDecider.AccessInstanceId(ctx.Tenant.Value, c.UserId), exists, companyActive, positionActive,
            inCompany, compensation));
    }

    /// <summary>
    /// Writes the new user's access instance through ACCESS, in the ONB decision's transaction: ACCESS's locks (the
    /// instance stream, then the user's access lock), ACCESS's authority check of the acting user (the inviter: nobody
    /// hands out more than they hold), the identity created, and ACCESS's event on ACCESS's ledger, journaled under
    /// ACCESS's id. The instance: the role's default mode, no actions allowed yet (an administrator widens it with
    /// ACCESS_INSTANCE_UPSERT_COMMIT), no financial authorization, identity verified by passcode, DTL3, ACTIVE. A refusal
    /// by ACCESS refuses the step (ONB_ACCESS_INSTANCE_REFUSED) and nothing is written.
    /// </summary>
    private static async Task<Decision<OnbEvent>.Rejected?> WriteAccessInstanceAsync(TenantTransaction tx, IReadOnlyList<OnbEvent> events, ExecutionContext ctx,
        ICollection<JournalDraft> journal, CancellationToken ct)
    {
        if (events.OfType<OnbSessionStepped>().SingleOrDefault(e => e.Step == "ACCESS_INSTANCE") is not { UserId: { } userId } step) return null;
        var session = await Sessions.GetAsync(tx, step.SessionId, ct) ?? throw new InvalidOperationException($"session {step.SessionId} is missing");
        var roleId = step.RoleId ?? throw new InvalidOperationException($"session {step.SessionId}'s access step names no role");
        var current = await GovernanceHandlers.Instances.LockAndLoadAsync(tx, userId, ct);
        var facts = await GovernanceHandlers.InstanceWriteFactsAsync(tx, userId, current, ctx, ct);
        var upsert = new UpsertInstance(userId, roleId, [], null, false, true, VerificationLevel.PasscodeTime, DeviceTrustLevel.Dtl3, AccessLifecycle.Active);
        switch (InstanceDecider.Upsert(upsert, facts.Authority, new GovernanceContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now)))
        {
            case Decision<GovernanceEvent>.Rejected refused:
                return new(OnbReasons.OnbAccessInstanceRefused, $"ACCESS refused {userId}'s instance for {session.SessionId}: {refused.Reason.Name} {refused.Detail}");
            case Decision<GovernanceEvent>.Accepted accepted:
                foreach (var e in accepted.Events.OfType<AccessInstanceWritten>())
                {
                    var (after, eventId) = await GovernanceHandlers.Instances.WriteAsync(tx, current, e, ctx, accepted.Reason, ct);
                    journal.Add(Transition(OnbSimulations.AccessInstanceCreateCommit, GovernanceHandlers.Instances, accepted.Reason, userId, GovernanceHandlers.Instances.StatusOf(current),
                        GovernanceHandlers.Instances.StatusOf(after), eventId));
                    current = after;
                }
                return null;
            default:
                throw new InvalidOperationException("unknown decision");
        }
    }

    // ---- completion: the link consumed through LINK ---------------------------------------------------------------------

    /// <summary>
    /// Consumes the session's link in the completion's transaction, through LINK's own decision
    /// (<see cref="LinkDecider"/>'s consume: token CONSUMED, draft COMMITTED) and LINK's stores, journaled under LINK's id.
    /// Locks the token and then its draft (LINK's own order), after the session the pipeline locked first. A refusal by
    /// LINK (the link was revoked or recovered meanwhile) refuses the completion (ONB_LINK_CONSUME_REFUSED): the session
    /// stays where it was and nothing is written.
    /// </summary>
    private static async Task<Decision<OnbEvent>.Rejected?> ConsumeLinkAsync(TenantTransaction tx, IReadOnlyList<OnbEvent> events, ExecutionContext ctx,
        ICollection<JournalDraft> journal, CancellationToken ct)
    {
        if (events.OfType<OnbSessionStepped>().SingleOrDefault(e => e.To == OnbStatus.Complete) is not { } completed) return null;
        var session = await Sessions.GetAsync(tx, completed.SessionId, ct) ?? throw new InvalidOperationException($"session {completed.SessionId} is missing");
        var token = await LinkModule.Tokens.LockAndLoadAsync(tx, session.TokenId, ct);
        var draft = token is null ? null : await LinkModule.Drafts.LockAndLoadAsync(tx, token.DraftId, ct);
        switch (LinkDecider.Decide(new LinkState(draft, token), new ConsumeInvite(session.TokenId), new LinkContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now,
                    ctx.IdempotencyKey.Value)))
        {
            case Decision<LinkEvent>.Rejected refused:
                return new(OnbReasons.OnbLinkConsumeRefused, $"LINK refused to consume link {session.TokenId}: {refused.Reason.Name} {refused.Detail}");
            case Decision<LinkEvent>.Accepted accepted:
                foreach (var e in accepted.Events)
                {
                    switch (e)
                    {
                        case LinkTokenEvent t:
                            var (tokenAfter, tokenEvent) = await LinkModule.Tokens.WriteAsync(tx, token, t, ctx, accepted.Reason, ct);
                            journal.Add(Transition(OnbSimulations.CompleteCommit, LinkModule.Tokens, accepted.Reason, t.TokenId, LinkModule.Tokens.StatusOf(token), LinkModule.Tokens.StatusOf(tokenAfter),
                                tokenEvent));
                            token = tokenAfter;
                            break;
                        case LinkDraftEvent d:
                            var (draftAfter, draftEvent) = await LinkModule.Drafts.WriteAsync(tx, draft, d, ctx, accepted.Reason, ct);
                            journal.Add(Transition(OnbSimulations.CompleteCommit, LinkModule.Drafts, accepted.Reason, d.DraftId, LinkModule.Drafts.StatusOf(draft), LinkModule.Drafts.StatusOf(draftAfter),
                                draftEvent));
                            draft = draftAfter;
                            break;
                        default:
                            throw new InvalidOperationException($"a consume decided {e.GetType().Name}");
                    }
                }
                return null;
            default:
                throw new InvalidOperationException("unknown decision");
        }
    }

    /// <summary>The completion's writes through other engines: the link consumed (LINK), then the new user made a holder of the position (POSITION).</summary>
    private static async Task<Decision<OnbEvent>.Rejected?> CompleteAsync(TenantTransaction tx, IReadOnlyList<OnbEvent> events, ExecutionContext ctx,
        ICollection<JournalDraft> journal, CancellationToken ct) =>
        await ConsumeLinkAsync(tx, events, ctx, journal, ct) ?? await AssignHolderAsync(tx, events, ctx, journal, ct);

    /// <summary>
    /// An EMPLOYEE onboarding's completion makes the new user a current holder of the invite's position, through
    /// POSITION's holder decider and store (<see cref="PositionModule.AssignFromOnboardingAsync"/>), journaled under
    /// PH1.POSITION. A refusal by POSITION (the position is no longer ACTIVE) refuses the completion
    /// (ONB_REQUIRED_GATE_NOT_MET naming POSITION's code) and nothing is written.
    /// </summary>
    private static async Task<Decision<OnbEvent>.Rejected?> AssignHolderAsync(TenantTransaction tx, IReadOnlyList<OnbEvent> events, ExecutionContext ctx,
        ICollection<JournalDraft> journal, CancellationToken ct)
    {
        if (events.OfType<OnbSessionStepped>().SingleOrDefault(e => e.To == OnbStatus.Complete) is not { } completed) return null;
        var session = await Sessions.GetAsync(tx, completed.SessionId, ct) ?? throw new InvalidOperationException($"session {completed.SessionId} is missing");
        if (session.InviteeType != "EMPLOYEE" || session.UserId is not { } userId || !session.Known.TryGetValue("position_id", out var positionId)
            || !IdRules.IsShortHashId(positionId, "pos_"))
            return null;
        var refused = await PositionModule.AssignFromOnboardingAsync(tx, positionId, userId, ctx,
            (reason, from, to, eventId) => Transition(OnbSimulations.CompleteCommit, PositionModule.Holders, reason, HolderDecider.HolderId(positionId, userId), from, to, eventId),
            journal, ct);
        return refused is null ? null
            : new(OnbReasons.OnbRequiredGateNotMet, $"POSITION refused to make {userId} a holder of {positionId}: {refused.Reason.Name} {refused.Detail}");
    }

    /// <summary>The journal entry of another engine's transition that an ONB step wrote (the pipeline's STATE_TRANSITION shape).</summary>
    private static JournalDraft Transition(string simulationId, IAggregate aggregate, ReasonCode reason, string streamId, string from, string to, long eventId) =>
        new(aggregate.EngineId, JournalEventTypes.StateTransition, reason, JournalPayload.Create(
            ("simulation_id", simulationId),
            (aggregate.StreamField, streamId),
            ("state_from", from),
            ("state_to", to),
            ("ledger_event_id", eventId.ToString(CultureInfo.InvariantCulture))));

    // ---- business onboarding: the company through POSITION ----------------------------------------------------------

    /// <summary>
    /// A business onboarding step: the business (target) is locked, then POSITION's company stream (its lifecycle is the
    /// decider's fact); the company shell is written through POSITION's <see cref="CompanyDecider"/> and stores in the same
    /// transaction (start: DRAFT; validation: ACTIVE) and journaled under PH1.POSITION. ONB never writes POSITION's tables.
    /// </summary>
    private static EngineSimulation<TInput, TCommand, OnbBusiness, OnbBusinessStepped, CompanyState?> Business<TInput, TCommand>(string simulationId,
        Func<TInput, TCommand> toCommand)
        where TInput : class
        where TCommand : OnbBusinessCommand => new(
        OnbSimulations.Of(simulationId), Businesses, toCommand,
        validate: c => OnbBusinessDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
        targetOf: (c, _) => c.CompanyId,
        decide: (business, c, company, ctx) => OnbBusinessDecider.Decide(business, c, company is null ? null : WireNames.Of(company.Lifecycle), Context(ctx)),
        readFacts: (tx, c, _, _, ct) => PositionModule.Companies.LockAndLoadAsync(tx, c.CompanyId, ct),
        effects: (tx, events, ctx, journal, ct) => WriteCompanyAsync(tx, simulationId, events, ctx, journal, ct));

    private static async Task<Decision<OnbBusinessStepped>.Rejected?> WriteCompanyAsync(TenantTransaction tx, string simulationId, IReadOnlyList<OnbBusinessStepped> events,
        ExecutionContext ctx, ICollection<JournalDraft> journal, CancellationToken ct)
    {
        foreach (var e in events.Where(e => e.Step is "START" or "VALIDATE"))
        {
            var company = await PositionModule.Companies.GetAsync(tx, e.CompanyId, ct);
            var upsert = e.Step == "START"
                ? new UpsertCompany(e.CompanyId, e.LegalName!, e.Jurisdiction!, CompanyLifecycle.Draft)
                : new UpsertCompany(e.CompanyId, company!.LegalName, company.Jurisdiction, CompanyLifecycle.Active);
            switch (CompanyDecider.Decide(company, upsert, ctx.Tenant.Value, ctx.Actor.Value, ctx.Now))
            {
                case Decision<CompanyWritten>.Rejected refused:
                    return new(OnbReasons.OnbBizCompanyInvalid, $"POSITION refused company {e.CompanyId}: {refused.Reason.Name} {refused.Detail}");
                case Decision<CompanyWritten>.Accepted accepted:
                    foreach (var written in accepted.Events)
                    {
                        var (after, eventId) = await PositionModule.Companies.WriteAsync(tx, company, written, ctx, accepted.Reason, ct);
                        journal.Add(Transition(simulationId, PositionModule.Companies, accepted.Reason, e.CompanyId, PositionModule.Companies.StatusOf(company),
                            PositionModule.Companies.StatusOf(after), eventId));
                        company = after;
                    }
                    break;
            }
        }
        return null;
    }

    // ---- views and reads ------------------------------------------------------------------------------------------------

    private static string? Time(long? ns) => ns is { } v ? new UnixNanos(v).ToString() : null;

    /// <summary>A question as the page and the administrators see it.</summary>
    public static JsonObject QuestionView(OnbQuestion q) => new()
    {
        ["field_key"] = q.FieldKey,
        ["field_type"] = WireNames.Of(q.FieldType),
        ["prompt_short"] = q.PromptShort,
        ["prompt_long"] = q.PromptLong,
        ["document_required"] = q.DocumentRequired,
    };

    /// <summary>
    /// The administrators' view of a session: the pinned schema, its questions, the known fields, the gates, where it
    /// stands and what comes next. The bound device only as LINK's hash, never its app instance or nonce.
    /// </summary>
    public static JsonObject SessionView(OnbSession s)
    {
        var view = OnbDecider.View(s);
        return new JsonObject
        {
            ["onboarding_session_id"] = s.SessionId,
            ["token_id"] = s.TokenId,
            ["draft_id"] = s.DraftId,
            ["invitee_type"] = s.InviteeType,
            ["inviter_user_id"] = s.InviterUserId,
            ["prefilled_context_ref"] = "prefilled:" + s.TokenId,
            ["device_fingerprint_hash"] = s.DeviceFingerprintHash,
            ["app_platform"] = s.AppPlatform,
            ["link_opened_at"] = Time(s.LinkOpenedAt),
            ["pinned_schema_id"] = s.PinnedSchemaId,
            ["pinned_schema_version"] = s.PinnedSchemaVersion,
            ["pinned_overlay_set_id"] = s.PinnedOverlaySetId,
            ["pinned_selector_snapshot_ref"] = s.PinnedSelectorSnapshotRef,
            ["questions"] = new JsonArray(s.Questions.Select(q => (JsonNode)QuestionView(q)).ToArray()),
            ["known_fields"] = new JsonObject(s.Known.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
            ["required_verification_gates"] = new JsonArray(s.RequiredGates.Select(g => (JsonNode)WireNames.Of(g)).ToArray()),
            ["status"] = WireNames.Of(s.Status),
            ["next_step"] = WireNames.Of(view.NextStep),
            ["next_question"] = view.NextQuestion is { } q ? QuestionView(q) : null,
            ["answered"] = view.Answered,
            ["question_count"] = view.QuestionCount,
            ["terms_version_id"] = s.TermsVersionId,
            ["terms_status"] = s.TermsAccepted is { } accepted ? (accepted ? "ACCEPTED" : "DECLINED") : null,
            ["photo_proof_ref"] = s.PhotoProofRef,
            ["sender_user_id"] = s.SenderUserId,
            ["verification_status"] = s.VerificationConfirmed is { } confirmed ? (confirmed ? "CONFIRMED" : "REJECTED") : s.PhotoProofRef is null ? null : "PENDING",
            ["primary_device_confirmed"] = s.PrimaryDeviceConfirmed,
            ["primary_device_id"] = s.PrimaryDeviceId,
            ["access_engine_instance_id"] = s.AccessInstanceId,
            ["user_id"] = s.UserId,
            ["voice_artifact_sync_receipt_ref"] = s.VoiceReceiptRef,
            ["wake_artifact_sync_receipt_ref"] = s.WakeReceiptRef,
            ["last_reason_code"] = s.LastReasonCode,
            ["created_at"] = Time(s.CreatedAt),
            ["updated_at"] = Time(s.UpdatedAt),
        };
    }

    private static ReadResult.Refused NoSession(string id) => new(OnbReasons.OnbRefuseNotFound, $"no onboarding session {IdRules.Shorten(id)} in this tenant");

    private static async Task<ReadResult> ListAsync(ReadRequest request, CancellationToken ct)
    {
        if (ListPage.Read<OnbStatus>(request, OnbDecider.IsSessionId, "an onboarding session id", out var page) is { } refused) return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Sessions.ListAsync(tx, page.Status, page.After, page.Limit, ct);
        return new ReadResult.Ok(page.Body("onboarding_sessions", rows, r => SessionView(r.State), r => r.StreamId));
    }

    // A malformed id names no session: 404 as for any missing one, without a query.
    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["onboarding_session_id"];
        if (!OnbDecider.IsSessionId(id)) return NoSession(id);
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        return await Sessions.GetAsync(tx, id, ct) is { } session ? new ReadResult.Ok(new JsonObject { ["session"] = SessionView(session) }) : NoSession(id);
    }

    /// <summary>The session a token started, if any (the invite read shows its id).</summary>
    public static async Task<OnbSession?> SessionOfTokenAsync(TenantTransaction tx, string tokenId, CancellationToken ct) =>
        await Sessions.GetAsync(tx, OnbDecider.SessionId(tx.TenantId, tokenId), ct);
}
