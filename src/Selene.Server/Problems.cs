using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Selene.Server;

/// <summary>
/// Reason codes at the HTTP edge: the status each maps to, and RFC 7807 problem details that always carry
/// <c>reason_code</c>. Exceptions never cross this edge as anything but a reason-coded problem. Every problem
/// passes <see cref="RefusalTrace"/>, so an authenticated refusal leaves its one journal entry.
/// </summary>
public static class Problems
{
    public const string ProblemContentType = "application/problem+json";

    private static readonly Dictionary<ReasonCode, int> Statuses = new()
    {
        [ReasonCodes.InputPayloadTooLarge] = StatusCodes.Status413PayloadTooLarge,
        [ReasonCodes.InputMediaTypeUnsupported] = StatusCodes.Status415UnsupportedMediaType,
        [ReasonCodes.AuthKeyMissing] = StatusCodes.Status401Unauthorized,
        [ReasonCodes.AuthKeyInvalid] = StatusCodes.Status401Unauthorized,
        [ReasonCodes.TenantScopeViolation] = StatusCodes.Status403Forbidden,
        [ReasonCodes.CapreqRequesterMismatch] = StatusCodes.Status403Forbidden,
        [ReasonCodes.CapreqSelfApprovalForbidden] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessScopeViolation] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessApRequired] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessEscalationDenied] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessScopeMismatch] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessGrantExceedsAuthority] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessSelfGrantForbidden] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessBoardMemberRequired] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessEscalationCaseNotFound] = StatusCodes.Status404NotFound,
        [ReasonCodes.AccessOverrideNotFound] = StatusCodes.Status404NotFound,
        [ReasonCodes.AccessBoardPolicyNotFound] = StatusCodes.Status404NotFound,
        [ReasonCodes.AccessBoardVoteDuplicate] = StatusCodes.Status409Conflict,
        [ReasonCodes.AccessEscalationCaseClosed] = StatusCodes.Status409Conflict,
        [ReasonCodes.AccessOverrideConflict] = StatusCodes.Status409Conflict,
        [ReasonCodes.AccessOverrideNotActive] = StatusCodes.Status409Conflict,
        [ReasonCodes.AccessBoardPolicyTransitionInvalid] = StatusCodes.Status409Conflict,
        [ReasonCodes.SimulationUnknown] = StatusCodes.Status404NotFound,
        [ReasonCodes.RouteNotFound] = StatusCodes.Status404NotFound,
        [ReasonCodes.CapreqNotFound] = StatusCodes.Status404NotFound,
        [ReasonCodes.PositionNotFound] = StatusCodes.Status404NotFound,
        [ReasonCodes.AccessInstanceMissing] = StatusCodes.Status404NotFound,
        [ReasonCodes.PositionSchemaVersionNotFound] = StatusCodes.Status404NotFound,
        [ReasonCodes.MethodNotAllowed] = StatusCodes.Status405MethodNotAllowed,
        [ReasonCodes.IdempotencyKeyReused] = StatusCodes.Status409Conflict,
        [ReasonCodes.CapreqTransitionInvalid] = StatusCodes.Status409Conflict,
        [ReasonCodes.SimulationNotActive] = StatusCodes.Status409Conflict,
        [ReasonCodes.PositionTransitionInvalid] = StatusCodes.Status409Conflict,
        [ReasonCodes.PositionDuplicate] = StatusCodes.Status409Conflict,
        [ReasonCodes.PositionSchemaVersionExists] = StatusCodes.Status409Conflict,
        [ReasonCodes.PositionSchemaAlreadyActive] = StatusCodes.Status409Conflict,
        [ReasonCodes.PositionAuthCompanyInvalid] = StatusCodes.Status409Conflict,
        [ReasonCodes.StorageUnavailable] = StatusCodes.Status503ServiceUnavailable,
        [ReasonCodes.OsNotInvokedDisabled] = StatusCodes.Status503ServiceUnavailable,
        [ReasonCodes.LegacyDoNotWire] = StatusCodes.Status409Conflict,
        [ReasonCodes.StorageSerializationRetry] = StatusCodes.Status503ServiceUnavailable,
        [ReasonCodes.StorageTenantScopeViolation] = StatusCodes.Status403Forbidden,
        [ReasonCodes.StorageAppendOnlyViolation] = StatusCodes.Status409Conflict,
        // Access profiles, authoring review, overlays, instance compile.
        [ReasonCodes.AccessSchemaRefMissing] = StatusCodes.Status404NotFound,
        [ReasonCodes.AccessApScopeViolation] = StatusCodes.Status403Forbidden,
        [ReasonCodes.AccessProfileNotActive] = StatusCodes.Status409Conflict,
        [ReasonCodes.AccessOverlayRefInvalid] = StatusCodes.Status409Conflict,
        [ReasonCodes.AccessApActivationConflict] = StatusCodes.Status409Conflict,
        [ReasonCodes.AccessApTransitionInvalid] = StatusCodes.Status409Conflict,
    };

    /// <summary>The HTTP status of a reason code: the table above, else 200 for INFO, 500 for ERROR, 400 for WARN.</summary>
    public static int StatusFor(ReasonCode reason) =>
        Statuses.TryGetValue(reason, out var status) ? status : reason.Severity switch
        {
            Severity.Info => StatusCodes.Status200OK,
            Severity.Error => StatusCodes.Status500InternalServerError,
            _ => StatusCodes.Status400BadRequest,
        };

    public static IResult Result(ReasonCode reason, string detail, string? correlationId = null, JsonObject? extensions = null)
    {
        var body = Body(reason, detail, correlationId);
        if (extensions is not null)
        {
            foreach (var (name, value) in extensions.ToArray())
            {
                extensions.Remove(name);
                body[name] = value;
            }
        }
        return new ProblemResult(reason, StatusFor(reason), body);
    }

    public static JsonObject Body(ReasonCode reason, string detail, string? correlationId)
    {
        var body = new JsonObject
        {
            ["type"] = "urn:selene:reason:" + reason.Name,
            ["title"] = reason.Name,
            ["status"] = StatusFor(reason),
            ["detail"] = detail,
            ["reason_code"] = reason.Name,
            ["reason_code_id"] = reason.Id,
            ["retryable"] = reason.Retryable,
        };
        if (correlationId is not null) body["correlation_id"] = correlationId;
        return body;
    }

    public static async Task WriteAsync(HttpContext context, ReasonCode reason, string detail)
    {
        var body = Body(reason, detail, null);
        await RefusalTrace.BeforeProblemAsync(context, reason, StatusFor(reason), body);
        context.Response.StatusCode = StatusFor(reason);
        context.Response.ContentType = ProblemContentType;
        await context.Response.WriteAsync(body.ToJsonString(StrictJson.Options));
    }

    private sealed class ProblemResult(ReasonCode reason, int status, JsonObject body) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await RefusalTrace.BeforeProblemAsync(httpContext, reason, status, body);
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = ProblemContentType;
            await httpContext.Response.WriteAsync(body.ToJsonString(StrictJson.Options));
        }
    }
}
