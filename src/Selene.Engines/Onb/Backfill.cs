using System.Collections.Immutable;

namespace Selene.Engines.Onb;

/// <summary>A requirement backfill campaign's state (reference §4.2): DRAFT_CREATED → RUNNING → COMPLETED; CANCELED is in the enum, no step drives it.</summary>
public enum BackfillCampaignState
{
    DraftCreated,
    Running,
    /// <summary>Every target is terminal (terminal).</summary>
    Completed,
    /// <summary>Reserved by the reference; nothing moves a campaign here yet.</summary>
    Canceled,
}

/// <summary>A backfill target's status (reference §4.2). COMPLETED, EXEMPTED and FAILED are terminal.</summary>
public enum BackfillTargetStatus
{
    /// <summary>Not asked yet.</summary>
    Pending,
    /// <summary>Asked (notified) once.</summary>
    Requested,
    /// <summary>Reminded since the request.</summary>
    Reminded,
    /// <summary>Answered every missing field (terminal).</summary>
    Completed,
    /// <summary>Missing nothing when the campaign started: nothing to ask (terminal; counts as completed).</summary>
    Exempted,
    /// <summary>Reminders exhausted without an answer (terminal; <see cref="BackfillTarget.LastReasonCode"/> says why).</summary>
    Failed,
}

/// <summary>
/// One backfill campaign (stream = campaign id): a CURRENT_AND_NEW activation of a position's schema version asking
/// the position's current holders for what that version now requires. Counts are fixed at start (total) and at
/// completion (completed = COMPLETED + EXEMPTED targets).
/// </summary>
public sealed record BackfillCampaign(
    string TenantId,
    string CampaignId,
    string CompanyId,
    string PositionId,
    string SchemaVersionId,
    string CreatedByUserId,
    BackfillCampaignState State,
    int TotalTargets,
    int? CompletedTargets,
    string LastReasonCode,
    long CreatedAt,
    long UpdatedAt,
    long? CompletedAt);

/// <summary>
/// One target of a campaign (stream = target id, one per campaign and user): the fields the holder must give, in
/// schema order, and the answers given so far. <see cref="Notified"/> and <see cref="Reminded"/> count the loop's steps.
/// </summary>
public sealed record BackfillTarget(
    string TenantId,
    string TargetId,
    string CampaignId,
    string UserId,
    BackfillTargetStatus Status,
    ImmutableArray<OnbQuestion> Missing,
    ImmutableSortedDictionary<string, string> Answers,
    int Notified,
    int Reminded,
    string LastReasonCode,
    long CreatedAt,
    long UpdatedAt);

/// <summary>A current holder as a campaign's start sees them: who, and the field keys already known of them.</summary>
public sealed record BackfillHolder(string UserId, IReadOnlySet<string> KnownFields);

/// <summary>
/// What a start reads (POSITION owns it): the position's company, its current holders, and the activated version's
/// required questions; and, from ACCESS, the requested actions (at their modes) of the loop's steps the access gate would
/// not allow the launcher (<see cref="LauncherWithheld"/>; null in records written before it was read: none).
/// </summary>
public sealed record BackfillStartFacts(string PositionCompanyId, IReadOnlyList<BackfillHolder> CurrentHolders, IReadOnlyList<OnbQuestion> RequiredQuestions,
    IReadOnlyList<string>? LauncherWithheld = null);

/// <summary>A backfill command, one per step of reference §4.3 ONB_REQUIREMENT_BACKFILL plus the target's answers and failure.</summary>
public abstract record BackfillCommand;

/// <summary>ONB_REQUIREMENT_BACKFILL_START_DRAFT; <see cref="RolloutScope"/> must be CURRENT_AND_NEW.</summary>
public sealed record StartBackfill(string CompanyId, string PositionId, string SchemaVersionId, string RolloutScope) : BackfillCommand;

/// <summary>A command on one target of a campaign.</summary>
public abstract record BackfillTargetCommand(string CampaignId, string UserId) : BackfillCommand;

