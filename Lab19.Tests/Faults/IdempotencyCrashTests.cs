using System.Collections.Concurrent;
using System.Diagnostics;
using Lab19.Tests.Infrastructure;

namespace Lab19.Tests;

/// <summary>
/// point-service killed (SIGKILL, no graceful shutdown) while clients POST with Idempotency-Keys: clients retry everything
/// that did not get a 201 until it does, and every intended credit ends up stored exactly once.
/// </summary>
[Collection(LabCollection.Name)]
public class IdempotencyCrashTests(LabFixture fixture)
{
    private const int Clients = 24;
    private const int CreditsPerClient = 15;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Credit(string Key, int Points, string Reason);

    [Fact]
    public async Task Killing_point_service_during_keyed_writes_and_retrying_stores_every_credit_exactly_once()
    {
        var userId = Random.Shared.Next(1_000_000, int.MaxValue);
        var run = Guid.NewGuid().ToString("N")[..12];
        var credits = Enumerable.Range(0, Clients)
            .Select(c => Enumerable.Range(0, CreditsPerClient).Select(i => new Credit($"crash-{run}-{c}-{i}", c * CreditsPerClient + i + 1, $"crash {c}-{i}")).ToArray())
            .ToArray();
        var acknowledged = new ConcurrentDictionary<string, PointDto>();
        var (failedAttempts, replays, acknowledgedAtKill) = (0, 0, -1);
        using var http = new HttpClient { BaseAddress = fixture.Lab.Points.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();

        async Task ClientAsync(Credit[] mine)
        {
            foreach (var credit in mine)
            {
                while (true)
                {
                    Assert.True(clock.Elapsed < Deadline, $"{credit.Key} had no 201 after {Deadline}");
                    try
                    {
                        using var response = await http.SendAsync(Http.AddPoints(new { userId, points = credit.Points, reason = credit.Reason }, credit.Key), Ct);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            acknowledged[credit.Key] = await response.ReadAsync<PointDto>();
                            if (response.Headers.Contains("Idempotent-Replayed")) Interlocked.Increment(ref replays);
                            break;
                        }
                        // while the service or its connections come back: 503 (not ready, database), or 409 (the key is held)
                        Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict,
                            $"{credit.Key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !Ct.IsCancellationRequested)
                    {
                        // refused, reset or cut off: the answer is lost, the client cannot know whether the credit was stored
                    }
                    Interlocked.Increment(ref failedAttempts);
                    await Task.Delay(100, Ct);
                }
            }
        }

        async Task KillAndRestartAsync()
        {
            while (acknowledged.Count < Clients * CreditsPerClient / 4)
            {
                await Task.Delay(5, Ct);
            }
            await fixture.Lab.KillResourceProcessAsync("point-service");
            acknowledgedAtKill = acknowledged.Count;
            await fixture.Lab.StartResourceAsync("point-service");
        }

        var killer = KillAndRestartAsync();
        try
        {
            await Task.WhenAll(credits.Select(ClientAsync).Append(killer));
        }
        finally
        {
            await killer.ContinueWith(_ => { }, Ct); // a failed restart has already failed the test; the lab must not stay down
            if (!fixture.Lab.App.ResourceNotifications.TryGetCurrentState("point-service", out var state) || state.Snapshot.State?.Text != KnownResourceStates.Running)
            {
                await fixture.Lab.StartResourceAsync("point-service");
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"killed after {acknowledgedAtKill} of {Clients * CreditsPerClient} acknowledged; {failedAttempts} failed attempts retried; " +
            $"{replays} retries answered from a record stored before the answer was lost");
        var all = credits.SelectMany(c => c).ToList();
        Assert.InRange(acknowledgedAtKill, 1, all.Count - 1); // the kill came in the middle of the writes
        Assert.True(failedAttempts > 0, "no request was interrupted");

        // every credit acknowledged, each with its own record, and exactly those records stored
        Assert.Equal(all.Count, acknowledged.Count);
        Assert.Equal(all.Count, acknowledged.Values.Select(p => p.Id).Distinct().Count());
        Assert.All(all, c => Assert.Equal((c.Points, c.Reason), (acknowledged[c.Key].Points, acknowledged[c.Key].Reason)));
        var stored = await (await fixture.Lab.Points.GetAsync($"/api/v1/points/user/{userId}?limit=1000", Ct)).ReadAsync<PointDto[]>();
        Assert.Equal(acknowledged.Values.OrderBy(p => p.Id), stored.OrderBy(p => p.Id));
        Assert.Equal(all.Count, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT COUNT(DISTINCT reason) FROM points WHERE user_id = {userId}"));
        // one stored key per credit (the table keeps each key's SHA-256)
        Assert.Equal(all.Count, await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points,
            $"SELECT COUNT(*) FROM idempotency_keys WHERE key_hash IN ({string.Join(", ", all.Select(c => $"UNHEX(SHA2('{c.Key}', 256))"))})"));
        var total = await (await fixture.Lab.Points.GetAsync($"/api/v1/points/user/{userId}/total", Ct)).ReadAsync<UserTotalDto>();
        Assert.Equal(all.Sum(c => (long)c.Points), total.Total);
        // the stored total, read straight from MySQL, and every other user's: each equals the sum of its user's records
        Assert.Equal(all.Sum(c => (long)c.Points), await DataSnapshot.ScalarAsync(fixture, LabDatabase.Points, $"SELECT total FROM user_totals WHERE user_id = {userId}"));
        var mismatches = await DataSnapshot.TotalsNotMatchingRecordsAsync(fixture.Databases);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} totals differ from their records: {string.Join("; ", mismatches.Take(10))}");
    }
}
