-- =============================================================================
-- 001_orleans_clustering.sql  --  OrleansMQ cluster membership on PostgreSQL
-- =============================================================================
--
-- Purpose
--   Gives the NuGet package Microsoft.Orleans.Clustering.AdoNet everything it
--   needs to run Orleans cluster membership (silos) and gateway discovery
--   (clients) against PostgreSQL through Npgsql (ADO.NET invariant "Npgsql").
--   Nothing else: no grain-storage, reminder, streaming or directory objects.
--
-- Checked against
--   Microsoft.Orleans.Clustering.AdoNet 10.4.2 (lib/net10.0, read from the
--   shipped assembly), Npgsql 10.0.3, PostgreSQL 15.
--   Re-check this file whenever that package is upgraded: the contract below
--   is enforced only at run time, by name.
--
-- How the provider talks to the database (the contract, in our words)
--   * On start-up the silo membership table AND the client gateway list
--     provider each run exactly
--         SELECT QueryKey, QueryText FROM OrleansQuery
--     and keep the result as a key -> SQL text dictionary. That table name and
--     those two column names are hard-coded in the provider. If any required
--     key is missing, start-up fails with "Not all required queries found".
--   * Everything afterwards is one of those SQL texts, executed as a single
--     command with named ADO.NET parameters (referenced as @Name in the text;
--     Npgsql rewrites them to positional parameters). Results are read by
--     column NAME, case-insensitively, so PostgreSQL's lower-casing of unquoted
--     identifiers is harmless.
--   * Cluster identity: the Orleans ClusterId is passed as @DeploymentId.
--   * Table version / etag: one integer per cluster. Every successful row
--     insert or update must bump it; an insert/update whose @Version does not
--     match the stored one must change nothing and report 0. The provider
--     sends the etag as an int (@Version) and reads it back as column Version.
--
--   Required keys (parameters -> result):
--     InsertMembershipVersionKey      @DeploymentId
--                                     -> one row, one column: 1 if the version
--                                        row was created now, else 0
--     MembershipReadAllKey            @DeploymentId
--     MembershipReadRowKey            @DeploymentId @Address @Port @Generation
--                                     -> at least one row (the version row is
--                                        outer-joined so it is returned even
--                                        with no matching silo), with columns
--                                        Address Port Generation SiloName
--                                        HostName Status ProxyPort SuspectTimes
--                                        StartTime IAmAliveTime Version.
--                                        A NULL StartTime means "no silo row".
--     InsertMembershipKey             @DeploymentId @Address @Port @Generation
--                                     @SiloName @HostName @Status @ProxyPort
--                                     @StartTime @IAmAliveTime @Version
--                                     -> one row, one column: 1 ok / 0 refused
--     UpdateMembershipKey             @DeploymentId @Address @Port @Generation
--                                     @Status @SuspectTimes @IAmAliveTime
--                                     @Version
--                                     -> one row, one column: 1 ok / 0 refused
--     UpdateIAmAlivetimeKey           @DeploymentId @Address @Port @Generation
--                                     @IAmAliveTime          (no result read)
--                                     Note the lower-case "t" in the key name.
--     GatewaysQueryKey                @DeploymentId @Status (always 3 = Active)
--                                     -> rows with Address ProxyPort Generation
--                                     (used by clients to find gateways)
--     DeleteMembershipTableEntriesKey @DeploymentId          (no result read)
--     CleanupDefunctSiloEntriesKey    @DeploymentId @IAmAliveTime (= cut-off)
--                                                            (no result read)
--   Optional key, honoured by 10.4.2 when present (we install it):
--     CleanupDefunctSiloEntryKey      @DeploymentId @Address @Port @Generation
--                                     @StartTime @IAmAliveTime @SuspectTimes
--       When this key exists, the provider no longer runs the bulk cleanup
--       query: it reads all rows, picks Dead (6) silos whose StartTime and
--       IAmAliveTime are both before the cut-off and that carry no suspicion
--       vote at/after the cut-off, and deletes each one with this query,
--       passing back exactly the values it read, so a row that changed in the
--       meantime is left alone.
--
--   Value formats
--     Address      IP address as text (sent as DbType.AnsiString -> text)
--     Port, Generation, Status, ProxyPort, Version   int4
--     StartTime, IAmAliveTime   UTC DateTime sent with DbType.DateTime, which
--                  Npgsql 6+ maps to timestamptz; read back with GetDateTime
--                  and re-labelled as UTC by the provider. Hence timestamptz.
--     SuspectTimes opaque text built by Orleans ("silo,time|silo,time"), or
--                  NULL. Never interpreted here.
--     Status       Orleans SiloStatus: 1 Created, 2 Joining, 3 Active,
--                  4 ShuttingDown, 5 Stopping, 6 Dead.
--
-- Running this file
--   Idempotent; OrleansMQ silos run it on every start, inside one transaction
--   that holds pg_advisory_xact_lock(7411001), so concurrent silos serialise.
--   Tables are created only if missing (a later change to a column needs its
--   own ALTER in a new numbered script); functions are replaced; query texts
--   are upserted, so editing a query here and restarting a silo updates it.
--   Existing membership rows are never touched. The objects live in whatever
--   schema is first on the connection's search_path (the provider's own
--   SELECT on OrleansQuery is unqualified too).
--   Every statement here is allowed inside a transaction block.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Query catalogue read by the provider at start-up.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);


