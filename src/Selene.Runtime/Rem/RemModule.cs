using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.Rem;
using Selene.Postgres;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Rem;

/// <summary>REMINDER_SCHEDULE_COMMIT body; a BCAST_MHP_FOLLOWUP names its broadcast_id, recipient_id and prompt_dedupe_key.</summary>
internal sealed record ScheduleInput(
    string ReminderRequestText,
    string DesiredTime,
    string UserTimezone,
    ReminderType ReminderType,
    ReminderPriorityLevel PriorityLevel = ReminderPriorityLevel.Normal,
    ReminderLocalTimeMode LocalTimeMode = ReminderLocalTimeMode.LocalTime,
    IReadOnlyList<ReminderChannel>? ChannelPreferences = null,
    string? UserId = null,
    string? DeviceId = null,
    string? RecurrenceRule = null,
    string? QuietHoursStart = null,
    string? QuietHoursEnd = null,
    long? PreAlertMs = null,
    int MaxAttempts = 3,
    string? BroadcastId = null,
    string? RecipientId = null,
    string? PromptDedupeKey = null);
/// <summary>REMINDER_UPDATE_COMMIT body.</summary>
internal sealed record UpdateInput(string ReminderId, string? ReminderRequestText = null, string? DesiredTime = null,
    ReminderPriorityLevel? PriorityLevel = null, IReadOnlyList<ReminderChannel>? ChannelPreferences = null);
/// <summary>REMINDER_CANCEL_COMMIT body.</summary>
internal sealed record CancelInput(string ReminderId, string? CancelReason = null);
/// <summary>REMINDER_SNOOZE_COMMIT body.</summary>
internal sealed record SnoozeInput(string ReminderId, string OccurrenceId, long SnoozeDurationMs);
/// <summary>REMINDER_FOLLOWUP_SCHEDULE_COMMIT body.</summary>
internal sealed record FollowupInput(string ReminderId, string OccurrenceId, long FollowupDelayMs);
/// <summary>REMINDER_DELIVERY_RETRY_SCHEDULE_COMMIT body.</summary>
internal sealed record RetryInput(string ReminderId, string OccurrenceId, long RetryTimeMs);
/// <summary>REMINDER_ESCALATE_COMMIT body.</summary>
internal sealed record EscalateInput(string ReminderId, string OccurrenceId, ReminderChannel FromChannel, ReminderChannel ToChannel, string DeliveryAttemptId);
/// <summary>REMINDER_MARK_COMPLETED_COMMIT body.</summary>
internal sealed record CompleteInput(string ReminderId, string OccurrenceId, ReminderAckSource AckSource);
/// <summary>REMINDER_MARK_FAILED_COMMIT body.</summary>
internal sealed record FailInput(string ReminderId, string OccurrenceId, string FailureReason);
/// <summary>REMINDER_DELIVER_PRE_COMMIT and REMINDER_DELIVER_DUE_COMMIT body (the due worker's; handoff-only).</summary>
internal sealed record FireInput(string ReminderId, string OccurrenceId, int FireVersion, ReminderOfflineState OfflineState = ReminderOfflineState.Online);

/// <summary>
/// PH1.REM on the engine platform (issue 12 item 3): reminders in one store pair (occurrences and delivery attempts in
/// the reminder's stream), the eleven simulations of reference §10.3, two read routes, and three handoff routes: BCAST's
/// <c>BCAST_REMINDER_SCHEDULE_REQUESTED</c> becomes a BCAST_MHP_FOLLOWUP reminder, and the due worker — the outbox
/// worker claiming timed rows at their due time — runs each pre-alert and due firing. A BCAST follow-up's firing reads
/// the recipient's status from BCAST in the same transaction and fails closed when it is concluded or closed.
/// </summary>
public static class RemModule
{
    /// <summary>Reminders: <c>reminder_ledger</c> / <c>reminder_current</c>, stream id = reminder id.</summary>
    public static Aggregate<ReminderState, ReminderEvent, ReminderEvent> Reminders { get; } = new(
        RemReasons.EngineId, storeName: "reminder", streamField: "reminder_id", viewName: "reminder",
        streamOf: e => e.ReminderId,
        eventTypeOf: e => WireNames.Of(e.Type),
        evolve: RemDecider.Evolve,
        statusOf: s => WireNames.Of(s.Status),
        view: ToJson,
        journalFields: JournalFields);

    /// <summary>
    /// A firing is retried five times, 30 s apart. Its row may be created up to ten years before it is due and PH1.SCHED
    /// counts the timeout from the row's creation, so the timeout covers that horizon: a failed firing is never final
    /// merely because the reminder was set long ago.
    /// </summary>
    /// <remarks>Declared before <see cref="Module"/>: static members initialize in declaration order.</remarks>
    public static HandoffPolicy FiringPolicy { get; } = new(5, TimeSpan.FromSeconds(30), TimeSpan.FromDays(3660));

