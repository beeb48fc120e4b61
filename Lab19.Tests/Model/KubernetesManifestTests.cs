using System.Text;
using k8s;
using k8s.Models;
using Lab19.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;
using static Lab19.Tests.Infrastructure.AppModel;

namespace Lab19.Tests;

/// <summary>
/// The lab's Kubernetes manifests (Lab19.AppHost/Kubernetes/), checked without a cluster: written by the AppHost's publishing step as users
/// run it, loaded strictly by the official client's models, built by kustomize where kubectl is present, and compared with the AppHost's
/// model in publish mode (images and tags, ports, environment names and values, health routes, mounts) and with Beyla's documentation
/// (RBAC, DaemonSet, discovery keys of the v3.33.0 schema). No manifest here has been applied to a cluster.
/// </summary>
public class KubernetesManifestTests(KubernetesOutputs outputs) : IClassFixture<KubernetesOutputs>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Modes() => new("default", "agent", "hybrid");

    [Theory]
    [MemberData(nameof(Modes))]
    public void Every_generated_object_round_trips_losslessly_through_the_official_models(string mode)
    {
        var output = outputs[mode];
        Assert.NotEmpty(output.YamlFiles);
        foreach (var file in output.YamlFiles)
        {
            var body = KubernetesOutput.Body(output.Text(file));
            var objects = KubernetesOutput.Load(body); // strict: an unknown field or a key given twice throws
            Assert.All(objects, o => Assert.True(o is IKubernetesObject or Kustomization, $"{file}: a document of no known kind ({o.GetType().Name})"));
            Assert.Equal(body.TrimEnd('\n'), KubernetesYaml.SerializeAll(objects).TrimEnd('\n'));
        }
    }

    [Fact]
    public void A_misspelt_or_repeated_field_fails_the_strict_load_the_round_trip_uses()
    {
        var service = KubernetesOutput.Body(outputs.Default.Text("base/user-service.yaml"));
        Assert.Contains("containerPort: 8080", service);
        var misspelt = Assert.ThrowsAny<YamlDotNet.Core.YamlException>(() => KubernetesOutput.Load(service.Replace("containerPort: 8080", "containerPortt: 8080")));
        Assert.Contains("containerPortt", misspelt.Message);
        Assert.ThrowsAny<YamlDotNet.Core.YamlException>(() => KubernetesOutput.Load(service.Replace("replicas: 1", "replicas: 1\n  replicas: 2")));
        // Loaded leniently (KubernetesYaml's default), the misspelt field would vanish without a word.
        Assert.Single(KubernetesYaml.LoadAllFromString(service.Replace("containerPort: 8080", "containerPortt: 8080")).OfType<V1Deployment>());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Kustomize_builds_the_overlay_with_the_users_secrets_and_the_kubernetes_config_of_beyla(string mode)
    {
        var missing = await Kubectl.MissingAsync();
        Assert.SkipWhen(missing is not null, missing ?? "");
        var output = outputs[mode];
        var secrets = new Dictionary<string, string>();
        var keys = SecretKeysOf(output.Pods);
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            secrets[key] = Guid.NewGuid().ToString("N");
        }
        var secretsFile = Path.Combine(output.Directory, "secrets.env");
        await File.WriteAllLinesAsync(secretsFile, secrets.Select(s => $"{s.Key}={s.Value}"), Ct);
        try
        {
            var built = KubernetesOutput.Load(await Kubectl.KustomizeAsync(output.Directory)).Cast<IKubernetesObject<V1ObjectMeta>>().ToList();
            var @namespace = output.Kustomization("kustomization.yaml").Namespace;

            Assert.Equal(output.Objects.Count + 1 + output.Kustomization("base/kustomization.yaml").ConfigMapGenerator!.Count, built.Count); // + the Secret and the ConfigMaps
            Assert.All(built.Where(o => o is not (V1Namespace or V1ClusterRole or V1ClusterRoleBinding)), o => Assert.Equal(@namespace, o.Metadata.NamespaceProperty));

            var secret = Assert.Single(built.OfType<V1Secret>());
            Assert.StartsWith("lab19-secrets-", secret.Metadata.Name, StringComparison.Ordinal); // kustomize's hash suffix: a new secrets.env rolls the pods
            Assert.Equal(secrets.OrderBy(s => s.Key), secret.Data.Select(d => KeyValuePair.Create(d.Key, Encoding.UTF8.GetString(d.Value))).OrderBy(s => s.Key));
            var pods = built.Select(KubernetesOutput.PodOf).OfType<V1PodSpec>().ToList();
            Assert.All(pods.SelectMany(p => p.Containers.Concat(p.InitContainers ?? [])).SelectMany(c => c.Env ?? []).Where(e => e.ValueFrom?.SecretKeyRef is not null),
                e => Assert.Equal(secret.Metadata.Name, e.ValueFrom.SecretKeyRef.Name));
            var configMaps = built.OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name);
            Assert.All(pods.SelectMany(p => p.Volumes ?? []).Where(v => v.ConfigMap is not null), v => Assert.Contains(v.ConfigMap.Name, configMaps.Keys));

            // The overlay's Beyla configuration replaced the base's copy of the lab's file.
            if (output.Kustomization("kustomization.yaml").ConfigMapGenerator is [var beylaConfig])
            {
                var map = Assert.Single(configMaps.Values, c => c.Metadata.Name.StartsWith(beylaConfig.Name + "-", StringComparison.Ordinal));
                Assert.Equal(output.Text("beyla-config.yml"), map.Data["beyla-config.yml"]);
            }
            // The passwords are only in what kustomize made of the user's file, never in a generated file.
            foreach (var file in output.Files.Where(f => f != "secrets.env"))
            {
                Assert.DoesNotContain(secrets.Values, v => output.Text(file).Contains(v, StringComparison.Ordinal));
            }
        }
        finally
        {
            File.Delete(secretsFile);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void The_images_and_tags_are_the_models_and_the_services_are_the_images_dotnet_publish_builds(string mode)
    {
        var output = outputs[mode];
        foreach (var container in output.Model.Resources.OfType<ContainerResource>())
        {
            Assert.Equal(ImageOf(container), output.Container(container.Name).Image);
        }
        foreach (var beyla in output.Model.Resources.OfType<HostNetworkContainerResource>())
        {
            Assert.Equal(beyla.Image, output.Container(beyla.Name).Image);
        }
        var registry = output.Args.Contains($"--Lab19:Kubernetes:Registry={KubernetesOutputs.Registry}") ? KubernetesOutputs.Registry + "/" : "";
        var tag = output.Args.Contains($"--Lab19:Kubernetes:ImageTag={KubernetesOutputs.Tag}") ? KubernetesOutputs.Tag : "latest";
        foreach (var project in output.Model.Resources.OfType<ProjectResource>())
        {
            Assert.Equal($"{registry}{project.Name}:{tag}", output.Container(project.Name).Image);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Every_endpoint_with_a_port_is_served_on_that_port_by_a_service_of_the_resources_name(string mode)
    {
        var output = outputs[mode];
        foreach (var resource in output.Model.Resources.OfType<IResourceWithEndpoints>())
        {
            var served = resource.Annotations.OfType<EndpointAnnotation>().Where(e => e.TargetPort is not null).ToDictionary(e => e.Name, e => e.TargetPort!.Value);
            var ports = output.Container(resource.Name).Ports?.ToDictionary(p => p.Name, p => p.ContainerPort) ?? [];
            Assert.Equal(served, ports);
            if (served.Count == 0) continue;
            var service = output.Single<V1Service>(resource.Name);
            Assert.Equal(served, service.Spec.Ports.ToDictionary(p => p.Name, p => p.Port));
            Assert.All(service.Spec.Ports, p => Assert.Equal(p.Name, p.TargetPort.Value));
            Assert.Equal(resource.Name, Assert.Single(service.Spec.Selector).Value);
        }
        // Aspire gives every project an https endpoint in publish mode, without a port: the cluster serves http only.
        Assert.Equal(8080, output.Single<V1Service>("user-service").Spec.Ports.Single().Port);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Every_variable_of_the_model_is_in_its_container_with_the_clusters_form_of_its_value(string mode)
    {
        var output = outputs[mode];
        foreach (var resource in output.Model.Resources.Where(r => r is ProjectResource or ContainerResource or HostNetworkContainerResource))
        {
            var model = await PublishEnvironmentAsync(resource);
            var env = output.Container(resource.Name).Env?.ToList() ?? [];
            var names = env.Select(e => e.Name).ToList();
            Assert.Equal(names.Distinct(), names);

            var expected = model.Keys.Where(k => !output.NamesUnservedEndpoint(model[k])).ToList();
            var added = new List<string>();
            if (resource is HostNetworkContainerResource)
            {
                // Discovery by Deployment replaces the ports; Kubernetes metadata decoration is on.
                Assert.True(expected.Remove("BEYLA_OPEN_PORT"));
                added.Add("BEYLA_KUBE_METADATA_ENABLE");
            }
            added.AddRange(FirstStartVariables(output, resource).Keys);
            var helpers = names.TakeWhile(n => !model.ContainsKey(n) && !added.Contains(n)).ToList();
            Assert.Equal([.. helpers, .. expected, .. added], names);

            foreach (var name in expected)
            {
                var variable = env.Single(e => e.Name == name);
                if (output.ParameterOf(model[name]) is { } parameter)
                {
                    Assert.Equal(parameter, variable.ValueFrom.SecretKeyRef.Key);
                }
                else if (name == "DOTNET_STARTUP_HOOKS")
                {
                    Assert.Equal(RuntimeAgent.Path, model[name]);
                    Assert.Equal("/lab19-agent/Lab19.Agent.dll", variable.Value);
                }
                else
                {
                    Assert.Equal(output.ExpectedValue(model[name]), variable.Value);
                }
            }
            // Each $(NAME) in a value is a variable read from the Secret before it (Kubernetes fills in only earlier ones).
            Assert.Equal(helpers.Order(), env.Where(e => e.Value?.Contains("$(") == true)
                .SelectMany(e => System.Text.RegularExpressions.Regex.Matches(e.Value, @"\$\(([A-Z0-9_]+)\)").Select(m => m.Groups[1].Value)).Distinct().Order());
            Assert.All(helpers, h => Assert.Equal(h, KubernetesOutput.VariableOf(env.Single(e => e.Name == h).ValueFrom.SecretKeyRef.Key)));
            foreach (var (name, value) in FirstStartVariables(output, resource))
            {
                var variable = env.Single(e => e.Name == name);
                Assert.Equal(value, variable.Value ?? $"secret:{variable.ValueFrom.SecretKeyRef.Key}");
            }
        }
        // What was left out: the variables that name point-service's https endpoint, which has no port.
        var userService = await PublishEnvironmentAsync(Resource(output.Model, "user-service"));
        Assert.Equal(["POINT_SERVICE_HTTPS", "services__point-service__https__0"], userService.Keys.Where(k => output.NamesUnservedEndpoint(userService[k])));
        Assert.Equal("Host=user-db;Port=5432;Username=postgres;Password=$(USER_DB_PASSWORD);Database=userdb",
            output.Container("user-service").Env.Single(e => e.Name == "ConnectionStrings__userdb").Value);
        Assert.Equal("http://point-service:8001", output.Container("user-service").Env.Single(e => e.Name == "services__point-service__http__0").Value);
    }

    /// <summary>What the database images create on their first start, from the model's databases and accounts (the AppHost creates them with SQL).</summary>
    private static Dictionary<string, string> FirstStartVariables(KubernetesOutput output, IResource server)
    {
        var variables = new Dictionary<string, string>();
        foreach (var child in output.Model.Resources)
        {
            switch (child)
            {
                case PostgresDatabaseResource database when database.Parent == server:
                    variables["POSTGRES_DB"] = database.DatabaseName;
                    break;
                case MySqlDatabaseResource database when database.Parent == server:
                    variables["MYSQL_DATABASE"] = database.DatabaseName;
                    break;
                case DatabaseAccountResource account when account.Parent is MySqlDatabaseResource database && database.Parent == server:
                    variables["MYSQL_USER"] = account.UserName;
                    variables["MYSQL_PASSWORD"] = $"secret:{account.PasswordParameter.Name}";
                    break;
            }
        }
        return variables;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void The_probes_are_the_models_health_routes_and_the_mounts_and_volumes_its_mounts(string mode)
    {
        var output = outputs[mode];
        foreach (var project in output.Model.Resources.OfType<ProjectResource>())
        {
            var container = output.Container(project.Name);
            // Aspire's key for WithHttpHealthCheck("/health"): "{resource}_{endpoint}_{path}_{status}_check".
            var check = Assert.Single(project.Annotations.OfType<HealthCheckAnnotation>()).Key;
            Assert.Equal($"{project.Name}_https_/health_200_check", check);
            Assert.Equal(("/health", "http"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
            Assert.Equal(("/alive", "http"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        }
        Assert.Equal("/api/health", output.Container("lgtm").ReadinessProbe.HttpGet.Path);
        Assert.Equal("tcp", output.Container("user-db").ReadinessProbe.TcpSocket.Port.Value);

        foreach (var resource in output.Model.Resources.Where(r => r is ContainerResource or HostNetworkContainerResource))
        {
            var pod = output.Pod(resource.Name);
            var mounts = Assert.Single(pod.Containers).VolumeMounts?.ToDictionary(m => m.MountPath) ?? [];
            foreach (var mount in resource.Annotations.OfType<ContainerMountAnnotation>())
            {
                var volumeMount = mounts[mount.Target];
                Assert.Equal(mount.IsReadOnly || mount.Type == ContainerMountType.BindMount && mount.Source!.StartsWith(Repo.Root, StringComparison.Ordinal), volumeMount.ReadOnlyProperty ?? false);
                if (mount.Type == ContainerMountType.Volume)
                {
                    var claim = Assert.Single(Assert.IsType<V1StatefulSet>(output.Objects.Single(o => o.Metadata.Name == resource.Name && o is V1StatefulSet)).Spec.VolumeClaimTemplates);
                    Assert.Equal((claim.Metadata.Name, "data"), (volumeMount.Name, volumeMount.SubPath));
                    continue;
                }
                var volume = pod.Volumes.Single(v => v.Name == volumeMount.Name);
                if (!mount.Source!.StartsWith(Repo.Root + "/", StringComparison.Ordinal))
                {
                    Assert.Equal(mount.Source, volume.HostPath.Path); // Beyla's /sys/... of the node
                    continue;
                }
                // A file or folder of the lab: its files, copied as they are, in a ConfigMap of the base.
                var sources = File.Exists(mount.Source) ? new[] { mount.Source } : Directory.GetFiles(mount.Source);
                var generator = Assert.Single(output.Kustomization("base/kustomization.yaml").ConfigMapGenerator!, g => g.Name == volume.ConfigMap.Name);
                Assert.Equal(sources.Select(s => Path.GetFileName(s)).Order(), generator.Files!.Select(f => Path.GetFileName(f)).Order());
                Assert.All(sources, s => Assert.Equal(File.ReadAllText(s), output.Text($"base/files/{generator.Name}/{Path.GetFileName(s)}")));
                Assert.Equal(File.Exists(mount.Source) ? Path.GetFileName(mount.Source) : null, volumeMount.SubPath);
            }
        }
        // k6 starts on request in the lab: a suspended Job here.
        Assert.True(output.Model.Resources.Single(r => r.Name == "k6").Annotations.OfType<ExplicitStartupAnnotation>().Any());
        Assert.True(output.Single<V1Job>("k6").Spec.Suspend);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void The_runtime_agent_is_copied_from_its_image_by_an_init_container_into_the_services_it_instruments(string mode)
    {
        var output = outputs[mode];
        foreach (var project in output.Model.Resources.OfType<ProjectResource>())
        {
            var pod = output.Pod(project.Name);
            if (project.InstrumentedBy() != Instrumenter.RuntimeAgent)
            {
                Assert.Null(pod.InitContainers);
                Assert.DoesNotContain(pod.Containers[0].Env, e => e.Name == "DOTNET_STARTUP_HOOKS");
                continue;
            }
            var init = Assert.Single(pod.InitContainers);
            var registry = mode == "agent" ? KubernetesOutputs.Registry + "/" : "";
            Assert.Equal($"{registry}lab19-agent:{(mode == "agent" ? KubernetesOutputs.Tag : "latest")}", init.Image);
            Assert.Equal(["cp", "-a", "/app/.", "/lab19-agent/"], init.Command);
            var volume = Assert.Single(pod.Volumes, v => v.EmptyDir is not null);
            Assert.Equal(("/lab19-agent", volume.Name), (Assert.Single(init.VolumeMounts).MountPath, init.VolumeMounts[0].Name));
            Assert.Contains(pod.Containers[0].VolumeMounts, m => m.Name == volume.Name && m.MountPath == "/lab19-agent" && m.ReadOnlyProperty == true);
        }
        Assert.Equal(mode == "agent", !output.Files.Contains("base/beyla.yaml") && !output.Files.Contains("beyla-config.yml"));
        Assert.Equal(mode == "hybrid" ? 1 : mode == "agent" ? 2 : 0, output.Pods.Count(p => p.InitContainers is not null));
    }

    [Theory]
    [InlineData("default")]
    [InlineData("hybrid")]
    public void Beyla_is_a_DaemonSet_as_its_kubernetes_docs_set_it_up_with_the_privileges_and_host_mounts_of_the_local_run(string mode)
    {
        var output = outputs[mode];
        var beyla = Assert.IsType<HostNetworkContainerResource>(Resource(output.Model, "beyla"));
        var @namespace = mode == "hybrid" ? KubernetesOutputs.OtherNamespace : "lab19";

        // grafana/beyla v3.33.0 docs/sources/setup/kubernetes.md, "Configuring Kubernetes metadata decoration", exactly.
        var role = output.Single<V1ClusterRole>($"{@namespace}-beyla");
        Assert.Equal(["apps|replicasets|list,watch", "|pods,services,nodes|list,watch"],
            role.Rules.Select(r => $"{string.Join(',', r.ApiGroups)}|{string.Join(',', r.Resources)}|{string.Join(',', r.Verbs)}"));
        var binding = output.Single<V1ClusterRoleBinding>($"{@namespace}-beyla");
        Assert.Equal(("ClusterRole", role.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", "beyla", @namespace), (subject.Kind, subject.Name, subject.NamespaceProperty));
        output.Single<V1ServiceAccount>("beyla");

        var daemonSet = output.Single<V1DaemonSet>("beyla");
        var pod = daemonSet.Spec.Template.Spec;
        Assert.Equal("beyla", pod.ServiceAccountName);
        Assert.True(pod.HostPID);                                                 // --pid=host
        Assert.True(pod.HostNetwork);                                             // --network=host
        Assert.Equal("ClusterFirstWithHostNet", pod.DnsPolicy);                   // so that lgtm's Service name resolves from the host network
        Assert.Equal(["NoSchedule", "NoExecute"], pod.Tolerations.Select(t => t.Effect));
        var container = Assert.Single(pod.Containers);
        var security = container.SecurityContext;
        Assert.True(security.ReadOnlyRootFilesystem);
        if (mode == "default")
        {
            Assert.True(security.Privileged);
            Assert.Null(security.Capabilities);
        }
        else
        {
            Assert.Null(security.Privileged);
            Assert.Equal(Assert.Single(beyla.Annotations.OfType<CapabilitiesAnnotation>()).Capabilities.ToList(), security.Capabilities.Add.ToList());
            Assert.Equal(BeylaResourceBuilderExtensions.CapabilitiesFor(kernel: null), security.Capabilities.Add); // any node's kernel, SYS_RESOURCE for those before 5.11
            Assert.Equal(["ALL"], security.Capabilities.Drop);
            Assert.Equal(0L, security.RunAsUser);
            Assert.Equal("Unconfined", security.AppArmorProfile.Type);            // --security-opt=apparmor=unconfined
        }
        var mounts = container.VolumeMounts.ToDictionary(m => m.MountPath);
        foreach (var (path, readOnly) in BeylaResourceBuilderExtensions.HostMounts)
        {
            Assert.Equal(readOnly, mounts[path].ReadOnlyProperty ?? false);
            Assert.Equal(path, pod.Volumes.Single(v => v.Name == mounts[path].Name).HostPath.Path);
        }
        Assert.NotNull(pod.Volumes.Single(v => v.Name == mounts["/var/run/beyla"].Name).EmptyDir);
        var env = container.Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.DoesNotContain("BEYLA_OPEN_PORT", env.Keys);
        Assert.Equal("true", env["BEYLA_KUBE_METADATA_ENABLE"]);
        Assert.Equal(("http://lgtm:4317", "grpc"), (env["OTEL_EXPORTER_OTLP_ENDPOINT"], env["OTEL_EXPORTER_OTLP_PROTOCOL"]));
        Assert.DoesNotContain("OTEL_SERVICE_NAME", env.Keys);
        Assert.Equal(@namespace, output.Kustomization("kustomization.yaml").Namespace);
    }

    [Theory]
    [InlineData("default", new[] { "user-service", "point-service" })]
    [InlineData("hybrid", new[] { "point-service" })]
    public async Task Beylas_kubernetes_config_is_the_labs_file_plus_discovery_of_the_services_it_instruments_by_namespace_and_deployment(string mode, string[] watched)
    {
        var output = outputs[mode];
        var lab = await File.ReadAllTextAsync(Repo.PathOf("beyla", "beyla-config.yml"), Ct);
        Assert.Equal(lab, output.Text("base/files/beyla-config-yml/beyla-config.yml"));

        var kubernetes = output.Text("beyla-config.yml");
        Assert.Contains(lab, kubernetes, StringComparison.Ordinal);                // the lab's file as it is, comments included
        var config = BeylaRules.ParseConfig(kubernetes);                           // one document, no key twice
        var added = BeylaRules.ParseConfig(kubernetes[(kubernetes.IndexOf(lab, StringComparison.Ordinal) + lab.Length)..]);
        Assert.Equal(["discovery"], added.Children.Keys.Select(k => k.ToString()));
        Assert.Null(BeylaRules.At(BeylaRules.LabConfig(), "discovery"));

        var unknown = BeylaConfigTests.Keys(config, "").Where(k => !BeylaConfigTests.CurrentSchema.Contains(k)).ToList();
        Assert.True(unknown.Count == 0, "not in Beyla's current schema: " + string.Join(", ", unknown));
        var @namespace = output.Kustomization("kustomization.yaml").Namespace;
        Assert.Equal(watched.Select(w => $"{@namespace}/{w}"),
            ((YamlSequenceNode)BeylaRules.At(config, "discovery.instrument")!).Children.Cast<YamlMappingNode>()
                .Select(s => $"{s.Children[new YamlScalarNode("k8s_namespace")]}/{s.Children[new YamlScalarNode("k8s_deployment_name")]}"));
        // The same services the local run watches by their ports.
        var beyla = Resource(output.Model, "beyla");
        Assert.Equal(watched.Order(), beyla.WatchedServices().Select(s => s.Name).Order());

        // No process is selected by a port on Kubernetes, and the YAML sets nothing the DaemonSet's variables set.
        var env = output.Container("beyla").Env.ToDictionary(e => e.Name, e => e.Value ?? "");
        Assert.Empty(BeylaRules.InstrumentedPorts(config, env));
        foreach (var variable in env.Keys)
        {
            Assert.True(BeylaRules.YamlKeysOf.TryGetValue(variable, out var yamlKeys), $"the DaemonSet sets {variable}: add its YAML counterparts to BeylaRules.YamlKeysOf");
            Assert.All(yamlKeys, k => Assert.Null(BeylaRules.At(config, k)));
        }
        // The overlay replaces the base's ConfigMap with this file, under the same key the DaemonSet mounts.
        var replace = Assert.Single(output.Kustomization("kustomization.yaml").ConfigMapGenerator!);
        Assert.Equal("replace", replace.Behavior);
        Assert.Equal(["beyla-config.yml"], replace.Files);
        var mount = output.Container("beyla").VolumeMounts.Single(m => m.MountPath == BeylaResourceBuilderExtensions.ConfigTarget);
        Assert.Equal((replace.Name, "beyla-config.yml"), (mount.Name, mount.SubPath));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task The_Secret_holds_one_key_per_parameter_the_model_names_read_from_the_users_file(string mode)
    {
        var output = outputs[mode];
        var parameters = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var resource in output.Model.Resources.Where(r => r is ProjectResource or ContainerResource or HostNetworkContainerResource))
        {
            parameters.UnionWith((await PublishEnvironmentAsync(resource)).Values.SelectMany(output.ParametersIn));
        }
        // The account's password reaches the MySQL image as MYSQL_PASSWORD (the AppHost sets it with SQL), and point-service through its connection string.
        Assert.Equal(["point-db-password", "point-service-account-password", "user-db-password"], parameters);
        Assert.Equal(parameters, SecretKeysOf(output.Pods));
        var generator = Assert.Single(output.Kustomization("kustomization.yaml").SecretGenerator!);
        Assert.Equal("lab19-secrets", generator.Name);
        Assert.Equal(["secrets.env"], generator.Envs);
        Assert.DoesNotContain("secrets.env", output.Files); // the user creates it
    }

    private static List<string> SecretKeysOf(IEnumerable<V1PodSpec> pods) =>
        pods.SelectMany(p => p.Containers.Concat(p.InitContainers ?? [])).SelectMany(c => c.Env ?? [])
            .Select(e => e.ValueFrom?.SecretKeyRef?.Key).OfType<string>().Distinct().Order().ToList();

    [Fact]
    public async Task Publish_mode_asks_nothing_of_the_host()
    {
        var host = new FakeHostProbe().WithDatabaseServers();
        using (HostProbes.Use(host))
        {
            await using var builder = await ModelAsync("--operation", "publish");
            Assert.True(builder.ExecutionContext.IsPublishMode);
            Assert.Contains(builder.Resources, r => r is HostNetworkContainerResource);
        }
        Assert.Empty(host.Commands);
        Assert.Empty(host.Reads);
    }

    [Fact]
    public async Task The_step_fails_with_exit_code_1_without_an_output_path_or_on_a_folder_it_did_not_write()
    {
        var dataHome = AppHostProcess.NewDataHome();
        var foreign = Directory.CreateTempSubdirectory("lab19-foreign-").FullName;
        try
        {
            var missing = await AppHostProcess.RunToEndAsync(["--operation", "publish", "--step", "publish-kubernetes"], dataHome, TimeSpan.FromMinutes(3));
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("--output-path", missing.Output + missing.Error);

            await File.WriteAllTextAsync(Path.Combine(foreign, "kustomization.yaml"), "resources: [mine.yaml]\n", Ct);
            var refused = await AppHostProcess.RunToEndAsync(["--operation", "publish", "--step", "publish-kubernetes", "--output-path", foreign], dataHome, TimeSpan.FromMinutes(3));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("was not written by Lab19's Kubernetes generator", refused.Output + refused.Error);
            Assert.Equal(["kustomization.yaml"], Directory.GetFileSystemEntries(foreign).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dataHome, recursive: true);
            Directory.Delete(foreign, recursive: true);
        }
    }

    [Fact]
    public async Task An_existing_database_of_the_AppHost_is_one_in_the_cluster_too_its_connection_string_a_key_of_the_users_file()
    {
        var output = await KubernetesOutput.GenerateAsync("--ConnectionStrings:userdb=Host=postgres.example.com;Username=lab;Database=userdb");
        await using (output)
        {
            Assert.DoesNotContain("base/user-db.yaml", output.Files);
            Assert.Contains("base/point-db.yaml", output.Files);
            var connectionString = output.Container("user-service").Env.Single(e => e.Name == "ConnectionStrings__userdb");
            Assert.Equal("userdb", connectionString.ValueFrom.SecretKeyRef.Key);
            Assert.Contains("userdb: the connection string", output.Text("kustomization.yaml"));
            Assert.DoesNotContain("postgres.example.com", string.Concat(output.Files.Select(output.Text)));
        }
    }

    [Fact]
    public void Generating_again_replaces_base_and_the_generated_files_and_keeps_the_users_secrets()
    {
        var directory = Directory.CreateTempSubdirectory("lab19-regenerate-").FullName;
        try
        {
            var header = KubernetesManifests.Header;
            new KubernetesManifests(new Dictionary<string, string>
            {
                ["kustomization.yaml"] = header + "first\n",
                ["beyla-config.yml"] = header + "beyla\n",
                ["base/kustomization.yaml"] = header + "base\n",
                ["base/beyla.yaml"] = header + "beyla\n",
            }, [], [], []).WriteTo(directory);
            File.WriteAllText(Path.Combine(directory, "secrets.env"), "user-db-password=mine\n");

            new KubernetesManifests(new Dictionary<string, string>
            {
                ["kustomization.yaml"] = header + "second\n",
                ["base/kustomization.yaml"] = header + "base\n",
            }, [], [], []).WriteTo(directory);

            Assert.Equal(["base/kustomization.yaml", "kustomization.yaml", "secrets.env"],
                Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order(StringComparer.Ordinal));
            Assert.Equal(header + "second\n", File.ReadAllText(Path.Combine(directory, "kustomization.yaml")));
            Assert.Equal("user-db-password=mine\n", File.ReadAllText(Path.Combine(directory, "secrets.env")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The routes of the services' probes, answered by the running services.</summary>
    [Collection(LabCollection.Name)]
    public class Probes(LabFixture fixture)
    {
        [Theory]
        [InlineData("/health")]
        [InlineData(KubernetesWorkloads.LivenessPath)]
        public async Task The_probe_routes_answer_200_on_both_services(string path)
        {
            foreach (var client in new[] { fixture.Lab.Users, fixture.Lab.Points })
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path, Ct)).StatusCode);
            }
        }
    }
}
