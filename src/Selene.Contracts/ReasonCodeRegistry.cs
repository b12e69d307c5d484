using System.Collections.Frozen;
using System.Reflection;

namespace Selene.Contracts;

/// <summary>
/// A set of registered reason codes, looked up by name. Built from the kernel's codes and every engine's, it holds
/// the registry's rules: names and ids unique, every code of one engine in that engine's block of 1000 ids and no two
/// engines in one block, a retired name never the name of a live code. Construction throws when a rule is broken, so
/// a process with a clashing code does not start.
/// </summary>
public sealed class ReasonCodeRegistry
{
    private readonly FrozenDictionary<string, ReasonCode> byName;

    /// <param name="codes">The registered codes (a code listed twice counts once).</param>
    /// <param name="retiredNames">
    /// Names codes carried before they were renamed, with the code each now resolves to. Stored results and journal
    /// entries keep the name they were written with (the journal's hash chain covers it), so <see cref="TryGet"/>
    /// still resolves them; a retired name is never given to another code.
    /// </param>
    public ReasonCodeRegistry(IEnumerable<ReasonCode> codes, IEnumerable<KeyValuePair<string, ReasonCode>>? retiredNames = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        All = codes.Distinct().OrderBy(c => c.Id).ToArray();
        Fail(All.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => $"id {g.Key} is taken by {string.Join(", ", g.Select(c => c.Name))}"));
        Fail(All.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"name {g.Key} is registered twice"));
        Fail(All.GroupBy(c => c.Engine, StringComparer.Ordinal).Where(g => g.Select(c => c.Id / 1000).Distinct().Count() > 1)
            .Select(g => $"{g.Key} spans more than one block of 1000 ids"));
        Fail(All.GroupBy(c => c.Id / 1000).Where(g => g.Select(c => c.Engine).Distinct(StringComparer.Ordinal).Count() > 1)
            .Select(g => $"block {g.Key}xxx is shared by {string.Join(", ", g.Select(c => c.Engine).Distinct(StringComparer.Ordinal))}"));
        byName = All.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);

        var retired = new Dictionary<string, ReasonCode>(StringComparer.Ordinal);
        foreach (var (name, code) in retiredNames ?? [])
        {
            if (byName.ContainsKey(name)) throw new InvalidOperationException($"reason code registry: retired name {name} is a live code's name");
            if (!byName.ContainsKey(code.Name)) throw new InvalidOperationException($"reason code registry: retired name {name} resolves to unregistered {code.Name}");
            if (!retired.TryAdd(name, code)) throw new InvalidOperationException($"reason code registry: retired name {name} is listed twice");
        }
        RetiredNames = retired.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every registered code, in id order.</summary>
    public IReadOnlyList<ReasonCode> All { get; }

    /// <summary>Retired names and the live code each resolves to.</summary>
    public IReadOnlyDictionary<string, ReasonCode> RetiredNames { get; }

    /// <summary>A registry with this one's codes and retired names and <paramref name="codes"/> and <paramref name="retiredNames"/> besides.</summary>
    public ReasonCodeRegistry Extend(IEnumerable<ReasonCode> codes, IEnumerable<KeyValuePair<string, ReasonCode>>? retiredNames = null) =>
        new(All.Concat(codes), RetiredNames.Concat(retiredNames ?? []));

    /// <summary>Looks a code up by name, current or retired (for reading back journals and stored results).</summary>
    public bool TryGet(string name, out ReasonCode code)
    {
        if (byName.TryGetValue(name, out var found) || RetiredNames.TryGetValue(name, out found))
        {
            code = found;
            return true;
        }
        code = ReasonCodes.InternalError;
        return false;
    }

    /// <summary>The codes a code class declares: its public static <see cref="ReasonCode"/> fields, in id order.</summary>
    public static IReadOnlyList<ReasonCode> DeclaredIn(Type codeClass)
    {
        ArgumentNullException.ThrowIfNull(codeClass);
        return codeClass.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(ReasonCode))
            .Select(f => (ReasonCode)f.GetValue(null)!)
            .OrderBy(c => c.Id)
            .ToArray();
    }

    private static void Fail(IEnumerable<string> problems)
    {
        var list = problems.ToArray();
        if (list.Length > 0) throw new InvalidOperationException("reason code registry: " + string.Join("; ", list));
    }
}
