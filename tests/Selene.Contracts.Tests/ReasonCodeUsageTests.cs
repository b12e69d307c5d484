using Selene.Runtime.Platform;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Selene.Contracts.Tests;

/// <summary>Every reason code the code base uses — in C#, in SQL, in string literals — is registered.</summary>
public sealed partial class ReasonCodeUsageTests
{
    private static readonly string[] ProductAssemblies =
        ["Selene.Contracts", "Selene.Engines", "Selene.Learning", "Selene.Postgres", "Selene.Runtime", "Selene.Server"];

    // The append-only triggers raise 'SELENE:<CODE> ...'.
    [GeneratedRegex("SELENE:([A-Z_]+)")]
    private static partial Regex SqlRaisedCode();

    // The reason passed to the trigger helpers: make_append_only(tbl, '<CODE>') and forbid_mutation('<CODE>').
    [GeneratedRegex(@"(?:make_append_only\s*\([^,()]+,|forbid_mutation\s*\()\s*'([A-Z][A-Z0-9_]*)'")]
    private static partial Regex SqlTriggerArgument();

    // String literals that look like reason names.
    [GeneratedRegex("\"([A-Z][A-Z0-9_]+_(?:OK|INVALID|VIOLATION|REQUIRED|MISSING|REUSED|UNKNOWN|NOT_FOUND|MISMATCH|FAILED|BROKEN|UNAVAILABLE|NOT_ACTIVE|NOT_ALLOWED|TOO_LARGE|UNSUPPORTED))\"")]
    private static partial Regex ReasonLikeLiteral();

    private static IReadOnlyList<Assembly> SeleneAssemblies()
    {
        foreach (var path in Directory.EnumerateFiles(AppContext.BaseDirectory, "Selene.*.dll"))
        {
            var name = AssemblyName.GetAssemblyName(path);
            if (name.Name is { } n && !n.EndsWith(".Tests", StringComparison.Ordinal)) Assembly.Load(name);
        }
        return AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name is { } n && n.StartsWith("Selene.", StringComparison.Ordinal) && !n.EndsWith(".Tests", StringComparison.Ordinal))
            .ToArray();
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }

    private static bool IsRegisteredName(string name) => EngineModules.Reasons.TryGet(name, out _);

    [Fact]
    public void Reflection_SeesEveryProductAssembly()
    {
        var loaded = SeleneAssemblies().Select(a => a.GetName().Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(ProductAssemblies, name => Assert.Contains(name, loaded));
    }

    [Fact]
    public void StaticReasonCodeMembers_InEverySeleneAssembly_AreRegistered()
    {
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var seen = new List<(string Where, ReasonCode Code)>();
        foreach (var type in SeleneAssemblies().SelectMany(LoadableTypes).Where(t => !t.ContainsGenericParameters))
        {
            foreach (var field in type.GetFields(flags).Where(f => f.FieldType == typeof(ReasonCode)))
            {
                if (field.GetValue(null) is ReasonCode code) seen.Add(($"{type.FullName}.{field.Name}", code));
            }
            foreach (var property in type.GetProperties(flags).Where(p => p.PropertyType == typeof(ReasonCode) && p.GetMethod is not null && p.GetIndexParameters().Length == 0))
            {
                if (property.GetValue(null) is ReasonCode code) seen.Add(($"{type.FullName}.{property.Name}", code));
            }
        }

        Assert.True(seen.Count >= EngineModules.Reasons.All.Count, $"reflection found only {seen.Count} ReasonCode members");
        var unregistered = seen.Where(s => !EngineModules.Reasons.All.Contains(s.Code))
            .Select(s => $"{s.Where} = {s.Code.Name}").ToArray();
        Assert.Empty(unregistered);
    }

    [Fact]
    public void CatalogReasonCodes_AreRegistered()
    {
        var unregistered = EngineModules.All.SelectMany(m => m.Simulations).Select(s => s.Record)
            .SelectMany(r => r.ReasonCodes.Select(c => (r.SimulationId, Code: c)))
            .Where(x => !EngineModules.Reasons.All.Contains(x.Code))
            .Select(x => $"{x.SimulationId}: {x.Code.Name}")
            .ToArray();
        Assert.Empty(unregistered);
    }

    [Fact]
    public void SqlMigrations_RaiseOnlyRegisteredCodes()
    {
        var files = RepoPaths.SourceFiles(".sql");
        Assert.NotEmpty(files);
        var found = new List<(string File, string Name)>();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            found.AddRange(SqlRaisedCode().Matches(text).Select(m => (RepoPaths.Relative(file), m.Groups[1].Value)));
            found.AddRange(SqlTriggerArgument().Matches(text).Select(m => (RepoPaths.Relative(file), m.Groups[1].Value)));
        }

        Assert.NotEmpty(found);
        var unregistered = found.Where(f => !IsRegisteredName(f.Name)).Select(f => $"{f.File}: {f.Name}").Distinct().ToArray();
        Assert.Empty(unregistered);
    }

    [Fact]
    public void CSharpLiterals_ThatLookLikeReasonCodes_AreRegistered()
    {
        var files = RepoPaths.SourceFiles(".cs");
        Assert.NotEmpty(files);
        var found = files
            .SelectMany(file => ReasonLikeLiteral().Matches(File.ReadAllText(file)).Select(m => (File: RepoPaths.Relative(file), Name: m.Groups[1].Value)))
            .ToArray();

        Assert.NotEmpty(found);
        var unregistered = found.Where(f => !IsRegisteredName(f.Name) && !IsOsGuardName(f.Name)).Select(f => $"{f.File}: {f.Name}").Distinct().ToArray();
        Assert.Empty(unregistered);
    }

    // PH1.OS guard_failures (reference §1.3: SESSION_GATE_FAILED …) name failed gates inside a policy evaluation;
    // they are not reason codes (each gate's code is OS_FAIL_*), so the literal scan exempts exactly that list.
    private static bool IsOsGuardName(string name) => Selene.Kernel.Os.OsGuardFailureNames.All.Contains(name, StringComparer.Ordinal);
}
