using System.Collections.Immutable;

namespace Selene.Engines.Onb;

/// <summary>
/// Where an onboarding session stands (reference §4.2 OnboardingStatus): the last milestone reached. The steps' own
/// facts (terms, verification, device, access instance) are kept beside it; the guards read those.
/// </summary>
public enum OnbStatus
{
    DraftCreated,
    TermsAccepted,
    /// <summary>The invitee declined the terms (terminal).</summary>
    TermsDeclined,
    VerificationPending,
    VerificationConfirmed,
    /// <summary>The sender rejected the evidence (terminal).</summary>
    VerificationRejected,
    PrimaryDeviceConfirmed,
    AccessInstanceCreated,
    /// <summary>Onboarding completed (terminal).</summary>
    Complete,
}

/// <summary>The verification gates a pinned schema can require (reference §4.1).</summary>
public enum OnbGate
{
    /// <summary>A photo of the document is captured and sent to the sender.</summary>
    PhotoEvidenceCapture,
    /// <summary>The sender confirms the evidence.</summary>
    SenderConfirmation,
}

/// <summary>The kind of value a question takes (POSITION's field types, as ONB validates answers).</summary>
public enum OnbFieldType
{
    String,
    Integer,
    Decimal,
    Date,
    Enum,
    Object,
}

/// <summary>The next step the invitee's page shows (reference §4.1 OnboardingNextStep, plus the steps after the questions).</summary>
public enum OnbNextStep
{
    /// <summary>A required field is missing: ask it (<see cref="OnbView.NextQuestion"/>).</summary>
    AskMissing,
    Terms,
    PhotoEvidence,
    SenderConfirmation,
    PrimaryDevice,
    AccessInstance,
    Complete,
    /// <summary>Nothing left: the session is COMPLETE, or ended by a decline or rejection.</summary>
    Done,
}

/// <summary>How the primary device proved itself (reference §4.1 ProofType).</summary>
public enum OnbProofType
{
    Biometric,
    Passcode,
}

/// <summary>The sender's decision on the invitee's evidence (reference §4.1 SenderVerifyDecision).</summary>
public enum OnbSenderDecision
{
    Confirm,
    Reject,
}

/// <summary>One question of the pinned schema: a required field, its prompts and how its answer is checked and evidenced.</summary>
public sealed record OnbQuestion(string FieldKey, OnbFieldType FieldType, string PromptShort, string PromptLong, bool DocumentRequired);

/// <summary>
/// One onboarding session (one row of <c>onb_session_current</c>; stream = session id, one per link token). The pinned
/// schema (id, version, overlay, selector snapshot) and its questions are fixed at start: a schema activated later
/// never changes a session that was pinned. <see cref="Known"/> holds the fields known at start (the invite's prefill)
/// and the invitee's answers since.
/// </summary>
public sealed record OnbSession(
    string TenantId,
    string SessionId,
    string TokenId,
    string DraftId,
    string InviteeType,
    string InviterUserId,
    string DeviceFingerprintHash,
    string AppPlatform,
    string AppInstanceId,
    string DeepLinkNonce,
    long LinkOpenedAt,
    string PinnedSchemaId,
    string? PinnedSchemaVersion,
    string PinnedOverlaySetId,
    string? PinnedSelectorSnapshotRef,
    ImmutableArray<OnbQuestion> Questions,
    ImmutableSortedDictionary<string, string> Known,
    ImmutableArray<OnbGate> RequiredGates,
    OnbStatus Status,
    string? TermsVersionId,
    bool? TermsAccepted,
    string? PhotoProofRef,
    string? SenderUserId,
    bool? VerificationConfirmed,
    bool PrimaryDeviceConfirmed,
    string? PrimaryDeviceId,
    string? AccessInstanceId,
    string? UserId,
    string? VoiceReceiptRef,
    string? WakeReceiptRef,
    string LastReasonCode,
    long SourceEventId,
    long CreatedAt,
    long UpdatedAt);

/// <summary>
/// What a session start reads about the link and the schema (LINK and POSITION own them; the runtime hands them over):
/// the token's status and activation context, the draft's fields and what the invite pinned, and the pinned schema's
/// questions in schema order.
/// </summary>
public sealed record OnbStartFacts(
    string TokenId,
    string TokenStatus,
    string DraftId,
    string InviteeType,
    string InviterUserId,
    string? BoundDeviceFingerprintHash,
    string? AppPlatform,
    string? AppInstanceId,
    string? DeepLinkNonce,
    long? LinkOpenedAt,
    IReadOnlyDictionary<string, string> Fields,
    string PinnedSchemaId,
    string? PinnedSchemaVersion,
    string PinnedOverlaySetId,
    string? PinnedSelectorSnapshotRef,
    IReadOnlyList<OnbQuestion> Questions)
{
    /// <summary>The token status a session may start from.</summary>
    public const string ActivatedStatus = "ACTIVATED";
}