    /// <summary>BCAST's priority (its classification) as a reminder priority: SIMPLE &lt; PRIORITY &lt; EMERGENCY (reference §8.5).</summary>
    public static string PriorityOf(string? bcastPriority) => bcastPriority switch
    {
        "SIMPLE" => "NORMAL",
        "PRIORITY" => "HIGH",
        "EMERGENCY" => "CRITICAL",
        _ => bcastPriority ?? "",
    };

    public static EngineModule Module { get; } = new(
        "rem", RemReasons.EngineId,
        [
            Simulation<ScheduleInput>(RemSimulations.Schedule, i => new ScheduleReminder(i.UserId, i.DeviceId, i.ReminderType, i.ReminderRequestText, i.DesiredTime,
                i.UserTimezone, i.LocalTimeMode, i.PriorityLevel, i.RecurrenceRule, i.ChannelPreferences ?? [ReminderChannel.Push], i.QuietHoursStart, i.QuietHoursEnd,
                i.PreAlertMs, i.MaxAttempts,
                i.BroadcastId is null && i.RecipientId is null && i.PromptDedupeKey is null ? null : new BcastLink(i.BroadcastId ?? "", i.RecipientId ?? "", i.PromptDedupeKey ?? ""))),
            Simulation<UpdateInput>(RemSimulations.Update, i => new UpdateReminder(i.ReminderId, i.ReminderRequestText, i.DesiredTime, i.PriorityLevel, i.ChannelPreferences)),
            Simulation<CancelInput>(RemSimulations.Cancel, i => new CancelReminder(i.ReminderId, i.CancelReason)),
            Simulation<SnoozeInput>(RemSimulations.Snooze, i => new SnoozeOccurrence(i.ReminderId, i.OccurrenceId, i.SnoozeDurationMs)),
            Simulation<FireInput>(RemSimulations.DeliverPre, i => new FireOccurrence(RemAction.DeliverPre, i.ReminderId, i.OccurrenceId, i.FireVersion, i.OfflineState)),
            Simulation<FireInput>(RemSimulations.DeliverDue, i => new FireOccurrence(RemAction.DeliverDue, i.ReminderId, i.OccurrenceId, i.FireVersion, i.OfflineState)),
            Simulation<FollowupInput>(RemSimulations.FollowupSchedule, i => new ScheduleFollowup(i.ReminderId, i.OccurrenceId, i.FollowupDelayMs)),
            Simulation<EscalateInput>(RemSimulations.Escalate, i => new EscalateOccurrence(i.ReminderId, i.OccurrenceId, i.FromChannel, i.ToChannel, i.DeliveryAttemptId)),
            Simulation<RetryInput>(RemSimulations.RetrySchedule, i => new ScheduleRetry(i.ReminderId, i.OccurrenceId, i.RetryTimeMs)),
            Simulation<CompleteInput>(RemSimulations.MarkCompleted, i => new CompleteOccurrence(i.ReminderId, i.OccurrenceId, i.AckSource)),
            Simulation<FailInput>(RemSimulations.MarkFailed, i => new FailOccurrence(i.ReminderId, i.OccurrenceId, i.FailureReason)),
        ],
        [Reminders],
        RemReasons.All,
        [
            new ReadRoute("GetReminder", "/reminders/{reminder_id}", "One reminder with its occurrences and their delivery attempts.", NotFound: true, GetAsync),
            new ReadRoute("ListReminders", "/reminders",
                "List reminders; optional status=SCHEDULED|SNOOZED|FOLLOWUP_PENDING|CANCELED|COMPLETED|FAILED, after, limit (1..500).",
                NotFound: false, ListAsync, ListPage.Parameters),
        ],
        Handoffs:
        [
            // BCAST deferred a recipient with a reminder (REMINDER_SET): the recipient's follow-up, due exactly at due_at.
            new HandoffRoute("BCAST_REMINDER_SCHEDULE_REQUESTED", RemSimulations.Schedule, payload => new JsonObject
            {
                ["reminder_type"] = payload["reminder_type"]?.GetValue<string>(),
                ["reminder_request_text"] = "BCAST follow-up",
                ["desired_time"] = payload["due_at"]?.GetValue<string>(),
                ["user_timezone"] = "UTC",
                ["priority_level"] = PriorityOf(payload["priority"]?.GetValue<string>()),
                ["channel_preferences"] = new JsonArray("PHONE_APP"),
                ["user_id"] = payload["recipient_id"]?.GetValue<string>(),
                ["broadcast_id"] = payload["broadcast_id"]?.GetValue<string>(),
                ["recipient_id"] = payload["recipient_id"]?.GetValue<string>(),
                ["prompt_dedupe_key"] = payload["prompt_dedupe_key"]?.GetValue<string>(),
            }),
            new HandoffRoute(RemDecider.DueEvent, RemSimulations.DeliverDue, FireInputs, FiringPolicy),
            new HandoffRoute(RemDecider.PreDueEvent, RemSimulations.DeliverPre, FireInputs, FiringPolicy),
        ]);

