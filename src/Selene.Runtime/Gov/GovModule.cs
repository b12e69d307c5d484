using System.Text.Json.Nodes;
using Selene.Engines.Gov;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Gov;

/// <summary>GOV_SWITCH_SET_COMMIT body.</summary>
internal sealed record SwitchSetInput(GovSwitch Switch, bool Enabled, string Note, GovScope Scope = GovScope.Tenant);
/// <summary>GOV_QUOTA_SET_COMMIT body (an absent budget is the default).</summary>
internal sealed record QuotaSetInput(string Note, long? TenantDailyExecutions = null, long? UserDailyExecutions = null);
/// <summary>GOV_APPROVAL_POLICY_SET_COMMIT body.</summary>
internal sealed record ApprovalPolicyInput(string CapabilityId, bool Required, string Note, GovScope Scope = GovScope.Tenant);
/// <summary>GOV_DEFINITION_SET_COMMIT body.</summary>
internal sealed record DefinitionSetInput(GovArtifactKind ArtifactKind, string ArtifactId, GovDefinitionAction Action, string Note, GovScope Scope = GovScope.Tenant);

/// <summary>
/// PH1.GOV on the engine platform: two aggregates with GLOBAL rows (<c>gov_control</c>: switches, budgets and the
/// approval policy; <c>gov_definition</c>: definition governance), four control-plane simulations, one read route. What it stores
/// is read by the turn gate (<see cref="GovernanceReads"/>); it executes nothing itself.
/// </summary>
public static class GovModule
{
    /// <summary>Switches and budgets: stream <c>TENANT</c> of each tenant, stream <c>GLOBAL</c> of the platform.</summary>
    public static Aggregate<GovControlState, GovControlEvent, GovControlEvent> Controls { get; } = new(
        GovReasons.EngineId, storeName: "gov_control", streamField: "gov_scope", viewName: "control",
        streamOf: e => GovDecider.ControlStream(e.Scope),
        eventTypeOf: e => e switch { GovSwitchSet => "SWITCH_SET", GovApprovalPolicySet => "APPROVAL_POLICY_SET", _ => "QUOTA_SET" },
        evolve: GovDecider.EvolveControl,
        statusOf: s => WireNames.Of(GovDecider.StatusOf(s)),
        view: ControlView,
        journalFields: e => e switch
        {
            GovSwitchSet s => [("switch", WireNames.Of(s.Switch)), ("enabled", s.Enabled ? "true" : "false")],
            GovQuotaSet q => [("tenant_daily_executions", Budget(q.TenantDailyExecutions)), ("user_daily_executions", Budget(q.UserDailyExecutions))],
            GovApprovalPolicySet a => [("capability_id", a.CapabilityId), ("required", a.Required ? "true" : "false")],
            _ => [],
        },
        eventRecords: new Dictionary<string, Type>
        {
            ["SWITCH_SET"] = typeof(GovSwitchSet), ["QUOTA_SET"] = typeof(GovQuotaSet), ["APPROVAL_POLICY_SET"] = typeof(GovApprovalPolicySet),
        },
        isGlobalStream: GovDecider.IsGlobalStream);

    /// <summary>Definition governance: one stream per simulation or blueprint, GLOBAL-prefixed for the platform's.</summary>
    public static Aggregate<GovDefinitionState, GovDefinitionSet, GovDefinitionSet> Definitions { get; } = new(
        GovReasons.EngineId, storeName: "gov_definition", streamField: "definition", viewName: "definition",
        streamOf: e => GovDecider.DefinitionStream(e.Scope, e.Kind, e.ArtifactId),
        eventTypeOf: e => WireNames.Of(e.Action),
        evolve: GovDecider.EvolveDefinition,
        statusOf: s => WireNames.Of(s.Status),
        view: DefinitionView,
        journalFields: e => [("action", WireNames.Of(e.Action)), ("status_from", WireNames.Of(e.Previous)), ("status_to", WireNames.Of(e.Status))],
        isGlobalStream: GovDecider.IsGlobalStream);

    public static EngineModule Module { get; } = new(
        "gov", GovReasons.EngineId,
        [
            Control<SwitchSetInput>(GovSimulations.SwitchSet, i => new SetSwitch(i.Scope, i.Switch, i.Enabled, i.Note)),
            Control<QuotaSetInput>(GovSimulations.QuotaSet, i => new SetQuota(i.TenantDailyExecutions, i.UserDailyExecutions, i.Note)),
            Control<ApprovalPolicyInput>(GovSimulations.ApprovalPolicySet, i => new SetApprovalPolicy(i.Scope, i.CapabilityId, i.Required, i.Note)),
            new EngineSimulation<DefinitionSetInput, SetDefinition, GovDefinitionState, GovDefinitionSet, GovContextFacts>(
                Record(GovSimulations.DefinitionSet), Definitions,
                toCommand: i => new SetDefinition(i.Scope, i.ArtifactKind, i.ArtifactId, i.Action, i.Note),
                validate: GovDecider.Validate,
                targetOf: (c, _) => GovDecider.DefinitionStream(c.Scope, c.Kind, c.ArtifactId),
                decide: (state, command, facts, ctx) => GovDecider.DecideDefinition(state, command, Context(ctx, facts, command)),
                readFacts: ReadFactsAsync,
                capabilityScope: GovDecider.CapabilityScope),
        ],
        [Controls, Definitions],
        GovReasons.All,
        [new ReadRoute("GetGovernance", "/gov", "The tenant's and the platform's incident switches and daily budgets, today's executions, and the definitions governance changed.",
            NotFound: false, GetAsync)]);

