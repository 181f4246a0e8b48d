using Npgsql;

namespace OrleansMQ.Grains.Storage;

/// <summary>Turns Npgsql failures into the broker's typed errors at the store boundary.</summary>
internal static class StoreErrors
{
    public static async Task<T> Guard<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    public static MQException? Translate(Exception e) => e switch
    {
        MQException => null,
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg =>
            new MQException(MQErrorCode.StoreConflict, $"queue offset already taken ({pg.ConstraintName}); another writer appended to this queue"),
        NpgsqlException or TimeoutException or System.IO.IOException or System.Net.Sockets.SocketException =>
            new MQException(MQErrorCode.StoreUnavailable, $"the store (PostgreSQL) failed: {e.Message}"),
        _ => null,
    };
}
