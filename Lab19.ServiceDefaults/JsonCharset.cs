using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace Lab19.ServiceDefaults;

public static class JsonCharset
{
    /// <summary>
    /// JSON request bodies are UTF-8 (RFC 8259): on endpoints that read a body, <c>charset=utf-8</c> in any case, quoted or not,
    /// or no charset, is accepted; any other charset is a 415 ProblemDetails naming it. ASP.NET Core's JSON binding would
    /// otherwise fail with a 500 on an unknown charset and on the quoted form RFC 9110 allows.
    /// </summary>
    // A middleware, not an endpoint filter: endpoint filters run after the body has been bound.
    public static WebApplication UseUtf8JsonBodies(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null
                && MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType)
                && contentType.Charset is { HasValue: true } charset)
            {
                var name = HeaderUtilities.RemoveQuotes(charset);
                if (!name.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
                {
                    await TypedResults.Problem(
                        title: "Unsupported charset",
                        detail: $"The charset '{ClientText.Escape(name.Value)}' is not supported. Send the JSON body in UTF-8 (charset=utf-8, or no charset).",
                        statusCode: StatusCodes.Status415UnsupportedMediaType).ExecuteAsync(context);
                    return;
                }
                if (name.Length != charset.Length)
                {
                    // The binder reads the charset without unquoting it: hand it the plain form.
                    contentType.Charset = "utf-8";
                    context.Request.ContentType = contentType.ToString();
                }
            }
            await next(context);
        });
        return app;
    }
}