/// <summary>
/// What an access-instance step reads (ACCESS and POSITION own it): the id ACCESS gives the new user's instance,
/// whether that user exists already (an invitee becomes a new user, never an existing one), and for an EMPLOYEE
/// whether the position and its company are ACTIVE and one, and the invite's compensation tier the position's band.
/// </summary>
public sealed record OnbAccessFacts(string AccessInstanceId, bool UserExists, bool CompanyActive, bool PositionActive, bool PositionInCompany, bool CompensationMatches);

/// <summary>What the runtime hands the decider besides state and command.</summary>
public sealed record OnbContext(string TenantId, string ActorUserId, UnixNanos Now, string IdempotencyKey);

/// <summary>A PH1.ONB session command, one per simulation of reference §4.3 up to ONB_COMPLETE_COMMIT.</summary>
public abstract record OnbCommand;

/// <summary>ONB_SESSION_START_DRAFT: the app-open context must be the one the link was activated with.</summary>
public sealed record StartSession(string TokenId, string DeviceFingerprintHash, string AppPlatform, string AppInstanceId, string DeepLinkNonce, long LinkOpenedAt) : OnbCommand;

/// <summary>A command on an existing session.</summary>
public abstract record OnbSessionCommand(string SessionId) : OnbCommand;

/// <summary>ONB_DRAFT_UPDATE_COMMIT: the invitee's answers to asked questions (one at a time from the page).</summary>
public sealed record AnswerQuestions(string SessionId, ImmutableSortedDictionary<string, string> Answers) : OnbSessionCommand(SessionId);

/// <summary>ONB_TERMS_ACCEPT_COMMIT.</summary>
public sealed record AcceptTerms(string SessionId, string TermsVersionId, bool Accepted) : OnbSessionCommand(SessionId);

/// <summary>ONB_EMPLOYEE_PHOTO_CAPTURE_SEND_COMMIT: the evidence photo and the sender who must confirm it.</summary>
public sealed record CapturePhoto(string SessionId, string PhotoBlobRef, string SenderUserId) : OnbSessionCommand(SessionId);

/// <summary>ONB_EMPLOYEE_SENDER_VERIFY_COMMIT (by the sender).</summary>
public sealed record VerifyBySender(string SessionId, OnbSenderDecision Decision) : OnbSessionCommand(SessionId);

/// <summary>ONB_PRIMARY_DEVICE_CONFIRM_COMMIT.</summary>
public sealed record ConfirmPrimaryDevice(string SessionId, string DeviceId, OnbProofType ProofType, bool ProofOk) : OnbSessionCommand(SessionId);

/// <summary>ONB_ACCESS_INSTANCE_CREATE_COMMIT: the user the invitee becomes and the role; ACCESS writes the instance.</summary>
public sealed record CreateAccessInstance(string SessionId, string UserId, string RoleId) : OnbSessionCommand(SessionId);

/// <summary>ONB_COMPLETE_COMMIT with the assistant's enrollment receipts where required.</summary>
public sealed record CompleteOnboarding(string SessionId, string? VoiceArtifactSyncReceiptRef = null, string? WakeArtifactSyncReceiptRef = null) : OnbSessionCommand(SessionId);

/// <summary>A PH1.ONB session event.</summary>
public abstract record OnbEvent(string TenantId, string SessionId, string ActorUserId, string ReasonCode, long At);

/// <summary>The session started, pinned to its schema.</summary>
public sealed record OnbSessionStarted(
    string TenantId,
    string SessionId,
    string ActorUserId,
    string ReasonCode,
    long At,
    string TokenId,
    string DraftId,
    string InviteeType,
    string InviterUserId,
    string DeviceFingerprintHash,
    string AppPlatform,
    string AppInstanceId,
    string DeepLinkNonce,
    long LinkOpenedAt,
    string PinnedSchemaId,
    string? PinnedSchemaVersion,
    string PinnedOverlaySetId,
    string? PinnedSelectorSnapshotRef,
    ImmutableArray<OnbQuestion> Questions,
    ImmutableSortedDictionary<string, string> Known,
    ImmutableArray<OnbGate> RequiredGates) : OnbEvent(TenantId, SessionId, ActorUserId, ReasonCode, At);

/// <summary>
/// The session moved by one step from <see cref="From"/> to <see cref="To"/> (equal when a step records without a new
/// milestone, e.g. an answer). The step's own fields are set, the others null.
/// </summary>
public sealed record OnbSessionStepped(
    string TenantId,
    string SessionId,
    string ActorUserId,
    string ReasonCode,
    long At,
    string Step,
    OnbStatus From,
    OnbStatus To,
    ImmutableSortedDictionary<string, string>? Answers = null,
    string? TermsVersionId = null,
    bool? TermsAccepted = null,
    string? PhotoProofRef = null,
    string? SenderUserId = null,
    bool? VerificationConfirmed = null,
    string? PrimaryDeviceId = null,
    string? AccessInstanceId = null,
    string? UserId = null,
    string? VoiceReceiptRef = null,
    string? WakeReceiptRef = null,
    string? RoleId = null) : OnbEvent(TenantId, SessionId, ActorUserId, ReasonCode, At);
