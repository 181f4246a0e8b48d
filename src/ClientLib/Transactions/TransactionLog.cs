using Microsoft.Extensions.Logging;
using OrleansMQ.Transactions;

namespace OrleansMQ.Client;

internal static partial class TransactionLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Warning, Message = "The local transaction of {TransactionId} (producer group {Group}) threw; it counts as Unknown and the broker checks it back")]
    public static partial void LocalTransactionFailed(this ILogger logger, Exception exception, string transactionId, string group);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Reporting {State} for transaction {TransactionId} failed ({Reason}); the broker checks it back")]
    public static partial void EndTransactionFailed(this ILogger logger, string transactionId, LocalTransactionState state, string reason);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Checking transaction {TransactionId} (producer group {Group}) back threw; answered Unknown")]
    public static partial void CheckFailed(this ILogger logger, Exception exception, string transactionId, string group);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Heartbeat to the transaction coordinator of producer group {Group} failed ({Reason}); retrying")]
    public static partial void HeartbeatFailed(this ILogger logger, string group, string reason);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Debug, Message = "Leaving producer group {Group} failed ({Reason}); the broker forgets this instance after its producer expiry")]
    public static partial void UnregisterFailed(this ILogger logger, string group, string reason);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "The local transaction of {TransactionId} answered {State}, which is not a LocalTransactionState; it counts as Unknown")]
    public static partial void InvalidLocalState(this ILogger logger, string transactionId, string state);
}
