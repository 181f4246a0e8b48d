using System.Net;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// How the HTTP API reports a failure: every <see cref="MQException"/> becomes
/// <c>{ "code": "&lt;MQErrorCode name&gt;", "number": &lt;int&gt;, "message": "…" }</c> with the status below, so a
/// script branches on the same codes as a C# client or the CLI.
/// </summary>
public static class ApiErrors
{
    /// <summary>The HTTP status of an error code: bad input 400, nothing there 404, a conflict with the broker's state 409, store or broker down 503.</summary>
    public static HttpStatusCode StatusOf(MQErrorCode code) => code switch
    {
        MQErrorCode.InvalidTopicName or MQErrorCode.InvalidGroupName or MQErrorCode.ReservedName or MQErrorCode.EmptyBody
            or MQErrorCode.BodyTooLarge or MQErrorCode.InvalidProperties or MQErrorCode.InvalidTag or MQErrorCode.InvalidKeys
            or MQErrorCode.InvalidBatch or MQErrorCode.InvalidFilterExpression or MQErrorCode.InvalidArgument
            or MQErrorCode.OffsetOutOfRange or MQErrorCode.InvalidDelayLevel or MQErrorCode.DeliverTimeOutOfRange or MQErrorCode.InvalidTransaction
            => HttpStatusCode.BadRequest,
        MQErrorCode.TopicNotFound or MQErrorCode.TopicDeleted or MQErrorCode.QueueNotFound or MQErrorCode.MessageNotFound or MQErrorCode.TransactionNotFound
            => HttpStatusCode.NotFound,
        MQErrorCode.TopicAlreadyExists or MQErrorCode.StoreConflict or MQErrorCode.ConsumerGroupActive
            or MQErrorCode.MessageTypeMismatch or MQErrorCode.InstanceNameInUse or MQErrorCode.TransactionAlreadyResolved
            => HttpStatusCode.Conflict,
        MQErrorCode.StoreUnavailable or MQErrorCode.BrokerUnavailable or MQErrorCode.ClientNotStarted
            => HttpStatusCode.ServiceUnavailable,
        _ => HttpStatusCode.InternalServerError,
    };

    /// <summary>Bad input the HTTP layer itself found (malformed JSON, a missing field, a query parameter that is not a number).</summary>
    public static MQException BadRequest(string message) => new(MQErrorCode.InvalidArgument, message);
}

/// <summary>The JSON body of an error answer.</summary>
/// <param name="Code">The <see cref="MQErrorCode"/> name, or <c>NotFound</c> for a path that is no API endpoint.</param>
/// <param name="Number">The error code's number (0 for <c>NotFound</c>).</param>
/// <param name="Message">What was wrong and what is allowed.</param>
public sealed record ApiError(string Code, int Number, string Message)
{
    /// <summary>The body of an <see cref="MQException"/>.</summary>
    public static ApiError Of(MQException e) => new(e.Code.ToString(), (int)e.Code, e.Message);
}
