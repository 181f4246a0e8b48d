-- OrleansMQ schema, version 4: ordered consumption (queue-lock horizon) and broadcasting offsets.
--
-- Applied by every silo at start-up (in file-name order, each file in one transaction holding an
-- advisory lock), so every statement is idempotent. Operators may also run it by hand:
--   psql "$CONN" -v ON_ERROR_STOP=1 -f sql/004_ordered_and_broadcasting.sql
--
-- Contracts the broker relies on:
--  * omq_consumer_group.lock_horizon is a time no orderly queue lock of the group outlives: the
--    consumer-group grain moves it forward (durably) before it grants a lock whose validity would end
--    later. Locks themselves are soft state in the grain; when the grain re-activates on another
--    silo it grants no new lock before this horizon (an instance may still hold one), except the
--    ones their holders re-assert on their heartbeats.
--  * omq_broadcast_offset.next_offset is the next offset one broadcasting instance (its stable
--    instance name) consumes on a queue; written by that instance's broadcast-offset grain.

CREATE TABLE IF NOT EXISTS omq_consumer_group (
    consumer_group   text        PRIMARY KEY,
    lock_horizon     timestamptz NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Broadcasting consumption: every instance keeps its own offsets (RocketMQ keeps them in a local
-- file; here they survive the instance's machine too).
CREATE TABLE IF NOT EXISTS omq_broadcast_offset (
    consumer_group   text        NOT NULL,
    instance_name    text        NOT NULL,
    topic            text        NOT NULL,
    queue_id         int         NOT NULL,
    next_offset      bigint      NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, instance_name, topic, queue_id)
);
CREATE INDEX IF NOT EXISTS omq_broadcast_offset_topic ON omq_broadcast_offset (topic);
