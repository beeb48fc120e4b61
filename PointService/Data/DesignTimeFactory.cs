using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace PointService.Data;

/// <summary>Lets `dotnet ef migrations add` build the model without a running server (migrations are server-version neutral).</summary>
public class DesignTimeFactory : IDesignTimeDbContextFactory<PointsDbContext>
{
    public PointsDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PointsDbContext>()
            .UseMySql("Server=localhost;Database=pointdb", new MySqlServerVersion(new Version(8, 4, 0)))
            .Options);
}
