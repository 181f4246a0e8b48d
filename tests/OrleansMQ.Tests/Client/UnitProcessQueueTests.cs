using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Client;

/// <summary>
/// The push consumer's offset bookkeeping: the offset it commits is the smallest one not yet consumed, so a
/// message that is slow, failing or waiting for redelivery is never skipped by a commit.
/// </summary>
public sealed class UnitProcessQueueTests
{
    private static readonly MessageQueue Queue = new("t", 0);

    internal static MessageExt At(long offset, string body = "x", IReadOnlyDictionary<string, string>? properties = null) =>
        new(Queue.Topic, Queue.QueueId, offset, MessageIds.NewId(), null, [], Encoding.UTF8.GetBytes(body), properties,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 0, null, null);

    private static IReadOnlyList<MessageExt> Range(long from, int count) => [.. Enumerable.Range(0, count).Select(i => At(from + i))];

    [Fact]
    public void Before_the_start_offset_is_known_there_is_nothing_to_commit()
    {
        var pq = new ProcessQueue(Queue);

        Assert.False(pq.IsStarted);
        Assert.Equal(-1, pq.OffsetToCommit);

        pq.AdvanceTo(10);
        Assert.True(pq.IsStarted);
        Assert.Equal(10, pq.OffsetToCommit);
    }

    [Fact]
    public void The_commit_offset_is_the_smallest_unconsumed_offset_and_the_pull_position_once_all_are_consumed()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(10);
        var messages = Range(10, 5); // offsets 10..14
        pq.PutMessages(messages, nextBeginOffset: 15);

        Assert.Equal(10, pq.OffsetToCommit);
        Assert.Equal(15, pq.NextOffset);

        // Consumed out of order: 11 and 12 finish first, 10 is still running.
        Assert.Equal(10, pq.RemoveMessages([messages[1], messages[2]]));
        Assert.Equal(13, pq.RemoveMessages([messages[0]]));
        Assert.Equal(15, pq.RemoveMessages([messages[3], messages[4]]));
        Assert.Equal(0, pq.Count);
    }

    [Fact]
    public void A_message_that_stays_unconsumed_pins_the_commit_offset_while_later_ones_are_consumed()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(0);
        var first = Range(0, 4);
        pq.PutMessages(first, 4);
        pq.RemoveMessages([first[0], first[2], first[3]]); // offset 1 was reconsumed later: it stays
        var second = Range(4, 4);
        pq.PutMessages(second, 8);
        pq.RemoveMessages(second);

        Assert.Equal(1, pq.OffsetToCommit);
        Assert.Equal(8, pq.NextOffset);
        Assert.Equal(1, pq.Count);

        Assert.Equal(8, pq.RemoveMessages([first[1]]));
    }

    [Fact]
    public void Messages_pulled_twice_are_handed_to_the_listener_once()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(0);
        var messages = Range(0, 3);

        var fresh = pq.PutMessages(messages, 3);
        var again = pq.PutMessages([messages[2], At(3)], 4);

        Assert.Equal(3, fresh.Count);
        Assert.Equal([3L], again.Select(m => m.QueueOffset));
        Assert.Equal(4, pq.Count);
    }

    [Fact]
    public void Flow_control_thresholds_count_cached_messages_and_their_bytes()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(0);
        pq.PutMessages([At(0, "12345"), At(1, "123", new Dictionary<string, string> { ["ab"] = "cd" })], 2);

        Assert.Equal(2, pq.Count);
        Assert.Equal(5 + 3 + 4, pq.Bytes);
        Assert.True(pq.IsOverThreshold(maxMessages: 2, maxBytes: 1000));
        Assert.True(pq.IsOverThreshold(maxMessages: 10, maxBytes: 12));
        Assert.False(pq.IsOverThreshold(maxMessages: 3, maxBytes: 13));
    }

    [Fact]
    public async Task A_dropped_queue_starts_no_listener_and_reports_idle_when_the_running_ones_end()
    {
        var pq = new ProcessQueue(Queue);
        Assert.True(pq.TryBeginConsume());
        var idle = pq.WhenNoListenersAsync();

        pq.Drop();

        Assert.True(pq.IsDropped);
        Assert.False(pq.TryBeginConsume());
        Assert.False(idle.IsCompleted);
        pq.EndConsume();
        await idle.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Reconsume_later_redelivers_the_message_and_pins_the_commit_offset_until_it_succeeds()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(0);
        var attempts = new ConcurrentDictionary<long, int>();
        var reconsumeTimes = new ConcurrentQueue<int>();
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = new DelegateListener(async (messages, _, _) =>
        {
            var message = Assert.Single(messages);
            var attempt = attempts.AddOrUpdate(message.QueueOffset, 1, (_, n) => n + 1);
            if (message.QueueOffset != 1) return ConsumeResult.Success;
            reconsumeTimes.Enqueue(message.ReconsumeTimes);
            if (attempt == 1) return ConsumeResult.ReconsumeLater;
            if (attempt == 2)
            {
                delivered.TrySetResult();
                await release.Task;
                throw new InvalidOperationException("a listener that throws counts as ReconsumeLater");
            }
            return ConsumeResult.Success;
        });
        var service = new ConsumeMessageConcurrentlyService(listener, "g", threadCount: 4, batchMaxSize: 1, NullLogger.Instance);
        service.Start();
        try
        {
            service.Submit(pq, pq.PutMessages(Range(0, 5), 5));

            // Attempt 2 comes after the first backoff; meanwhile everything else was consumed.
            await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(1, pq.OffsetToCommit);
            Assert.Equal([0L, 1, 2, 3, 4], attempts.Keys.Order());
            release.SetResult();

            await Eventually.PollAsync(() => Task.FromResult(pq.OffsetToCommit), o => o == 5, TimeSpan.FromSeconds(15), "offset 1 to be consumed at its third attempt");
            Assert.Equal(3, attempts[1]);
            Assert.Equal([0, 1, 2], reconsumeTimes);
            Assert.All(attempts.Where(a => a.Key != 1), a => Assert.Equal(1, a.Value));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_partial_success_redelivers_only_the_messages_after_the_ack_index()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(0);
        var calls = new ConcurrentQueue<long[]>();
        var listener = new DelegateListener((messages, context, _) =>
        {
            calls.Enqueue([.. messages.Select(m => m.QueueOffset)]);
            if (calls.Count == 1) context.AckIndex = 1; // offsets 0 and 1 consumed, 2 and 3 not
            return Task.FromResult(ConsumeResult.Success);
        });
        var service = new ConsumeMessageConcurrentlyService(listener, "g", threadCount: 1, batchMaxSize: 4, NullLogger.Instance);
        service.Start();
        try
        {
            service.Submit(pq, pq.PutMessages(Range(0, 4), 4));
            await Eventually.PollAsync(() => Task.FromResult(pq.OffsetToCommit), o => o == 4, TimeSpan.FromSeconds(10), "the redelivered tail to be consumed");

            Assert.Equal([[0L, 1, 2, 3], [2L, 3]], calls);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private sealed class DelegateListener(Func<IReadOnlyList<MessageExt>, ConsumeConcurrentlyContext, CancellationToken, Task<ConsumeResult>> consume)
        : IMessageListenerConcurrently
    {
        public Task<ConsumeResult> ConsumeMessageAsync(IReadOnlyList<MessageExt> messages, ConsumeConcurrentlyContext context, CancellationToken cancellationToken) =>
            consume(messages, context, cancellationToken);
    }
}
