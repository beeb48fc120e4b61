namespace Aspire.Hosting;

/// <summary>Who turns the services' work into telemetry: the value of <c>Lab19:Instrumentation</c>.</summary>
[Flags]
public enum InstrumentationMode
{
    /// <summary>Beyla, from the kernel, outside the processes (the lab's default).</summary>
    Ebpf = 1,

    /// <summary>The runtime agent (Lab19.Agent, the OpenTelemetry .NET SDK by a startup hook) inside both services; no Beyla.</summary>
    Agent = 2,

    /// <summary>The runtime agent in the services that take it in this mode (user-service), Beyla for the others.</summary>
    Hybrid = 4,
}
