using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lab19.ServiceDefaults;

public static class HeadRequests
{
    /// <summary>
    /// Every GET endpoint of <paramref name="builder"/> also answers HEAD, as RFC 9110 expects and health probes assume:
    /// the same status and headers, and no body (Kestrel drops the body of a HEAD response).
    /// </summary>
    public static TBuilder AnswerHeadAsGet<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            // Routing reads the last IHttpMethodMetadata, so adding one replaces the GET-only one.
            if (endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is { } methods
                && methods.HttpMethods.Contains(HttpMethods.Get)
                && !methods.HttpMethods.Contains(HttpMethods.Head))
            {
                endpoint.Metadata.Add(new HttpMethodMetadata([.. methods.HttpMethods, HttpMethods.Head], methods.AcceptCorsPreflight));
            }
        });
        return builder;
    }
}
