using System.Text.Json.Nodes;
using Selene.Engines.Access;

namespace Selene.Runtime.Access;

/// <summary>Reading stored board-policy payloads back into the pure model.</summary>
public static class BoardPolicies
{
    public static bool TryParse(string json, out BoardPolicyPayload? payload)
    {
        payload = null;
        return StrictJson.TryRead(System.Text.Encoding.UTF8.GetBytes(json), out payload, out _);
    }

    /// <summary>The payload, or null when the stored JSON is not a policy.</summary>
    public static BoardPolicyPayload? Parse(string json) => TryParse(json, out var payload) ? payload : null;
}

/// <summary>JSON views of overrides, escalation cases (with votes and threshold status) and board policies.</summary>
public static class GovernanceViews
{
    /// <summary>An override; with <paramref name="now"/>, an ACTIVE one past its expiry shows as EXPIRED.</summary>
    public static JsonObject Override(OverrideState o, UnixNanos? now = null) => new()
    {
        ["override_id"] = o.OverrideId,
        ["access_instance_id"] = o.AccessInstanceId,
        ["target_user_id"] = o.TargetUserId,
        ["override_type"] = WireNames.Of(o.OverrideType),
        ["scope"] = o.Scope,
        ["grant_mode"] = WireNames.Of(o.GrantMode),
        ["status"] = WireNames.Of(now is { } n ? o.StatusAt(n) : o.Status),
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
    public static JsonObject Case(EscalationCaseState c, CaseVotesState? votes)
    {
        var view = c.ToView(BoardPolicies.Parse);
        var json = new JsonObject
        {
            ["escalation_case_id"] = c.EscalationCaseId,
            ["status"] = WireNames.Of(c.Status),
            ["target_user_id"] = c.TargetUserId,
            ["access_instance_id"] = c.AccessInstanceId,
            ["simulation_id"] = c.SimulationId,
            ["requested_action"] = c.RequestedAction,
            ["requested_mode"] = WireNames.Of(c.RequestedMode),
            ["effective_access_mode"] = WireNames.Of(c.EffectiveMode),
            ["escalation_trigger"] = WireNames.Of(c.EscalationTrigger),
            ["board_policy_id"] = c.BoardPolicyId,
            ["policy_version_id"] = c.PolicyVersionId,
            ["resolved_via"] = c.ResolvedVia is { } via ? WireNames.Of(via) : null,
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
            json["threshold_status"] = WireNames.Of(Governance.Threshold(view, votes?.ToBoardVotes() ?? []));
        }
        else
        {
            json["threshold_status"] = null;
        }
        json["votes"] = Votes(votes);
        return json;
    }

    /// <summary>The votes on a case in row order.</summary>
    public static JsonArray Votes(CaseVotesState? votes) => new((votes?.Votes ?? []).Select(v => (JsonNode)new JsonObject
    {
        ["vote_row_id"] = v.VoteRowId,
        ["voter_user_id"] = v.VoterUserId,
        ["vote_value"] = WireNames.Of(v.VoteValue),
        ["reason"] = v.Reason,
        ["threshold_status_after"] = WireNames.Of(v.ThresholdStatusAfter),
        ["created_at"] = new UnixNanos(v.CreatedAt).ToString(),
    }).ToArray());

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
