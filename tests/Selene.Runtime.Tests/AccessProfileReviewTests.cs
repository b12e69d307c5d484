using System.Text.Json;
using Selene.Engines.Access;
using Selene.Postgres;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;
using Selene.Runtime.Platform;
using static Selene.Runtime.Tests.AccessProfileKit;

namespace Selene.Runtime.Tests;

/// <summary>The authoring review of an AP schema version, and how it gates activation (reference §7.4).</summary>
public sealed class AccessProfileReviewTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    private readonly AccessProfileKit _kit = new(f);

    private static string Profile() => "rv-" + Guid.NewGuid().ToString("N")[..10];

    private static string Channel(string p, string channel = "PHONE_DESKTOP", string scope = "TENANT", int v = 1) =>
        VersionBody(p, v, scope, $"\"review_channel\":\"{channel}\"");

    private static string Rule(string p, string action = "AGREE", string refs = "\"suggested_rule_ref\":\"rule.capreq.manage\"", string scope = "TENANT", int v = 1) =>
        VersionBody(p, v, scope, $"\"rule_action\":\"{action}\",{refs}");

    private static string Confirm(string p, string state = "CONFIRMED_FOR_ACTIVATION", string scope = "TENANT", int v = 1) =>
        VersionBody(p, v, scope, $"\"authoring_confirmation_state\":\"{state}\"");

    private async Task DraftAsync(string p, string scope = "TENANT") =>
        await _kit.OkAsync(ProfileHandlers.SchemaCreateDraft, SchemaBody(p, 1, scope, Payload()));

    [Fact]
    public async Task Review_ChannelRuleActionsConfirm_ThenActivation_RecordsTheReviewLineage()
    {
        var p = Profile();
        await DraftAsync(p);
        var channel = await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, Channel(p));
        Assert.Equal(AccessReasons.AccessApReviewChannelChosen, channel.Reason);
        Assert.Equal("REVIEW_IN_PROGRESS", Json(channel, "authoring_review", "confirmation_state").GetString());

        // While the review is open the version cannot be activated.
        var early = await _kit.RunAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1));
        Assert.Equal(AccessReasons.AccessApActivationConflict, early.Reason);

        await _kit.OkAsync(ProfileHandlers.RuleActionCommit, Rule(p));
        await _kit.OkAsync(ProfileHandlers.RuleActionCommit, Rule(p, "ADD_CUSTOM_RULE", "\"capability_id\":\"CAPREQ_SELF_APPROVE\""));
        var edit = await _kit.OkAsync(ProfileHandlers.RuleActionCommit, Rule(p, "EDIT",
            "\"suggested_rule_ref\":\"rule.position\",\"capability_id\":\"POSITION_MANAGE\",\"constraint_ref\":\"weekdays-only\""));
        Assert.Equal(AccessReasons.AccessApRuleActionRecorded, edit.Reason);
        Assert.Equal(3, Json(edit, "authoring_review", "rule_action_count").GetInt32());

        await _kit.OkAsync(ProfileHandlers.ConfirmCommit, Confirm(p, "PENDING_ACTIVATION_CONFIRMATION"));
        var pending = await _kit.RunAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1));
        Assert.Equal(AccessReasons.AccessApActivationConflict, pending.Reason);

        var confirmed = await _kit.OkAsync(ProfileHandlers.ConfirmCommit, Confirm(p));
        Assert.Equal(AccessReasons.AccessApReviewConfirmed, confirmed.Reason);
        Assert.Equal("CONFIRMED_FOR_ACTIVATION", Json(confirmed, "authoring_review", "confirmation_state").GetString());

        var activated = await _kit.OkAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1));
        Assert.Equal(AccessReasons.AccessApSchemaActivated, activated.Reason);

        await using var tx = await TenantTransaction.BeginAsync(f.Db.App, "acme");
        var ruleIds = (await ProfileHandlers.RuleActions.GetAsync(tx, $"TENANT:{p}:1", default))!.RuleActionIds;
        var review = await ProfileHandlers.Reviews.GetAsync(tx, $"TENANT:{p}:1", default);
        var activation = Assert.Single(await ProfileHandlers.Schemas.Store.LedgerAsync(tx, default), r => r.StreamId == $"TENANT:{p}" && r.EventType == "ACTIVATE");
        var lineage = JsonSerializer.Deserialize<ApVersionActivated>(activation.Payload, EngineJson.Options)!.Lineage!;
        Assert.Equal(3, ruleIds.Count);
        Assert.Equal(review!.LatestReviewEventId, lineage.ReviewEventId);
        Assert.Equal(3, lineage.RuleActionCount);
        Assert.Equal(ProfileDecider.RuleActionSetRef(ruleIds), lineage.RuleActionSetRef);
        Assert.Equal(((ReviewChannel?)ReviewChannel.PhoneDesktop, ConfirmationState.ConfirmedForActivation), (review.Channel, review.State));
        Assert.Equal(3, await _kit.CountAsync("access_ap_authoring_review_ledger", $"stream_id LIKE '%:{p}:%'"));
    }

    [Fact]
    public async Task Activation_WithoutAnyReview_NeedsNoReview_AndRecordsNoLineage()
    {
        var p = Profile();
        await _kit.ActiveProfileAsync(p, 1);
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_ledger",
            $"stream_id = 'TENANT:{p}' AND event_type = 'ACTIVATE' AND payload->'lineage' = 'null'::jsonb"));
    }

    [Fact]
    public async Task RuleAction_BeforeAChannelIsChosen_IsRefused()
    {
        var p = Profile();
        await DraftAsync(p);
        var result = await _kit.RunAsync(ProfileHandlers.RuleActionCommit, Rule(p));
        Assert.Equal(ExecutionOutcome.Refused, result.Outcome);
        Assert.Equal(AccessReasons.AccessApTransitionInvalid, result.Reason);
        Assert.Equal(0, await _kit.CountAsync("access_ap_rule_review_actions_ledger", $"stream_id LIKE '%:{p}:%'"));
    }

    [Fact]
    public async Task Confirm_WithoutRuleActions_IsRefused_ButDeclineIsNot()
    {
        var p = Profile();
        await DraftAsync(p);
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, Channel(p, "READ_OUT_LOUD"));
        foreach (var state in new[] { "CONFIRMED_FOR_ACTIVATION", "PENDING_ACTIVATION_CONFIRMATION" })
        {
            var refused = await _kit.RunAsync(ProfileHandlers.ConfirmCommit, Confirm(p, state));
            Assert.Equal(AccessReasons.AccessApTransitionInvalid, refused.Reason);
        }
        Assert.Equal(1, await _kit.CountAsync("access_ap_authoring_review_ledger", $"stream_id LIKE '%:{p}:%'"));

        var declined = await _kit.OkAsync(ProfileHandlers.ConfirmCommit, Confirm(p, "DECLINED"));
        Assert.Equal("DECLINED", Json(declined, "authoring_review", "confirmation_state").GetString());
        Assert.Equal("READ_OUT_LOUD", Json(declined, "authoring_review", "review_channel").GetString());
    }

    [Fact]
    public async Task DeclinedReview_RefusesRuleActionsConfirmationAndActivation_ForGood()
    {
        var p = Profile();
        await DraftAsync(p);
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, Channel(p));
        await _kit.OkAsync(ProfileHandlers.RuleActionCommit, Rule(p, "DISAGREE"));
        await _kit.OkAsync(ProfileHandlers.ConfirmCommit, Confirm(p, "DECLINED"));

        var before = (await _kit.CountAsync("access_ap_rule_review_actions_ledger", $"stream_id LIKE '%:{p}:%'"),
            await _kit.CountAsync("access_ap_authoring_review_ledger", $"stream_id LIKE '%:{p}:%'"));
        Assert.Equal(AccessReasons.AccessApTransitionInvalid, (await _kit.RunAsync(ProfileHandlers.RuleActionCommit, Rule(p))).Reason);
        Assert.Equal(AccessReasons.AccessApTransitionInvalid, (await _kit.RunAsync(ProfileHandlers.ConfirmCommit, Confirm(p))).Reason);
        Assert.Equal(AccessReasons.AccessApTransitionInvalid, (await _kit.RunAsync(ProfileHandlers.ReviewChannelCommit, Channel(p))).Reason);
        Assert.Equal(AccessReasons.AccessApTransitionInvalid, (await _kit.RunAsync(ProfileHandlers.SchemaUpdate, SchemaBody(p, 1, payload: Payload()))).Reason);
        Assert.Equal(AccessReasons.AccessApActivationConflict, (await _kit.RunAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1))).Reason);
        Assert.Equal(before, (await _kit.CountAsync("access_ap_rule_review_actions_ledger", $"stream_id LIKE '%:{p}:%'"),
            await _kit.CountAsync("access_ap_authoring_review_ledger", $"stream_id LIKE '%:{p}:%'")));
        Assert.Equal(0, await _kit.CountAsync("access_ap_schema_current", $"stream_id = 'TENANT:{p}' AND status = 'ACTIVE'"));
    }

    [Fact]
    public async Task Review_OfAVersionNeverDrafted_OrNotDraft_IsRefused()
    {
        var p = Profile();
        Assert.Equal(AccessReasons.AccessSchemaRefMissing, (await _kit.RunAsync(ProfileHandlers.ReviewChannelCommit, Channel(p))).Reason);
        await _kit.ActiveProfileAsync(p, 1);
        Assert.Equal(AccessReasons.AccessApTransitionInvalid, (await _kit.RunAsync(ProfileHandlers.ReviewChannelCommit, Channel(p))).Reason);
        Assert.Equal(0, await _kit.CountAsync("access_ap_authoring_review_current", $"stream_id LIKE '%:{p}:%'"));
    }

    public static TheoryData<string, string> BadShapes => new()
    {
        { "ADD_CUSTOM_RULE", "\"capability_id\":\"CAPREQ_MANAGE\",\"suggested_rule_ref\":\"rule.x\"" },
        { "ADD_CUSTOM_RULE", "\"suggested_rule_ref\":\"rule.x\"" },
        { "AGREE", "\"capability_id\":\"CAPREQ_MANAGE\"" },
        { "DELETE", "\"suggested_rule_ref\":\"rule.x\",\"capability_id\":\"CAPREQ_MANAGE\"" },
        { "EDIT", "\"suggested_rule_ref\":\"rule.x\"" },
        { "EDIT", "\"capability_id\":\"CAPREQ_MANAGE\"" },
        { "DISABLE", "\"suggested_rule_ref\":\"let everyone approve everything\"" },
        { "ADD_CUSTOM_RULE", "\"capability_id\":\"approve all the things\"" },
    };

    [Theory]
    [MemberData(nameof(BadShapes))]
    public async Task RuleAction_WithTheWrongPayloadShape_IsRejectedBeforeStorage(string action, string refs)
    {
        var p = Profile();
        await DraftAsync(p);
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, Channel(p));
        var result = await _kit.RunAsync(ProfileHandlers.RuleActionCommit, Rule(p, action, refs));
        Assert.Equal(ExecutionOutcome.Invalid, result.Outcome);
        Assert.Equal(AccessReasons.AccessContractValidationFailed, result.Reason);
        Assert.Equal(0, await _kit.CountAsync("access_ap_rule_review_actions_ledger", $"stream_id LIKE '%:{p}:%'"));
    }

    [Fact]
    public async Task RuleAction_RetriedWithTheSameKey_IsRecordedOnce()
    {
        var p = Profile();
        await DraftAsync(p);
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, Channel(p));
        var key = RuntimeFixture.Key("rule");
        var first = await _kit.OkAsync(ProfileHandlers.RuleActionCommit, Rule(p), key: key);
        var retry = await _kit.OkAsync(ProfileHandlers.RuleActionCommit, Rule(p), key: key);
        Assert.Equal(ExecutionOutcome.Replayed, retry.Outcome);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(1, await _kit.CountAsync("access_ap_rule_review_actions_ledger", $"stream_id LIKE '%:{p}:%'"));
    }

    [Fact]
    public async Task GlobalReview_IsWrittenByTheOperator_AndGatesTheGlobalActivation()
    {
        await _kit.MakeAcmeOperatorAsync();
        var p = Profile();
        await DraftAsync(p, "GLOBAL");
        Assert.Equal(AccessReasons.AccessApScopeViolation, (await _kit.RunAsync(ProfileHandlers.ReviewChannelCommit, Channel(p, scope: "GLOBAL"), "globex")).Reason);
        await _kit.OkAsync(ProfileHandlers.ReviewChannelCommit, Channel(p, scope: "GLOBAL"));
        await _kit.OkAsync(ProfileHandlers.RuleActionCommit, Rule(p, scope: "GLOBAL"));
        Assert.Equal(AccessReasons.AccessApActivationConflict, (await _kit.RunAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1, "GLOBAL"))).Reason);
        await _kit.OkAsync(ProfileHandlers.ConfirmCommit, Confirm(p, scope: "GLOBAL"));
        await _kit.OkAsync(ProfileHandlers.SchemaActivate, SchemaBody(p, 1, "GLOBAL"));
        // globex sees the review and the activation lineage of the shared profile.
        Assert.Equal(1, await _kit.CountAsync("access_ap_authoring_review_current",
            $"stream_id = 'GLOBAL:{p}:1' AND tenant_id = '{EngineStore.GlobalTenantKey}' AND status = 'CONFIRMED_FOR_ACTIVATION'", tenant: "globex"));
        Assert.Equal(1, await _kit.CountAsync("access_ap_schema_ledger",
            $"stream_id = 'GLOBAL:{p}' AND tenant_id = '{EngineStore.GlobalTenantKey}' AND event_type = 'ACTIVATE' AND payload #>> '{{lineage,rule_action_count}}' = '1'", tenant: "globex"));
    }
}
