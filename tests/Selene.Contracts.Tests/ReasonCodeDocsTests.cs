using Selene.Runtime.Platform;
using System.Globalization;
using System.Text;
using Selene.Server;

namespace Selene.Contracts.Tests;

/// <summary>docs/reason-codes.md is generated from the registry; set SELENE_UPDATE_DOCS=1 to rewrite it.</summary>
public sealed class ReasonCodeDocsTests
{
    private const string DocPath = "docs/reason-codes.md";

    internal static string Render(IReadOnlyList<ReasonCode> codes)
    {
        var md = new StringBuilder();
        md.Append("# Reason codes\n\n");
        md.Append("<!-- Generated from the registry (kernel codes and every engine module's) by the test ReasonCodeDocs_MatchRegistry; do not edit by hand.\n");
        md.Append("     Refresh with: SELENE_UPDATE_DOCS=1 dotnet test tests/Selene.Contracts.Tests -->\n\n");
        md.Append("Every outcome Selene reports carries one registered reason code. The name is the contract (UPPER_SNAKE, never\n");
        md.Append("reused); the numeric id is stable once allocated. Ids come in blocks of 1000 per owning engine; inside a block,\n");
        md.Append("x0xx are success codes and x1xx and above are refusals and failures.\n\n");
        md.Append("Each code has a kind, and its HTTP status follows from the kind alone; so does the journal field a refusal with\n");
        md.Append("that code names it in (failure or policy, docs/journal.md):\n\n");
        md.Append("| kind | HTTP status | journal field of a refusal |\n");
        md.Append("|---|---:|---|\n");
        foreach (var kind in Enum.GetValues<ReasonKind>())
        {
            var field = RefusalClassification.Of(kind) is { } refusal ? $"`{RefusalClassification.FieldOf(refusal)}`" : "none (not a refusal)";
            md.Append(CultureInfo.InvariantCulture, $"| {WireNames.Of(kind)} | {Problems.StatusFor(kind)} | {field} |\n");
        }
        if (EngineModules.Reasons.RetiredNames.Count > 0)
        {
            md.Append("\nRetired names (stored results and journal entries written under them still resolve to the code):\n\n");
            md.Append("| retired name | now |\n");
            md.Append("|---|---|\n");
            foreach (var (retired, code) in EngineModules.Reasons.RetiredNames.OrderBy(r => r.Value.Id))
                md.Append(CultureInfo.InvariantCulture, $"| `{retired}` | `{code.Name}` |\n");
        }

        foreach (var group in codes.GroupBy(c => c.Engine, StringComparer.Ordinal).OrderBy(g => g.Min(c => c.Id)))
        {
            var block = group.Min(c => c.Id) / 1000;
            md.Append(CultureInfo.InvariantCulture, $"\n## {group.Key} ({block}xxx)\n\n");
            md.Append("| name | id | severity | kind | HTTP | retryable |\n");
            md.Append("|---|---:|---|---|---:|---|\n");
            foreach (var c in group.OrderBy(c => c.Id))
            {
                md.Append(CultureInfo.InvariantCulture,
                    $"| `{c.Name}` | {c.Id} | {c.Severity.ToString().ToUpperInvariant()} | {WireNames.Of(c.Kind)} | {Problems.StatusFor(c)} | {(c.Retryable ? "yes" : "no")} |\n");
            }
        }
        return md.ToString();
    }

    [Fact]
    public void ReasonCodeDocs_MatchRegistry()
    {
        var path = Path.Combine(RepoPaths.Root, DocPath);
        var expected = Render(EngineModules.Reasons.All);
        if (Environment.GetEnvironmentVariable("SELENE_UPDATE_DOCS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, expected, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }

        Assert.True(File.Exists(path), $"{DocPath} is missing; run the tests with SELENE_UPDATE_DOCS=1");
        var actual = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Render_ListsEveryCodeOnce()
    {
        var rendered = Render(EngineModules.Reasons.All);
        Assert.All(EngineModules.Reasons.All, c => Assert.Single(rendered.Split('\n'), line => line.StartsWith($"| `{c.Name}` |", StringComparison.Ordinal)));
    }
}
