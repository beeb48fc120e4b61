using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace UserService.Data;

/// <summary>Lets `dotnet ef migrations add` build the model without a running server.</summary>
public class DesignTimeFactory : IDesignTimeDbContextFactory<UsersDbContext>
{
    public UsersDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<UsersDbContext>()
            .UseNpgsql("Host=localhost;Database=userdb")
            .Options);
}
