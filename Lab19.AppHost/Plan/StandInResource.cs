using Microsoft.Extensions.Logging;

namespace Lab19.AppHost;

/// <summary>
/// Stands in the dashboard for a resource this host cannot run (Beyla without eBPF, lgtm and k6 without Docker): its state says what
/// happened instead, its details and console say why and what to do. It runs nothing.
/// </summary>
internal sealed class StandInResource(string name, LeftOut why) : Resource(name)
{
    public LeftOut Why { get; } = why;
}

internal static class StandInResourceBuilderExtensions
{
    /// <summary>A <see cref="StandInResource"/> for each resource the plan leaves out on this host.</summary>
    public static IDistributedApplicationBuilder AddStandIns(this IDistributedApplicationBuilder builder, LabPlan plan)
    {
        foreach (var why in plan.LeftOut)
        {
            builder.AddResource(new StandInResource(why.Resource, why))
                .WithInitialState(new CustomResourceSnapshot
                {
                    ResourceType = "Left out",
                    CreationTimeStamp = DateTime.UtcNow,
                    State = new ResourceStateSnapshot(why.State, why.IsError ? KnownResourceStateStyles.Error : KnownResourceStateStyles.Info),
                    Properties =
                    [
                        new(CustomResourceKnownProperties.Source, "Lab19.AppHost/Plan/LabPlan.cs"),
                        .. why.Lines.Select((line, i) => new ResourcePropertySnapshot($"lab19.why.{i + 1}", line)),
                    ],
                })
                .OnInitializeResource((_, e, _) =>
                {
                    foreach (var line in why.Lines)
                    {
                        e.Logger.Log(why.IsError ? LogLevel.Error : LogLevel.Information, "{Line}", line);
                    }
                    return Task.CompletedTask;
                });
        }
        return builder;
    }
}
