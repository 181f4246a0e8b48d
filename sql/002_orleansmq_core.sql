-- OrleansMQ core schema, version 2: topics, the message log and consumer offsets.
--
-- Applied by every silo at start-up (in file-name order, each file in one transaction holding an
-- advisory lock), so every statement is idempotent. Operators may also run it by hand:
--   psql "$CONN" -v ON_ERROR_STOP=1 -f sql/001_orleans_clustering.sql -f sql/002_orleansmq_core.sql
--
-- Contracts the broker relies on:
--  * omq_message's primary key (topic, queue_id, queue_offset) is the single-writer fence: a queue
--    grain assigns contiguous offsets, and if a second activation of the same queue ever writes,
--    the second insert of an offset fails with unique_violation (23505) and that grain reloads its
--    next offset. Offsets are therefore never overwritten and never skipped.
--  * a row is acknowledged to its producer only after the transaction that inserted it committed.
--  * omq_consumer_offset.next_offset is the next offset the group will consume (RocketMQ's
--    committed offset), written by the queue grain that owns the queue.

CREATE TABLE IF NOT EXISTS omq_schema_version (
    version     int         PRIMARY KEY,
    script      text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per topic. A deleted topic keeps its row with deleted_at set (a tombstone), so a producer
-- that still holds its route gets "topic deleted" instead of silently re-creating it.
CREATE TABLE IF NOT EXISTS omq_topic (
    name             text        PRIMARY KEY,
    queues           int         NOT NULL CHECK (queues BETWEEN 1 AND 1024),
    permission       int         NOT NULL DEFAULT 6,
    message_type     int         NOT NULL DEFAULT 0,
    retention_hours  int         NOT NULL DEFAULT 72,
    created_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz NULL
);

-- The message log: one ordered offset range per (topic, queue), RocketMQ's CommitLog and
-- ConsumeQueue in one table. Written by COPY (binary), one transaction per group commit.
CREATE TABLE IF NOT EXISTS omq_message (
    topic            text        NOT NULL,
    queue_id         int         NOT NULL,
    queue_offset     bigint      NOT NULL,
    msg_id           text        NOT NULL,
    tag              text        NULL,
    keys             text[]      NULL,
    body             bytea       NOT NULL,
    properties       jsonb       NULL,
    born_at          timestamptz NOT NULL,
    stored_at        timestamptz NOT NULL,
    reconsume_times  int         NOT NULL DEFAULT 0,
    producer_group   text        NULL,
    born_host        text        NULL,
    PRIMARY KEY (topic, queue_id, queue_offset)
);

-- Committed offsets per (group, topic, queue): RocketMQ's ConsumerOffsetManager.
CREATE TABLE IF NOT EXISTS omq_consumer_offset (
    consumer_group   text        NOT NULL,
    topic            text        NOT NULL,
    queue_id         int         NOT NULL,
    next_offset      bigint      NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, queue_id)
);
CREATE INDEX IF NOT EXISTS omq_consumer_offset_topic ON omq_consumer_offset (topic);
