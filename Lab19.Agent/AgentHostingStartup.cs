using Microsoft.AspNetCore.Hosting;

[assembly: HostingStartup(typeof(Lab19.Agent.AgentHostingStartup))]

namespace Lab19.Agent;

/// <summary>Run by ASP.NET Core while it builds the service's host, because <see cref="StartupHook"/> named this assembly.</summary>
public sealed class AgentHostingStartup : IHostingStartup
{
    public void Configure(IWebHostBuilder builder) => builder.ConfigureServices(services => services.AddLab19Agent());
}
