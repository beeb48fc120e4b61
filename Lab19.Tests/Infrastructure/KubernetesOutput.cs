// KubernetesOutput: the Kubernetes manifests as the AppHost's publishing step writes them, loaded strictly, beside the model they came from.
using System.ComponentModel;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// One generation of the lab's Kubernetes manifests by the command users run (`dotnet run --project Lab19.AppHost -- --operation publish
/// --step publish-kubernetes --output-path DIR ...`), every YAML file loaded with KubernetesClient's typed models in strict mode, and the
/// AppHost's model built in publish mode with the same arguments, to compare the two.
/// </summary>
public sealed partial class KubernetesOutput : IAsyncDisposable
{
    private KubernetesOutput(string directory, string[] args, IDistributedApplicationTestingBuilder model)
    {
        Directory = directory;
        Args = args;
        Model = model;
        Objects = YamlFiles.SelectMany(f => Load(Text(f)).OfType<IKubernetesObject<V1ObjectMeta>>()).ToList();
    }

    public string Directory { get; }

    public string[] Args { get; }

    /// <summary>The AppHost's model in publish mode with <see cref="Args"/> (built, not started).</summary>
    public IDistributedApplicationTestingBuilder Model { get; }

    /// <summary>The Kubernetes objects of every YAML file (the kustomizations are not Kubernetes objects).</summary>
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Objects { get; }

