using Selene.Runtime.Platform;
using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using Selene.Contracts;
using Selene.Runtime;

namespace Selene.Server.Tests;

/// <summary>
/// Bad input is never a server error: every simulation of the registry (the list comes from
/// <see cref="SimulationRegistry.Default"/>, not from this file), every field of its input, each replaced by a
/// hostile value — empty, huge, NUL, an escaped lone surrogate, a right-to-left override, a zero-width space, and
/// values of the wrong JSON type — is answered 4xx with a registered reason code and changes nothing but the journal
/// (and the record of a decided turn when the gate got to decide).
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class SimulationFuzzTests(SeleneServerFixture f)
{
    /// <summary>Tables a refusal may write: its journal entry, and a decided turn's own record.</summary>
    internal static readonly HashSet<string> RecordTables = new(StringComparer.Ordinal) { "journal", "journal_heads", "os_turn_decisions" };

    /// <summary>
    /// Raw JSON texts of the hostile values; <c>null</c> only where the field is required, a whole number only where it
    /// is not an integer, a boolean only where it is not a flag (there they are the field's own values: a quota of
    /// 12345 or <c>enabled: true</c> is a request like any other).
    /// </summary>
    private static IEnumerable<(string Name, string Json)> HostileValues(bool nullable, Type field)
    {
        return All().Where(v => !(v.Name == "number" && IsInteger(field)) && !(v.Name == "boolean" && field == typeof(bool)));

        IEnumerable<(string Name, string Json)> All()
        {
            yield return ("empty", "\"\"");
            yield return ("huge", JsonSerializer.Serialize(new string('x', 20_000)));
            yield return ("NUL", "\"a\\u0000b\"");
            yield return ("lone surrogate", "\"a\\ud800b\"");
            yield return ("right-to-left override", "\"a\\u202eb\"");
            yield return ("zero-width space", "\"a\\u200bb\"");
            yield return ("number", "12345");
            yield return ("fraction", "1.5");
            yield return ("boolean", "true");
            yield return ("array", "[\"a\\u0000\"]");
            yield return ("object", "{\"a\":1}");
            if (!nullable) yield return ("null", "null");
        }
    }

    private static bool IsInteger(Type t) => t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte) || t == typeof(uint) || t == typeof(ulong);

    public static TheoryData<string> Simulations() => new(SimulationRegistry.Default.Handlers.Select(h => h.Record.SimulationId));

    [Theory]
    [MemberData(nameof(Simulations))]
    public async Task EveryField_HostileValue_Is4xxWithARegisteredReasonCode_AndChangesNothing(string simulation)
    {
        Assert.True(SimulationRegistry.Default.TryGet(simulation, out var handler));
        var inputType = InputTypeOf(handler);
        var fields = Fields(inputType, []).ToList();
        Assert.NotEmpty(fields);
        var before = await f.TableCountsAsync();
        var failures = new List<string>();

        foreach (var (path, nullable, type) in fields)
        {
            foreach (var (name, json) in HostileValues(nullable, type))
            {
                var body = BaseBody(inputType);
                Set(body, path, Placeholder); // replaced textually below, so raw escapes reach the server as written
                var text = body.ToJsonString().Replace($"\"{Placeholder}\"", json, StringComparison.Ordinal);
                var reply = await f.Api.SimulateRawAsync(f.AliceKey, simulation, text, SeleneApi.NewIdempotencyKey());
                var code = reply.MediaType == SeleneApi.ProblemJson ? reply.ReasonCode : null;
                if ((int)reply.Status is < 400 or > 499 || code is null || !EngineModules.Reasons.TryGet(code, out _))
                    failures.Add($"{string.Join('.', path)} = {name}: {(int)reply.Status} {reply.Text[..Math.Min(reply.Text.Length, 300)]}");
            }
        }

        Assert.True(failures.Count == 0, $"{simulation}:\n{string.Join("\n", failures)}");
        var after = await f.TableCountsAsync();
        Assert.Equal(Without(before), Without(after));
    }

    /// <summary>The input record a handler reads (the first type argument of its generic handler type).</summary>
    internal static Type InputTypeOf(ISimulationHandler handler) =>
        handler.GetType().IsGenericType ? handler.GetType().GetGenericArguments()[0]
        : throw new InvalidOperationException($"cannot tell the input type of {handler.GetType().Name}");

    private const string Placeholder = "__FUZZ__";

    /// <summary>
    /// Every field of an input type as a path from the body's root, nested records and the first element of lists of
    /// records included, with whether the field may be null and its type.
    /// </summary>
    internal static IEnumerable<(object[] Path, bool Nullable, Type Type)> Fields(Type type, object[] prefix)
    {
        foreach (var p in StrictJson.Options.GetTypeInfo(type).Properties)
        {
            object[] path = [.. prefix, p.Name];
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            yield return (path, p.IsSetNullable, t);
            if (IsRecord(t))
                foreach (var nested in Fields(t, path)) yield return nested;
            else if (ElementOf(t) is { } element && IsRecord(element))
                foreach (var nested in Fields(element, [.. path, 0])) yield return nested;
        }
    }

    internal static bool IsRecord(Type t) =>
        !t.IsPrimitive && !t.IsEnum && t != typeof(string) && t != typeof(decimal) && t != typeof(JsonElement) && !typeof(JsonNode).IsAssignableFrom(t) &&
        !typeof(IEnumerable).IsAssignableFrom(t);

    internal static Type? ElementOf(Type t) =>
        t != typeof(string) && typeof(IEnumerable).IsAssignableFrom(t) && t.IsGenericType ? t.GetGenericArguments()[^1] : null;

    internal static void Set(JsonNode node, object[] path, JsonNode value)
    {
        for (var i = 0; i < path.Length - 1; i++) node = path[i] is int index ? node[index]! : node[(string)path[i]]!;
        if (path[^1] is int last) node[last] = value;
        else node[(string)path[^1]] = value;
    }

    /// <summary>A body with a plausible value for every field, so that the one hostile field is what the server judges.</summary>
    internal static JsonObject BaseBody(Type type)
    {
        var body = new JsonObject();
        foreach (var p in StrictJson.Options.GetTypeInfo(type).Properties) body[p.Name] = Plausible(p.PropertyType);
        return body;
    }

    private static JsonNode? Plausible(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(string)) return "fuzz1";
        if (t == typeof(bool)) return true;
        if (t.IsEnum) return JsonSerializer.SerializeToNode(Enum.GetValues(t).GetValue(0), t, StrictJson.Options);
        if (t.IsPrimitive || t == typeof(decimal)) return 1;
        if (t == typeof(JsonElement) || t == typeof(JsonObject) || t == typeof(JsonNode)) return new JsonObject();
        if (ElementOf(t) is { } element) return IsRecord(element) ? new JsonArray(BaseBody(element)) : new JsonArray(Plausible(element));
        if (typeof(IEnumerable).IsAssignableFrom(t)) return new JsonArray();
        return BaseBody(t);
    }

    internal static Dictionary<string, long> Without(Dictionary<string, long> counts) =>
        counts.Where(c => !RecordTables.Contains(c.Key)).ToDictionary(c => c.Key, c => c.Value);
}
