using System.Security.Cryptography;
using System.Text;
using Lab19.AppHost.Preflight;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A container in the host's network namespace, run by the Docker CLI as an executable resource.
/// DCP (Aspire 13.6.5) cannot do this for a container resource: it attaches every container to its own network, and
/// `docker create` then rejects --network=host ("conflicting options: cannot attach both user-defined and non-user-defined
/// network-modes"). Run in the foreground, `docker run --rm` gives the container DCP's executable lifecycle: its output is the
/// resource's console, its exit is the resource's exit, and DCP's stop (SIGTERM) reaches it through the CLI's signal proxy.
/// </summary>
public sealed class HostNetworkContainerResource(string name, string image, string tag, string containerName, string workingDirectory)
    : ExecutableResource(name, "docker", workingDirectory)
{
    public string? Registry { get; set; }
    public string ImageName { get; set; } = image;
    public string Tag { get; set; } = tag;

    /// <summary>The image reference `docker run` gets.</summary>
    public string Image => Registry is null ? $"{ImageName}:{Tag}" : $"{Registry}/{ImageName}:{Tag}";

    /// <summary>Fixed per AppHost and resource, so a container left by a crashed run is found and removed before the next start.</summary>
    public string ContainerName { get; } = containerName;
}

public static class HostNetworkContainerResourceBuilderExtensions
{
    /// <summary>The label every such container carries: `docker ps --filter label=lab19.resource` lists them.</summary>
    public const string ResourceLabel = "lab19.resource";

