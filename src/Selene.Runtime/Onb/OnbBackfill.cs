using System.Text.Json.Nodes;
using Selene.Engines.Onb;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Runtime.Access;
using Selene.Runtime.Platform;
using Selene.Runtime.Position;

namespace Selene.Runtime.Onb;

/// <summary>ONB_REQUIREMENT_BACKFILL_START_DRAFT body (also the POSITION_REQUIREMENTS_ACTIVATED handoff's inputs).</summary>
internal sealed record BackfillStartInput(string CompanyId, string PositionId, string SchemaVersionId, string RolloutScope);
/// <summary>ONB_REQUIREMENT_BACKFILL_NOTIFY_COMMIT body (the loop's handoff); <see cref="Reminder"/> after a reminder.</summary>
internal sealed record BackfillNotifyInput(string CampaignId, string RecipientUserId, bool Reminder = false);
/// <summary>ONB_REQUIREMENT_BACKFILL_TARGET_FAIL_COMMIT body (the loop's handoff).</summary>
internal sealed record BackfillTargetInput(string CampaignId, string RecipientUserId);
/// <summary>ONB_REQUIREMENT_BACKFILL_ANSWER_COMMIT body (the holder's page).</summary>
internal sealed record BackfillAnswerInput(string CampaignId, string RecipientUserId, string FieldKey, string Value);
/// <summary>ONB_REQUIREMENT_BACKFILL_COMPLETE_COMMIT body.</summary>
internal sealed record BackfillCompleteInput(string CampaignId);

