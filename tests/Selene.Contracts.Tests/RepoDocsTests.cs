namespace Selene.Contracts.Tests;

/// <summary>
/// The repository stands on its own: a user's clone has only what is in it, so the README and docs/ link to
/// nothing outside the repository, and every relative link they hold points at a file that exists.
/// </summary>
public sealed class RepoDocsTests
{
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string>();
        data.Add("README.md");
        foreach (var doc in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "docs"), "*.md").Order(StringComparer.Ordinal))
            data.Add(RepoPaths.Relative(doc));
        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Document_RelativeLinks_StayInsideTheRepositoryAndResolve(string document)
    {
        var path = Path.Combine(RepoPaths.Root, document);
        var text = File.ReadAllText(path);
        Assert.DoesNotContain("../shared", text, StringComparison.Ordinal);

        foreach (System.Text.RegularExpressions.Match link in System.Text.RegularExpressions.Regex.Matches(text, @"\]\(([^)#\s]+)(#[^)]*)?\)"))
        {
            var target = link.Groups[1].Value;
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
            Assert.True(resolved.StartsWith(RepoPaths.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal),
                $"{document} links outside the repository: {target}");
            Assert.True(File.Exists(resolved) || Directory.Exists(resolved), $"{document} links to a missing file: {target}");
        }
    }

    /// <summary>
    /// docs/integration.md names, for every handoff of the cross-engine packet, the test that proves it: each
    /// <c>Class.Method</c> it names must be a test method of that class under tests/, so a renamed or deleted test cannot
    /// leave the map pointing at nothing.
    /// </summary>
    [Fact]
    public void IntegrationMap_NamesOnlyTestsThatExist()
    {
        var map = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "integration.md"));
        var named = System.Text.RegularExpressions.Regex.Matches(map, @"`([A-Z][A-Za-z]*Tests)\.([A-Za-z_]+)`").Select(m => (Class: m.Groups[1].Value, Method: m.Groups[2].Value)).ToList();
        Assert.True(named.Count >= 10, $"docs/integration.md names {named.Count} tests");
        var sources = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText).ToList();
        foreach (var (cls, method) in named)
            Assert.True(sources.Any(s => System.Text.RegularExpressions.Regex.IsMatch(s, $@"class {cls}\b") && s.Contains($"Task {method}(", StringComparison.Ordinal)),
                $"docs/integration.md names {cls}.{method}, which is not a test there");
    }
}
