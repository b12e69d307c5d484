using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Selene.Postgres.Embedded;

namespace Selene.Server;

/// <summary>
/// The embedded cluster's supervisor inside <c>selene serve</c> (<see cref="DatabaseSupervisor"/>, on the host's clock): one
/// log line per event, naming its reason code. When it gives up, the host stops, and <c>selene serve</c> exits with
/// F_EMBEDDED_RESTART_GAVE_UP instead of answering 503 for ever, so a service manager or an operator takes over.
/// </summary>
internal sealed class DatabaseSupervisorService(DatabaseSupervisor supervisor, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await supervisor.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        if (supervisor.GaveUp) lifetime.StopApplication();
    }

    /// <summary>The supervisor's report as a log line: warnings while it copes, an error when it gives up.</summary>
    public static void Log(ILogger logger, ReasonCode reason, string message)
    {
        var level = reason == ReasonCodes.StorageEmbeddedRestartGaveUp ? LogLevel.Error : LogLevel.Warning;
        logger.Log(level, "database supervisor: {ReasonCode}: {Message}", reason.Name, message);
    }
}
