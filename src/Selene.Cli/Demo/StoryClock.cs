namespace Selene.Cli.Demo;

/// <summary>
/// The demo's clock: it starts at a given instant in the past and moves only when the story moves it (a reminder waits a
/// day; the demo does not). Everything the demo's server and worker record is dated on it, so a story of several days
/// runs in seconds and still ends before the present: nothing it writes is dated in the future.
/// </summary>
internal sealed class StoryClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    /// <summary>Moves the story on by <paramref name="by"/> (never backwards).</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_gate) _now += by;
    }
}
