using Lab19.Tests.Infrastructure;
using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>Beyla's resource in the AppHost's model (nothing started): privileges, host PID and network, mounts, where it exports, the preflight's say (BeylaContainerLifecycleTests runs it).</summary>
public class BeylaModelTests
{
    [Fact]
    public async Task Beyla_is_privileged_with_host_pid_its_config_mounted_read_only_and_exports_to_lgtm()
    {
        await using var builder = await ModelAsync();
        var beyla = Resource(builder, "beyla");

        var args = await RuntimeArgsAsync(beyla);
        Assert.Contains("--privileged", args);
        Assert.Contains("--pid=host", args);
        Assert.IsType<HostNetworkContainerResource>(beyla); // --network=host: the docker run line below, and BeylaContainerLifecycleTests

        var config = Assert.Single(beyla.Annotations.OfType<ContainerMountAnnotation>(), m => m.Target == "/config/beyla-config.yml");
        Assert.True(config.IsReadOnly);
        Assert.Equal(Repo.PathOf("beyla", "beyla-config.yml"), config.Source);
        Assert.True(File.Exists(config.Source));
        // What Beyla's docs ask a container to see: cgroups and tracefs (context propagation), securityfs read-only (lockdown mode).
        var mounts = beyla.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.BindMount).ToDictionary(m => m.Target, m => (m.Source, m.IsReadOnly));
        Assert.Equal(("/sys/fs/cgroup", false), mounts["/sys/fs/cgroup"]);
        Assert.Equal(("/sys/kernel/tracing", false), mounts["/sys/kernel/tracing"]);
        Assert.Equal(("/sys/kernel/security", true), mounts["/sys/kernel/security"]);

        var env = await PublishEnvironmentAsync(beyla);
        Assert.Equal("/config/beyla-config.yml", env["BEYLA_CONFIG_PATH"]);
        Assert.Equal("{lgtm.bindings.otlp-grpc.url}", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.DoesNotContain("OTEL_SERVICE_NAME", env.Keys);
        Assert.DoesNotContain("BEYLA_SERVICE_NAME", env.Keys);
    }

    [Fact]
    public async Task Beyla_runs_with_the_least_privilege_capabilities_when_privileged_is_off()
    {
        await using var builder = await ModelAsync("--Lab19:Beyla:Privileged=false");
        var beyla = Resource(builder, "beyla");

        var kernel = BeylaPreflight.ParseKernel(File.ReadAllText(BeylaPreflight.OsReleasePath)); // this host's, as the AppHost reads it
        Assert.Equal(BeylaResourceBuilderExtensions.CapabilitiesFor(kernel), Assert.Single(beyla.Annotations.OfType<CapabilitiesAnnotation>()).Capabilities);
        var args = await ArgumentsAsync(beyla); // the docker run line, with --cap-add as this host's Docker Engine accepts them
        Assert.DoesNotContain("--privileged", args);
        Assert.Contains("--pid=host", args);
        foreach (var capability in new[] { "DAC_READ_SEARCH", "SYS_PTRACE", "NET_RAW", "SYS_ADMIN", "NET_ADMIN" })
        {
            Assert.Contains($"--cap-add={capability}", args);
        }
        // Docker Engine before 23 rejects these three; SYS_ADMIN (granted above) covers them there.
        var engine = await DockerCapabilities.EngineMajorVersionAsync();
        foreach (var capability in new[] { "BPF", "PERFMON", "CHECKPOINT_RESTORE" })
        {
            Assert.Equal(engine is not < 23, args.Contains($"--cap-add={capability}"));
        }
    }

    /// <summary>Kernels on both sides of the two limits Beyla's capability rules have (5.8, 5.11), and RHEL's 4.18.</summary>
    public static TheoryData<string> Kernels() => new("4.18", "5.8", "5.10", "5.11", "6.8");

