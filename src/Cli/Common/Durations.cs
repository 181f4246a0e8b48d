using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace OrleansMQ.Cli.Common;

/// <summary>A duration option's value; printed as it is written (<c>5s</c>), so help shows <c>[default: 5s]</c>.</summary>
internal readonly record struct Duration(TimeSpan Value)
{
    public override string ToString() => Durations.Format(Value);
}

/// <summary>Duration options written as people write them: <c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>, plain seconds, or <c>hh:mm:ss</c>.</summary>
internal static class Durations
{
    /// <summary>A duration option with a default; <paramref name="recursive"/> for an option every subcommand takes.</summary>
    public static Option<Duration> Option(string name, TimeSpan defaultValue, string description, bool recursive = false) => new(name)
    {
        Description = description,
        Recursive = recursive,
        HelpName = "duration",
        DefaultValueFactory = _ => new Duration(defaultValue),
        CustomParser = Parse,
    };

    /// <summary>Formats a duration the way <see cref="TryParse"/> reads it.</summary>
    public static string Format(TimeSpan value) =>
        value.TotalMilliseconds < 1000 ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.#}ms")
        : value.TotalSeconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###}s")
        : value.TotalMinutes < 120 ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalMinutes:0.##}m")
        : string.Create(CultureInfo.InvariantCulture, $"{value.TotalHours:0.##}h");

    public static bool TryParse(string text, out TimeSpan value)
    {
        text = text.Trim();
        if (text.Contains(':'))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }
        value = default;
        var (unit, factor) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => ("ms", 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => ("s", 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => ("m", 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => ("h", 3600.0),
            _ => ("", 1.0),
        };
        var number = text[..^unit.Length];
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            || amount * factor > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }
        value = TimeSpan.FromSeconds(amount * factor);
        return true;
    }

    private static Duration Parse(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (TryParse(token, out var value))
        {
            return new Duration(value);
        }
        result.AddError($"'{token}' is not a duration for {OptionName(result)}; write e.g. 500ms, 5s, 2m or 1h");
        return default;
    }

    private static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : "the option";
}
