using Lab19.ServiceDefaults;
using UserService;
using UserService.Contracts;
using UserService.Data;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddUsersDatabase();
builder.AddPointsClient();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, UsersJsonContext.Default));

var app = builder.Build();

app.UseProblemResponses();
app.UseUtf8JsonBodies();
app.UseDatabaseReadiness();
app.MapDefaultEndpoints();
app.MapHealthChecks("/actuator/health"); // the original Spring Boot lab's health URL, so its commands work unchanged
app.MapUsersApi();

app.Run();
