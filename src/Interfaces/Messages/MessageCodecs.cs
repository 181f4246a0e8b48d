using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace OrleansMQ.Messages;

/// <summary>
/// An Orleans codec that writes a whole message as one length-prefixed field.
/// </summary>
/// <remarks>
/// The generated codecs gave every string, key list, property map and body of a message its own tracked reference, so a
/// batch of 32 messages passed Orleans' 64 inline references and every call grew a fresh reference dictionary: about a
/// fifth of a consumer's CPU went to that bookkeeping (dotnet-trace of <c>bench consume</c>). One field per message
/// keeps a batch of up to 64 messages inline. The message is still tracked as one reference, as strings are, so a
/// message that appears twice in a graph is written once.
/// </remarks>
/// <typeparam name="T">The message type.</typeparam>
public abstract class OneFieldMessageCodec<T> : IFieldCodec<T>
    where T : class
{
    private readonly MessageWire.Decoder<T> _decode;

    private protected OneFieldMessageCodec() => _decode = Read;

    private protected abstract int SizeOf(T value);

    private protected abstract void Write(ref MessageWire.SpanWriter output, T value);

    private protected abstract T Read(ref MessageWire.SpanReader input);

    /// <inheritdoc/>
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, [AllowNull] Type expectedType, [AllowNull] T value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (ReferenceCodec.TryWriteReferenceField(ref writer, fieldIdDelta, expectedType, value)) return;
        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(T), WireType.LengthPrefixed);
        // Null was written as a null reference above.
        var size = SizeOf(value!);
        // Encoded in a rented buffer, then copied: Orleans' writer cannot hand out a contiguous span as large as a 4 MiB
        // message (EnsureContiguous throws), and two code paths by size would save only a memcpy.
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var span = buffer.AsSpan(0, size);
            var output = new MessageWire.SpanWriter(span);
            Write(ref output, value!);
            writer.WriteVarUInt32((uint)size);
            writer.Write(span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc/>
    public T ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        if (field.WireType == WireType.Reference) return ReferenceCodec.ReadReference<T, TInput>(ref reader, field)!;
        field.EnsureWireType(WireType.LengthPrefixed);
        var result = MessageWire.ReadPayload(ref reader, _decode);
        ReferenceCodec.RecordObject(reader.Session, result);
        return result;
    }
}

/// <summary>Orleans codec for <see cref="MessageData"/>, one field per message.</summary>
[RegisterSerializer]
public sealed class MessageDataCodec : OneFieldMessageCodec<MessageData>
{
    private protected override int SizeOf(MessageData value) => MessageWire.SizeOf(value);

    private protected override void Write(ref MessageWire.SpanWriter output, MessageData value) => MessageWire.Write(ref output, value);

    private protected override MessageData Read(ref MessageWire.SpanReader input) => MessageWire.ReadData(ref input);
}

/// <summary>Orleans codec for <see cref="MessageExt"/>, one field per message.</summary>
[RegisterSerializer]
public sealed class MessageExtCodec : OneFieldMessageCodec<MessageExt>
{
    private protected override int SizeOf(MessageExt value) => MessageWire.SizeOf(value);

    private protected override void Write(ref MessageWire.SpanWriter output, MessageExt value) => MessageWire.Write(ref output, value);

    private protected override MessageExt Read(ref MessageWire.SpanReader input) => MessageWire.ReadExt(ref input);
}

/// <summary>
/// The wire form of a message inside its length-prefixed field: a format version, then the fields in declaration order.
/// Integers are little-endian; a string is its UTF-8 length (LEB128) and bytes; an optional string stores length + 1,
/// 0 meaning null; an instant is its UTC ticks and its offset in minutes.
/// </summary>
internal static class MessageWire
{
    private const byte Version = 1;

    internal delegate T Decoder<out T>(ref SpanReader input);

    public static int SizeOf(MessageData m) =>
        1 + Str(m.MsgId) + OptStr(m.Tag) + Keys(m.Keys) + Bytes(m.Body) + Props(m.Properties) + Instant + OptStr(m.BornHost) + OptStr(m.ProducerGroup) + 4;

