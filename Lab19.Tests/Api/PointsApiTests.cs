using System.Text.Json;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>PointService's API against real MariaDB, through the running AppHost.</summary>
[Collection(LabCollection.Name)]
public class PointsApiTests(LabFixture fixture)
{
    private HttpClient Points => fixture.Lab.Points;

    /// <summary>A user id no other test uses, so each test owns its data.</summary>
    private static int FreshUserId() => Random.Shared.Next(1_000_000, int.MaxValue);

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task Health_endpoints_answer_healthy(string path)
    {
        var response = await Points.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Post_stores_the_record_and_answers_201_with_its_location()
    {
        var userId = FreshUserId();
        var response = await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 100, reason = "signup bonus" }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsync<PointDto>();
        Assert.Equal((userId, 100, "signup bonus"), (created.UserId, created.Points, created.Reason));
        Assert.Equal(DateTimeKind.Utc, created.CreatedAt.Kind);
        Assert.InRange(created.CreatedAt, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));

        var location = response.Headers.Location!;
        var stored = await (await Points.GetAsync(location, TestContext.Current.CancellationToken)).ReadAsync<PointDto>();
        Assert.Equal(created, stored);
        Assert.Equal(1, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT COUNT(*) FROM points WHERE user_id = {userId}"));
    }

    [Fact]
    public async Task A_users_records_come_newest_first_and_limit_caps_them()
    {
        var userId = FreshUserId();
        int[] amounts = [10, -3, 25, 7];
        foreach (var points in amounts)
        {
            (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points }), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        var all = await (await Points.GetAsync($"/api/v1/points/user/{userId}", TestContext.Current.CancellationToken)).ReadAsync<PointDto[]>();
        Assert.Equal(amounts.Reverse(), all.Select(p => p.Points));
        Assert.All(all, p => Assert.Null(p.Reason));

        var two = await (await Points.GetAsync($"/api/v1/points/user/{userId}?limit=2", TestContext.Current.CancellationToken)).ReadAsync<PointDto[]>();
        Assert.Equal(all.Take(2), two);
    }

    [Fact]
    public async Task Total_is_the_sum_of_a_users_records_including_redemptions()
    {
        var userId = FreshUserId();
        foreach (var points in new[] { 100, 250, -40 })
        {
            (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points }), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        var total = await (await Points.GetAsync($"/api/v1/points/user/{userId}/total", TestContext.Current.CancellationToken)).ReadAsync<UserTotalDto>();
        Assert.Equal(new UserTotalDto(userId, 310), total);
    }

    [Fact]
    public async Task A_user_without_records_has_total_zero_and_an_empty_list()
    {
        var userId = FreshUserId();
        var total = await (await Points.GetAsync($"/api/v1/points/user/{userId}/total", TestContext.Current.CancellationToken)).ReadAsync<UserTotalDto>();
        var list = await (await Points.GetAsync($"/api/v1/points/user/{userId}", TestContext.Current.CancellationToken)).ReadAsync<PointDto[]>();
        Assert.Equal(new UserTotalDto(userId, 0), total);
        Assert.Empty(list);
    }

