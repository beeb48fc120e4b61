using Lab19.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>The Lab19 settings: bound from configuration once, defaults in LabSettings, a bad value stops the AppHost with a message that names it.</summary>
public class LabSettingsTests
{
    private static LabSettings Read(params string[] args) =>
        LabSettings.Read(new ConfigurationBuilder().AddCommandLine(args).Build());

    [Fact]
    public void Every_setting_binds_from_its_key()
    {
        var lab = Read("--Lab19:UserServicePort=18080", "--Lab19:PointServicePort=18001", "--Lab19:GrafanaPort=13000",
            "--Lab19:Instrumentation=hybrid", "--Lab19:Databases=local", "--Lab19:DotnetTracePropagation=false", "--Lab19:Observability:Enabled=false",
            "--Lab19:Beyla:Privileged=false", "--Lab19:Beyla:TracePrinter=json", "--Lab19:Preflight:Enabled=false",
            "--Lab19:Agent:OtlpEndpoint=http://collector:4318", "--Lab19:Agent:OtlpProtocol=http/protobuf",
            "--Lab19:Kubernetes:Namespace=observability-lab", "--Lab19:Kubernetes:Registry=registry.example.com:5000/lab19", "--Lab19:Kubernetes:ImageTag=2026.1");

        Assert.Equal(new LabSettings
        {
            UserServicePort = 18080,
            PointServicePort = 18001,
            GrafanaPort = 13000,
            Instrumentation = "hybrid",
            Databases = "local",
            DotnetTracePropagation = false,
            Observability = new() { Enabled = false },
            Beyla = new() { Privileged = false, TracePrinter = "json" },
            Preflight = new() { Enabled = false },
            Agent = new() { OtlpEndpoint = "http://collector:4318", OtlpProtocol = "http/protobuf" },
            Kubernetes = new() { Namespace = "observability-lab", Registry = "registry.example.com:5000/lab19", ImageTag = "2026.1" },
        }, lab);
    }

    [Fact]
    public void Without_configuration_the_settings_are_the_records_defaults_and_appsettings_json_keeps_them()
    {
        Assert.Equal(new LabSettings(), Read());

        var appsettings = new ConfigurationBuilder().AddJsonFile(Repo.PathOf("Lab19.AppHost", "appsettings.json")).Build();
        Assert.Equal(new LabSettings(), LabSettings.Read(appsettings));
    }

    [Theory]
    [InlineData("--Lab19:UserServicePort=0", "Lab19:UserServicePort must be a port from 1 to 65535, not 0.")]
    [InlineData("--Lab19:PointServicePort=70000", "Lab19:PointServicePort must be a port from 1 to 65535, not 70000.")]
    [InlineData("--Lab19:GrafanaPort=-1", "Lab19:GrafanaPort must be a port from 1 to 65535, not -1.")]
    [InlineData("--Lab19:PointServicePort=8080", "Lab19:UserServicePort and Lab19:PointServicePort share port 8080: each needs a port of its own.")]
    [InlineData("--Lab19:UserServicePort=3000", "Lab19:UserServicePort and Lab19:GrafanaPort share port 3000: each needs a port of its own.")]
    [InlineData("--Lab19:Beyla:TracePrinter=verbose", "Lab19:Beyla:TracePrinter must be one of disabled, text, json, json_indent, counter, not 'verbose'.")]
    [InlineData("--Lab19:Kubernetes:Namespace=Lab19", "Lab19:Kubernetes:Namespace must be a Kubernetes namespace name (lowercase letters, digits and '-', at most 63), not 'Lab19'.")]
    [InlineData("--Lab19:Kubernetes:Namespace=monitoring", "Lab19:Kubernetes:Namespace 'monitoring' is one Beyla never instruments (its default exclusions): choose another.")]
    [InlineData("--Lab19:Kubernetes:Registry=https://registry.example.com", "Lab19:Kubernetes:Registry must be a registry host with an optional port and path, e.g. registry.example.com/lab19 (no scheme), not 'https://registry.example.com'.")]
    [InlineData("--Lab19:Kubernetes:ImageTag=1.0 beta", "Lab19:Kubernetes:ImageTag must be an image tag (letters, digits, '_', '.', '-', at most 128), not '1.0 beta'.")]
    [InlineData("--Lab19:Agent:OtlpEndpoint=collector:4317", "Lab19:Agent:OtlpEndpoint must be an http or https URL, e.g. http://collector:4317, not 'collector:4317'.")]
    [InlineData("--Lab19:Agent:OtlpEndpoint=/v1/traces", "Lab19:Agent:OtlpEndpoint must be an http or https URL, e.g. http://collector:4317, not '/v1/traces'.")]
    [InlineData("--Lab19:Agent:OtlpProtocol=http/json", "Lab19:Agent:OtlpProtocol must be grpc or http/protobuf, not 'http/json'.")]
    [InlineData("--Lab19:Agent:OtlpProtocol=GRPC", "Lab19:Agent:OtlpProtocol must be grpc or http/protobuf, not 'GRPC'.")]
    [InlineData("--Lab19:UserServicePrt=18080", "Lab19:UserServicePrt is not a setting; Lab19 has UserServicePort, PointServicePort, GrafanaPort, Instrumentation, Databases, DotnetTracePropagation, Observability, Beyla, Preflight, Agent, Kubernetes.")]
    [InlineData("--Lab19:Beyla:Privilegd=false", "Lab19:Beyla:Privilegd is not a setting; Lab19:Beyla has Privileged, TracePrinter.")]
    [InlineData("--Lab19:UserServicePort=eighty", "'eighty'")]
    public void A_bad_value_is_refused_with_a_message_that_names_it(string arg, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read(arg));

