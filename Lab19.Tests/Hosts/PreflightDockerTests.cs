using Lab19.Tests.Infrastructure;
using static Lab19.Tests.Infrastructure.FakeHostProbe;
using static Lab19.Tests.Infrastructure.PreflightAssert;

namespace Lab19.Tests;

/// <summary>The preflight's Docker checks on a fake host, one failure mode at a time: a good host passes all, then no engine, no CLI, Docker Desktop, another kernel, rootless.</summary>
public class PreflightDockerTests
{
    [Fact]
    public async Task A_good_host_passes_every_check_and_the_command_exits_0()
    {
        var host = new FakeHostProbe();
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
        Assert.Equal(0, await PreflightCommand.PrintAsync(output, new FakeHostProbe()));
        var lines = output.ToString().TrimEnd().Split('\n');
        Assert.Equal("This host can run Beyla (eBPF).", lines[report.Checks.Count + 1]);
        // then how a plain run would use this host
        Assert.Equal("With default settings, `dotnet run --project Lab19.AppHost` here runs:", lines[report.Checks.Count + 2]);
        Assert.Contains(lines, l => l.Contains("instrumentation: Beyla (eBPF)"));
    }

    [Fact]
    public async Task No_Docker_engine_fails_the_Docker_check_and_skips_what_depends_on_it()
    {
        var host = new FakeHostProbe { Docker = new(1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n") };
        var report = await RunAsync(host);

        var failure = AssertOnlyFailure(report, BeylaPreflight.Docker);
        Assert.Contains("Cannot connect to the Docker daemon", failure.Detail);
        Assert.Equal(CheckStatus.Skipped, Check(report, BeylaPreflight.DockerRootful).Status);
        Assert.Equal(CheckStatus.Skipped, Check(report, BeylaPreflight.DockerEngine).Status);
        Assert.Equal(CheckStatus.Pass, Check(report, BeylaPreflight.Kprobes).Status); // the kernel is still checked
        Assert.False(report.DockerReachable);
        Assert.Equal("Docker not reachable", BeylaStandInWhenForced(report).State);
    }

    [Fact]
    public async Task A_missing_docker_CLI_or_an_answer_that_is_not_docker_info_is_a_Docker_failure_too()
    {
        foreach (var result in new CommandResult[] { new(-1, "", "docker: No such file or directory"), new(0, "not json", "") })
        {
            var report = await RunAsync(new FakeHostProbe { Docker = result });
            AssertOnlyFailure(report, BeylaPreflight.Docker);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_docker_CLI_that_never_answers_is_killed_at_the_probes_timeout_and_counts_as_no_Docker()
    {
        // A real process that hangs as a docker CLI does when its daemon accepts the connection but never answers.
        var dir = Directory.CreateTempSubdirectory("lab19-hanging-docker-");
        var pidFile = Path.Combine(dir.FullName, "pid");
        var docker = Path.Combine(dir.FullName, "docker");
        await File.WriteAllTextAsync(docker, $"#!/bin/sh\necho $$ > '{pidFile}'\nexec sleep 120\n", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(docker, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var timeout = TimeSpan.FromSeconds(2);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var report = await RunAsync(new FakeHostProbe { DockerCommand = (args, ct) => new HostProbe().RunAsync(docker, args, timeout, ct) });

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the preflight waited {clock.Elapsed} for a probe with a {timeout} limit");
            Assert.Contains("did not answer within 2 s", AssertOnlyFailure(report, BeylaPreflight.Docker).Detail);
            var pid = int.Parse((await File.ReadAllTextAsync(pidFile, TestContext.Current.CancellationToken)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.False(Directory.Exists($"/proc/{pid}"), $"the hung docker CLI (pid {pid}) was not killed");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Docker_Desktop_is_refused_by_name()
    {
        var report = await RunAsync(new FakeHostProbe { Docker = new(0, DockerInfo("Docker Desktop", "6.10.14-linuxkit"), "") });

        var failure = AssertOnlyFailure(report, BeylaPreflight.DockerEngine);
        Assert.Contains("Docker Desktop", failure.Detail);
        Assert.True(report.DockerReachable);
        Assert.Equal("Host cannot run eBPF", BeylaStandInWhenForced(report).State);
    }

    [Fact]
    public async Task A_daemon_on_another_kernel_is_refused()
    {
        var report = await RunAsync(new FakeHostProbe { Docker = new(0, DockerInfo("Ubuntu 22.04.4 LTS", "5.15.0-1057-aws"), "") });

        var failure = AssertOnlyFailure(report, BeylaPreflight.DockerEngine);
        Assert.Contains("5.15.0-1057-aws", failure.Detail);
        Assert.Contains(Release, failure.Detail);
    }

    [Fact]
    public async Task Rootless_Docker_is_refused()
    {
        var report = await RunAsync(new FakeHostProbe { Docker = new(0, DockerInfo(security: ["name=seccomp,profile=builtin", "name=rootless", "name=cgroupns"]), "") });

        Assert.Contains("rootless", AssertOnlyFailure(report, BeylaPreflight.DockerRootful).Detail);
    }

    /// <summary>What the dashboard shows for Beyla when Lab19:Instrumentation=ebpf asks for it on a host with this report.</summary>
    private static LeftOut BeylaStandInWhenForced(PreflightReport report)
    {
        var facts = new HostFacts(report, new(null, "none"), new(null, "none"));
        var plan = LabPlan.Decide(new LabSettings { Instrumentation = "ebpf" }, facts, userDbGiven: true, pointDbGiven: true);
        var beyla = Assert.Single(plan.LeftOut, l => l.Resource == "beyla");
        Assert.True(beyla.IsError);
        return beyla;
    }
}