-- -----------------------------------------------------------------------------
-- One row per cluster: the membership table version (the etag). It is also
-- the lock that serialises all membership writes of that cluster.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),   -- last version bump
    Version      integer      NOT NULL DEFAULT 0,
    CONSTRAINT PK_OrleansMembershipVersionTable PRIMARY KEY (DeploymentId)
);

-- -----------------------------------------------------------------------------
-- One row per silo incarnation (address + port + generation) in a cluster.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      varchar(45)  NOT NULL,      -- long enough for IPv6 text
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(150) NOT NULL,
    HostName     varchar(150) NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NOT NULL DEFAULT 0,   -- 0: silo is no gateway
    SuspectTimes text         NULL,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,
    CONSTRAINT PK_OrleansMembershipTable
        PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_OrleansMembershipTable_Version
        FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId)
);


-- -----------------------------------------------------------------------------
-- Conditional writes. Both functions follow the same recipe, which needs no
-- exception handling and no ASSERT (plpgsql.check_asserts may be off):
--   1. lock the cluster's version row (FOR UPDATE) and compare its Version
--      with the caller's; on mismatch return 0 having changed nothing;
--   2. write the silo row; if nothing was written return 0 (still nothing
--      changed, the version row was only locked);
--   3. bump the version and return 1.
-- Because every writer locks the version row first, two silos racing on the
-- same version cannot both succeed: the second one waits for the lock, then
-- sees the new Version and returns 0, and Orleans re-reads and retries.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION orleansmq_membership_insert(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_silo_name      text,
    p_host_name      text,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
AS $body$
DECLARE
    current_version integer;
BEGIN
    SELECT v.Version INTO current_version
      FROM OrleansMembershipVersionTable AS v
     WHERE v.DeploymentId = p_deployment_id
       FOR UPDATE;

    IF current_version IS NULL OR p_version IS NULL
       OR current_version <> p_version THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
           (DeploymentId, Address, Port, Generation, SiloName, HostName,
            Status, ProxyPort, SuspectTimes, StartTime, IAmAliveTime)
    VALUES (p_deployment_id, p_address, p_port, p_generation, p_silo_name,
            p_host_name, p_status, COALESCE(p_proxy_port, 0), NULL,
            p_start_time, p_i_am_alive)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;

    IF NOT FOUND THEN
        RETURN 0;          -- this silo incarnation is already registered
    END IF;

    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1,
           Timestamp = now()
     WHERE DeploymentId = p_deployment_id;

    RETURN 1;
END
$body$;

CREATE OR REPLACE FUNCTION orleansmq_membership_update(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  text,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
AS $body$
DECLARE
    current_version integer;
BEGIN
    SELECT v.Version INTO current_version
      FROM OrleansMembershipVersionTable AS v
     WHERE v.DeploymentId = p_deployment_id
       FOR UPDATE;

    IF current_version IS NULL OR p_version IS NULL
       OR current_version <> p_version THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable AS m
       SET Status       = p_status,
           SuspectTimes = p_suspect_times,
           IAmAliveTime = p_i_am_alive
     WHERE m.DeploymentId = p_deployment_id
       AND m.Address      = p_address
       AND m.Port         = p_port
       AND m.Generation   = p_generation;

    IF NOT FOUND THEN
        RETURN 0;          -- no such silo row (e.g. already cleaned up)
    END IF;

    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1,
           Timestamp = now()
     WHERE DeploymentId = p_deployment_id;

    RETURN 1;
END
$body$;


-- -----------------------------------------------------------------------------
-- The query texts. Keep "@" out of anything but parameter references (Npgsql
-- parses these texts to find parameters), and keep each text a single
-- command. Upserted so that a re-run refreshes them.
-- -----------------------------------------------------------------------------
INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- Create the cluster's version row if missing; report whether we created it.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer AS Created FROM created;
$q$),

-- Whole membership view of a cluster, plus its version.
('MembershipReadAllKey', $q$
SELECT m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
       m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime,
       v.Version
  FROM OrleansMembershipVersionTable AS v
  LEFT JOIN OrleansMembershipTable AS m
         ON m.DeploymentId = v.DeploymentId
 WHERE v.DeploymentId = @DeploymentId;
$q$),

-- One silo's row (or only the version, all silo columns NULL, if absent).
('MembershipReadRowKey', $q$
SELECT m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
       m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime,
       v.Version
  FROM OrleansMembershipVersionTable AS v
  LEFT JOIN OrleansMembershipTable AS m
         ON m.DeploymentId = v.DeploymentId
        AND m.Address      = @Address
        AND m.Port         = @Port
        AND m.Generation   = @Generation
 WHERE v.DeploymentId = @DeploymentId;
$q$),

-- Register a silo incarnation, guarded by the table version.
('InsertMembershipKey', $q$
SELECT orleansmq_membership_insert(
           @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
           @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version
       ) AS Inserted;
$q$),

-- Change a silo's status / suspicion votes, guarded by the table version.
('UpdateMembershipKey', $q$
SELECT orleansmq_membership_update(
           @DeploymentId, @Address, @Port, @Generation, @Status,
           @SuspectTimes, @IAmAliveTime, @Version
       ) AS Updated;
$q$),

-- Heartbeat: unconditional, does not touch the table version.
('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembershipTable
   SET IAmAliveTime = @IAmAliveTime
 WHERE DeploymentId = @DeploymentId
   AND Address      = @Address
   AND Port         = @Port
   AND Generation   = @Generation;
$q$),

-- Gateways for clients: active silos that listen for clients.
('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
  FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Status       = @Status
   AND ProxyPort    > 0;
$q$),

-- Forget a whole cluster (silo rows first, then its version row).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM OrleansMembershipTable        WHERE DeploymentId = @DeploymentId;
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$),

-- Bulk clean-up (used only when the per-row key below is absent): drop Dead
-- silos that neither started nor heartbeated since the cut-off.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Status       = 6
   AND StartTime    < @IAmAliveTime
   AND IAmAliveTime < @IAmAliveTime;
$q$),

-- Per-row clean-up: delete one Dead silo only if the row still holds exactly
-- the values the provider read (so a concurrent change wins).
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Address      = @Address
   AND Port         = @Port
   AND Generation   = @Generation
   AND Status       = 6
   AND StartTime    = @StartTime
   AND IAmAliveTime = @IAmAliveTime
   AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