        Assert.StartsWith("Invalid Lab19 settings", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_key_binds_in_any_case_as_configuration_keys_do_and_is_not_taken_for_an_unknown_one()
    {
        var lab = Read("--lab19:beyla:privileged=false", "--LAB19:AGENT:OTLPENDPOINT=http://collector:4317");

        Assert.False(lab.Beyla.Privileged);
        Assert.Equal("http://collector:4317", lab.Agent.OtlpEndpoint);
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("http/protobuf")]
    public void The_agents_OTLP_protocol_is_one_its_exporter_accepts(string protocol)
    {
        // OpenTelemetry .NET's OTLP exporter reads OTEL_EXPORTER_OTLP_PROTOCOL as exactly these two; any other value it ignores, and sends grpc.
        Assert.Equal(protocol, Read("--Lab19:Agent:OtlpEndpoint=http://collector:4317", $"--Lab19:Agent:OtlpProtocol={protocol}").Agent.OtlpProtocol);
        Assert.Equal(["grpc", "http/protobuf"], LabSettings.AgentSettings.OtlpProtocols);
    }

    [Fact]
    public async Task Bad_settings_stop_the_AppHost_before_anything_starts_with_exit_code_1_and_the_message_alone()
    {
        var result = await Processes.ExecAsync("dotnet",
            ["run", "--project", Repo.PathOf("Lab19.AppHost"), "--no-build", "-c", Repo.Configuration, "--no-launch-profile", "--",
             "--Lab19:UserServicePort=0", "--Lab19:Instrumentation=kernel", "--Lab19:Databases=cloud"],
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            [
                "Invalid Lab19 settings:",
                "  Lab19:UserServicePort must be a port from 1 to 65535, not 0.",
                "  Lab19:Instrumentation must be auto, ebpf, agent or hybrid, not 'kernel'.",
                "  Lab19:Databases must be auto, containers, local, not 'cloud'.",
            ],
            result.Error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("Aspire", result.Output); // nothing started
    }

    [Fact]
    public void Every_bad_value_is_named_at_once()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read("--Lab19:UserServicePort=0", "--Lab19:GrafanaPort=8001", "--Lab19:Beyla:TracePrinter=TEXT"));

        Assert.Equal(
            [
                "Invalid Lab19 settings:",
                "  Lab19:UserServicePort must be a port from 1 to 65535, not 0.",
                "  Lab19:PointServicePort and Lab19:GrafanaPort share port 8001: each needs a port of its own.",
                "  Lab19:Beyla:TracePrinter must be one of disabled, text, json, json_indent, counter, not 'TEXT'.",
            ],
            error.Message.Split(Environment.NewLine));
    }

    [Fact]
    public async Task Grafanas_port_is_free_for_a_service_when_observability_is_off()
    {
        await using var builder = await ModelAsync("--Lab19:Observability:Enabled=false", $"--Lab19:UserServicePort={LabSettings.DefaultGrafanaPort}");

        var http = Assert.Single(Resource(builder, "user-service").Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http");
        Assert.Equal(LabSettings.DefaultGrafanaPort, http.Port);
    }
}
