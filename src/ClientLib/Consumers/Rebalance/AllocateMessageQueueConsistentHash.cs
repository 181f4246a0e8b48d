using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using OrleansMQ.Messages;

namespace OrleansMQ.Client;

/// <summary>
/// RocketMQ's AllocateMessageQueueConsistentHash: instances sit on a hash ring (each as <see cref="VirtualNodes"/>
/// virtual nodes, MD5 as RocketMQ); a queue belongs to the first node at or after its own hash. When an instance
/// joins or leaves, only the queues next to its nodes move; the shares are less even than the average strategies'.
/// </summary>
public sealed class AllocateMessageQueueConsistentHash : IAllocateMessageQueueStrategy
{
    /// <summary>A ring with RocketMQ's default of 10 virtual nodes per instance.</summary>
    public AllocateMessageQueueConsistentHash(int virtualNodes = 10)
    {
        if (virtualNodes < 1)
        {
            throw new MQException(MQErrorCode.InvalidArgument, $"virtualNodes is {virtualNodes}; at least 1");
        }
        VirtualNodes = virtualNodes;
    }

    /// <summary>Nodes per instance on the ring.</summary>
    public int VirtualNodes { get; }

    /// <inheritdoc />
    public string Name => "CONSISTENT_HASH";

    /// <inheritdoc />
    public IReadOnlyList<MessageQueue> Allocate(string consumerGroup, string currentClientId, IReadOnlyList<MessageQueue> allQueues, IReadOnlyList<string> allClientIds)
    {
        ArgumentNullException.ThrowIfNull(allQueues);
        ArgumentNullException.ThrowIfNull(allClientIds);
        var result = new List<MessageQueue>();
        if (AllocationMath.IndexOf(allClientIds, currentClientId) < 0)
        {
            return result;
        }
        var ring = new SortedList<long, string>();
        foreach (var client in allClientIds)
        {
            for (var i = 0; i < VirtualNodes; i++)
            {
                // A hash collision between two nodes keeps the first (ordinally smaller id): still deterministic.
                ring.TryAdd(Hash($"{client}-{i}"), client);
            }
        }
        foreach (var queue in allQueues)
        {
            if (OwnerOf(ring, Hash(queue.ToString())) == currentClientId)
            {
                result.Add(queue);
            }
        }
        return result;
    }

    private static string OwnerOf(SortedList<long, string> ring, long hash)
    {
        var keys = ring.Keys;
        int low = 0, high = keys.Count - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (keys[mid] < hash) low = mid + 1;
            else high = mid - 1;
        }
        return ring.Values[low < keys.Count ? low : 0];
    }

    /// <summary>RocketMQ's ConsistentHashRouter.MD5Hash: the first 4 bytes of the MD5 digest, big-endian, as an unsigned number.</summary>
    internal static long Hash(string key)
    {
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(Encoding.UTF8.GetBytes(key), digest);
        return BinaryPrimitives.ReadUInt32BigEndian(digest);
    }
}
