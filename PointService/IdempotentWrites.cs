using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PointService.Contracts;
using PointService.Data;

namespace PointService;

/// <summary>
/// Exactly-once <c>POST /api/v1/points</c> with the <c>Idempotency-Key</c> request header (IETF httpapi draft
/// "The Idempotency-Key HTTP Header Field"): the key is stored with the record in one transaction, and its primary key
/// in MySQL, not memory, decides which of several requests with one key stores a record.
/// </summary>
// Hand-written: idempotency middlewares (e.g. IdempotentAPI) keep keys in a cache apart from the data, and none is on the package source;
// here the key must commit in the same transaction as the record it answers for.
public static class IdempotentWrites
{
    public const string Header = "Idempotency-Key";

    /// <summary>Set on an answer that repeats the original 201 instead of storing anything (as Stripe's API does).</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    private enum Outcome
    {
        /// <summary>The record was stored now.</summary>
        Created,
        /// <summary>The key had stored a record for the same request before: nothing was stored now.</summary>
        Replayed,
        /// <summary>The key had been used for a different request: nothing was stored.</summary>
        KeyReused,
        /// <summary>Another request holds the key, and its record could not be read: nothing was stored, a retry is safe.</summary>
        Conflict,
    }

    /// <summary>An error message for the header's values, or null when they are one key of 1–255 visible ASCII characters.</summary>
    public static string? Validate(IReadOnlyList<string?> values)
    {
        if (values.Count > 1)
        {
            return $"Send one {Header} header, not {values.Count}.";
        }
        var key = values[0] ?? "";
        return key.Length is >= 1 and <= IdempotencyKey.MaxLength && key.All(c => c is >= '!' and <= '~')
            ? null
            : $"{Header} must be 1 to {IdempotencyKey.MaxLength} visible ASCII characters (no spaces), e.g. a UUID.";
    }

    /// <summary>SHA-256 of the request as the service understood it (field order and spacing of the JSON do not matter).</summary>
    public static byte[] Fingerprint(AddPointsRequest request) =>
        SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, PointsJsonContext.Default.AddPointsRequest));

    /// <summary>
    /// Answers a POST with the key <paramref name="key"/>: 201 with the record stored now (made at <paramref name="createdAt"/>), or with
    /// the one the key stored before for the same request (marked <see cref="ReplayedHeader"/>); 422 when the key was used for a different
    /// request; 409 when another request holds the key. A request racing another with the same key waits on the key's index entry until the
    /// other commits, fails with a duplicate key, and then reads the other's record; one that waits longer than the command timeout gets the 409.
    /// </summary>
    public static async Task<Results<CreatedAtRoute<PointResponse>, ProblemHttpResult>> AddOnceAsync(
        PointsDbContext db, HttpResponse response, string key, AddPointsRequest request, DateTime createdAt, CancellationToken ct)
    {
        var (outcome, point) = await StoreOnceAsync(db, key, request, createdAt, ct);
        switch (outcome)
        {
            case Outcome.Created:
                return PointsApi.Created(point!);
            case Outcome.Replayed:
                response.Headers[ReplayedHeader] = "true";
                return PointsApi.Created(point!);
            case Outcome.KeyReused:
                return TypedResults.Problem(title: "Idempotency-Key reused",
                    detail: $"The {Header} '{key}' was used for a different request. Send a new key for a new request.",
                    statusCode: StatusCodes.Status422UnprocessableEntity);
            default:
                return TypedResults.Problem(title: "Idempotency-Key in use",
                    detail: $"Another request holds the {Header} '{key}'. Retry shortly: nothing was stored.",
                    statusCode: StatusCodes.Status409Conflict);
        }
    }

    /// <summary>
    /// Returns what <paramref name="key"/> stored before, or, when it is new, stores the request's record together with the key
    /// (one transaction, one round trip: <see cref="PointsDbContext.AddPointOnceAsync"/>).
    /// </summary>
    private static async Task<(Outcome Outcome, PointResponse? Point)> StoreOnceAsync(
        PointsDbContext db, string key, AddPointsRequest request, DateTime createdAt, CancellationToken ct)
    {
        var fingerprint = Fingerprint(request);
        var point = new PointsDbContext.NewPoint(request.UserId, request.Points!.Value, request.Reason, createdAt);
        return await db.AddPointOnceAsync(point, IdempotencyKey.Hash(key), fingerprint, ct) switch
        {
            { Created: { } created } => (Outcome.Created, created),
            { Earlier: { } earlier } => Answer(earlier, fingerprint),
            _ => (Outcome.Conflict, null),
        };
    }

    private static (Outcome, PointResponse?) Answer(PointsDbContext.KeyUse earlier, byte[] fingerprint) =>
        earlier.RequestHash.AsSpan().SequenceEqual(fingerprint) ? (Outcome.Replayed, earlier.Point) : (Outcome.KeyReused, null);
}