    private static SimulationRecord Record(string id) => GovSimulations.All.Single(r => r.SimulationId == id);

    private static EngineSimulation<TInput, GovCommand, GovControlState, GovControlEvent, GovContextFacts> Control<TInput>(string id, Func<TInput, GovCommand> toCommand)
        where TInput : class => new(
        Record(id), Controls, toCommand,
        validate: GovDecider.Validate,
        targetOf: (c, _) => GovDecider.ControlStream(c.Scope),
        decide: (state, command, facts, ctx) => GovDecider.DecideControl(state, command, Context(ctx, facts, command)),
        readFacts: ReadFactsAsync);

    /// <summary>What a PH1.GOV decision needs beyond the stream: is the tenant a platform operator (only asked for GLOBAL).</summary>
    internal sealed record GovContextFacts(bool PlatformOperator);

    private static async Task<GovContextFacts> ReadFactsAsync<TState>(TenantTransaction tx, GovCommand command, TState? state, ExecutionContext context, CancellationToken ct)
        where TState : class =>
        new(command.Scope == GovScope.Global && await EngineStore.SessionIsPlatformOperatorAsync(tx, ct));

    private static GovContext Context(ExecutionContext ctx, GovContextFacts facts, GovCommand command)
    {
        var (known, protectedDefinition) = command is SetDefinition d ? Definition(d.Kind, d.ArtifactId) : (false, false);
        return new GovContext(ctx.Tenant.Value, ctx.Actor.Value, ctx.Now, facts.PlatformOperator, known, protectedDefinition,
            command is SetApprovalPolicy a && PolicyGoverned(a.CapabilityId));
    }

    /// <summary>Whether some simulation of the process's catalog requires <paramref name="capabilityId"/> by the tenant's policy.</summary>
    private static bool PolicyGoverned(string capabilityId) =>
        SeleneCatalog.Default.Simulations.Any(r => r.CapabilityByTenantPolicy && r.RequiredCapability == capabilityId);

    /// <summary>Whether the process's catalog has the definition, and whether it is governance's own.</summary>
    private static (bool Known, bool Protected) Definition(GovArtifactKind kind, string artifactId)
    {
        var catalog = SeleneCatalog.Default;
        if (kind == GovArtifactKind.Simulation)
            return catalog.Posture(artifactId).Record is { } record ? (true, record.OwningEngine == GovReasons.EngineId) : (false, false);
        return catalog.Blueprints.Any(b => b.ProcessId == artifactId) ? (true, artifactId == GovSimulations.RequestedAction) : (false, false);
    }

    private static string Budget(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "DEFAULT";

    /// <summary>The public JSON view of one control stream.</summary>
    public static JsonObject ControlView(GovControlState s) => new()
    {
        ["scope"] = WireNames.Of(s.Scope),
        ["status"] = WireNames.Of(GovDecider.StatusOf(s)),
        ["safe_mode"] = s.SafeMode,
        ["kill_switch"] = s.KillSwitch,
        ["tenant_daily_executions"] = s.TenantDailyExecutions,
        ["user_daily_executions"] = s.UserDailyExecutions,
        ["approval_required"] = new JsonArray((s.ApprovalRequired ?? []).Select(c => (JsonNode)c).ToArray()),
        ["last_actor_user_id"] = s.LastActorUserId,
        ["last_note"] = s.LastNote,
        ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
    };

    /// <summary>The public JSON view of one definition's governance.</summary>
    public static JsonObject DefinitionView(GovDefinitionState s) => new()
    {
        ["scope"] = WireNames.Of(s.Scope),
        ["artifact_kind"] = WireNames.Of(s.Kind),
        ["artifact_id"] = s.ArtifactId,
        ["status"] = WireNames.Of(s.Status),
        ["version"] = s.Version,
        ["rollback_depth"] = s.History.Count,
        ["last_actor_user_id"] = s.LastActorUserId,
        ["last_note"] = s.LastNote,
        ["updated_at"] = new UnixNanos(s.UpdatedAt).ToString(),
    };

    private static async Task<ReadResult> GetAsync(ReadRequest request, CancellationToken ct)
    {
        await using var tx = await TenantTransaction.BeginAsync(request.Db.App, request.Tenant.Value, ct);
        var tenant = await Controls.GetAsync(tx, GovDecider.TenantStream, ct);
        var global = await Controls.GetAsync(tx, GovDecider.GlobalStream, ct);
        var day = GovernanceReads.DayOf(request.Now);
        var (tenantUsed, _) = await GovernanceQueries.UsageAsync(tx, null, day, ct);
        var definitions = (await Definitions.ListAsync(tx, null, null, 500, ct)).Concat(await Definitions.ListGlobalAsync(tx, null, null, 500, ct));
        var limits = GovernanceReads.Limits(tenant);
        return new ReadResult.Ok(new JsonObject
        {
            ["tenant"] = tenant is null ? null : ControlView(tenant),
            ["global"] = global is null ? null : ControlView(global),
            ["effective"] = new JsonObject
            {
                ["safe_mode"] = (tenant?.SafeMode ?? false) || (global?.SafeMode ?? false),
                ["kill_switch"] = (tenant?.KillSwitch ?? false) || (global?.KillSwitch ?? false),
                ["tenant_daily_executions"] = limits.Tenant,
                ["user_daily_executions"] = limits.User,
            },
            ["usage"] = new JsonObject { ["day"] = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), ["tenant_executions"] = tenantUsed },
            ["definitions"] = new JsonArray(definitions.Select(d => (JsonNode)DefinitionView(d.State)).ToArray()),
        });
    }
}
