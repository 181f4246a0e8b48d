using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace OrleansMQ.Cli.Common;

/// <summary>
/// Points in time as operators write them: an ISO 8601 time (<c>2026-11-25T06:00:00Z</c>; without an offset it
/// is UTC), <c>now</c>, or a duration before now with a leading minus (<c>-30m</c>, <c>-2h</c>).
/// </summary>
internal static class TimeArguments
{
    public const string Help = "an ISO 8601 time (UTC unless an offset is given), 'now', or a duration ago such as -30m or -2h";

    /// <summary>A time option; left out it is null, and the command applies its default (named in the description).</summary>
    public static Option<DateTimeOffset?> Option(string name, string description, bool required = false) => new(name)
    {
        Description = $"{description}: {Help}",
        HelpName = "time",
        Required = required,
        CustomParser = Parse,
    };

    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset value)
    {
        text = text.Trim();
        if (text.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            value = now;
            return true;
        }
        if (text.StartsWith('-') && Durations.TryParse(text[1..], out var ago))
        {
            value = now - ago;
            return true;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }

    private static DateTimeOffset? Parse(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (TryParse(token, DateTimeOffset.UtcNow, out var value))
        {
            return value;
        }
        var name = result.Parent is OptionResult option ? option.Option.Name : "the option";
        result.AddError($"'{token}' is not a time for {name}; write {Help}");
        return null;
    }
}
