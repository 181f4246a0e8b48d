using OrleansMQ.Client;
using OrleansMQ.Tests.Infrastructure;

namespace OrleansMQ.Tests.Client;

/// <summary>Round-robin queue choice (skipping queues that just failed) and the local redelivery backoff.</summary>
public sealed class UnitQueuePickingTests
{
    [Fact]
    public void Round_robin_visits_every_queue_in_turn()
    {
        var picker = new RoundRobinQueuePicker(start: 0);

        Assert.Equal([1, 2, 3, 0, 1, 2, 3, 0], Enumerable.Range(0, 8).Select(_ => picker.Pick(4)));
    }

    [Fact]
    public void A_retry_avoids_the_queue_that_just_failed()
    {
        var picker = new RoundRobinQueuePicker(start: 0);

        Assert.All(Enumerable.Range(0, 20), _ => Assert.NotEqual(1, picker.Pick(4, avoidQueueId: 1)));
        Assert.Equal(0, picker.Pick(1, avoidQueueId: 0)); // no choice: the only queue
    }

    [Fact]
    public void A_failed_queue_is_skipped_for_the_penalty_time_then_used_again()
    {
        var clock = new ManualClock();
        var picker = new RoundRobinQueuePicker(start: 0, time: clock);
        picker.MarkFailed(2);

        var whilePenalized = Enumerable.Range(0, 12).Select(_ => picker.Pick(4)).ToList();
        clock.Advance(RoundRobinQueuePicker.FailurePenalty);
        var afterwards = Enumerable.Range(0, 12).Select(_ => picker.Pick(4)).ToList();

        Assert.DoesNotContain(2, whilePenalized);
        Assert.Equal(3, afterwards.Count(id => id == 2));
    }

    [Fact]
    public void When_every_queue_is_penalized_sends_still_go_somewhere_other_than_the_failed_one()
    {
        var clock = new ManualClock();
        var picker = new RoundRobinQueuePicker(start: 0, time: clock);
        picker.MarkFailed(0);
        picker.MarkFailed(1);

        Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal(0, picker.Pick(2, avoidQueueId: 1)));
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 5)]
    [InlineData(3, 10)]
    [InlineData(4, 20)]
    [InlineData(5, 30)]
    [InlineData(100, 30)]
    public void Redelivery_backs_off_from_one_second_to_thirty(int failures, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), ReconsumeBackoff.After(failures));
    }
}
