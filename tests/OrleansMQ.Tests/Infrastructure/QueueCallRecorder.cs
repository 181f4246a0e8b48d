using Orleans.Runtime;
using OrleansMQ.Queues;

namespace OrleansMQ.Tests.Infrastructure;

/// <summary>
/// A grain factory for clients under test (producers, consumers) that forwards every call to the real
/// cluster but lets a test see the calls made to queue grains: how many appends (to observe the
/// producer's coalescing) and what each pull returned (to observe a push consumer's flow control).
/// </summary>
public sealed class QueueCallRecorder(IGrainFactory inner) : IGrainFactory
{
    private int _appendCalls;
    private int _appendedMessages;

    /// <summary><c>IQueueGrain.Append</c> calls made through this factory.</summary>
    public int AppendCalls => Volatile.Read(ref _appendCalls);

    /// <summary>Messages carried by those calls.</summary>
    public int AppendedMessages => Volatile.Read(ref _appendedMessages);

    /// <summary>Called with each successful pull's request and result, before the caller sees it.</summary>
    public Action<PullRequest, PullResult>? OnPulled { get; set; }

    /// <summary>While set, every call to a consumer-group grain fails as an unreachable broker would make it.</summary>
    public bool FailGroupCalls { get; set; }

    private int _groupCalls;

    /// <summary>Calls made to consumer-group grains through this factory (failed ones included).</summary>
    public int GroupCalls => Volatile.Read(ref _groupCalls);

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string keyExtension, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithIntegerCompoundKey
    {
        var grain = inner.GetGrain<TGrainInterface>(primaryKey, keyExtension, grainClassNamePrefix);
        return grain is IQueueGrain queue ? (TGrainInterface)(object)new RecordingQueue(this, queue) : grain;
    }

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithGuidKey => inner.GetGrain<TGrainInterface>(primaryKey, grainClassNamePrefix);

    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithIntegerKey => inner.GetGrain<TGrainInterface>(primaryKey, grainClassNamePrefix);

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithStringKey
    {
        var grain = inner.GetGrain<TGrainInterface>(primaryKey, grainClassNamePrefix);
        return grain is ConsumerGroups.IConsumerGroupGrain group ? (TGrainInterface)(object)GroupCallProxy.Create(this, group) : grain;
    }

    /// <summary>Forwards consumer-group grain calls, counting them, or fails them while <see cref="FailGroupCalls"/> is set.</summary>
    public class GroupCallProxy : System.Reflection.DispatchProxy
    {
        private QueueCallRecorder _recorder = null!;
        private ConsumerGroups.IConsumerGroupGrain _inner = null!;

        public static ConsumerGroups.IConsumerGroupGrain Create(QueueCallRecorder recorder, ConsumerGroups.IConsumerGroupGrain inner)
        {
            var proxy = Create<ConsumerGroups.IConsumerGroupGrain, GroupCallProxy>();
            ((GroupCallProxy)(object)proxy)._recorder = recorder;
            ((GroupCallProxy)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? method, object?[]? args)
        {
            Interlocked.Increment(ref _recorder._groupCalls);
            if (_recorder.FailGroupCalls && method!.ReturnType.IsAssignableTo(typeof(Task)))
            {
                throw new TimeoutException("test: the consumer group's silo does not answer");
            }
            try
            {
                return method!.Invoke(_inner, args);
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }

    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string keyExtension, string? grainClassNamePrefix = null)
        where TGrainInterface : IGrainWithGuidCompoundKey => inner.GetGrain<TGrainInterface>(primaryKey, keyExtension, grainClassNamePrefix);

    public TGrainObserverInterface CreateObjectReference<TGrainObserverInterface>(IGrainObserver obj)
        where TGrainObserverInterface : IGrainObserver => inner.CreateObjectReference<TGrainObserverInterface>(obj);

    public void DeleteObjectReference<TGrainObserverInterface>(IGrainObserver obj)
        where TGrainObserverInterface : IGrainObserver => inner.DeleteObjectReference<TGrainObserverInterface>(obj);

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey) => inner.GetGrain(grainInterfaceType, grainPrimaryKey);

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey) => inner.GetGrain(grainInterfaceType, grainPrimaryKey);

    public IGrain GetGrain(Type grainInterfaceType, string grainPrimaryKey) => inner.GetGrain(grainInterfaceType, grainPrimaryKey);

    public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey, string keyExtension) => inner.GetGrain(grainInterfaceType, grainPrimaryKey, keyExtension);

    public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey, string keyExtension) => inner.GetGrain(grainInterfaceType, grainPrimaryKey, keyExtension);

    public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId) where TGrainInterface : IAddressable => inner.GetGrain<TGrainInterface>(grainId);

    public IAddressable GetGrain(GrainId grainId) => inner.GetGrain(grainId);

    public IAddressable GetGrain(GrainId grainId, GrainInterfaceType interfaceType) => inner.GetGrain(grainId, interfaceType);

    public IAddressable GetGrain(Type interfaceType, IdSpan grainKey, string grainClassNamePrefix) => inner.GetGrain(interfaceType, grainKey, grainClassNamePrefix);

    public IAddressable GetGrain(Type interfaceType, IdSpan grainKey) => inner.GetGrain(interfaceType, grainKey);

    private sealed class RecordingQueue(QueueCallRecorder recorder, IQueueGrain inner) : IQueueGrain
    {
        public Task<AppendResult> Append(AppendRequest request)
        {
            Interlocked.Increment(ref recorder._appendCalls);
            Interlocked.Add(ref recorder._appendedMessages, request.Messages.Count);
            return inner.Append(request);
        }

        public async Task<PullResult> Pull(PullRequest request)
        {
            var result = await inner.Pull(request);
            recorder.OnPulled?.Invoke(request, result);
            return result;
        }

        public Task<Topics.QueueStatus> GetStatus() => inner.GetStatus();

        public Task<long> GetCommittedOffset(string group) => inner.GetCommittedOffset(group);

        public Task<long> CommitOffset(string group, long offset, bool flush) => inner.CommitOffset(group, offset, flush);

        public Task<QueueProgress> GetProgress(string group) => inner.GetProgress(group);

        public Task OnMessagesExpired(long minOffset) => inner.OnMessagesExpired(minOffset);

        public Task OnTopicDeleted() => inner.OnTopicDeleted();

        public Task OnTopicUpdated(Topics.TopicConfig config) => inner.OnTopicUpdated(config);

        public Task ForgetGroup(string group) => inner.ForgetGroup(group);
    }
}
