using System.Text.Json;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>Client text repeated in answers and log lines is escaped and bounded: it can neither forge a log line nor make a huge one.</summary>
[Collection(LabCollection.Name)]
public class LogInjectionTests(LabFixture fixture)
{
    /// <summary>Far below what a hostile request could make a line or an answer (120 KB before), far above any honest one.</summary>
    private const int Bound = 2048;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Escape_carriage_return_and_line_feed_in_a_query_value_are_escaped_in_the_answer_and_the_log()
    {
        var marker = $"forge-{Guid.NewGuid():N}";
        var response = await fixture.Lab.Points.GetAsync($"/api/v1/points?limit=%1b%5b31mRED-{marker}%0d%0ainfo:%20forged", Ct);

        var detail = (await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString()!;
        Assert.Contains(marker, detail);
        Assert.DoesNotContain(detail, c => c is '\u001b' or '\r' or '\n');
        Assert.Contains(@"\u001B[31mRED", detail);

        var lines = await fixture.Lab.LogLinesAsync("point-service", seen => seen.Any(l => l.Contains(marker)));
        var logged = Assert.Single(lines, l => l.Contains(marker));
        Assert.Contains(@"\r\ninfo: forged", logged);
        // (the console logger colours its own level names with escape sequences; the client's must not reach the terminal)
        Assert.DoesNotContain(lines, l => l.Contains("\u001b[31mRED", StringComparison.Ordinal) || l.Contains('\r'));
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("info: forged", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("points")]
    [InlineData("users")]
    public async Task A_60_KB_property_name_gives_an_answer_and_a_log_line_of_bounded_size(string service)
    {
        var marker = $"huge{Guid.NewGuid():N}";
        var body = $$"""{"{{marker}}{{new string('a', 60 * 1024)}}":1}""";
        var client = service == "users" ? fixture.Lab.Users : fixture.Lab.Points;

        var response = await client.PostAsync(service == "users" ? "/api/v1/users" : "/api/v1/points", Http.Json(body), Ct);

        var answer = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(answer.Length < Bound, $"an answer of {answer.Length} characters");
        var detail = (await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString()!;
        Assert.Contains(marker, detail);

        var lines = await fixture.Lab.LogLinesAsync(service == "users" ? "user-service" : "point-service", seen => seen.Any(l => l.Contains(marker)));
        Assert.Contains(lines, l => l.Contains(marker));
        Assert.All(lines.Where(l => l.Contains(marker)), l => Assert.True(l.Length < Bound, $"a log line of {l.Length} characters"));
    }
}
