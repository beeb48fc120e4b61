using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PointService.Data.Migrations
{
    /// <inheritdoc />
    public partial class HashIdempotencyKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-written in place of the scaffolded drop and re-add, which would lose every stored key: each key's hash is computed
            // from the key (SHA-256 of its ASCII bytes, as IdempotencyKey.Hash does) before the key's column goes, so a retry sent
            // across the upgrade still finds its record. The last statement is one ALTER, so the table never lacks its primary key.
            migrationBuilder.Sql("ALTER TABLE `idempotency_keys` ADD `key_hash` binary(32) NULL;");
            migrationBuilder.Sql("UPDATE `idempotency_keys` SET `key_hash` = UNHEX(SHA2(`idempotency_key`, 256));");
            migrationBuilder.Sql(
                "ALTER TABLE `idempotency_keys` DROP PRIMARY KEY, DROP COLUMN `idempotency_key`, " +
                "MODIFY `key_hash` binary(32) NOT NULL, ADD CONSTRAINT `PK_idempotency_keys` PRIMARY KEY (`key_hash`);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // A hash cannot be turned back into its key: going back forgets the stored keys (their records stay).
            migrationBuilder.Sql("DELETE FROM `idempotency_keys`;");
            migrationBuilder.Sql(
                "ALTER TABLE `idempotency_keys` DROP PRIMARY KEY, DROP COLUMN `key_hash`, " +
                "ADD `idempotency_key` varchar(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL FIRST, " +
                "ADD CONSTRAINT `PK_idempotency_keys` PRIMARY KEY (`idempotency_key`);");
        }
    }
}
