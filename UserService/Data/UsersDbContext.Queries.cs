using Microsoft.EntityFrameworkCore;
using UserService.Contracts;

namespace UserService.Data;

/// <summary>
/// The queries behind user-service's API, beside the model they read (as aspire-shop's CatalogDbContext keeps its own).
/// The one behind every <c>GET /api/v1/users/{id}</c> is compiled once: EF skips its per-call query-cache lookup (see bench/README.md).
/// </summary>
public partial class UsersDbContext
{
    /// <summary>The first <paramref name="take"/> users by id.</summary>
    public Task<UserResponse[]> FirstUsersAsync(int take, CancellationToken ct) =>
        Users.AsNoTracking()
            .OrderBy(u => u.Id)
            .Take(take)
            .Select(u => new UserResponse(u.Id, u.Name, u.Email, u.CreatedAt))
            .ToArrayAsync(ct);

    /// <summary>The user <paramref name="id"/>, or null.</summary>
    public Task<User?> UserAsync(int id, CancellationToken ct) => UserById(this, id, ct);

    private static readonly Func<UsersDbContext, int, CancellationToken, Task<User?>> UserById =
        EF.CompileAsyncQuery((UsersDbContext db, int id, CancellationToken ct) => db.Users.AsNoTracking().FirstOrDefault(u => u.Id == id));
}
