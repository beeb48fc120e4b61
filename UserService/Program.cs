using Lab19.ServiceDefaults;
using Microsoft.Extensions.Http.Resilience;
using UserService;
using UserService.Data;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddUsersDatabase();
// No per-call HttpClient logs (they cost about a tenth of the throughput); Polly still logs retries and failures.
builder.Services.AddHttpClient<PointsClient>(c => c.BaseAddress = new("http://point-service")).RemoveAllLoggers();
builder.Services.ConfigureAll<HttpStandardResilienceOptions>(PointsClient.BoundResilience); // every call ends within 2 s
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, UserJsonContext.Default));

var app = builder.Build();

app.UseProblemResponses();
app.UseUtf8JsonBodies();
app.UseDatabaseReadiness();
app.MapDefaultEndpoints();
app.MapHealthChecks("/actuator/health"); // the original Spring Boot lab's health URL, so its commands work unchanged
app.MapUsersApi();

app.Run();
