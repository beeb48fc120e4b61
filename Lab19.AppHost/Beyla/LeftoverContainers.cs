using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lab19.AppHost;

/// <summary>A <see cref="HostNetworkContainerResource"/>'s container must not outlive the lab, nor block its next start.</summary>
internal static class LeftoverContainers
{
    private static readonly TimeSpan DockerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Removes the container left by an earlier run before each start, one still running after its resource stopped (the CLI was
    /// killed before the container ended), and, last, whatever is left once the orchestrator has stopped everything.
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithLeftoverRemoval(this IResourceBuilder<HostNetworkContainerResource> builder)
    {
        var resource = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<AfterResourcesCreatedEvent>((e, _) =>
        {
            // A last resort once DCP has stopped everything: the container normally went with its docker CLI already.
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() =>
                HostProbes.Current.RunAsync("docker", ["rm", "--force", resource.ContainerName], DockerTimeout, CancellationToken.None).GetAwaiter().GetResult());
            return Task.CompletedTask;
        });
        return builder
            .OnBeforeResourceStarted((r, e, _) => RemoveAsync(r, e.Services, "left over from an earlier run"))
            .OnResourceStopped((r, e, _) => RemoveAsync(r, e.Services, "still running after its resource stopped"));
    }

    private static async Task RemoveAsync(HostNetworkContainerResource resource, IServiceProvider services, string why)
    {
        // Not cancelled with the app: a stop during shutdown must still clean up.
        var removed = await HostProbes.Current.RunAsync("docker", ["rm", "--force", resource.ContainerName], DockerTimeout, CancellationToken.None);
        if (removed.ExitCode == 0 && removed.StandardOutput.Trim() == resource.ContainerName)
        {
            services.GetRequiredService<ResourceLoggerService>().GetLogger(resource).LogWarning("Removed container {Container}, {Why}.", resource.ContainerName, why);
        }
    }
}
