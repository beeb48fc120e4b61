// TestAppHost: an empty AppHost builder for tests that compose a few resources with the lab's extension methods.
using System.Reflection;

namespace Lab19.Tests.Infrastructure;

/// <summary>
/// An empty AppHost for tests that build a few resources themselves with the lab's extension methods. It borrows the lab AppHost's
/// assembly for DCP's location (DistributedApplicationTestingBuilder.Create looks for that on the call stack, where no AppHost method is).
/// </summary>
public static class TestAppHost
{
    public static IDistributedApplicationBuilder CreateBuilder(string[] args) =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = args,
            AssemblyName = typeof(BeylaResourceBuilderExtensions).Assembly.GetName().Name,
            DisableDashboard = true,
            AllowUnsecuredTransport = true,
        });
}