/// <summary>ONB_REQUIREMENT_BACKFILL_NOTIFY_COMMIT: after BCAST delivered and REM scheduled for the recipient; <see cref="Reminder"/> when a follow-up fired.</summary>
public sealed record NotifyTarget(string CampaignId, string UserId, bool Reminder = false) : BackfillTargetCommand(CampaignId, UserId);

/// <summary>The target's answer to one missing field.</summary>
public sealed record AnswerTarget(string CampaignId, string UserId, string FieldKey, string Value) : BackfillTargetCommand(CampaignId, UserId);

/// <summary>The target's reminders are exhausted: FAILED with ONB_BACKFILL_REMINDERS_EXHAUSTED.</summary>
public sealed record FailTarget(string CampaignId, string UserId) : BackfillTargetCommand(CampaignId, UserId);

/// <summary>ONB_REQUIREMENT_BACKFILL_COMPLETE_COMMIT.</summary>
public sealed record CompleteBackfill(string CampaignId) : BackfillCommand;

/// <summary>A backfill ledger event: of the campaign's stream or of one target's.</summary>
public abstract record BackfillEvent(string TenantId, string CampaignId, string ActorUserId, string ReasonCode, long At);

/// <summary>An event of the campaign's own stream (stream = campaign id).</summary>
public abstract record BackfillCampaignEvent(string TenantId, string CampaignId, string ActorUserId, string ReasonCode, long At)
    : BackfillEvent(TenantId, CampaignId, ActorUserId, ReasonCode, At);

/// <summary>An event of one target's stream (stream = <see cref="TargetId"/>).</summary>
public abstract record BackfillTargetEvent(string TenantId, string CampaignId, string ActorUserId, string ReasonCode, long At, string TargetId)
    : BackfillEvent(TenantId, CampaignId, ActorUserId, ReasonCode, At);

/// <summary>The campaign started in <see cref="State"/> (RUNNING, or COMPLETED when no target has anything to give).</summary>
public sealed record BackfillCampaignStarted(string TenantId, string CampaignId, string ActorUserId, string ReasonCode, long At, string CompanyId, string PositionId,
    string SchemaVersionId, BackfillCampaignState State, int TotalTargets, int? CompletedTargets) : BackfillCampaignEvent(TenantId, CampaignId, ActorUserId, ReasonCode, At);

/// <summary>A target was added at the campaign's start (PENDING, or EXEMPTED when it misses nothing).</summary>
public sealed record BackfillTargetAdded(string TenantId, string CampaignId, string ActorUserId, string ReasonCode, long At, string TargetId, string UserId,
    BackfillTargetStatus Status, ImmutableArray<OnbQuestion> Missing) : BackfillTargetEvent(TenantId, CampaignId, ActorUserId, ReasonCode, At, TargetId);

/// <summary>A target moved (<see cref="From"/> may equal <see cref="To"/> for an answer that leaves fields open); <see cref="FieldKey"/> and <see cref="Value"/> set for an answer.</summary>
public sealed record BackfillTargetStepped(string TenantId, string CampaignId, string ActorUserId, string ReasonCode, long At, string TargetId, string Step,
    BackfillTargetStatus From, BackfillTargetStatus To, string? FieldKey = null, string? Value = null)
    : BackfillTargetEvent(TenantId, CampaignId, ActorUserId, ReasonCode, At, TargetId);

/// <summary>The campaign completed with its counts.</summary>
public sealed record BackfillCampaignCompleted(string TenantId, string CampaignId, string ActorUserId, string ReasonCode, long At, int CompletedTargets, int TotalTargets)
    : BackfillCampaignEvent(TenantId, CampaignId, ActorUserId, ReasonCode, At);

