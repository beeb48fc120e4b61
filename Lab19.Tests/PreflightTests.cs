using System.Text.Json;
using Lab19.AppHost.Preflight;
using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Lab19.Tests;

/// <summary>The preflight, one failure mode at a time, on a fake host; then what the dashboard shows when it fails.</summary>
public class PreflightTests
{
    private const string Release = "6.8.0-45-generic";

    /// <summary>A Linux host that can run Beyla; each test breaks one fact.</summary>
    private sealed class FakeHost : IHostProbe
    {
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
        public CommandResult Docker { get; set; } = new(0, DockerInfo(), "");
        public List<string> Commands { get; } = [];
        public List<string> Reads { get; } = [];

        public bool Exists(string path)
        {
            Reads.Add(path);
            return Files.ContainsKey(path);
        }

        public string? ReadText(string path)
        {
            Reads.Add(path);
            return Files.GetValueOrDefault(path);
        }

        public Task<CommandResult> RunAsync(string command, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Commands.Add($"{command} {string.Join(' ', args)}");
            Assert.Equal("docker", command);
            return Task.FromResult(Docker);
        }
    }

    private static string DockerInfo(string os = "Ubuntu 24.04.1 LTS", string kernel = Release, params string[] security) =>
        JsonSerializer.Serialize(new
        {
            ServerVersion = "28.2.2",
            OperatingSystem = os,
            OSType = "linux",
            KernelVersion = kernel,
            SecurityOptions = security.Length == 0 ? ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"] : security,
        });

    private static async Task<PreflightReport> RunAsync(FakeHost host) => await BeylaPreflight.RunAsync(host, TestContext.Current.CancellationToken);

    private static PreflightCheck Check(PreflightReport report, string name) => Assert.Single(report.Checks, c => c.Name == name);

    /// <summary>Exactly one check failed, the named one, and its line says what and what to do.</summary>
    private static PreflightCheck AssertOnlyFailure(PreflightReport report, string name)
    {
        var failure = Assert.Single(report.Failures);
        Assert.Equal(name, failure.Name);
        Assert.False(report.CanRunBeyla);
        Assert.False(string.IsNullOrWhiteSpace(failure.Fix));
        Assert.StartsWith("FAIL  ", failure.Line);
        Assert.Contains(" → ", failure.Line);
        return failure;
    }

    [Fact]
    public async Task A_good_host_passes_every_check_and_the_command_exits_0()
    {
        var host = new FakeHost();
        var report = await RunAsync(host);

        Assert.All(report.Checks, c => Assert.Equal(CheckStatus.Pass, c.Status));
        Assert.Equal(
            [BeylaPreflight.Linux, BeylaPreflight.Docker, BeylaPreflight.DockerRootful, BeylaPreflight.DockerEngine, BeylaPreflight.Kernel,
             BeylaPreflight.KernelHeaders, BeylaPreflight.Btf, BeylaPreflight.Kprobes, BeylaPreflight.Lockdown],
            report.Checks.Select(c => c.Name));
        Assert.True(report.CanRunBeyla);
        Assert.True(report.DockerReachable);
        Assert.Equal(["docker info --format {{json .}}"], host.Commands);

        var output = new StringWriter();
        Assert.Equal(0, await PreflightResourceBuilderExtensions.PrintPreflightAsync(output, new FakeHost()));
        var lines = output.ToString().TrimEnd().Split('\n');
        Assert.Equal(report.Checks.Count + 2, lines.Length);
        Assert.Equal("This host can run Beyla (eBPF).", lines[^1]);
    }

