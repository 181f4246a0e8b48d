using System.Globalization;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using OrleansMQ.Client;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Topics;
using OrleansMQ.Transactions;
using OrleansMQ.Validation;

namespace OrleansMQ.Silo.Dashboard;

/// <summary>
/// The HTTP API under <c>/api/</c> (JSON): what mqadmin and the CLI do, through <see cref="AdminClient"/> and
/// <see cref="Producer"/> on the silo's own grain factory, so input is validated by the same rules and nothing is
/// read from Postgres behind the grains' back. Every failure answers with an <see cref="ApiError"/>.
/// </summary>
internal sealed class DashboardApi(IGrainFactory grains, ILocalSiloDetails silo, ILogger logger, Func<string?> consoleUrl) : IAsyncDisposable
{
    /// <summary>The producer group stored with the console's test messages.</summary>
    public const string ProducerGroup = "orleansmq-console";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        // Readable with curl (quotes and non-ASCII as written). Safe: answers are application/json with nosniff, and
        // the console page puts them into the DOM as text, never as markup.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly AdminClient _admin = new(grains);
    private readonly Lazy<Producer> _producer = new(() => new Producer(grains, new ProducerOptions
    {
        ProducerGroup = ProducerGroup,
        // A typo in the send form must not create a topic.
        AutoCreateTopics = false,
    }));

    public void Map(WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api"), api => api.Use(HandleErrorsAsync));

        app.MapGet("/api/cluster", ClusterAsync);

        app.MapGet("/api/topics", ListTopicsAsync);
        app.MapPost("/api/topics", CreateTopicAsync);
        app.MapGet("/api/topics/{topic}", TopicAsync);
        app.MapPatch("/api/topics/{topic}", UpdateTopicAsync);
        app.MapDelete("/api/topics/{topic}", DeleteTopicAsync);
        app.MapGet("/api/topics/{topic}/groups", TopicGroupsAsync);

        app.MapGet("/api/groups", ListGroupsAsync);
        app.MapGet("/api/groups/{group}/progress", ProgressAsync);
        app.MapDelete("/api/groups/{group}", DeleteGroupAsync);
        app.MapGet("/api/groups/{group}/instances", InstancesAsync);
        app.MapPost("/api/groups/{group}/reset-offset", ResetOffsetAsync);
        app.MapGet("/api/groups/{group}/dlq", DeadLettersAsync);
        app.MapPost("/api/groups/{group}/dlq/resend", ResendAsync);

        app.MapGet("/api/messages/by-id/{msgId}", MessageByIdAsync);
        app.MapGet("/api/messages/by-key", MessagesByKeyAsync);
        app.MapGet("/api/messages/by-offset", MessageByOffsetAsync);
        app.MapGet("/api/messages/track", MessageTrackAsync);
        app.MapPost("/api/messages/resend", ResendMessageAsync);
        app.MapPost("/api/messages", SendAsync);

        app.MapGet("/api/delay", DelayAsync);

        app.MapGet("/api/transactions", TransactionsAsync);
        app.MapPost("/api/transactions/{group}/{transactionId}/commit", http => EndTransactionAsync(http, LocalTransactionState.Commit));
        app.MapPost("/api/transactions/{group}/{transactionId}/rollback", http => EndTransactionAsync(http, LocalTransactionState.Rollback));

        // Last: any other /api path is an error in the same JSON shape, not the console page.
        app.Map("/api/{**rest}", http => WriteAsync(http, StatusCodes.Status404NotFound,
            new ApiError("NotFound", 0, $"no API endpoint {http.Request.Method} {http.Request.Path}; see docs/console.md")));
    }

    public async ValueTask DisposeAsync()
    {
        if (_producer.IsValueCreated)
        {
            await _producer.Value.DisposeAsync();
        }
    }

    // ---- cluster ----------------------------------------------------------------------------------