/// <summary>
/// The steps of a target's loop (reference §4.5: {BCAST draft → deliver → REM schedule BCAST_MHP_FOLLOWUP → ONB notify}),
/// as <see cref="BackfillDecider.StepDueEvent"/> names them. A round is one pass: round 0 is the request, round n ≥ 1
/// follows the n-th reminder (REM fired, BCAST delivered the follow-up).
/// </summary>
public static class BackfillSteps
{
    /// <summary>BCAST_CREATE_DRAFT: the target's message, carrying their personal link.</summary>
    public const string Draft = "DRAFT";
    /// <summary>BCAST_DELIVER_COMMIT to the holder (the app first).</summary>
    public const string Deliver = "DELIVER";
    /// <summary>After the WAITING window of the round's delivery: BCAST_ESCALATE_COMMIT, or the target's failure once its reminders are exhausted.</summary>
    public const string Followup = "FOLLOWUP";
    /// <summary>BCAST_DEFER_COMMIT with a reminder: REM schedules the BCAST_MHP_FOLLOWUP.</summary>
    public const string Schedule = "SCHEDULE";
    /// <summary>ONB_REQUIREMENT_BACKFILL_NOTIFY_COMMIT: REQUESTED in round 0, REMINDED after.</summary>
    public const string Notify = "NOTIFY";
    /// <summary>The target ended: its broadcast is canceled (no reminder fires into it).</summary>
    public const string Close = "CLOSE";
    /// <summary>The campaign completes if every target is terminal now.</summary>
    public const string Complete = "COMPLETE";

    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal) { Draft, Deliver, Followup, Schedule, Notify, Close, Complete };
}

/// <summary>
/// Requirement backfill, pure (reference §4.2, §4.3, §4.5 ONB_REQUIREMENT_BACKFILL). The start takes every current
/// holder as a target with the required fields they have not given (one who misses nothing is EXEMPTED); a target is
/// asked one field at a time and COMPLETED with its last answer, or FAILED when its reminders are exhausted; the
/// campaign completes only when every target is terminal. Steps on a target that is terminal already change nothing.
/// </summary>
public static class BackfillDecider
{
    public const string CampaignPrefix = "bfc_";
    public const string CurrentAndNew = "CURRENT_AND_NEW";

    /// <summary>
    /// The handoff of one step of a target's loop (ONB consumes it; the runtime's stage decides what the step runs from
    /// stored state): payload campaign_id, user_id, step (<see cref="BackfillSteps"/>) and round.
    /// </summary>
    public const string StepDueEvent = "ONB_BACKFILL_STEP_DUE";

