using System.Globalization;
using k8s.Models;

namespace Lab19.AppHost;

/// <summary>
/// Turns a value of the model (a string, an endpoint, a parameter, a connection string, an expression of them) into a container's
/// variable: an endpoint becomes its Service's name and port, a parameter a key of the Secret the user creates. A value that is one
/// parameter reads the Secret directly; a parameter inside a longer value (a connection string) is written <c>$(NAME)</c>, which
/// Kubernetes fills in from the container's variable NAME, read from the Secret and listed first (<see cref="SecretVariables"/>).
/// </summary>
internal sealed class KubernetesValues
{
    /// <summary>The Secret the user creates (secrets.env), one key per parameter of the model.</summary>
    public const string SecretName = "lab19-secrets";

    private readonly List<ParameterResource> _embedded = [];

    /// <summary>The parameters written <c>$(NAME)</c> so far.</summary>
    public IEnumerable<ParameterResource> EmbeddedParameters => _embedded.Distinct();

    /// <summary>The variable a parameter is read into when a longer value names it: its name in capitals, e.g. USER_DB_PASSWORD.</summary>
    public static string VariableOf(ParameterResource parameter) => KubernetesNames.Sanitize(parameter.Name).Replace('-', '_').ToUpperInvariant();

    /// <summary>The container's variable <paramref name="name"/> with <paramref name="value"/> from the model.</summary>
    /// <exception cref="EndpointNotInClusterException">The value names an endpoint the cluster does not serve.</exception>
    public V1EnvVar Variable(string name, object? value) =>
        Parameter(value) is { } parameter ? FromSecret(name, parameter.Name) : new V1EnvVar { Name = name, Value = Text(value) };

    /// <summary>A variable read from key <paramref name="key"/> of <see cref="SecretName"/>.</summary>
    public static V1EnvVar FromSecret(string name, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = SecretName, Key = key } } };

    /// <summary>The variables that <c>$(NAME)</c> in the values so far refer to, to be listed before them.</summary>
    public IEnumerable<V1EnvVar> SecretVariables() => EmbeddedParameters.Select(p => FromSecret(VariableOf(p), p.Name));

    /// <summary>The parameter that is the whole value, if it is one (also through an expression or a connection string that is only it).</summary>
    private static ParameterResource? Parameter(object? value) => value switch
    {
        ParameterResource parameter => parameter,
        ConnectionStringReference reference => Parameter(reference.Resource.ConnectionStringExpression),
        IResourceWithConnectionString resource and not ParameterResource => Parameter(resource.ConnectionStringExpression),
        ReferenceExpression { IsConditional: false, Format: "{0}", ValueProviders: [var only] } expression when expression.StringFormats[0] is null => Parameter(only),
        _ => null,
    };

    private string Text(object? value) => value switch
    {
        null => "",
        // "$(" would be read by Kubernetes as a reference to another variable; "$$(" is its escape.
        string text => text.Replace("$(", "$$(", StringComparison.Ordinal),
        ParameterResource parameter => Embed(parameter),
        ConnectionStringReference reference => Text(reference.Resource.ConnectionStringExpression),
        IResourceWithConnectionString resource => Text(resource.ConnectionStringExpression),
        EndpointReference endpoint => Endpoint(endpoint, EndpointProperty.Url),
        EndpointReferenceExpression expression => Endpoint(expression.Endpoint, expression.Property),
        ReferenceExpression { IsConditional: false } expression => Format(expression),
        _ => throw new NotSupportedException($"A value of type {value.GetType().Name} ({(value as IManifestExpressionProvider)?.ValueExpression}) has no Kubernetes form in Lab19.AppHost/Kubernetes/."),
    };

    private string Embed(ParameterResource parameter)
    {
        _embedded.Add(parameter);
        return $"$({VariableOf(parameter)})";
    }

    private string Format(ReferenceExpression expression)
    {
        var values = expression.ValueProviders.Select((provider, i) =>
        {
            var text = Text(provider);
            return expression.StringFormats[i] switch
            {
                null => text,
                // A secret is filled in by Kubernetes as it is, unescaped: the README asks for passwords of letters and digits.
                "uri" => NamesParameter(provider) ? text : Uri.EscapeDataString(text),
                var format => throw new NotSupportedException($"The format '{format}' in {expression.ValueExpression} has no Kubernetes form in Lab19.AppHost/Kubernetes/."),
            };
        }).ToArray<object?>();
        return string.Format(CultureInfo.InvariantCulture, expression.Format.Replace("$(", "$$(", StringComparison.Ordinal), values);
    }

    private static bool NamesParameter(object? value) => value switch
    {
        ParameterResource => true,
        ConnectionStringReference reference => NamesParameter(reference.Resource.ConnectionStringExpression),
        IResourceWithConnectionString resource => NamesParameter(resource.ConnectionStringExpression),
        ReferenceExpression expression => expression.ValueProviders.Any(NamesParameter),
        _ => false,
    };

    /// <summary>An endpoint as the cluster serves it: the Service named after the resource, on the port the container listens on.</summary>
    private static string Endpoint(EndpointReference endpoint, EndpointProperty property)
    {
        var annotation = endpoint.Resource.Annotations.OfType<EndpointAnnotation>().SingleOrDefault(e => e.Name == endpoint.EndpointName)
            ?? throw new InvalidOperationException($"{endpoint.Resource.Name} has no endpoint '{endpoint.EndpointName}'.");
        var port = KubernetesWorkloads.ServedPort(annotation) ?? throw new EndpointNotInClusterException(endpoint);
        var host = endpoint.Resource.Name;
        return property switch
        {
            EndpointProperty.Url => $"{annotation.UriScheme}://{host}:{port}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => host,
            EndpointProperty.Port or EndpointProperty.TargetPort => port.ToString(CultureInfo.InvariantCulture),
            EndpointProperty.HostAndPort => $"{host}:{port}",
            EndpointProperty.Scheme => annotation.UriScheme,
            _ => throw new NotSupportedException($"The endpoint property {property} of {endpoint.Resource.Name} has no Kubernetes form in Lab19.AppHost/Kubernetes/."),
        };
    }
}

/// <summary>A value names an endpoint the cluster does not serve (the https endpoint Aspire adds to every project in publish mode).</summary>
internal sealed class EndpointNotInClusterException(EndpointReference endpoint)
    : Exception($"{endpoint.Resource.Name}'s endpoint '{endpoint.EndpointName}' has no port of its own in the cluster")
{
    public string Endpoint { get; } = $"{endpoint.Resource.Name}/{endpoint.EndpointName}";
}
