using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Engines.Access;

namespace Selene.Runtime.Access;

/// <summary>Between the access-profile engine's vocabulary, storage rows and the public JSON views.</summary>
public static class ProfileViews
{
    /// <summary>One version of a profile stream, as the AP simulations answer it and GET /v1/access/profiles/{id} lists it.</summary>
    public static JsonObject Version(ApProfileStream s, int schemaVersionId)
    {
        var v = s.Profile.Versions[schemaVersionId];
        return new JsonObject
        {
            ["scope"] = WireNames.Of(s.Scope),
            ["scope_key"] = s.ScopeKey,
            ["access_profile_id"] = s.AccessProfileId,
            ["schema_version_id"] = v.SchemaVersionId,
            ["lifecycle_state"] = WireNames.Of(v.Lifecycle),
            ["is_current"] = s.Profile.CurrentVersionId == v.SchemaVersionId,
            ["profile_payload"] = JsonSerializer.SerializeToNode(v.Payload, StrictJson.Options),
            ["updated_at"] = new UnixNanos(v.LastEventAt).ToString(),
        };
    }

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

    /// <summary>The current (ACTIVE) version of a profile stream, as GET /v1/access/profiles lists it.</summary>
    public static JsonObject Current(ApProfileStream s)
    {
        var json = Version(s, s.Profile.CurrentVersionId!.Value);
        json.Remove("is_current");
        return json;
    }

    /// <summary>
    /// Every version of one profile the tenant sees (its GLOBAL and its own TENANT stream, in that order), with
    /// lifecycle and authoring review; null when there is none.
    /// </summary>
    public static JsonObject? ProfileDetail(string accessProfileId, IReadOnlyList<ApProfileStream> streams, IReadOnlyDictionary<(ApScope, int), ApReviewState> reviews)
    {
        if (streams.Count == 0) return null;
        var versions = new JsonArray();
        foreach (var stream in streams.OrderBy(s => WireNames.Of(s.Scope), StringComparer.Ordinal))
        foreach (var v in stream.Profile.Versions.Keys.Order())
        {
            var json = Version(stream, v);
            if (reviews.TryGetValue((stream.Scope, v), out var review)) json["authoring_review"] = Review(review);
            versions.Add(json);
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
