using System.Text.RegularExpressions;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>
/// The W3C trace context user-service writes on its calls to point-service, as a recording stand-in for point-service receives it.
/// Beyla continues a trace from a traceparent the application already wrote (docs/beyla-facts.md), so this is what keeps one trace.
/// </summary>
public static partial class TraceparentHeader
{
    [GeneratedRegex("^00-(?<trace>[0-9a-f]{32})-(?<span>[0-9a-f]{16})-(?<flags>[0-9a-f]{2})$")]
    private static partial Regex Format();

    public static (string TraceId, string SpanId, bool Sampled) Parse(string? header)
    {
        Assert.NotNull(header);
        var match = Format().Match(header);
        Assert.True(match.Success, $"not a W3C traceparent: '{header}'");
        var (trace, span) = (match.Groups["trace"].Value, match.Groups["span"].Value);
        Assert.NotEqual(new string('0', 32), trace);
        Assert.NotEqual(new string('0', 16), span);
        return (trace, span, (Convert.ToByte(match.Groups["flags"].Value, 16) & 1) == 1);
    }

    /// <summary>Sends GET /api/v1/users/{id} (with <paramref name="traceparent"/> if given) and returns the traceparents of the calls it made.</summary>
    public static async Task<string?[]> CallsMadeForAsync(FakePointServiceFixture fixture, int userId, string? traceparent)
    {
        fixture.Fake.Mode = FakePointService.Behaviour.Healthy;
        var before = fixture.Fake.Traceparents.Count;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/users/{userId}");
        if (traceparent is not null)
        {
            request.Headers.Add("traceparent", traceparent);
        }
        (await fixture.Lab.Users.SendAsync(request, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        var calls = fixture.Fake.Traceparents.Skip(before).ToArray();
        Assert.Equal(2, calls.Length); // the total and the recent records
        return calls;
    }
}

[Collection(FakePointServiceCollection.Name)]
public class TracePropagationTests(FakePointServiceFixture fixture)
{
    private const string IncomingTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string IncomingSpan = "00f067aa0ba902b7";

    [Fact]
    public async Task A_sampled_incoming_trace_reaches_point_service_as_the_same_trace_still_sampled()
    {
        var calls = await TraceparentHeader.CallsMadeForAsync(fixture, 9, $"00-{IncomingTrace}-{IncomingSpan}-01");
        foreach (var call in calls)
        {
            var (trace, span, sampled) = TraceparentHeader.Parse(call);
            Assert.Equal(IncomingTrace, trace);
            Assert.NotEqual(IncomingSpan, span); // user-service's own request span is the parent of the call
            Assert.True(sampled);
        }
        // Each call carries a span id of its own. Beyla's header path gives each of user-service's client spans the span id of its
        // call's header (tpinjector.c, BeylaRules.SpanTree), so this is what makes them two spans, each the parent of one of
        // point-service's server spans, as the trace tree in docs/beyla-under-aspire.md shows.
        Assert.Equal(calls.Length, calls.Select(c => TraceparentHeader.Parse(c).SpanId).Distinct().Count());
    }

    [Fact]
    public async Task A_request_without_trace_context_reaches_point_service_with_a_new_sampled_trace()
    {
        var calls = (await TraceparentHeader.CallsMadeForAsync(fixture, 10, traceparent: null)).Select(TraceparentHeader.Parse).ToList();

        Assert.All(calls, c => Assert.True(c.Sampled, "an unsampled parent makes Beyla's parent-based sampler drop point-service's spans"));
        Assert.Single(calls.Select(c => c.TraceId).Distinct()); // both calls belong to the one request
        var next = (await TraceparentHeader.CallsMadeForAsync(fixture, 10, traceparent: null)).Select(TraceparentHeader.Parse).ToList();
        Assert.NotEqual(calls[0].TraceId, next[0].TraceId); // and every request starts a trace of its own
    }

    [Fact]
    public async Task An_unsampled_incoming_trace_keeps_its_callers_decision()
    {
        foreach (var call in await TraceparentHeader.CallsMadeForAsync(fixture, 11, $"00-{IncomingTrace}-{IncomingSpan}-00"))
        {
            var (trace, _, sampled) = TraceparentHeader.Parse(call);
            Assert.Equal(IncomingTrace, trace);
            Assert.False(sampled);
        }
    }
}

/// <summary>The lab with <c>Lab19:DotnetTracePropagation=false</c>: the "what does Beyla do alone" exercise.</summary>
public sealed class NoDotnetPropagationFixture(SharedDatabases databases) : FakePointServiceFixture(databases)
{
    protected override string DatabaseSuffix => "nopropagation";
    protected override string[] Settings => ["--Lab19:DotnetTracePropagation=false"];
}

[CollectionDefinition(Name)]
public sealed class NoDotnetPropagationCollection : ICollectionFixture<NoDotnetPropagationFixture>
{
    public const string Name = "fake point-service, no .NET propagation";
}

[Collection(NoDotnetPropagationCollection.Name)]
public class NoDotnetPropagationTests(NoDotnetPropagationFixture fixture)
{
    [Theory]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    [InlineData(null)]
    public async Task No_traceparent_leaves_user_service(string? traceparent) =>
        Assert.All(await TraceparentHeader.CallsMadeForAsync(fixture, 12, traceparent), Assert.Null);
}
