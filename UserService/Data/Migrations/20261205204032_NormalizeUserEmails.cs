using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace UserService.Data.Migrations
{
    /// <inheritdoc />
    public partial class NormalizeUserEmails : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Emails stored before the service normalized them (NFC) could hold one address twice: "á" composed in one row, "a" + U+0301
            // in another. Each row is rewritten in NFC, so that the unique index compares what a reader sees, unless its NFC form is
            // taken already (by a row in NFC, or by a row with a lower id that is rewritten first): that later duplicate keeps its
            // old spelling, which no new sign-up can send any more (every new email is NFC), and the first owner keeps the address.
            // Only on a UTF8 database, the only kind PostgreSQL can normalize (and the lab's).
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                  IF current_setting('server_encoding') = 'UTF8' THEN
                    UPDATE users AS u SET email = normalize(u.email, NFC)
                    FROM (SELECT DISTINCT ON (normalize(email, NFC)) id FROM users
                          WHERE email IS NOT NFC NORMALIZED ORDER BY normalize(email, NFC), id) AS earliest
                    WHERE u.id = earliest.id
                      AND NOT EXISTS (SELECT 1 FROM users AS taken WHERE taken.email = normalize(u.email, NFC));
                  END IF;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the old service reads NFC emails as it reads any other.
        }
    }
}
