namespace Selene.Contracts.Tests;

/// <summary>Finds the repository root (the folder that holds Selene.slnx) from the test output folder.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Src => Path.Combine(Root, "src");

    /// <summary>Files under src/ with the given extension, skipping build output.</summary>
    public static IReadOnlyList<string> SourceFiles(string extension) =>
        Directory.EnumerateFiles(Src, "*" + extension, SearchOption.AllDirectories)
            .Where(p => !IsBuildOutput(p))
            .Order(StringComparer.Ordinal)
            .ToArray();

    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static bool IsBuildOutput(string path)
    {
        var parts = Path.GetRelativePath(Src, path).Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        return parts.Any(p => p is "bin" or "obj");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Selene.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no Selene.slnx above {AppContext.BaseDirectory}");
    }
}
