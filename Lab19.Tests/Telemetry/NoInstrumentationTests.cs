using System.Text.Json;
using System.Xml.Linq;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The point of the lab: the services carry no telemetry library; their telemetry comes from Beyla, or from the runtime agent loaded from its own folder.</summary>
public class NoInstrumentationTests
{
    private static readonly string[] Forbidden = ["OpenTelemetry", "Prometheus", "App.Metrics"];

    [Theory]
    [InlineData("UserService")]
    [InlineData("PointService")]
    public void The_built_service_depends_on_no_telemetry_assembly(string service)
    {
        var deps = Path.Combine(Repo.BuildOutput(service), $"{service}.deps.json");
        Assert.True(File.Exists(deps), $"{deps} is missing: build the solution first");

        using var json = JsonDocument.Parse(File.ReadAllText(deps));
        var libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name.Split('/')[0]).ToList();
        Assert.Contains(libraries, l => l.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal)); // the file is the real one
        Assert.DoesNotContain(libraries, l => Forbidden.Any(f => l.StartsWith(f, StringComparison.OrdinalIgnoreCase)));
    }

    [Theory]
    [InlineData("UserService")]
    [InlineData("PointService")]
    public void The_build_output_holds_no_telemetry_assembly(string service)
    {
        // The runtime agent is loaded from its own folder (DOTNET_STARTUP_HOOKS), never from here.
        var assemblies = Directory.GetFiles(Repo.BuildOutput(service), "*.dll").Select(Path.GetFileName).ToList();
        Assert.Contains($"{service}.dll", assemblies); // the folder is the real one
        Assert.DoesNotContain(assemblies, a => Forbidden.Any(f => a!.StartsWith(f, StringComparison.OrdinalIgnoreCase)));
    }

    [Theory]
    [InlineData("UserService/UserService.csproj")]
    [InlineData("PointService/PointService.csproj")]
    [InlineData("Lab19.ServiceDefaults/Lab19.ServiceDefaults.csproj")]
    public void The_project_references_no_telemetry_package(string project)
    {
        var references = XDocument.Load(Repo.PathOf(project.Split('/'))).Descendants("PackageReference").Select(r => (string)r.Attribute("Include")!).ToList();
        Assert.NotEmpty(references);
        Assert.DoesNotContain(references, r => Forbidden.Any(f => r.StartsWith(f, StringComparison.OrdinalIgnoreCase)));
    }
}