    [Theory]
    [MemberData(nameof(Kernels))]
    public void The_least_privilege_set_holds_every_capability_Beylas_docs_require_on_that_kernel_and_no_other(string kernel)
    {
        var version = Version.Parse(kernel);
        var required = BeylaRules.RequiredCapabilities(version, BeylaRules.BeylaFeatures.Of(BeylaRules.LabConfig()));
        var granted = BeylaResourceBuilderExtensions.CapabilitiesFor(version).ToHashSet();

        Assert.True(required.IsSubsetOf(granted), $"kernel {kernel}: Beyla needs {string.Join(", ", required.Except(granted))} as well");
        Assert.True(granted.IsSubsetOf(required), $"kernel {kernel}: {string.Join(", ", granted.Except(required))} granted for nothing");
        // Where the kernel cannot be read, the set of the oldest kernel Beyla runs on.
        Assert.Superset(BeylaRules.RequiredCapabilities(new Version(4, 18), BeylaRules.BeylaFeatures.Of(BeylaRules.LabConfig())), BeylaResourceBuilderExtensions.CapabilitiesFor(null).ToHashSet());
    }

    [Theory]
    [InlineData("5.10.0-28-amd64", "ID=debian\n", true)]
    [InlineData("4.18.0-553.el8_10.x86_64", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", true)]
    [InlineData("6.8.0-45-generic", "ID=ubuntu\n", false)]
    public async Task The_AppHost_grants_SYS_RESOURCE_where_the_hosts_kernel_is_older_than_5_11(string release, string osRelease, bool expected)
    {
        var host = new FakeHostProbe();
        host.Files[BeylaPreflight.OsReleasePath] = release + "\n";
        host.Files["/etc/os-release"] = osRelease;
        List<string> args;
        // The AppHost reads the kernel through HostProbes.Current, which flows into the entry point the testing builder runs.
        using (HostProbes.Use(host))
        {
            await using var builder = await ModelAsync("--Lab19:Beyla:Privileged=false");
            args = await ArgumentsAsync(Resource(builder, "beyla")); // the docker run line, where the capabilities are (CapabilitiesAnnotation)
        }

        Assert.Equal(expected, args.Contains("--cap-add=SYS_RESOURCE"));
        var kernel = BeylaPreflight.ParseKernel(release)!;
        var required = BeylaRules.RequiredCapabilities(kernel, BeylaRules.BeylaFeatures.Of(BeylaRules.LabConfig()));
        // Docker Engine before 23 rejects BPF, PERFMON and CHECKPOINT_RESTORE; SYS_ADMIN, granted, covers them there.
        var coveredBySysAdmin = await DockerCapabilities.EngineMajorVersionAsync() is < 23 ? new[] { "BPF", "PERFMON", "CHECKPOINT_RESTORE" } : [];
        Assert.All(required.Except(coveredBySysAdmin), capability => Assert.Contains($"--cap-add={capability}", args));
    }

    [Fact]
    public async Task The_AppHost_runs_Beyla_with_docker_run_in_the_host_network_with_its_mounts_and_variable_names_only()
    {
        await using var builder = await ModelAsync();
        var beyla = Assert.IsType<HostNetworkContainerResource>(Resource(builder, "beyla"));

        Assert.Equal("docker", beyla.Command);
        Assert.Matches("^lab19-beyla-[0-9a-f]{8}$", beyla.ContainerName);
        var args = await ArgumentsAsync(beyla);
        Assert.Equal(["run", "--rm", "--name", beyla.ContainerName, "--network=host", "--label", "lab19.resource=beyla", "--label", $"lab19.owner={beyla.Owner}"], args[..9]);
        Assert.Contains("--privileged", args);
        Assert.Contains("--pid=host", args);
        Assert.Contains($"{Repo.PathOf("beyla", "beyla-config.yml")}:/config/beyla-config.yml:ro", args);
        Assert.Contains("/sys/fs/cgroup:/sys/fs/cgroup", args);
        var names = args.Zip(args.Skip(1)).Where(p => p.First == "--env").Select(p => p.Second).ToList();
        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT", names);
        Assert.Contains("BEYLA_OPEN_PORT", names);
        Assert.DoesNotContain("OTEL_SERVICE_NAME", names);
        Assert.DoesNotContain(args, a => a.Contains('=') && a.StartsWith("OTEL_", StringComparison.Ordinal)); // values stay out of the command line
        Assert.Equal(beyla.Image, args[^1]);
        Assert.StartsWith("docker.io/grafana/beyla:", beyla.Image);
    }
}
