using System.Globalization;

namespace Selene.Cli.Chaos;

/// <summary>The fault a <c>selene chaos</c> run injects (docs/reliability.md).</summary>
public enum ChaosProfile
{
    /// <summary>SIGKILL the <c>selene serve</c> process and start it again, repeatedly.</summary>
    KillServer,
    /// <summary>SIGKILL the embedded postmaster under a running serve; serve's supervisor must bring it back by itself.</summary>
    RestartPostgres,
    /// <summary>Requests abandoned mid-flight (the connection closed) and retried with the same idempotency key.</summary>
    ClientDisconnects,
    /// <summary>Many concurrent copies of one request with one idempotency key.</summary>
    DuplicateStorm,
}

/// <summary>The wire names of the profiles (the <c>--profile</c> values).</summary>
public static class ChaosProfiles
{
    public static IReadOnlyList<string> Names { get; } = ["kill-server", "restart-postgres", "client-disconnects", "duplicate-storm"];

    public static string Name(ChaosProfile profile) => Names[(int)profile];

    public static ChaosProfile Parse(string name)
    {
        var index = Names.ToList().IndexOf(name);
        return index >= 0 ? (ChaosProfile)index : throw new ArgumentException($"unknown profile '{name}'; profiles: {string.Join(", ", Names)}", nameof(name));
    }
}

/// <summary>
/// The SLO thresholds of a run (docs/reliability.md, docs/decisions.md "Chaos harness"). Availability is a share of the
/// counted attempts; recovery times are from an injection to the first 2xx of a request sent after it.
/// </summary>
/// <param name="AvailabilityDuringFault">Share of attempts during the fault answered 2xx or retryable 503 (a hang, a transport
/// error while the server is up, any other status count against it).</param>
/// <param name="SuccessAfterRecovery">Share of attempts after the fault answered 2xx.</param>
/// <param name="RecoveryP50">Median recovery time across the injections.</param>
/// <param name="RecoveryMax">Longest recovery time; an injection never recovered from fails it.</param>
/// <param name="Hang">A request unanswered for this long is a hang (and is abandoned).</param>
public sealed record ChaosThresholds(double AvailabilityDuringFault, double SuccessAfterRecovery, TimeSpan RecoveryP50, TimeSpan RecoveryMax, TimeSpan Hang)
{
    /// <summary>The documented thresholds of <paramref name="profile"/>.</summary>
    public static ChaosThresholds For(ChaosProfile profile) => profile switch
    {
        // A restart is a new process (the runtime's start-up and the database's checks) on a shared 2-core machine.
        ChaosProfile.KillServer => new(1.0, 1.0, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), DefaultHang),
        // The supervisor's 1 s check plus one backoff (a first attempt commonly meets the dead server's shared memory) and WAL recovery.
        ChaosProfile.RestartPostgres => new(1.0, 1.0, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), DefaultHang),
        // Nothing is down: a retry is answered as fast as any request.
        ChaosProfile.ClientDisconnects => new(1.0, 1.0, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), DefaultHang),
        _ => new(1.0, 1.0, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), DefaultHang),
    };

    /// <summary>30 s: longer than any storage timeout of the server (15 s connect), so a hang is the server's, not a slow answer.</summary>
    public static TimeSpan DefaultHang { get; } = TimeSpan.FromSeconds(30);
}

/// <summary>How one attempt of a request ended.</summary>
public enum AttemptOutcome
{
    /// <summary>2xx.</summary>
    Success,
    /// <summary>503 with a problem body that names its reason code and says <c>retryable: true</c>.</summary>
    Retryable503,
    /// <summary>Connection refused or reset, or the answer cut off.</summary>
    Transport,
    /// <summary>No answer within <see cref="ChaosThresholds.Hang"/>.</summary>
    Hang,
    /// <summary>The harness abandoned it on purpose (client-disconnects).</summary>
    Abandoned,
    /// <summary>Any other answer: a 4xx, a 500, a 503 that is not retryable.</summary>
    Other,
}

/// <summary>One attempt: when it was sent and answered (seconds since the run started), how it ended, and the answer's status and reason.</summary>
public sealed record Attempt(double SentAt, double EndedAt, AttemptOutcome Outcome, int Status = 0, string? Reason = null)
{
    public string Describe() => Outcome switch
    {
        AttemptOutcome.Success => "2xx",
        AttemptOutcome.Retryable503 => "503 " + Reason,
        AttemptOutcome.Transport => "transport " + Reason,
        AttemptOutcome.Hang => "hang",
        AttemptOutcome.Abandoned => "abandoned",
        _ => string.Create(CultureInfo.InvariantCulture, $"{Status} {Reason ?? "(no reason_code)"}"),
    };
}

/// <summary>
/// A request the server acknowledged (2xx): who sent it (the tenant's API key), what (simulation, body, key) and the answer's
/// exact bytes. The invariants check its effect and send it again.
/// </summary>
public sealed record Acknowledged(string TenantId, string ApiKey, string SimulationId, string IdempotencyKey, byte[] Body, int Status, byte[] Answer);

/// <summary>One injected fault: when (seconds since the run started) and when the first request sent after it succeeded (null: never).</summary>
public sealed record Injection(double At, double? RecoveredAt, string What)
{
    public double? RecoverySeconds => RecoveredAt - At;
}

/// <summary>Pass or fail of one invariant or SLO, with its figures and the reason code it reports.</summary>
public sealed record Check(string Name, bool Passed, string Figures, ReasonCode Reason, string? Target = null);
