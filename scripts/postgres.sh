#!/usr/bin/env bash
# scripts/postgres.sh - a private PostgreSQL 15 cluster for OrleansMQ development and tests.
#
# Sourced (this is what ./orleansmq does):
#     source scripts/postgres.sh
#     conn=$(ensure_postgres)      # install if needed, init, start, create role/db; prints the conn string
#     stop_postgres                # pg_ctl stop -m fast (no-op if not running)
#     postgres_status              # prints state; exit 0 when running
# Run directly:
#     scripts/postgres.sh ensure|stop|status|conn|psql [psql args...]
#
# Layout: data dir <repo>/.orleansmq/pg, socket dir <repo>/.orleansmq/pgrun, log <repo>/.orleansmq/postgres.log.
# As root the cluster runs as the `postgres` OS user; if that user cannot reach the repo
# (e.g. repo under /root with mode 700) everything moves to /var/lib/orleansmq/<hash of repo path>/.
# The server listens on 127.0.0.1 only, port $ORLEANSMQ_PG_PORT (default 55432; when the variable is
# unset and 55432 is taken by another server, the next free port up to 55451 is used). Auth: trust.
# Progress goes to stderr; only ensure_postgres / `conn` print to stdout (the connection string).

_omq_pg_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
OMQ_PG_BIN=${ORLEANSMQ_PG_BIN:-/usr/lib/postgresql/15/bin}
OMQ_PG_DEFAULT_PORT=55432
OMQ_PG_SUPERUSER=postgres   # cluster superuser name (initdb -U), independent of the OS user

