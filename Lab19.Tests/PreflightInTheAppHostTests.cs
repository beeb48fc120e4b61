using Lab19.AppHost.Preflight;
using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Lab19.Tests.Infrastructure.FakeHostProbe;
using static Lab19.Tests.Infrastructure.PreflightAssert;

namespace Lab19.Tests;

/// <summary>The preflight in the AppHost: `--preflight` prints the report and exits, a failed preflight leaves a resource in the dashboard that says why, and the switch that turns it off.</summary>
public class PreflightInTheAppHostTests
{
    [Fact]
    public async Task The_AppHost_with_preflight_prints_the_report_exits_with_its_verdict_and_starts_nothing()
    {
        var expected = await BeylaPreflight.RunAsync(new HostProbe(), TestContext.Current.CancellationToken);
        var result = await Processes.ExecAsync("dotnet",
            ["run", "--project", Repo.PathOf("Lab19.AppHost"), "--no-build", "-c", Repo.Configuration, "--no-launch-profile", "--", "--preflight"],
            cancellationToken: TestContext.Current.CancellationToken);

        var lines = result.Output.TrimEnd().Split('\n');
        Assert.Equal(expected.CanRunBeyla ? 0 : 1, result.ExitCode);
        Assert.Equal(expected.Lines().First(), lines[0]);
        Assert.Equal(expected.Summary, lines[^1]);
        Assert.Equal(expected.Checks.Count + 2, lines.Length); // the report and nothing else: no Aspire start-up
    }

    [Fact]
    public async Task A_failed_preflight_puts_a_resource_in_the_dashboard_that_says_why_and_the_rest_still_runs()
    {
        var host = new FakeHostProbe();
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
    public void A_passed_preflight_keeps_Beylas_resource_after_one_docker_probe()
    {
        var host = new FakeHostProbe();
        var builder = TestAppHost.CreateBuilder([]);
        var beyla = builder.AddHostNetworkContainer("beyla", "grafana/beyla", "3.33.0").WherePreflightPasses(enabled: true, host);

        Assert.Same(beyla.Resource, Assert.Single(builder.Resources, r => r.Name == "beyla"));
        Assert.Single(host.Commands);
    }

    [Fact]
    public void With_the_preflight_switched_off_Beyla_stays_and_no_check_runs()
    {
        var host = new FakeHostProbe();
        host.Files.Remove(BeylaPreflight.KprobePmuPath);
        var builder = TestAppHost.CreateBuilder([]);
        var beyla = builder.AddHostNetworkContainer("beyla", "grafana/beyla", "3.33.0").WherePreflightPasses(enabled: false, host);

        Assert.Same(beyla.Resource, Assert.Single(builder.Resources, r => r.Name == "beyla"));
        Assert.Empty(host.Commands);
    }
}
