using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>Hostile and malformed requests across every endpoint: each one a 4xx ProblemDetails, none of them changes any data.</summary>
[Collection(LabCollection.Name)]
public class HostileInputTests(LabFixture fixture)
{
    private const string Json = "application/json";
    private static readonly string Huge = new('x', 70 * 1024); // over the 64 KiB body limit

    public static TheoryData<string, string, string, string?, string?> Requests => new()
    {
        // service, method, path, body, content type
        { "points", "GET", "/api/v1/points/abc", null, null },
        { "points", "GET", "/api/v1/points/user/abc", null, null },
        { "points", "GET", "/api/v1/points/user/0", null, null },
        { "points", "GET", "/api/v1/points/user/-7", null, null },
        { "points", "GET", "/api/v1/points/user/99999999999999999999", null, null },
        { "points", "GET", "/api/v1/points/user/1.5/total", null, null },
        { "points", "GET", "/api/v1/points/user/99999999999999999999/total", null, null },
        { "points", "GET", "/api/v1/points/user/1%20OR%201=1/total", null, null },
        { "points", "GET", "/api/v1/points/user/1;DROP%20TABLE%20points", null, null },
        { "points", "GET", "/api/v1/points?limit=0", null, null },
        { "points", "GET", "/api/v1/points?limit=-1", null, null },
        { "points", "GET", "/api/v1/points?limit=1000000", null, null },
        { "points", "GET", "/api/v1/points?limit=99999999999999999999", null, null },
        { "points", "GET", "/api/v1/points/user/1?limit=1001", null, null },
        { "points", "GET", "/api/v1/points/user/1?limit=abc", null, null },
        { "points", "POST", "/api/v1/points", "", Json },
        { "points", "POST", "/api/v1/points", "{", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":10""", Json },
        { "points", "POST", "/api/v1/points", "[]", Json },
        { "points", "POST", "/api/v1/points", """[{"userId":1,"points":10}]""", Json },
        { "points", "POST", "/api/v1/points", "null", Json },
        { "points", "POST", "/api/v1/points", "42", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":"ten"}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":"one","points":10}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":10.5}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":10,"admin":true}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":1000001}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":-1000001}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":2147483648}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":-2147483648}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":99999999999999999999,"points":5}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":0,"points":5,"reason":"'; DROP TABLE points; --"}""", Json },
        { "points", "POST", "/api/v1/points", $$"""{"userId":1,"points":5,"reason":"{{new string('r', 201)}}"}""", Json },
        { "points", "POST", "/api/v1/points", $$"""{"userId":1,"points":5,"reason":"{{new string('r', 10_000)}}"}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5,"reason":"bell\u0007and\u001b[31mescape"}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":0,"reason":"🎉🎉🎉"}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5}""", "text/plain" },
        { "points", "POST", "/api/v1/points", """<points userId="1">5</points>""", "application/xml" },
        { "points", "POST", "/api/v1/points", $$"""{"userId":1,"points":5,"reason":"{{Huge}}"}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5}""", "application/json; charset=bogus" },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5}""", "application/json; charset=windows-1252" },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5}""", "application/json; charset=\"utf-16\"" },
        { "points", "POST", "/api/v1/points", """{"userId":5,"userId":1,"points":5}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5,"Points":500}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":"10"}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":"5","points":10}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5,"reason":"\u200B"}""", Json },
        { "points", "POST", "/api/v1/points", """{"userId":1,"points":5,"reason":" \u200B\u2060\uFEFF\u00A0"}""", Json },
        { "points", "HEAD", "/api/v1/points/user/abc", null, null },
        { "points", "HEAD", "/api/v1/points?limit=0", null, null },
        { "users", "GET", "/api/v1/users/abc", null, null },
        { "users", "GET", "/api/v1/users/0", null, null },
        { "users", "GET", "/api/v1/users/-1", null, null },
        { "users", "GET", "/api/v1/users/99999999999999999999", null, null },
        { "users", "GET", "/api/v1/users/1'%20OR%20'1'='1", null, null },
        { "users", "GET", "/api/v1/users?limit=0", null, null },
        { "users", "GET", "/api/v1/users?limit=-5", null, null },
        { "users", "GET", "/api/v1/users?limit=5000", null, null },
        { "users", "POST", "/api/v1/users", "", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada",""", Json },
        { "users", "POST", "/api/v1/users", "[]", Json },
        { "users", "POST", "/api/v1/users", """{"name":42,"email":"a@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"a@b.example","isAdmin":true}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"","email":"a@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", $$"""{"name":"{{new string('n', 101)}}","email":"a@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", $$"""{"name":"{{new string('n', 10_000)}}","email":"a@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"not-an-email"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"ada@@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"'; DROP TABLE users; --"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada\u0000Lovelace","email":"ada@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada 🎉","email":"🎉@🎉"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"a@b.example"}""", "text/plain" },
        { "users", "POST", "/api/v1/users", $$"""{"name":"Ada","email":"{{Huge}}@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"charset@b.example"}""", "application/json; charset=bogus" },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"charset@b.example"}""", "application/json; charset=windows-1252" },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","email":"one@b.example","email":"two@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"Ada","Name":"Eve","email":"case@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"\u200B","email":"zwsp@b.example"}""", Json },
        { "users", "POST", "/api/v1/users", """{"name":"\u2060\u200D\u00A0\uFEFF","email":"format@b.example"}""", Json },
        { "users", "HEAD", "/api/v1/users/abc", null, null },
        { "users", "HEAD", "/api/v1/users?limit=0", null, null },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Is_answered_4xx_problem_details_and_changes_nothing(string service, string method, string path, string? body, string? contentType)
    {
        var client = service == "users" ? fixture.Lab.Users : fixture.Lab.Points;
        var before = await DataSnapshot.TakeAsync(fixture);

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = Http.Json(body, contentType!);
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        if (method == "HEAD")
        {
            // the answer GET would give, without its body
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Empty(text);
        }
        else
        {
            await Http.AssertProblemAsync(response, response.StatusCode);
        }
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
    }

    public static TheoryData<string, string> Endpoints => new()
    {
        // endpoint, the method and path (query included) of a request to it
        { "GET /api/v1/points", @"^(GET|HEAD) /api/v1/points(\?.*)?$" },
        { "GET /api/v1/points/{id}", @"^(GET|HEAD) /api/v1/points/(?!user/)[^/]+$" },
        { "GET /api/v1/points/user/{userId}", @"^(GET|HEAD) /api/v1/points/user/[^/]+$" },
        { "GET /api/v1/points/user/{userId}/total", @"^(GET|HEAD) /api/v1/points/user/[^/]+/total$" },
        { "POST /api/v1/points", "^POST /api/v1/points$" },
        { "GET /api/v1/users", @"^(GET|HEAD) /api/v1/users(\?.*)?$" },
        { "GET /api/v1/users/{id}", @"^(GET|HEAD) /api/v1/users/[^/]+$" },
        { "POST /api/v1/users", "^POST /api/v1/users$" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public void The_table_holds_at_least_40_requests_and_some_for_every_endpoint(string endpoint, string pattern)
    {
        var rows = Requests.Select(r => ((ITheoryDataRow)r).GetData()).Select(d => $"{d[1]} {d[2]}").ToList();
        Assert.True(rows.Count >= 40, $"{rows.Count} rows");
        Assert.True(rows.Any(r => System.Text.RegularExpressions.Regex.IsMatch(r, pattern)), $"no request to {endpoint}");
    }
}
