namespace OrleansMQ.Client;

/// <summary>The one way options classes report a setting out of range: a typed error naming the setting, its value and what is allowed.</summary>
internal static class OptionChecks
{
    public static void Require(bool ok, string optionsType, string name, object value, string allowed)
    {
        if (!ok)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"{optionsType}.{name} is {value}; it must be {allowed}");
        }
    }
}
