using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>UserService's API against real PostgreSQL, calling the real point-service through Aspire service discovery.</summary>
[Collection(LabCollection.Name)]
public class UsersApiTests(LabFixture fixture)
{
    private HttpClient Users => fixture.Lab.Users;
    private HttpClient Points => fixture.Lab.Points;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string FreshEmail() => $"{Guid.NewGuid():N}@tests.lab19.local";

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    [InlineData("/actuator/health")]
    public async Task Health_endpoints_answer_healthy(string path)
    {
        var response = await Users.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_seeded_user_comes_with_total_and_recent_points_from_point_service()
    {
        var user = await (await Users.GetAsync("/api/v1/users/1", Ct)).ReadAsync<UserWithPointsDto>();
        var total = await (await Points.GetAsync("/api/v1/points/user/1/total", Ct)).ReadAsync<UserTotalDto>();
        var recent = await (await Points.GetAsync("/api/v1/points/user/1?limit=10", Ct)).ReadAsync<PointDto[]>();

        Assert.Equal((1, "user001", "user001@lab19.local"), (user.Id, user.Name, user.Email));
        Assert.True(user.TotalPoints > 0, "the seed gives user 1 points");
        Assert.Equal(total.Total, user.TotalPoints);
        Assert.Equal(recent, user.RecentPoints);
    }

    [Fact]
    public async Task Points_added_to_point_service_show_in_the_next_user_response_ten_newest_at_most()
    {
        var created = await (await Users.PostAsync("/api/v1/users", Http.Json(new { name = "Ada", email = FreshEmail() }), Ct)).ReadAsync<UserDto>();
        for (var i = 1; i <= 12; i++)
        {
            (await Points.PostAsync("/api/v1/points", Http.Json(new { userId = created.Id, points = i, reason = $"visit {i}" }), Ct)).EnsureSuccessStatusCode();
        }

        var user = await (await Users.GetAsync($"/api/v1/users/{created.Id}", Ct)).ReadAsync<UserWithPointsDto>();
        Assert.Equal(Enumerable.Range(1, 12).Sum(), user.TotalPoints);
        Assert.Equal(Enumerable.Range(3, 10).Reverse(), user.RecentPoints.Select(p => p.Points));
    }

    [Fact]
    public async Task An_unknown_user_is_404_problem_details()
    {
        var problem = await Http.AssertProblemAsync(await Users.GetAsync("/api/v1/users/987654321", Ct), HttpStatusCode.NotFound);
        Assert.Contains("987654321", problem.GetProperty("detail").GetString());
        Assert.Equal("User not found", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Creating_a_user_answers_201_with_a_location_that_serves_it()
    {
        var email = FreshEmail();
        var response = await Users.PostAsync("/api/v1/users", Http.Json(new { name = "  Grace Hopper ", email = email.ToUpperInvariant() }), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsync<UserDto>();
        Assert.Equal(("Grace Hopper", email), (created.Name, created.Email));
        Assert.True(created.Id > 100, "new users come after the seeded 1..100");

        var fetched = await (await Users.GetAsync(response.Headers.Location, Ct)).ReadAsync<UserWithPointsDto>();
        Assert.Equal((created.Id, created.Name, created.Email, created.CreatedAt, 0L), (fetched.Id, fetched.Name, fetched.Email, fetched.CreatedAt, fetched.TotalPoints));
        Assert.Empty(fetched.RecentPoints);
    }

    [Fact]
    public async Task A_duplicate_email_is_409_whatever_its_case_and_stores_nothing()
    {
        var email = FreshEmail();
        (await Users.PostAsync("/api/v1/users", Http.Json(new { name = "first", email }), Ct)).EnsureSuccessStatusCode();
        var before = await DataSnapshot.TakeAsync(fixture);

        var problem = await Http.AssertProblemAsync(
            await Users.PostAsync("/api/v1/users", Http.Json(new { name = "second", email = email.ToUpperInvariant() }), Ct), HttpStatusCode.Conflict);
        Assert.Contains(email, problem.GetProperty("detail").GetString());
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
    }

    public static TheoryData<string, string> InvalidUsers => new()
    {
        { """{"name":"","email":"a@b.example"}""", "name" },
        { """{"name":"   ","email":"a@b.example"}""", "name" },
        { """{"email":"a@b.example"}""", "name" },
        { $$"""{"name":"{{new string('n', 101)}}","email":"a@b.example"}""", "name" },
        { """{"name":"Ada","email":"not-an-email"}""", "email" },
        { """{"name":"Ada","email":"a@b"}""", "email" },
        { """{"name":"Ada","email":"a b@c.example"}""", "email" },
        { """{"name":"Ada","email":""}""", "email" },
        { """{"name":"Ada"}""", "email" },
    };

    [Theory]
    [MemberData(nameof(InvalidUsers))]
    public async Task Invalid_users_are_400_with_the_field_named_and_store_nothing(string body, string field)
    {
        var before = await DataSnapshot.TakeAsync(fixture);
        var problem = await Http.AssertProblemAsync(await Users.PostAsync("/api/v1/users", Http.Json(body), Ct), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for '{field}' in {problem}");
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
    }

    [Fact]
    public async Task The_user_list_is_ordered_by_id_100_by_default_and_honours_limit()
    {
        var page = await (await Users.GetAsync("/api/v1/users", Ct)).ReadAsync<UserDto[]>();
        Assert.Equal(Enumerable.Range(1, 100), page.Select(u => u.Id));
        Assert.Equal("user042@lab19.local", page[41].Email);

        var five = await (await Users.GetAsync("/api/v1/users?limit=5", Ct)).ReadAsync<UserDto[]>();
        Assert.Equal(page.Take(5), five);

        await Http.AssertProblemAsync(await Users.GetAsync("/api/v1/users?limit=0", Ct), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await Users.GetAsync("/api/v1/users?limit=1001", Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_seed_holds_users_1_to_100_and_their_points_exactly_once()
    {
        Assert.Equal(100, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Users, "SELECT COUNT(*) FROM users WHERE email LIKE 'user___@lab19.local'"));
        Assert.Equal(100, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Users, "SELECT COUNT(DISTINCT id) FROM users WHERE id BETWEEN 1 AND 100"));
        Assert.Equal(100, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, "SELECT COUNT(*) FROM points WHERE reason = 'signup bonus' AND user_id BETWEEN 1 AND 100"));
    }
}
