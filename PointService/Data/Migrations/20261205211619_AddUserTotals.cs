using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PointService.Data.Migrations
{
    /// <inheritdoc />
    public partial class AddUserTotals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "user_totals",
                columns: table => new
                {
                    user_id = table.Column<int>(type: "int", nullable: false),
                    total = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_user_totals", x => x.user_id);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            // Each user's total from the records stored so far (it reads the covering index on user_id, points). The service is not
            // ready until its migrations are done, so it stores nothing meanwhile; an older point-service must be stopped for the upgrade,
            // since it would store records without adding them to the totals.
            migrationBuilder.Sql("INSERT INTO `user_totals` (`user_id`, `total`) SELECT `user_id`, SUM(`points`) FROM `points` GROUP BY `user_id`;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "user_totals");
        }
    }
}
