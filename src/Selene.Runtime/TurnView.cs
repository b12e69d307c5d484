using System.Text.Json.Nodes;

namespace Selene.Runtime;

/// <summary>The JSON answer of <c>POST /v1/turns</c> for a decided turn (docs/turns.md): the move, and beside it the gate's whole OS_POLICY_EVALUATE output.</summary>
public static class TurnView
{
    public static JsonObject ToJson(TurnResult r)
    {
        var body = new JsonObject
        {
            ["correlation_id"] = r.Correlation.ToString(),
            ["turn_id"] = r.Turn.Value,
            ["move"] = WireNames.Of(r.Move),
            ["reason_code"] = r.Reason.Name,
            ["reason_code_id"] = r.Reason.Id,
            ["fail_closed"] = r.FailClosed,
            ["dispatch_allowed"] = r.DispatchAllowed,
            ["execution_allowed"] = r.ExecutionAllowed,
            ["guard_failures"] = Strings(r.GuardFailures),
            ["optional_invoked"] = Strings(r.OptionalInvoked),
            ["optional_skipped_budget"] = Strings(r.OptionalSkippedBudget),
        };
        if (r.InputHash is not null) body["turn_input_hash"] = r.InputHash;
        if (r.Detail is not null) body["detail"] = r.Detail;
        if (r.Cause is not null) body["cause_reason_code"] = r.Cause.Name;
        if (r.Problem is not null) body["access"] = r.Problem.DeepClone();
        if (r.Policy is { } policy) body["policy"] = Selene.Kernel.Os.OsTurnCodec.WritePolicy(policy);
        if (r.Suggestions is not null) body["suggestions"] = r.Suggestions.DeepClone();
        if (r.Execution is { } e)
        {
            var execution = new JsonObject
            {
                ["outcome"] = WireNames.Of(e.Outcome),
                ["reason_code"] = e.Reason.Name,
                ["reason_code_id"] = e.Reason.Id,
            };
            if (e.Detail is not null) execution["detail"] = e.Detail;
            if (e.Body is not null) execution["result"] = JsonNode.Parse(e.Body);
            body["execution"] = execution;
        }
        return body;
    }

    private static JsonArray Strings(IReadOnlyList<string>? items) => new((items ?? []).Select(s => (JsonNode)s).ToArray());
}
