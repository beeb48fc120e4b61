// FakeHostProbe: a Linux host that can run Beyla, standing in for the real host in the preflight's tests (each test breaks one fact).
using System.Text.Json;

namespace Lab19.Tests.Infrastructure;

/// <summary>A Linux host that can run Beyla; each test breaks one fact.</summary>
internal sealed class FakeHostProbe : IHostProbe
{
    public const string Release = "6.8.0-45-generic";

    /// <summary>path → content; a null content is a file that exists but cannot be read.</summary>
    public Dictionary<string, string?> Files { get; } = new()
    {
        [BeylaPreflight.OsReleasePath] = Release + "\n",
        [BeylaPreflight.BtfPath] = "",
        [BeylaPreflight.KprobePmuPath] = "6\n",
        [BeylaPreflight.LockdownPath] = "[none] integrity confidentiality\n",
        ["/etc/os-release"] = "ID=ubuntu\nID_LIKE=debian\n",
    };

    public bool IsLinux { get; init; } = true;
    public bool IsMacOS { get; init; }
    public bool IsRoot { get; init; }

    /// <summary>directory → the directories in it (for the search of database server binaries).</summary>
    public Dictionary<string, string[]> Directories { get; } = [];

    public Dictionary<string, string> Environment { get; } = new() { ["PATH"] = "/usr/local/bin:/usr/bin:/bin" };
    public CommandResult Docker { get; set; } = new(0, DockerInfo(), "");
    public List<string> Commands { get; } = [];
    public List<string> Reads { get; } = [];

    public bool Exists(string path)
    {
        Reads.Add(path);
        return Files.ContainsKey(path);
    }

    public IReadOnlyList<string> ListDirectories(string path) => Directories.GetValueOrDefault(path) ?? [];

    public string? GetEnvironmentVariable(string name) => Environment.GetValueOrDefault(name);

    /// <summary>Debian's PostgreSQL 15 and MariaDB packages, as installed.</summary>
    public FakeHostProbe WithDatabaseServers()
    {
        Directories["/usr/lib/postgresql"] = ["/usr/lib/postgresql/15"];
        foreach (var file in new[] { "/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/initdb", "/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db" })
        {
            Files[file] = "";
        }
        return this;
    }

    public string? ReadText(string path)
    {
        Reads.Add(path);
        return Files.GetValueOrDefault(path);
    }

    /// <summary>Runs the docker command for real instead of answering <see cref="Docker"/>, when set.</summary>
    public Func<IReadOnlyList<string>, CancellationToken, Task<CommandResult>>? DockerCommand { get; init; }

    public Task<CommandResult> RunAsync(string command, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Commands.Add($"{command} {string.Join(' ', args)}");
        Assert.Equal("docker", command);
        return DockerCommand is null ? Task.FromResult(Docker) : DockerCommand(args, cancellationToken);
    }

    /// <summary>What `docker info --format {{json .}}` prints for a rootful engine on <paramref name="kernel"/>.</summary>
    public static string DockerInfo(string os = "Ubuntu 24.04.1 LTS", string kernel = Release, params string[] security) =>
        JsonSerializer.Serialize(new
        {
            ServerVersion = "28.2.2",
            OperatingSystem = os,
            OSType = "linux",
            KernelVersion = kernel,
            SecurityOptions = security.Length == 0 ? ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"] : security,
        });
}

/// <summary>Runs the preflight on a fake host and reads its report.</summary>
internal static class PreflightAssert
{
    public static async Task<PreflightReport> RunAsync(FakeHostProbe host) => await BeylaPreflight.RunAsync(host, TestContext.Current.CancellationToken);

    public static PreflightCheck Check(PreflightReport report, string name) => Assert.Single(report.Checks, c => c.Name == name);

    /// <summary>Exactly one check failed, the named one, and its line says what and what to do.</summary>
    public static PreflightCheck AssertOnlyFailure(PreflightReport report, string name)
    {
        var failure = Assert.Single(report.Failures);
        Assert.Equal(name, failure.Name);
        Assert.False(report.CanRunBeyla);
        Assert.False(string.IsNullOrWhiteSpace(failure.Fix));
        Assert.StartsWith("FAIL  ", failure.Line);
        Assert.Contains(" → ", failure.Line);
        return failure;
    }
}
