namespace Lab19.AppHost;

/// <summary>The command line of a <see cref="HostNetworkContainerResource"/>: `docker run` with the container settings its annotations hold.</summary>
internal static class DockerRunArguments
{
    /// <summary>The label every such container carries: `docker ps --filter label=lab19.resource` lists them.</summary>
    public const string ResourceLabel = "lab19.resource";

    /// <summary>`run --rm --name ... --network=host [runtime args] [--cap-add] [-v mounts] [-e names] image`: values of the variables stay in the CLI's environment.</summary>
    public static async Task AddAsync(HostNetworkContainerResource resource, CommandLineArgsCallbackContext context)
    {
        List<object> args =
        [
            "run", "--rm", "--name", resource.ContainerName, "--network=host",
            "--label", $"{ResourceLabel}={resource.Name}", "--label", $"{LeftoverContainers.OwnerLabel}={resource.Owner}",
        ];

        var runtimeArgs = new List<object>();
        foreach (var callback in resource.Annotations.OfType<ContainerRuntimeArgsCallbackAnnotation>())
        {
            await callback.Callback(new ContainerRuntimeArgsCallbackContext(runtimeArgs, context.CancellationToken));
        }
        args.AddRange(runtimeArgs);
        // The Docker Engine is asked for its version only when there are capabilities to add (older engines reject some names).
        var capabilities = resource.Annotations.OfType<CapabilitiesAnnotation>().SelectMany(a => a.Capabilities).Distinct().ToList();
        if (capabilities.Count > 0)
        {
            args.AddRange(DockerCapabilities.Accepted(capabilities, await DockerCapabilities.EngineMajorVersionAsync()).Select(c => $"--cap-add={c}"));
        }

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
}
