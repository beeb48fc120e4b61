using Lab19.ServiceDefaults;
using Microsoft.Extensions.Http.Resilience;
using UserService;
using UserService.Data;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddUsersDatabase();
builder.Services.AddHttpClient<PointsClient>(c => c.BaseAddress = new("http://point-service")).RemoveAllLoggers();
builder.Services.ConfigureAll<HttpStandardResilienceOptions>(PointsClient.BoundResilience);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, UserJsonContext.Default));

var app = builder.Build();

app.UseProblemResponses();
app.UseDatabaseReadiness();
app.MapDefaultEndpoints();
app.MapHealthChecks("/actuator/health"); // the original Spring Boot lab's health URL, so its commands work unchanged
app.MapUsersApi();

app.Run();
