using System.Text.Json;
using System.Text.RegularExpressions;

namespace Lab19.AppHost;

/// <summary>
/// The checks, each reading its facts through an <see cref="IHostProbe"/>. The kernel rules are Beyla's own
/// (grafana/beyla v3.33.0, vendor/go.opentelemetry.io/obi/pkg/obi/os.go: kernel 5.8+, or 4.18 on RHEL-based systems, and BTF),
/// the kprobe check mirrors how Beyla's eBPF library attaches kprobes (vendor/github.com/cilium/ebpf/link/kprobe.go: the kprobe
/// PMU, else tracefs), the lockdown check reads the file Beyla reads (vendor/go.opentelemetry.io/obi/pkg/ebpf/common/common.go,
/// KernelLockdownMode) and fails only [confidentiality], and 5.17 is where Beyla switches from bounded header parsing to BPF loops (same file, SupportsEBPFLoops).
/// The Docker checks are the lab's: Beyla must share the kernel and the PID namespace of the services.
/// </summary>
internal static partial class BeylaPreflight
{
    public const string Linux = "linux", Docker = "docker", DockerRootful = "docker-rootful", DockerEngine = "docker-engine",
        Kernel = "kernel", KernelHeaders = "kernel-5.17", Btf = "btf", Kprobes = "kprobes", Lockdown = "lockdown";

    public const string OsReleasePath = "/proc/sys/kernel/osrelease";
    public const string BtfPath = "/sys/kernel/btf/vmlinux";
    public const string KprobePmuPath = "/sys/bus/event_source/devices/kprobe/type";
    public const string LockdownPath = "/sys/kernel/security/lockdown";
    public static readonly string[] KprobeEventsPaths = ["/sys/kernel/tracing/kprobe_events", "/sys/kernel/debug/tracing/kprobe_events"];

    public static readonly TimeSpan DockerTimeout = TimeSpan.FromSeconds(10);

    private const string UseDockerEngine =
        "use Docker Engine (rootful) on the Linux machine that runs the AppHost";

    public static async Task<PreflightReport> RunAsync(IHostProbe probe, CancellationToken cancellationToken = default)
    {
        var checks = new List<PreflightCheck>
        {
            probe.IsLinux
                ? new(Linux, CheckStatus.Pass, "Linux")
                : new(Linux, CheckStatus.Fail, "Not Linux: eBPF and Beyla exist only on Linux", "use a Linux machine, or a Linux VM that runs both the AppHost and Docker"),
        };
        var hostKernel = probe.IsLinux ? probe.ReadText(OsReleasePath)?.Trim() : null;
        checks.AddRange(await DockerChecksAsync(probe, hostKernel, cancellationToken));
        checks.AddRange(probe.IsLinux ? KernelChecks(probe, hostKernel) : SkippedKernelChecks());
        return new PreflightReport(checks);
    }

    private static async Task<IEnumerable<PreflightCheck>> DockerChecksAsync(IHostProbe probe, string? hostKernel, CancellationToken cancellationToken)
    {
        var info = await probe.RunAsync("docker", ["info", "--format", "{{json .}}"], DockerTimeout, cancellationToken);
        var engine = info.ExitCode == 0 ? DockerInfo.Parse(info.StandardOutput) : null;
        if (engine is null)
        {
            var why = FirstLine(info.StandardError) ?? (info.ExitCode == 0 ? "docker info gave no engine details" : $"docker info exited with {info.ExitCode}");
            return
            [
                new(Docker, CheckStatus.Fail, $"Docker Engine not reachable ({why})",
                    "start it (e.g. `sudo systemctl start docker`) and check `docker info`; without Docker the lab runs the databases from this host's server binaries and the runtime agent instead of Beyla"),
                new(DockerRootful, CheckStatus.Skipped, "Rootful Docker: not checked (no Docker Engine answered)"),
                new(DockerEngine, CheckStatus.Skipped, "Docker on this host's kernel: not checked (no Docker Engine answered)"),
            ];
        }

        var checks = new List<PreflightCheck> { new(Docker, CheckStatus.Pass, $"Docker Engine {engine.ServerVersion} reachable") };
        checks.Add(engine.IsRootless
            ? new(DockerRootful, CheckStatus.Fail, "Docker runs rootless: it cannot give Beyla the BPF privileges and the host's PID namespace", UseDockerEngine)
            : new(DockerRootful, CheckStatus.Pass, "Docker runs rootful"));
        checks.Add(engine.OperatingSystem.Contains("Docker Desktop", StringComparison.OrdinalIgnoreCase)
            ? new(DockerEngine, CheckStatus.Fail, "Docker Desktop runs containers in its own VM: Beyla there cannot see the AppHost's processes", UseDockerEngine)
            : hostKernel is not null && engine.KernelVersion != hostKernel
                ? new(DockerEngine, CheckStatus.Fail, $"Docker's containers run on kernel {engine.KernelVersion}, the AppHost on {hostKernel} (a VM or a remote DOCKER_HOST): Beyla would not see the services", UseDockerEngine)
                : new(DockerEngine, CheckStatus.Pass, $"Docker Engine on {engine.OperatingSystem} shares this host's kernel"));
        return checks;
    }

