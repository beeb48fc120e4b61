using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Lab19.Tests;

/// <summary>The preflight in the AppHost: `--preflight` prints the report and the plan and exits, and what a host cannot run stands in the dashboard with the reason.</summary>
public class PreflightInTheAppHostTests
{
    [Fact]
    public async Task The_AppHost_with_preflight_prints_the_report_and_the_plan_exits_with_its_verdict_and_starts_nothing()
    {
        var result = await Processes.ExecAsync("dotnet",
            ["run", "--project", Repo.PathOf("Lab19.AppHost"), "--no-build", "-c", Repo.Configuration, "--no-launch-profile", "--", "--preflight"],
            cancellationToken: TestContext.Current.CancellationToken);

        var lines = result.Output.TrimEnd().Split('\n');
        Assert.Equal("Lab19 preflight: what the eBPF part (Beyla) needs from this host", lines[0]);
        var verdict = Array.FindIndex(lines, l => l.StartsWith("This host can run Beyla", StringComparison.Ordinal) || l.StartsWith("Beyla (eBPF) cannot run", StringComparison.Ordinal));
        Assert.True(verdict > 0, result.Output);
        Assert.Equal(lines[verdict].StartsWith("This host", StringComparison.Ordinal) ? 0 : 1, result.ExitCode);
        Assert.All(lines[1..verdict], l => Assert.Matches(@"^  (ok  |warn|FAIL|skip)  ", l));
        Assert.Equal("With default settings, `dotnet run --project Lab19.AppHost` here runs:", lines[verdict + 1]);
        // the plan, and nothing else: no Aspire start-up
        Assert.All(lines[(verdict + 2)..], l => Assert.StartsWith("  ", l));
        Assert.DoesNotContain("Aspire", result.Output);
    }

    [Fact]
    public async Task What_the_host_cannot_run_stands_in_the_dashboard_with_its_reason_and_the_rest_still_runs()
    {
        var host = new FakeHostProbe();
        host.Files.Remove(BeylaPreflight.KprobePmuPath);
        var plan = LabPlan.Decide(new LabSettings(), await HostFacts.ProbeAsync(host, runPreflight: true, TestContext.Current.CancellationToken), userDbGiven: true, pointDbGiven: true);
        var builder = TestAppHost.CreateBuilder([]);
        builder.AddStandIns(plan);
        builder.AddExecutable("neighbour", "sleep", ".", "300");

        var stand = Assert.IsType<StandInResource>(Assert.Single(builder.Resources, r => r.Name == "beyla"));
        await using var app = builder.Build();
        await app.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        var state = await app.ResourceNotifications.WaitForResourceAsync("beyla", e => e.Snapshot.State?.Text == "Runtime agent instead", TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(KnownResourceStateStyles.Info, state.Snapshot.State!.Style);
        Assert.Contains(state.Snapshot.Properties, p => p.Name == CustomResourceKnownProperties.Source);
        Assert.NotNull(state.Snapshot.CreationTimeStamp);
        Assert.Contains(state.Snapshot.Properties, p => p.Value?.ToString()?.Contains("CONFIG_KPROBES") == true);
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
                if (lines.Any(l => l.Contains(LabPlan.ForceEbpf))) break;
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // the assertions below report what was seen
        }
        Assert.Contains(lines, l => l.Contains("FAIL  No kprobe support"));
        Assert.Contains(lines, l => l.Contains("The runtime agent") && l.Contains("instead of Beyla"));
        Assert.Contains(lines, l => l.Contains(LabPlan.ForceEbpf));
    }
}