    private async Task ClusterAsync(HttpContext http)
    {
        var all = OptionalBool(http, "all") ?? false;
        var self = silo.SiloAddress.ToString();
        var silos = (await _admin.ListSilosAsync(includeDead: all, http.RequestAborted)).Select(s => new
        {
            address = s.Address,
            siloName = s.SiloName,
            hostName = s.HostName,
            status = s.Status,
            gateway = s.Gateway,
            startTime = s.StartTime,
            iAmAliveTime = s.IAmAliveTime,
            self = s.Silo == self,
            activations = s.Activations,
            clients = s.Clients,
            cpuUsagePercent = s.CpuUsagePercent,
            memoryUsageBytes = s.MemoryUsageBytes,
            overloaded = s.Overloaded,
        }).ToList();
        await OkAsync(http, new { clusterId = silo.ClusterId, self = silo.SiloAddress.Endpoint.ToString(), consoleUrl = consoleUrl(), silos });
    }

    // ---- topics -----------------------------------------------------------------------------------

    private async Task ListTopicsAsync(HttpContext http)
    {
        var topics = await _admin.ListTopicsAsync(http.RequestAborted);
        await OkAsync(http, topics.Select(TopicView));
    }

    private static object TopicView(TopicConfig t) => new
    {
        name = t.Name,
        queues = t.Queues,
        messageType = t.MessageType,
        permission = t.Permission,
        perm = (int)t.Permission,
        retentionHours = t.RetentionHours,
        createdAt = t.CreatedAt == default ? (DateTimeOffset?)null : t.CreatedAt,
        kind = t.Name.StartsWith(Names.RetryGroupTopicPrefix, StringComparison.Ordinal) ? "retry"
            : t.Name.StartsWith(Names.DlqGroupTopicPrefix, StringComparison.Ordinal) ? "dlq"
            : Names.IsClientTopic(t.Name) ? "normal" : "system",
    };

    private async Task CreateTopicAsync(HttpContext http)
    {
        var request = await ReadAsync<CreateTopicRequest>(http);
        var name = request.Name ?? throw ApiErrors.BadRequest("a topic needs a \"name\"");
        var config = new TopicConfig(
            name,
            request.Queues ?? Limits.DefaultQueues,
            request.Permission is null ? TopicPermission.ReadWrite : ParseEnum<TopicPermission>(request.Permission, "permission"),
            request.MessageType is null ? TopicMessageType.Normal : ParseEnum<TopicMessageType>(request.MessageType, "messageType"),
            request.RetentionHours ?? 72);
        var created = await _admin.CreateTopicAsync(config, http.RequestAborted);
        LogAction(http, $"created topic '{created.Name}' with {created.Queues} queues");
        await WriteAsync(http, StatusCodes.Status201Created, TopicView(created));
    }

    private async Task TopicAsync(HttpContext http)
    {
        var topic = Route(http, "topic");
        var config = await _admin.GetTopicConfigAsync(topic, http.RequestAborted)
            ?? throw new MQException(MQErrorCode.TopicNotFound, $"topic '{topic}' does not exist");
        var queues = await _admin.GetTopicStatusAsync(topic, http.RequestAborted);
        await OkAsync(http, new
        {
            topic = TopicView(config),
            messages = queues.Sum(q => q.MaxOffset - q.MinOffset),
            lastStoredAt = queues.Max(q => q.LastStoredAt),
            queues = queues.Select(q => new { queueId = q.QueueId, minOffset = q.MinOffset, maxOffset = q.MaxOffset, lastStoredAt = q.LastStoredAt }),
        });
    }

    private async Task UpdateTopicAsync(HttpContext http)
    {
        var topic = Route(http, "topic");
        var request = await ReadAsync<UpdateTopicRequest>(http);
        var update = new TopicUpdate(
            request.Queues,
            request.Permission is null ? null : ParseEnum<TopicPermission>(request.Permission, "permission"),
            request.MessageType is null ? null : ParseEnum<TopicMessageType>(request.MessageType, "messageType"),
            request.RetentionHours);
        var updated = await _admin.UpdateTopicAsync(topic, update, http.RequestAborted);
        LogAction(http, $"updated topic '{topic}': {updated.Queues} queues, permission {updated.Permission}, type {updated.MessageType}, retention {updated.RetentionHours} h");
        await OkAsync(http, TopicView(updated));
    }