/// <summary>
/// Requirement backfill on the engine platform (reference §4.5 ONB_REQUIREMENT_BACKFILL): the campaign and target
/// stores, the start (by hand, or the POSITION_REQUIREMENTS_ACTIVATED handoff of a CURRENT_AND_NEW activation), and the
/// campaign reads. Part of <see cref="OnbModule"/>: the same engine, its simulations and stores.
/// </summary>
public static class OnbBackfill
{
    /// <summary>Campaigns: <c>onb_backfill_campaign_ledger</c> / <c>_current</c>, stream id = campaign id.</summary>
    public static Aggregate<BackfillCampaign, BackfillCampaignEvent, BackfillEvent> Campaigns { get; } = new(
        OnbReasons.EngineId, storeName: "onb_backfill_campaign", streamField: "campaign_id", viewName: "campaign",
        streamOf: e => e.CampaignId,
        eventTypeOf: e => e is BackfillCampaignStarted ? "START" : "COMPLETE",
        evolve: (c, e, _) => BackfillDecider.EvolveCampaign(c, e),
        statusOf: c => WireNames.Of(c.State),
        view: CampaignView,
        journalFields: e => e is BackfillCampaignStarted s ? [("position_id", s.PositionId), ("schema_version_id", s.SchemaVersionId)] : [],
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["START"] = typeof(BackfillCampaignStarted),
            ["COMPLETE"] = typeof(BackfillCampaignCompleted),
        });

    /// <summary>Targets: <c>onb_backfill_target_ledger</c> / <c>_current</c>, stream id = <c>{campaign_id}:{user_id}</c>.</summary>
    public static Aggregate<BackfillTarget, BackfillTargetEvent, BackfillEvent> Targets { get; } = new(
        OnbReasons.EngineId, storeName: "onb_backfill_target", streamField: "target_id", viewName: "target",
        streamOf: e => e.TargetId,
        eventTypeOf: e => e is BackfillTargetStepped s ? s.Step : "ADD",
        evolve: (t, e, _) => BackfillDecider.EvolveTarget(t, e),
        statusOf: t => WireNames.Of(t.Status),
        view: TargetView,
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["ADD"] = typeof(BackfillTargetAdded),
            ["NOTIFY"] = typeof(BackfillTargetStepped),
            ["REMIND"] = typeof(BackfillTargetStepped),
            ["ANSWER"] = typeof(BackfillTargetStepped),
            ["FAIL"] = typeof(BackfillTargetStepped),
        });

    /// <summary>The most rows one page of a store scan reads.</summary>
    private const int ScanPage = 500;

    internal static IReadOnlyList<ISimulationHandler> Simulations { get; } =
    [
        new EngineSimulation<BackfillStartInput, StartBackfill, BackfillCampaign, BackfillEvent, BackfillStartFacts?>(
            OnbSimulations.Of(OnbSimulations.BackfillStartDraft), Campaigns,
            toCommand: i => new StartBackfill(i.CompanyId, i.PositionId, i.SchemaVersionId, i.RolloutScope),
            validate: c => BackfillDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, ctx) => BackfillDecider.CampaignId(ctx.Tenant.Value, c.PositionId, c.SchemaVersionId, ctx.IdempotencyKey.Value),
            decide: (campaign, c, facts, ctx) => BackfillDecider.DecideStart(campaign, c, facts, Context(ctx)),
            readFacts: StartFactsAsync,
            others: [Targets],
            result: (campaign, _, _, events) => new JsonObject
            {
                ["campaign"] = CampaignView(campaign!),
                ["pending_target_count"] = events.OfType<BackfillTargetAdded>().Count(t => t.Status == BackfillTargetStatus.Pending),
            },
            effects: IndexLinksAsync),
        TargetSimulation<BackfillNotifyInput>(OnbSimulations.BackfillNotifyCommit, i => new NotifyTarget(i.CampaignId, i.RecipientUserId, i.Reminder)),
        TargetSimulation<BackfillTargetInput>(OnbSimulations.BackfillTargetFailCommit, i => new FailTarget(i.CampaignId, i.RecipientUserId)),
        TargetSimulation<BackfillAnswerInput>(OnbSimulations.BackfillAnswerCommit, i => new AnswerTarget(i.CampaignId, i.RecipientUserId, i.FieldKey, i.Value)),
        new EngineSimulation<BackfillCompleteInput, CompleteBackfill, BackfillCampaign, BackfillEvent, IReadOnlyList<BackfillTarget>>(
            OnbSimulations.Of(OnbSimulations.BackfillCompleteCommit), Campaigns,
            toCommand: i => new CompleteBackfill(i.CampaignId),
            validate: c => BackfillDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
            targetOf: (c, _) => c.CampaignId,
            decide: (campaign, c, targets, ctx) => BackfillDecider.DecideComplete(campaign, targets, c, Context(ctx)),
            readFacts: (tx, c, campaign, _, ct) => campaign is null ? Task.FromResult<IReadOnlyList<BackfillTarget>>([]) : TargetsOfAsync(tx, c.CampaignId, ct),
            result: (campaign, _, _, _) => new JsonObject { ["campaign"] = CampaignView(campaign!) }),
    ];

    /// <summary>
    /// A step on one target: the target's stream is the lock, the campaign is read without one (a target step never
    /// changes it). The result is the target's view after the step and the field to ask next (null when none is left).
    /// </summary>
    private static EngineSimulation<TInput, BackfillTargetCommand, BackfillTarget, BackfillEvent, BackfillCampaign?> TargetSimulation<TInput>(string simulationId,
        Func<TInput, BackfillTargetCommand> toCommand) where TInput : class => new(
        OnbSimulations.Of(simulationId), Targets, toCommand,
        validate: c => BackfillDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
        targetOf: (c, _) => BackfillDecider.TargetId(c.CampaignId, c.UserId),
        decide: (target, c, campaign, ctx) => BackfillDecider.DecideTarget(campaign, target, c, Context(ctx)),
        readFacts: (tx, c, _, _, ct) => Campaigns.GetAsync(tx, c.CampaignId, ct),
        result: (target, _, _, _) => new JsonObject
        {
            ["target"] = TargetView(target!),
            ["next_field"] = BackfillDecider.IsTerminal(target!.Status) ? null : BackfillDecider.NextQuestion(target)?.FieldKey,
        });

    /// <summary>
    /// Indexes each PENDING target's personal link in the start's transaction, as LINK indexes an invite's: the secret
    /// is derived from the link key and the target id (<see cref="Link.LinkKey.SecretOf"/>) and only its SHA-256 is
    /// stored. Without a link key no campaign starts (LINK_SECRET_KEY_UNAVAILABLE): nobody could ever answer it.
    /// </summary>
    private static Task<Decision<BackfillEvent>.Rejected?> IndexLinksAsync(TenantTransaction tx, IReadOnlyList<BackfillEvent> events, ExecutionContext ctx,
        ICollection<JournalDraft> journal, CancellationToken ct)
    {
        var pending = events.OfType<BackfillTargetAdded>().Where(t => t.Status == BackfillTargetStatus.Pending).ToArray();
        if (pending.Length == 0) return Task.FromResult<Decision<BackfillEvent>.Rejected?>(null);
        if (ctx.Services?.Get<Link.LinkKey>() is not { } key)
            return Task.FromResult<Decision<BackfillEvent>.Rejected?>(new(Engines.Link.LinkReasons.LinkSecretKeyUnavailable,
                "this Selene process has no link key, so it cannot issue the targets' personal links (the server keeps one in its data directory)"));
        foreach (var t in pending)
            Selene.Postgres.Stores.LinkTokenIndex.DeferInsert(tx, Link.LinkKey.HashOf(key.SecretOf(ctx.Tenant.Value, t.TargetId)), t.TargetId, ctx.Now.Value);
        return Task.FromResult<Decision<BackfillEvent>.Rejected?>(null);
    }

    /// <summary>Every target of a campaign, in target id order.</summary>
    public static async Task<IReadOnlyList<BackfillTarget>> TargetsOfAsync(TenantTransaction tx, string campaignId, CancellationToken ct)
    {
        var targets = new List<BackfillTarget>();
        await foreach (var (_, t) in ScanAsync(Targets, tx, null, campaignId + ":", ct)) targets.Add(t);
        return targets;
    }

    internal static IReadOnlyList<ReadRoute> Reads { get; } =
    [
        new ReadRoute("ListBackfillCampaigns", "/backfill-campaigns",
            "Requirement backfill campaigns in campaign id order; optional status=DRAFT_CREATED|RUNNING|COMPLETED|CANCELED, after, limit (1..500).",
            NotFound: false, ListAsync, ListPage.Parameters),
        new ReadRoute("GetBackfillCampaign", "/backfill-campaigns/{campaign_id}",
            "One backfill campaign with its counts and every target's status, missing fields and loop counts.", NotFound: true, GetAsync),
    ];

    /// <summary>The POSITION_REQUIREMENTS_ACTIVATED handoff's inputs: POSITION hands off CURRENT_AND_NEW activations only.</summary>
    internal static HandoffRoute ActivationHandoff { get; } = new(PositionDecider.BackfillHandoffEvent, OnbSimulations.BackfillStartDraft, payload => new JsonObject
    {
        ["company_id"] = payload["company_id"]?.GetValue<string>(),
        ["position_id"] = payload["position_id"]?.GetValue<string>(),
        ["schema_version_id"] = payload["schema_version_id"]?.GetValue<string>(),
        ["rollout_scope"] = payload["apply_scope"]?.GetValue<string>(),
    });

    private static OnbContext Context(ExecutionContext ctx) => new(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now, ctx.IdempotencyKey.Value);

    /// <summary>
    /// What a start reads (null when the position or the schema version does not exist): the position's company, the
    /// version's required questions in schema order, and every CURRENT holder with the fields known of them — the known
    /// fields of their COMPLETE onboarding sessions and the answers they gave in earlier campaigns of the tenant.
    /// </summary>
    private static async Task<BackfillStartFacts?> StartFactsAsync(TenantTransaction tx, StartBackfill c, BackfillCampaign? existing, ExecutionContext ctx,
        CancellationToken ct)
    {
        if (existing is not null || BackfillDecider.Validate(c) is not null) return null;
        var position = await PositionModule.Positions.GetAsync(tx, c.PositionId, ct);
        var schemas = position is null ? null : await PositionModule.Schemas.GetAsync(tx, c.PositionId, ct);
        if (position is null || schemas is null || !schemas.Versions.TryGetValue(c.SchemaVersionId, out var version)) return null;
        var questions = OnbModule.QuestionsOf(version);

        var holders = new List<string>();
        await foreach (var (_, holder) in ScanAsync(PositionModule.Holders, tx, WireNames.Of(HolderStatus.Current), HolderDecider.HolderPrefixOf(c.PositionId), ct))
            holders.Add(holder.UserId);
        var known = holders.ToDictionary(u => u, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        await foreach (var (_, session) in ScanAsync(OnbModule.Sessions, tx, WireNames.Of(OnbStatus.Complete), null, ct))
            if (session.UserId is { } user && known.TryGetValue(user, out var fields)) fields.UnionWith(session.Known.Keys);
        await foreach (var (_, target) in ScanAsync(Targets, tx, null, null, ct))
            if (known.TryGetValue(target.UserId, out var fields)) fields.UnionWith(target.Answers.Keys);
        var withheld = await ExecutorGate.WithheldAsync(tx, ctx.Actor.Value,
            OnbBackfillLoop.LauncherSimulations.Select(id => SeleneCatalog.Default.Posture(id).Record ?? throw new InvalidOperationException($"{id} is not in the catalog")),
            ctx.Now, ct);
        return new BackfillStartFacts(position.CompanyId, holders.Select(u => new BackfillHolder(u, known[u])).ToArray(), questions, withheld);
    }

    /// <summary>Every row of a store (of one status, under one prefix when given), page by page in stream id order.</summary>
    private static async IAsyncEnumerable<(string StreamId, TState State)> ScanAsync<TState, TEvent>(IAggregate<TState, TEvent> aggregate, TenantTransaction tx,
        string? status, string? prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        where TState : class
    {
        string? after = null;
        while (true)
        {
            var rows = await aggregate.ListAsync(tx, status, after, ScanPage, ct, prefix);
            foreach (var row in rows) yield return row;
            if (rows.Count < ScanPage) yield break;
            after = rows[^1].StreamId;
        }
    }

    private static async Task<ReadResult> ListAsync(ReadRequest request, CancellationToken ct)
    {
        if (ListPage.Read<BackfillCampaignState>(request, BackfillDecider.IsCampaignId, "a campaign id", out var page) is { } refused) return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Campaigns.ListAsync(tx, page.Status, page.After, page.Limit, ct);
        return new ReadResult.Ok(page.Body("campaigns", rows, r => CampaignView(r.State), r => r.StreamId));
    }

    // An id that is not a campaign id names no campaign: 404 as for any missing one, without a query.
    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        var id = request.RouteValues["campaign_id"];
        var none = new ReadResult.Refused(OnbReasons.OnbRefuseNotFound, $"no backfill campaign {IdRules.Shorten(id)} in this tenant");
        if (!BackfillDecider.IsCampaignId(id)) return none;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        if (await Campaigns.GetAsync(tx, id, ct) is not { } campaign) return none;
        var targets = new JsonArray((await TargetsOfAsync(tx, id, ct)).Select(t => (JsonNode)TargetView(t)).ToArray());
        return new ReadResult.Ok(new JsonObject { ["campaign"] = CampaignView(campaign), ["targets"] = targets });
    }

    /// <summary>The public JSON view of a campaign.</summary>
    public static JsonObject CampaignView(BackfillCampaign c) => new()
    {
        ["campaign_id"] = c.CampaignId,
        ["company_id"] = c.CompanyId,
        ["position_id"] = c.PositionId,
        ["schema_version_id"] = c.SchemaVersionId,
        ["rollout_scope"] = BackfillDecider.CurrentAndNew,
        ["state"] = WireNames.Of(c.State),
        ["total_target_count"] = c.TotalTargets,
        ["completed_target_count"] = c.CompletedTargets,
        ["created_by_user_id"] = c.CreatedByUserId,
        ["last_reason_code"] = c.LastReasonCode,
        ["created_at"] = Time(c.CreatedAt),
        ["updated_at"] = Time(c.UpdatedAt),
        ["completed_at"] = c.CompletedAt is { } at ? Time(at) : null,
    };

    /// <summary>The public JSON view of a target: status, the missing fields' keys, which are answered (never the answers), loop counts.</summary>
    public static JsonObject TargetView(BackfillTarget t) => new()
    {
        ["target_id"] = t.TargetId,
        ["user_id"] = t.UserId,
        ["status"] = WireNames.Of(t.Status),
        ["missing_fields"] = new JsonArray(t.Missing.Select(q => (JsonNode)q.FieldKey).ToArray()),
        ["answered_fields"] = new JsonArray(t.Answers.Keys.Select(k => (JsonNode)k).ToArray()),
        ["notified_count"] = t.Notified,
        ["reminded_count"] = t.Reminded,
        ["last_reason_code"] = t.LastReasonCode,
        ["updated_at"] = Time(t.UpdatedAt),
    };

    private static string Time(long at) => new UnixNanos(at).ToString();
}
