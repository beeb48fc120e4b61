using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The test harness's own promises: a bounded Docker probe, commands killed when they overrun, a private server that survives a stolen port.</summary>
public class HarnessTests
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_docker_probe_that_never_finishes_counts_as_not_available_and_is_cancelled()
    {
        var cancelled = new TaskCompletionSource();
        var clock = Stopwatch.StartNew();

        var why = Docker.WhyNotAvailable(async ct =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            catch (OperationCanceledException)
            {
                cancelled.SetResult();
                throw;
            }
            return null;
        }, ShortTimeout);

        Assert.Equal("`docker info` did not answer within 0.3 s", why);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"waited {clock.Elapsed} for a probe with a {ShortTimeout} limit");
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken); // a TimeoutException: the hung probe was not cancelled
    }

    [Fact]
    public void A_docker_probe_that_fails_counts_as_not_available_with_its_own_words()
    {
        Assert.Equal("daemon down", Docker.WhyNotAvailable(_ => Task.FromResult<string?>("daemon down"), TimeSpan.FromSeconds(10)));
        Assert.Equal("daemon down", Docker.WhyNotAvailable(async _ => { await Task.Yield(); return "daemon down"; }, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_docker_probe_that_succeeds_in_time_counts_as_available()
    {
        Assert.Null(Docker.WhyNotAvailable(_ => Task.FromResult<string?>(null), TimeSpan.FromSeconds(10)));
        Assert.Null(Docker.WhyNotAvailable(async _ => { await Task.Delay(50); return null; }, TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(true, true, true, Prerequisite.Verdict.Run)]
    [InlineData(false, true, false, Prerequisite.Verdict.Skip)] // a developer's machine without it
    [InlineData(false, false, true, Prerequisite.Verdict.Skip)] // something CI cannot install
    [InlineData(false, true, true, Prerequisite.Verdict.Fail)] // CI installed it, yet it is missing
    public void A_missing_prerequisite_skips_the_test_but_fails_it_in_CI_when_CI_installs_it(bool present, bool installedByCi, bool inCi, Prerequisite.Verdict verdict) =>
        Assert.Equal(verdict, Prerequisite.Decide(present, installedByCi, inCi));

    [Fact]
    public async Task A_command_that_overruns_its_timeout_is_killed_and_reported()
    {
        var (overrun, pid) = await RunSleeperAsync(run => Processes.ExecAsync("/bin/sh", run, timeout: TimeSpan.FromSeconds(2), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("sleep 60", Assert.IsType<TimeoutException>(overrun).Message);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} still runs after its timeout");
    }

    [Fact]
    public async Task A_cancelled_command_is_killed()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(TimeSpan.FromSeconds(2));
        var (cancelled, pid) = await RunSleeperAsync(run => Processes.ExecAsync("/bin/sh", run, cancellationToken: cancel.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(cancelled);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} still runs after its cancellation");
    }

    /// <summary>Runs a shell that writes its pid and sleeps a minute through <paramref name="exec"/>; returns what it threw and the pid.</summary>
    private static async Task<(Exception Thrown, int Pid)> RunSleeperAsync(Func<string[], Task<ProcessResult>> exec)
    {
        var pidFile = Path.GetTempFileName();
        try
        {
            var thrown = await Record.ExceptionAsync(() => exec(["-c", $"echo $$ > '{pidFile}'; exec sleep 60"]));
            Assert.NotNull(thrown);
            return (thrown, int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task A_command_reports_its_exit_code_and_output_and_RunAsync_throws_on_failure()
    {
        var result = await Processes.ExecAsync("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(new ProcessResult(3, "out\n", "err\n"), result);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Processes.RunAsync("/bin/sh", "-c", "echo why >&2; exit 4"));
        Assert.Contains("exited with 4", failure.Message);
        Assert.Contains("why", failure.Message);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mariadb")]
    public async Task A_private_server_whose_port_is_taken_before_it_binds_starts_on_another_port(string kind)
    {
        await using var server = kind == "postgres" ? DatabaseServer.PostgreSql("port-taken") : DatabaseServer.MySql("port-taken");
        Prerequisite.SkipUnless(server is not DockerDatabase,
            "Needs the database server binaries (Debian: sudo apt-get install -y postgresql mariadb-server): the retry is for servers run from " +
            "their binaries, and a container's port is bound by docker run, which fails at once.", installedByCi: true);
        var taken = server.Port;
        using var thief = new TcpListener(IPAddress.Loopback, taken);
        thief.Start();

        await server.StartAsync();

        Assert.NotEqual(taken, server.Port);
        Assert.True(server.IsRunning);
        await server.StopAsync();
    }
}
