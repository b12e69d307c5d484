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
}
