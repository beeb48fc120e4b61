using Lab19.ServiceDefaults;
using PointService;
using PointService.Contracts;
using PointService.Data;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPointsDatabase();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, PointsJsonContext.Default));

var app = builder.Build();

app.UseProblemResponses();
app.UseUtf8JsonBodies();
app.UseDatabaseReadiness();
app.MapDefaultEndpoints();
app.MapPointsApi();

app.Run();
