using System.Collections.Frozen;
using System.Text.Json;

namespace Selene.Contracts;

/// <summary>
/// Another token that names an enum member on the wire: accepted when reading, never written. For a seed's own
/// spelling kept beside the UPPER_SNAKE name (ApplyScope: <c>NewHiresOnly</c> beside <c>NEW_HIRES_ONLY</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = true)]
public sealed class WireAliasAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// The one mapping between enum members and their UPPER_SNAKE names on the wire and in storage
/// (PendingApproval ⇔ PENDING_APPROVAL, Dtl4 ⇔ DTL4), the same names the strict JSON options write. Reading also
/// accepts a member's <see cref="WireAliasAttribute"/> tokens, exactly (ordinal); writing always gives the name.
/// </summary>
public static class WireNames
{
    public static string Of<T>(T value) where T : struct, Enum => Names<T>.ByValue[value];

    public static bool TryParse<T>(string? name, out T value) where T : struct, Enum =>
        Names<T>.ByName.TryGetValue(name ?? "", out value);

    public static T Parse<T>(string name) where T : struct, Enum =>
        TryParse<T>(name, out var value) ? value : throw new FormatException($"'{name}' is not a {typeof(T).Name}");

    private static class Names<T> where T : struct, Enum
    {
        public static readonly FrozenDictionary<T, string> ByValue =
            Enum.GetValues<T>().ToFrozenDictionary(v => v, v => JsonNamingPolicy.SnakeCaseUpper.ConvertName(v.ToString()));

        public static readonly FrozenDictionary<string, T> ByName = ByValue
            .Select(p => (Name: p.Value, Value: p.Key))
            .Concat(Enum.GetValues<T>().SelectMany(v => typeof(T).GetField(v.ToString())!
                .GetCustomAttributes(typeof(WireAliasAttribute), false).Cast<WireAliasAttribute>().Select(a => (a.Name, Value: v))))
            .ToFrozenDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
    }
}
