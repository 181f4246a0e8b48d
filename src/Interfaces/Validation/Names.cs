namespace OrleansMQ.Validation;

/// <summary>
/// The naming rules of RocketMQ (Validators.checkTopic / checkGroup), used by client and broker alike:
/// letters, digits, <c>%</c> <c>-</c> <c>_</c> <c>|</c>, at most 127 characters, and system names are the broker's own.
/// </summary>
public static class Names
{
    public const string RetryGroupTopicPrefix = "%RETRY%";
    public const string DlqGroupTopicPrefix = "%DLQ%";
    private const string Allowed = "letters, digits, % - _ |, at most 127 characters";

    private static readonly string[] ReservedPrefixes = [RetryGroupTopicPrefix, DlqGroupTopicPrefix, "RMQ_SYS_", "OMQ_SYS_", "rmq_sys_"];
    private static readonly HashSet<string> ReservedTopics = new(StringComparer.Ordinal)
    {
        "TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "OFFSET_MOVED_EVENT", "SELF_TEST_TOPIC", "RMQ_SYS_TRANS_HALF_TOPIC",
    };
    private static readonly HashSet<string> ReservedGroups = new(StringComparer.Ordinal)
    {
        "DEFAULT_PRODUCER", "DEFAULT_CONSUMER", "TOOLS_CONSUMER", "CLIENT_INNER_PRODUCER", "SELF_TEST_P_GROUP", "SELF_TEST_C_GROUP",
    };

    /// <summary>The retry topic of a consumer group.</summary>
    public static string RetryTopic(string group) => RetryGroupTopicPrefix + group;

    /// <summary>The dead-letter topic of a consumer group.</summary>
    public static string DlqTopic(string group) => DlqGroupTopicPrefix + group;

    /// <summary>Checks a topic name a client may use; throws <see cref="MQException"/> naming the rule broken.</summary>
    public static void CheckTopic(string? topic)
    {
        CheckSyntax(topic, "topic", MQErrorCode.InvalidTopicName);
        if (ReservedTopics.Contains(topic!) || HasReservedPrefix(topic!))
        {
            throw new MQException(MQErrorCode.ReservedName, $"topic name '{topic}' is reserved for the broker (%RETRY%…, %DLQ%…, system topics); choose another name");
        }
    }

    /// <summary>
    /// Checks a topic a client reads, inspects or deletes: its own topics, and also a group's
    /// %RETRY% and %DLQ% topics (RocketMQ lets a consumer read its dead letters). Creating and
    /// sending still go through <see cref="CheckTopic"/>.
    /// </summary>
    public static void CheckExistingTopic(string? topic)
    {
        if (topic is not null &&
            (topic.StartsWith(RetryGroupTopicPrefix, StringComparison.Ordinal) || topic.StartsWith(DlqGroupTopicPrefix, StringComparison.Ordinal)))
        {
            CheckSystemTopic(topic);
            return;
        }
        CheckTopic(topic);
    }

    /// <summary>
    /// Checks a topic a client only reads or inspects (status, message queries, track): any well-formed name, the
    /// broker's own topics included (SCHEDULE_TOPIC_XXXX, rmq_sys_wheel_timer), as mqadmin and the dashboard show them.
    /// </summary>
    public static void CheckReadableTopic(string? topic) => CheckSyntax(topic, "topic", MQErrorCode.InvalidTopicName);

    /// <summary>Checks a topic name the broker itself may use (retry and DLQ topics allowed).</summary>
    public static void CheckSystemTopic(string? topic) => CheckSyntax(topic, "topic", MQErrorCode.InvalidTopicName);

    /// <summary>Checks a consumer or producer group name; throws <see cref="MQException"/> naming the rule broken.</summary>
    public static void CheckGroup(string? group)
    {
        CheckSyntax(group, "group", MQErrorCode.InvalidGroupName);
        if (ReservedGroups.Contains(group!) || HasReservedPrefix(group!))
        {
            throw new MQException(MQErrorCode.ReservedName, $"group name '{group}' is reserved for the broker; choose another name");
        }
    }

    /// <summary>Whether clients may create and send to a topic of this name (it is valid and not the broker's own).</summary>
    public static bool IsClientTopic(string? topic)
    {
        try
        {
            CheckTopic(topic);
            return true;
        }
        catch (MQException)
        {
            return false;
        }
    }

    /// <summary>Whether a name satisfies the syntax rule (not the reserved-name rule).</summary>
    public static bool IsValidSyntax(string? name) => name is { Length: > 0 and <= MaxLength } && FirstInvalidChar(name) < 0;

    private const int MaxLength = Limits.MaxNameLength;

    private static bool HasReservedPrefix(string name)
    {
        foreach (var prefix in ReservedPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static void CheckSyntax(string? name, string what, MQErrorCode code)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new MQException(code, $"{what} name is empty; allowed: {Allowed}");
        }
        if (name.Length > MaxLength)
        {
            throw new MQException(code, $"{what} name '{name[..20]}…' is {name.Length} characters long; allowed: {Allowed}");
        }
        var bad = FirstInvalidChar(name);
        if (bad >= 0)
        {
            var c = name[bad];
            var shown = char.IsWhiteSpace(c) ? "a space" : $"'{c}'";
            throw new MQException(code, $"{what} name '{name}' has {shown} at position {bad + 1}; allowed: {Allowed}");
        }
    }

    private static int FirstInvalidChar(string name)
    {
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '%' or '-' or '_' or '|';
            if (!ok) return i;
        }
        return -1;
    }
}
