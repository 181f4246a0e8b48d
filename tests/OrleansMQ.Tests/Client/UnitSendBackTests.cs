using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansMQ.Client;
using OrleansMQ.Delay;
using OrleansMQ.Messages;
using OrleansMQ.Retry;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Client;

/// <summary>
/// The concurrent consume service with broker-side retry, against a scripted send-back: a message the listener
/// did not consume leaves the process queue once the broker took it back, and stays (redelivered locally) only
/// when the send-back failed. Messages from the retry topic reach the listener with their original topic.
/// </summary>
public sealed class UnitSendBackTests
{
    private static readonly MessageQueue Queue = new("t", 0);

    /// <summary>A send-back that fails the first <paramref name="failures"/> calls, then records what it took.</summary>
    private sealed class ScriptedSendBack(int failures) : IConsumerSendBack
    {
        private int _calls;

        public ConcurrentQueue<MessageExt> Taken { get; } = new();

        public Task<SendBackResult> SendBackAsync(MessageExt message, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) <= failures)
            {
                throw new MQException(MQErrorCode.BrokerUnavailable, "the broker is unreachable");
            }
            Taken.Enqueue(message);
            return Task.FromResult(new SendBackResult(message.MsgId, "%RETRY%g", message.ReconsumeTimes + 1, false, 3));
        }
    }

    private sealed class DelegateListener(Func<IReadOnlyList<MessageExt>, Task<ConsumeResult>> consume) : IMessageListenerConcurrently
    {
        public Task<ConsumeResult> ConsumeMessageAsync(IReadOnlyList<MessageExt> messages, ConsumeConcurrentlyContext context, CancellationToken cancellationToken) =>
            consume(messages);
    }

    [Fact]
    public async Task A_message_the_broker_took_back_no_longer_holds_the_commit_offset()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(0);
        var sendBack = new ScriptedSendBack(failures: 0);
        var service = new ConsumeMessageConcurrentlyService(
            new DelegateListener(m => Task.FromResult(m[0].QueueOffset == 1 ? ConsumeResult.ReconsumeLater : ConsumeResult.Success)),
            "g", threadCount: 2, batchMaxSize: 1, NullLogger.Instance, sendBack);
        service.Start();
        try
        {
            service.Submit(pq, pq.PutMessages([.. Enumerable.Range(0, 4).Select(i => UnitProcessQueueTests.At(i))], 4));
            await Eventually.PollAsync(() => Task.FromResult(pq.OffsetToCommit), o => o == 4, TimeSpan.FromSeconds(10), "the offset to pass the failed message");
            Assert.Equal(1, Assert.Single(sendBack.Taken).QueueOffset);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task When_the_send_back_fails_the_message_stays_and_is_redelivered_locally()
    {
        var pq = new ProcessQueue(Queue);
        pq.AdvanceTo(0);
        var sendBack = new ScriptedSendBack(failures: 1);
        var attempts = new ConcurrentQueue<int>();
        var service = new ConsumeMessageConcurrentlyService(
            new DelegateListener(m =>
            {
                attempts.Enqueue(m[0].ReconsumeTimes);
                return Task.FromResult(ConsumeResult.ReconsumeLater);
            }),
            "g", threadCount: 1, batchMaxSize: 1, NullLogger.Instance, sendBack);
        service.Start();
        try
        {
            service.Submit(pq, pq.PutMessages([UnitProcessQueueTests.At(0)], 1));
            // First failure: the send-back fails, so the message pins the offset and comes back locally (after 1 s).
            await Eventually.PollAsync(() => Task.FromResult(attempts.Count), c => c >= 1, TimeSpan.FromSeconds(5), "the first attempt");
            Assert.Equal(0, pq.OffsetToCommit);
            // Second failure: the broker takes it, and the queue moves on.
            await Eventually.PollAsync(() => Task.FromResult(pq.OffsetToCommit), o => o == 1, TimeSpan.FromSeconds(10), "the send-back to succeed");
            Assert.Equal([0, 1], attempts);
            Assert.Equal(1, Assert.Single(sendBack.Taken).ReconsumeTimes); // the locally redelivered copy counts its attempt
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_message_from_the_retry_topic_reaches_the_listener_with_its_original_topic()
    {
        var retryQueue = new MessageQueue("%RETRY%g", 0);
        var pq = new ProcessQueue(retryQueue);
        pq.AdvanceTo(0);
        var seen = new ConcurrentQueue<MessageExt>();
        var service = new ConsumeMessageConcurrentlyService(
            new DelegateListener(m =>
            {
                foreach (var message in m) seen.Enqueue(message);
                return Task.FromResult(ConsumeResult.Success);
            }),
            "g", threadCount: 1, batchMaxSize: 1, NullLogger.Instance, new ScriptedSendBack(0));
        service.Start();
        try
        {
            var retried = new MessageExt(retryQueue.Topic, 0, 0, MessageIds.NewId(), null, [], [1],
                new Dictionary<string, string> { [MessageConst.RetryTopic] = "orders" }, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1, null, null);
            service.Submit(pq, pq.PutMessages([retried], 1));
            await Eventually.PollAsync(() => Task.FromResult(pq.OffsetToCommit), o => o == 1, TimeSpan.FromSeconds(10), "the retried message to be consumed");
            Assert.Equal("orders", Assert.Single(seen).Topic);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }
}
