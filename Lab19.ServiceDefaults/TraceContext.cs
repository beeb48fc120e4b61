using System.Diagnostics;

namespace Lab19.ServiceDefaults;

/// <summary>
/// Makes the W3C trace context that .NET's HttpClient writes on outgoing calls a sampled one. This is not telemetry: nothing is
/// recorded or exported. Without any listener, ASP.NET Core starts a request that arrived without <c>traceparent</c> as an
/// unsampled activity and HttpClient sends <c>traceparent: 00-…-00</c>. Beyla's docs say a span with a parent follows the parent's
/// sampling decision, and Beyla attaches exemplars only to sampled spans (docs/beyla-facts.md).
/// </summary>
public static class TraceContext
{
    /// <summary>The ActivitySource ASP.NET Core starts its request activities from.</summary>
    public const string AspNetCoreSource = "Microsoft.AspNetCore";

    /// <summary>
    /// An AppContext switch that turns the listener off: a process with an OpenTelemetry SDK (the lab's runtime agent sets it) samples with
    /// its own sampler, and ActivitySource takes the strongest decision of all its listeners, so this one would override it.
    /// </summary>
    public const string DisabledSwitch = "Lab19.TraceContext.Disabled";

    private static ActivityListener? s_listener;

    /// <summary>
    /// Parent-based sampling of ASP.NET Core's request activities, as an OpenTelemetry SDK's default sampler would decide:
    /// a request without a parent starts a sampled trace; a request with a parent keeps that parent's decision.
    /// </summary>
    public static void SampleRequestsLikeAParentBasedSampler()
    {
        if (s_listener is not null || AppContext.TryGetSwitch(DisabledSwitch, out var disabled) && disabled)
        {
            return;
        }
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AspNetCoreSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) => Decide(options.Parent),
        };
        if (Interlocked.CompareExchange(ref s_listener, listener, null) is null)
        {
            ActivitySource.AddActivityListener(listener);
        }
    }

    /// <summary>The sampling decision for a request whose incoming context is <paramref name="parent"/> (default when none came).</summary>
    public static ActivitySamplingResult Decide(ActivityContext parent) =>
        parent == default || parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded)
            ? ActivitySamplingResult.AllDataAndRecorded
            : ActivitySamplingResult.PropagationData;
}
