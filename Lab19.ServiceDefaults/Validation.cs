using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lab19.ServiceDefaults;

/// <summary>The input rules both APIs share (ids, paging and free text).</summary>
// Hand-written: these rules (ranges that exclude zero, no control characters, at least one visible character) go beyond the built-in DataAnnotations validation.
public static class Validation
{
    /// <summary>An error message for an id (in the route or a body), or null when it is positive. Ids are checked here, not by a route constraint, so a bad id is a 400 naming the field, not a 404.</summary>
    public static string? PositiveId(string field, long value) => value > 0 ? null : $"{field} must be a positive integer.";

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
        if (string.IsNullOrEmpty(value))
        {
            return required ? $"{field} is required." : null;
        }
        if (value.Length > maxLength)
        {
            return $"{field} must be at most {maxLength} characters.";
        }
        if (value.Any(char.IsControl))
        {
            return $"{field} must not contain control characters.";
        }
        if (!HasVisibleCharacter(value))
        {
            return $"{field} must contain at least one visible character (not only spaces or invisible characters such as U+200B).";
        }
        return null;
    }

    /// <summary>True when some character of <paramref name="value"/> shows: not white space and not a format character (category Cf, e.g. U+200B, U+2060, U+FEFF).</summary>
    public static bool HasVisibleCharacter(string value)
    {
        foreach (var rune in value.EnumerateRunes())
        {
            if (!Rune.IsWhiteSpace(rune) && Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Format or UnicodeCategory.Control))
            {
                return true;
            }
        }
        return false;
    }

    public static ValidationProblem Problem(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
