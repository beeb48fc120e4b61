namespace Lab19.AppHost;

/// <summary>Which capabilities a Docker Engine accepts in --cap-add, by its version.</summary>
internal static class DockerCapabilities
{
    private static readonly TimeSpan DockerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Capabilities that CAP_SYS_ADMIN also grants (bpf_capable, perfmon_capable, checkpoint_restore_ns_capable in the kernel).</summary>
    private static readonly string[] SysAdminSplits = ["BPF", "PERFMON", "CHECKPOINT_RESTORE"];

    /// <summary>
    /// Docker Engine before 23.0 rejects BPF, PERFMON and CHECKPOINT_RESTORE ("invalid CapAdd: unknown capability", moby/moby#42601);
    /// there they are left out when SYS_ADMIN is granted as well, which the kernel accepts for each of them (and so does Beyla:
    /// "if sys admin is set, we have all capabilities", vendor/go.opentelemetry.io/obi/pkg/obi/os.go).
    /// </summary>
    public static IEnumerable<string> Accepted(IReadOnlyCollection<string> capabilities, int? engineMajorVersion) =>
        capabilities.Contains("SYS_ADMIN") && engineMajorVersion is < 23 ? capabilities.Except(SysAdminSplits) : capabilities;

    /// <summary>The Docker Engine's major version, or null where no engine answers.</summary>
    public static async Task<int?> EngineMajorVersionAsync()
    {
        var version = await HostProbes.Current.RunAsync("docker", ["version", "--format", "{{.Server.Version}}"], DockerTimeout, CancellationToken.None);
        var major = version.StandardOutput.Trim().Split('.')[0];
        return version.ExitCode == 0 && int.TryParse(major, out var value) ? value : null;
    }
}
