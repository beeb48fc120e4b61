using Lab19.Tests.Infrastructure;
using static Lab19.Tests.Infrastructure.FakeHostProbe;
using static Lab19.Tests.Infrastructure.PreflightAssert;

namespace Lab19.Tests;

/// <summary>The preflight's kernel checks on a fake host, one failure mode at a time: version, BTF, kprobes, lockdown, and a host that is not Linux.</summary>
public class PreflightKernelTests
{
    [Fact]
    public async Task Kernel_5_4_is_too_old_and_warns_about_header_parsing()
    {
        var host = new FakeHostProbe { Docker = new(0, DockerInfo(kernel: "5.4.0-150-generic"), "") };
        host.Files[BeylaPreflight.OsReleasePath] = "5.4.0-150-generic\n";
        var report = await RunAsync(host);

        Assert.Contains("5.8", AssertOnlyFailure(report, BeylaPreflight.Kernel).Detail);
        Assert.Equal(CheckStatus.Warn, Check(report, BeylaPreflight.KernelHeaders).Status);
    }

    [Fact]
    public async Task Kernel_5_15_runs_with_a_warning_only()
    {
        var host = new FakeHostProbe { Docker = new(0, DockerInfo(kernel: "5.15.0-119-generic"), "") };
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
        var host = new FakeHostProbe { Docker = new(0, DockerInfo(kernel: rhelKernel), "") };
        host.Files[BeylaPreflight.OsReleasePath] = rhelKernel;
        host.Files["/etc/os-release"] = osRelease;
        host.Files["/proc/version"] = "Linux version 4.18.0 (mockbuild@builder) (gcc version 8.5.0)";
        var report = await RunAsync(host);

        Assert.Equal(passes ? CheckStatus.Pass : CheckStatus.Fail, Check(report, BeylaPreflight.Kernel).Status);
    }

    [Fact]
    public async Task No_BTF_fails_unless_a_vmlinux_lies_where_libbpf_looks()
    {
        var host = new FakeHostProbe();
        host.Files.Remove(BeylaPreflight.BtfPath);
        Assert.Contains("CONFIG_DEBUG_INFO_BTF", AssertOnlyFailure(await RunAsync(host), BeylaPreflight.Btf).Fix);

        host.Files[$"/boot/vmlinux-{Release}"] = "";
        Assert.True((await RunAsync(host)).CanRunBeyla);
    }

    [Fact]
    public async Task No_kprobes_fails_unless_tracefs_offers_kprobe_events()
    {
        var host = new FakeHostProbe();
        host.Files.Remove(BeylaPreflight.KprobePmuPath);
        Assert.Contains("CONFIG_KPROBES", AssertOnlyFailure(await RunAsync(host), BeylaPreflight.Kprobes).Fix);

        host.Files["/sys/kernel/tracing/kprobe_events"] = "";
        Assert.True((await RunAsync(host)).CanRunBeyla);
    }

    [Theory]
    [InlineData("none [integrity] confidentiality\n")]
    [InlineData(null)] // present but unreadable: Beyla assumes integrity
    [InlineData("")]
    public async Task Integrity_lockdown_warns_what_Beyla_loses_and_the_lab_still_runs_Beyla(string? lockdown)
    {
        var host = new FakeHostProbe();
        host.Files[BeylaPreflight.LockdownPath] = lockdown;
        var report = await RunAsync(host);

        Assert.True(report.CanRunBeyla);
        var warning = Assert.Single(report.Warnings);
        Assert.Equal(BeylaPreflight.Lockdown, warning.Name);
        Assert.StartsWith("warn  Kernel lockdown mode is [integrity]", warning.Line);
        // What the kernel refuses, and what Beyla turns off for it.
        Assert.Contains("bpf_probe_write_user", warning.Detail);
        Assert.Contains("trace-context injection into Go programs and into logs", warning.Detail);
        Assert.Contains("FIONREAD compensation", warning.Detail);
        Assert.Contains("sk_msg header propagation", warning.Detail);
        Assert.Contains("context propagation is disabled", warning.Fix);

        var output = new StringWriter();
        Assert.Equal(0, await PreflightCommand.PrintAsync(output, host));
        Assert.Contains("instrumentation: Beyla (eBPF), outside the services (the host passed the preflight)", output.ToString());
    }

    [Fact]
    public async Task Confidentiality_lockdown_fails_as_Beylas_programs_need_kprobes_and_kernel_reads()
    {
        var host = new FakeHostProbe();
        host.Files[BeylaPreflight.LockdownPath] = "none integrity [confidentiality]\n";

        var failure = AssertOnlyFailure(await RunAsync(host), BeylaPreflight.Lockdown);
        Assert.StartsWith("Kernel lockdown mode is [confidentiality]", failure.Detail);
        Assert.Contains("kprobes", failure.Detail);
        Assert.Contains("bpf_probe_read_kernel", failure.Detail);
        Assert.Contains("[integrity]", failure.Fix);
    }

    [Fact]
    public async Task No_lockdown_file_means_no_lockdown_as_Beyla_assumes()
    {
        var host = new FakeHostProbe();
        host.Files.Remove(BeylaPreflight.LockdownPath);

        Assert.Equal(CheckStatus.Pass, Check(await RunAsync(host), BeylaPreflight.Lockdown).Status);
    }

    [Fact]
    public async Task Not_Linux_fails_and_reads_no_Linux_files()
    {
        var host = new FakeHostProbe { IsLinux = false, Docker = new(0, DockerInfo("Docker Desktop", "6.10.14-linuxkit"), "") };
        var report = await RunAsync(host);

        Assert.Equal([BeylaPreflight.Linux, BeylaPreflight.DockerEngine], report.Failures.Select(f => f.Name));
        Assert.All(new[] { BeylaPreflight.Kernel, BeylaPreflight.Btf, BeylaPreflight.Kprobes, BeylaPreflight.Lockdown },
            name => Assert.Equal(CheckStatus.Skipped, Check(report, name).Status));
        Assert.Empty(host.Reads);

        var output = new StringWriter();
        Assert.Equal(1, await PreflightCommand.PrintAsync(output, host));
        // Docker Desktop answers, so the databases and lgtm run in containers, and the runtime agent takes Beyla's place.
        Assert.Contains("userdb: a container", output.ToString());
        Assert.Contains("instrumentation: the runtime agent in both services instead of Beyla", output.ToString());
    }
}
