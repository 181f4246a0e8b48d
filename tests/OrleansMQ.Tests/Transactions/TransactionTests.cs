using System.Collections.Concurrent;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Client;
using OrleansMQ.Tests.Delay;
using OrleansMQ.Tests.Infrastructure;
using OrleansMQ.Topics;
using OrleansMQ.Transactions;
using OrleansMQ.Validation;
using static OrleansMQ.Tests.Infrastructure.TestData;
using static OrleansMQ.Tests.Transactions.TransactionTestKit;

namespace OrleansMQ.Tests.Transactions;

/// <summary>
/// Transaction messages on the shared cluster (first check-back 500 ms after the half message, then every 500 ms, at
/// most 3): commit shows the message once, rollback never, unknown is settled by a check-back with any live producer of
/// the group, a group nobody answers for is discarded and recorded, and a coordinator that lost its activation (or
/// crashed between deciding and appending) finishes its work.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class TransactionTests(BrokerClusterFixture fixture)
{
    private readonly IClusterClient _grains = fixture.Client;
    private readonly AdminClient _admin = new(fixture.Client);

    [Fact]
    public async Task Commit_makes_the_message_visible_to_a_consumer_exactly_once_with_its_id_keys_and_properties()
    {
        var topic = await _grains.CreateTopicAsync("tx-commit", 4);
        var group = UniqueName("pg-commit");
        var listener = ScriptedListener.Answering(LocalTransactionState.Commit);
        await using var producer = new TransactionProducer(_grains, Options(group), listener);
        var message = new Message(topic, "order 42 paid") { Tag = "paid", Keys = ["order-42"] };
        message.Properties["region"] = "eu";

        var sent = await producer.SendMessageInTransactionAsync(message, arg: "db-row-42");

        Assert.Equal(LocalTransactionState.Commit, sent.LocalTransactionState);
        Assert.Equal(TransactionState.Committed, sent.State);
        Assert.Equal(sent.MsgId, sent.TransactionId);
        Assert.NotNull(sent.QueueOffset);
        Assert.Same(message, Assert.Single(listener.Executed));

        var received = new ConcurrentQueue<MessageExt>();
        await using var consumer = new PushConsumer(_grains, PushConsumerTests.Options(UniqueName("g-commit")));
        consumer.Subscribe(topic);
        consumer.RegisterMessageListener((messages, _, _) =>
        {
            foreach (var m in messages) received.Enqueue(m);
            return Task.FromResult(ConsumeResult.Success);
        });
        await consumer.StartAsync();
        await Eventually.PollAsync(() => Task.FromResult(received.Count), n => n >= 1, Guard, "the committed message to be consumed");

        var got = Assert.Single(received);
        Assert.Equal(sent.MsgId, got.MsgId);
        Assert.Equal(sent.Queue, got.Queue);
        Assert.Equal(sent.QueueOffset, got.QueueOffset);
        Assert.Equal("paid", got.Tag);
        Assert.Equal(["order-42"], got.Keys);
        Assert.Equal("order 42 paid", got.BodyAsString());
        Assert.Equal("eu", got.GetProperty("region"));
        Assert.Equal(group, got.ProducerGroup);
        Assert.Null(got.GetProperty(MessageTypeRules.TransactionProperty)); // the half-message mark is gone, as in RocketMQ
        Assert.Equal(1, await CountStoredAsync(fixture.Database, sent.MsgId));

        var info = await InfoAsync(_admin, group, sent.TransactionId);
        Assert.Equal(TransactionState.Committed, info.State);
        Assert.Equal(TransactionResolver.Producer, info.ResolvedBy);
        Assert.Equal(sent.QueueOffset, info.QueueOffset);
        Assert.Null(info.NextCheckAt);
    }

    [Fact]
    public async Task A_half_message_is_invisible_until_its_local_transaction_commits()
    {
        var topic = await _grains.CreateTopicAsync("tx-invisible", 1);
        var group = UniqueName("pg-invisible");
        var release = new TaskCompletionSource<LocalTransactionState>(TaskCreationOptions.RunContinuationsAsynchronously);
        var executing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = new ScriptedListener(_ => { executing.TrySetResult(); return release.Task; });
        await using var producer = new TransactionProducer(_grains, Options(group), listener);

        var send = producer.SendMessageInTransactionAsync(new Message(topic, "not yet"));
        await executing.Task.WaitAsync(Guard);

        // Stored (durable) but not in the queue: a consumer at the queue sees nothing, not even after check-backs.
        var pending = Assert.Single(await _admin.ListTransactionsAsync(group));
        Assert.Equal(TransactionState.Pending, pending.State);
        await Eventually.PollAsync(() => Task.FromResult(listener.Checked.Count), n => n >= 1, Guard, "a check-back of the pending transaction");
        var pull = await _grains.Queue(topic, 0).Pull(new PullRequest(UniqueName("g"), 0, 32));
        Assert.Equal(PullStatus.NoNewMessage, pull.Status);
        Assert.Equal(0, await fixture.Database.CountMessagesAsync(topic));

        release.SetResult(LocalTransactionState.Commit);
        var sent = await send;
        Assert.Equal(TransactionState.Committed, sent.State);
        var visible = await ScheduleTestKit.WaitForMessagesAsync(_grains, topic, 1, 1, Guard);
        Assert.Equal(sent.MsgId, Assert.Single(visible).MsgId);
    }

    [Fact]
    public async Task Rollback_is_never_visible_and_stays_on_record()
    {
        var topic = await _grains.CreateTopicAsync("tx-rollback", 2);
        var group = UniqueName("pg-rollback");
        var listener = ScriptedListener.Answering(LocalTransactionState.Rollback, check: LocalTransactionState.Commit);
        await using var producer = new TransactionProducer(_grains, Options(group), listener);

        var sent = await producer.SendMessageInTransactionAsync(new Message(topic, "cancelled order"));

        Assert.Equal(TransactionState.RolledBack, sent.State);
        Assert.Null(sent.QueueOffset);
        var info = await InfoAsync(_admin, group, sent.TransactionId);
        Assert.Equal(TransactionState.RolledBack, info.State);
        Assert.Null(info.NextCheckAt);
        // A commit after the rollback is refused, and nothing ever reaches the log.
        var late = await Assert.ThrowsAsync<MQException>(() => _admin.EndTransactionAsync(group, sent.TransactionId, LocalTransactionState.Commit));
        Assert.Equal(MQErrorCode.TransactionAlreadyResolved, late.Code);
        Assert.Empty(listener.Checked);
        Assert.Equal(0, await CountStoredAsync(fixture.Database, sent.MsgId));
        Assert.Empty(await ScheduleTestKit.ReadAllAsync(_grains, topic, 2));
    }

    [Theory]
    [InlineData(LocalTransactionState.Commit, TransactionState.Committed)]
    [InlineData(LocalTransactionState.Rollback, TransactionState.RolledBack)]
    public async Task An_unknown_transaction_is_resolved_by_its_check_back(LocalTransactionState answer, TransactionState expected)
    {
        var topic = await _grains.CreateTopicAsync("tx-check", 2);
        var group = UniqueName("pg-check");
        var listener = ScriptedListener.Answering(LocalTransactionState.Unknown, check: answer);
        await using var producer = new TransactionProducer(_grains, Options(group), listener);
        var message = new Message(topic, "maybe") { Keys = ["k-1"] };
        message.Properties["region"] = "eu";

        var sent = await producer.SendMessageInTransactionAsync(message);
        Assert.Equal(TransactionState.Pending, sent.State);

        var info = await WaitForStateAsync(_admin, group, sent.TransactionId, expected);
        Assert.Equal(TransactionResolver.CheckBack, info.ResolvedBy);
        var asked = Assert.Single(listener.Checked);
        Assert.Equal(sent.MsgId, asked.MsgId);
        Assert.Equal(sent.Queue, asked.Queue);
        Assert.Equal(["k-1"], asked.Keys);
        Assert.Equal("eu", asked.GetProperty("region"));
        Assert.Equal("1", asked.GetProperty(TransactionRules.CheckTimesProperty));
        Assert.Equal(expected == TransactionState.Committed ? 1 : 0, await CountStoredAsync(fixture.Database, sent.MsgId));
    }

    [Fact]
    public async Task An_exception_in_the_local_transaction_counts_as_unknown_and_is_checked_back()
    {
        var topic = await _grains.CreateTopicAsync("tx-throw", 1);
        var group = UniqueName("pg-throw");
        var listener = new ScriptedListener(_ => throw new InvalidOperationException("the database went away"), _ => LocalTransactionState.Commit);
        await using var producer = new TransactionProducer(_grains, Options(group), listener);

        var sent = await producer.SendMessageInTransactionAsync(new Message(topic, "x"));

        Assert.Equal(LocalTransactionState.Unknown, sent.LocalTransactionState);
        Assert.Equal(TransactionState.Pending, sent.State);
        await WaitForStateAsync(_admin, group, sent.TransactionId, TransactionState.Committed);
        Assert.Equal(1, await CountStoredAsync(fixture.Database, sent.MsgId));
    }

    [Fact]
    public async Task The_check_back_reaches_another_producer_of_the_group_when_the_sender_is_gone()
    {
        var topic = await _grains.CreateTopicAsync("tx-other", 2);
        var group = UniqueName("pg-other");
        var sender = ScriptedListener.Answering(LocalTransactionState.Unknown, check: LocalTransactionState.Rollback);
        var survivor = ScriptedListener.Answering(LocalTransactionState.Unknown, check: LocalTransactionState.Commit);
        await using var other = new TransactionProducer(_grains, Options(group), survivor);
        await other.StartAsync();

        string transactionId;
        await using (var first = new TransactionProducer(_grains, Options(group), sender))
        {
            var message = new Message(topic, "sent by the first");
            // The check comes after the sender left (as after a crash), so only the other instance can answer it.
            message.Properties[TransactionRules.CheckImmunityTimeProperty] = "1";
            transactionId = (await first.SendMessageInTransactionAsync(message)).TransactionId;
        }

        var info = await WaitForStateAsync(_admin, group, transactionId, TransactionState.Committed);
        Assert.Equal(TransactionResolver.CheckBack, info.ResolvedBy);
        Assert.Empty(sender.Checked);
        Assert.Equal(transactionId, Assert.Single(survivor.Checked).MsgId);
        Assert.Equal(1, await CountStoredAsync(fixture.Database, transactionId));
    }

    [Fact]
    public async Task A_transaction_still_unknown_after_the_maximum_checks_is_discarded_and_recorded()
    {
        var topic = await _grains.CreateTopicAsync("tx-max", 1);
        var group = UniqueName("pg-max");
        var listener = ScriptedListener.Answering(LocalTransactionState.Unknown, check: LocalTransactionState.Unknown);
        await using var producer = new TransactionProducer(_grains, Options(group), listener);

        var sent = await producer.SendMessageInTransactionAsync(new Message(topic, "never decided"));

        var info = await WaitForStateAsync(_admin, group, sent.TransactionId, TransactionState.Discarded);
        Assert.Equal(TestSiloConfigurator.TransactionCheckMax, info.CheckTimes);
        Assert.Equal(TransactionResolver.Broker, info.ResolvedBy);
        Assert.Contains("3 check(s)", info.Note);
        Assert.Equal(["1", "2", "3"], listener.Checked.Select(m => m.GetProperty(TransactionRules.CheckTimesProperty)));
        Assert.Equal(0, await CountStoredAsync(fixture.Database, sent.MsgId));
        Assert.Contains(await _admin.ListTransactionsAsync(state: TransactionState.Discarded, maxCount: 1000), t => t.TransactionId == sent.TransactionId);
        var late = await Assert.ThrowsAsync<MQException>(() => _admin.EndTransactionAsync(group, sent.TransactionId, LocalTransactionState.Commit));
        Assert.Equal(MQErrorCode.TransactionAlreadyResolved, late.Code);
    }

    [Fact]
    public async Task With_no_live_producer_a_deactivated_coordinator_is_woken_and_its_checks_count_until_the_transaction_is_discarded()
    {
        var topic = await _grains.CreateTopicAsync("tx-orphan", 1);
        var group = UniqueName("pg-orphan");
        string transactionId;
        await using (var producer = new TransactionProducer(_grains, Options(group), ScriptedListener.Answering(LocalTransactionState.Unknown)))
        {
            var message = new Message(topic, "orphan");
            message.Properties[TransactionRules.CheckImmunityTimeProperty] = "3";
            transactionId = (await producer.SendMessageInTransactionAsync(message)).TransactionId;
        }
        // Nothing calls the group's coordinator after this: only the watchdog can wake a new activation.
        await DeactivateCoordinatorAsync(_grains, fixture.Database, group, transactionId, "pending");

        var info = await WaitForStateAsync(_admin, group, transactionId, TransactionState.Discarded);
        Assert.Equal(TestSiloConfigurator.TransactionCheckMax, info.CheckTimes);
        Assert.Equal(0, await CountStoredAsync(fixture.Database, transactionId));
    }

    [Fact]
    public async Task A_reactivated_coordinator_still_checks_back_its_pending_transactions()
    {
        var topic = await _grains.CreateTopicAsync("tx-reactivated", 1);
        var group = UniqueName("pg-reactivated");
        var message = new Message(topic, "survives the activation");
        message.Properties[TransactionRules.CheckImmunityTimeProperty] = "3";
        TransactionSendResult sent;
        await using (var sender = new TransactionProducer(_grains, Options(group), ScriptedListener.Answering(LocalTransactionState.Unknown)))
        {
            sent = await sender.SendMessageInTransactionAsync(message);
        }
        // The activation that stored it (and armed its timer) goes; a producer that starts later answers the check.
        await DeactivateCoordinatorAsync(_grains, fixture.Database, group, sent.TransactionId, "pending");
        var listener = ScriptedListener.Answering(LocalTransactionState.Unknown, check: LocalTransactionState.Commit);
        await using var restarted = new TransactionProducer(_grains, Options(group), listener);
        await restarted.StartAsync();

        var info = await WaitForStateAsync(_admin, group, sent.TransactionId, TransactionState.Committed);
        Assert.Equal(TransactionResolver.CheckBack, info.ResolvedBy);
        Assert.Equal(sent.MsgId, Assert.Single(listener.Checked).MsgId);
        Assert.Equal(1, await CountStoredAsync(fixture.Database, sent.MsgId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_commit_left_half_done_by_a_crash_is_appended_exactly_once(bool appendedBeforeTheCrash)
    {
        var topic = await _grains.CreateTopicAsync("tx-crash", 2);
        var group = UniqueName("pg-crash");
        var listener = ScriptedListener.Answering(LocalTransactionState.Unknown);
        var message = new Message(topic, "decided, then the silo died");
        message.Properties[TransactionRules.CheckImmunityTimeProperty] = "60";
        TransactionSendResult sent;
        await using (var producer = new TransactionProducer(_grains, Options(group), listener))
        {
            sent = await producer.SendMessageInTransactionAsync(message);
        }
        long? existingOffset = null;
        if (appendedBeforeTheCrash)
        {
            // The append landed, the "committed" mark did not.
            var data = new MessageData(sent.MsgId, null, [], "decided, then the silo died"u8.ToArray(), null, DateTimeOffset.UtcNow, "test-host", group);
            existingOffset = (await _grains.Queue(topic, sent.Queue.QueueId).Append(Batch(data))).FirstOffset;
        }
        // The activation that decided dies; the next one (woken by the watchdog) finishes the commit.
        await DeactivateCoordinatorAsync(_grains, fixture.Database, group, sent.TransactionId, "committing");
        var info = await WaitForStateAsync(_admin, group, sent.TransactionId, TransactionState.Committed);

        Assert.Equal(1, await CountStoredAsync(fixture.Database, sent.MsgId));
        var stored = Assert.Single(await ScheduleTestKit.ReadAllAsync(_grains, topic, 2));
        Assert.Equal(sent.MsgId, stored.MsgId);
        Assert.Equal(sent.Queue, stored.Queue);
        Assert.Equal(stored.QueueOffset, info.QueueOffset);
        if (existingOffset is { } offset) Assert.Equal(offset, stored.QueueOffset);
        // Committing again (the producer retrying its end, an operator) changes nothing.
        var again = await _admin.EndTransactionAsync(group, sent.TransactionId, LocalTransactionState.Commit);
        Assert.Equal(TransactionState.Committed, again.State);
        Assert.Equal(1, await CountStoredAsync(fixture.Database, sent.MsgId));
        Assert.Empty(listener.Checked);
    }

    [Fact]
    public async Task An_operator_commits_a_pending_transaction_by_hand()
    {
        var topic = await _grains.CreateTopicAsync("tx-operator", 1);
        var group = UniqueName("pg-operator");
        await using var producer = new TransactionProducer(_grains, Options(group), ScriptedListener.Answering(LocalTransactionState.Unknown));
        var message = new Message(topic, "stuck");
        message.Properties[TransactionRules.CheckImmunityTimeProperty] = "60";
        var sent = await producer.SendMessageInTransactionAsync(message);

        var ended = await _admin.EndTransactionAsync(group, sent.TransactionId, LocalTransactionState.Commit);

        Assert.Equal(TransactionState.Committed, ended.State);
        Assert.Equal(TransactionResolver.Operator, (await InfoAsync(_admin, group, sent.TransactionId)).ResolvedBy);
        Assert.Equal(sent.MsgId, Assert.Single(await ScheduleTestKit.ReadAllAsync(_grains, topic, 1)).MsgId);
        var missing = await Assert.ThrowsAsync<MQException>(() => _admin.EndTransactionAsync(group, "no-such-transaction", LocalTransactionState.Rollback));
        Assert.Equal(MQErrorCode.TransactionNotFound, missing.Code);
    }

    [Fact]
    public async Task Bad_transaction_sends_fail_with_typed_errors_and_store_nothing()
    {
        var topic = await _grains.CreateTopicAsync("tx-bad", 2);
        var fifo = UniqueName("tx-fifo");
        await _admin.CreateTopicAsync(fifo, 2, TopicMessageType.Fifo);
        var group = UniqueName("pg-bad");
        var listener = ScriptedListener.Answering(LocalTransactionState.Commit);

        var noGroup = Assert.Throws<MQException>(() => new TransactionProducer(_grains, new ProducerOptions(), listener));
        Assert.Equal(MQErrorCode.InvalidTransaction, noGroup.Code);

        await using var producer = new TransactionProducer(_grains, Options(group), listener);
        var delayed = await Assert.ThrowsAsync<MQException>(() => producer.SendMessageInTransactionAsync(new Message(topic, "x") { DelayLevel = 2 }));
        Assert.Equal(MQErrorCode.InvalidTransaction, delayed.Code);
        var timer = await Assert.ThrowsAsync<MQException>(() => producer.SendMessageInTransactionAsync(new Message(topic, "x") { DeliverAfter = TimeSpan.FromSeconds(5) }));
        Assert.Equal(MQErrorCode.InvalidTransaction, timer.Code);
        var timerProperty = new Message(topic, "x");
        timerProperty.Properties["TIMER_DELAY_SEC"] = "5";
        // RocketMQ's timer mark set by hand is refused as a property, before it could make the transaction a delayed one.
        Assert.Equal(MQErrorCode.InvalidProperties, (await Assert.ThrowsAsync<MQException>(() => producer.SendMessageInTransactionAsync(timerProperty))).Code);
        var toFifo = await Assert.ThrowsAsync<MQException>(() => producer.SendMessageInTransactionAsync(new Message(fifo, "x")));
        Assert.Equal(MQErrorCode.MessageTypeMismatch, toFifo.Code);
        var immunity = new Message(topic, "x");
        immunity.Properties[TransactionRules.CheckImmunityTimeProperty] = "soon";
        Assert.Equal(MQErrorCode.InvalidProperties, (await Assert.ThrowsAsync<MQException>(() => producer.SendMessageInTransactionAsync(immunity))).Code);

        // The broker refuses the same on its own, for a client that skips the producer's checks.
        var coordinator = _grains.GetGrain<ITransactionCoordinatorGrain>(group);
        var withDelay = Message("x", properties: new Dictionary<string, string> { [MessageTypeRules.DelayLevelProperty] = "2" });
        Assert.Equal(MQErrorCode.InvalidProperties, // DELAY is the broker's own property, refused before the transaction rule
            (await Assert.ThrowsAsync<MQException>(() => coordinator.Prepare(new HalfMessageRequest(new MessageQueue(topic, 0), withDelay)))).Code);
        var withTimer = Message("x", properties: new Dictionary<string, string> { ["TIMER_DELAY_SEC"] = "5" });
        Assert.Equal(MQErrorCode.InvalidProperties, // so is RocketMQ's timer mark
            (await Assert.ThrowsAsync<MQException>(() => coordinator.Prepare(new HalfMessageRequest(new MessageQueue(topic, 0), withTimer)))).Code);
        Assert.Equal(MQErrorCode.MessageTypeMismatch,
            (await Assert.ThrowsAsync<MQException>(() => coordinator.Prepare(new HalfMessageRequest(new MessageQueue(fifo, 0), Message("x"))))).Code);
        Assert.Equal(MQErrorCode.QueueNotFound,
            (await Assert.ThrowsAsync<MQException>(() => coordinator.Prepare(new HalfMessageRequest(new MessageQueue(topic, 7), Message("x"))))).Code);
        Assert.Equal(MQErrorCode.InvalidArgument,
            (await Assert.ThrowsAsync<MQException>(() => coordinator.EndTransaction(new EndTransactionRequest("x", (LocalTransactionState)7, TransactionResolver.Producer)))).Code);

        Assert.Empty(listener.Executed);
        Assert.Equal(0, await CountHalfMessagesAsync(fixture.Database, group));
        Assert.Equal(0, await fixture.Database.CountMessagesAsync(topic));
        Assert.Equal(0, await fixture.Database.CountMessagesAsync(fifo));
    }
}
