using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Lab19.ServiceDefaults;

/// <summary>
/// Turns every unhandled exception into a ProblemDetails answer without stack trace, SQL, host or message of the failure:
/// bad requests keep their 4xx, an unreachable or too slow database is 503, anything else is 500.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, DatabaseFailures databaseFailures, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                // 413 and 415 usually arrive as bare status codes, which UseStatusCodePages turns into ProblemDetails.
                Title = bad.StatusCode == StatusCodes.Status400BadRequest ? "Malformed request" : ReasonPhrases.GetReasonPhrase(bad.StatusCode),
                // The framework's messages repeat what the client sent (a query value, a JSON path or property name): escaped and cut.
                Detail = bad.InnerException is JsonException { Path: { } jsonPath } json
                    ? $"{ClientText.Escape(bad.Message)} The JSON is invalid at '{ClientText.Escape(jsonPath)}': {ClientText.Escape(Reason(json))}"
                    : ClientText.Escape(bad.Message, 2 * ClientText.MaxLength),
            },
            _ when databaseFailures.IsUnavailable(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Database unavailable",
                Detail = "The service's database did not answer. Try again shortly.",
            },
            _ => new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "Unexpected error",
                Detail = "The request failed on the server. See the service log for details.",
            },
        };

        // The answer names what failed in the client's terms; the log keeps the details (hosts, users, messages), under the answer's trace id.
        var traceId = TraceIds.Current(context);
        var path = ClientText.Escape(context.Request.Path.Value); // the path is the client's too
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            logger.LogWarning("{Method} {Path} answered 503 {Title} (trace {TraceId}): {Reason}",
                context.Request.Method, path, problem.Title, traceId, Reasons(exception));
        }
        else if (problem.Status >= 500)
        {
            logger.LogError(exception, "{Method} {Path} failed: {Title} (trace {TraceId})", context.Request.Method, path, problem.Title, traceId);
        }
        else
        {
            logger.LogInformation("{Method} {Path} rejected: {Detail}", context.Request.Method, path, problem.Detail);
        }

        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    /// <summary>The messages of an exception and of those it wraps, outermost first: a failure everyone expects (a database down) needs no stack.</summary>
    private static string Reasons(Exception exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            messages.Add($"{e.GetType().Name}: {e.Message}");
        }
        return string.Join(" ---> ", messages);
    }

    /// <summary>
    /// Why System.Text.Json rejected the body ("Duplicate property 'points' ...", "Cannot get the value of a token type 'String' as a number."):
    /// the reader's own reason where it has one, without the path the detail already names.
    /// </summary>
    private static string Reason(JsonException json)
    {
        var message = (json.InnerException ?? json).Message;
        var path = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return path < 0 ? message : message[..path];
    }
}
