using System.Text.Json;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>The strict input rules of both services: UTF-8 only, no duplicate properties, numbers as numbers, visible text, HEAD as GET.</summary>
[Collection(LabCollection.Name)]
public class StrictInputTests(LabFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HttpClient Client(string service) => service == "users" ? fixture.Lab.Users : fixture.Lab.Points;

    private static string ValidBody(string service) => service == "users"
        ? $$"""{"name":"Charset","email":"{{Guid.NewGuid():N}}@tests.lab19.local"}"""
        : $$"""{"userId":{{Random.Shared.Next(1_000_000, int.MaxValue)}},"points":3}""";

    private static string PathOf(string service) => service == "users" ? "/api/v1/users" : "/api/v1/points";

    /// <summary>Posts <paramref name="body"/>, asserts a <paramref name="status"/> ProblemDetails and that no data changed, and returns the problem.</summary>
    private async Task<JsonElement> AssertRejectedAsync(string service, HttpContent body, HttpStatusCode status)
    {
        var before = await DataSnapshot.TakeAsync(fixture);
        var problem = await Http.AssertProblemAsync(await Client(service).PostAsync(PathOf(service), body, Ct), status);
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
        return problem;
    }

    [Theory]
    [InlineData("points", "application/json; charset=\"utf-8\"")]
    [InlineData("points", "application/json; charset=UTF-8")]
    [InlineData("points", "application/json;charset=\"Utf-8\"")]
    [InlineData("points", "application/json")]
    [InlineData("users", "application/json; charset=\"utf-8\"")]
    [InlineData("users", "application/json; charset=UTF-8")]
    [InlineData("users", "application/json")]
    public async Task Utf8_json_is_accepted_with_the_charset_quoted_or_not_in_any_case_or_absent(string service, string contentType)
    {
        var response = await Client(service).PostAsync(PathOf(service), Http.Json(ValidBody(service), contentType), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client(service).GetAsync(response.Headers.Location, Ct)).StatusCode);
    }

    [Theory]
    [InlineData("points", "bogus", "application/json; charset=bogus")]
    [InlineData("points", "windows-1252", "application/json; charset=windows-1252")]
    [InlineData("points", "iso-8859-1", "application/json; charset=\"iso-8859-1\"")]
    [InlineData("points", "utf-16", "application/json; charset=utf-16")]
    [InlineData("users", "bogus", "application/json; charset=bogus")]
    [InlineData("users", "windows-1252", "application/json; charset=windows-1252")]
    public async Task Any_other_charset_is_415_naming_it_and_stores_nothing(string service, string charset, string contentType)
    {
        var problem = await AssertRejectedAsync(service, Http.Json(ValidBody(service), contentType), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains($"'{charset}'", problem.GetProperty("detail").GetString());
    }

    public static TheoryData<string, string, string> MalformedBodies => new()
    {
        // service, body, what the detail must name
        { "points", """{"userId":5,"userId":1,"points":5}""", "Duplicate property 'userId'" },
        { "points", """{"userId":1,"points":5,"Points":500}""", "$.Points" },
        { "points", """{"userId":1,"reason":"a","points":5,"REASON":"b"}""", "Duplicate property 'reason'" },
        { "points", """{"userId":1,"points":"10"}""", "$.points" },
        { "points", """{"userId":"5","points":10}""", "$.userId" },
        { "users", """{"name":"Ada","email":"one@b.example","email":"two@b.example"}""", "Duplicate property 'email'" },
        { "users", """{"name":"Ada","Name":"Eve","email":"ada@b.example"}""", "$.Name" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task A_duplicate_property_or_a_number_sent_as_a_string_is_400_naming_it(string service, string body, string named)
    {
        var problem = await AssertRejectedAsync(service, Http.Json(body), HttpStatusCode.BadRequest);
        Assert.Contains(named, problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("points", "reason", "\\u200B")]
    [InlineData("points", "reason", " \\u2060\\uFEFF\\u200D ")]
    [InlineData("points", "reason", "\\u00A0\\u3000")]
    [InlineData("users", "name", "\\u200B\\u200B")]
    [InlineData("users", "name", "\\u2062\\u00AD")]
    [InlineData("points", "reason", "\\u3164")]
    [InlineData("points", "reason", "\\u2800\\u2800")]
    [InlineData("points", "reason", "\\u115F\\u1160")]
    [InlineData("points", "reason", " \\u0301")]
    [InlineData("users", "name", "\\u3164\\uFFA0")]
    [InlineData("users", "name", "\\u2800")]
    [InlineData("users", "name", "\\u0301\\u034F")]
    public async Task Text_of_only_invisible_characters_is_400_stating_the_rule(string service, string field, string escapedText)
    {
        var body = service == "users"
            ? $$"""{"name":"{{escapedText}}","email":"{{Guid.NewGuid():N}}@tests.lab19.local"}"""
            : $$"""{"userId":1,"points":5,"reason":"{{escapedText}}"}""";
        var problem = await AssertRejectedAsync(service, Http.Json(body), HttpStatusCode.BadRequest);
        Assert.Contains("must contain at least one visible character", problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    [Fact]
    public async Task Visible_text_around_invisible_characters_is_stored_as_sent()
    {
        const string reason = "\u200Bzero\u2060width";
        var created = await (await fixture.Lab.Points.PostAsync("/api/v1/points",
            Http.Json(new { userId = Random.Shared.Next(1_000_000, int.MaxValue), points = 1, reason }), Ct)).ReadAsync<PointDto>();
        Assert.Equal(reason, created.Reason);
    }

    [Theory]
    [InlineData("points", false)]
    [InlineData("points", true)]
    [InlineData("users", false)]
    [InlineData("users", true)]
    public async Task A_body_over_64_KiB_is_413_problem_details_and_stores_nothing_with_or_without_a_content_length(string service, bool chunked)
    {
        var body = Padded(service, Microsoft.Extensions.Hosting.Extensions.MaxRequestBodyBytes + 1);
        // Without a Content-Length (chunked), the limit is found while the body is read, not from the header.
        HttpContent content = chunked ? new ChunkedContent(body) : new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");

        var problem = await AssertRejectedAsync(service, content, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(chunked, content.Headers.ContentLength is null);
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
    }

    [Theory]
    [InlineData("points", "reason")]
    [InlineData("users", "name")]
    public async Task A_body_of_64_KiB_is_read_its_long_text_a_400_naming_the_field(string service, string field)
    {
        var body = Padded(service, Microsoft.Extensions.Hosting.Extensions.MaxRequestBodyBytes);
        var problem = await AssertRejectedAsync(service, new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } }, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    /// <summary>A body sent without a Content-Length, in chunks.</summary>
    private sealed class ChunkedContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A valid request of exactly <paramref name="size"/> bytes but for its text field (a reason or name), padded to that size.</summary>
    private static byte[] Padded(string service, long size)
    {
        var shell = service == "users"
            ? $$"""{"name":"{0}","email":"{{Guid.NewGuid():N}}@tests.lab19.local"}"""
            : $$"""{"userId":{{Random.Shared.Next(1_000_000, int.MaxValue)}},"points":3,"reason":"{0}"}""";
        var json = shell.Replace("{0}", new string('x', (int)size - (shell.Length - 3)));
        Assert.Equal(size, System.Text.Encoding.UTF8.GetByteCount(json));
        return System.Text.Encoding.UTF8.GetBytes(json);
    }

    [Theory]
    [InlineData("points", "/health")]
    [InlineData("points", "/alive")]
    [InlineData("points", "/api/v1/points?limit=2")]
    [InlineData("points", "/api/v1/points/1")]
    [InlineData("points", "/api/v1/points/999999999999")]
    [InlineData("points", "/api/v1/points/user/1")]
    [InlineData("points", "/api/v1/points/user/1/total")]
    [InlineData("points", "/api/v1/points/user/0/total")]
    [InlineData("users", "/health")]
    [InlineData("users", "/alive")]
    [InlineData("users", "/actuator/health")]
    [InlineData("users", "/api/v1/users?limit=2")]
    [InlineData("users", "/api/v1/users/1")]
    [InlineData("users", "/api/v1/users/987654321")]
    public async Task Head_answers_as_get_without_a_body(string service, string path)
    {
        var get = await Client(service).GetAsync(path, Ct);
        var head = await Client(service).SendAsync(new HttpRequestMessage(HttpMethod.Head, path), Ct);

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync(Ct));
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task A_method_a_route_does_not_take_is_405_listing_get_and_head()
    {
        var put = await fixture.Lab.Points.SendAsync(new HttpRequestMessage(HttpMethod.Put, "/api/v1/points/user/1/total"), Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal(["GET", "HEAD"], put.Content.Headers.Allow.Order());
    }
}