    /// <summary>The outbox row of one loop step of a target, due at <paramref name="notBefore"/> (null: at once); one row per (target, step, round).</summary>
    public static OutboxMessage StepDue(string tenantId, string campaignId, string userId, string step, int round, long? notBefore = null) =>
        new("SIMULATION_COMMIT", $"bfc_step:{TargetId(campaignId, userId)}:{step}:{round.ToString(System.Globalization.CultureInfo.InvariantCulture)}", StepDueEvent,
            new Dictionary<string, string>
            {
                ["tenant_id"] = tenantId, ["campaign_id"] = campaignId, ["user_id"] = userId, ["step"] = step,
                ["round"] = round.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, notBefore);

    /// <summary><c>bfc_{short_hash(tenant, position, schema_version, key)}</c> (reference §4.3).</summary>
    public static string CampaignId(string tenantId, string positionId, string schemaVersionId, string idempotencyKey) =>
        CampaignPrefix + Hashing.ShortHash(16, tenantId, positionId, schemaVersionId, idempotencyKey);

    /// <summary><c>{campaign_id}:{user_id}</c>: one target per campaign and user, listed by the campaign's prefix.</summary>
    public static string TargetId(string campaignId, string userId) => campaignId + ":" + userId;

    public static bool IsCampaignId(string? id) => IdRules.IsShortHashId(id, CampaignPrefix);

    /// <summary>COMPLETED, EXEMPTED and FAILED end a target.</summary>
    public static bool IsTerminal(BackfillTargetStatus s) => s is BackfillTargetStatus.Completed or BackfillTargetStatus.Exempted or BackfillTargetStatus.Failed;

    /// <summary>The next field to ask a target: the first missing one, in schema order, not answered yet; null when none is left.</summary>
    public static OnbQuestion? NextQuestion(BackfillTarget t) => OnbDecider.NextQuestion(t.Missing, t.Answers);

    /// <summary>Shape and bounds of a command; null when valid.</summary>
    public static Decision<BackfillEvent>.Rejected? Validate(BackfillCommand command) => command switch
    {
        StartBackfill s when s.RolloutScope != CurrentAndNew => new(OnbReasons.OnbBackfillScopeInvalid, "a backfill runs for CURRENT_AND_NEW activations only"),
        StartBackfill s when !IdRules.IsValidName(s.CompanyId) || !IdRules.IsShortHashId(s.PositionId, "pos_") || !IdRules.IsValidName(s.SchemaVersionId) =>
            Invalid("company_id and schema_version_id must be 1..64 of [A-Za-z0-9_.-] and position_id look like pos_<16 hex>"),
        BackfillTargetCommand t when !IsCampaignId(t.CampaignId) || !IdRules.IsValidName(t.UserId) =>
            Invalid("campaign_id must look like bfc_<16 hex> and user_id be 1..64 of [A-Za-z0-9_.-]"),
        AnswerTarget a when !IdRules.IsValidName(a.FieldKey) => Invalid("field_key must be 1..64 of [A-Za-z0-9_.-]"),
        CompleteBackfill c when !IsCampaignId(c.CampaignId) => Invalid("campaign_id must look like bfc_<16 hex>"),
        _ => null,
    };

    /// <summary>
    /// Decides a start. <paramref name="existing"/> is the campaign this key already started (the start is then
    /// answered unchanged); <paramref name="facts"/> is null when the position does not exist in the tenant.
    /// </summary>
    public static Decision<BackfillEvent> DecideStart(BackfillCampaign? existing, StartBackfill s, BackfillStartFacts? facts, OnbContext ctx)
    {
        if (Validate(s) is { } invalid) return invalid;
        if (existing is not null) return new Decision<BackfillEvent>.Accepted([], OnbReasons.OnbOkBackfillStart, []);
        if (facts is null) return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbRefuseNotFound, "no such position in this tenant");
        if (!string.Equals(facts.PositionCompanyId, s.CompanyId, StringComparison.Ordinal))
            return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbRefuseInvalid, $"company {IdRules.Shorten(s.CompanyId)} is not the position's company");
        // Every step of the loop runs as the launcher: one the access gate would refuse them would strand the campaign half-way.
        if (facts.LauncherWithheld is { Count: > 0 } withheld)
            return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbBackfillLauncherAccessMissing,
                $"the launcher may not run the campaign's loop: {string.Join(", ", withheld)}");
        var id = CampaignId(ctx.TenantId, s.PositionId, s.SchemaVersionId, ctx.IdempotencyKey);
        var at = ctx.Now.Value;
        var reason = OnbReasons.OnbOkBackfillStart.Name;
        var targets = facts.CurrentHolders
            .DistinctBy(h => h.UserId, StringComparer.Ordinal)
            .OrderBy(h => h.UserId, StringComparer.Ordinal)
            .Select(h =>
            {
                var missing = facts.RequiredQuestions.Where(q => !h.KnownFields.Contains(q.FieldKey)).ToImmutableArray();
                return new BackfillTargetAdded(ctx.TenantId, id, ctx.ActorUserId, reason, at, TargetId(id, h.UserId), h.UserId,
                    missing.IsEmpty ? BackfillTargetStatus.Exempted : BackfillTargetStatus.Pending, missing);
            })
            .ToList();
        // No target with anything to give: the campaign is complete at once (reference §4.2: 0 targets ⇒ COMPLETED).
        var open = targets.Count(t => !IsTerminal(t.Status));
        var started = open == 0
            ? new BackfillCampaignStarted(ctx.TenantId, id, ctx.ActorUserId, reason, at, s.CompanyId, s.PositionId, s.SchemaVersionId,
                BackfillCampaignState.Completed, targets.Count, targets.Count)
            : new BackfillCampaignStarted(ctx.TenantId, id, ctx.ActorUserId, reason, at, s.CompanyId, s.PositionId, s.SchemaVersionId,
                BackfillCampaignState.Running, targets.Count, null);
        // Every target with something to give enters its loop: its broadcast is drafted first (reference §4.5).
        var loops = targets.Where(t => t.Status == BackfillTargetStatus.Pending)
            .Select(t => StepDue(ctx.TenantId, id, t.UserId, BackfillSteps.Draft, 0)).ToList();
        return new Decision<BackfillEvent>.Accepted([started, .. targets], OnbReasons.OnbOkBackfillStart, loops);
    }

    /// <summary>Decides a step on one target of <paramref name="campaign"/> (null when there is no such campaign in the tenant).</summary>
    public static Decision<BackfillEvent> DecideTarget(BackfillCampaign? campaign, BackfillTarget? target, BackfillTargetCommand command, OnbContext ctx)
    {
        if (Validate(command) is { } invalid) return invalid;
        if (campaign is null) return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbRefuseNotFound, "no such backfill campaign in this tenant");
        if (target is null || target.CampaignId != campaign.CampaignId || target.UserId != command.UserId)
            return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbBackfillNotifyBlocked, $"user {IdRules.Shorten(command.UserId)} is not a target of this campaign");
        var ok = command switch
        {
            NotifyTarget => OnbReasons.OnbOkBackfillNotify,
            AnswerTarget => OnbReasons.OnbOkBackfillAnswer,
            _ => OnbReasons.OnbOkBackfillTargetFail,
        };
        // A terminal target stays as it is: a late notify, reminder, answer or failure changes nothing (reference §4.2).
        if (IsTerminal(target.Status)) return new Decision<BackfillEvent>.Accepted([], ok, []);
        switch (command)
        {
            case NotifyTarget n:
                var to = n.Reminder ? BackfillTargetStatus.Reminded : BackfillTargetStatus.Requested;
                return Step(target, ctx, n.Reminder ? "REMIND" : "NOTIFY", to, ok.Name, ok);
            case AnswerTarget a:
                var question = NextQuestion(target);
                if (question is null || question.FieldKey != a.FieldKey)
                    return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbRefuseStateInvalid,
                        question is null ? "nothing is left to answer" : $"the field asked now is {question.FieldKey}, not {a.FieldKey}");
                if (OnbDecider.CheckAnswer(question.FieldType, a.Value) is { } problem)
                    return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbAnswerInvalid, $"{a.FieldKey}: {problem}");
                var last = target.Missing.Count(q => !target.Answers.ContainsKey(q.FieldKey)) == 1;
                return new Decision<BackfillEvent>.Accepted(
                    [new BackfillTargetStepped(ctx.TenantId, campaign.CampaignId, ctx.ActorUserId, ok.Name, ctx.Now.Value, target.TargetId, "ANSWER",
                        target.Status, last ? BackfillTargetStatus.Completed : target.Status, a.FieldKey, a.Value)], ok, last ? Closing(target, ctx) : []);
            case FailTarget:
                return Step(target, ctx, "FAIL", BackfillTargetStatus.Failed, OnbReasons.OnbBackfillRemindersExhausted.Name, ok, Closing(target, ctx));
            default:
                return Invalid("not a backfill target command");
        }
    }

    /// <summary>Decides the completion: every target of the campaign (all of <paramref name="targets"/>) must be terminal.</summary>
    public static Decision<BackfillEvent> DecideComplete(BackfillCampaign? campaign, IReadOnlyList<BackfillTarget> targets, CompleteBackfill c, OnbContext ctx)
    {
        if (Validate(c) is { } invalid) return invalid;
        if (campaign is null) return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbRefuseNotFound, "no such backfill campaign in this tenant");
        if (campaign.State == BackfillCampaignState.Completed) return new Decision<BackfillEvent>.Accepted([], OnbReasons.OnbOkBackfillComplete, []);
        if (campaign.State != BackfillCampaignState.Running)
            return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbRefuseStateInvalid, $"the campaign is {WireNames.Of(campaign.State)}");
        var open = targets.Count(t => !IsTerminal(t.Status));
        if (open > 0 || targets.Count != campaign.TotalTargets)
            return new Decision<BackfillEvent>.Rejected(OnbReasons.OnbBackfillTargetsOpen, $"{open} of {campaign.TotalTargets} targets are not terminal yet");
        var completed = targets.Count(t => t.Status is BackfillTargetStatus.Completed or BackfillTargetStatus.Exempted);
        return new Decision<BackfillEvent>.Accepted(
            [new BackfillCampaignCompleted(ctx.TenantId, campaign.CampaignId, ctx.ActorUserId, OnbReasons.OnbOkBackfillComplete.Name, ctx.Now.Value, completed, targets.Count)],
            OnbReasons.OnbOkBackfillComplete, []);
    }

    /// <summary>Folds a campaign event into the campaign. Rebuild = fold in event id order.</summary>
    public static BackfillCampaign EvolveCampaign(BackfillCampaign? campaign, BackfillCampaignEvent e) => (campaign, e) switch
    {
        (null, BackfillCampaignStarted s) => new BackfillCampaign(s.TenantId, s.CampaignId, s.CompanyId, s.PositionId, s.SchemaVersionId, s.ActorUserId, s.State,
            s.TotalTargets, s.CompletedTargets, s.ReasonCode, s.At, s.At, s.State == BackfillCampaignState.Completed ? s.At : null),
        ({ State: BackfillCampaignState.Running } c, BackfillCampaignCompleted x) => c with
        {
            State = BackfillCampaignState.Completed, CompletedTargets = x.CompletedTargets, LastReasonCode = x.ReasonCode, UpdatedAt = x.At, CompletedAt = x.At,
        },
        _ => throw new InvalidOperationException($"event {e.GetType().Name} does not apply to campaign {e.CampaignId}"),
    };

    /// <summary>Folds a target event into the target. Rebuild = fold in event id order.</summary>
    public static BackfillTarget EvolveTarget(BackfillTarget? target, BackfillTargetEvent e) => (target, e) switch
    {
        (null, BackfillTargetAdded a) => new BackfillTarget(a.TenantId, a.TargetId, a.CampaignId, a.UserId, a.Status, a.Missing,
            ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal), 0, 0, a.ReasonCode, a.At, a.At),
        ({ } t, BackfillTargetStepped s) when t.Status == s.From && t.TargetId == s.TargetId => t with
        {
            Status = s.To,
            Answers = s.FieldKey is { } key && s.Value is { } value ? t.Answers.SetItem(key, value) : t.Answers,
            Notified = t.Notified + (s.Step == "NOTIFY" ? 1 : 0),
            Reminded = t.Reminded + (s.Step == "REMIND" ? 1 : 0),
            LastReasonCode = s.ReasonCode,
            UpdatedAt = s.At,
        },
        _ => throw new InvalidOperationException($"event {e.GetType().Name} does not apply to target {target?.TargetId ?? "(none)"}"),
    };

    private static Decision<BackfillEvent> Step(BackfillTarget t, OnbContext ctx, string step, BackfillTargetStatus to, string reasonCode, ReasonCode ok,
        IReadOnlyList<OutboxMessage>? outbox = null) =>
        new Decision<BackfillEvent>.Accepted(
            [new BackfillTargetStepped(ctx.TenantId, t.CampaignId, ctx.ActorUserId, reasonCode, ctx.Now.Value, t.TargetId, step, t.Status, to)], ok, outbox ?? []);

    /// <summary>
    /// What a target's end hands on, with the decision that ends it: its broadcast is closed (so a reminder already
    /// scheduled fires into a closed recipient and sends nothing) and the campaign checks whether it is complete now.
    /// </summary>
    private static IReadOnlyList<OutboxMessage> Closing(BackfillTarget t, OnbContext ctx) =>
    [
        StepDue(ctx.TenantId, t.CampaignId, t.UserId, BackfillSteps.Close, 0),
        StepDue(ctx.TenantId, t.CampaignId, t.UserId, BackfillSteps.Complete, 0),
    ];

    private static Decision<BackfillEvent>.Rejected Invalid(string detail) => new(OnbReasons.OnbRefuseInvalid, detail);
}
