using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Selene.Runtime.Outbox;

namespace Selene.Server;

/// <summary>
/// The outbox worker inside <c>selene serve</c>: runs <see cref="OutboxWorker.RunAsync"/> for the host's lifetime (its
/// waits are on the host's clock). A failed pass is one warning line; the loop goes on.
/// </summary>
internal sealed class OutboxWorkerService(OutboxWorker worker, ILogger<OutboxWorkerService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        worker.RunAsync(stoppingToken, ex => logger.LogWarning("outbox worker: a pass failed ({Error}: {Message}); the next pass tries again",
            ex.GetType().Name, ex.Message));
}
