using Lab19.ServiceDefaults;
using PointService;
using PointService.Data;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPointsDatabase();

var app = builder.Build();

app.UseProblemResponses();
app.UseDatabaseReadiness();
app.MapDefaultEndpoints();
app.MapPointsApi();

app.Run();
