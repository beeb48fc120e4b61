using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lab19.ServiceDefaults;

/// <summary>The input rules both APIs share (ids, paging and free text).</summary>
// Hand-written: these rules (ranges that exclude zero, no control characters, at least one character a reader sees) go beyond the built-in DataAnnotations validation.
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
        if (!IsValidUnicode(value))
        {
            return $"{field} must be valid Unicode text (a surrogate without its pair is not).";
        }
        if (value.Any(char.IsControl))
        {
            return $"{field} must not contain control characters.";
        }
        if (!HasVisibleCharacter(value))
        {
            return $"{field} must contain at least one visible character (not only spaces or invisible characters such as U+200B, U+3164 or U+2800).";
        }
        return null;
    }

    /// <summary>
    /// <paramref name="value"/> in Unicode normalization form C (composed: "a" + U+0301 becomes "á"), so that text a reader cannot tell apart
    /// compares equal; text that is not valid Unicode is returned as it is, for <see cref="Text"/> to refuse.
    /// </summary>
    public static string? Nfc(string? value) => value is not null && IsValidUnicode(value) ? value.Normalize(NormalizationForm.FormC) : value;

    /// <summary>True when some character of <paramref name="value"/> shows on its own (see <see cref="IsInvisible"/>; a combining mark shows only on a character before it).</summary>
    public static bool HasVisibleCharacter(string value)
    {
        foreach (var rune in value.EnumerateRunes())
        {
            if (!IsInvisible(rune) && !IsCombiningMark(rune))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The first character of <paramref name="value"/> that a reader would not see, or null (a combining mark on a visible character is seen).</summary>
    public static Rune? FirstInvisibleCharacter(string value)
    {
        var afterVisible = false;
        foreach (var rune in value.EnumerateRunes())
        {
            if (IsInvisible(rune) || (IsCombiningMark(rune) && !afterVisible))
            {
                return rune;
            }
            afterVisible = true;
        }
        return null;
    }

    /// <summary>
    /// True for a character that renders as nothing, or as blank space: white space; control, format (U+200B, U+2060, U+FEFF, U+202E),
    /// private-use, unassigned and surrogate code points; and the letters and symbols that fonts draw empty: the Hangul fillers
    /// (U+115F, U+1160, U+3164, U+FFA0) and the Braille blank (U+2800).
    /// </summary>
    public static bool IsInvisible(Rune rune) =>
        Rune.IsWhiteSpace(rune)
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate
        || rune.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800;

    /// <summary>A combining mark (U+0301, a variation selector, U+034F): it has no shape of its own, only on the character before it.</summary>
    private static bool IsCombiningMark(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    /// <summary>False when a surrogate stands without its pair (JSON's "\ud800" escape can send one): such text cannot be normalized or stored.</summary>
    private static bool IsValidUnicode(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(value[i])) return false;
        }
        return true;
    }

    public static ValidationProblem Problem(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