    public static int SizeOf(MessageExt m) =>
        1 + Str(m.Topic) + 4 + 8 + Str(m.MsgId) + OptStr(m.Tag) + Keys(m.Keys) + Bytes(m.Body) + Props(m.Properties) + Instant + Instant + 4 + OptStr(m.ProducerGroup) + OptStr(m.BornHost);

    public static void Write(ref SpanWriter output, MessageData m)
    {
        output.Byte(Version);
        output.String(m.MsgId);
        output.OptionalString(m.Tag);
        output.Keys(m.Keys);
        output.Bytes(m.Body);
        output.Properties(m.Properties);
        output.Instant(m.BornAt);
        output.OptionalString(m.BornHost);
        output.OptionalString(m.ProducerGroup);
        output.Int32(m.ReconsumeTimes);
    }

    public static void Write(ref SpanWriter output, MessageExt m)
    {
        output.Byte(Version);
        output.String(m.Topic);
        output.Int32(m.QueueId);
        output.Int64(m.QueueOffset);
        output.String(m.MsgId);
        output.OptionalString(m.Tag);
        output.Keys(m.Keys);
        output.Bytes(m.Body);
        output.Properties(m.Properties);
        output.Instant(m.BornAt);
        output.Instant(m.StoredAt);
        output.Int32(m.ReconsumeTimes);
        output.OptionalString(m.ProducerGroup);
        output.OptionalString(m.BornHost);
    }

    public static MessageData ReadData(ref SpanReader input)
    {
        input.RequireVersion(Version, nameof(MessageData));
        return new MessageData(
            MsgId: input.String(),
            Tag: input.OptionalString(),
            Keys: input.Keys(),
            Body: input.Bytes(),
            Properties: input.Properties(),
            BornAt: input.Instant(),
            BornHost: input.OptionalString(),
            ProducerGroup: input.OptionalString(),
            ReconsumeTimes: input.Int32());
    }

    public static MessageExt ReadExt(ref SpanReader input)
    {
        input.RequireVersion(Version, nameof(MessageExt));
        return new MessageExt(
            Topic: input.String(),
            QueueId: input.Int32(),
            QueueOffset: input.Int64(),
            MsgId: input.String(),
            Tag: input.OptionalString(),
            Keys: input.Keys(),
            Body: input.Bytes(),
            Properties: input.Properties(),
            BornAt: input.Instant(),
            StoredAt: input.Instant(),
            ReconsumeTimes: input.Int32(),
            ProducerGroup: input.OptionalString(),
            BornHost: input.OptionalString());
    }

    /// <summary>Reads the length prefix and decodes the payload, straight from Orleans' buffer when it is contiguous.</summary>
    public static T ReadPayload<T, TInput>(ref Reader<TInput> reader, Decoder<T> decode)
    {
        var length = reader.ReadVarUInt32();
        if (length > int.MaxValue) throw new InvalidOperationException($"a message field declares {length} bytes");
        if (reader.TryReadBytes((int)length, out var contiguous))
        {
            var input = new SpanReader(contiguous);
            return decode(ref input);
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            var span = buffer.AsSpan(0, (int)length);
            reader.ReadBytes(span);
            var input = new SpanReader(span);
            return decode(ref input);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private const int Instant = 8 + 2;

    private static int VarUInt(uint value) => value < 1u << 7 ? 1 : value < 1u << 14 ? 2 : value < 1u << 21 ? 3 : value < 1u << 28 ? 4 : 5;

    private static int Str(string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        return VarUInt((uint)bytes) + bytes;
    }

    private static int OptStr(string? value)
    {
        if (value is null) return 1;
        var bytes = Encoding.UTF8.GetByteCount(value);
        return VarUInt((uint)bytes + 1) + bytes;
    }

    private static int Bytes(byte[] value) => VarUInt((uint)value.Length) + value.Length;

    private static int Keys(IReadOnlyList<string> keys)
    {
        var size = VarUInt((uint)keys.Count);
        foreach (var key in keys) size += Str(key);
        return size;
    }

    private static int Props(IReadOnlyDictionary<string, string>? properties)
    {
        if (properties is null) return 1;
        var size = VarUInt((uint)properties.Count + 1);
        foreach (var (name, value) in properties) size += Str(name) + Str(value);
        return size;
    }

    internal ref struct SpanWriter(Span<byte> span)
    {
        private readonly Span<byte> _span = span;
        private int _position;

        public void Byte(byte value) => _span[_position++] = value;

        public void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_span[_position..], value);
            _position += 4;
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_span[_position..], value);
            _position += 8;
        }

