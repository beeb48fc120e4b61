using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Lab19.ServiceDefaults;

/// <summary>What every ProblemDetails answer of both services carries, whoever writes it (handlers, the exception handler, status-code pages).</summary>
public static class ProblemAnswers
{
    /// <summary>
    /// How long a client should wait before retrying a 503: about one bounded attempt (DatabaseLimits, the point-service client's 2 s),
    /// after which a database that was briefly locked or restarting, or a point-service that was briefly down, usually answers again.
    /// </summary>
    public const int RetryAfterSeconds = 2;

    /// <summary>
    /// For <c>AddProblemDetails</c>: every answer carries the request's trace id (<see cref="TraceIds"/>), which the services' log lines
    /// about a failure name too, so that the details a client is not shown can be found; a 503 tells the client when to retry (RFC 9110 §10.2.3).
    /// </summary>
    public static void Customize(Microsoft.AspNetCore.Http.ProblemDetailsContext context)
    {
        context.ProblemDetails.Extensions["traceId"] = TraceIds.Current(context.HttpContext);
        if (context.ProblemDetails.Status == StatusCodes.Status503ServiceUnavailable || context.HttpContext.Response.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            context.HttpContext.Response.Headers[HeaderNames.RetryAfter] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