    [Fact]
    public async Task The_list_of_all_points_is_newest_first_100_by_default_and_honours_limit()
    {
        var userId = FreshUserId();
        var newest = await (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 5 }), TestContext.Current.CancellationToken)).ReadAsync<PointDto>();

        var page = await (await Points.GetAsync("/api/v1/points", TestContext.Current.CancellationToken)).ReadAsync<PointDto[]>();
        Assert.Equal(100, page.Length); // the seed alone holds over 200 records
        Assert.Equal(newest, page[0]);
        Assert.True(page.Zip(page.Skip(1)).All(p => p.First.CreatedAt >= p.Second.CreatedAt), "not newest first");

        var three = await (await Points.GetAsync("/api/v1/points?limit=3", TestContext.Current.CancellationToken)).ReadAsync<PointDto[]>();
        Assert.Equal(page.Take(3), three);
        var max = await (await Points.GetAsync("/api/v1/points?limit=1000", TestContext.Current.CancellationToken)).ReadAsync<PointDto[]>();
        Assert.InRange(max.Length, 101, 1000);
    }

    [Fact]
    public async Task Text_is_stored_exactly_as_sent_including_emoji_quotes_and_sql()
    {
        var userId = FreshUserId();
        const string reason = "Robert'); DROP TABLE points; -- 🎉 ünïcödé \"quoted\"";
        var created = await (await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points = 1, reason }), TestContext.Current.CancellationToken)).ReadAsync<PointDto>();

        var stored = await (await Points.GetAsync($"/api/v1/points/{created.Id}", TestContext.Current.CancellationToken)).ReadAsync<PointDto>();
        Assert.Equal(reason, stored.Reason);
        Assert.True(await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, "SELECT COUNT(*) FROM points") > 0, "the points table is still there");
    }

    [Fact]
    public async Task Points_at_the_bounds_are_accepted()
    {
        var userId = FreshUserId();
        foreach (var points in new[] { 1_000_000, -1_000_000, 1, -1 })
        {
            var response = await Points.PostAsync("/api/v1/points", Http.Json(new { userId, points, reason = new string('r', 200) }), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        Assert.Equal(0, (await (await Points.GetAsync($"/api/v1/points/user/{userId}/total", TestContext.Current.CancellationToken)).ReadAsync<UserTotalDto>()).Total);
    }

    public static TheoryData<string, string> InvalidPosts => new()
    {
        { """{"userId":0,"points":10}""", "userId" },
        { """{"userId":-5,"points":10}""", "userId" },
        { """{"points":10}""", "userId" },
        { """{"userId":1}""", "points" },
        { """{"userId":1,"points":0}""", "points" },
        { """{"userId":1,"points":1000001}""", "points" },
        { """{"userId":1,"points":-1000001}""", "points" },
        { $$"""{"userId":1,"points":5,"reason":"{{new string('x', 201)}}"}""", "reason" },
        { """{"userId":1,"points":5,"reason":"   "}""", "reason" },
        { """{"userId":1,"points":5,"reason":"line\u0000break"}""", "reason" },
    };

    [Theory]
    [MemberData(nameof(InvalidPosts))]
    public async Task Invalid_posts_are_400_with_the_field_named_and_store_nothing(string body, string field)
    {
        var before = await DataSnapshot.TakeAsync(fixture);
        var response = await Points.PostAsync("/api/v1/points", Http.Json(body), TestContext.Current.CancellationToken);

        var problem = await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for '{field}' in {problem}");
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
    }

    [Fact]
    public async Task An_unknown_point_is_404_problem_details_worded_as_for_an_unknown_user()
    {
        var problem = await Http.AssertProblemAsync(await Points.GetAsync("/api/v1/points/999999999999", TestContext.Current.CancellationToken), HttpStatusCode.NotFound);
        Assert.Equal("Point not found", problem.GetProperty("title").GetString());
        Assert.Equal("There is no point 999999999999.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/api/v1/points/abc")]
    [InlineData("/api/v1/points/0")]
    [InlineData("/api/v1/points/-1")]
    [InlineData("/api/v1/points/user/abc")]
    [InlineData("/api/v1/points/user/0")]
    [InlineData("/api/v1/points/user/-1/total")]
    [InlineData("/api/v1/points/user/1?limit=0")]
    [InlineData("/api/v1/points/user/1?limit=1001")]
    [InlineData("/api/v1/points?limit=-1")]
    [InlineData("/api/v1/points?limit=ten")]
    public async Task Invalid_ids_and_limits_are_400(string path)
    {
        var response = await Points.GetAsync(path, TestContext.Current.CancellationToken);
        await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Malformed_json_and_a_wrong_content_type_are_rejected_with_problem_details()
    {
        var before = await DataSnapshot.TakeAsync(fixture);

        var malformed = await Points.PostAsync("/api/v1/points", Http.Json("""{"userId":1,"points":"""), TestContext.Current.CancellationToken);
        await Http.AssertProblemAsync(malformed, HttpStatusCode.BadRequest);

        var wrongType = await Points.PostAsync("/api/v1/points", Http.Json("""{"userId":1,"points":5}""", "text/plain"), TestContext.Current.CancellationToken);
        await Http.AssertProblemAsync(wrongType, HttpStatusCode.UnsupportedMediaType);

        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
    }
}
