// DashboardTelemetryApi: the Aspire dashboard's telemetry HTTP API (/api/telemetry/...), reached with the API key its login token is exchanged for.
using System.Text.Json;
using Microsoft.Playwright;

namespace Lab19.Tests.Infrastructure;

/// <summary>A resource that sent telemetry, as <c>GET /api/telemetry/resources</c> lists it.</summary>
public sealed record TelemetryResource(string Name, string InstanceId, string DisplayName, bool HasLogs, bool HasTraces, bool HasMetrics);

/// <summary>
/// What the dashboard has received, read back over HTTP as the Aspire CLI reads it. The AppHost gives the API a key of its own, and the API
/// takes only that key (header x-api-key), not the browser's login cookie: <c>POST /api/telemetry/validateToken</c> exchanges the login
/// URL's token for it.
/// </summary>
public sealed class DashboardTelemetryApi(IAPIRequestContext request, Uri dashboard, string apiKey)
{
    public static async Task<DashboardTelemetryApi> LoginAsync(IAPIRequestContext request, Uri dashboard, string loginToken)
    {
        var response = await request.PostAsync(new Uri(dashboard, "/api/telemetry/validateToken").ToString(), new() { DataObject = new { token = loginToken } });
        var body = await response.TextAsync();
        Assert.True(response.Ok, $"POST /api/telemetry/validateToken: {response.Status} {body}");
        var apiKey = JsonDocument.Parse(body).RootElement.GetProperty("apiKey").GetString();
        Assert.False(string.IsNullOrEmpty(apiKey), $"the dashboard gave no API key for its login token: {body}");
        return new(request, dashboard, apiKey);
    }

    /// <summary>GET /api/telemetry/resources: a JSON array of the resources that sent telemetry.</summary>
    public async Task<IReadOnlyList<TelemetryResource>> ResourcesAsync()
    {
        var (status, body) = await GetAsync("/api/telemetry/resources");
        Assert.True(status == 200, $"GET /api/telemetry/resources: {status} {body}");
        return JsonSerializer.Deserialize<List<TelemetryResource>>(body, JsonSerializerOptions.Web)!;
    }

    /// <summary>
    /// GET /api/telemetry/traces/{traceId}: <c>{"data": {"resourceSpans": [...]}, "totalCount": n, "returnedCount": n}</c> with the spans in
    /// OTLP JSON, or 404 while no span of the trace has arrived (null here).
    /// </summary>
    public async Task<IReadOnlyList<OtlpSpan>?> TraceAsync(string traceId)
    {
        var (status, body) = await GetAsync($"/api/telemetry/traces/{traceId}");
        if (status == 404) return null;
        Assert.True(status == 200, $"GET /api/telemetry/traces/{traceId}: {status} {body}");
        var root = JsonDocument.Parse(body).RootElement;
        var spans = ReadSpans(root.GetProperty("data")).ToList();
        Assert.Equal(root.GetProperty("totalCount").GetInt32(), spans.Count);
        return spans;
    }

    private async Task<(int Status, string Body)> GetAsync(string path)
    {
        var response = await request.GetAsync(new Uri(dashboard, path).ToString(),
            new() { Headers = new Dictionary<string, string> { ["x-api-key"] = apiKey } });
        return (response.Status, await response.TextAsync());
    }

    /// <summary>OTLP JSON (resourceSpans, scopeSpans, spans; attributes as key and typed value) as the tests' <see cref="OtlpSpan"/>s.</summary>
    private static IEnumerable<OtlpSpan> ReadSpans(JsonElement data) =>
        from resourceSpans in data.GetProperty("resourceSpans").EnumerateArray()
        let service = Attributes(resourceSpans.GetProperty("resource")).GetValueOrDefault("service.name") as string ?? ""
        from scopeSpans in resourceSpans.GetProperty("scopeSpans").EnumerateArray()
        let scope = scopeSpans.GetProperty("scope").GetProperty("name").GetString()!
        from span in scopeSpans.GetProperty("spans").EnumerateArray()
        select new OtlpSpan(service, scope, span.GetProperty("traceId").GetString()!, span.GetProperty("spanId").GetString()!,
            span.TryGetProperty("parentSpanId", out var parent) ? parent.GetString()! : "", span.GetProperty("name").GetString()!,
            (SpanKind)span.GetProperty("kind").GetInt32(), Attributes(span),
            span.TryGetProperty("status", out var s) && s.TryGetProperty("code", out var code) ? code.GetInt32() : 0);

    private static Dictionary<string, object> Attributes(JsonElement owner) =>
        owner.TryGetProperty("attributes", out var attributes)
            ? attributes.EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => Value(a.GetProperty("value")))
            : [];

    /// <summary>An OTLP AnyValue: {"stringValue": "..."}, {"intValue": "42"} (a string in OTLP JSON), {"boolValue": true}...</summary>
    private static object Value(JsonElement value)
    {
        var typed = value.EnumerateObject().Single();
        return typed.Value.ValueKind switch
        {
            JsonValueKind.String => typed.Value.GetString()!,
            JsonValueKind.True or JsonValueKind.False => typed.Value.GetBoolean(),
            _ => typed.Value.GetRawText(),
        };
    }
}
