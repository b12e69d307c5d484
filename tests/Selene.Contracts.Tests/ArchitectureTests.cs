using System.Reflection;
using System.Text.RegularExpressions;
using NetArchTest.Rules;
using Selene.Engines.CapReq;
using Selene.Kernel.Os;

namespace Selene.Contracts.Tests;

/// <summary>
/// Guard rails that keep the layers in shape (issue 9 item 7), checked on the compiled IL (signatures and method
/// bodies), so a dependency cannot hide behind a lambda or a fully qualified name:
/// the pure assemblies (Contracts, Kernel, Engines, Learning) reference nothing that does I/O; no engine references another
/// engine (seed build plan P0 "enforce mediation": only the runtime sequences engines); the server references no store
/// and no Npgsql (its reads go through the runtime); the banned-API list that
/// the pure projects compile against names every overload it means.
/// </summary>
public sealed class ArchitectureTests
{
    public static TheoryData<string> PureAssemblies => new() { "Selene.Contracts", "Selene.Kernel", "Selene.Engines", "Selene.Learning" };

    private static Assembly Load(string name) => name switch
    {
        "Selene.Contracts" => typeof(ReasonCodes).Assembly,
        "Selene.Kernel" => typeof(OsGate).Assembly,
        "Selene.Engines" => typeof(CapreqDecider).Assembly,
        "Selene.Learning" => typeof(Selene.Learning.Binder).Assembly,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a pure assembly"),
    };

    /// <summary>
    /// What a pure assembly may reference: the base library's in-memory parts and the pure assemblies below it. A new
    /// reference is a deliberate decision, made here.
    /// </summary>
    private static readonly HashSet<string> AllowedReferences = new(StringComparer.Ordinal)
    {
        "System.Runtime", "System.Collections", "System.Collections.Immutable", "System.Linq", "System.Memory",
        "System.Text.Json", "System.Text.Encodings.Web", "System.Text.RegularExpressions", "System.Security.Cryptography",
        "System.Runtime.InteropServices", "System.Runtime.Intrinsics", "System.Numerics.Vectors", "System.ObjectModel",
        "Selene.Contracts", "Selene.Kernel",
        // PH1.REM's time zones and calendar arithmetic: the IANA database is data inside the package; the host's clock and
        // zones (SystemClock, DateTimeZoneProviders.Bcl, GetSystemDefault) are banned in source (BannedSymbols.txt).
        "NodaTime",
    };

    /// <summary>
    /// Namespaces and types that do I/O or reach outside the process; none may appear in a pure assembly's IL.
    /// (System.Environment is banned in source by BannedSymbols.txt but not here: the compiler's own iterator code
    /// reads Environment.CurrentManagedThreadId.)
    /// </summary>
    private static readonly string[] IoDependencies =
    [
        "System.IO", "System.Net", "System.Data", "System.Console", "System.Diagnostics.Process", "System.Diagnostics.Stopwatch",
        "System.Random", "System.Threading.Thread", "System.Threading.Timer", "System.TimeProvider",
        "Npgsql", "Microsoft.AspNetCore", "Microsoft.Extensions", "Selene.Postgres", "Selene.Runtime", "Selene.Server", "Selene.Cli",
    ];

    [Theory]
    [MemberData(nameof(PureAssemblies))]
    public void PureAssembly_ReferencesOnlyInMemoryAssemblies(string name)
    {
        var unexpected = Load(name).GetReferencedAssemblies().Select(a => a.Name!).Where(a => !AllowedReferences.Contains(a)).Order().ToArray();
        Assert.Empty(unexpected);
    }

