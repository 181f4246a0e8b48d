using OrleansMQ.Messages;
using OrleansMQ.Queues;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Delay;

/// <summary>Reading what schedules delivered: every message of a topic's queues, polled until enough arrived.</summary>
internal static class ScheduleTestKit
{
    /// <summary>How long a test waits for scheduled messages to arrive.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    /// <summary>The lateness every delivery must stay under on this 2-core machine shared with other work (typically it is a few ms).</summary>
    public static readonly TimeSpan LatenessBound = TimeSpan.FromMilliseconds(1500);

    /// <summary>Pulls every queue of <paramref name="topic"/> from offset 0 until <paramref name="count"/> messages are there (or the guard passes).</summary>
    public static async Task<IReadOnlyList<MessageExt>> WaitForMessagesAsync(IGrainFactory grains, string topic, int queues, int count, TimeSpan guard)
    {
        var deadline = DateTime.UtcNow + guard;
        while (true)
        {
            var all = await ReadAllAsync(grains, topic, queues);
            if (all.Count >= count) return all;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{all.Count} of {count} message(s) arrived on {topic} within {guard.TotalSeconds:0} s");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Every message stored on <paramref name="topic"/> now.</summary>
    public static async Task<IReadOnlyList<MessageExt>> ReadAllAsync(IGrainFactory grains, string topic, int queues)
    {
        var all = new List<MessageExt>();
        for (var q = 0; q < queues; q++)
        {
            for (var offset = 0L; ;)
            {
                var pull = await grains.Queue(topic, q).Pull(new PullRequest("schedule-tests", offset, 1024));
                if (pull.Messages.Count == 0) break;
                all.AddRange(pull.Messages);
                offset = pull.NextBeginOffset;
            }
        }
        return all;
    }
}
