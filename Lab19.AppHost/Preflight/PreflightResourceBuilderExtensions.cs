using Lab19.AppHost.Preflight;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

public static class PreflightResourceBuilderExtensions
{
    /// <summary>`dotnet run --project Lab19.AppHost -- --preflight`: print the report, start nothing.</summary>
    public const string Flag = "--preflight";

    /// <summary>Prints the full report; the exit code is 0 where Beyla can run, 1 where it cannot.</summary>
    public static async Task<int> PrintPreflightAsync(TextWriter output, IHostProbe? probe = null)
    {
        var report = await BeylaPreflight.RunAsync(probe ?? new HostProbe());
        foreach (var line in report.Lines())
        {
            await output.WriteLineAsync(line);
        }
        return report.CanRunBeyla ? 0 : 1;
    }

    /// <summary>
    /// Runs the preflight before the graph starts, when <paramref name="enabled"/> (Lab19:Preflight:Enabled). Where the host fails it,
    /// the resource leaves the model and a <see cref="PreflightFailedResource"/> of the same name takes its place, so the dashboard says
    /// what is missing instead of showing a container that fails; everything else still starts. Calls made on the returned builder then
    /// change nothing.
    /// </summary>
    public static IResourceBuilder<T> WherePreflightPasses<T>(this IResourceBuilder<T> builder, bool enabled, IHostProbe? probe = null) where T : IResource
    {
        var app = builder.ApplicationBuilder;
        if (!app.ExecutionContext.IsRunMode || !enabled)
        {
            return builder;
        }

        var report = BeylaPreflight.RunAsync(probe ?? new HostProbe()).GetAwaiter().GetResult();
        foreach (var check in report.Failures.Concat(report.Warnings))
        {
            Console.WriteLine($"preflight: {check.Line}");
        }
        if (report.CanRunBeyla)
        {
            return builder;
        }

        Console.WriteLine($"preflight: {report.Summary} `dotnet run --project Lab19.AppHost -- {Flag}` shows every check.");
        app.Resources.Remove(builder.Resource);
        var stand = new PreflightFailedResource(builder.Resource.Name, report);
        app.AddResource(stand)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "Preflight",
                State = new ResourceStateSnapshot(stand.StateText, KnownResourceStateStyles.Error),
                Properties =
                [
                    new("preflight.summary", report.Summary),
                    .. report.Failures.Concat(report.Warnings).Select(c => new ResourcePropertySnapshot($"preflight.{c.Name}", c.Line)),
                ],
            })
            .OnInitializeResource((_, e, _) =>
            {
                foreach (var check in report.Failures)
                {
                    e.Logger.LogError("{Check}", check.Line);
                }
                foreach (var check in report.Warnings)
                {
                    e.Logger.LogWarning("{Check}", check.Line);
                }
                e.Logger.LogError("{Summary}", report.Summary);
                return Task.CompletedTask;
            });
        return builder;
    }
}
