using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PointService.Data.Migrations
{
    /// <inheritdoc />
    public partial class AddPointsNewestFirstIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_points_created_at_id",
                table: "points",
                columns: new[] { "created_at", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_points_created_at_id",
                table: "points");
        }
    }
}
