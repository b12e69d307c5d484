using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Selene.Engines.Onb;

/// <summary>Where a session stands for the invitee's page: the next step and, when a field is missing, the one question to ask.</summary>
public sealed record OnbView(OnbNextStep NextStep, OnbQuestion? NextQuestion, int Answered, int QuestionCount);

/// <summary>
/// PH1.ONB sessions, pure (reference §4.1–4.3): one session per activated link, pinned to its schema at start, asking
/// one question at a time, then terms, the verification gates the schema requires, the primary device, the access
/// instance and completion, in that order. <see cref="Decide"/> turns (session, command, facts, context) into events
/// or a refusal; <see cref="Evolve"/> folds them. ONB never defines a schema, never re-checks the link's expiry or
/// signature, never delivers, and never writes an access instance itself.
/// </summary>
public static partial class OnbDecider
{
    public const string SessionPrefix = "onb_";
    public const int MaxAnswerLength = 256;
    public const int MaxReceiptLength = 192;

    [GeneratedRegex("^-?[0-9]{1,18}$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex("^-?[0-9]{1,18}(\\.[0-9]{1,9})?$")]
    private static partial Regex DecimalPattern();

    [GeneratedRegex("^[\\x21-\\x7e]{1,192}$")]
    private static partial Regex ReceiptPattern();

    /// <summary><c>onb_{hash(tenant, token)}</c>: one session per activated token (reference §4.1).</summary>
    public static string SessionId(string tenantId, string tokenId) => SessionPrefix + Hashing.ShortHash(16, tenantId, tokenId);

    public static bool IsSessionId(string? id) => IdRules.IsShortHashId(id, SessionPrefix);

    /// <summary>COMPLETE, TERMS_DECLINED and VERIFICATION_REJECTED end a session.</summary>
    public static bool IsTerminal(OnbStatus s) => s is OnbStatus.Complete or OnbStatus.TermsDeclined or OnbStatus.VerificationRejected;

    /// <summary>
    /// The gates a pinned schema requires (reference §4.1): photo evidence and the sender's confirmation when some
    /// required field of an EMPLOYEE invite demands a document; none otherwise.
    /// </summary>
    public static ImmutableArray<OnbGate> GatesOf(string inviteeType, IEnumerable<OnbQuestion> questions) =>
        inviteeType == "EMPLOYEE" && questions.Any(q => q.DocumentRequired) ? [OnbGate.PhotoEvidenceCapture, OnbGate.SenderConfirmation] : [];

    /// <summary>
    /// The one question to ask next: the first question, in the pinned schema's order, whose field is not known
    /// (prefilled or answered). A pure function of the pinned questions and the known fields, so the same inputs ask
    /// the same question and a known field is never asked again.
    /// </summary>
    public static OnbQuestion? NextQuestion(IEnumerable<OnbQuestion> questions, IReadOnlyDictionary<string, string> known) =>
        questions.FirstOrDefault(q => !known.ContainsKey(q.FieldKey));

    /// <summary>Whether the assistant's voice enrollment receipt is required: on the assistant's apps, not on the invitee's web page.</summary>
    public static bool VoiceReceiptRequired(string appPlatform) => appPlatform is "IOS" or "ANDROID" or "DESKTOP";

    /// <summary>Whether a wake-word enrollment receipt is required: ANDROID (reference §4.2; IOS optional).</summary>
    public static bool WakeReceiptRequired(string appPlatform) => appPlatform == "ANDROID";

    /// <summary>The page's view of a session: the next step and the next question.</summary>
    public static OnbView View(OnbSession s)
    {
        var next = NextQuestion(s.Questions, s.Known);
        var answered = s.Questions.Count(q => s.Known.ContainsKey(q.FieldKey));
        var step = s.Status switch
        {
            _ when IsTerminal(s.Status) => OnbNextStep.Done,
            OnbStatus.DraftCreated => next is null ? OnbNextStep.Terms : OnbNextStep.AskMissing,
            OnbStatus.TermsAccepted => s.RequiredGates.Contains(OnbGate.PhotoEvidenceCapture) ? OnbNextStep.PhotoEvidence : OnbNextStep.PrimaryDevice,
            OnbStatus.VerificationPending => OnbNextStep.SenderConfirmation,
            OnbStatus.VerificationConfirmed => OnbNextStep.PrimaryDevice,
            OnbStatus.PrimaryDeviceConfirmed => OnbNextStep.AccessInstance,
            _ => OnbNextStep.Complete,
        };
        return new OnbView(step, step == OnbNextStep.AskMissing ? next : null, answered, s.Questions.Length);
    }

    /// <summary>Whether <paramref name="answer"/> fits a field of <paramref name="type"/>; null when it does, else what is wrong.</summary>
    public static string? CheckAnswer(OnbFieldType type, string answer)
    {
        if (!IdRules.IsBoundedText(answer, MaxAnswerLength)) return $"an answer is 1..{MaxAnswerLength} printable characters";
        return type switch
        {
            OnbFieldType.Integer when !IntegerPattern().IsMatch(answer) => "a whole number, e.g. 42",
            OnbFieldType.Decimal when !DecimalPattern().IsMatch(answer) => "a number, e.g. 12.50",
            OnbFieldType.Date when !DateOnly.TryParseExact(answer, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) => "a date as YYYY-MM-DD",
            OnbFieldType.Enum when !IdRules.IsValidName(answer, 128) => "one of the listed values",
            _ => null,
        };
    }

    /// <summary>Decides a session command. <paramref name="start"/> is read for a start, <paramref name="access"/> for the access step.</summary>
    public static Decision<OnbEvent> Decide(OnbSession? session, OnbCommand command, OnbContext ctx, OnbStartFacts? start = null, OnbAccessFacts? access = null)
    {
        if (Validate(command) is { } invalid) return invalid;
        if (command is StartSession s) return DecideStart(session, s, start, ctx);
        var c = (OnbSessionCommand)command;
        if (session is null) return new Decision<OnbEvent>.Rejected(OnbReasons.OnbRefuseNotFound, $"session {c.SessionId} does not exist");
        if (session.Status == OnbStatus.TermsDeclined) return new Decision<OnbEvent>.Rejected(OnbReasons.OnbTermsDeclined, "the invitee declined the terms: onboarding ended");
        if (session.Status == OnbStatus.VerificationRejected) return new Decision<OnbEvent>.Rejected(OnbReasons.OnbSenderRejected, "the sender rejected the evidence: onboarding ended");
        if (session.Status == OnbStatus.Complete)
            return command is CompleteOnboarding ? new Decision<OnbEvent>.Accepted([], OnbReasons.OnbOkComplete, []) : State(session, "onboarding is COMPLETE");
        return command switch
        {
            AnswerQuestions a => DecideAnswers(session, a, ctx),
            AcceptTerms t => DecideTerms(session, t, ctx),
            CapturePhoto p => DecidePhoto(session, p, ctx),
            VerifyBySender v => DecideVerify(session, v, ctx),
            ConfirmPrimaryDevice d => DecideDevice(session, d, ctx),
            CreateAccessInstance i => DecideAccess(session, i, access, ctx),
            CompleteOnboarding x => DecideComplete(session, x, ctx),
            _ => Invalid("not a session command"),
        };
    }

    /// <summary>Bounds and shapes of a command, checked before any state is read; null when valid.</summary>
    public static Decision<OnbEvent>.Rejected? Validate(OnbCommand command) => command switch
    {
        StartSession s when !IdRules.IsShortHashId(s.TokenId, "link_") => Invalid("token_id must look like link_<16 hex>"),
        StartSession s when !IdRules.IsValidIdempotencyKey(s.AppInstanceId) || !IdRules.IsValidIdempotencyKey(s.DeepLinkNonce) || s.LinkOpenedAt <= 0 =>
            Invalid("the app-open context (app_instance_id, deep_link_nonce, link_opened_at) is required"),
        OnbSessionCommand c when !IsSessionId(c.SessionId) => Invalid("onboarding_session_id must look like onb_<16 hex>"),
        AnswerQuestions a when a.Answers.Count == 0 => Invalid("answers must name at least one field"),
        AcceptTerms t when !IdRules.IsValidName(t.TermsVersionId) => Invalid("terms_version_id must be 1..64 of [A-Za-z0-9_.-]"),
        CapturePhoto p when !IdRules.IsBoundedText(p.PhotoBlobRef, 256) || !IdRules.IsValidName(p.SenderUserId) =>
            Invalid("photo_blob_ref must be 1..256 printable chars and sender_user_id a user id"),
        VerifyBySender v when !Enum.IsDefined(v.Decision) => Invalid("decision must be CONFIRM or REJECT"),
        ConfirmPrimaryDevice d when !IdRules.IsValidName(d.DeviceId, 128) || !Enum.IsDefined(d.ProofType) =>
            Invalid("device_id must be 1..128 of [A-Za-z0-9_.-] and proof_type BIOMETRIC or PASSCODE"),
        CreateAccessInstance i when !IdRules.IsValidName(i.UserId) || !IdRules.IsValidName(i.RoleId) => Invalid("user_id and role_id must be 1..64 of [A-Za-z0-9_.-]"),
        CompleteOnboarding x when x.VoiceArtifactSyncReceiptRef is { } v && !ReceiptPattern().IsMatch(v)
            || x.WakeArtifactSyncReceiptRef is { } w && !ReceiptPattern().IsMatch(w) => Invalid($"a receipt ref is 1..{MaxReceiptLength} printable ASCII characters"),
        _ => null,
    };

    private static Decision<OnbEvent> DecideStart(OnbSession? session, StartSession s, OnbStartFacts? f, OnbContext ctx)
    {
        if (f is null || f.TokenId != s.TokenId) return new Decision<OnbEvent>.Rejected(OnbReasons.OnbRefuseNotFound, $"link {s.TokenId} does not exist");
        if (f.TokenStatus != OnbStartFacts.ActivatedStatus) return State(null, $"link {s.TokenId} is {f.TokenStatus}: a session starts from an ACTIVATED link");
        // The app-open context must be the one the link was activated with: the same device, app and open.
        if (f.BoundDeviceFingerprintHash != s.DeviceFingerprintHash || f.AppPlatform != s.AppPlatform || f.AppInstanceId != s.AppInstanceId
            || f.DeepLinkNonce != s.DeepLinkNonce || f.LinkOpenedAt != s.LinkOpenedAt)
            return new Decision<OnbEvent>.Rejected(OnbReasons.OnbContextMismatch, "the device or app-open context is not the one the link was activated with");
        if (session is not null)
        {
            // A second start is a resume of the same session (one per token), from the same device and open only.
            return session.DeviceFingerprintHash == s.DeviceFingerprintHash && session.DeepLinkNonce == s.DeepLinkNonce
                ? new Decision<OnbEvent>.Accepted([], OnbReasons.OnbOkSessionStart, [])
                : new Decision<OnbEvent>.Rejected(OnbReasons.OnbContextMismatch, "the session was started from another device or open");
        }
        var questions = f.Questions.ToImmutableArray();
        if (questions.Select(q => q.FieldKey).Distinct(StringComparer.Ordinal).Count() != questions.Length)
            throw new InvalidOperationException($"the pinned schema {f.PinnedSchemaId} repeats a field key");
        return new Decision<OnbEvent>.Accepted([new OnbSessionStarted(ctx.TenantId, SessionId(ctx.TenantId, f.TokenId), ctx.ActorUserId, OnbReasons.OnbOkSessionStart.Name,
            ctx.Now.Value, f.TokenId, f.DraftId, f.InviteeType, f.InviterUserId, s.DeviceFingerprintHash, s.AppPlatform, s.AppInstanceId, s.DeepLinkNonce,
            s.LinkOpenedAt, f.PinnedSchemaId, f.PinnedSchemaVersion, f.PinnedOverlaySetId, f.PinnedSelectorSnapshotRef, questions,
            f.Fields.ToImmutableSortedDictionary(StringComparer.Ordinal), GatesOf(f.InviteeType, questions))], OnbReasons.OnbOkSessionStart, []);
    }

    private static Decision<OnbEvent> DecideAnswers(OnbSession s, AnswerQuestions a, OnbContext ctx)
    {
        if (s.Status != OnbStatus.DraftCreated) return State(s, "questions are answered before the terms");
        foreach (var (key, value) in a.Answers)
        {
            if (s.Questions.FirstOrDefault(q => q.FieldKey == key) is not { } question)
                return Invalid($"'{IdRules.Shorten(key)}' is not a question of this onboarding");
            if (CheckAnswer(question.FieldType, value) is { } problem)
                return new Decision<OnbEvent>.Rejected(OnbReasons.OnbAnswerInvalid, $"{key}: {problem}");
        }
        return Step(s, ctx, "ANSWER", s.Status, OnbReasons.OnbOkDraftUpdate, e => e with { Answers = a.Answers });
    }

    private static Decision<OnbEvent> DecideTerms(OnbSession s, AcceptTerms t, OnbContext ctx)
    {
        if (s.Status != OnbStatus.DraftCreated) return State(s, "terms are accepted once, from DRAFT_CREATED");
        if (NextQuestion(s.Questions, s.Known) is { } missing) return Gate($"{missing.FieldKey} is not answered yet");
        return Step(s, ctx, "TERMS", t.Accepted ? OnbStatus.TermsAccepted : OnbStatus.TermsDeclined, OnbReasons.OnbOkTermsAccept,
            e => e with { TermsVersionId = t.TermsVersionId, TermsAccepted = t.Accepted });
    }

    private static Decision<OnbEvent> DecidePhoto(OnbSession s, CapturePhoto p, OnbContext ctx)
    {
        if (!s.RequiredGates.Contains(OnbGate.PhotoEvidenceCapture)) return State(s, "the pinned schema requires no evidence");
        if (s.Status != OnbStatus.TermsAccepted) return State(s, "evidence is captured once, after the terms");
        var proof = "photo_" + Hashing.ShortHash(16, s.TenantId, s.SessionId, p.PhotoBlobRef);
        return Step(s, ctx, "PHOTO", OnbStatus.VerificationPending, OnbReasons.OnbOkEmployeePhoto, e => e with { PhotoProofRef = proof, SenderUserId = p.SenderUserId });
    }

    private static Decision<OnbEvent> DecideVerify(OnbSession s, VerifyBySender v, OnbContext ctx)
    {
        if (!s.RequiredGates.Contains(OnbGate.SenderConfirmation) || s.Status != OnbStatus.VerificationPending)
            return State(s, "there is no evidence waiting for the sender");
        if (ctx.ActorUserId != s.SenderUserId)
            return new Decision<OnbEvent>.Rejected(OnbReasons.OnbContextMismatch, $"only {s.SenderUserId}, to whom the evidence was sent, decides on it");
        var confirmed = v.Decision == OnbSenderDecision.Confirm;
        return Step(s, ctx, "SENDER_VERIFY", confirmed ? OnbStatus.VerificationConfirmed : OnbStatus.VerificationRejected, OnbReasons.OnbOkEmployeeSenderVerify,
            e => e with { VerificationConfirmed = confirmed });
    }

    private static Decision<OnbEvent> DecideDevice(OnbSession s, ConfirmPrimaryDevice d, OnbContext ctx)
    {
        var ready = s.RequiredGates.IsEmpty ? OnbStatus.TermsAccepted : OnbStatus.VerificationConfirmed;
        if (s.Status != ready) return State(s, $"the primary device is confirmed from {WireNames.Of(ready)}");
        if (!d.ProofOk) return new Decision<OnbEvent>.Rejected(OnbReasons.OnbPrimaryDeviceProofFailed, $"the {WireNames.Of(d.ProofType)} proof of device {d.DeviceId} failed");
        return Step(s, ctx, "PRIMARY_DEVICE", OnbStatus.PrimaryDeviceConfirmed, OnbReasons.OnbOkPrimaryDeviceConfirm, e => e with { PrimaryDeviceId = d.DeviceId });
    }

    private static Decision<OnbEvent> DecideAccess(OnbSession s, CreateAccessInstance i, OnbAccessFacts? f, OnbContext ctx)
    {
        if (s.Status != OnbStatus.PrimaryDeviceConfirmed) return State(s, "the access instance is created after the primary device is confirmed");
        if (f is null) throw new InvalidOperationException("the access step needs its facts");
        if (f.UserExists) return new Decision<OnbEvent>.Rejected(OnbReasons.OnbContextMismatch, $"user {i.UserId} exists already: an invitee becomes a new user");
        if (s.InviteeType == "EMPLOYEE" && !(f.CompanyActive && f.PositionActive && f.PositionInCompany && f.CompensationMatches))
            return Gate("an employee needs an ACTIVE company and an ACTIVE position of that company, at the position's compensation band");
        return Step(s, ctx, "ACCESS_INSTANCE", OnbStatus.AccessInstanceCreated, OnbReasons.OnbOkAccessInstanceCreate,
            e => e with { AccessInstanceId = f.AccessInstanceId, UserId = i.UserId, RoleId = i.RoleId });
    }

    private static Decision<OnbEvent> DecideComplete(OnbSession s, CompleteOnboarding x, OnbContext ctx)
    {
        if (s.Status != OnbStatus.AccessInstanceCreated || s.AccessInstanceId is null) return Gate("onboarding completes once the access instance exists");
        if (VoiceReceiptRequired(s.AppPlatform) && x.VoiceArtifactSyncReceiptRef is null) return Gate($"a {s.AppPlatform} onboarding needs the voice enrollment receipt");
        if (WakeReceiptRequired(s.AppPlatform) && x.WakeArtifactSyncReceiptRef is null) return Gate($"a {s.AppPlatform} onboarding needs the wake enrollment receipt");
        return Step(s, ctx, "COMPLETE", OnbStatus.Complete, OnbReasons.OnbOkComplete,
            e => e with { VoiceReceiptRef = x.VoiceArtifactSyncReceiptRef, WakeReceiptRef = x.WakeArtifactSyncReceiptRef });
    }

    /// <summary>Folds a session event. Rebuild = fold in event id order.</summary>
    public static OnbSession Evolve(OnbSession? session, OnbEvent e, long eventId) => (session, e) switch
    {
        (null, OnbSessionStarted s) => new OnbSession(s.TenantId, s.SessionId, s.TokenId, s.DraftId, s.InviteeType, s.InviterUserId, s.DeviceFingerprintHash,
            s.AppPlatform, s.AppInstanceId, s.DeepLinkNonce, s.LinkOpenedAt, s.PinnedSchemaId, s.PinnedSchemaVersion, s.PinnedOverlaySetId,
            s.PinnedSelectorSnapshotRef, s.Questions, s.Known, s.RequiredGates, OnbStatus.DraftCreated, null, null, null, null, null, false, null, null, null,
            null, null, s.ReasonCode, eventId, s.At, s.At),
        ({ } s, OnbSessionStepped t) when t.From == s.Status => s with
        {
            Status = t.To,
            Known = t.Answers is { } answers ? s.Known.SetItems(answers) : s.Known,
            TermsVersionId = t.TermsVersionId ?? s.TermsVersionId,
            TermsAccepted = t.TermsAccepted ?? s.TermsAccepted,
            PhotoProofRef = t.PhotoProofRef ?? s.PhotoProofRef,
            SenderUserId = t.SenderUserId ?? s.SenderUserId,
            VerificationConfirmed = t.VerificationConfirmed ?? s.VerificationConfirmed,
            PrimaryDeviceConfirmed = s.PrimaryDeviceConfirmed || t.PrimaryDeviceId is not null,
            PrimaryDeviceId = t.PrimaryDeviceId ?? s.PrimaryDeviceId,
            AccessInstanceId = t.AccessInstanceId ?? s.AccessInstanceId,
            UserId = t.UserId ?? s.UserId,
            VoiceReceiptRef = t.VoiceReceiptRef ?? s.VoiceReceiptRef,
            WakeReceiptRef = t.WakeReceiptRef ?? s.WakeReceiptRef,
            LastReasonCode = t.ReasonCode,
            SourceEventId = eventId,
            UpdatedAt = t.At,
        },
        _ => throw new InvalidOperationException($"ledger event {eventId} ({e.GetType().Name}) does not apply to session {session?.SessionId ?? "(none)"} ({(session is null ? "missing" : WireNames.Of(session.Status))})"),
    };

    private static Decision<OnbEvent> Step(OnbSession s, OnbContext ctx, string step, OnbStatus to, ReasonCode reason, Func<OnbSessionStepped, OnbSessionStepped> fields) =>
        new Decision<OnbEvent>.Accepted([fields(new OnbSessionStepped(ctx.TenantId, s.SessionId, ctx.ActorUserId, reason.Name, ctx.Now.Value, step, s.Status, to))], reason, []);

    private static Decision<OnbEvent>.Rejected Invalid(string detail) => new(OnbReasons.OnbRefuseInvalid, detail);

    private static Decision<OnbEvent>.Rejected Gate(string detail) => new(OnbReasons.OnbRequiredGateNotMet, detail);

    private static Decision<OnbEvent>.Rejected State(OnbSession? s, string detail) =>
        new(OnbReasons.OnbRefuseStateInvalid, s is null ? detail : $"{detail} (the session is {WireNames.Of(s.Status)})");
}
