// Two fake engines for ArchitectureTests.CrossEngineReferences_FindsAReferenceHiddenInAMethodBody: Alpha reaches into
// Beta inside a method body only (no signature mentions Beta); Beta references nobody.

namespace Selene.Contracts.Tests.Fixtures.Engines.Alpha
{
    /// <summary>Breaks mediation: calls another engine directly.</summary>
    public static class CallsBeta
    {
        public static int Total(int x) => Beta.Counter.Add(x, 1);
    }

    /// <summary>Keeps to itself.</summary>
    public static class Clean
    {
        public static int Double(int x) => x * 2;
    }
}

namespace Selene.Contracts.Tests.Fixtures.Engines.Beta
{
    /// <summary>An engine's own type.</summary>
    public static class Counter
    {
        public static int Add(int a, int b) => a + b;
    }
}
