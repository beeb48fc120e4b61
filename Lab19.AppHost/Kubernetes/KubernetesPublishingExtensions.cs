// Aspire 13.6 marks its publishing pipeline experimental (ASPIREPIPELINES001); the step below uses only AddStep and the step's context.
#pragma warning disable ASPIREPIPELINES001
using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lab19.AppHost;

/// <summary>The lab on Kubernetes as a step of Aspire's publishing pipeline, beside Aspire's own publish-manifest.</summary>
internal static class KubernetesPublishingExtensions
{
    public const string StepName = "publish-kubernetes";

    /// <summary>
    /// `dotnet run --project Lab19.AppHost -- --operation publish --step publish-kubernetes --output-path DIR` writes the kustomize base and
    /// overlay of <see cref="KubernetesManifests"/> into DIR, from the model the AppHost has just built in publish mode (no host is probed,
    /// nothing is started). Only in publish mode: a run of the lab is unchanged.
    /// </summary>
    public static IDistributedApplicationBuilder AddKubernetesManifests(this IDistributedApplicationBuilder builder, LabSettings.KubernetesSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        if (!builder.ExecutionContext.IsPublishMode)
        {
            return builder;
        }
        // The files the lab mounts (beyla/, grafana/, k6/) are in the repository, the AppHost's parent folder; other bind mounts are host paths.
        var repositoryRoot = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
        builder.Pipeline.AddStep(new PipelineStep
        {
            Name = StepName,
            Description = "Writes the lab as a kustomize base and overlay for Kubernetes (Lab19.AppHost/Kubernetes/) into --output-path.",
            Action = async step =>
            {
                try
                {
                    var output = step.Services.GetRequiredService<IOptions<PipelineOptions>>().Value.OutputPath
                        ?? throw new DistributedApplicationException($"The step {StepName} writes into a directory: give it with --output-path <dir>.");
                    var manifests = await KubernetesManifests.GenerateAsync(step.Model, step.ExecutionContext, settings, repositoryRoot, step.CancellationToken);
                    manifests.WriteTo(output);
                    foreach (var line in manifests.NextSteps(output, repositoryRoot))
                    {
                        step.Logger.LogInformation("{Line}", line);
                    }
                }
                catch
                {
                    // The pipeline logs the failure and lets the AppHost end normally; the exit code says it failed (RunLabAsync returns it).
                    Environment.ExitCode = 1;
                    throw;
                }
            },
        });
        return builder;
    }
}
