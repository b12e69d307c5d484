using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Position;

/// <summary>TENANT_COMPANY_UPSERT_COMMIT body.</summary>
internal sealed record CompanyUpsertInput(string CompanyId, string LegalName, string Jurisdiction, CompanyLifecycle LifecycleState);
/// <summary>POSITION_SIM_001_CREATE_DRAFT body.</summary>
internal sealed record PositionCreateInput(string CompanyId, string PositionTitle, string Department, string Jurisdiction, ScheduleType ScheduleType,
    string PermissionProfileRef, string CompensationBandRef);
/// <summary>POSITION_SIM_004_ACTIVATE_COMMIT body.</summary>
internal sealed record PositionActivateInput(string PositionId);
/// <summary>POSITION_SIM_005_RETIRE_OR_SUSPEND_COMMIT body.</summary>
internal sealed record PositionRetireOrSuspendInput(string PositionId, PositionLifecycle RequestedState);
/// <summary>POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT body.</summary>
internal sealed record SchemaCreateInput(string CompanyId, string PositionId, string SchemaVersionId, IReadOnlyList<FieldSpec> FieldSpecs, SchemaSelectors? Selectors = null);
/// <summary>POSITION_REQUIREMENTS_SCHEMA_UPDATE_COMMIT body.</summary>
internal sealed record SchemaUpdateInput(string CompanyId, string PositionId, string SchemaVersionId, IReadOnlyList<FieldSpec> FieldSpecs, string ChangeReason,
    SchemaSelectors? Selectors = null);
/// <summary>POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT body.</summary>
internal sealed record SchemaActivateInput(string CompanyId, string PositionId, string SchemaVersionId, ApplyScope ApplyScope, bool BackfillLaunchConfirmed = false);
/// <summary>POSITION_SIM_002_VALIDATE_AUTH_COMPANY body.</summary>
internal sealed record ValidateAuthCompanyInput(string CompanyId, string PositionId, RequestedPositionAction RequestedAction);
/// <summary>POSITION_SIM_003_BAND_POLICY_CHECK body.</summary>
internal sealed record BandPolicyInput(string PositionId, string CompensationBandRef);

/// <summary>POSITION_HOLDER_ASSIGN_COMMIT and POSITION_HOLDER_END_COMMIT body.</summary>
internal sealed record HolderInput(string PositionId, string UserId);

/// <summary>What a position decision reads beyond the position: its company, and (for schema commands) its schemas.</summary>
internal sealed record PositionFacts(CompanyView? Company, PositionSchemas Schemas);

/// <summary>
/// PH1.POSITION on the engine platform: three aggregates (tenant companies, positions, and each position's
/// requirement schemas), the lifecycle and schema simulations on the platform's pipeline, two read-only checks, and
/// four read routes. Every POSITION simulation locks the position first and its schema stream second; company
/// upserts lock only the company, and positions read their company without a lock (as before the move).
/// </summary>
public static class PositionModule
{
    /// <summary>Tenant companies: <c>tenant_company_ledger</c> / <c>tenant_company_current</c>, stream id = company id.</summary>
    public static Aggregate<CompanyState, CompanyWritten, CompanyWritten> Companies { get; } = new(
        PositionReasons.EngineId, storeName: "tenant_company", streamField: "company_id", viewName: "company",
        streamOf: e => e.CompanyId,
        eventTypeOf: _ => "UPSERT",
        evolve: (s, e, _) => CompanyDecider.Evolve(s, e),
        statusOf: s => WireNames.Of(s.Lifecycle),
        view: CompanyJson);