    private static readonly TimeSpan DockerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Adds <paramref name="image"/> as a container in the host network namespace. Mounts, runtime arguments and environment variables
    /// are given with the usual methods; arguments added with WithArgs after this call go to the container, after the image.
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> AddHostNetworkContainer(this IDistributedApplicationBuilder builder, string name, string image, string tag)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.AppHostDirectory)))[..8];
        var resource = new HostNetworkContainerResource(name, image, tag, $"lab19-{name}-{hash}", builder.AppHostDirectory);
        var docker = new HostProbe();

        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>((e, _) =>
        {
            // A last resort once DCP has stopped everything: the container normally went with its docker CLI already.
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() =>
                docker.RunAsync("docker", ["rm", "--force", resource.ContainerName], DockerTimeout, CancellationToken.None).GetAwaiter().GetResult());
            return Task.CompletedTask;
        });

        return builder.AddResource(resource)
            .WithArgs(context => DockerRunArgsAsync(resource, context))
            .OnBeforeResourceStarted((r, e, _) => RemoveLeftoverAsync(r, e.Services, "left over from an earlier run"))
            // If the CLI was killed before the container ended, the container must not outlive the resource.
            .OnResourceStopped((r, e, _) => RemoveLeftoverAsync(r, e.Services, "still running after its resource stopped"));

        async Task RemoveLeftoverAsync(HostNetworkContainerResource r, IServiceProvider services, string why)
        {
            // Not cancelled with the app: a stop during shutdown must still clean up.
            var removed = await docker.RunAsync("docker", ["rm", "--force", r.ContainerName], DockerTimeout, CancellationToken.None);
            if (removed.ExitCode == 0 && removed.StandardOutput.Trim() == r.ContainerName)
            {
                services.GetRequiredService<ResourceLoggerService>().GetLogger(r).LogWarning("Removed container {Container}, {Why}.", r.ContainerName, why);
            }
        }
    }

    /// <summary>`run --rm --name ... --network=host [runtime args] [-v mounts] [-e names] image`: values of the variables stay in the CLI's environment.</summary>
    private static async Task DockerRunArgsAsync(HostNetworkContainerResource resource, CommandLineArgsCallbackContext context)
    {
        List<object> args = ["run", "--rm", "--name", resource.ContainerName, "--label", $"{ResourceLabel}={resource.Name}", "--network=host"];

        var runtimeArgs = new List<object>();
        foreach (var callback in resource.Annotations.OfType<ContainerRuntimeArgsCallbackAnnotation>())
        {
            await callback.Callback(new ContainerRuntimeArgsCallbackContext(runtimeArgs, context.CancellationToken));
        }
        args.AddRange(runtimeArgs);

        foreach (var mount in resource.Annotations.OfType<ContainerMountAnnotation>())
        {
            args.AddRange(["--volume", $"{mount.Source}:{mount.Target}{(mount.IsReadOnly ? ":ro" : "")}"]);
        }

        // `-e NAME` passes NAME from the docker CLI's own environment, where DCP puts the resolved values (endpoints included).
        var environment = new Dictionary<string, object>();
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(new EnvironmentCallbackContext(context.ExecutionContext, resource, environment, context.CancellationToken));
        }
        foreach (var name in environment.Keys.Order(StringComparer.Ordinal))
        {
            args.AddRange(["--env", name]);
        }

        args.Add(resource.Image);
        // This callback is the resource's first, so whatever WithArgs adds later follows the image: the container's own arguments.
        foreach (var arg in args)
        {
            context.Args.Add(arg);
        }
    }

    public static IResourceBuilder<HostNetworkContainerResource> WithImageRegistry(this IResourceBuilder<HostNetworkContainerResource> builder, string registry)
    {
        builder.Resource.Registry = registry;
        return builder;
    }

    public static IResourceBuilder<HostNetworkContainerResource> WithImage(this IResourceBuilder<HostNetworkContainerResource> builder, string image, string tag, string? registry = null)
    {
        builder.Resource.ImageName = image;
        builder.Resource.Tag = tag;
        builder.Resource.Registry = registry;
        return builder;
    }

    public static IResourceBuilder<HostNetworkContainerResource> WithBindMount(this IResourceBuilder<HostNetworkContainerResource> builder, string source, string target, bool isReadOnly = false) =>
        builder.WithAnnotation(new ContainerMountAnnotation(Path.GetFullPath(source, builder.ApplicationBuilder.AppHostDirectory), target, ContainerMountType.BindMount, isReadOnly));

    /// <summary>Capabilities that CAP_SYS_ADMIN also grants (bpf_capable, perfmon_capable, checkpoint_restore_ns_capable in the kernel).</summary>
    private static readonly string[] SysAdminSplits = ["BPF", "PERFMON", "CHECKPOINT_RESTORE"];

    /// <summary>
    /// --cap-add for each capability. Docker Engine before 23.0 rejects BPF, PERFMON and CHECKPOINT_RESTORE ("invalid CapAdd: unknown
    /// capability", moby/moby#42601); there they are left out when SYS_ADMIN is granted as well, which the kernel accepts for each of them
    /// (and so does Beyla: "if sys admin is set, we have all capabilities", vendor/go.opentelemetry.io/obi/pkg/obi/os.go).
    /// </summary>
    public static IResourceBuilder<HostNetworkContainerResource> WithCapabilities(this IResourceBuilder<HostNetworkContainerResource> builder, params string[] capabilities)
    {
        var engine = new Lazy<Task<int?>>(EngineMajorVersionAsync);
        return builder.WithAnnotation(new ContainerRuntimeArgsCallbackAnnotation(async context =>
        {
            var skip = capabilities.Contains("SYS_ADMIN") && await engine.Value is < 23 ? SysAdminSplits : [];
            foreach (var capability in capabilities.Except(skip))
            {
                context.Args.Add($"--cap-add={capability}");
            }
        }));
    }

    /// <summary>The Docker Engine's major version, or null where no engine answers.</summary>
    public static async Task<int?> EngineMajorVersionAsync()
    {
        var version = await new HostProbe().RunAsync("docker", ["version", "--format", "{{.Server.Version}}"], DockerTimeout, CancellationToken.None);
        var major = version.StandardOutput.Trim().Split('.')[0];
        return version.ExitCode == 0 && int.TryParse(major, out var value) ? value : null;
    }

    public static IResourceBuilder<HostNetworkContainerResource> WithContainerRuntimeArgs(this IResourceBuilder<HostNetworkContainerResource> builder, params string[] args) =>
        builder.WithAnnotation(new ContainerRuntimeArgsCallbackAnnotation(list =>
        {
            foreach (var arg in args)
            {
                list.Add(arg);
            }
        }));
}