    private static IEnumerable<PreflightCheck> KernelChecks(IHostProbe probe, string? release)
    {
        var version = ParseKernel(release);
        if (version is null)
        {
            yield return new(Kernel, CheckStatus.Fail, $"Kernel version unknown ({OsReleasePath}: '{release}')", "check that /proc is mounted");
        }
        else if (version >= new Version(5, 8) || (version == new Version(4, 18) && IsRhelBased(probe)))
        {
            yield return new(Kernel, CheckStatus.Pass, $"Kernel {release} (5.8+ needed, or 4.18 on RHEL-based systems)");
        }
        else
        {
            yield return new(Kernel, CheckStatus.Fail, $"Kernel {release} is older than 5.8, the oldest Beyla supports", "upgrade the kernel to 5.8 or newer");
        }

        if (version is not null)
        {
            yield return version >= new Version(5, 17)
                ? new(KernelHeaders, CheckStatus.Pass, "Kernel 5.17+: full trace-header parsing (BPF loops)")
                : new(KernelHeaders, CheckStatus.Warn, $"Kernel {version} is older than 5.17: Beyla parses incoming trace headers with reduced, bounded programs, so some traceparent headers may be missed",
                    "a 5.17+ kernel keeps traces whole more reliably");
        }

        yield return HasBtf(probe, release)
            ? new(Btf, CheckStatus.Pass, $"BTF at {BtfPath}")
            : new(Btf, CheckStatus.Fail, $"No kernel BTF ({BtfPath} is missing)", "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2020)");

        var kprobes = probe.Exists(KprobePmuPath) ? KprobePmuPath : KprobeEventsPaths.FirstOrDefault(probe.Exists);
        yield return kprobes is not null
            ? new(Kprobes, CheckStatus.Pass, $"kprobes ({kprobes})")
            : new(Kprobes, CheckStatus.Fail, $"No kprobe support (neither {KprobePmuPath} nor kprobe_events in tracefs)",
                "use a kernel built with CONFIG_KPROBES=y and CONFIG_KPROBE_EVENTS=y (some CI and sandbox kernels lack them)");

        yield return LockdownCheck(probe);
    }

    /// <summary>
    /// [integrity] takes bpf_probe_write_user from BPF programs; Beyla still runs, without the parts that write into a process's memory.
    /// [confidentiality] also takes kprobes and BPF reads of kernel memory, which Beyla's programs cannot do without.
    /// </summary>
    private static PreflightCheck LockdownCheck(IHostProbe probe)
    {
        // As Beyla does: no file means no lockdown; a file that cannot be read or is empty means [integrity].
        if (!probe.Exists(LockdownPath))
        {
            return new(Lockdown, CheckStatus.Pass, $"Kernel lockdown: none ({LockdownPath} absent, as Beyla assumes)");
        }
        var text = probe.ReadText(LockdownPath)?.Trim();
        var mode = string.IsNullOrEmpty(text) ? "integrity" : LockdownMode().Match(text) is { Success: true } m ? m.Groups[1].Value : text;
        var found = $"Kernel lockdown mode is [{mode}]{(string.IsNullOrEmpty(text) ? $" ({LockdownPath} unreadable or empty, which Beyla takes for [integrity])" : "")}";
        // Linux include/linux/security.h enum lockdown_reason + kernel/trace/bpf_trace.c, trace_kprobe.c; Beyla v3.33.0 vendor/go.opentelemetry.io/obi/pkg/ebpf/common/common.go, pkg/internal/ebpf/tpinjector/{tpinjector.go,fionread_check.go}.
        return mode switch
        {
            "none" => new(Lockdown, CheckStatus.Pass, "Kernel lockdown: none"),
            "confidentiality" => new(Lockdown, CheckStatus.Fail,
                $"{found}: the kernel refuses kprobes and BPF reads of kernel memory (bpf_probe_read_kernel), which Beyla's programs need",
                "boot without lockdown=confidentiality (and with a kernel not built with CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY); [integrity], which Secure Boot usually sets, still runs Beyla"),
            _ => new(Lockdown, CheckStatus.Warn,
                $"{found}: Beyla runs, but the kernel refuses bpf_probe_write_user, so Beyla turns off its trace-context injection into Go programs and into logs and cannot load its FIONREAD compensation; " +
                "on a kernel that misreports FIONREAD for sockets in a sockhash (6.6.128+, 6.12.75+, 6.18.14+, 6.19+ and their backports) it then also turns off its sk_msg header propagation, and traces from user-service to point-service break apart",
                "to keep all of Beyla's context propagation, boot without lockdown (it usually comes with Secure Boot); Beyla's console says `context propagation is disabled` when the sk_msg path is off"),
        };
    }

