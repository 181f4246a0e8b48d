using Npgsql;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Topics;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Broker;

[Collection(BrokerCollection.Name)]
public sealed class TopicTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly PostgresDatabase _db = fixture.Database;

    [Fact]
    public async Task Created_topic_serves_its_config_route_and_status()
    {
        var name = UniqueName("topic-create");
        var topic = _grains.Topic(name);

        var created = await topic.Create(new TopicConfig(name, 3, TopicPermission.ReadWrite, TopicMessageType.Fifo, 24));

        Assert.Equal(name, created.Name);
        Assert.Equal(3, created.Queues);
        Assert.Equal(TopicMessageType.Fifo, created.MessageType);
        Assert.Equal(24, created.RetentionHours);
        Assert.NotEqual(default, created.CreatedAt);
        Assert.Equal(created, await topic.GetConfig());
        Assert.Equal(new TopicRoute(name, 3, TopicPermission.ReadWrite, TopicMessageType.Fifo), await topic.GetRoute(autoCreate: false));
        Assert.Equal(1, await _db.CountTopicRowsAsync(name));

        var empty = await topic.GetStatus();
        Assert.Equal([0, 1, 2], empty.Select(s => s.QueueId));
        Assert.All(empty, s => Assert.Equal((0L, 0L, (DateTimeOffset?)null), (s.MinOffset, s.MaxOffset, s.LastStoredAt)));

        await _grains.Queue(name, 1).AppendAsync(2);
        var status = await topic.GetStatus();
        Assert.Equal(2, status[1].MaxOffset);
        Assert.Equal(0, status[1].MinOffset);
        Assert.NotNull(status[1].LastStoredAt);
        Assert.Equal(0, status[0].MaxOffset);
        Assert.Equal(0, status[2].MaxOffset);
    }

    [Fact]
    public async Task Creating_an_existing_topic_fails_with_TopicAlreadyExists_and_keeps_the_original()
    {
        var name = await _grains.CreateTopicAsync("topic-twice", queues: 2);

        var e = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(name).Create(new TopicConfig(name, 8)));

        Assert.Equal(MQErrorCode.TopicAlreadyExists, e.Code);
        Assert.Equal(2, (await _grains.Topic(name).GetRoute(autoCreate: false)).Queues);
    }

    [Fact]
    public async Task Update_grows_the_queues_and_changes_retention_and_type_keeping_every_message()
    {
        var name = await _grains.CreateTopicAsync("topic-update", queues: 2);
        await _grains.Queue(name, 0).AppendAsync(3);
        await _grains.Queue(name, 1).AppendAsync(2);
        await _grains.Queue(name, 0).CommitOffset("group-update", 2, flush: true);

        var updated = await _grains.Topic(name).Update(new TopicUpdate(Queues: 4, RetentionHours: 12, MessageType: TopicMessageType.Fifo));

        Assert.Equal((4, TopicPermission.ReadWrite, TopicMessageType.Fifo, 12), (updated.Queues, updated.Permission, updated.MessageType, updated.RetentionHours));
        Assert.Equal((4, 6, (int)TopicMessageType.Fifo, 12), await _db.ReadTopicRowAsync(name));
        Assert.Equal(new TopicRoute(name, 4, TopicPermission.ReadWrite, TopicMessageType.Fifo), await _grains.Topic(name).GetRoute(autoCreate: false));
        Assert.Equal([3L, 2L, 0L, 0L], (await _grains.Topic(name).GetStatus()).Select(q => q.MaxOffset));
        Assert.Equal(2, await _grains.Queue(name, 0).GetCommittedOffset("group-update"));
        var fresh = await _grains.Queue(name, 3).Append(Batch(Message("in a new queue")));
        Assert.Equal(0, fresh.FirstOffset);
        Assert.Equal(6, await _db.CountMessagesAsync(name));
    }

    [Fact]
    public async Task Read_only_topic_refuses_sends_but_serves_pulls_until_made_writable_again()
    {
        var name = await _grains.CreateTopicAsync("topic-perm", queues: 1);
        var queue = _grains.Queue(name, 0);
        await queue.AppendAsync(2);

        await _grains.Topic(name).Update(new TopicUpdate(Permission: TopicPermission.Read));

        var refused = await Assert.ThrowsAsync<MQException>(() => queue.Append(Batch(Message("while read-only"))));
        Assert.Equal(MQErrorCode.InvalidArgument, refused.Code);
        Assert.Contains("not writable", refused.Message);
        Assert.Equal(2, (await queue.Pull(new PullRequest("group-perm", 0))).Messages.Count);
        Assert.Equal(2, await _db.CountMessagesAsync(name));

        await _grains.Topic(name).Update(new TopicUpdate(Permission: TopicPermission.ReadWrite));
        Assert.Equal(2, (await queue.Append(Batch(Message("writable again")))).FirstOffset);
    }

    [Theory]
    [InlineData(1, null, null, "cannot shrink")]
    [InlineData(0, null, null, "out of range")]
    [InlineData(null, 0, null, "not one of 2")]
    [InlineData(null, 1, null, "not one of 2")]
    [InlineData(null, null, 0, "at least 1 hour")]
    [InlineData(null, null, null, "changes nothing")]
    public async Task Update_with_a_bad_value_is_refused_and_changes_nothing(int? queues, int? permission, int? retentionHours, string rule)
    {
        var name = await _grains.CreateTopicAsync("topic-update-bad", queues: 2);
        await _grains.Queue(name, 1).AppendAsync(1);

        var e = await Assert.ThrowsAsync<MQException>(() =>
            _grains.Topic(name).Update(new TopicUpdate(queues, (TopicPermission?)permission, RetentionHours: retentionHours)));

        Assert.Equal(MQErrorCode.InvalidArgument, e.Code);
        Assert.Contains(rule, e.Message);
        Assert.Equal((2, 6, 0, 72), await _db.ReadTopicRowAsync(name));
        Assert.Equal(1, await _db.CountMessagesAsync(name));
    }

    [Fact]
    public async Task Update_of_an_unknown_deleted_or_broker_topic_is_refused()
    {
        var unknown = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(UniqueName("topic-update-none")).Update(new TopicUpdate(Queues: 8)));
        Assert.Equal(MQErrorCode.TopicNotFound, unknown.Code);

        var name = await _grains.CreateTopicAsync("topic-update-deleted", queues: 1);
        await _grains.Topic(name).Delete();
        var deleted = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(name).Update(new TopicUpdate(Queues: 8)));
        Assert.Equal(MQErrorCode.TopicDeleted, deleted.Code);

        var system = await Assert.ThrowsAsync<MQException>(() => _grains.Topic("%RETRY%topic-update-group").Update(new TopicUpdate(Queues: 8)));
        Assert.Equal(MQErrorCode.ReservedName, system.Code);
    }

    [Fact]
    public async Task Route_with_autoCreate_creates_an_unknown_topic_with_4_queues()
    {
        var name = UniqueName("topic-auto");

        var route = await _grains.Topic(name).GetRoute(autoCreate: true);

        Assert.Equal(new TopicRoute(name, 4, TopicPermission.ReadWrite, TopicMessageType.Normal), route);
        Assert.Equal(1, await _db.CountTopicRowsAsync(name));
        Assert.Equal(4, (await _grains.Topic(name).GetConfig())!.Queues);
        var append = await _grains.Queue(name, 3).Append(Batch(Message("auto")));
        Assert.Equal(0, append.FirstOffset);
    }

    [Fact]
    public async Task Deleted_topic_refuses_appends_and_routes_and_its_messages_and_offsets_are_gone()
    {
        var name = await _grains.CreateTopicAsync("topic-delete", queues: 2);
        await _grains.Queue(name, 0).AppendAsync(3);
        await _grains.Queue(name, 1).AppendAsync(2);
        await _grains.Queue(name, 0).CommitOffset("group-delete", 2, flush: true);
        Assert.Equal(5, await _db.CountMessagesAsync(name));
        Assert.Equal(1, await _db.CountConsumerOffsetsAsync(name));

        await _grains.Topic(name).Delete();

        Assert.Equal(0, await _db.CountMessagesAsync(name));
        Assert.Equal(0, await _db.CountConsumerOffsetsAsync(name));
        Assert.Null(await _grains.Topic(name).GetConfig());
        var append = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(name, 0).Append(Batch(Message("late"))));
        Assert.Equal(MQErrorCode.TopicDeleted, append.Code);
        var route = await Assert.ThrowsAsync<MQException>(() => _grains.Topic(name).GetRoute(autoCreate: true));
        Assert.Equal(MQErrorCode.TopicDeleted, route.Code);
        var pull = await Assert.ThrowsAsync<MQException>(() => _grains.Queue(name, 1).Pull(new PullRequest("group-delete", 0)));
        Assert.Equal(MQErrorCode.TopicDeleted, pull.Code);
        Assert.Equal(0, await _db.CountMessagesAsync(name));
    }

    [Fact]
    public async Task Topic_created_again_after_delete_starts_at_offset_0()
    {
        var name = await _grains.CreateTopicAsync("topic-recreate", queues: 2);
        await _grains.Queue(name, 0).AppendAsync(4);
        await _grains.Queue(name, 0).CommitOffset("group-recreate", 3, flush: true);
        await _grains.Topic(name).Delete();

        var again = await _grains.Topic(name).Create(new TopicConfig(name, 2));

        Assert.Equal(2, again.Queues);
        var queue = _grains.Queue(name, 0);
        Assert.Equal(0, (await queue.GetStatus()).MaxOffset);
        Assert.Equal(-1, await queue.GetCommittedOffset("group-recreate"));
        var first = await queue.Append(Batch(Message("reborn-0"), Message("reborn-1")));
        Assert.Equal(0, first.FirstOffset);
        var pulled = await queue.Pull(new PullRequest("group-recreate", 0));
        Assert.Equal(["reborn-0", "reborn-1"], pulled.Messages.Select(m => m.BodyAsString()));
        Assert.Equal(2, await _db.CountMessagesAsync(name));
    }

    [Fact]
    public async Task Delete_while_an_append_is_being_committed_leaves_no_message_behind()
    {
        var name = await _grains.CreateTopicAsync("topic-delete-busy", queues: 1);
        var queue = _grains.Queue(name, 0);
        await queue.AppendAsync(2);

        // Make the next commit slow: an uncommitted row at the queue's next offset makes the grain's COPY
        // wait on the primary key until this transaction ends (rolled back below, so the append then succeeds).
        await using var blocker = await _db.DataSource.OpenConnectionAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO omq_message (topic, queue_id, queue_offset, msg_id, body, born_at, stored_at) VALUES ($1, 0, 2, 'blocker', '\\x01', now(), now())",
            blocker, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            await insert.ExecuteNonQueryAsync();
        }
        var append = queue.Append(Batch(Message("in flight")));
        await Eventually.PollAsync(CommitsWaitingOnALockAsync, n => n > 0, TimeSpan.FromSeconds(30), "the append's commit to wait on the blocking row");

        var delete = _grains.Topic(name).Delete();
        // A delete may wait for the in-flight commit (then it cannot finish before the rollback) or not; give it the chance.
        await Task.WhenAny(delete, Task.Delay(TimeSpan.FromSeconds(3)));
        await transaction.RollbackAsync();
        await delete.WaitAsync(TimeSpan.FromSeconds(60));
        var appendOutcome = await Record.ExceptionAsync(() => append.WaitAsync(TimeSpan.FromSeconds(60)));

        var left = await _db.CountMessagesAsync(name);
        Assert.True(left == 0, $"{left} row(s) of the deleted topic are still in omq_message; the in-flight append {(appendOutcome is null ? "was acknowledged" : "failed: " + appendOutcome.Message)}");
        await _grains.Topic(name).Create(new TopicConfig(name, 1));
        Assert.Equal(0, (await queue.Append(Batch(Message("reborn")))).FirstOffset);
    }

    private async Task<long> CommitsWaitingOnALockAsync()
    {
        await using var cmd = _db.DataSource.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'COPY omq_message%'");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
