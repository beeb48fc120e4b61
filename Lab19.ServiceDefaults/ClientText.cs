using System.Globalization;
using System.Text;

namespace Lab19.ServiceDefaults;

/// <summary>
/// Text a client sent, made safe to repeat in an answer or a log line: control, format and line-separator characters are written as
/// escapes (<c>\r</c>, <c>\n</c>, <c>\t</c>, <c>\u001B</c>, <c>\u202E</c>), so they cannot forge log lines or colour a terminal, and the
/// text is cut to a bounded length, so a 60 KB property name cannot make a 60 KB line.
/// </summary>
// Hand-written: the logging and ProblemDetails packages pass text through as it is, and no package on the lab's source does this.
public static class ClientText
{
    /// <summary>The longest piece of client text an answer or a log line repeats (in characters, before escaping).</summary>
    public const int MaxLength = 200;

    public static string Escape(string? text, int maxLength = MaxLength)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var escaped = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        var taken = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (taken >= maxLength)
            {
                escaped.Append(CultureInfo.InvariantCulture, $"… ({text.Length - taken} more characters)");
                break;
            }
            taken += rune.Utf16SequenceLength;
            switch (rune.Value)
            {
                case '\r': escaped.Append("\\r"); break;
                case '\n': escaped.Append("\\n"); break;
                case '\t': escaped.Append("\\t"); break;
                case '\\': escaped.Append("\\\\"); break;
                default:
                    if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                        or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
                    {
                        escaped.Append(rune.IsBmp ? "\\u" : "\\U").Append(rune.Value.ToString(rune.IsBmp ? "X4" : "X8", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        escaped.Append(rune.ToString());
                    }
                    break;
            }
        }
        return escaped.ToString();
    }
}
