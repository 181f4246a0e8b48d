-- OrleansMQ transactions, version 6: half messages (RocketMQ's RMQ_SYS_TRANS_HALF_TOPIC and its op topic in one table).
--
-- Applied by every silo at start-up after 005 (idempotent, one transaction under the advisory lock).
-- By hand: psql "$CONN" -v ON_ERROR_STOP=1 -f sql/006_transactions.sql
--
-- Contracts the broker relies on (docs/transactions.md):
--  * A half message is a row here, never a row of omq_message: consumers cannot see it, and retention
--    (which only deletes from omq_message) cannot remove it. It is inserted, and committed, before the
--    producer's send returns.
--  * state moves only forward, and only from 'pending' to a decision, by one conditional UPDATE
--    (... WHERE state = 'pending'), so of two racing decisions (the producer's and a check-back's, or an
--    operator's) exactly one wins:
--        pending -> committing -> committed
--        pending -> rolled_back | discarded
--    'committing' is recorded before the message is appended to its real queue (topic, queue_id), and
--    'committed' (with queue_offset) after the append returned. A committing row found later (a crash in
--    between) is appended again only if omq_message has no row with its msg_id in that queue
--    (omq_message_msg_id, sql/005): the message becomes visible exactly once.
--  * check_times counts the check-backs sent (or attempted with no producer alive), incremented and
--    next_check_at moved before each check is sent, as RocketMQ counts a check before sending it.
--  * Resolved rows are kept for inspection (orleansmq transaction list) for TransactionRecordRetention
--    (72 h), then the retention sweep deletes them; it never deletes a pending or committing row.

CREATE TABLE IF NOT EXISTS omq_half_message (
    producer_group   text        NOT NULL,
    transaction_id   text        NOT NULL,
    msg_id           text        NOT NULL,
    topic            text        NOT NULL,
    queue_id         int         NOT NULL,
    tag              text        NULL,
    keys             text[]      NULL,
    body             bytea       NOT NULL,
    properties       jsonb       NULL,
    born_at          timestamptz NOT NULL,
    born_host        text        NULL,
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'committing', 'committed', 'rolled_back', 'discarded')),
    check_times      int         NOT NULL DEFAULT 0,
    next_check_at    timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz NULL,
    resolved_by      text        NULL,
    queue_offset     bigint      NULL,
    note             text        NULL,
    PRIMARY KEY (producer_group, transaction_id)
);

-- What the coordinators and the watchdog look for: unresolved rows by group and due time.
CREATE INDEX IF NOT EXISTS omq_half_message_unresolved
    ON omq_half_message (producer_group, next_check_at) WHERE state IN ('pending', 'committing');

-- transaction list: newest first, across groups.
CREATE INDEX IF NOT EXISTS omq_half_message_created ON omq_half_message (created_at DESC);

-- The retention sweep: resolved rows by age.
CREATE INDEX IF NOT EXISTS omq_half_message_resolved
    ON omq_half_message (resolved_at) WHERE state IN ('committed', 'rolled_back', 'discarded');
