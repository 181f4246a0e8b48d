-- OrleansMQ schedules, version 3: delay-level progress, the timer index, dead-letter resends.
--
-- Applied by every silo at start-up after 002 (idempotent, one transaction under the advisory lock).
-- By hand: psql "$CONN" -v ON_ERROR_STOP=1 -f sql/003_orleansmq_schedules.sql
--
-- Contracts the broker relies on:
--  * Delay-level messages are rows of omq_message on topic SCHEDULE_TOPIC_XXXX, queue id = level - 1,
--    written through the normal group commit. omq_delay_offset.next_offset is the first schedule offset
--    of a level not yet moved to its real topic: it is advanced only after the move committed, so a
--    crash mid-move delivers a message again (at least once), never zero times.
--  * Timer messages are rows of omq_message on topic rmq_sys_wheel_timer with their due time in the
--    property TIMER_DELIVER_MS (ms since the Unix epoch; the broker writes it and checks it is a number).
--    omq_message_timer_due indexes only those rows, so other topics pay nothing for it. A timer row is
--    deleted after its move to the real topic committed.
--  * omq_dlq_resend records which dead letters of a group were put back to it, and when.

CREATE TABLE IF NOT EXISTS omq_delay_offset (
    level        int         PRIMARY KEY,
    next_offset  bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS omq_message_timer_due
    ON omq_message (queue_id, ((properties->>'TIMER_DELIVER_MS')::bigint), queue_offset)
    WHERE topic = 'rmq_sys_wheel_timer';

CREATE TABLE IF NOT EXISTS omq_dlq_resend (
    consumer_group  text        NOT NULL,
    msg_id          text        NOT NULL,
    resent_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, msg_id)
);