    private static IEnumerable<PreflightCheck> SkippedKernelChecks() =>
        new[] { (Kernel, "Kernel version"), (Btf, "BTF"), (Kprobes, "kprobes"), (Lockdown, "Kernel lockdown") }
            .Select(c => new PreflightCheck(c.Item1, CheckStatus.Skipped, $"{c.Item2}: not checked (not Linux)"));

    /// <summary>Beyla's own BTF lookup: the sysfs file, then libbpf's fallback locations.</summary>
    private static bool HasBtf(IHostProbe probe, string? release) =>
        probe.Exists(BtfPath) || (release is not null && new[]
        {
            $"/boot/vmlinux-{release}", $"/lib/modules/{release}/vmlinux-{release}", $"/lib/modules/{release}/build/vmlinux",
            $"/usr/lib/modules/{release}/kernel/vmlinux", $"/usr/lib/debug/boot/vmlinux-{release}",
            $"/usr/lib/debug/boot/vmlinux-{release}.debug", $"/usr/lib/debug/lib/modules/{release}/vmlinux",
        }.Any(probe.Exists));

    /// <summary>RHEL and its rebuilds ship a 4.18 kernel with eBPF backports, which Beyla accepts.</summary>
    private static bool IsRhelBased(IHostProbe probe) =>
        (probe.ReadText("/etc/os-release") ?? "").Split('\n')
            .Select(l => l.Trim().ToLowerInvariant())
            .Where(l => l.StartsWith("id=", StringComparison.Ordinal) || l.StartsWith("id_like=", StringComparison.Ordinal))
            .Any(l => new[] { "rhel", "centos", "rocky", "alma" }.Any(l.Contains))
        || RhelKernel().IsMatch(probe.ReadText("/proc/version") ?? "");

    public static Version? ParseKernel(string? release) =>
        release is not null && KernelVersion().Match(release) is { Success: true } m
            ? new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value))
            : null;

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();

    [GeneratedRegex(@"^(\d+)\.(\d+)")]
    private static partial Regex KernelVersion();

    [GeneratedRegex(@"\[(\w+)\]")]
    private static partial Regex LockdownMode();

    [GeneratedRegex(@"\.el\d+(_\d+)?\b|\(Red Hat \d+\.\d+\.\d+-\d+\)")]
    private static partial Regex RhelKernel();

    /// <summary>The fields of `docker info` the checks read.</summary>
    private sealed record DockerInfo(string ServerVersion, string OperatingSystem, string KernelVersion, bool IsRootless)
    {
        public static DockerInfo? Parse(string json)
        {
            try
            {
                var root = JsonDocument.Parse(json).RootElement;
                var version = Text(root, "ServerVersion");
                if (string.IsNullOrEmpty(version)) return null;
                var security = root.TryGetProperty("SecurityOptions", out var s) && s.ValueKind == JsonValueKind.Array
                    ? s.EnumerateArray().Select(o => o.GetString() ?? "").ToList()
                    : [];
                return new DockerInfo(version, Text(root, "OperatingSystem"), Text(root, "KernelVersion"),
                    security.Any(o => o.Split(',').Contains("name=rootless")));
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static string Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
    }
}
