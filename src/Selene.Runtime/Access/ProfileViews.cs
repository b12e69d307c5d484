using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Access;
using Selene.Postgres.Stores;

namespace Selene.Runtime.Access;

/// <summary>Between the access-profile engine's vocabulary, storage rows and the public JSON views.</summary>
public static class ProfileViews
{
    /// <summary>Folds one profile's ledger (one scope, event order) into its versions and current version.</summary>
    public static ApProfileState FoldProfile(IEnumerable<ApSchemaLedgerRow> ledger)
    {
        var state = ApProfileState.Empty;
        foreach (var r in ledger) state = ProfileDecider.Evolve(state, ToEvent(r));
        return state;
    }

    private static ApEvent ToEvent(ApSchemaLedgerRow r)
    {
        var scope = WireNames.Parse<ApScope>(r.Scope);
        return r.EventAction switch
        {
            "CREATE_DRAFT" or "UPDATE_DRAFT" => new ApVersionWritten(scope, r.ScopeKey, r.AccessProfileId, r.SchemaVersionId, r.ActorUserId, r.CreatedAt, r.Reason,
                JsonSerializer.Deserialize<ApProfilePayload>(r.PayloadJson!, StrictJson.Options)!, r.EventAction == "UPDATE_DRAFT"),
            "ACTIVATE" => new ApVersionActivated(scope, r.ScopeKey, r.AccessProfileId, r.SchemaVersionId, r.ActorUserId, r.CreatedAt, r.Reason,
                r.ActivationReviewEventId is { } review ? new ApActivationLineage(review, r.ActivationRuleActionCount!.Value, r.ActivationRuleActionSetRef!) : null),
            "RETIRE" => new ApVersionRetired(scope, r.ScopeKey, r.AccessProfileId, r.SchemaVersionId, r.ActorUserId, r.CreatedAt, r.Reason,
                r.SupersededByVersionId, WasCurrent: false),
            _ => throw new InvalidOperationException($"AP schema ledger action {r.EventAction} is not handled"),
        };
    }

    public static ApReviewState? ToReview(ApReviewRow? row, IReadOnlyList<long> ruleActionIds) => row is null ? null
        : new ApReviewState(row.ReviewChannel is null ? null : WireNames.Parse<ReviewChannel>(row.ReviewChannel), WireNames.Parse<ConfirmationState>(row.ConfirmationState),
            row.LatestReviewEventId, ruleActionIds);

    public static JsonObject Version(ApScope scope, string scopeKey, string accessProfileId, ApVersionState v, bool isCurrent) => new()
    {
        ["scope"] = WireNames.Of(scope),
        ["scope_key"] = scopeKey,
        ["access_profile_id"] = accessProfileId,
        ["schema_version_id"] = v.SchemaVersionId,
        ["lifecycle_state"] = WireNames.Of(v.Lifecycle),
        ["is_current"] = isCurrent,
        ["profile_payload"] = JsonSerializer.SerializeToNode(v.Payload, StrictJson.Options),
        ["updated_at"] = new UnixNanos(v.LastEventAt).ToString(),
    };

    public static JsonObject Review(ApReviewState r)
    {
        var json = new JsonObject
        {
            ["confirmation_state"] = WireNames.Of(r.State),
            ["rule_action_count"] = r.RuleActionIds.Count,
            ["latest_review_event_id"] = r.LatestReviewEventId,
        };
        if (r.Channel is { } channel) json["review_channel"] = WireNames.Of(channel);
        return json;
    }

    public static JsonObject Review(ApReviewRow r)
    {
        var json = new JsonObject
        {
            ["confirmation_state"] = r.ConfirmationState,
            ["rule_action_count"] = r.RuleActionCount,
            ["latest_review_event_id"] = r.LatestReviewEventId,
        };
        if (r.ReviewChannel is { } channel) json["review_channel"] = channel;
        return json;
    }

    /// <summary>A current (ACTIVE) version, as GET /v1/access/profiles lists it.</summary>
    public static JsonObject Current(ApCurrentRow r) => new()
    {
        ["scope"] = r.Scope,
        ["scope_key"] = r.ScopeKey,
        ["access_profile_id"] = r.AccessProfileId,
        ["schema_version_id"] = r.ActiveSchemaVersionId,
        ["lifecycle_state"] = "ACTIVE",
        ["profile_payload"] = JsonNode.Parse(r.PayloadJson),
        ["updated_at"] = new UnixNanos(r.UpdatedAt).ToString(),
    };

    /// <summary>
    /// Every version of one profile the tenant sees (GLOBAL and its own TENANT scope), with lifecycle and authoring
    /// review; null when there is none.
    /// </summary>
    public static JsonObject? ProfileDetail(string accessProfileId, IReadOnlyList<ApSchemaLedgerRow> ledger, IReadOnlyList<ApReviewRow> reviews)
    {
        if (ledger.Count == 0) return null;
        var versions = new JsonArray();
        foreach (var scope in ledger.GroupBy(r => (r.Scope, r.ScopeKey)).OrderBy(g => g.Key.Scope, StringComparer.Ordinal))
        {
            var state = FoldProfile(scope);
            var apScope = WireNames.Parse<ApScope>(scope.Key.Scope);
            foreach (var v in state.Versions.Values.OrderBy(v => v.SchemaVersionId))
            {
                var json = Version(apScope, scope.Key.ScopeKey, accessProfileId, v, state.CurrentVersionId == v.SchemaVersionId);
                var review = reviews.FirstOrDefault(r => r.ScopeKey == scope.Key.ScopeKey && r.SchemaVersionId == v.SchemaVersionId);
                if (review is not null) json["authoring_review"] = Review(review);
                versions.Add(json);
            }
        }
        return new JsonObject { ["access_profile_id"] = accessProfileId, ["versions"] = versions };
    }

    /// <summary>One overlay with every version, as GET /v1/access/overlays and ACCESS_AP_OVERLAY_UPDATE_COMMIT show it.</summary>
    public static JsonObject Overlay(OverlayState state)
    {
        var versions = new JsonArray(state.Versions.Values.OrderBy(v => v.OverlayVersionId).Select(v => (JsonNode)new JsonObject
        {
            ["overlay_version_id"] = v.OverlayVersionId,
            ["lifecycle_state"] = WireNames.Of(v.Lifecycle),
            ["overlay_ops"] = JsonSerializer.SerializeToNode(v.Ops, StrictJson.Options),
            ["updated_at"] = new UnixNanos(v.LastEventAt).ToString(),
        }).ToArray());
        var json = new JsonObject { ["overlay_id"] = state.OverlayId, ["versions"] = versions };
        if (state.ActiveVersionId is { } active) json["active_overlay_version_id"] = active;
        return json;
    }
}
