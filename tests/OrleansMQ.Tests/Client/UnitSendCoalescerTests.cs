using System.Collections.Concurrent;
using OrleansMQ.Client;
using OrleansMQ.Messages;
using OrleansMQ.Queues;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Client;

/// <summary>
/// The producer's half of group commit, against a fake queue grain: concurrent sends share calls, each
/// send still learns its own offset, a failed call fails only the sends it carried, and no more calls
/// than allowed run at once.
/// </summary>
public sealed class UnitSendCoalescerTests
{
    private static readonly MessageQueue Queue = new("t", 0);
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    /// <summary>A queue grain stand-in: assigns contiguous offsets to whole calls, as <c>IQueueGrain.Append</c> does.</summary>
    private sealed class FakeQueue
    {
        private readonly object _gate = new();
        private readonly List<string> _log = [];
        private int _running;

        public ConcurrentQueue<int> CallSizes { get; } = new();

        public int MaxConcurrentCalls { get; private set; }

        /// <summary>Runs before a call is answered (to hold it, or to fail it by throwing).</summary>
        public Func<int, IReadOnlyList<MessageData>, Task> BeforeAnswer { get; set; } = (_, _) => Task.CompletedTask;

        public IReadOnlyList<string> Log
        {
            get { lock (_gate) return [.. _log]; }
        }

        public async Task<AppendResult> Append(IReadOnlyList<MessageData> messages)
        {
            var call = CallSizes.Count;
            CallSizes.Enqueue(messages.Count);
            lock (_gate)
            {
                _running++;
                MaxConcurrentCalls = Math.Max(MaxConcurrentCalls, _running);
            }
            try
            {
                await Task.Yield();
                await BeforeAnswer(call, messages);
                lock (_gate)
                {
                    var first = _log.Count;
                    _log.AddRange(messages.Select(m => m.MsgId));
                    return new AppendResult(first, DateTimeOffset.UtcNow);
                }
            }
            finally
            {
                lock (_gate) _running--;
            }
        }
    }

    private static SendCoalescer Coalescer(FakeQueue fake, int maxMessagesPerCall = 100, int maxCallsInFlight = 1, TimeSpan? callTimeout = null) =>
        new(Queue, fake.Append, maxMessagesPerCall, maxBytesPerCall: 4 * 1024 * 1024, maxCallsInFlight, callTimeout ?? TimeSpan.FromSeconds(30));

    private static Task<AppendOutcome> Send(SendCoalescer coalescer, MessageData message, CancellationToken cancellationToken = default) =>
        coalescer.AppendAsync([message], message.Body.Length, cancellationToken);

    [Fact]
    public async Task Sends_arriving_while_a_call_is_running_share_the_next_call_and_each_gets_its_own_offset()
    {
        var fake = new FakeQueue();
        var holdFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeAnswer = (call, _) => call == 0 ? holdFirst.Task : Task.CompletedTask;
        var coalescer = Coalescer(fake);

        var first = Message("first");
        var firstSend = Send(coalescer, first);
        await WaitUntil(() => fake.CallSizes.Count == 1, "the first call to start");
        var waiting = Enumerable.Range(0, 50).Select(i => Message($"m{i}")).ToList();
        var waitingSends = waiting.Select(m => Send(coalescer, m)).ToList();
        Assert.Equal(50, coalescer.PendingCount);
        holdFirst.SetResult();

        var outcomes = await Task.WhenAll(waitingSends).WaitAsync(Guard);
        var firstOutcome = await firstSend;

        Assert.Equal([1, 50], fake.CallSizes);
        Assert.Equal(0, firstOutcome.FirstOffset);
        var log = fake.Log;
        Assert.Equal(first.MsgId, log[0]);
        for (var i = 0; i < waiting.Count; i++)
        {
            Assert.Equal(1 + i, outcomes[i].FirstOffset);
            Assert.Equal(waiting[i].MsgId, log[(int)outcomes[i].FirstOffset]);
        }
    }

    [Fact]
    public async Task A_batch_unit_stays_whole_and_gets_the_offset_of_its_first_message()
    {
        var fake = new FakeQueue();
        var holdFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeAnswer = (call, _) => call == 0 ? holdFirst.Task : Task.CompletedTask;
        var coalescer = Coalescer(fake);

        var blocker = Send(coalescer, Message("blocker"));
        await WaitUntil(() => fake.CallSizes.Count == 1, "the first call to start");
        var single = Message("single");
        var batch = new[] { Message("b0"), Message("b1"), Message("b2") };
        var singleSend = Send(coalescer, single);
        var batchSend = coalescer.AppendAsync(batch, 6, CancellationToken.None);
        holdFirst.SetResult();
        await blocker.WaitAsync(Guard);

        var batchOutcome = await batchSend.WaitAsync(Guard);
        Assert.Equal(1, (await singleSend).FirstOffset);
        Assert.Equal(2, batchOutcome.FirstOffset);
        Assert.Equal(batch.Select(m => m.MsgId), fake.Log.Skip(2));
    }

