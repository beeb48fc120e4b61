using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PointService.Data.Migrations
{
    /// <inheritdoc />
    public partial class DropIdempotencyKeyForeignKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_idempotency_keys_points_point_id",
                table: "idempotency_keys");

            migrationBuilder.DropIndex(
                name: "IX_idempotency_keys_point_id",
                table: "idempotency_keys");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_idempotency_keys_point_id",
                table: "idempotency_keys",
                column: "point_id");

            migrationBuilder.AddForeignKey(
                name: "FK_idempotency_keys_points_point_id",
                table: "idempotency_keys",
                column: "point_id",
                principalTable: "points",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
