using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Gov;
using Selene.Kernel.Os;
using Selene.Runtime;
using Selene.Runtime.Gov;
using Selene.Runtime.Platform;

namespace Selene.Cli;

/// <summary>
/// <c>selene gov</c>: the operators' incident controls (docs/orchestration.md). Every change is a PH1.GOV simulation
/// run through the turn gate as the named user of the named tenant (who needs GOV_CONTROL at mode X), so it is
/// access-checked, journaled and reason-coded like any other; <c>status</c> prints what the read route
/// <c>GET /v1/gov</c> answers.
/// </summary>
internal static class GovCommand
{
    public static Command Create(Option<string?> dataDirOption)
    {
        var gov = new Command("gov", "Governance: safe mode, the kill switch and daily budgets, per tenant or (--global) for the platform");
        gov.Subcommands.Add(SwitchCommand("safe-mode", GovSwitch.SafeMode, "Safe mode: only reads and DRAFT simulations run", dataDirOption));
        gov.Subcommands.Add(SwitchCommand("kill-switch", GovSwitch.KillSwitch, "The kill switch: nothing is dispatched", dataDirOption));

        var (tenant, user, note) = Actor();
        var tenantDaily = new Option<long?>("--tenant-daily") { Description = "Executions per UTC day for the whole tenant (absent: the default)" };
        var userDaily = new Option<long?>("--user-daily") { Description = "Executions per UTC day for each user (absent: the default)" };
        var quota = new Command("quota", "Set the tenant's daily execution budgets") { tenant, user, note, tenantDaily, userDaily };
        quota.SetAction((parse, ct) => RunAsync(parse, dataDirOption, tenant, user, GovSimulations.QuotaSet, new JsonObject
        {
            ["note"] = parse.GetValue(note),
            ["tenant_daily_executions"] = parse.GetValue(tenantDaily),
            ["user_daily_executions"] = parse.GetValue(userDaily),
        }, ct));
        gov.Subcommands.Add(quota);

        var statusTenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the JSON body of GET /v1/gov" };
        var status = new Command("status", "Show the tenant's and the platform's switches, the budgets in force and today's executions") { statusTenant, json };
        status.SetAction(async (parse, ct) =>
        {
            var id = parse.GetValue(statusTenant)!;
            if (!TenantId.IsValid(id)) return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            var route = GovModule.Module.Routes.Single();
            var read = await route.Query(new ReadRequest(db, new TenantId(id), new Dictionary<string, string>(), new Dictionary<string, string>(),
                UnixNanos.FromDateTimeOffset(TimeProvider.System.GetUtcNow())), ct);
            if (read is ReadResult.Refused refused) return Cli.Fail(refused.Reason, refused.Detail);
            var body = ((ReadResult.Ok)read).Body;
            if (parse.GetValue(json))
            {
                Console.WriteLine(body.ToJsonString());
                return 0;
            }
            var effective = body["effective"]!;
            Console.WriteLine($"tenant {id}: safe mode {OnOff(effective["safe_mode"])}, kill switch {OnOff(effective["kill_switch"])}" +
                $" (tenant {Status(body["tenant"])}, platform {Status(body["global"])})");
            Console.WriteLine($"budgets per UTC day: tenant {effective["tenant_daily_executions"]}, each user {effective["user_daily_executions"]};" +
                $" {body["usage"]!["tenant_executions"]} execution(s) on {body["usage"]!["day"]}");
            foreach (var d in body["definitions"]!.AsArray())
                Console.WriteLine($"definition {d!["artifact_kind"]} {d["artifact_id"]}: {d["status"]} ({d["scope"]}, by {d["last_actor_user_id"]}: {d["last_note"]})");
            return 0;
        });
        gov.Subcommands.Add(status);
        return gov;
    }

    private static Command SwitchCommand(string name, GovSwitch which, string description, Option<string?> dataDirOption)
    {
        var (tenant, user, note) = Actor();
        var state = new Argument<string>("state") { Description = "on | off" };
        state.AcceptOnlyFromAmong("on", "off");
        var global = new Option<bool>("--global") { Description = "The platform's switch (the tenant must be a platform operator)" };
        var command = new Command(name, description) { state, tenant, user, note, global };
        command.SetAction((parse, ct) => RunAsync(parse, dataDirOption, tenant, user, GovSimulations.SwitchSet, new JsonObject
        {
            ["switch"] = WireNames.Of(which),
            ["enabled"] = parse.GetValue(state) == "on",
            ["scope"] = WireNames.Of(parse.GetValue(global) ? GovScope.Global : GovScope.Tenant),
            ["note"] = parse.GetValue(note),
        }, ct));
        return command;
    }

    /// <summary>The options naming who runs a control-plane simulation from the CLI, and why.</summary>
    internal static (Option<string> Tenant, Option<string> User, Option<string> Note) Actor() => (
        new Option<string>("--tenant") { Description = "The operator's tenant", Required = true },
        new Option<string>("--user") { Description = "The operator: a user of that tenant with GOV_CONTROL at mode X", Required = true },
        new Option<string>("--note") { Description = "Why (journaled with the change)", Required = true });

    /// <summary>Runs a control-plane simulation through the turn gate as the named user of the named tenant (access-checked, journaled).</summary>
    internal static async Task<int> RunAsync(ParseResult parse, Option<string?> dataDirOption, Option<string> tenantOption, Option<string> userOption,
        string simulationId, JsonObject body, CancellationToken ct)
    {
        var tenant = parse.GetValue(tenantOption)!;
        var user = parse.GetValue(userOption)!;
        if (!TenantId.IsValid(tenant) || !UserId.IsValid(user))
            return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant and user ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
        foreach (var (key, value) in body.ToArray())
            if (value is null) body.Remove(key);
        await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
        var executor = new SimulationExecutor(new TurnExecutor(db, SimulationRegistry.Default, SeleneCatalog.Default, TimeProvider.System, OsConfig.Mvp));
        var correlation = CorrelationId.FromDigest(RandomNumberGenerator.GetBytes(32));
        using var document = JsonDocument.Parse(body.ToJsonString());
        var result = await executor.ExecuteAsync(new ExecutionRequest(new TenantId(tenant), new UserId(user), simulationId,
            "cli-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), document.RootElement, correlation, new TurnId(1)), ct);
        if (!result.Succeeded) return Cli.Fail(result.Reason, $"{result.Detail ?? result.Reason.Name} (correlation {correlation})");
        Console.WriteLine($"{result.Reason.Name} {simulationId} as {user} of {tenant} (correlation {correlation})");
        return 0;
    }

    private static string OnOff(JsonNode? value) => value?.GetValue<bool>() == true ? "ON" : "off";

    private static string Status(JsonNode? control) => control?["status"]?.GetValue<string>() ?? "NORMAL";
}
