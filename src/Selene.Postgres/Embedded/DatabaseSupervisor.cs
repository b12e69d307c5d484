using Selene.Contracts;

namespace Selene.Postgres.Embedded;

/// <summary>How the supervisor watches and restarts the embedded cluster (issue 15 item 5; docs/decisions.md).</summary>
/// <param name="CheckInterval">How often it looks at the postmaster (a file read and a /proc lookup).</param>
/// <param name="FirstBackoff">The wait after the first failed restart; it doubles after each further failure…</param>
/// <param name="MaxBackoff">…up to this.</param>
/// <param name="MaxAttempts">Restart attempts in a row before it gives up (F_EMBEDDED_RESTART_GAVE_UP).</param>
public sealed record DatabaseSupervisorOptions(TimeSpan CheckInterval, TimeSpan FirstBackoff, TimeSpan MaxBackoff, int MaxAttempts)
{
    /// <summary>1 s checks; waits of 1, 2, 4, 8, 16, 30, 30 s between eight attempts (about 90 s of trying).</summary>
    public static DatabaseSupervisorOptions Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 8);

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based): FirstBackoff · 2^(attempt−1), at most MaxBackoff.</summary>
    public TimeSpan Backoff(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var wait = FirstBackoff;
        for (var i = 1; i < attempt && wait < MaxBackoff; i++) wait += wait;
        return wait < MaxBackoff ? wait : MaxBackoff;
    }
}

/// <summary>
/// Watches a server Selene started itself and starts it again when it died (a crash, not a stop: see
/// <see cref="EmbeddedCluster.HasCrashed"/>). Every wait — between checks and between attempts — is on the given
/// <see cref="TimeProvider"/>. Each event is reported once through <c>log</c> with its reason code: the death
/// (F_EMBEDDED_DIED), each failed attempt (F_EMBEDDED_RESTART_FAILED), the restart (F_EMBEDDED_RESTARTED), and giving up
/// after <see cref="DatabaseSupervisorOptions.MaxAttempts"/> failures in a row (F_EMBEDDED_RESTART_GAVE_UP), after which
/// <see cref="RunAsync"/> returns. Requests meanwhile fail as with any outage: 503 STORAGE_UNAVAILABLE, retryable.
/// </summary>
public sealed class DatabaseSupervisor(Func<bool> crashed, Func<CancellationToken, Task> restart, TimeProvider clock,
    DatabaseSupervisorOptions options, Action<ReasonCode, string> log)
{
    private int _restarts;
    private int _gaveUp;

    /// <summary>
    /// The supervisor of <paramref name="db"/>'s embedded cluster (null for SELENE_DB: Selene did not start that server). A
    /// restart empties the connection pools, so no request is handed a connection to the server that died.
    /// </summary>
    public static DatabaseSupervisor? For(SeleneDatabase db, TimeProvider clock, Action<ReasonCode, string> log, DatabaseSupervisorOptions? options = null) =>
        db.Cluster is not { } cluster ? null : new DatabaseSupervisor(cluster.HasCrashed, async ct =>
        {
            await cluster.RestartAfterCrashAsync(ct);
            db.ClearPools();
        }, clock, options ?? DatabaseSupervisorOptions.Default, log);

    /// <summary>Restarts that succeeded so far.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>True once it gave up: the server stays down until an operator acts.</summary>
    public bool GaveUp => Volatile.Read(ref _gaveUp) == 1;

    /// <summary>Watches until <paramref name="ct"/> is cancelled (then throws <see cref="OperationCanceledException"/>) or it gives up.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (true)
        {
            await Task.Delay(options.CheckInterval, clock, ct);
            if (!crashed()) continue;
            log(ReasonCodes.StorageEmbeddedDied, "the embedded PostgreSQL died (its postmaster.pid names a process that is gone); restarting it");
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await restart(ct);
                    Interlocked.Increment(ref _restarts);
                    log(ReasonCodes.StorageEmbeddedRestarted, $"the embedded PostgreSQL is running again (attempt {attempt})");
                    break;
                }
                catch (Exception ex) when (ex is EmbeddedClusterException or IOException)
                {
                    var why = ex.Message.ReplaceLineEndings(" ");
                    if (attempt >= options.MaxAttempts)
                    {
                        Volatile.Write(ref _gaveUp, 1);
                        log(ReasonCodes.StorageEmbeddedRestartGaveUp,
                            $"the embedded PostgreSQL did not start in {attempt} attempts; giving up (last: {why}). Start it with `selene db start` and restart selene serve");
                        return;
                    }
                    var wait = options.Backoff(attempt);
                    log(ReasonCodes.StorageEmbeddedRestartFailed, $"restart attempt {attempt} of {options.MaxAttempts} failed ({why}); next attempt in {wait.TotalSeconds:0.###} s");
                    await Task.Delay(wait, clock, ct);
                }
            }
        }
    }
}
