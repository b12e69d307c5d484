using System.Text.RegularExpressions;

namespace Selene.Contracts.Tests;

/// <summary>
/// SQL lives only in Selene.Postgres (issue 9 item 4): no source file of the runtime, the CLI or the pure projects
/// builds or runs a database command; they call named store operations instead. (Selene.Server's own check comes
/// with its doors, item 4.)
/// </summary>
public sealed partial class SqlPlacementTests
{
    private static readonly string[] ProjectsWithoutSql = ["Selene.Runtime", "Selene.Cli", "Selene.Engines", "Selene.Kernel", "Selene.Learning", "Selene.Contracts"];

    // A command built on a transaction or a data source, a batch, or one of ADO.NET's execute calls.
    [GeneratedRegex(@"\.Command\(|CreateCommand\(|Npgsql(?:Batch|Command)\b|\.Execute(?:NonQuery|Scalar|Reader)(?:Async)?\(")]
    private static partial Regex DatabaseCommand();

    [Fact]
    public void OnlySelenePostgres_RunsSql()
    {
        var files = RepoPaths.SourceFiles(".cs")
            .Where(p => ProjectsWithoutSql.Any(project => RepoPaths.Relative(p).StartsWith($"src/{project}/", StringComparison.Ordinal)))
            .ToArray();
        Assert.Contains(files, p => RepoPaths.Relative(p).StartsWith("src/Selene.Runtime/", StringComparison.Ordinal));
        var offenders = files
            .SelectMany(p => File.ReadLines(p).Select((line, i) => (Path: p, Line: i + 1, Text: line)))
            .Where(l => DatabaseCommand().IsMatch(l.Text))
            .Select(l => $"{RepoPaths.Relative(l.Path)}:{l.Line}: {l.Text.Trim()}")
            .ToArray();
        Assert.Empty(offenders);
    }

    // Binding a parameter by hand, or taking an advisory transaction lock.
    [GeneratedRegex(@"Parameters\.Add\(|pg_advisory_xact_lock")]
    private static partial Regex BindingOrLock();

    /// <summary>
    /// One parameter-binding idiom and one advisory-lock key scheme in the stores (issue 9 item 7): parameters are
    /// bound only by <c>SqlBinding.Bind</c>, transaction locks are taken only by <c>TenantTransaction</c>'s entity lock.
    /// </summary>
    [Fact]
    public void SelenePostgres_BindsAndLocksOneWay()
    {
        var owners = new[] { "src/Selene.Postgres/SqlBinding.cs", "src/Selene.Postgres/SeleneDatabase.cs" };
        var files = RepoPaths.SourceFiles(".cs").Where(p => RepoPaths.Relative(p).StartsWith("src/Selene.Postgres/", StringComparison.Ordinal)).ToArray();
        Assert.Contains(files, p => RepoPaths.Relative(p) == owners[0]);
        var offenders = files
            .Where(p => !owners.Contains(RepoPaths.Relative(p)))
            .SelectMany(p => File.ReadLines(p).Select((line, i) => (Path: p, Line: i + 1, Text: line)))
            .Where(l => BindingOrLock().IsMatch(l.Text))
            .Select(l => $"{RepoPaths.Relative(l.Path)}:{l.Line}: {l.Text.Trim()}")
            .ToArray();
        Assert.Empty(offenders);
        var lockSites = File.ReadLines(Path.Combine(RepoPaths.Root, owners[1])).Count(l => l.Contains("pg_advisory_xact_lock", StringComparison.Ordinal));
        Assert.Equal(1, lockSites);
    }
}