        public void VarUInt(uint value)
        {
            while (value >= 0x80)
            {
                _span[_position++] = (byte)(value | 0x80);
                value >>= 7;
            }
            _span[_position++] = (byte)value;
        }

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetByteCount(value);
            VarUInt((uint)bytes);
            _position += Encoding.UTF8.GetBytes(value, _span[_position..]);
        }

        public void OptionalString(string? value)
        {
            if (value is null)
            {
                VarUInt(0);
                return;
            }
            var bytes = Encoding.UTF8.GetByteCount(value);
            VarUInt((uint)bytes + 1);
            _position += Encoding.UTF8.GetBytes(value, _span[_position..]);
        }

        public void Bytes(byte[] value)
        {
            VarUInt((uint)value.Length);
            value.CopyTo(_span[_position..]);
            _position += value.Length;
        }

        public void Keys(IReadOnlyList<string> keys)
        {
            VarUInt((uint)keys.Count);
            foreach (var key in keys) String(key);
        }

        public void Properties(IReadOnlyDictionary<string, string>? properties)
        {
            if (properties is null)
            {
                VarUInt(0);
                return;
            }
            VarUInt((uint)properties.Count + 1);
            foreach (var (name, value) in properties)
            {
                String(name);
                String(value);
            }
        }

        public void Instant(DateTimeOffset value)
        {
            Int64(value.UtcTicks);
            BinaryPrimitives.WriteInt16LittleEndian(_span[_position..], (short)value.Offset.TotalMinutes);
            _position += 2;
        }
    }

    internal ref struct SpanReader(ReadOnlySpan<byte> span)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _position;

        public void RequireVersion(byte expected, string type)
        {
            var version = _span[_position++];
            if (version != expected)
            {
                throw new InvalidOperationException($"{type} arrived in wire format {version}; this build reads format {expected} (mixed OrleansMQ versions?)");
            }
        }

        public int Int32()
        {
            var value = BinaryPrimitives.ReadInt32LittleEndian(_span[_position..]);
            _position += 4;
            return value;
        }

        public long Int64()
        {
            var value = BinaryPrimitives.ReadInt64LittleEndian(_span[_position..]);
            _position += 8;
            return value;
        }

        public uint VarUInt()
        {
            uint value = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (shift > 28) throw new InvalidOperationException("malformed length in a message field");
                var b = _span[_position++];
                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
        }

        public string String() => Utf8((int)VarUInt());

        public string? OptionalString()
        {
            var length = VarUInt();
            return length == 0 ? null : Utf8((int)length - 1);
        }

        public byte[] Bytes()
        {
            var length = (int)VarUInt();
            var value = _span.Slice(_position, length).ToArray();
            _position += length;
            return value;
        }

        public string[] Keys()
        {
            var count = (int)VarUInt();
            if (count == 0) return [];
            var keys = new string[count];
            for (var i = 0; i < count; i++) keys[i] = String();
            return keys;
        }

        public Dictionary<string, string>? Properties()
        {
            var count = VarUInt();
            if (count == 0) return null;
            var properties = new Dictionary<string, string>((int)count - 1, StringComparer.Ordinal);
            for (var i = 1; i < count; i++) properties[String()] = String();
            return properties;
        }

        public DateTimeOffset Instant()
        {
            var ticks = Int64();
            var offset = TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(_span[_position..]));
            _position += 2;
            return new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(offset);
        }

        private string Utf8(int length)
        {
            var value = Encoding.UTF8.GetString(_span.Slice(_position, length));
            _position += length;
            return value;
        }
    }
}