    [Theory]
    [MemberData(nameof(PureAssemblies))]
    public void PureAssembly_UsesNothingThatDoesIo(string name)
    {
        var result = Types.InAssembly(Load(name)).Should().NotHaveDependencyOnAny(IoDependencies).GetResult();
        Assert.True(result.IsSuccessful, $"{name} types that use I/O: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Server_TouchesNoStoreAndNoSql()
    {
        // The server's doors read and write through the runtime (engine modules' read routes, KernelReads, the executors).
        var result = Types.InAssembly(typeof(Selene.Server.SeleneApp).Assembly).Should().NotHaveDependencyOnAny("Selene.Postgres.Stores", "Npgsql").GetResult();
        Assert.True(result.IsSuccessful, $"Selene.Server types that touch a store or Npgsql: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Engines_NoEngineReferencesAnother()
    {
        var assembly = typeof(CapreqDecider).Assembly;
        Assert.True(EngineNamespaces(assembly, "Selene.Engines").Count >= 4, "the engines were not found");
        Assert.Empty(CrossEngineReferences(assembly, "Selene.Engines"));
    }

    [Fact]
    public void Engines_NoTypeOutsideAnEngine()
    {
        // A type shared by engines belongs in Kernel or Contracts, not loose in Selene.Engines.
        var loose = typeof(CapreqDecider).Assembly.GetTypes().Where(t => t.Namespace == "Selene.Engines").Select(t => t.FullName).ToArray();
        Assert.Empty(loose);
    }

    [Fact]
    public void CrossEngineReferences_FindsAReferenceHiddenInAMethodBody()
    {
        // The rule itself, proven on a fixture: Alpha uses a Beta type only inside a method body.
        var found = CrossEngineReferences(typeof(ArchitectureTests).Assembly, "Selene.Contracts.Tests.Fixtures.Engines");
        Assert.Equal([typeof(Fixtures.Engines.Alpha.CallsBeta).FullName!], found);
    }

    /// <summary>The engine namespaces directly under <paramref name="root"/> (Selene.Engines.CapReq ⇒ CapReq).</summary>
    private static IReadOnlyList<string> EngineNamespaces(Assembly assembly, string root) => assembly.GetTypes()
        .Select(t => t.Namespace)
        .OfType<string>()
        .Where(ns => ns.StartsWith(root + ".", StringComparison.Ordinal))
        .Select(ns => ns[(root.Length + 1)..].Split('.')[0])
        .Distinct(StringComparer.Ordinal)
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>Every type of one engine under <paramref name="root"/> that depends on a type of another engine there.</summary>
    internal static IReadOnlyList<string> CrossEngineReferences(Assembly assembly, string root)
    {
        var engines = EngineNamespaces(assembly, root);
        var failing = new List<string>();
        foreach (var engine in engines)
        {
            var others = engines.Where(e => e != engine).Select(e => $"{root}.{e}").ToArray();
            if (others.Length == 0) continue;
            var result = Types.InAssembly(assembly)
                .That().ResideInNamespaceMatching($"^{Regex.Escape(root + "." + engine)}(\\..*)?$")
                .Should().NotHaveDependencyOnAny(others)
                .GetResult();
            if (!result.IsSuccessful) failing.AddRange(result.FailingTypeNames);
        }
        return failing.Order(StringComparer.Ordinal).ToArray();
    }

    public static TheoryData<string> ClosedOverloads => new() { "Run", "Delay" };

    [Theory]
    [MemberData(nameof(ClosedOverloads))]
    public void BannedSymbols_ListEveryOverloadOfTask(string method)
    {
        var banned = BannedSymbols();
        var overloads = typeof(Task).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name == method).Select(DocumentationId).ToArray();
        Assert.NotEmpty(overloads);
        Assert.All(overloads, id => Assert.Contains(id, banned));
    }

    [Theory]
    [InlineData("T:System.Diagnostics.Stopwatch")]
    [InlineData("T:System.Net.Http.HttpClient")]
    [InlineData("T:System.IO.File")]
    [InlineData("T:System.IO.Directory")]
    [InlineData("T:System.IO.Path")]
    [InlineData("T:System.IO.FileStream")]
    [InlineData("T:System.Environment")]
    [InlineData("T:System.Random")]
    public void BannedSymbols_BanTheWholeType(string id) => Assert.Contains(id, BannedSymbols());

    private static HashSet<string> BannedSymbols() => File.ReadAllLines(Path.Combine(RepoPaths.Src, "BannedSymbols.txt"))
        .Select(l => l.Trim())
        .Where(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal))
        .Select(l => l.Split(';')[0])
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The documentation comment id of a method, the form BannedSymbols.txt uses.</summary>
    private static string DocumentationId(MethodInfo m)
    {
        var generic = m.IsGenericMethodDefinition ? "``" + m.GetGenericArguments().Length : "";
        var parameters = m.GetParameters();
        var list = parameters.Length == 0 ? "" : "(" + string.Join(",", parameters.Select(p => TypeId(p.ParameterType))) + ")";
        return $"M:{m.DeclaringType!.FullName}.{m.Name}{generic}{list}";
    }

    private static string TypeId(Type t)
    {
        if (t.IsGenericMethodParameter) return "``" + t.GenericParameterPosition;
        if (t.IsGenericTypeParameter) return "`" + t.GenericParameterPosition;
        if (t.IsArray) return TypeId(t.GetElementType()!) + "[]";
        if (t.IsByRef) return TypeId(t.GetElementType()!) + "@";
        if (!t.IsGenericType) return t.FullName!;
        var name = t.GetGenericTypeDefinition().FullName!;
        return name[..name.IndexOf('`', StringComparison.Ordinal)] + "{" + string.Join(",", t.GetGenericArguments().Select(TypeId)) + "}";
    }
}
