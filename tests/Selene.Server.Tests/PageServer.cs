using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Selene.Postgres;

namespace Selene.Server.Tests;

/// <summary>
/// The server the invitee page's tests drive: a real <c>selene serve</c> application on 127.0.0.1 in this process, on the
/// shared fixture's cluster, with a fake clock (so a link can expire) and without background workers, plus a tenant of
/// its own with a full-authority administrator. Its logs are captured as <c>selene serve</c> writes them (Warning and up,
/// plus everything Selene's own categories log) so that <see cref="AssertLogsClean"/> can prove that no request ended in
/// an unhandled error and that no log line carries a secret the test registered with <see cref="Secrets"/>.
/// </summary>
public sealed class PageServer : IAsyncDisposable
{
    private readonly CapturedLogs _logs = new();
    private WebApplication? _app;

    private PageServer(FakeTimeProvider clock) => Clock = clock;

    /// <summary>The server's clock: tests advance it.</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>The database handle the server runs on (tests read it for rebuilds and stored text).</summary>
    public SeleneDatabase Db { get; private set; } = null!;

    /// <summary>http://127.0.0.1:port of the server.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>An API client for <see cref="Address"/>.</summary>
    public SeleneApi Api { get; private set; } = null!;

    /// <summary>The server's own tenant and its administrator's key.</summary>
    public string Tenant { get; private set; } = "";

    public string AdminKey { get; private set; } = "";

    /// <summary>Values no log line may carry (invite secrets, keys), checked by <see cref="AssertLogsClean"/>.</summary>
    public List<string> Secrets { get; } = [];

    /// <summary>Starts the server on a free port with a tenant named after <paramref name="prefix"/>.</summary>
    public static async Task<PageServer> StartAsync(SeleneServerFixture f, string prefix)
    {
        var server = new PageServer(new FakeTimeProvider(DateTimeOffset.UtcNow));
        try
        {
            (server.Tenant, server.AdminKey) = await f.OwnTenantAsync(prefix);
            server.Db = await SeleneDatabase.OpenAsync(new DatabaseOptions(null, f.DataDir));
            server.Address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
            server._app = SeleneApp.Build(server.Db, new ServerOptions(server.Address.ToString().TrimEnd('/'), Workers: false),
                logging: b => b.AddProvider(server._logs).SetMinimumLevel(LogLevel.Trace).AddFilter((category, level) =>
                    level >= LogLevel.Warning || (category ?? "").StartsWith("Selene", StringComparison.Ordinal)), clock: server.Clock);
            await server._app.StartAsync();
            server.Api = new SeleneApi(server.Address);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>No request ended in an unhandled error, and no line the server logged carries a registered secret.</summary>
    public void AssertLogsClean()
    {
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal));
        foreach (var secret in Secrets) Assert.DoesNotContain(secret, _logs.Text, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        Api?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (Db is not null) await Db.DisposeAsync();
    }

    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();
        public IReadOnlyList<string> Lines => [.. _lines];
        public string Text => string.Join("\n", _lines);
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void Dispose() { }

        private sealed class Logger(CapturedLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}
