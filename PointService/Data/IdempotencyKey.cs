using System.Security.Cryptography;
using System.Text;

namespace PointService.Data;

/// <summary>
/// An <c>Idempotency-Key</c> a client sent with <c>POST /api/v1/points</c>, stored in the same transaction as the record it created.
/// </summary>
// A table of its own, not columns on points: keys expire and are deleted after Retention while the ledger's rows stay as they are.
public class IdempotencyKey
{
    /// <summary>The longest key a client may send.</summary>
    public const int MaxLength = 255;

    /// <summary>How long a key is kept: a retry within this time returns the original answer (cleaned up a few minutes after).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>
    /// SHA-256 of the key as the client sent it (case-sensitive, byte for byte): 32 bytes in the primary key and in each secondary
    /// index, whatever the key's length. Two keys with one hash would need a SHA-256 collision.
    /// </summary>
    public required byte[] KeyHash { get; set; }

    /// <summary>SHA-256 of the canonical request (userId, points, reason): tells a retry from a different request under the same key.</summary>
    public required byte[] RequestHash { get; set; }

    /// <summary>
    /// The record stored in the same transaction (<c>LAST_INSERT_ID()</c>, PointsDbContext.Writes.cs). No foreign key: the two rows are
    /// written together and records are never deleted, so a constraint would guarantee nothing more and cost every keyed POST a check and
    /// an index (bench/README.md).
    /// </summary>
    public long PointId { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>What <see cref="KeyHash"/> holds for <paramref name="key"/> (1–255 visible ASCII characters, as the header is validated).</summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.ASCII.GetBytes(key));
}
