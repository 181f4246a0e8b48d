using System.Text.Unicode;
using OrleansMQ.Cli.Common;
using OrleansMQ.Messages;

namespace OrleansMQ.Cli.Commands.Messages;

/// <summary>How every command prints a stored message: one line of fields, or one JSON object with <c>--json</c>.</summary>
internal static class MessagePrinter
{
    public static void Print(MessageExt m, bool json)
    {
        var text = Utf8.IsValid(m.Body);
        if (json)
        {
            JsonLine.Write(w =>
            {
                w.WriteString("topic", m.Topic);
                if (m.Queue.Topic != m.Topic)
                {
                    // Redelivered from the group's retry topic: queueId and queueOffset are that queue's.
                    w.WriteString("queueTopic", m.Queue.Topic);
                }
                w.WriteNumber("queueId", m.QueueId);
                w.WriteNumber("queueOffset", m.QueueOffset);
                w.WriteString("msgId", m.MsgId);
                w.WriteString("tag", m.Tag);
                w.WriteStartArray("keys");
                foreach (var key in m.Keys)
                {
                    w.WriteStringValue(key);
                }
                w.WriteEndArray();
                w.WriteStartObject("properties");
                foreach (var (name, value) in m.Properties ?? new Dictionary<string, string>())
                {
                    w.WriteString(name, value);
                }
                w.WriteEndObject();
                if (text)
                {
                    w.WriteString("body", m.BodyAsString());
                }
                else
                {
                    w.WriteBase64String("bodyBase64", m.Body);
                }
                w.WriteString("bornAt", m.BornAt);
                w.WriteString("storedAt", m.StoredAt);
                w.WriteString("bornHost", m.BornHost);
                w.WriteNumber("reconsumeTimes", m.ReconsumeTimes);
            });
            return;
        }
        var properties = m.Properties is { Count: > 0 } p ? string.Join(",", p.Select(kv => $"{kv.Key}={kv.Value}")) : "-";
        var body = text ? JsonLine.Quote(m.BodyAsString()) : $"<{m.Body.Length} bytes, base64 {Convert.ToBase64String(m.Body)}>";
        Output.Line(
            $"{(m.Queue.Topic != m.Topic ? $"topic={m.Topic} " : "")}queue={m.Queue.Topic}:{m.QueueId} offset={m.QueueOffset} msgId={m.MsgId} tag={m.Tag ?? "-"} " +
            $"keys={(m.Keys.Count > 0 ? string.Join(",", m.Keys) : "-")} props={properties} " +
            $"born={Output.Time(m.BornAt)} stored={Output.Time(m.StoredAt)}{(m.ReconsumeTimes > 0 ? $" reconsumeTimes={m.ReconsumeTimes}" : "")} body={body}");
    }
}
