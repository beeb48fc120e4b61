using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Lab19.ServiceDefaults;

/// <summary>The id that ties an answer to the log lines (and traces) of the request that gave it.</summary>
public static class TraceIds
{
    /// <summary>
    /// The W3C trace id of the current request's Activity: the id of the trace the client's <c>traceparent</c> named (or the service
    /// started), shared by user-service and point-service for one request, and the one Beyla's and the agent's spans carry in Grafana.
    /// <see cref="HttpContext.TraceIdentifier"/> (connection id and request number) is only the fallback when no Activity exists:
    /// it is local to one process and names nothing in a trace.
    /// </summary>
    public static string Current(HttpContext? context) =>
        Activity.Current?.TraceId is { } traceId && traceId != default ? traceId.ToHexString() : context?.TraceIdentifier ?? "";
}