    [Fact]
    public async Task No_Docker_engine_fails_the_Docker_check_and_skips_what_depends_on_it()
    {
        var host = new FakeHost { Docker = new(1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n") };
        var report = await RunAsync(host);

        var failure = AssertOnlyFailure(report, BeylaPreflight.Docker);
        Assert.Contains("Cannot connect to the Docker daemon", failure.Detail);
        Assert.Equal(CheckStatus.Skipped, Check(report, BeylaPreflight.DockerRootful).Status);
        Assert.Equal(CheckStatus.Skipped, Check(report, BeylaPreflight.DockerEngine).Status);
        Assert.Equal(CheckStatus.Pass, Check(report, BeylaPreflight.Kprobes).Status); // the kernel is still checked
        Assert.False(report.DockerReachable);
        Assert.Equal("Docker not reachable", new PreflightFailedResource("beyla", report).StateText);
    }

    [Fact]
    public async Task A_missing_docker_CLI_or_a_hanging_daemon_is_a_Docker_failure_too()
    {
        foreach (var result in new CommandResult[] { new(-1, "", "docker: No such file or directory"), new(-1, "", "docker info did not answer within 10 s"), new(0, "not json", "") })
        {
            var report = await RunAsync(new FakeHost { Docker = result });
            AssertOnlyFailure(report, BeylaPreflight.Docker);
        }
    }

    [Fact]
    public async Task Docker_Desktop_is_refused_by_name()
    {
        var report = await RunAsync(new FakeHost { Docker = new(0, DockerInfo("Docker Desktop", "6.10.14-linuxkit"), "") });

        var failure = AssertOnlyFailure(report, BeylaPreflight.DockerEngine);
        Assert.Contains("Docker Desktop", failure.Detail);
        Assert.True(report.DockerReachable);
        Assert.Equal("Host cannot run eBPF", new PreflightFailedResource("beyla", report).StateText);
    }

    [Fact]
    public async Task A_daemon_on_another_kernel_is_refused()
    {
        var report = await RunAsync(new FakeHost { Docker = new(0, DockerInfo("Ubuntu 22.04.4 LTS", "5.15.0-1057-aws"), "") });

        var failure = AssertOnlyFailure(report, BeylaPreflight.DockerEngine);
        Assert.Contains("5.15.0-1057-aws", failure.Detail);
        Assert.Contains(Release, failure.Detail);
    }

    [Fact]
    public async Task Rootless_Docker_is_refused()
    {
        var report = await RunAsync(new FakeHost { Docker = new(0, DockerInfo(security: ["name=seccomp,profile=builtin", "name=rootless", "name=cgroupns"]), "") });

        Assert.Contains("rootless", AssertOnlyFailure(report, BeylaPreflight.DockerRootful).Detail);
    }

    [Fact]
    public async Task Kernel_5_4_is_too_old_and_warns_about_header_parsing()
    {
        var host = new FakeHost { Docker = new(0, DockerInfo(kernel: "5.4.0-150-generic"), "") };
        host.Files[BeylaPreflight.OsReleasePath] = "5.4.0-150-generic\n";
        var report = await RunAsync(host);

        Assert.Contains("5.8", AssertOnlyFailure(report, BeylaPreflight.Kernel).Detail);
        Assert.Equal(CheckStatus.Warn, Check(report, BeylaPreflight.KernelHeaders).Status);
    }

    [Fact]
    public async Task Kernel_5_15_runs_with_a_warning_only()
    {
        var host = new FakeHost { Docker = new(0, DockerInfo(kernel: "5.15.0-119-generic"), "") };
        host.Files[BeylaPreflight.OsReleasePath] = "5.15.0-119-generic\n";
        var report = await RunAsync(host);

        Assert.True(report.CanRunBeyla);
        var warning = Assert.Single(report.Warnings);
        Assert.Equal(BeylaPreflight.KernelHeaders, warning.Name);
        Assert.StartsWith("warn  ", warning.Line);
    }

    [Theory]
    [InlineData("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", true)]
    [InlineData("ID=debian\n", false)]
    public async Task Kernel_4_18_passes_only_on_RHEL_based_systems(string osRelease, bool passes)
    {
        const string rhelKernel = "4.18.0-553.el8_10.x86_64";
        var host = new FakeHost { Docker = new(0, DockerInfo(kernel: rhelKernel), "") };
        host.Files[BeylaPreflight.OsReleasePath] = rhelKernel;
        host.Files["/etc/os-release"] = osRelease;
        host.Files["/proc/version"] = "Linux version 4.18.0 (mockbuild@builder) (gcc version 8.5.0)";
        var report = await RunAsync(host);

        Assert.Equal(passes ? CheckStatus.Pass : CheckStatus.Fail, Check(report, BeylaPreflight.Kernel).Status);
    }

    [Fact]
    public async Task No_BTF_fails_unless_a_vmlinux_lies_where_libbpf_looks()
    {
        var host = new FakeHost();
        host.Files.Remove(BeylaPreflight.BtfPath);
        Assert.Contains("CONFIG_DEBUG_INFO_BTF", AssertOnlyFailure(await RunAsync(host), BeylaPreflight.Btf).Fix);

        host.Files[$"/boot/vmlinux-{Release}"] = "";
        Assert.True((await RunAsync(host)).CanRunBeyla);
    }

    [Fact]
    public async Task No_kprobes_fails_unless_tracefs_offers_kprobe_events()
    {
        var host = new FakeHost();
        host.Files.Remove(BeylaPreflight.KprobePmuPath);
        Assert.Contains("CONFIG_KPROBES", AssertOnlyFailure(await RunAsync(host), BeylaPreflight.Kprobes).Fix);

        host.Files["/sys/kernel/tracing/kprobe_events"] = "";
        Assert.True((await RunAsync(host)).CanRunBeyla);
    }

    [Theory]
    [InlineData("none [integrity] confidentiality\n", "integrity")]
    [InlineData("none integrity [confidentiality]\n", "confidentiality")]
    [InlineData(null, "integrity")] // present but unreadable: Beyla assumes integrity
    [InlineData("", "integrity")]
    public async Task Kernel_lockdown_other_than_none_fails(string? lockdown, string mode)
    {
        var host = new FakeHost();
        host.Files[BeylaPreflight.LockdownPath] = lockdown;

        Assert.Contains($"[{mode}]", AssertOnlyFailure(await RunAsync(host), BeylaPreflight.Lockdown).Detail);
    }

    [Fact]
    public async Task No_lockdown_file_means_no_lockdown_as_Beyla_assumes()
    {
        var host = new FakeHost();
        host.Files.Remove(BeylaPreflight.LockdownPath);

        Assert.Equal(CheckStatus.Pass, Check(await RunAsync(host), BeylaPreflight.Lockdown).Status);
    }

    [Fact]
    public async Task Not_Linux_fails_and_reads_no_Linux_files()
    {
        var host = new FakeHost { IsLinux = false, Docker = new(0, DockerInfo("Docker Desktop", "6.10.14-linuxkit"), "") };
        var report = await RunAsync(host);

        Assert.Equal([BeylaPreflight.Linux, BeylaPreflight.DockerEngine], report.Failures.Select(f => f.Name));
        Assert.All(new[] { BeylaPreflight.Kernel, BeylaPreflight.Btf, BeylaPreflight.Kprobes, BeylaPreflight.Lockdown },
            name => Assert.Equal(CheckStatus.Skipped, Check(report, name).Status));
        Assert.Empty(host.Reads);

        var output = new StringWriter();
        Assert.Equal(1, await PreflightResourceBuilderExtensions.PrintPreflightAsync(output, host));
        Assert.Contains("--Lab19:Instrumentation=agent", output.ToString());
        Assert.Contains("--Lab19:Observability:Enabled=false", output.ToString());
    }

    [Fact]
    public async Task The_AppHost_with_preflight_prints_the_report_exits_with_its_verdict_and_starts_nothing()
    {
        var expected = await BeylaPreflight.RunAsync(new HostProbe(), TestContext.Current.CancellationToken);
        var configuration = typeof(PreflightTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .Cast<System.Reflection.AssemblyConfigurationAttribute>().Single().Configuration;
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "run", "--project", Repo.PathOf("Lab19.AppHost"), "--no-build", "-c", configuration, "--no-launch-profile", "--", "--preflight" })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        var lines = (await output).TrimEnd().Split('\n');
        Assert.Equal(expected.CanRunBeyla ? 0 : 1, process.ExitCode);
        Assert.Equal(expected.Lines().First(), lines[0]);
        Assert.Equal(expected.Summary, lines[^1]);
        Assert.Equal(expected.Checks.Count + 2, lines.Length); // the report and nothing else: no Aspire start-up
    }

    [Fact]
    public async Task A_failed_preflight_puts_a_resource_in_the_dashboard_that_says_why_and_the_rest_still_runs()
    {
        var host = new FakeHost();
        host.Files.Remove(BeylaPreflight.KprobePmuPath);
        var builder = TestAppHost.CreateBuilder([]);
        var beyla = builder.AddHostNetworkContainer("beyla", "grafana/beyla", "3.33.0").WherePreflightPasses(enabled: true, host);
        builder.AddExecutable("neighbour", "sleep", ".", "300");

        Assert.DoesNotContain(beyla.Resource, builder.Resources);
        var stand = Assert.IsType<PreflightFailedResource>(Assert.Single(builder.Resources, r => r.Name == "beyla"));
        Assert.Equal(BeylaPreflight.Kprobes, Assert.Single(stand.Report.Failures).Name);

        await using var app = builder.Build();
        await app.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        var state = await app.ResourceNotifications.WaitForResourceAsync("beyla", e => e.Snapshot.State?.Text == "Host cannot run eBPF", TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(KnownResourceStateStyles.Error, state.Snapshot.State!.Style);
        Assert.Contains(state.Snapshot.Properties, p => p.Name == "preflight.kprobes" && p.Value!.ToString()!.Contains("CONFIG_KPROBES"));
        await app.ResourceNotifications.WaitForResourceAsync("neighbour", KnownResourceStates.Running, TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var lines = new List<string>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await foreach (var batch in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(stand).WithCancellation(cts.Token))
            {
                lines.AddRange(batch.Select(l => l.Content));
                if (lines.Any(l => l.Contains("--Lab19:Instrumentation=agent"))) break;
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // the assertions below report what was seen
        }
        Assert.Contains(lines, l => l.Contains("FAIL  No kprobe support"));
        Assert.Contains(lines, l => l.Contains("--Lab19:Instrumentation=agent") && l.Contains("--Lab19:Observability:Enabled=false"));
    }

    [Fact]
    public void A_passed_preflight_keeps_the_resource()
    {
        var host = new FakeHost();
        var builder = TestAppHost.CreateBuilder([]);
        var beyla = builder.AddHostNetworkContainer("beyla", "grafana/beyla", "3.33.0").WherePreflightPasses(enabled: true, host);

        Assert.Same(beyla.Resource, Assert.Single(builder.Resources, r => r.Name == "beyla"));
        Assert.Single(host.Commands);
    }

    [Fact]
    public void The_preflight_can_be_switched_off()
    {
        var host = new FakeHost();
        host.Files.Remove(BeylaPreflight.KprobePmuPath);
        var builder = TestAppHost.CreateBuilder([]);
        var beyla = builder.AddHostNetworkContainer("beyla", "grafana/beyla", "3.33.0").WherePreflightPasses(enabled: false, host);

        Assert.Same(beyla.Resource, Assert.Single(builder.Resources, r => r.Name == "beyla"));
        Assert.Empty(host.Commands);
    }
}
