using System.Globalization;
using System.Text.Json.Nodes;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Postgres.Stores;

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
internal sealed record SchemaActivateInput(string CompanyId, string PositionId, string SchemaVersionId, ApplyScope ApplyScope);

/// <summary>POSITION_SIM_002_VALIDATE_AUTH_COMPANY body.</summary>
internal sealed record ValidateAuthCompanyInput(string CompanyId, string PositionId, RequestedPositionAction RequestedAction);
/// <summary>POSITION_SIM_003_BAND_POLICY_CHECK body.</summary>
internal sealed record BandPolicyInput(string PositionId, string CompensationBandRef);

/// <summary>The PH1.POSITION simulations (and the tenant-company upsert) wired to the executor.</summary>
public static class PositionHandlers
{
    public const string CompanyUpsert = "TENANT_COMPANY_UPSERT_COMMIT";
    public const string CreateDraft = "POSITION_SIM_001_CREATE_DRAFT";
    public const string ValidateAuthCompany = "POSITION_SIM_002_VALIDATE_AUTH_COMPANY";
    public const string BandPolicyCheck = "POSITION_SIM_003_BAND_POLICY_CHECK";
    public const string Activate = "POSITION_SIM_004_ACTIVATE_COMMIT";
    public const string RetireOrSuspend = "POSITION_SIM_005_RETIRE_OR_SUSPEND_COMMIT";
    public const string SchemaCreateDraft = "POSITION_REQUIREMENTS_SCHEMA_CREATE_DRAFT";
    public const string SchemaUpdate = "POSITION_REQUIREMENTS_SCHEMA_UPDATE_COMMIT";
    public const string SchemaActivate = "POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT";
    private const string Scope = "tenant+simulation_id+key";

    private static SimulationRecord Record(string id, SimulationType type, string action, AccessMode mode, params ReasonCode[] codes) =>
        new(id, ReasonCodes.EnginePosition, type, SimulationStatus.Active, action, mode, Scope, codes);

    public static IReadOnlyList<ISimulationHandler> All { get; } =
    [
        new DelegateHandler<CompanyUpsertInput, UpsertCompany>(
            Record(CompanyUpsert, SimulationType.Commit, "ONB_BIZ_SETUP", AccessMode.A, ReasonCodes.CompanyUpserted, ReasonCodes.PositionTransitionInvalid),
            i =>
            {
                // The company's own fields are input: refused before the gate, like every engine's (never a decided refusal).
                var command = new UpsertCompany(i.CompanyId, i.LegalName, i.Jurisdiction, i.LifecycleState);
                return CompanyDecider.Validate(command) is { } invalid ? (null, new JsonInputError(invalid.Reason, invalid.Detail)) : (command, null);
            },
            UpsertCompanyAsync),
        Position<PositionCreateInput>(CreateDraft, SimulationType.Draft, AccessMode.W,
            i => new CreatePosition(i.CompanyId, i.PositionTitle, i.Department, i.Jurisdiction, i.ScheduleType, i.PermissionProfileRef, i.CompensationBandRef),
            ReasonCodes.PositionCreated, ReasonCodes.PositionDuplicate, ReasonCodes.PositionAuthCompanyInvalid),
        new DelegateHandler<ValidateAuthCompanyInput, ValidateAuthCompanyInput>(
            Record(ValidateAuthCompany, SimulationType.Draft, "POSITION_MANAGE", AccessMode.R, ReasonCodes.PositionValidated, ReasonCodes.PositionNotFound),
            i => IdRules.IsValidName(i.CompanyId) && IsPositionId(i.PositionId)
                ? (i, null) : (null, new JsonInputError(ReasonCodes.InputFieldInvalid, "company_id must be a valid name and position_id look like pos_<16 hex>")),
            ValidateAuthCompanyAsync),
        new DelegateHandler<BandPolicyInput, BandPolicyInput>(
            Record(BandPolicyCheck, SimulationType.Draft, "POSITION_MANAGE", AccessMode.R, ReasonCodes.PositionBandChecked, ReasonCodes.PositionNotFound),
            i => IsPositionId(i.PositionId) && IdRules.IsValidName(i.CompensationBandRef, 128)
                ? (i, null) : (null, new JsonInputError(ReasonCodes.InputFieldInvalid, "position_id must look like pos_<16 hex> and compensation_band_ref be a valid ref")),
            BandPolicyAsync),
        Position<PositionActivateInput>(Activate, SimulationType.Commit, AccessMode.A, i => new ActivatePosition(i.PositionId),
            ReasonCodes.PositionActivated, ReasonCodes.PositionTransitionInvalid, ReasonCodes.PositionNotFound),
        Position<PositionRetireOrSuspendInput>(RetireOrSuspend, SimulationType.Commit, AccessMode.A, i => new RetireOrSuspendPosition(i.PositionId, i.RequestedState),
            ReasonCodes.PositionRetiredOrSuspended, ReasonCodes.PositionTransitionInvalid, ReasonCodes.PositionNotFound),
        Position<SchemaCreateInput>(SchemaCreateDraft, SimulationType.Draft, AccessMode.W,
            i => new CreateSchemaDraft(i.PositionId, i.CompanyId, i.SchemaVersionId, i.Selectors ?? new SchemaSelectors(), i.FieldSpecs),
            ReasonCodes.PositionSchemaDrafted, ReasonCodes.PositionSchemaVersionExists, ReasonCodes.PositionSchemaScopeInvalid),
        Position<SchemaUpdateInput>(SchemaUpdate, SimulationType.Commit, AccessMode.W,
            i => new UpdateSchema(i.PositionId, i.CompanyId, i.SchemaVersionId, i.Selectors ?? new SchemaSelectors(), i.FieldSpecs, i.ChangeReason),
            ReasonCodes.PositionSchemaUpdated, ReasonCodes.PositionSchemaVersionNotFound, ReasonCodes.PositionSchemaScopeInvalid),
        Position<SchemaActivateInput>(SchemaActivate, SimulationType.Commit, AccessMode.A,
            i => new ActivateSchema(i.PositionId, i.CompanyId, i.SchemaVersionId, i.ApplyScope),
            ReasonCodes.PositionSchemaActivated, ReasonCodes.PositionSchemaAlreadyActive, ReasonCodes.PositionSchemaVersionNotFound),
    ];