    private static JsonObject FireInputs(JsonObject payload) => new()
    {
        ["reminder_id"] = payload["reminder_id"]?.GetValue<string>(),
        ["occurrence_id"] = payload["occurrence_id"]?.GetValue<string>(),
        ["fire_version"] = int.TryParse(payload["fire_version"]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0,
    };

    private static EngineSimulation<TInput, RemCommand, ReminderState, ReminderEvent, RemFacts> Simulation<TInput>(string simulationId, Func<TInput, RemCommand> toCommand)
        where TInput : class => new(
        RemSimulations.All.Single(r => r.SimulationId == simulationId),
        Reminders,
        toCommand,
        validate: c => RemDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
        targetOf: (c, ctx) => RemDecider.TargetOf(c, Context(ctx)),
        decide: (state, command, facts, ctx) => RemDecider.Decide(state, command, Context(ctx), facts),
        readFacts: FactsAsync);

    private static RemContext Context(ExecutionContext ctx) => new(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now.Value, ctx.IdempotencyKey.Value);

    /// <summary>Only a BCAST follow-up's due firing needs a fact beyond the reminder: its recipient's status in BCAST, read in this transaction.</summary>
    private static async Task<RemFacts> FactsAsync(TenantTransaction tx, RemCommand command, ReminderState? state, ExecutionContext context, CancellationToken ct) =>
        command is FireOccurrence { Kind: RemAction.DeliverDue } && state?.Spec.Bcast is { } link
            ? new RemFacts(await Bcast.BcastModule.RecipientStatusAsync(tx, link.BroadcastId, link.RecipientId, ct))
            : new RemFacts(null);

    private static IEnumerable<(string, string)> JournalFields(ReminderEvent e)
    {
        yield return ("event_type", WireNames.Of(e.Type));
        if (e.OccurrenceId is not null) yield return ("occurrence_id", e.OccurrenceId);
        if (e.Spec is { } spec)
        {
            yield return ("reminder_type", WireNames.Of(spec.ReminderType));
            yield return ("priority_level", WireNames.Of(spec.PriorityLevel));
        }
        if (e.DueAt is { } due) yield return ("due_at", new UnixNanos(due).ToString());
        if (e.Attempt is { } a)
        {
            yield return ("delivery_channel", WireNames.Of(a.Channel));
            yield return ("delivery_status", WireNames.Of(a.Status));
        }
    }

    private static string? Time(long? ns) => ns is { } v ? new UnixNanos(v).ToString() : null;

    /// <summary>
    /// REM's feed of <c>selene deliveries</c> (<see cref="Delivery.DeliveryListing"/>): every firing attempt of every
    /// occurrence, to the reminder's user; a BCAST follow-up's is listed under its broadcast (<paramref name="messageId"/>)
    /// with BCAST's recipient as <c>to</c>, because what it delivers is BCAST's follow-up.
    /// </summary>
    public static async Task<IReadOnlyList<JsonObject>> FiringsAsync(TenantTransaction tx, string? messageId, CancellationToken ct)
    {
        var items = new List<JsonObject>();
        string? after = null;
        while (items.Count < Delivery.DeliveryListing.Limit)
        {
            var page = await Reminders.ListAsync(tx, null, after, 500, ct);
            foreach (var (_, r) in page)
            {
                if (messageId is not null && r.Spec.Bcast?.BroadcastId != messageId) continue;
                foreach (var o in r.Occurrences)
                foreach (var a in o.Attempts)
                {
                    items.Add(new JsonObject
                    {
                        ["tenant_id"] = tx.TenantId,
                        ["at"] = new UnixNanos(a.CreatedAt).ToString(),
                        ["source_engine"] = RemReasons.EngineId,
                        ["item_id"] = a.AttemptId,
                        ["channel"] = WireNames.Of(a.Channel),
                        ["to"] = r.Spec.Bcast?.RecipientId ?? r.UserId,
                        ["status"] = WireNames.Of(a.Status),
                        ["reason_code"] = a.ReasonCode,
                        ["provider_ref"] = "rem",
                        ["proof"] = a.ProofRef,
                        ["reminder_id"] = r.ReminderId,
                        ["occurrence_id"] = o.OccurrenceId,
                        ["broadcast_id"] = r.Spec.Bcast?.BroadcastId,
                    });
                }
            }
            if (page.Count < 500) break;
            after = page[^1].StreamId;
        }
        return items;
    }

    /// <summary>The public JSON view of a reminder, its occurrences and their attempts (times as timestamps).</summary>
    public static JsonObject ToJson(ReminderState s) => new()
    {
        ["reminder_id"] = s.ReminderId,
        ["tenant_id"] = s.TenantId,
        ["user_id"] = s.UserId,
        ["created_by"] = s.CreatedBy,
        ["reminder_type"] = WireNames.Of(s.Spec.ReminderType),
        ["reminder_request_text"] = s.Spec.ReminderRequestText,
        ["desired_time"] = s.Spec.DesiredTimeText,
        ["resolved_due_at"] = Time(s.Spec.ResolvedDueAt),
        ["user_timezone"] = s.Spec.UserTimezone,
        ["local_time_mode"] = WireNames.Of(s.Spec.LocalTimeMode),
        ["priority_level"] = WireNames.Of(s.Spec.PriorityLevel),
        ["recurrence_rule"] = s.Spec.RecurrenceRule,
        ["channel_preferences"] = new JsonArray(s.Spec.ChannelPreferences.Select(c => (JsonNode)WireNames.Of(c)).ToArray()),
        ["device_id"] = s.Spec.DeviceId,
        ["quiet_hours_start"] = s.Spec.QuietHoursStart,
        ["quiet_hours_end"] = s.Spec.QuietHoursEnd,
        ["pre_alert_ms"] = s.Spec.PreAlertMs,
        ["max_attempts"] = s.Spec.MaxAttempts,
        ["broadcast_id"] = s.Spec.Bcast?.BroadcastId,
        ["recipient_id"] = s.Spec.Bcast?.RecipientId,
        ["prompt_dedupe_key"] = s.Spec.Bcast?.PromptDedupeKey,
        ["state"] = WireNames.Of(s.Status),
        ["primary_occurrence_id"] = s.Occurrences[0].OccurrenceId,
        ["occurrences"] = new JsonArray(s.Occurrences.Select(o => (JsonNode)new JsonObject
        {
            ["occurrence_id"] = o.OccurrenceId,
            ["occurrence_index"] = o.OccurrenceIndex,
            ["scheduled_time"] = Time(o.ScheduledTime),
            ["due_at"] = Time(o.DueAt),
            ["state"] = WireNames.Of(o.Status),
            ["fire_version"] = o.FireVersion,
            ["snooze_until"] = Time(o.SnoozeUntil),
            ["followup_time"] = Time(o.FollowupTime),
            ["retry_time"] = Time(o.RetryTime),
            ["completed_at"] = Time(o.CompletedAt),
            ["failure_reason"] = o.FailureReason,
            ["snoozes"] = o.Snoozes,
            ["followups"] = o.Followups,
            ["retries"] = o.Retries,
            ["escalation_level"] = o.EscalationLevel,
            ["attempts"] = new JsonArray(o.Attempts.Select(a => (JsonNode)new JsonObject
            {
                ["attempt_id"] = a.AttemptId,
                ["delivery_attempt_id"] = a.DeliveryAttemptId,
                ["kind"] = WireNames.Of(a.Kind),
                ["channel"] = WireNames.Of(a.Channel),
                ["delivery_status"] = WireNames.Of(a.Status),
                ["reason_code"] = a.ReasonCode,
                ["created_at"] = Time(a.CreatedAt),
                ["next_attempt_at"] = Time(a.NextAttemptAt),
                ["proof_ref"] = a.ProofRef,
            }).ToArray()),
        }).ToArray()),
        ["source_event_id"] = s.SourceEventId,
        ["created_at"] = Time(s.CreatedAt),
        ["updated_at"] = Time(s.UpdatedAt),
    };

    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var reminderId = request.RouteValues["reminder_id"];
        if (!RemIds.IsReminderId(reminderId))
            return new ReadResult.Refused(ReasonCodes.QueryParameterInvalid, "reminder_id must look like rem_<16 hex>");
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var state = await Reminders.GetAsync(tx, reminderId, ct);
        return state is null
            ? new ReadResult.Refused(RemReasons.RemFailNotFound, $"no reminder {reminderId} in this tenant")
            : new ReadResult.Ok(new JsonObject { ["reminder"] = ToJson(state) });
    }

    private static async Task<ReadResult> ListAsync(ReadRequest request, CancellationToken ct)
    {
        if (ListPage.Read<ReminderStatus>(request, RemIds.IsReminderId, "a reminder id", out var page) is { } refused) return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Reminders.ListAsync(tx, page.Status, page.After, page.Limit, ct);
        return new ReadResult.Ok(page.Body("reminders", rows, r => ToJson(r.State), r => r.StreamId));
    }
}