    private async Task DeleteTopicAsync(HttpContext http)
    {
        var topic = Route(http, "topic");
        _ = await _admin.GetTopicConfigAsync(topic, http.RequestAborted)
            ?? throw new MQException(MQErrorCode.TopicNotFound, $"topic '{topic}' does not exist");
        await _admin.DeleteTopicAsync(topic, http.RequestAborted);
        LogAction(http, $"deleted topic '{topic}'");
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The known groups that consume the topic, with their lag on it (the dashboard's topic "consumer manage").</summary>
    private async Task TopicGroupsAsync(HttpContext http)
    {
        var topic = Route(http, "topic");
        _ = await _admin.GetTopicConfigAsync(topic, http.RequestAborted)
            ?? throw new MQException(MQErrorCode.TopicNotFound, $"topic '{topic}' does not exist");
        var names = await _admin.ListGroupsAsync(http.RequestAborted);
        var groups = await Task.WhenAll(names.Select(async group =>
        {
            var queues = (await _admin.GetGroupProgressAsync(group, http.RequestAborted)).Where(q => q.Topic == topic).ToList();
            return new { group, queues = queues.Count, totalLag = queues.Sum(q => q.Lag) };
        }));
        await OkAsync(http, groups.Where(g => g.queues > 0));
    }

    // ---- consumer groups --------------------------------------------------------------------------

    private async Task ListGroupsAsync(HttpContext http)
    {
        var groups = await _admin.ListGroupSummariesAsync(http.RequestAborted);
        await OkAsync(http, groups.Select(g => g.Error is { } error
            ? (object)new { group = g.Group, error = ApiError.Of(error) }
            : new { group = g.Group, instances = g.Instances, messageModel = g.MessageModel, orderly = g.Orderly, topics = g.Topics, totalLag = g.TotalLag }));
    }

    private async Task DeleteGroupAsync(HttpContext http)
    {
        var group = Route(http, "group");
        // Strict, as every flag: a typo must not silently delete the dead letters.
        var keepDeadLetters = OptionalBool(http, "keepDlq") ?? false;
        var deletion = await _admin.DeleteGroupAsync(group, keepDeadLetters, http.RequestAborted);
        LogAction(http, $"deleted group '{group}': {deletion.OffsetsRemoved} offset(s), topics [{string.Join(", ", deletion.TopicsDeleted)}]");
        await OkAsync(http, new { group = deletion.Group, offsetsRemoved = deletion.OffsetsRemoved, topicsDeleted = deletion.TopicsDeleted });
    }

    private async Task ProgressAsync(HttpContext http)
    {
        var group = Route(http, "group");
        var queues = await _admin.GetGroupProgressAsync(group, http.RequestAborted);
        await OkAsync(http, new
        {
            group,
            totalLag = queues.Sum(q => q.Lag),
            queues = queues.Select(q => new
            {
                topic = q.Topic,
                queueId = q.QueueId,
                brokerOffset = q.BrokerOffset,
                consumerOffset = q.ConsumerOffset,
                lag = q.Lag,
                lastStoredAt = q.LastStoredAt,
            }),
        });
    }

    private async Task InstancesAsync(HttpContext http)
    {
        var group = Route(http, "group");
        var instances = await _admin.GetGroupInstancesAsync(group, http.RequestAborted);
        await OkAsync(http, instances.Select(i => new
        {
            clientId = i.ClientId,
            instanceName = i.InstanceName,
            host = i.Host,
            messageModel = i.MessageModel,
            orderly = i.Orderly,
            allocateStrategy = i.AllocateStrategy,
            lastHeartbeat = i.LastHeartbeat,
            subscriptions = i.Subscriptions.Select(s => new { topic = s.Topic, expression = s.Expression }),
            queues = i.Assignment.Select(q => q.ToString()),
            locks = i.Locks.Select(q => q.ToString()),
        }));
    }

    private async Task ResetOffsetAsync(HttpContext http)
    {
        var group = Route(http, "group");
        var request = await ReadAsync<ResetOffsetRequest>(http);
        var topic = request.Topic ?? throw ApiErrors.BadRequest("a reset needs the \"topic\" whose offsets move");
        var time = request.Time ?? throw ApiErrors.BadRequest("a reset needs a \"time\" (ISO 8601, e.g. 2030-01-01T12:00:00Z)");
        var resets = await _admin.ResetOffsetsByTimeAsync(group, topic, time, http.RequestAborted);
        LogAction(http, $"reset the offsets of group '{group}' on topic '{topic}' to {time:O}");
        await OkAsync(http, resets.Select(r => new { topic = r.Queue.Topic, queueId = r.Queue.QueueId, before = r.Before, after = r.After }));
    }

    private async Task DeadLettersAsync(HttpContext http)
    {
        var group = Route(http, "group");
        var from = OptionalLong(http, "from") ?? 0;
        var max = OptionalInt(http, "max") ?? 100;
        var letters = await _admin.ListDeadLettersAsync(group, from, max, http.RequestAborted);
        await OkAsync(http, letters.Select(d => new { message = MessageView.Of(d.Message, MessageView.PreviewBytes), resentAt = d.ResentAt }));
    }

    private async Task ResendAsync(HttpContext http)
    {
        var group = Route(http, "group");
        var request = await ReadAsync<ResendRequest>(http);
        var all = request.All ?? false;
        if (all == request.MsgIds is not null)
        {
            throw ApiErrors.BadRequest("give either \"msgIds\": [ … ] or \"all\": true");
        }
        var results = await _admin.ResendDeadLettersAsync(group, all ? null : request.MsgIds, http.RequestAborted);
        LogAction(http, $"resent {results.Count} dead letter(s) of group '{group}'");
        await OkAsync(http, results.Select(r => new { msgId = r.MsgId, topic = r.Topic, reconsumeTimes = r.ReconsumeTimes, deadLettered = r.DeadLettered }));
    }

    // ---- transactions -----------------------------------------------------------------------------

    private async Task TransactionsAsync(HttpContext http)
    {
        var group = Optional(http, "group");
        var state = Optional(http, "state") is { } text ? ParseEnum<TransactionState>(text.Replace("-", ""), "state") : (TransactionState?)null;
        var transactions = await _admin.ListTransactionsAsync(group, state, OptionalInt(http, "max") ?? 100, http.RequestAborted);
        await OkAsync(http, transactions.Select(t => new
        {
            producerGroup = t.ProducerGroup, transactionId = t.TransactionId, msgId = t.MsgId, topic = t.Queue.Topic, queueId = t.Queue.QueueId,
            tag = t.Tag, keys = t.Keys, state = t.State, checkTimes = t.CheckTimes, createdAt = t.CreatedAt, nextCheckAt = t.NextCheckAt,
            resolvedAt = t.ResolvedAt, resolvedBy = t.ResolvedBy, queueOffset = t.QueueOffset, note = t.Note,
        }));
    }

    private async Task EndTransactionAsync(HttpContext http, LocalTransactionState decision)
    {
        var group = Route(http, "group");
        var transactionId = Route(http, "transactionId");
        var result = await _admin.EndTransactionAsync(group, transactionId, decision, http.RequestAborted);
        LogAction(http, $"{(decision == LocalTransactionState.Commit ? "committed" : "rolled back")} transaction {transactionId} of producer group '{group}'");
        await OkAsync(http, new { transactionId = result.TransactionId, state = result.State, topic = result.Queue.Topic, queueId = result.Queue.QueueId, queueOffset = result.QueueOffset });
    }

    // ---- messages ---------------------------------------------------------------------------------

    private async Task MessageByIdAsync(HttpContext http)
    {
        var msgId = Route(http, "msgId");
        var messages = await _admin.QueryMessageByIdAsync(msgId, cancellationToken: http.RequestAborted);
        if (messages.Count == 0)
        {
            throw new MQException(MQErrorCode.MessageNotFound, $"no stored message has id '{msgId}' (never sent, or removed by retention)");
        }
        await OkAsync(http, messages.Select(m => MessageView.Of(m)));
    }

    private async Task MessagesByKeyAsync(HttpContext http)
    {
        var topic = Required(http, "topic");
        var key = Required(http, "key");
        var to = OptionalTime(http, "to") ?? DateTimeOffset.UtcNow.AddMinutes(1);
        var from = OptionalTime(http, "from") ?? to.AddDays(-3);
        var max = OptionalInt(http, "max") ?? 64;
        var messages = await _admin.QueryMessageByKeyAsync(topic, key, from, to, max, http.RequestAborted);
        await OkAsync(http, messages.Select(m => MessageView.Of(m, MessageView.PreviewBytes)));
    }

    private async Task MessageByOffsetAsync(HttpContext http)
    {
        var topic = Required(http, "topic");
        var queue = OptionalInt(http, "queue") ?? throw ApiErrors.BadRequest("query parameter \"queue\" (the queue id) is required");
        var offset = OptionalLong(http, "offset") ?? throw ApiErrors.BadRequest("query parameter \"offset\" is required");
        var message = await _admin.QueryMessageByOffsetAsync(topic, queue, offset, http.RequestAborted);
        await OkAsync(http, MessageView.Of(message));
    }

    private async Task MessageTrackAsync(HttpContext http)
    {
        var topic = Required(http, "topic");
        var queue = OptionalInt(http, "queue") ?? throw ApiErrors.BadRequest("query parameter \"queue\" (the queue id) is required");
        var offset = OptionalLong(http, "offset") ?? throw ApiErrors.BadRequest("query parameter \"offset\" is required");
        var tracks = await _admin.TrackMessageAsync(topic, queue, offset, http.RequestAborted);
        await OkAsync(http, tracks.Select(t => new { group = t.Group, status = t.Type.ToString(), committedOffset = t.CommittedOffset, detail = t.Detail }));
    }

    private async Task ResendMessageAsync(HttpContext http)
    {
        var request = await ReadAsync<ResendMessageRequest>(http);
        var group = request.Group ?? throw ApiErrors.BadRequest("a resend needs the \"group\" that gets the message again");
        var topic = request.Topic ?? throw ApiErrors.BadRequest("a resend needs the message's \"topic\"");
        var queue = request.QueueId ?? throw ApiErrors.BadRequest("a resend needs the message's \"queueId\"");
        var offset = request.QueueOffset ?? throw ApiErrors.BadRequest("a resend needs the message's \"queueOffset\"");
        var result = await _admin.ResendMessageAsync(group, topic, queue, offset, http.RequestAborted);
        LogAction(http, $"resent {result.MsgId} ({topic}:{queue} offset {offset}) to group '{group}'");
        await OkAsync(http, new { msgId = result.MsgId, group, topic = result.Topic });
    }

    private async Task SendAsync(HttpContext http)
    {
        var request = await ReadAsync<SendMessageRequest>(http);
        var topic = request.Topic ?? throw ApiErrors.BadRequest("a message needs a \"topic\"");
        var body = request.Body ?? throw ApiErrors.BadRequest("a message needs a \"body\" (UTF-8 text)");
        var message = new Message(topic, body)
        {
            Tag = string.IsNullOrEmpty(request.Tag) ? null : request.Tag,
            Keys = [.. request.Keys ?? []],
            DelayLevel = request.DelayLevel ?? 0,
            DeliverAt = request.DeliverAt,
            MessageGroup = string.IsNullOrEmpty(request.MessageGroup) ? null : request.MessageGroup,
        };
        foreach (var (key, value) in request.Properties ?? new Dictionary<string, string>())
        {
            message.Properties[key] = value;
        }
        var sent = await _producer.Value.SendAsync(message, http.RequestAborted);
        await OkAsync(http, new
        {
            status = sent.Status,
            msgId = sent.MsgId,
            topic = sent.Queue.Topic,
            queueId = sent.Queue.QueueId,
            queueOffset = sent.QueueOffset,
            storedAt = sent.StoredAt,
            scheduledOn = sent.ScheduleQueue?.ToString(),
        });
    }

    // ---- delay ------------------------------------------------------------------------------------

    private async Task DelayAsync(HttpContext http)
    {
        var table = await _admin.GetDelayTableAsync(http.RequestAborted);
        var schedules = await _admin.GetScheduleStatusAsync(http.RequestAborted);
        await OkAsync(http, new
        {
            levels = table.Delays.Select((d, i) => new { level = i + 1, delay = Delay.DelayLevelTable.Format(d), delayMs = (long)d.TotalMilliseconds }),
            schedules = schedules.Select(s => new
            {
                kind = s.Kind,
                id = s.Id,
                delay = s.Delay is { } d ? Delay.DelayLevelTable.Format(d) : null,
                pending = s.Pending,
                nextDueAt = s.NextDueAt,
                delivered = s.Delivered,
                lastDeliveredAt = s.LastDeliveredAt,
                lateness = new
                {
                    samples = s.Lateness.Samples,
                    p50Ms = s.Lateness.P50.TotalMilliseconds,
                    p99Ms = s.Lateness.P99.TotalMilliseconds,
                    maxMs = s.Lateness.Max.TotalMilliseconds,
                },
            }),
        });
    }

    // ---- plumbing ---------------------------------------------------------------------------------

    private async Task HandleErrorsAsync(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http);
        }
        catch (MQException e) when (!http.Response.HasStarted)
        {
            await WriteAsync(http, (int)ApiErrors.StatusOf(e.Code), ApiError.Of(e));
        }
        catch (BadHttpRequestException e) when (!http.Response.HasStarted)
        {
            await WriteAsync(http, StatusCodes.Status400BadRequest, ApiError.Of(ApiErrors.BadRequest(e.Message)));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The browser went away; nobody is left to answer.
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            DashboardLog.UnexpectedFailure(logger, e, http.Request.Method, http.Request.Path);
            await WriteAsync(http, StatusCodes.Status500InternalServerError,
                new ApiError(nameof(MQErrorCode.BrokerError), (int)MQErrorCode.BrokerError, $"the request failed: {e.GetType().Name}: {e.Message}"));
        }
    }