    private static DelegateHandler<TInput, PositionCommand> Position<TInput>(string id, SimulationType type, AccessMode mode, Func<TInput, PositionCommand> toCommand,
        params ReasonCode[] codes)
        where TInput : class =>
        new(Record(id, type, "POSITION_MANAGE", mode, codes),
            i =>
            {
                var command = toCommand(i);
                return PositionDecider.Validate(command) is { } invalid ? (null, new JsonInputError(invalid.Reason, invalid.Detail)) : (command, null);
            },
            (tx, command, ctx, ct) => ExecutePositionAsync(id, tx, command, ctx, ct));

    private static async Task<HandlerOutcome> UpsertCompanyAsync(TenantTransaction tx, UpsertCompany command, ExecutionContext ctx, CancellationToken ct)
    {
        await PositionStore.LockAsync(tx, "company:" + command.CompanyId, ct);
        var row = await PositionStore.GetCompanyAsync(tx, command.CompanyId, ct);
        var decision = CompanyDecider.Decide(row is null ? null : ToView(row), command, ctx.Tenant.Value, ctx.Actor.Value, ctx.Now);
        if (decision is Decision<CompanyWritten>.Rejected rejected)
            return Refused(CompanyUpsert, rejected.Reason, rejected.Detail, ("company_id", command.CompanyId));
        var accepted = (Decision<CompanyWritten>.Accepted)decision;
        var e = accepted.Events[0];
        var eventId = await PositionStore.WriteCompanyAsync(tx, e.CompanyId, e.LegalName, e.Jurisdiction, WireNames.Of(e.Lifecycle), ctx.Actor.Value,
            ctx.Correlation.ToString(), ctx.IdempotencyKey.Value, e.At, ct);
        var journal = Transition(CompanyUpsert, accepted.Reason, ("company_id", e.CompanyId), ("state_from", row?.Lifecycle ?? "NONE"),
            ("state_to", WireNames.Of(e.Lifecycle)), ("ledger_event_id", eventId.ToString(CultureInfo.InvariantCulture)));
        var stored = new CompanyRow(ctx.Tenant.Value, e.CompanyId, e.LegalName, e.Jurisdiction, WireNames.Of(e.Lifecycle), eventId, row?.CreatedAt ?? e.At, e.At);
        return new HandlerOutcome.Accepted(accepted.Reason, new JsonObject { ["company"] = PositionViews.Company(stored) }, [journal], []);
    }