    /// <summary>Every file written, relative to <see cref="Directory"/>, with '/' between folders.</summary>
    public IEnumerable<string> Files => System.IO.Directory.GetFiles(Directory, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(Directory, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal);

    /// <summary>The YAML files of objects and kustomizations: all but the lab's copied files (base/files/) and Beyla's configuration.</summary>
    public IEnumerable<string> YamlFiles => Files.Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) && !f.StartsWith("base/files/", StringComparison.Ordinal));

    public string Text(string file) => File.ReadAllText(Path.Combine(Directory, file));

    public static async Task<KubernetesOutput> GenerateAsync(params string[] args)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("lab19-kubernetes-").FullName;
        var dataHome = AppHostProcess.NewDataHome();
        var result = await AppHostProcess.RunToEndAsync(
            ["--operation", "publish", "--step", "publish-kubernetes", "--output-path", directory, .. args], dataHome, TimeSpan.FromMinutes(3));
        System.IO.Directory.Delete(dataHome, recursive: true);
        Assert.True(result.ExitCode == 0, $"the publishing step failed ({result.ExitCode}):\n{result.Output}\n{result.Error}");
        var model = await AppModel.ModelAsync(["--operation", "publish", .. args]);
        Assert.True(model.ExecutionContext.IsPublishMode);
        return new KubernetesOutput(directory, args, model);
    }

    /// <summary>
    /// A file's documents loaded in strict mode (an unknown or misplaced field, or a key given twice, throws) with the typed models of
    /// KubernetesClient, and kustomizations with the lab's <see cref="Kustomization"/>. LoadAllFromString, because the file and stream
    /// variants of KubernetesYaml ignore strict (KubernetesYaml.cs in kubernetes-client/csharp v19.0.2).
    /// </summary>
    public static List<object> Load(string text) => KubernetesYaml.LoadAllFromString(text, Lab19.AppHost.Kustomization.TypeMap, strict: true);

    /// <summary>A YAML file's text without the comment lines it starts with.</summary>
    public static string Body(string text) => string.Join('\n', text.Split('\n').SkipWhile(l => l.StartsWith('#')));

    public T Single<T>(string name) where T : IKubernetesObject<V1ObjectMeta> => Assert.Single(Objects.OfType<T>(), o => o.Metadata.Name == name);

    internal Kustomization Kustomization(string file) => Assert.IsType<Kustomization>(Assert.Single(Load(Text(file))));

    /// <summary>The pod of a resource's workload, whichever kind it is.</summary>
    public V1PodSpec Pod(string resource) => Assert.Single(Objects.Where(o => o.Metadata.Name == resource).Select(PodOf).OfType<V1PodSpec>());

    public V1Container Container(string resource) => Assert.Single(Pod(resource).Containers);

    /// <summary>Every workload's pod.</summary>
    public IEnumerable<V1PodSpec> Pods => Objects.Select(PodOf).OfType<V1PodSpec>();

    public static V1PodSpec? PodOf(object item) => item switch
    {
        V1Deployment d => d.Spec.Template.Spec,
        V1StatefulSet s => s.Spec.Template.Spec,
        V1DaemonSet d => d.Spec.Template.Spec,
        V1Job j => j.Spec.Template.Spec,
        _ => null,
    };

    /// <summary>
    /// What a value of the model's publish-mode environment (an expression such as "Host={user-db.bindings.tcp.host};Password={user-db-password.value}")
    /// must be in the cluster: an endpoint is its resource's Service at the endpoint's target port, a parameter $(NAME) of the variable
    /// the container reads it into, a connection string its own expression.
    /// </summary>
    public string ExpectedValue(string expression) => Placeholder().Replace(expression, m =>
    {
        var name = m.Groups["resource"].Value;
        return m.Groups["path"].Value.Split('.') switch
        {
            // a parameter (the generated passwords are parameters the model references, not resources of it)
            ["value"] => $"$({VariableOf(name)})",
            ["connectionString"] => ExpectedValue(ConnectionString(name)),
            ["bindings", var endpoint, var property] => Endpoint(AppModel.Resource(Model, name), endpoint, property),
            _ => throw new InvalidOperationException($"no cluster form known for {m.Value}"),
        };
    });

    /// <summary>The parameters an expression names, through the connection strings it names.</summary>
    public IEnumerable<string> ParametersIn(string expression) => Placeholder().Matches(expression).SelectMany(m => m.Groups["path"].Value switch
    {
        "value" => [m.Groups["resource"].Value],
        "connectionString" => ParametersIn(ConnectionString(m.Groups["resource"].Value)),
        _ => Enumerable.Empty<string>(),
    });

    private string ConnectionString(string resource) =>
        ((IResourceWithConnectionString)AppModel.Resource(Model, resource)).ConnectionStringExpression.ValueExpression;

    /// <summary>The parameter an expression is, if it is one alone (also through connection strings that are only it).</summary>
    public string? ParameterOf(string expression) => Placeholder().Match(expression) is { Success: true } m && m.Value == expression
        ? m.Groups["path"].Value switch
        {
            "value" => m.Groups["resource"].Value,
            "connectionString" => ParameterOf(ConnectionString(m.Groups["resource"].Value)),
            _ => null,
        }
        : null;

    /// <summary>Whether the expression names an endpoint without a target port (the https endpoint Aspire adds to projects in publish mode).</summary>
    public bool NamesUnservedEndpoint(string expression) => Placeholder().Matches(expression).Any(m =>
        m.Groups["path"].Value.Split('.') is ["bindings", var endpoint, _]
        && AppModel.Resource(Model, m.Groups["resource"].Value).Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == endpoint).TargetPort is null);

    public static string VariableOf(string parameter) => parameter.Replace('-', '_').ToUpperInvariant();

    private static string Endpoint(IResource resource, string name, string property)
    {
        var endpoint = resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == name);
        var port = endpoint.TargetPort ?? throw new InvalidOperationException($"{resource.Name}/{name} has no target port");
        return property switch
        {
            "url" => $"{endpoint.UriScheme}://{resource.Name}:{port}",
            "host" => resource.Name,
            "port" or "targetPort" => port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new InvalidOperationException($"no cluster form known for {resource.Name}.bindings.{name}.{property}"),
        };
    }

    [GeneratedRegex(@"\{(?<resource>[A-Za-z0-9_-]+)\.(?<path>[A-Za-z0-9_.-]+)\}")]
    private static partial Regex Placeholder();

    public async ValueTask DisposeAsync()
    {
        await Model.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>The generations the Kubernetes tests read: the default (Beyla, privileged), agent mode with a registry, hybrid unprivileged in another namespace.</summary>
public sealed class KubernetesOutputs : IAsyncLifetime
{
    public const string Registry = "registry.example.com:5000/lab19";
    public const string Tag = "1.2.3";
    public const string OtherNamespace = "lab19-hybrid";

    public KubernetesOutput Default { get; private set; } = null!;
    public KubernetesOutput Agent { get; private set; } = null!;
    public KubernetesOutput Hybrid { get; private set; } = null!;

    public IEnumerable<KubernetesOutput> All => [Default, Agent, Hybrid];

    public KubernetesOutput this[string mode] => mode switch { "default" => Default, "agent" => Agent, "hybrid" => Hybrid, _ => throw new ArgumentOutOfRangeException(nameof(mode)) };

    public async ValueTask InitializeAsync()
    {
        Default = await KubernetesOutput.GenerateAsync();
        Agent = await KubernetesOutput.GenerateAsync("--Lab19:Instrumentation=agent", $"--Lab19:Kubernetes:Registry={Registry}", $"--Lab19:Kubernetes:ImageTag={Tag}");
        Hybrid = await KubernetesOutput.GenerateAsync("--Lab19:Instrumentation=hybrid", "--Lab19:Beyla:Privileged=false", $"--Lab19:Kubernetes:Namespace={OtherNamespace}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var output in new[] { Default, Agent, Hybrid }.OfType<KubernetesOutput>())
        {
            await output.DisposeAsync();
        }
    }
}

/// <summary>kubectl's kustomize, where this machine has a kubectl with kustomize 5 or newer.</summary>
internal static partial class Kubectl
{
    /// <summary>Null where it can be used; else why not.</summary>
    public static async Task<string?> MissingAsync()
    {
        ProcessResult version;
        try
        {
            version = await Processes.ExecAsync("kubectl", ["version", "--client"], timeout: TimeSpan.FromMinutes(1));
        }
        catch (Win32Exception)
        {
            return "kubectl is not on PATH, so `kubectl kustomize` was not run (CI images need not have it; the manifests' other checks do not use it)";
        }
        return KustomizeVersion().Match(version.Output) is { Success: true } m && int.Parse(m.Groups["major"].Value) >= 5
            ? null
            : $"this kubectl's kustomize is older than v5 or unknown ({version.Output.Trim()}), so `kubectl kustomize` was not run: the overlay uses v5 syntax";
    }

    public static async Task<string> KustomizeAsync(string directory)
    {
        var result = await Processes.ExecAsync("kubectl", ["kustomize", directory], timeout: TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"kubectl kustomize {directory} failed ({result.ExitCode}):\n{result.Error}");
        return result.Output;
    }

    [GeneratedRegex(@"Kustomize Version: v(?<major>[0-9]+)\.")]
    private static partial Regex KustomizeVersion();
}
