using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lab19.AppHost;

/// <summary>
/// A <see cref="HostNetworkContainerResource"/>'s container must not outlive its run of the lab, nor block the next start; and one run
/// never removes another's. Each container carries its owner (<see cref="LabOwner"/>) in a label.
/// </summary>
internal static class LeftoverContainers
{
    public const string OwnerLabel = "lab19.owner";

    private static readonly TimeSpan DockerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Before each start, a container of the same name is removed when a crashed run left it (its owner runs no more) and refused when
    /// another running AppHost owns it. After a stop, and last when the lab ends, this run's own container is removed if it is still
    /// there (the docker CLI was killed before the container ended); a container of another run is left alone.
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithLeftoverRemoval(this IResourceBuilder<HostNetworkContainerResource> builder)
    {
        var resource = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<AfterResourcesCreatedEvent>((e, _) =>
        {
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() =>
                RemoveOwnAsync(resource, e.Services, "still running when the lab stopped").GetAwaiter().GetResult());
            return Task.CompletedTask;
        });
        return builder
            .OnBeforeResourceStarted((r, e, _) => ClaimAsync(r, e.Services))
            .OnResourceStopped((r, e, _) => RemoveOwnAsync(r, e.Services, "still running after its resource stopped"));
    }

    private static async Task ClaimAsync(HostNetworkContainerResource resource, IServiceProvider services)
    {
        if (await LabelsAsync(resource.ContainerName) is not { } labels) return;
        var logger = services.GetRequiredService<ResourceLoggerService>().GetLogger(resource);
        var owner = LabOwner.Parse(labels.GetValueOrDefault(OwnerLabel));
        if (owner is not null && owner.Instance != resource.Owner.Instance && owner.IsAlive())
        {
            logger.LogError("A container named {Container} runs for another Lab19 AppHost (pid {Pid}) from this folder: stop that lab first.", resource.ContainerName, owner.Pid);
            throw new InvalidOperationException($"{resource.ContainerName} belongs to another running Lab19 AppHost (pid {owner.Pid}).");
        }
        if (!labels.ContainsKey(DockerRunArguments.ResourceLabel))
        {
            logger.LogError("A container named {Container} that the lab did not start is in the way: remove it with `docker rm -f {Container}`.", resource.ContainerName, resource.ContainerName);
            throw new InvalidOperationException($"{resource.ContainerName} was not started by the lab.");
        }
        await RemoveAsync(resource, logger, "left over from an earlier run");
    }

    private static async Task RemoveOwnAsync(HostNetworkContainerResource resource, IServiceProvider services, string why)
    {
        if (await LabelsAsync(resource.ContainerName) is { } labels && labels.GetValueOrDefault(OwnerLabel) == resource.Owner.ToString())
        {
            await RemoveAsync(resource, services.GetRequiredService<ResourceLoggerService>().GetLogger(resource), why);
        }
    }

    /// <summary>The container's labels, or null when there is no such container (or no Docker engine answers).</summary>
    private static async Task<Dictionary<string, string>?> LabelsAsync(string container)
    {
        // Not cancelled with the app: a stop during shutdown must still clean up.
        var inspect = await HostProbes.Current.RunAsync("docker", ["inspect", "--format", "{{json .Config.Labels}}", container], DockerTimeout, CancellationToken.None);
        return inspect.ExitCode == 0 ? JsonSerializer.Deserialize<Dictionary<string, string>>(inspect.StandardOutput) ?? [] : null;
    }

    private static async Task RemoveAsync(HostNetworkContainerResource resource, ILogger logger, string why)
    {
        var removed = await HostProbes.Current.RunAsync("docker", ["rm", "--force", resource.ContainerName], DockerTimeout, CancellationToken.None);
        if (removed.ExitCode == 0 && removed.StandardOutput.Trim() == resource.ContainerName)
        {
            logger.LogWarning("Removed container {Container}, {Why}.", resource.ContainerName, why);
        }
    }
}
