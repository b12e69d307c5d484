using System.Reflection;
using System.Runtime.CompilerServices;
using Selene.Engines.CapReq;

namespace Selene.Contracts.Tests;

/// <summary>NodaTime's MutabilityTest idea: the public records of the pure assemblies cannot be changed after construction.</summary>
public sealed class ImmutabilityTests
{
    private static readonly Assembly[] PureAssemblies = [typeof(ReasonCode).Assembly, typeof(CapreqDecider).Assembly];

    private static bool IsRecord(Type type)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        return type.GetMethod("<Clone>$", flags) is not null // record class
            || (type.IsValueType && type.GetMethod("PrintMembers", flags, [typeof(System.Text.StringBuilder)]) is not null); // record struct
    }

    private static IReadOnlyList<Type> PublicRecords() =>
        PureAssemblies.SelectMany(a => a.GetTypes()).Where(t => t.IsVisible && IsRecord(t)).OrderBy(t => t.FullName, StringComparer.Ordinal).ToArray();

    private static bool IsInitOnly(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    [Fact]
    public void PublicRecords_IncludeEventsStateAndCommands()
    {
        var records = PublicRecords();
        Assert.Contains(typeof(CapreqEvent), records);
        Assert.Contains(typeof(CapreqState), records);
        Assert.Contains(typeof(CapreqCommand), records);
        Assert.Contains(typeof(CreateCapreqDraft), records);
        Assert.Contains(typeof(CapreqTransition), records);
        Assert.Contains(typeof(CapreqContext), records);
        Assert.Contains(typeof(JournalRecord), records);
        Assert.Contains(typeof(ReasonCode), records);
        Assert.Contains(typeof(CorrelationId), records);
        Assert.Contains(typeof(UnixNanos), records);
        Assert.Contains(typeof(Decision<>.Accepted), records);
    }

    [Fact]
    public void PublicRecords_HaveNoPublicSetterOtherThanInit()
    {
        var mutable = PublicRecords()
            .SelectMany(t => t.GetProperties(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public)
                .Where(p => p.SetMethod is { IsPublic: true } setter && !IsInitOnly(setter))
                .Select(p => $"{t.FullName}.{p.Name}"))
            .ToArray();
        Assert.Empty(mutable);
    }

    [Fact]
    public void PublicRecords_HaveNoWritablePublicField()
    {
        var mutable = PublicRecords()
            .SelectMany(t => t.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public)
                .Where(f => !f.IsInitOnly && !f.IsLiteral)
                .Select(f => $"{t.FullName}.{f.Name}"))
            .ToArray();
        Assert.Empty(mutable);
    }

    [Fact]
    public void PublicStaticClasses_HaveNoWritableStaticState()
    {
        var mutable = PureAssemblies.SelectMany(a => a.GetTypes())
            .Where(t => t.IsVisible)
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public)
                .Where(f => !f.IsInitOnly && !f.IsLiteral)
                .Select(f => $"{t.FullName}.{f.Name}")
                .Concat(t.GetProperties(BindingFlags.Static | BindingFlags.Public)
                    .Where(p => p.SetMethod is { IsPublic: true })
                    .Select(p => $"{t.FullName}.{p.Name}")))
            .ToArray();
        Assert.Empty(mutable);
    }
}