    private static async Task<HandlerOutcome> ExecutePositionAsync(string simulationId, TenantTransaction tx, PositionCommand command, ExecutionContext ctx, CancellationToken ct)
    {
        var positionId = command switch
        {
            CreatePosition c => PositionDecider.PositionId(ctx.Tenant.Value, c.CompanyId, c.Title, c.Department, c.Jurisdiction),
            ActivatePosition a => a.PositionId,
            RetireOrSuspendPosition r => r.PositionId,
            CreateSchemaDraft d => d.PositionId,
            UpdateSchema u => u.PositionId,
            ActivateSchema a => a.PositionId,
            _ => throw new InvalidOperationException("unknown position command"),
        };
        await PositionStore.LockAsync(tx, "position:" + positionId, ct);
        var row = await PositionStore.GetPositionAsync(tx, positionId, ct);
        var state = row is null ? null : PositionViews.ToState(row);
        var ledger = row is null ? [] : await PositionStore.SchemaLedgerAsync(tx, positionId, ct);
        var schemas = PositionViews.FoldSchemas(ledger);
        var companyId = command is CreatePosition create ? create.CompanyId : state?.CompanyId;
        var company = companyId is null ? null : await PositionStore.GetCompanyAsync(tx, companyId, ct);
        var duplicate = command is CreatePosition dup && await PositionStore.DuplicateExistsAsync(tx, dup.CompanyId, dup.Title, dup.Department, dup.Jurisdiction, ct);
        var context = new PositionContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now, ctx.IdempotencyKey.Value, company is null ? null : ToView(company), duplicate);

        var decision = PositionDecider.Decide(state, schemas, command, context);
        if (decision is Decision<PositionEvent>.Rejected rejected)
            return Refused(simulationId, rejected.Reason, rejected.Detail, ("position_id", positionId), ("state", row?.Lifecycle ?? "NONE"));

