// AppModel: the lab AppHost's resource model built without starting anything, and the environment and arguments it gives a resource.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lab19.Tests.Infrastructure;

public static class AppModel
{
    public const string UserDb = "Host=127.0.0.1;Port=5432;Username=lab;Database=userdb";
    public const string PointDb = "Server=127.0.0.1;Port=3306;User ID=lab;Database=pointdb";

    /// <summary>The model with the preflight off, so Beyla's wiring is the same on every host (the Preflight*Tests cover the preflight).</summary>
    public static Task<IDistributedApplicationTestingBuilder> ModelAsync(params string[] args) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.Lab19_AppHost>(["--Lab19:Preflight:Enabled=false", .. args], (options, _) => options.DisableDashboard = true, TestContext.Current.CancellationToken);

    public static IResource Resource(IDistributedApplicationTestingBuilder builder, string name) =>
        Assert.Single(builder.Resources, r => r.Name == name);

    public static string ImageOf(IResource resource)
    {
        if (resource is HostNetworkContainerResource hostNetwork) return hostNetwork.Image;
        var image = Assert.Single(resource.Annotations.OfType<ContainerImageAnnotation>());
        return $"{image.Registry}/{image.Image}:{image.Tag}";
    }

    /// <summary>The resource's environment as publish mode writes it: expressions such as {lgtm.bindings.otlp-grpc.url}.</summary>
    public static Task<Dictionary<string, string>> PublishEnvironmentAsync(IResource resource) =>
        EnvironmentAsync(resource, new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish));

    public static async Task<Dictionary<string, string>> EnvironmentAsync(IResource resource, DistributedApplicationExecutionContext context)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(context, NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.Null(configuration.Exception);
        return configuration.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value);
    }

    /// <summary>The resources' environment as a run would give it, every endpoint allocated on localhost (nothing is started).</summary>
    public static async Task<Dictionary<string, Dictionary<string, string>>> RunEnvironmentsAsync(IDistributedApplicationTestingBuilder builder, params string[] names)
    {
        var unfixed = 40000; // endpoints whose ports the orchestrator would choose (the local database servers') get ports of their own
        foreach (var endpoint in builder.Resources.SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()))
        {
            endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", endpoint.Port ?? endpoint.TargetPort ?? unfixed++);
        }
        await using var services = builder.Services.BuildServiceProvider();
        var context = new DistributedApplicationExecutionContext(new DistributedApplicationExecutionContextOptions(DistributedApplicationOperation.Run) { Services = services });
        var environments = new Dictionary<string, Dictionary<string, string>>();
        foreach (var name in names)
        {
            environments[name] = await EnvironmentAsync(Resource(builder, name), context);
        }
        return environments;
    }

    /// <summary>The container runtime arguments (docker run flags) the resource's callbacks add.</summary>
    public static async Task<List<string>> RuntimeArgsAsync(IResource resource)
    {
        var args = new List<object>();
        foreach (var annotation in resource.Annotations.OfType<ContainerRuntimeArgsCallbackAnnotation>())
        {
            await annotation.Callback(new ContainerRuntimeArgsCallbackContext(args, TestContext.Current.CancellationToken));
        }
        return args.Select(a => a.ToString()!).ToList();
    }

    /// <summary>The resource's command-line arguments as publish mode writes them.</summary>
    public static async Task<List<string>> ArgumentsAsync(IResource resource)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(resource).WithArgumentsConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.Null(configuration.Exception);
        return configuration.Arguments.Select(a => a.Value!.ToString()!).ToList();
    }
}
