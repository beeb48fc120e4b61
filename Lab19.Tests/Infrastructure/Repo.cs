// Repo: where the repository and the solution's build output are, for tests that read the lab's files or start its builds.
using System.Reflection;

namespace Lab19.Tests.Infrastructure;

/// <summary>The repository the tests run in, and where the solution's build put each project.</summary>
public static class Repo
{
    /// <summary>The repository root: the folder that holds Lab19.Aspire.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The configuration the tests (and so the solution) were built in.</summary>
    public static string Configuration { get; } =
        typeof(Repo).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

    /// <summary>Where the solution's build put <paramref name="project"/> (e.g. "PointService").</summary>
    public static string BuildOutput(string project) => PathOf(project, "bin", Configuration, "net10.0");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lab19.Aspire.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Lab19.Aspire.sln not found above " + AppContext.BaseDirectory);
    }
}
