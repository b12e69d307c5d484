using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Selene.Postgres;
using Selene.Runtime;

namespace Selene.Server;

/// <summary>
/// The edge's half of "every refusal leaves a trace" (docs/decisions.md): every problem answer passes through
/// <see cref="BeforeProblemAsync"/>, which journals one REQUEST_REFUSED entry when the caller is authenticated, the
/// answer is a refusal (4xx) and nothing else recorded the request. The problem then names the entry's correlation
/// id. Unauthenticated requests and answers that are not refusals (503: Selene cannot serve now) leave nothing.
/// </summary>
internal static class RefusalTrace
{
    /// <summary>Item set by an endpoint whose request is already on record (a decided turn journals itself).</summary>
    public const string RecordedItem = "selene.recorded";

    public static async Task BeforeProblemAsync(HttpContext context, ReasonCode reason, int status, JsonObject body)
    {
        if (status is < 400 or > 499 || context.Items.ContainsKey(RecordedItem) || SeleneApp.AuthenticatedCaller(context) is not { } caller) return;
        // A key taken from memory that no transaction of the request checked is checked before anything is written for it.
        if (!await SeleneApp.KeyStillValidAsync(context)) return;
        context.Items[RecordedItem] = true;

        var request = context.Request;
        if (body["correlation_id"]?.GetValue<string>() is not { } text || !CorrelationId.TryParse(text, out var correlation))
        {
            correlation = CorrelationId.TryParse(request.Headers["X-Correlation-Id"].ToString(), out var given)
                ? given : CorrelationId.FromDigest(RandomNumberGenerator.GetBytes(32));
            body["correlation_id"] = correlation.ToString();
        }
        Telemetry.ScopeOf(context).CorrelationId = correlation.ToString();
        var refusal = new Refusal(reason, body["detail"]?.GetValue<string>() ?? reason.Name, $"{request.Method} {request.Path}", status,
            request.Headers["Idempotency-Key"].Count == 1 ? request.Headers["Idempotency-Key"][0] : null);
        try
        {
            await context.RequestServices.GetRequiredService<RefusalJournal>()
                .RecordAsync(caller.Tenant, caller.User, correlation, new TurnId(1), refusal, CancellationToken.None); // written even if the caller went away
        }
        catch (Exception ex) when (StorageFailures.Classify(ex) is { } failure)
        {
            // The refusal stands even when its trace cannot be written; say so in one line.
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Selene")
                .LogWarning("refusal of {Method} {Path} ({Reason}) not journaled: storage {Code} (correlation {CorrelationId})", request.Method,
                    Invite.InvitePageEndpoints.LoggedPath(request.Path), reason.Name, failure.Code, correlation.ToString());
        }
    }
}
