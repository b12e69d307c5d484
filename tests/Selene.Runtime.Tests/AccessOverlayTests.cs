using Selene.Engines.Access;
using Selene.Postgres;
using Selene.Runtime.Access;
using static Selene.Runtime.Tests.AccessProfileKit;

namespace Selene.Runtime.Tests;

/// <summary>Tenant overlays: versioned op lists with one ACTIVE version per overlay id.</summary>
public sealed class AccessOverlayTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private readonly AccessProfileKit _kit = new(f);

    private const string SelfApprove = """[{"op":"ADD_PERMISSION","capability_id":"CAPREQ_SELF_APPROVE"}]""";

    private static string Overlay() => "ov-" + Guid.NewGuid().ToString("N")[..10];

    private async Task<IReadOnlyList<ActiveOverlayOp>> ActiveOpsAsync(string tenant, string overlay)
    {
        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, tenant);
        return (await ProfileHandlers.ActiveOverlayOpsAsync(tx, default)).Where(o => o.OverlayId == overlay).ToArray();
    }

    [Fact]
    public async Task Overlay_DraftUpdateActivateSupersedeRetire_ExposesTheOpsOfTheActiveVersionOnly()
    {
        var o = Overlay();
        var drafted = await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "CREATE_DRAFT", """[{"op":"REMOVE_PERMISSION","capability_id":"CAPREQ_MANAGE"}]"""));
        Assert.Equal(AccessReasons.AccessApOverlayUpdated, drafted.Reason);
        Assert.Empty(await ActiveOpsAsync("acme", o)); // a draft is not in force

        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "UPDATE_DRAFT", SelfApprove));
        var activated = await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "ACTIVATE"));
        Assert.Equal(1, Json(activated, "overlay", "active_overlay_version_id").GetInt32());
        Assert.Equal(new ActiveOverlayOp(o, 1, "ADD_PERMISSION", "CAPREQ_SELF_APPROVE", null, null), Assert.Single(await ActiveOpsAsync("acme", o)));
        Assert.Empty(await ActiveOpsAsync("globex", o)); // tenants never meet

        await _kit.ActiveOverlayAsync(o, 2, """
            [{"op":"TIGHTEN_CONSTRAINT","constraint_ref":"weekdays-only"},{"op":"SET_ESCALATION_POLICY","escalation_policy_ref":"board.finance"}]
            """);
        var ops = await ActiveOpsAsync("acme", o);
        Assert.Equal([("TIGHTEN_CONSTRAINT", 2), ("SET_ESCALATION_POLICY", 2)], ops.Select(x => (x.Op, x.OverlayVersionId)));
        Assert.Equal(1, await _kit.CountAsync("access_ap_overlay_ledger",
            $"stream_id = '{o}' AND event_type = 'RETIRE' AND payload->>'overlay_version_id' = '1' AND payload->>'superseded_by' = '2'"));

        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 2, "RETIRE"));
        Assert.Empty(await ActiveOpsAsync("acme", o));
        Assert.Equal(1, await _kit.CountAsync("access_ap_overlay_current", $"stream_id = '{o}' AND status = 'INACTIVE'"));
        Assert.Equal(7, await _kit.CountAsync("access_ap_overlay_ledger", $"stream_id = '{o}'"));
        Assert.Equal(7, await _kit.CountAsync("journal", $"engine = 'PH1.ACCESS' AND event_type = 'STATE_TRANSITION' AND payload LIKE '%ACCESS_AP_OVERLAY_UPDATE_COMMIT%' AND payload LIKE '%{o}%'"));
    }

    public static TheoryData<string, string, ReasonCode> IllegalMoves => new()
    {
        // v1 ACTIVE, v2 RETIRED, v9 never drafted.
        { "UPDATE_DRAFT", "update the ACTIVE version", AccessReasons.AccessApTransitionInvalid },
        { "ACTIVATE", "activate the ACTIVE version again", AccessReasons.AccessApTransitionInvalid },
        { "CREATE_DRAFT", "draft an existing version", AccessReasons.AccessApTransitionInvalid },
        { "ACTIVATE-2", "activate a RETIRED version", AccessReasons.AccessApTransitionInvalid },
        { "RETIRE-2", "retire a RETIRED version", AccessReasons.AccessApTransitionInvalid },
        { "ACTIVATE-9", "activate a version never drafted", AccessReasons.AccessOverlayRefInvalid },
        { "UPDATE_DRAFT-9", "update a version never drafted", AccessReasons.AccessOverlayRefInvalid },
    };

    [Theory]
    [MemberData(nameof(IllegalMoves))]
    public async Task IllegalOverlayMoves_AreRefusedWithoutEffect(string move, string scenario, ReasonCode expected)
    {
        var o = Overlay();
        await _kit.ActiveOverlayAsync(o, 1, SelfApprove);
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 2, "CREATE_DRAFT", SelfApprove));
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 2, "RETIRE"));
        var parts = move.Split('-');
        var version = parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 1;
        var ops = parts[0] is "CREATE_DRAFT" or "UPDATE_DRAFT" ? SelfApprove : null;
        var ledger = await _kit.CountAsync("access_ap_overlay_ledger", $"stream_id = '{o}'");

        var result = await _kit.RunAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, version, parts[0], ops));

        Assert.True(result.Outcome == ExecutionOutcome.Refused, scenario);
        Assert.Equal(expected, result.Reason);
        Assert.Equal(ledger, await _kit.CountAsync("access_ap_overlay_ledger", $"stream_id = '{o}'"));
        Assert.Single(await ActiveOpsAsync("acme", o));
        Assert.Equal(1, await _kit.CountAsync("journal", $"event_type = 'SIMULATION_REFUSED' AND reason_code = '{expected.Name}' AND payload LIKE '%{o}%'"));
    }

    public static TheoryData<string, string?> BadOps => new()
    {
        { "CREATE_DRAFT", """[{"op":"GRANT_EVERYTHING","capability_id":"CAPREQ_MANAGE"}]""" },
        { "CREATE_DRAFT", """[{"op":"ADD_PERMISSION"}]""" },
        { "CREATE_DRAFT", """[{"op":"REMOVE_PERMISSION","capability_id":"CAPREQ_MANAGE","constraint_ref":"x"}]""" },
        { "CREATE_DRAFT", """[{"op":"TIGHTEN_CONSTRAINT","capability_id":"CAPREQ_MANAGE"}]""" },
        { "CREATE_DRAFT", """[{"op":"SET_ESCALATION_POLICY"}]""" },
        { "CREATE_DRAFT", """[{"op":"ADD_PERMISSION","capability_id":"*"}]""" },
        { "CREATE_DRAFT", """[{"op":"add_permission","capability_id":"CAPREQ_MANAGE"}]""" },
        { "CREATE_DRAFT", "[]" },
        { "CREATE_DRAFT", null },
        { "ACTIVATE", SelfApprove },
    };

    [Theory]
    [MemberData(nameof(BadOps))]
    public async Task InvalidOps_AreRejectedBeforeStorage(string action, string? ops)
    {
        var o = Overlay();
        var result = await _kit.RunAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, action, ops));
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(AccessReasons.AccessOverlayOpInvalid, result.Reason);
        Assert.Equal(0, await _kit.CountAsync("access_ap_overlay_ledger", $"stream_id = '{o}'"));
    }

    [Fact]
    public async Task Activate_RetriedWithTheSameKey_ActivatesOnce()
    {
        var o = Overlay();
        await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "CREATE_DRAFT", SelfApprove));
        var key = RuntimeFixture.Key("ov");
        var first = await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "ACTIVATE"), key: key);
        var retry = await _kit.OkAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "ACTIVATE"), key: key);
        Assert.Equal(ExecutionOutcome.Replayed, retry.Outcome);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(1, await _kit.CountAsync("access_ap_overlay_ledger", $"stream_id = '{o}' AND event_type = 'ACTIVATE'"));
    }

    [Fact]
    public async Task Overlays_OfTheSameId_StayApartPerTenant()
    {
        var o = Overlay();
        await _kit.ActiveOverlayAsync(o, 1, SelfApprove, tenant: "globex");
        // acme has no such overlay: its version 1 is a fresh draft, not globex's ACTIVE one.
        Assert.Equal(AccessReasons.AccessOverlayRefInvalid, (await _kit.RunAsync(ProfileHandlers.OverlayUpdate, OverlayBody(o, 1, "RETIRE"))).Reason);
        Assert.Empty(await ActiveOpsAsync("acme", o));
        Assert.Single(await ActiveOpsAsync("globex", o));
    }
}