_pg_say() { printf 'orleansmq: %s\n' "$*" >&2; }
_pg_die() { printf 'orleansmq: error: %s\n' "$*" >&2; exit 1; }
_pg_is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a command as the OS user that owns the cluster (postgres when we are root, else ourselves).
_pg_as_owner() {
    if _pg_is_root; then
        # cd / so initdb/pg_ctl don't complain about an unreadable cwd (e.g. /root/...).
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Conninfo for admin tools (psql, pg_isready); ignores the user's PG* env defaults that could break it.
_pg_admin_conninfo() { # port
    printf 'host=127.0.0.1 port=%s user=%s dbname=postgres sslmode=disable connect_timeout=5' "$1" "$OMQ_PG_SUPERUSER"
}

_pg_psql() { # port, psql args...
    local port=$1; shift
    env -u PGOPTIONS -u PGSERVICE "$OMQ_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(_pg_admin_conninfo "$port")" "$@"
}

_pg_isready() { # port
    env -u PGSERVICE "$OMQ_PG_BIN/pg_isready" -q -d "$(_pg_admin_conninfo "$1")" >/dev/null 2>&1
}

# True if something accepts TCP connections on 127.0.0.1:port.
_pg_port_busy() { # port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_pg_conn_string() { # port database
    printf 'Host=127.0.0.1;Port=%s;Username=orleansmq;Database=%s;Pooling=true;Maximum Pool Size=64\n' "$1" "${2:-orleansmq}"
}

# --------------------------------------------------------------------------------------------------
# Installation
# --------------------------------------------------------------------------------------------------
_pg_install() {
    [[ -x $OMQ_PG_BIN/postgres ]] && return 0
    local -a sudo=()
    if ! _pg_is_root; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            _pg_die "PostgreSQL 15 is not installed ($OMQ_PG_BIN/postgres is missing), you are not root and sudo is not available.
  Install it as root:  apt-get update && apt-get install -y postgresql-15
  or use an existing server:  ./orleansmq up --postgres 'Host=...;Username=...;Database=...'  (or set ORLEANSMQ_POSTGRES)"
        fi
    fi
    command -v apt-get >/dev/null 2>&1 ||
        _pg_die "PostgreSQL 15 is not installed ($OMQ_PG_BIN/postgres is missing) and apt-get is not available; install PostgreSQL 15 yourself or pass --postgres CONN"

    mkdir -p "$_omq_pg_root/.orleansmq"
    local log="$_omq_pg_root/.orleansmq/apt.log"
    _pg_say "installing PostgreSQL 15 (apt-get)…${sudo[*]:+ (via sudo; it may ask for your password)} (log: $log)"
    if ! { ${sudo[@]+"${sudo[@]}"} apt-get update &&
           ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15; } >"$log" 2>&1 </dev/null; then
        tail -n 40 "$log" >&2
        _pg_die "installing postgresql-15 with apt-get failed (full log: $log)"
    fi
    [[ -x $OMQ_PG_BIN/postgres ]] || _pg_die "apt-get finished but $OMQ_PG_BIN/postgres is still missing"
    _pg_say "PostgreSQL 15 installed (the Debian package's own cluster/service is not used)"
}

# --------------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------------
# Sets OMQ_PG_BASE, OMQ_PGDATA, OMQ_PG_SOCKDIR, OMQ_PG_LOG, OMQ_PG_LOCK.
# mode=find: only look for an existing cluster (returns 1 if none). mode=create: choose/prepare dirs.
_pg_locate() { # find|create
    local mode=$1
    local repo_base="$_omq_pg_root/.orleansmq"
    local hash; hash=$(printf '%s' "$_omq_pg_root" | sha256sum | cut -c1-12)
    local alt_base="/var/lib/orleansmq/$hash"
    OMQ_PG_LOCK="$repo_base/postgres.lock"

    local base=""
    if [[ -f $repo_base/pg/PG_VERSION ]]; then
        base=$repo_base
    elif _pg_is_root && [[ -f $alt_base/pg/PG_VERSION ]]; then
        base=$alt_base
    elif [[ $mode == find ]]; then
        return 1
    elif _pg_is_root; then
        mkdir -p "$repo_base"
        chmod go+x "$repo_base" 2>/dev/null || true   # traversable (not listable) by the postgres user
        if runuser -u postgres -- test -x "$repo_base" 2>/dev/null &&
           mkdir -p "$repo_base/pg" "$repo_base/pgrun" 2>/dev/null &&
           chown postgres:postgres "$repo_base/pg" "$repo_base/pgrun" 2>/dev/null; then
            base=$repo_base
        else
            rmdir "$repo_base/pg" "$repo_base/pgrun" 2>/dev/null || true
            base=$alt_base
            _pg_say "the postgres OS user cannot reach $repo_base (e.g. repo under /root with mode 700);"
            _pg_say "using $alt_base for the private PostgreSQL cluster instead"
        fi
    else
        base=$repo_base
    fi

    OMQ_PG_BASE=$base
    OMQ_PGDATA="$base/pg"
    OMQ_PG_SOCKDIR="$base/pgrun"
    OMQ_PG_LOG="$base/postgres.log"
    # Unix socket paths are limited to 107 bytes; fall back to /tmp for very deep repo paths.
    if (( ${#OMQ_PG_SOCKDIR} + 16 > 107 )); then
        OMQ_PG_SOCKDIR="/tmp/orleansmq-pg-$hash"
    fi
    if [[ $mode == create ]]; then
        mkdir -p "$repo_base" "$base" "$OMQ_PGDATA" "$OMQ_PG_SOCKDIR"
        if [[ $base == "$alt_base" ]]; then chmod 755 /var/lib/orleansmq "$alt_base"; fi
        chmod 700 "$OMQ_PGDATA"
        touch "$OMQ_PG_LOG"
        if _pg_is_root; then
            chown postgres:postgres "$OMQ_PGDATA" "$OMQ_PG_SOCKDIR" "$OMQ_PG_LOG"
        fi
    fi
    return 0
}

# Port of the running postmaster (line 4 of postmaster.pid), empty if unknown.
_pg_running_port() {
    if [[ -r $OMQ_PGDATA/postmaster.pid ]]; then
        sed -n 4p "$OMQ_PGDATA/postmaster.pid" 2>/dev/null | tr -d '[:space:]'
    fi
    return 0
}

_pg_running() {
    [[ -f $OMQ_PGDATA/PG_VERSION ]] || return 1
    _pg_as_owner "$OMQ_PG_BIN/pg_ctl" -D "$OMQ_PGDATA" status >/dev/null 2>&1
}

_pg_sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# --------------------------------------------------------------------------------------------------
# The real work (runs under a lock so concurrent `up`/`test` don't race on initdb/start).
# --------------------------------------------------------------------------------------------------
_pg_ensure_locked() {
    # 1. initdb if needed
    if [[ ! -f $OMQ_PGDATA/PG_VERSION ]]; then
        # A half-initialized dir (initdb died) has no PG_VERSION: clear it, initdb wants it empty.
        find "$OMQ_PGDATA" -mindepth 1 -delete 2>/dev/null || true
        _pg_say "initializing private PostgreSQL cluster in $OMQ_PGDATA…"
        local initlog="$OMQ_PG_BASE/initdb.log"
        if ! _pg_as_owner "$OMQ_PG_BIN/initdb" -D "$OMQ_PGDATA" -U "$OMQ_PG_SUPERUSER" \
                --auth=trust --encoding=UTF8 --no-locale >"$initlog" 2>&1 </dev/null; then
            tail -n 30 "$initlog" >&2
            _pg_die "initdb failed (log: $initlog)"
        fi
        printf "\n# OrleansMQ dev settings (rewritten by scripts/postgres.sh on every start)\ninclude_if_exists = 'orleansmq.conf'\n" \
            >>"$OMQ_PGDATA/postgresql.conf"
    fi

    # 2. already running? (started earlier by this script: the data dir is private)
    if _pg_running; then
        local rport; rport=$(_pg_running_port)
        OMQ_PG_PORT=${rport:-$OMQ_PG_PORT}
        if [[ -n ${ORLEANSMQ_PG_PORT:-} && $ORLEANSMQ_PG_PORT != "$OMQ_PG_PORT" ]]; then
            _pg_say "warning: private PostgreSQL is already running on port $OMQ_PG_PORT (ORLEANSMQ_PG_PORT=$ORLEANSMQ_PG_PORT ignored; run './orleansmq down' to restart it)"
        fi
    else
        # 3. pick a free port
        if _pg_port_busy "$OMQ_PG_PORT"; then
            if [[ -n ${ORLEANSMQ_PG_PORT:-} ]]; then
                _pg_die "port $OMQ_PG_PORT (ORLEANSMQ_PG_PORT) on 127.0.0.1 is already used by another program; choose another port"
            fi
            local p found=""
            for ((p = OMQ_PG_PORT + 1; p < OMQ_PG_DEFAULT_PORT + 20; p++)); do
                if ! _pg_port_busy "$p"; then found=$p; break; fi
            done
            [[ -n $found ]] || _pg_die "ports $OMQ_PG_DEFAULT_PORT-$((OMQ_PG_DEFAULT_PORT + 19)) on 127.0.0.1 are all in use; set ORLEANSMQ_PG_PORT"
            _pg_say "port $OMQ_PG_PORT is used by another program (another checkout's postgres?); using $found"
            OMQ_PG_PORT=$found
        fi

        # 4. settings (re)written on every start so port/socket changes apply. Durability stays on (fsync,
        #    synchronous_commit, full_page_writes); the WAL settings make checkpoints under a steady message
        #    load come on a timer instead of being forced by WAL volume (171 in 2.5 h of benchmarks with the
        #    1 GB default), each followed by a burst of full-page writes in the commit path.
        local conf="$OMQ_PGDATA/orleansmq.conf"
        cat >"$conf" <<EOF
# Written by scripts/postgres.sh - edits are overwritten on the next start.
listen_addresses = '127.0.0.1'
port = $OMQ_PG_PORT
unix_socket_directories = $(_pg_sql_quote "$OMQ_PG_SOCKDIR")
max_connections = 200
shared_buffers = 512MB
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
fsync = on
synchronous_commit = on
full_page_writes = on
timezone = 'UTC'
log_timezone = 'UTC'
EOF
        if _pg_is_root; then chown postgres:postgres "$conf"; fi

        # 5. start (close the lock fd so the postmaster doesn't inherit - and hold - the lock)
        _pg_say "starting private PostgreSQL on 127.0.0.1:$OMQ_PG_PORT (data: $OMQ_PGDATA, log: $OMQ_PG_LOG)…"
        if ! _pg_as_owner "$OMQ_PG_BIN/pg_ctl" -D "$OMQ_PGDATA" -l "$OMQ_PG_LOG" -w -t 90 -s start \
                </dev/null >&2 9>&-; then
            tail -n 30 "$OMQ_PG_LOG" >&2
            _pg_die "PostgreSQL failed to start (log: $OMQ_PG_LOG)"
        fi
    fi

    # 6. wait until it accepts connections
    local i
    for ((i = 0; i < 120; i++)); do
        _pg_isready "$OMQ_PG_PORT" && break
        sleep 0.5
    done
    _pg_isready "$OMQ_PG_PORT" || {
        tail -n 30 "$OMQ_PG_LOG" >&2
        _pg_die "PostgreSQL on 127.0.0.1:$OMQ_PG_PORT does not accept connections after 60 s (log: $OMQ_PG_LOG)"
    }

    # 7. role + database
    if [[ $(_pg_psql "$OMQ_PG_PORT" -c "select 1 from pg_roles where rolname = 'orleansmq'") != 1 ]]; then
        _pg_say "creating role orleansmq"
        # Superuser is harmless here (trust auth, loopback only) and lets tests create/drop databases freely.
        _pg_psql "$OMQ_PG_PORT" -c "create role orleansmq login superuser createdb" ||
            _pg_die "could not create role orleansmq"
    fi
    if [[ $(_pg_psql "$OMQ_PG_PORT" -c "select 1 from pg_database where datname = 'orleansmq'") != 1 ]]; then
        _pg_say "creating database orleansmq"
        _pg_psql "$OMQ_PG_PORT" -c "create database orleansmq owner orleansmq" ||
            _pg_die "could not create database orleansmq"
    fi
    printf '%s\n' "$OMQ_PG_PORT" >"$OMQ_PG_BASE/postgres.port"
}

# --------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------

# Make sure the private cluster runs; print its connection string (Database=${1:-orleansmq}) on stdout.
ensure_postgres() { # [database]
    local db=${1:-orleansmq}
    OMQ_PG_PORT=${ORLEANSMQ_PG_PORT:-$OMQ_PG_DEFAULT_PORT}
    if ! [[ $OMQ_PG_PORT =~ ^[0-9]+$ ]] || (( OMQ_PG_PORT < 1 || OMQ_PG_PORT > 65535 )); then
        _pg_die "ORLEANSMQ_PG_PORT must be a TCP port number, got '$OMQ_PG_PORT'"
    fi
    _pg_install
    _pg_locate create

    # The lock is taken in a subshell; it publishes the final port through a file.
    local portfile; portfile=$(mktemp)
    (
        exec 9>"$OMQ_PG_LOCK"
        flock -w 180 9 || _pg_die "timed out waiting for $OMQ_PG_LOCK (another orleansmq is starting postgres?)"
        _pg_ensure_locked
        printf '%s\n' "$OMQ_PG_PORT" >"$portfile"
    ) || { rm -f "$portfile"; return 1; }
    OMQ_PG_PORT=$(<"$portfile")
    rm -f "$portfile"
    _pg_say "postgres ready at 127.0.0.1:$OMQ_PG_PORT"
    _pg_conn_string "$OMQ_PG_PORT" "$db"
}

# Stop the private cluster if it is running (pg_ctl stop -m fast).
stop_postgres() {
    if [[ ! -x $OMQ_PG_BIN/pg_ctl ]] || ! _pg_locate find; then
        _pg_say "no private PostgreSQL cluster to stop"
        return 0
    fi
    if _pg_is_root && ! id postgres >/dev/null 2>&1; then return 0; fi
    if _pg_running; then
        _pg_say "stopping private PostgreSQL (data: $OMQ_PGDATA)…"
        _pg_as_owner "$OMQ_PG_BIN/pg_ctl" -D "$OMQ_PGDATA" -m fast -w -t 60 -s stop </dev/null >&2 ||
            _pg_die "pg_ctl stop failed (log: $OMQ_PG_LOG)"
        _pg_say "private PostgreSQL stopped"
    else
        _pg_say "private PostgreSQL is not running"
    fi
}

# Print the state; returns 0 if running.
postgres_status() {
    if [[ ! -x $OMQ_PG_BIN/pg_ctl ]]; then echo "PostgreSQL 15 not installed"; return 1; fi
    if ! _pg_locate find; then echo "no private cluster yet (created on first './orleansmq up' or 'test')"; return 1; fi
    if _pg_running; then
        local port; port=$(_pg_running_port)
        echo "running on 127.0.0.1:$port (data: $OMQ_PGDATA)"
        _pg_conn_string "$port" orleansmq
        return 0
    fi
    echo "stopped (data: $OMQ_PGDATA)"
    return 1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
        ensure) ensure_postgres "${2:-orleansmq}" ;;
        conn) ensure_postgres "${2:-orleansmq}" 2>/dev/null ;;
        stop) stop_postgres ;;
        status) postgres_status ;;
        psql)
            shift
            conn=$(ensure_postgres)
            port=${conn#*Port=}; port=${port%%;*}
            exec "$OMQ_PG_BIN/psql" -X -d "host=127.0.0.1 port=$port user=orleansmq dbname=orleansmq sslmode=disable" "$@"
            ;;
        *)
            echo "usage: $0 ensure [database] | conn [database] | stop | status | psql [psql args...]" >&2
            exit 2
            ;;
    esac
fi