    [Fact]
    public async Task A_failed_call_fails_only_the_sends_it_carried()
    {
        var fake = new FakeQueue();
        var holdFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeAnswer = (call, _) => call switch
        {
            0 => holdFirst.Task,
            1 => throw new MQException(MQErrorCode.StoreUnavailable, "the store is down"),
            _ => Task.CompletedTask,
        };
        var coalescer = Coalescer(fake);

        var ok = Send(coalescer, Message("ok"));
        await WaitUntil(() => fake.CallSizes.Count == 1, "the first call to start");
        var doomed = Enumerable.Range(0, 5).Select(i => Send(coalescer, Message($"doomed{i}"))).ToList();
        holdFirst.SetResult();
        var errors = new List<MQException>();
        foreach (var send in doomed)
        {
            errors.Add(await Assert.ThrowsAsync<MQException>(() => send.WaitAsync(Guard)));
        }
        var later = await Send(coalescer, Message("later")).WaitAsync(Guard);

        Assert.Equal(0, (await ok).FirstOffset);
        Assert.All(errors, e => Assert.Equal(MQErrorCode.StoreUnavailable, e.Code));
        Assert.Equal(errors.Count, errors.Distinct().Count()); // every caller gets its own exception to rethrow
        Assert.Equal(1, later.FirstOffset); // the failed call stored nothing and left no gap
        Assert.Equal([1, 5, 1], fake.CallSizes);
    }

    [Fact]
    public async Task Many_concurrent_sends_never_have_more_calls_in_flight_than_allowed()
    {
        var fake = new FakeQueue { BeforeAnswer = (_, _) => Task.Delay(2) };
        var coalescer = Coalescer(fake, maxMessagesPerCall: 50, maxCallsInFlight: 3);

        var messages = Enumerable.Range(0, 1000).Select(i => Message($"m{i}")).ToList();
        var sends = await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
            Task.WhenAll(messages.Where((_, i) => i % 8 == worker).Select(m => Send(coalescer, m)))))).WaitAsync(Guard);

        var outcomes = sends.SelectMany(s => s).ToList();
        Assert.InRange(fake.MaxConcurrentCalls, 1, 3);
        Assert.All(fake.CallSizes, size => Assert.InRange(size, 1, 50));
        Assert.True(fake.CallSizes.Count < messages.Count, $"{fake.CallSizes.Count} calls for {messages.Count} sends: nothing was coalesced");
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), outcomes.Select(o => o.FirstOffset).Order());
        Assert.Equal(0, coalescer.CallsInFlight);
    }

    [Fact]
    public async Task A_unit_larger_than_the_call_limit_goes_alone()
    {
        var fake = new FakeQueue();
        var holdFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeAnswer = (call, _) => call == 0 ? holdFirst.Task : Task.CompletedTask;
        var coalescer = Coalescer(fake, maxMessagesPerCall: 3);

        var blocker = Send(coalescer, Message("blocker"));
        await WaitUntil(() => fake.CallSizes.Count == 1, "the first call to start");
        var small = Send(coalescer, Message("small"));
        var big = coalescer.AppendAsync([.. Enumerable.Range(0, 5).Select(i => Message($"big{i}"))], 20, CancellationToken.None);
        var after = Send(coalescer, Message("after"));
        holdFirst.SetResult();
        await Task.WhenAll(blocker, small, big, after).WaitAsync(Guard);

        Assert.Equal([1, 1, 5, 1], fake.CallSizes);
        Assert.Equal(2, (await big).FirstOffset);
    }

    [Fact]
    public async Task A_call_the_broker_never_answers_fails_its_sends_as_retryable_and_frees_the_slot()
    {
        var fake = new FakeQueue();
        var never = new TaskCompletionSource();
        fake.BeforeAnswer = (call, _) => call == 0 ? never.Task : Task.CompletedTask;
        var coalescer = Coalescer(fake, callTimeout: TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<MQException>(() => Send(coalescer, Message("lost")).WaitAsync(Guard));
        var next = await Send(coalescer, Message("next")).WaitAsync(Guard);

        Assert.Equal(MQErrorCode.BrokerUnavailable, error.Code);
        Assert.True(error.IsRetryable);
        Assert.Equal(0, next.FirstOffset);
    }

    [Fact]
    public async Task A_send_cancelled_while_it_waits_is_never_sent()
    {
        var fake = new FakeQueue();
        var holdFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeAnswer = (call, _) => call == 0 ? holdFirst.Task : Task.CompletedTask;
        var coalescer = Coalescer(fake);
        using var cancel = new CancellationTokenSource();

        var blocker = Send(coalescer, Message("blocker"));
        await WaitUntil(() => fake.CallSizes.Count == 1, "the first call to start");
        var cancelled = Message("cancelled");
        var cancelledSend = Send(coalescer, cancelled, cancel.Token);
        var kept = Send(coalescer, Message("kept"));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelledSend.WaitAsync(Guard));
        holdFirst.SetResult();

        Assert.Equal(1, (await kept.WaitAsync(Guard)).FirstOffset);
        await blocker;
        Assert.DoesNotContain(cancelled.MsgId, fake.Log);
    }

    [Fact]
    public async Task A_closed_coalescer_refuses_new_sends_with_ClientNotStarted()
    {
        var coalescer = Coalescer(new FakeQueue());
        coalescer.Close();

        var error = await Assert.ThrowsAsync<MQException>(() => Send(coalescer, Message("late")));
        Assert.Equal(MQErrorCode.ClientNotStarted, error.Code);
    }

    private static Task WaitUntil(Func<bool> condition, string what) =>
        Infrastructure.Eventually.PollAsync(() => Task.FromResult(condition()), done => done, Guard, what);
}
