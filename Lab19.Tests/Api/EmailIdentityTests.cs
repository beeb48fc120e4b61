using Lab19.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using UserService;
using UserService.Contracts;
using UserService.Data;

namespace Lab19.Tests;

/// <summary>One email, one user: an address is compared and stored as a reader sees it (NFC, no invisible characters), in the API and in the table.</summary>
[Collection(LabCollection.Name)]
public class EmailIdentityTests(LabFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> WithInvisibleCharacters => new()
    {
        "user001\u200B@lab19.local", // the seeded user001's address, with a zero-width space inside
        "user001@lab19.local\u200B",
        "\u202Euser001@lab19.local", // right-to-left override in front
        "{0}\u2060@tests.lab19.local",
        "\uFEFF{0}@tests.lab19.local",
        "{0}\u3164@tests.lab19.local", // Hangul filler
        "\u0301{0}@tests.lab19.local", // a combining mark with nothing to combine with
    };

    [Theory]
    [MemberData(nameof(WithInvisibleCharacters))]
    public async Task An_email_with_an_invisible_or_formatting_character_is_400_and_stores_nothing(string email)
    {
        var before = await DataSnapshot.TakeAsync(fixture);
        var body = Http.Json(new { name = "Invisible", email = string.Format(System.Globalization.CultureInfo.InvariantCulture, email, Guid.NewGuid().ToString("N")) });

        var problem = await Http.AssertProblemAsync(await fixture.Lab.Users.PostAsync("/api/v1/users", body, Ct), HttpStatusCode.BadRequest);
        Assert.Contains("invisible", problem.GetProperty("errors").GetProperty("email")[0].GetString());
        Assert.Equal(before, await DataSnapshot.TakeAsync(fixture));
    }

    [Fact]
    public async Task An_email_sent_composed_and_then_decomposed_is_one_user_stored_in_nfc()
    {
        var local = Guid.NewGuid().ToString("N");
        var composed = $"{local}-\u00E1@tests.lab19.local";
        var created = await (await fixture.Lab.Users.PostAsync("/api/v1/users", Http.Json(new { name = "Composed", email = composed }), Ct)).ReadAsync<UserDto>();
        Assert.Equal(composed, created.Email);

        foreach (var other in new[] { $"{local}-a\u0301@tests.lab19.local", $"{local.ToUpperInvariant()}-A\u0301@tests.lab19.local" })
        {
            await Http.AssertProblemAsync(await fixture.Lab.Users.PostAsync("/api/v1/users", Http.Json(new { name = "Decomposed", email = other }), Ct), HttpStatusCode.Conflict);
        }
        Assert.Equal(1, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Users, $"SELECT COUNT(*) FROM users WHERE normalize(email, NFC) = '{composed}'"));
    }

    [Fact]
    public async Task The_migration_rewrites_stored_emails_in_nfc_so_a_new_sign_up_cannot_duplicate_them()
    {
        // user-service's own code and migrations, on a database that still has the schema before emails were normalized
        var options = new DbContextOptionsBuilder<UsersDbContext>()
            .UseUsersDatabase(UsersDatabase.ConnectionString(fixture.Databases.Postgres.ConnectionString("userdb_nfc"))).Options;
        await using var db = new UsersDbContext((DbContextOptions<UsersDbContext>)options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261125072931_InitialCreate", Ct);
        var stored = new[]
        {
            "ada-a\u0301@tests.lab19.local",   // decomposed: becomes "ada-á@..."
            "eve-\u00E9@tests.lab19.local",    // composed already
            "eve-e\u0301@tests.lab19.local",   // its NFC form is taken by the row above: keeps its spelling
        };
        foreach (var email in stored)
        {
            await db.Database.ExecuteSqlAsync($"INSERT INTO users (name, email, created_at) VALUES ('stored', {email}, now())", Ct);
        }

        await migrator.MigrateAsync(cancellationToken: Ct);

        var emails = await db.Users.OrderBy(u => u.Id).Select(u => u.Email).ToListAsync(Ct);
        Assert.Equal(["ada-\u00E1@tests.lab19.local", "eve-\u00E9@tests.lab19.local", "eve-e\u0301@tests.lab19.local"], emails);
        foreach (var email in new[] { "ada-\u00E1@tests.lab19.local", "ADA-A\u0301@tests.lab19.local", "eve-e\u0301@tests.lab19.local" })
        {
            var answer = await UsersApi.CreateUser(db, new CreateUserRequest("new", email), TimeProvider.System, Ct);
            Assert.Equal(409, Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>(answer.Result).StatusCode);
            db.ChangeTracker.Clear();
        }
        Assert.Equal(3, await db.Users.CountAsync(Ct));
    }
}
