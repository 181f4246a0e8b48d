-- OrleansMQ schema, version 5: the query paths of the message log (RocketMQ's queryMsgById,
-- queryMsgByKey; the third, by queue offset, is the primary key itself).
--
-- Idempotent, applied by every silo at start-up like the other scripts; by hand:
--   psql "$CONN" -v ON_ERROR_STOP=1 -f sql/005_message_queries.sql
--
-- Contracts:
--  * by message id: omq_message_msg_id. A message id is unique per send, but the same id can be
--    stored more than once (a retried send whose first commit's outcome was unknown, or a copy
--    moved to a retry or dead-letter topic), so a lookup returns every row with that id.
--  * by key: omq_message_keys (GIN over the keys array) answers "keys contains K"; queries also
--    name the topic and a store-time range, which the primary key and the row filter narrow.
--  * by store time (reset to a timestamp, consume from a timestamp): no index. Store times never go
--    backwards within a queue (the queue grain makes them monotonic), so the broker binary-searches
--    the primary key, as RocketMQ binary-searches its ConsumeQueue.
-- Both indexes are on the write path; BENCHMARKS.md has what they cost (the design allows at most a
-- fifth of the write throughput for key indexing).

CREATE INDEX IF NOT EXISTS omq_message_msg_id ON omq_message (msg_id);
CREATE INDEX IF NOT EXISTS omq_message_keys ON omq_message USING gin (keys);
