using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lab19.AppHost;

/// <summary>The AppHost's first and last steps: plan the lab for this host, and run it so that any failure ends the process with a message.</summary>
internal static class LabPlanBuilderExtensions
{
    /// <summary>
    /// Reads the Lab19 settings, asks the host what it can run (in run mode: the preflight unless Lab19:Preflight:Enabled=false, and the
    /// database servers installed on it), and plans the lab.
    /// Null, after printing why and the ways out, when the settings are invalid or nothing fits this host: the AppHost then exits with 1
    /// before anything starts. The plan's choices are logged when the lab starts.
    /// </summary>
    public static async Task<LabPlan?> PlanForThisHostAsync(this IDistributedApplicationBuilder builder)
    {
        LabSettings lab;
        try
        {
            lab = LabSettings.Read(builder.Configuration);
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return null;
        }

        // Publish mode writes the lab for other machines (Kubernetes/): this host is not asked anything, and containers are assumed.
        var facts = builder.ExecutionContext.IsPublishMode
            ? HostFacts.NotProbed
            : await HostFacts.ProbeAsync(HostProbes.Current, runPreflight: lab.Preflight.Enabled);
        var plan = LabPlan.Decide(lab, facts,
            userDbGiven: builder.Configuration.GetConnectionString("userdb") is not null,
            pointDbGiven: builder.Configuration.GetConnectionString("pointdb") is not null);
        if (plan.Refusal is { } refusal)
        {
            await Console.Error.WriteLineAsync(refusal);
            return null;
        }

        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lab19");
            foreach (var warning in facts.Preflight?.Warnings ?? [])
            {
                logger.LogWarning("preflight: {Check}", warning.Line);
            }
            foreach (var choice in plan.Choices)
            {
                logger.LogInformation("{Choice}", choice);
            }
            foreach (var standIn in facts.StandInWarnings(e.Model.Resources))
            {
                logger.LogWarning("{StandIn}", standIn);
            }
            return Task.CompletedTask;
        });
        return plan;
    }

    /// <summary>
    /// Runs the lab until Ctrl+C. Whatever fails while it starts or runs ends the process with exit code 1 and one short message,
    /// never an unhandled exception (which left the process alive) and never a stack trace on the console: appsettings.json silences
    /// the generic host's own "Hosting failed to start" log (Microsoft.Extensions.Hosting.Internal.Host), which this message replaces.
    /// </summary>
    public static async Task<int> RunLabAsync(this DistributedApplication app)
    {
        try
        {
            await app.RunAsync();
            // 0, unless a publishing step set it: Aspire's pipeline reports a failed step in its log and lets the AppHost end normally.
            return Environment.ExitCode;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"Lab19 stopped: {ShortMessage(e)}");
            await Console.Error.WriteLineAsync("Run `dotnet run --project Lab19.AppHost -- --preflight` to see what this host offers the lab.");
            return 1;
        }
        finally
        {
            // Bounded: a clean-up that hangs must not keep the process alive.
            await app.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>The message of the first exception that is not a mere wrapper (AggregateException), e.g. "Failed to bind to address ...".</summary>
    private static string ShortMessage(Exception e) =>
        (e is AggregateException aggregate ? aggregate.Flatten().InnerExceptions[0] : e).Message;
}

/// <summary>The host the AppHost asks: the real one, or one a test puts in its place for the current flow.</summary>
internal static class HostProbes
{
    private static readonly AsyncLocal<IHostProbe?> Override = new();

    public static IHostProbe Current => Override.Value ?? new HostProbe();

    /// <summary>Makes <paramref name="probe"/> the host for this flow (and the AppHost started from it) until the result is disposed.</summary>
    public static IDisposable Use(IHostProbe probe)
    {
        Override.Value = probe;
        return new Reset();
    }

    private sealed class Reset : IDisposable
    {
        public void Dispose() => Override.Value = null;
    }
}
