using System.Text.Json.Nodes;
using Selene.Engines.Access;
using Selene.Kernel.Access;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Access;

/// <summary>Reading stored board-policy payloads back into the pure model.</summary>
public static class BoardPolicies
{
    public static bool TryParse(string json, out BoardPolicyPayload? payload)
    {
        payload = null;
        return StrictJson.TryRead(System.Text.Encoding.UTF8.GetBytes(json), out payload, out _);
    }

    /// <summary>The pure view of a stored case (its bound policy snapshot parsed).</summary>
    public static EscalationCaseView ToView(EscalationCaseRow row) => new(row.EscalationCaseId, row.TargetUserId, row.RequestedAction,
        WireNames.Parse<AccessMode>(row.RequestedMode), WireNames.Parse<EscalationStatus>(row.Status), row.BoardPolicyId, row.PolicyVersionId,
        row.PolicyPayloadJson is { } json && TryParse(json, out var payload) ? payload : null);

    public static IReadOnlyList<BoardVote> ToVotes(IEnumerable<BoardVoteRow> rows) =>
        rows.Select(v => new BoardVote(v.VoteRowId, v.VoterUserId, WireNames.Parse<VoteValue>(v.VoteValue))).ToArray();
}

/// <summary>JSON views of overrides, escalation cases (with votes and threshold status) and board policies.</summary>
public static class GovernanceViews
{
    public static JsonObject Override(OverrideRow o, UnixNanos? now = null) => new()
    {
        ["override_id"] = o.OverrideId,
        ["access_instance_id"] = o.AccessInstanceId,
        ["target_user_id"] = o.TargetUserId,
        ["override_type"] = o.OverrideType,
        ["scope"] = o.Scope,
        ["grant_mode"] = o.GrantMode,
        ["status"] = o.Status == "ACTIVE" && now is { } n && o.ExpiresAt is { } end && end <= n.Value ? "EXPIRED" : o.Status,
        ["starts_at"] = new UnixNanos(o.StartsAt).ToString(),
        ["expires_at"] = o.ExpiresAt is { } e ? new UnixNanos(e).ToString() : null,
        ["escalation_case_id"] = o.EscalationCaseId,
        ["approved_by_user_id"] = o.ApprovedByUserId,
        ["approved_via_simulation_id"] = o.ApprovedViaSimulationId,
        ["approval_ref"] = o.ApprovalRef,
        ["created_at"] = new UnixNanos(o.CreatedAt).ToString(),
        ["updated_at"] = new UnixNanos(o.UpdatedAt).ToString(),
    };

    /// <summary>A case with its votes and the threshold status recomputed from them and the policy version it bound.</summary>
    public static JsonObject Case(EscalationCaseRow c, IReadOnlyList<BoardVoteRow> votes)
    {
        var view = BoardPolicies.ToView(c);
        var json = new JsonObject
        {
            ["escalation_case_id"] = c.EscalationCaseId,
            ["status"] = c.Status,
            ["target_user_id"] = c.TargetUserId,
            ["access_instance_id"] = c.AccessInstanceId,
            ["simulation_id"] = c.SimulationId,
            ["requested_action"] = c.RequestedAction,
            ["requested_mode"] = c.RequestedMode,
            ["effective_access_mode"] = c.EffectiveMode,
            ["escalation_trigger"] = c.EscalationTrigger,
            ["board_policy_id"] = c.BoardPolicyId,
            ["policy_version_id"] = c.PolicyVersionId,
            ["resolved_via"] = c.ResolvedVia,
            ["override_id"] = c.OverrideId,
            ["opened_correlation_id"] = c.OpenedCorrelationId,
            ["opened_at"] = new UnixNanos(c.OpenedAt).ToString(),
            ["resolved_at"] = c.ResolvedAt is { } r ? new UnixNanos(r).ToString() : null,
        };
        if (view.Policy is { } policy)
        {
            var electorate = Governance.Electorate(policy, c.TargetUserId);
            json["policy"] = JsonNode.Parse(c.PolicyPayloadJson!);
            json["electorate"] = new JsonArray(electorate.Members.Select(m => (JsonNode)m).ToArray());
            json["threshold_status"] = WireNames.Of(Governance.Threshold(view, BoardPolicies.ToVotes(votes)));
        }
        else
        {
            json["threshold_status"] = null;
        }
        json["votes"] = new JsonArray(votes.Select(v => (JsonNode)new JsonObject
        {
            ["vote_row_id"] = v.VoteRowId,
            ["voter_user_id"] = v.VoterUserId,
            ["vote_value"] = v.VoteValue,
            ["reason"] = v.Reason,
            ["threshold_status_after"] = v.ThresholdStatus,
            ["created_at"] = new UnixNanos(v.CreatedAt).ToString(),
        }).ToArray());
        return json;
    }

    /// <summary>A board policy: its version in force (if any) and every version with its state.</summary>
    public static JsonObject Policy(BoardPolicyState policy) => new()
    {
        ["board_policy_id"] = policy.BoardPolicyId,
        ["active_policy_version_id"] = policy.ActivePolicyVersionId,
        ["versions"] = new JsonArray(policy.Versions.Select(v => (JsonNode)new JsonObject
        {
            ["policy_version_id"] = v.PolicyVersionId,
            ["lifecycle_state"] = WireNames.Of(v.LifecycleState),
            ["policy_payload"] = JsonNode.Parse(v.PolicyPayloadJson),
            ["last_event_action"] = WireNames.Of(v.LastEventAction),
            ["updated_at"] = new UnixNanos(v.UpdatedAt).ToString(),
        }).ToArray()),
    };
}