        var accepted = (Decision<PositionEvent>.Accepted)decision;
        var journal = new List<JournalDraft>();
        var result = new JsonObject();
        foreach (var e in accepted.Events)
        {
            switch (e)
            {
                case PositionCreated or PositionLifecycleChanged:
                    var before = state;
                    state = PositionDecider.Evolve(state, e);
                    var (action, from) = e is PositionLifecycleChanged l
                        ? (l.To switch { PositionLifecycle.Active => "ACTIVATE", PositionLifecycle.Suspended => "SUSPEND", _ => "RETIRE" }, WireNames.Of(l.From))
                        : ("CREATE_DRAFT", (string?)null);
                    var eventId = await PositionStore.WritePositionAsync(tx,
                        new PositionLifecycleRow(positionId, action, from, WireNames.Of(state.Lifecycle), CanonicalJson.SerializeToString((object)e), accepted.Reason.Name,
                            simulationId, ctx.Actor.Value, ctx.Correlation.ToString(), ctx.IdempotencyKey.Value, e.At),
                        PositionViews.ToRow(state), ct);
                    journal.Add(Transition(simulationId, accepted.Reason, ("position_id", positionId), ("state_from", before is null ? "NONE" : WireNames.Of(before.Lifecycle)),
                        ("state_to", WireNames.Of(state.Lifecycle)), ("ledger_event_id", eventId.ToString(CultureInfo.InvariantCulture))));
                    break;

                case SchemaVersionWritten w:
                    var written = await PositionStore.AppendSchemaAsync(tx, new SchemaLedgerRow(0, positionId, w.SchemaVersionId,
                        w.ChangeReason is null ? "CREATE_DRAFT" : "UPDATE_COMMIT", CanonicalJson.SerializeToString(w.Selectors),
                        CanonicalJson.SerializeToString(w.FieldSpecs), w.ChangeReason, null, ctx.Actor.Value, ctx.Correlation.ToString(),
                        ctx.IdempotencyKey.Value, w.At), ct);
                    schemas = PositionDecider.EvolveSchemas(schemas, w);
                    journal.Add(Transition(simulationId, accepted.Reason, ("position_id", positionId), ("schema_version_id", w.SchemaVersionId),
                        ("state_to", "DRAFT"), ("field_count", w.FieldSpecs.Count.ToString(CultureInfo.InvariantCulture)),
                        ("ledger_event_id", written.ToString(CultureInfo.InvariantCulture))));
                    result["schema"] = PositionViews.SchemaVersion(positionId, schemas.Versions[w.SchemaVersionId], "DRAFT", null);
                    break;

                case SchemaVersionActivated a:
                    var activatedId = await PositionStore.AppendSchemaAsync(tx, new SchemaLedgerRow(0, positionId, a.SchemaVersionId, "ACTIVATE_COMMIT",
                        null, null, null, WireNames.Of(a.ApplyScope), ctx.Actor.Value, ctx.Correlation.ToString(), ctx.IdempotencyKey.Value, a.At), ct);
                    schemas = PositionDecider.EvolveSchemas(schemas, a);
                    var version = schemas.Versions[a.SchemaVersionId];
                    await PositionStore.UpsertActiveSchemaAsync(tx, new ActiveSchemaRow(ctx.Tenant.Value, positionId, a.SchemaVersionId, WireNames.Of(a.ApplyScope),
                        CanonicalJson.SerializeToString(version.Selectors), CanonicalJson.SerializeToString(version.FieldSpecs), activatedId, a.At), ct);
                    journal.Add(Transition(simulationId, accepted.Reason, ("position_id", positionId), ("schema_version_id", a.SchemaVersionId),
                        ("state_to", "ACTIVE"), ("apply_scope", WireNames.Of(a.ApplyScope)), ("ledger_event_id", activatedId.ToString(CultureInfo.InvariantCulture))));
                    result["schema"] = PositionViews.SchemaVersion(positionId, version, "ACTIVE", a.ApplyScope);
                    result["apply_scope_result"] = ApplyScopes.SeedToken(a.ApplyScope);
                    result["backfill_handoff_required"] = a.ApplyScope == ApplyScope.CurrentAndNew;
                    break;
            }
        }
        result["position"] = PositionViews.Position(PositionViews.ToRow(state!));
        return new HandlerOutcome.Accepted(accepted.Reason, result, journal, accepted.Outbox);
    }

    private static bool IsPositionId(string id) => IdRules.IsShortHashId(id, "pos_");

    private static async Task<HandlerOutcome> ValidateAuthCompanyAsync(TenantTransaction tx, ValidateAuthCompanyInput i, ExecutionContext ctx, CancellationToken ct)
    {
        var row = await PositionStore.GetPositionAsync(tx, i.PositionId, ct);
        if (row is null) return Refused(ValidateAuthCompany, ReasonCodes.PositionNotFound, "no such position in this tenant", ("position_id", i.PositionId));
        var company = await PositionStore.GetCompanyAsync(tx, i.CompanyId, ct);
        var (status, reason, detail) = PositionChecks.ValidateAuthCompany(PositionViews.ToState(row), company is null ? null : ToView(company), i.CompanyId,
            i.RequestedAction);
        return Answered(ValidateAuthCompany, ReasonCodes.PositionValidated, new JsonObject
        {
            ["position_id"] = i.PositionId, ["company_id"] = i.CompanyId, ["requested_action"] = WireNames.Of(i.RequestedAction),
            ["validation_status"] = WireNames.Of(status), ["validation_reason_code"] = reason.Name, ["detail"] = detail,
        });
    }

    private static async Task<HandlerOutcome> BandPolicyAsync(TenantTransaction tx, BandPolicyInput i, ExecutionContext ctx, CancellationToken ct)
    {
        var row = await PositionStore.GetPositionAsync(tx, i.PositionId, ct);
        if (row is null) return Refused(BandPolicyCheck, ReasonCodes.PositionNotFound, "no such position in this tenant", ("position_id", i.PositionId));
        var (result, reason, detail) = PositionChecks.BandPolicy(PositionViews.ToState(row), i.CompensationBandRef);
        return Answered(BandPolicyCheck, ReasonCodes.PositionBandChecked, new JsonObject
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
            [new JournalDraft(ReasonCodes.EnginePosition, JournalEventTypes.CheckAnswered, reason, JournalPayload.Create([("simulation_id", simulationId), .. payload]))], []);
    }

    private static CompanyView ToView(CompanyRow row) => new(row.CompanyId, WireNames.Parse<CompanyLifecycle>(row.Lifecycle));

    private static HandlerOutcome.Rejected Refused(string simulationId, ReasonCode reason, string detail, params (string, string)[] payload) =>
        new(reason, detail, new JournalDraft(ReasonCodes.EnginePosition, JournalEventTypes.SimulationRefused, reason,
            JournalPayload.Create([("simulation_id", simulationId), .. payload])));

    private static JournalDraft Transition(string simulationId, ReasonCode reason, params (string, string)[] payload) =>
        new(ReasonCodes.EnginePosition, JournalEventTypes.StateTransition, reason, JournalPayload.Create([("simulation_id", simulationId), .. payload]));

}
