using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The learning loop end to end (issue 16 "Done when"), against a real `selene serve` and the real `selene learn` commands:
/// a user's repeated attempts that the access gate escalates become a policy prior; in GUIDED mode that user's next turn
/// for that action carries it as a suggestion and the journal records the consultation; in SHADOW mode the answer is
/// byte for byte the one given before anything was learned.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class LearningEndToEndTests(SeleneServerFixture f)
{
    private async Task<JsonNode> LearnAsync(params string[] args)
    {
        var result = await f.SeleneAsync(["learn", .. args]);
        Assert.True(result.ExitCode == 0, $"selene learn {string.Join(' ', args)}: {result}");
        return JsonNode.Parse(result.StandardOutput)!;
    }

    [Fact]
    public async Task RepeatedEscalations_BecomeAPolicyPrior_GuidedTurnCarriesIt_ShadowTurnIsUnchanged()
    {
        var (tenant, admin) = await f.OwnTenantAsync("learn");
        await f.GiveInstanceAsync(admin, "erin", "clerk", "W", "CAPREQ_MANAGE");
        var erin = await f.CreateKeyAsync(tenant, "erin");
        var id = (await f.RunAsync(admin, Create, NewDraft(), "CAPREQ_OK_CREATE_DRAFT")).Capreq["capreq_id"]!.GetValue<string>();
        await f.RunAsync(admin, Submit, On(id), "CAPREQ_OK_SUBMIT_FOR_APPROVAL");

        // erin's turn asking to approve it, before anything was learned: the access gate escalates it.
        var turn = SeleneApi.TextTurn(Approve, On(id), "erin-turn-1").ToJsonString();
        var before = await f.Api.PostTurnAsync(erin, turn);
        Assert.Equal("OS_FAIL_ACCESS_GATE", before.ReasonCode);
        Assert.Equal("ACCESS_AP_REQUIRED", before.Json["cause_reason_code"]!.GetValue<string>());
        Assert.Null(before.Json["suggestions"]);
        // Two more attempts, as direct calls.
        for (var i = 2; i <= 3; i++)
            AssertProblem(await f.Api.SimulateAsync(erin, Approve, On(id), $"erin-direct-{i}"), HttpStatusCode.Forbidden, "ACCESS_AP_REQUIRED");

        var ingested = await LearnAsync("ingest", "--tenant", tenant, "--json");
        Assert.Equal("LEARN_OK_INGESTED", ingested["reason_code"]!.GetValue<string>());
        Assert.True(ingested["facts_stored"]!.GetValue<int>() >= 6, ingested.ToJsonString());
        Assert.Equal(0, (await LearnAsync("ingest", "--tenant", tenant, "--json"))["facts_stored"]!.GetValue<int>());
        var bound = await LearnAsync("bind", "--tenant", tenant, "--json");
        Assert.True(bound["minted"]!.GetValue<int>() >= 1, bound.ToJsonString());

        var priors = (await LearnAsync("priors", "--tenant", tenant, "--kind", "policy", "--user", "erin", "--action", Approve,
            "--policy-reason-code", "ACCESS_AP_REQUIRED", "--json"))["priors"]!.AsArray();
        var prior = Assert.Single(priors)!;
        Assert.Equal(("POLICY", 3L, "PRESCRIBE"), (prior["kind"]!.GetValue<string>(), prior["support_count"]!.GetValue<long>(), prior["eligible"]!.GetValue<string>()));

        // SHADOW (the default): the same turn again answers the very same bytes.
        Assert.Equal("SHADOW", (await LearnAsync("mode", "--tenant", tenant, "--json"))["mode"]!.GetValue<string>());
        var shadow = await f.Api.PostTurnAsync(erin, turn);
        Assert.Equal(before.Status, shadow.Status);
        Assert.Equal(before.Text, shadow.Text);

        // GUIDED, through the governed simulation: erin's next turn for that action carries the prior, the decision is the same.
        var set = await f.SeleneAsync("learn", "mode", "guided", "--tenant", tenant, "--user", "admin", "--note", "pilot the priors");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("LEARN_OK_MODE_SET", set.StandardOutput);
        var state = await f.Api.GetAsync(admin, "/v1/learn");
        AssertSuccess(state, "QUERY_OK");
        Assert.Equal(("GUIDED", "admin"), (state.Json["mode"]!.GetValue<string>(), state.Json["learning"]!["last_actor_user_id"]!.GetValue<string>()));
        Assert.True(state.Json["policy_priors"]!.GetValue<long>() >= 1, state.Text);
        var next = SeleneApi.TextTurn(Approve, On(id), "erin-turn-2");
        var guided = await f.Api.PostTurnAsync(erin, next.ToJsonString());
        Assert.Equal("OS_FAIL_ACCESS_GATE", guided.ReasonCode);
        var suggestion = Assert.Single(guided.Json["suggestions"]!.AsArray(), s => s!["policy_reason_code"]?.GetValue<string>() == "ACCESS_AP_REQUIRED")!;
        Assert.Equal(prior["prior_id"]!.GetValue<string>(), suggestion["prior_id"]!.GetValue<string>());
        Assert.Contains("usually needs approval", suggestion["text"]!.GetValue<string>());
        // Apart from the suggestions, the answer is the shadow one's in shape: the same members.
        Assert.Equal(before.Json.AsObject().Select(p => p.Key).Append("suggestions").Order(StringComparer.Ordinal),
            guided.Json.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));

        // A direct call refused the same way carries them in its problem, beside the gate's answer.
        var direct = await f.Api.SimulateAsync(erin, Approve, On(id), "erin-direct-4");
        AssertProblem(direct, HttpStatusCode.Forbidden, "ACCESS_AP_REQUIRED");
        Assert.Contains(direct.Json["suggestions"]!.AsArray(), s => s!["prior_id"]!.GetValue<string>() == prior["prior_id"]!.GetValue<string>());

        var journal = await f.Api.JournalAsync(erin, next["correlation_id"]!.GetValue<string>());
        var consulted = Assert.Single(journal, e => e!["event_type"]!.GetValue<string>() == "LEARN_PRIORS_CONSULTED")!;
        Assert.Equal("LEARN_OK_PRIORS_CONSULTED", consulted["reason_code"]!.GetValue<string>());
        Assert.Contains(prior["prior_id"]!.GetValue<string>()[..16], consulted["payload"]!["priors_offered"]!.GetValue<string>());
        Assert.Equal("GUIDED", consulted["payload"]!["mode"]!.GetValue<string>());
        // The shadow turn consulted nothing.
        Assert.DoesNotContain(await f.Api.JournalAsync(erin, before.Json["correlation_id"]!.GetValue<string>()),
            e => e!["event_type"]!.GetValue<string>() == "LEARN_PRIORS_CONSULTED");
    }

    [Fact]
    public async Task LearnCommands_PrintTables_AndRefuseBadInputWithAReasonCode()
    {
        var (tenant, _) = await f.OwnTenantAsync("learncli");
        var table = await f.SeleneAsync("learn", "priors", "--tenant", tenant, "--view", "gate-rollup");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("gate rollup: 0 row(s)", table.StandardOutput);
        var mode = await f.SeleneAsync("learn", "mode", "--tenant", tenant);
        Assert.Contains("learning mode SHADOW (never set)", mode.StandardOutput);

        var alias = await f.SeleneAsync("learn", "priors", "--tenant", tenant, "--reason-code", "STORAGE_UNAVAILABLE");
        Assert.Equal(2, alias.ExitCode);
        Assert.Contains("LEARN_REASON_ALIAS_REFUSED", alias.StandardError);
        var badTenant = await f.SeleneAsync("learn", "ingest", "--tenant", "-bad");
        Assert.Equal(2, badTenant.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", badTenant.StandardError);
        var unchanged = await f.SeleneAsync("learn", "mode", "shadow", "--tenant", tenant, "--user", "admin", "--note", "already");
        Assert.Equal(2, unchanged.ExitCode);
        Assert.Contains("LEARN_MODE_UNCHANGED", unchanged.StandardError);
        var noNote = await f.SeleneAsync("learn", "mode", "guided", "--tenant", tenant, "--user", "admin");
        Assert.Equal(2, noNote.ExitCode);
        Assert.Contains("INPUT_FIELD_INVALID", noNote.StandardError);
        Assert.Equal("SHADOW", JsonNode.Parse((await f.SeleneAsync("learn", "mode", "--tenant", tenant, "--json")).StandardOutput)!["mode"]!.GetValue<string>());
    }
}
