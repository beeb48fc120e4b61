using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lab19.ServiceDefaults;

/// <summary>The ProblemDetails answers both APIs give in the same words.</summary>
public static class Problems
{
    /// <summary>404 for a missing resource: title "{Thing} not found", detail "There is no {thing} {id}.".</summary>
    public static ProblemHttpResult NotFound(string thing, long id) =>
        TypedResults.Problem(title: $"{char.ToUpperInvariant(thing[0])}{thing[1..]} not found", detail: $"There is no {thing} {id}.",
            statusCode: StatusCodes.Status404NotFound);
}
