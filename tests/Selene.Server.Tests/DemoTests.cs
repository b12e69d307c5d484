using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Selene.Server.Tests;

/// <summary>
/// Issue 13 item 5: <c>selene demo</c> as a newcomer runs it, the real CLI on a data directory of its own (a fresh
/// embedded cluster): the whole story ends with exit code 0, and <c>selene audit verify</c>, <c>selene rebuild</c> and
/// <c>selene replay</c> of the correlation it names pass afterwards.
/// </summary>
public sealed partial class DemoTests : IAsyncLifetime
{
    private readonly string _dir = "/tmp/sdemo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    [GeneratedRegex(@"e\.g\. (\d+)")]
    private static partial Regex NamedCorrelation();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await ChildProcess.SeleneAsync(_dir, "db", "stop");
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Demo_TellsTheWholeStory_EndsWithExitZero_AndTheJournalAndProjectionsHoldAfterwards()
    {
        var demo = await ChildProcess.RunAsync(ChildProcess.DotnetHost, [ChildProcess.SeleneDll, "--data-dir", _dir, "demo"], TimeSpan.FromMinutes(5));
        Assert.True(demo.ExitCode == 0, demo.ToString());
        var lines = demo.StandardOutput.Split('\n');

        // The story's landmarks, each with the reason code Selene answered.
        Assert.Contains(lines, l => l.Contains("POST /v1/simulations/POSITION_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", StringComparison.Ordinal)
            && l.Contains("200 POSITION_OK_REQUIREMENTS_SCHEMA_ACTIVATE_COMMIT", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("dana", StringComparison.Ordinal) && l.Contains("ONB_OK_COMPLETE_COMMIT", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("holders: bo, dana", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("answers licence_number", StringComparison.Ordinal) && l.Contains("ONB_OK_REQUIREMENT_BACKFILL_ANSWER_COMMIT", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("target bo: FAILED, 3 message(s) on the app", StringComparison.Ordinal) && l.Contains("ONB_BACKFILL_REMINDERS_EXHAUSTED", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("target dana: COMPLETED", StringComparison.Ordinal));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"campaign bfc_[0-9a-f]{16}: COMPLETED, 1 of 2 holders answered"));
        // No handoff was given up on, and no link secret was printed.
        Assert.DoesNotContain(lines, l => l.Contains("DEAD_LETTER", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"/invite/(backfill/)?[A-Za-z0-9_-]{43}", demo.StandardOutput);
        var messages = Directory.GetFiles(Path.Combine(_dir, "deliveries"), "*.json");
        Assert.Equal(4, messages.Length); // the request to each holder, and bo's two reminders

        var verify = await ChildProcess.SeleneAsync(_dir, "audit", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("tenant demo:", verify.StandardOutput, StringComparison.Ordinal);
        var rebuild = await ChildProcess.SeleneAsync(_dir, "rebuild");
        Assert.True(rebuild.ExitCode == 0, rebuild.ToString());
        Assert.DoesNotContain("differs", rebuild.StandardOutput, StringComparison.Ordinal);
        var correlation = NamedCorrelation().Match(demo.StandardOutput).Groups[1].Value;
        var replay = await ChildProcess.SeleneAsync(_dir, "replay", "--tenant", "demo", "--correlation", correlation);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("J_REPLAY_REPRODUCED", replay.StandardOutput, StringComparison.Ordinal);

        // A second run tells the story again in a tenant of its own.
        var again = await ChildProcess.RunAsync(ChildProcess.DotnetHost, [ChildProcess.SeleneDll, "--data-dir", _dir, "demo"], TimeSpan.FromMinutes(5));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.StartsWith("Selene demo: tenant demo-2,", again.StandardOutput, StringComparison.Ordinal);
        var taken = await ChildProcess.SeleneAsync(_dir, "demo", "--tenant", "demo");
        Assert.Equal(2, taken.ExitCode);
        Assert.Contains("TENANT_EXISTS", taken.StandardError, StringComparison.Ordinal);
    }
}