    /// <summary>Positions: <c>position_ledger</c> / <c>position_current</c>, stream id = position id; one event type per lifecycle move.</summary>
    public static Aggregate<PositionState, PositionLifecycleEvent, PositionEvent> Positions { get; } = new(
        PositionReasons.EngineId, storeName: "position", streamField: "position_id", viewName: "position",
        streamOf: e => e.PositionId,
        eventTypeOf: e => e switch
        {
            PositionCreated => "CREATE_DRAFT",
            PositionLifecycleChanged { To: PositionLifecycle.Active } => "ACTIVATE",
            PositionLifecycleChanged { To: PositionLifecycle.Suspended } => "SUSPEND",
            _ => "RETIRE",
        },
        evolve: (s, e, _) => PositionDecider.Evolve(s, e),
        statusOf: s => WireNames.Of(s.Lifecycle),
        view: PositionJson,
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["CREATE_DRAFT"] = typeof(PositionCreated),
            ["ACTIVATE"] = typeof(PositionLifecycleChanged),
            ["SUSPEND"] = typeof(PositionLifecycleChanged),
            ["RETIRE"] = typeof(PositionLifecycleChanged),
        });

    /// <summary>
    /// Who holds a position: <c>position_holder_ledger</c> / <c>_current</c>, stream id = <c>{position_id}:{user_id}</c>
    /// (<see cref="HolderDecider.HolderId"/>), status CURRENT | ENDED.
    /// </summary>
    public static Aggregate<PositionHolder, HolderChanged, HolderChanged> Holders { get; } = new(
        PositionReasons.EngineId, storeName: "position_holder", streamField: "holder_id", viewName: "holder",
        streamOf: e => e.HolderId,
        eventTypeOf: e => e.To == HolderStatus.Current ? "ASSIGN" : "END",
        evolve: (s, e, _) => HolderDecider.Evolve(s, e),
        statusOf: s => WireNames.Of(s.Status),
        view: HolderJson,
        journalFields: e => [("position_id", e.PositionId), ("user_id", e.UserId)]);

    /// <summary>
    /// Each position's requirement schemas: <c>position_requirements_schema_ledger</c> / <c>_current</c>, stream id =
    /// position id, status DRAFT until a version is active, then ACTIVE.
    /// </summary>
    public static Aggregate<PositionSchemas, SchemaEvent, PositionEvent> Schemas { get; } = new(
        PositionReasons.EngineId, storeName: "position_requirements_schema", streamField: "position_id", viewName: "schema",
        streamOf: e => e.PositionId,
        eventTypeOf: e => e switch
        {
            SchemaVersionWritten { ChangeReason: null } => "CREATE_DRAFT",
            SchemaVersionWritten => "UPDATE_COMMIT",
            _ => "ACTIVATE_COMMIT",
        },
        evolve: (s, e, _) => PositionDecider.EvolveSchemas(s ?? PositionSchemas.Empty, e),
        statusOf: PositionDecider.SchemaStatus,
        view: s => new JsonObject
        {
            ["active_schema_version_id"] = s.ActiveVersionId,
            ["schema_version_ids"] = new JsonArray(s.Versions.Keys.Order(StringComparer.Ordinal).Select(k => (JsonNode)k).ToArray()),
        },
        journalFields: e => e switch
        {
            SchemaVersionWritten w => [("schema_version_id", w.SchemaVersionId), ("field_count", w.FieldSpecs.Count.ToString(CultureInfo.InvariantCulture))],
            SchemaVersionActivated a => [("schema_version_id", a.SchemaVersionId), ("apply_scope", WireNames.Of(a.ApplyScope))],
            _ => [],
        },
        eventRecords: new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["CREATE_DRAFT"] = typeof(SchemaVersionWritten),
            ["UPDATE_COMMIT"] = typeof(SchemaVersionWritten),
            ["ACTIVATE_COMMIT"] = typeof(SchemaVersionActivated),
        });

    public static EngineModule Module { get; } = new(
        "position", PositionReasons.EngineId,
        [
            new EngineSimulation<CompanyUpsertInput, UpsertCompany, CompanyState, CompanyWritten, bool>(
                PositionSimulations.Of(PositionSimulations.CompanyUpsert), Companies,
                toCommand: i => new UpsertCompany(i.CompanyId, i.LegalName, i.Jurisdiction, i.LifecycleState),
                validate: c => CompanyDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
                targetOf: (c, _) => c.CompanyId,
                decide: (state, command, _, context) => CompanyDecider.Decide(state, command, context.Tenant.Value, context.Actor.Value, context.Now),
                result: (state, _, _, _) => new JsonObject { ["company"] = CompanyJson(state!) }),
            Position<PositionCreateInput>(PositionSimulations.CreateDraft,
                i => new CreatePosition(i.CompanyId, i.PositionTitle, i.Department, i.Jurisdiction, i.ScheduleType, i.PermissionProfileRef, i.CompensationBandRef)),
            new DelegateHandler<ValidateAuthCompanyInput, ValidateAuthCompanyInput>(
                PositionSimulations.Of(PositionSimulations.ValidateAuthCompany),
                i => IdRules.IsValidName(i.CompanyId) && IsPositionId(i.PositionId)
                    ? (i, null) : (null, new JsonInputError(ReasonCodes.InputFieldInvalid, "company_id must be a valid name and position_id look like pos_<16 hex>")),
                ValidateAuthCompanyAsync),
            new DelegateHandler<BandPolicyInput, BandPolicyInput>(
                PositionSimulations.Of(PositionSimulations.BandPolicyCheck),
                i => IsPositionId(i.PositionId) && IdRules.IsValidName(i.CompensationBandRef, 128)
                    ? (i, null) : (null, new JsonInputError(ReasonCodes.InputFieldInvalid, "position_id must look like pos_<16 hex> and compensation_band_ref be a valid ref")),
                BandPolicyAsync),
            Position<PositionActivateInput>(PositionSimulations.Activate, i => new ActivatePosition(i.PositionId)),
            Position<PositionRetireOrSuspendInput>(PositionSimulations.RetireOrSuspend, i => new RetireOrSuspendPosition(i.PositionId, i.RequestedState)),
            Position<SchemaCreateInput>(PositionSimulations.SchemaCreateDraft,
                i => new CreateSchemaDraft(i.PositionId, i.CompanyId, i.SchemaVersionId, i.Selectors ?? new SchemaSelectors(), i.FieldSpecs)),
            Position<SchemaUpdateInput>(PositionSimulations.SchemaUpdate,
                i => new UpdateSchema(i.PositionId, i.CompanyId, i.SchemaVersionId, i.Selectors ?? new SchemaSelectors(), i.FieldSpecs, i.ChangeReason)),
            Position<SchemaActivateInput>(PositionSimulations.SchemaActivate,
                i => new ActivateSchema(i.PositionId, i.CompanyId, i.SchemaVersionId, i.ApplyScope, i.BackfillLaunchConfirmed),
                capabilityScope: PositionDecider.SchemaChangeScope),
            Holder(PositionSimulations.HolderAssign, i => new AssignHolder(i.PositionId, i.UserId)),
            Holder(PositionSimulations.HolderEnd, i => new EndHolder(i.PositionId, i.UserId)),
        ],
        [Companies, Positions, Schemas, Holders],
        PositionReasons.All,
        [
            new ReadRoute("ListCompanies", "/companies", "The tenant's companies (up to 1000, in id order).", NotFound: false, ListCompaniesAsync),
            new ReadRoute("ListPositions", "/positions", "The tenant's positions (up to 1000, in id order).", NotFound: false, ListPositionsAsync),
            new ReadRoute("GetPosition", "/positions/{position_id}", "One position.", NotFound: true, GetPositionAsync),
            new ReadRoute("GetActiveSchema", "/positions/{position_id}/schema", "The active requirement schema of a position.", NotFound: true, GetActiveSchemaAsync),
            new ReadRoute("ListPositionHolders", "/positions/{position_id}/holders",
                "Who holds a position and who held it (status CURRENT | ENDED; after = a holder id, limit 1..500).", NotFound: true, ListHoldersAsync)
            {
                QueryParameters = ListPage.Parameters,
            },
        ]);

    /// <summary>The most rows a list route returns (no paging, as before the move).</summary>
    private const int ListLimit = 1000;

    private static EngineSimulation<TInput, PositionCommand, PositionState, PositionEvent, PositionFacts> Position<TInput>(string simulationId,
        Func<TInput, PositionCommand> toCommand, Func<PositionCommand, string?>? capabilityScope = null)
        where TInput : class => new(
        PositionSimulations.Of(simulationId), Positions, toCommand,
        validate: c => (PositionDecider.Validate(c) ?? PositionDecider.LaunchUnconfirmed(c)) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
        targetOf: (c, context) => c switch
        {
            CreatePosition create => PositionDecider.PositionId(context.Tenant.Value, create.CompanyId, create.Title, create.Department, create.Jurisdiction),
            ActivatePosition a => a.PositionId,
            RetireOrSuspendPosition r => r.PositionId,
            CreateSchemaDraft d => d.PositionId,
            UpdateSchema u => u.PositionId,
            ActivateSchema a => a.PositionId,
            _ => throw new InvalidOperationException("unknown position command"),
        },
        decide: (state, command, facts, context) => PositionDecider.Decide(state, facts.Schemas, command,
            new PositionContext(context.Tenant.Value, context.Actor.Value, context.Now, context.IdempotencyKey.Value, facts.Company)),
        readFacts: ReadFactsAsync,
        others: [Schemas],
        result: Result,
        capabilityScope: capabilityScope);

    /// <summary>
    /// A holder simulation: the holder stream is the target (locked); the position is read without a lock, as positions
    /// read their company (a holder write never changes the position).
    /// </summary>
    private static EngineSimulation<HolderInput, HolderCommand, PositionHolder, HolderChanged, PositionState?> Holder(string simulationId,
        Func<HolderInput, HolderCommand> toCommand) => new(
        PositionSimulations.Of(simulationId), Holders, toCommand,
        validate: c => HolderDecider.Validate(c) is { } invalid ? new JsonInputError(invalid.Reason, invalid.Detail) : null,
        targetOf: (c, _) => HolderDecider.HolderId(c.PositionId, c.UserId),
        decide: (holder, command, position, context) => HolderDecider.Decide(holder, position, command, context.Tenant.Value, context.Actor.Value, context.Now),
        readFacts: (tx, c, _, _, ct) => Positions.GetAsync(tx, c.PositionId, ct),
        result: (holder, command, _, _) => new JsonObject
        {
            ["holder"] = holder is null ? null : HolderJson(holder),
        });

    /// <summary>
    /// Makes <paramref name="userId"/> a current holder of <paramref name="positionId"/> through POSITION's decider and
    /// store, in the caller's transaction (an EMPLOYEE onboarding's completion): the holder stream locked, the holder
    /// written with source ONBOARDING, and the transition journaled under PH1.POSITION. A current holder stays as is.
    /// Returns POSITION's refusal (the position is not ACTIVE, or gone), or null when the user holds the position.
    /// </summary>
    public static async Task<Decision<HolderChanged>.Rejected?> AssignFromOnboardingAsync(TenantTransaction tx, string positionId, string userId, ExecutionContext ctx,
        Func<ReasonCode, string, string, long, JournalDraft> transition, ICollection<JournalDraft> journal, CancellationToken ct)
    {
        var id = HolderDecider.HolderId(positionId, userId);
        var holder = await Holders.LockAndLoadAsync(tx, id, ct);
        var position = await Positions.GetAsync(tx, positionId, ct);
        switch (HolderDecider.Decide(holder, position, new AssignHolder(positionId, userId, HolderDecider.OnboardingSource), ctx.Tenant.Value, ctx.Actor.Value, ctx.Now))
        {
            case Decision<HolderChanged>.Rejected refused:
                return refused;
            case Decision<HolderChanged>.Accepted accepted:
                foreach (var e in accepted.Events)
                {
                    var (after, eventId) = await Holders.WriteAsync(tx, holder, e, ctx, accepted.Reason, ct);
                    journal.Add(transition(accepted.Reason, Holders.StatusOf(holder), Holders.StatusOf(after), eventId));
                    holder = after;
                }
                return null;
            default:
                throw new InvalidOperationException("unknown decision");
        }
    }

    /// <summary>
    /// The company the command names (its own for creation, the position's otherwise) and, for schema commands, the
    /// position's schemas. The position's lock, taken first by every POSITION simulation, serializes schema work.
    /// </summary>
    private static async Task<PositionFacts> ReadFactsAsync(TenantTransaction tx, PositionCommand command, PositionState? position, ExecutionContext context,
        CancellationToken ct)
    {
        var companyId = command is CreatePosition create ? create.CompanyId : position?.CompanyId;
        var company = companyId is null ? null : await Companies.GetAsync(tx, companyId, ct);
        var schemas = position is not null && command is CreateSchemaDraft or UpdateSchema or ActivateSchema
            ? await Schemas.GetAsync(tx, position.PositionId, ct) ?? PositionSchemas.Empty
            : PositionSchemas.Empty;
        return new PositionFacts(company is null ? null : new CompanyView(company.CompanyId, company.Lifecycle), schemas);
    }

    /// <summary>A position simulation's result: the schema version it wrote or activated (if any), then the position.</summary>
    private static JsonObject Result(PositionState? position, PositionCommand command, PositionFacts facts, IReadOnlyList<PositionEvent> events)
    {
        var result = new JsonObject();
        var schemas = facts.Schemas;
        foreach (var e in events.OfType<SchemaEvent>())
        {
            schemas = PositionDecider.EvolveSchemas(schemas, e);
            switch (e)
            {
                case SchemaVersionWritten w:
                    result["schema"] = SchemaVersionJson(w.PositionId, schemas.Versions[w.SchemaVersionId], "DRAFT", null);
                    break;
                case SchemaVersionActivated a:
                    result["schema"] = SchemaVersionJson(a.PositionId, schemas.Versions[a.SchemaVersionId], "ACTIVE", a.ApplyScope);
                    result["apply_scope_result"] = ApplyScopes.SeedToken(a.ApplyScope);
                    result["backfill_handoff_required"] = a.ApplyScope == ApplyScope.CurrentAndNew;
                    break;
            }
        }
        result["position"] = PositionJson(position!);
        return result;
    }

    private static bool IsPositionId(string id) => IdRules.IsShortHashId(id, "pos_");

    private static async Task<HandlerOutcome> ValidateAuthCompanyAsync(TenantTransaction tx, ValidateAuthCompanyInput i, ExecutionContext ctx, CancellationToken ct)
    {
        var position = await Positions.GetAsync(tx, i.PositionId, ct);
        if (position is null)
            return Refused(PositionSimulations.ValidateAuthCompany, PositionReasons.PositionNotFound, "no such position in this tenant", ("position_id", i.PositionId));
        var company = await Companies.GetAsync(tx, i.CompanyId, ct);
        var (status, reason, detail) = PositionChecks.ValidateAuthCompany(position, company is null ? null : new CompanyView(company.CompanyId, company.Lifecycle),
            i.CompanyId, i.RequestedAction);
        return Answered(PositionSimulations.ValidateAuthCompany, PositionReasons.PositionValidated, new JsonObject
        {
            ["position_id"] = i.PositionId, ["company_id"] = i.CompanyId, ["requested_action"] = WireNames.Of(i.RequestedAction),
            ["validation_status"] = WireNames.Of(status), ["validation_reason_code"] = reason.Name, ["detail"] = detail,
        });
    }

    private static async Task<HandlerOutcome> BandPolicyAsync(TenantTransaction tx, BandPolicyInput i, ExecutionContext ctx, CancellationToken ct)
    {
        var position = await Positions.GetAsync(tx, i.PositionId, ct);
        if (position is null)
            return Refused(PositionSimulations.BandPolicyCheck, PositionReasons.PositionNotFound, "no such position in this tenant", ("position_id", i.PositionId));
        var (result, reason, detail) = PositionChecks.BandPolicy(position, i.CompensationBandRef);
        return Answered(PositionSimulations.BandPolicyCheck, PositionReasons.PositionBandChecked, new JsonObject
        {
            ["position_id"] = i.PositionId, ["compensation_band_ref"] = i.CompensationBandRef,
            ["policy_result"] = WireNames.Of(result), ["policy_reason_code"] = reason.Name, ["detail"] = detail,
        });
    }

    /// <summary>A read-only check: its answer is the result and one journal entry; nothing else is written.</summary>
    private static HandlerOutcome.Accepted Answered(string simulationId, ReasonCode reason, JsonObject result)
    {
        var payload = result.Where(p => p.Key != "detail").Select(p => (p.Key, p.Value!.GetValue<string>())).ToArray();
        return new HandlerOutcome.Accepted(reason, result,
            [new JournalDraft(PositionReasons.EngineId, JournalEventTypes.CheckAnswered, reason, JournalPayload.Create([("simulation_id", simulationId), .. payload]))], []);
    }

    private static HandlerOutcome.Rejected Refused(string simulationId, ReasonCode reason, string detail, params (string, string)[] payload) =>
        new(reason, detail, new JournalDraft(PositionReasons.EngineId, JournalEventTypes.SimulationRefused, reason,
            JournalPayload.Create([("simulation_id", simulationId), .. payload])));

    private static async Task<ReadResult> ListCompaniesAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Companies.ListAsync(tx, null, null, ListLimit, ct);
        return new ReadResult.Ok(new JsonObject { ["companies"] = new JsonArray(rows.Select(r => (JsonNode)CompanyJson(r.State)).ToArray()) });
    }

    private static async Task<ReadResult> ListPositionsAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var rows = await Positions.ListAsync(tx, null, null, ListLimit, ct);
        return new ReadResult.Ok(new JsonObject { ["positions"] = new JsonArray(rows.Select(r => (JsonNode)PositionJson(r.State)).ToArray()) });
    }

    // An id that is not a position id names no position: 404 as for any missing one, without a query.
    private static async Task<ReadResult> GetPositionAsync(ReadRequest request, CancellationToken ct)
    {
        var positionId = request.RouteValues["position_id"];
        var position = IsPositionId(positionId) ? await ReadAsync(request, Positions, positionId, ct) : null;
        return position is null
            ? new ReadResult.Refused(PositionReasons.PositionNotFound, "no such position in this tenant")
            : new ReadResult.Ok(new JsonObject { ["position"] = PositionJson(position) });
    }

    private static async Task<ReadResult> GetActiveSchemaAsync(ReadRequest request, CancellationToken ct)
    {
        var positionId = request.RouteValues["position_id"];
        var schemas = IsPositionId(positionId) ? await ReadAsync(request, Schemas, positionId, ct) : null;
        return schemas is not null && ActiveSchemaJson(positionId, schemas) is { } active
            ? new ReadResult.Ok(new JsonObject { ["schema"] = active })
            : new ReadResult.Refused(PositionReasons.PositionSchemaVersionNotFound, "the position has no active requirement schema");
    }

    // The holders of one position, paged by holder id; a position that does not exist is 404.
    private static async Task<ReadResult> ListHoldersAsync(ReadRequest request, CancellationToken ct)
    {
        var positionId = request.RouteValues["position_id"];
        if (!IsPositionId(positionId)) return new ReadResult.Refused(PositionReasons.PositionNotFound, "no such position in this tenant");
        if (ListPage.Read<HolderStatus>(request, id => HolderDecider.IsHolderIdOf(positionId, id), "a holder id of this position", out var page) is { } refused)
            return refused;
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        if (await Positions.GetAsync(tx, positionId, ct) is null) return new ReadResult.Refused(PositionReasons.PositionNotFound, "no such position in this tenant");
        var rows = await Holders.ListAsync(tx, page.Status, page.After, page.Limit, ct, HolderDecider.HolderPrefixOf(positionId));
        return new ReadResult.Ok(page.Body("holders", rows, r => HolderJson(r.State), r => r.StreamId));
    }

    private static async Task<TState?> ReadAsync<TState, TEvent>(ReadRequest request, IAggregate<TState, TEvent> aggregate, string streamId, CancellationToken ct)
        where TState : class
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        return await aggregate.GetAsync(tx, streamId, ct);
    }

    /// <summary>The public JSON view of a position.</summary>
    public static JsonObject PositionJson(PositionState s) => new()
    {
        ["position_id"] = s.PositionId,
        ["company_id"] = s.CompanyId,
        ["position_title"] = s.Title,
        ["department"] = s.Department,
        ["jurisdiction"] = s.Jurisdiction,
        ["schedule_type"] = WireNames.Of(s.ScheduleType),
        ["permission_profile_ref"] = s.PermissionProfileRef,
        ["compensation_band_ref"] = s.CompensationBandRef,
        ["lifecycle_state"] = WireNames.Of(s.Lifecycle),
        ["created_at"] = new UnixNanos(s.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
    };

    /// <summary>The public JSON view of a position holder.</summary>
    public static JsonObject HolderJson(PositionHolder h) => new()
    {
        ["holder_id"] = h.HolderId,
        ["position_id"] = h.PositionId,
        ["user_id"] = h.UserId,
        ["status"] = WireNames.Of(h.Status),
        ["source"] = h.Source,
        ["assigned_at"] = new UnixNanos(h.AssignedAt).ToString(),
        ["ended_at"] = h.EndedAt is { } ended ? new UnixNanos(ended).ToString() : null,
        ["last_reason_code"] = h.LastReasonCode,
    };

    /// <summary>The public JSON view of a tenant company.</summary>
    public static JsonObject CompanyJson(CompanyState s) => new()
    {
        ["company_id"] = s.CompanyId,
        ["legal_name"] = s.LegalName,
        ["jurisdiction"] = s.Jurisdiction,
        ["lifecycle_state"] = WireNames.Of(s.Lifecycle),
        ["created_at"] = new UnixNanos(s.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
    };

    /// <summary>One schema version as a simulation result shows it.</summary>
    private static JsonObject SchemaVersionJson(string positionId, SchemaVersionState v, string status, ApplyScope? applyScope)
    {
        var json = new JsonObject
        {
            ["position_id"] = positionId,
            ["schema_version_id"] = v.SchemaVersionId,
            ["status"] = status,
            ["field_count"] = v.FieldSpecs.Count,
            ["selectors"] = JsonSerializer.SerializeToNode(v.Selectors, StrictJson.Options),
            ["field_specs"] = JsonSerializer.SerializeToNode(v.FieldSpecs, StrictJson.Options),
        };
        if (applyScope is { } scope) json["apply_scope"] = WireNames.Of(scope);
        return json;
    }

    /// <summary>
    /// The active version of a position's schemas, with the content it was activated with (a version once activated is
    /// never edited), and the time of its activation; null while none is active. Selectors and field specs in
    /// canonical JSON (members sorted, nulls left out), as this view has always shown them.
    /// </summary>
    private static JsonObject? ActiveSchemaJson(string positionId, PositionSchemas s) =>
        s.ActiveVersionId is { } id && s.Versions[id] is var v && s.ActiveApplyScope is { } scope
            ? new JsonObject
            {
                ["position_id"] = positionId,
                ["schema_version_id"] = id,
                ["status"] = "ACTIVE",
                ["apply_scope"] = WireNames.Of(scope),
                ["selectors"] = JsonNode.Parse(CanonicalJson.SerializeToString(v.Selectors)),
                ["field_specs"] = JsonNode.Parse(CanonicalJson.SerializeToString(v.FieldSpecs)),
                ["updated_at"] = new UnixNanos(v.LastEventAt).ToString(),
            }
            : null;
}