    private void LogAction(HttpContext http, string action) =>
        DashboardLog.AdminAction(logger, http.User.Identity?.Name ?? "anonymous", action);

    private static Task OkAsync(HttpContext http, object value) => WriteAsync(http, StatusCodes.Status200OK, value);

    internal static async Task WriteAsync(HttpContext http, int status, object value)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(http.Response.Body, value, value.GetType(), Json, http.RequestAborted);
    }

    private static async Task<T> ReadAsync<T>(HttpContext http) where T : class
    {
        // A JSON content type makes a cross-site POST need a CORS preflight, which this API never grants: another web
        // page open in the operator's browser cannot create topics or send messages through it (there is no login yet).
        if (!http.Request.HasJsonContentType())
        {
            throw ApiErrors.BadRequest($"send the request body as JSON with Content-Type: application/json (got '{http.Request.ContentType}')");
        }
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(http.Request.Body, Json, http.RequestAborted)
                ?? throw ApiErrors.BadRequest("the request body is JSON null; send an object");
        }
        catch (JsonException e)
        {
            throw ApiErrors.BadRequest($"the request body is not the JSON object expected: {e.Message}");
        }
    }

    private static string Route(HttpContext http, string name) => (string)http.Request.RouteValues[name]!;

    private static string Required(HttpContext http, string name) =>
        http.Request.Query[name].FirstOrDefault() is { Length: > 0 } value ? value : throw ApiErrors.BadRequest($"query parameter \"{name}\" is required");

    private static string? Optional(HttpContext http, string name) =>
        http.Request.Query[name].FirstOrDefault() is { Length: > 0 } value ? value : null;

    private static int? OptionalInt(HttpContext http, string name) => OptionalNumber<int>(http, name);

    private static long? OptionalLong(HttpContext http, string name) => OptionalNumber<long>(http, name);

    private static T? OptionalNumber<T>(HttpContext http, string name) where T : struct, IBinaryInteger<T> => Optional(http, name) is { } text
        ? T.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : throw ApiErrors.BadRequest($"query parameter \"{name}\" is '{text}', not a whole number")
        : null;

    private static bool? OptionalBool(HttpContext http, string name) => Optional(http, name) is { } text
        ? bool.TryParse(text, out var value) ? value : throw ApiErrors.BadRequest($"query parameter \"{name}\" is '{text}'; use true or false")
        : null;

    private static DateTimeOffset? OptionalTime(HttpContext http, string name) => Optional(http, name) is { } text
        ? DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : throw ApiErrors.BadRequest($"query parameter \"{name}\" is '{text}', not a time; use ISO 8601, e.g. 2030-01-01T12:00:00Z")
        : null;

    private static T ParseEnum<T>(string text, string field) where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            // A flags enum's None (a permission of 0) is no topic's setting, so it is not offered.
            : throw ApiErrors.BadRequest($"\"{field}\" is '{text}'; allowed: {string.Join(", ", Enum.GetNames<T>().Where(n => n != "None"))}");
}
