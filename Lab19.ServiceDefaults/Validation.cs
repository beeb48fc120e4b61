using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lab19.ServiceDefaults;

/// <summary>The input rules both APIs share (paging and free text).</summary>
// Hand-written: these rules (ranges that exclude zero, no control characters, blank vs. absent) go beyond the built-in DataAnnotations validation.
public static class Validation
{
    /// <summary>The effective page size, or null when <paramref name="limit"/> is outside 1..<paramref name="max"/>.</summary>
    public static int? Limit(int? limit, int defaultLimit, int max) =>
        limit switch
        {
            null => defaultLimit,
            >= 1 when limit <= max => limit,
            _ => null,
        };

    /// <summary>An error message for a text field, or null when it is acceptable.</summary>
    public static string? Text(string field, string? value, int maxLength, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return required ? $"{field} is required." : value is { Length: > 0 } ? $"{field} must not be blank when given." : null;
        }
        if (value.Length > maxLength)
        {
            return $"{field} must be at most {maxLength} characters.";
        }
        if (value.Any(char.IsControl))
        {
            return $"{field} must not contain control characters.";
        }
        return null;
    }

    public static ValidationProblem Problem(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
