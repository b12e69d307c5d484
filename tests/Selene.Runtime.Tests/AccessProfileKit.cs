using System.Text.Json;
using Selene.Runtime.Access;
using static Selene.Runtime.Tests.RuntimeFixture;

namespace Selene.Runtime.Tests;

/// <summary>
/// Shared steps of the access-profile, overlay and compile tests. Acting users are alice (acme) and carol (globex)
/// only; acme is made a platform operator, globex is not.
/// </summary>
internal sealed class AccessProfileKit(RuntimeFixture f)
{
    public RuntimeFixture F => f;

    public Task MakeAcmeOperatorAsync() => f.OwnerExecAsync("acme", "UPDATE selene.tenants SET platform_operator = true WHERE tenant_id = 'acme'");

    public static string Actor(string tenant) => tenant == "globex" ? "carol" : "alice";

    public static string Payload(string allow = "\"CAPREQ_MANAGE\",\"POSITION_MANAGE\"", string mode = "W", bool financial = false, string name = "Warehouse lead") =>
        $$"""{"profile_name":"{{name}}","capability_allow_list":[{{allow}}],"access_mode":"{{mode}}","financial_auth":{{(financial ? "true" : "false")}}}""";

    public static string SchemaBody(string profile, int version, string scope = "TENANT", string? payload = null) => payload is null
        ? $$"""{"access_profile_id":"{{profile}}","schema_version_id":{{version}},"scope":"{{scope}}","reason":"quarterly review"}"""
        : $$"""{"access_profile_id":"{{profile}}","schema_version_id":{{version}},"scope":"{{scope}}","profile_payload":{{payload}},"reason":"quarterly review"}""";

    public static string VersionBody(string profile, int version, string scope, string extra) =>
        $$"""{"access_profile_id":"{{profile}}","schema_version_id":{{version}},"scope":"{{scope}}","reason":"review step",{{extra}}}""";

    public Task<ExecutionResult> RunAsync(string simulation, string body, string tenant = "acme", string? key = null) =>
        f.RunAsync(Actor(tenant), simulation, key ?? Key("ap"), body, tenant: tenant);

    public async Task<ExecutionResult> OkAsync(string simulation, string body, string tenant = "acme", string? key = null)
    {
        var result = await RunAsync(simulation, body, tenant, key);
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return result;
    }

    /// <summary>Drafts and activates one version of a profile.</summary>
    public async Task ActiveProfileAsync(string profile, int version, string scope = "TENANT", string? payload = null, string tenant = "acme")
    {
        await OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(profile, version, scope, payload ?? Payload()), tenant);
        await OkAsync(ProfileHandlers.SchemaActivate, SchemaBody(profile, version, scope), tenant);
    }

    public static string OverlayBody(string overlay, int version, string action, string? ops = null) => ops is null
        ? $$"""{"overlay_id":"{{overlay}}","overlay_version_id":{{version}},"event_action":"{{action}}","reason":"tenant policy"}"""
        : $$"""{"overlay_id":"{{overlay}}","overlay_version_id":{{version}},"event_action":"{{action}}","overlay_ops":{{ops}},"reason":"tenant policy"}""";

    public async Task ActiveOverlayAsync(string overlay, int version, string ops, string tenant = "acme")
    {
        await OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(overlay, version, "CREATE_DRAFT", ops), tenant);
        await OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(overlay, version, "ACTIVATE"), tenant);
    }

    public static JsonElement Json(ExecutionResult r, params string[] path)
    {
        using var doc = JsonDocument.Parse(r.Body!);
        var e = doc.RootElement;
        foreach (var p in path) e = e.GetProperty(p);
        return e.Clone();
    }

    /// <summary>Counts rows of a table the tenant sees (GLOBAL rows included where the table holds them).</summary>
    public Task<long> CountAsync(string table, string where = "true", string tenant = "acme") => f.CountAsync(tenant, table, where);
}
