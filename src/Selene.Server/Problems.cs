using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Selene.Server;

/// <summary>
/// Reason codes at the HTTP edge: the status each maps to (from its <see cref="ReasonKind"/>), and RFC 7807 problem
/// details that always carry <c>reason_code</c>. Exceptions never cross this edge as anything but a reason-coded problem.
/// Every problem passes <see cref="RefusalTrace"/>, so an authenticated refusal leaves its one journal entry.
/// </summary>
public static class Problems
{
    public const string ProblemContentType = "application/problem+json";

    /// <summary>The HTTP status of a reason code: the status of its kind.</summary>
    public static int StatusFor(ReasonCode reason) => StatusFor(reason.Kind);

    /// <summary>
    /// The HTTP status of a kind of outcome (CONVENTIONS.md: the status follows from the kind, so a new code needs no
    /// edit here). There is no default arm: a kind without a status is a bug, never a silent 400.
    /// </summary>
    public static int StatusFor(ReasonKind kind) => kind switch
    {
        ReasonKind.Success => StatusCodes.Status200OK,
        ReasonKind.Invalid => StatusCodes.Status400BadRequest,
        ReasonKind.Unauthenticated => StatusCodes.Status401Unauthorized,
        ReasonKind.Forbidden => StatusCodes.Status403Forbidden,
        ReasonKind.NotFound => StatusCodes.Status404NotFound,
        ReasonKind.MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        ReasonKind.Conflict => StatusCodes.Status409Conflict,
        ReasonKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        ReasonKind.UnsupportedMediaType => StatusCodes.Status415UnsupportedMediaType,
        ReasonKind.QuotaExceeded => StatusCodes.Status429TooManyRequests,
        ReasonKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ReasonKind.Internal => StatusCodes.Status500InternalServerError,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a reason kind without an HTTP status"),
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
