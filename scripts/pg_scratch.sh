#!/usr/bin/env bash
# A private, throw-away PostgreSQL 15 cluster for the demo, the tests and the
# benchmarks: its own data directory, socket directory and port on loopback.
# No system cluster is touched.
#
#   scripts/pg_scratch.sh start     initdb if needed, start, create database
#   scripts/pg_scratch.sh stop      stop it (data kept)
#   scripts/pg_scratch.sh destroy   stop it and remove the data directory
#   scripts/pg_scratch.sh crash     stop it the hard way (immediate: no checkpoint)
#   scripts/pg_scratch.sh env       print the PG* variables to reach it
#
# Settings: PD_PORT (default 55432), PD_DB (default pre_delinquency),
#           PD_SCRATCH (default /tmp/pre_delinquency.$PD_PORT),
#           PD_EXTRA_CONF (lines appended to postgresql.conf at initdb, e.g.
#           shared_preload_libraries and the pipeline's GUCs),
#           PG_CONFIG (which PostgreSQL 15 installation; scripts/pg_private.sh
#           makes a private copy so parallel checkouts do not share one),
#           PD_SERVER_ENV (VAR=value words added to the server's environment,
#           e.g. LD_PRELOAD and ASAN_OPTIONS for make test-asan).
set -euo pipefail

PD_PORT=${PD_PORT:-55432}
PD_DB=${PD_DB:-pre_delinquency}
PD_SCRATCH=${PD_SCRATCH:-/tmp/pre_delinquency.$PD_PORT}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
DATA=$PD_SCRATCH/data
SOCK=$PD_SCRATCH/sock
LOG=$PD_SCRATCH/postgres.log

# Postgres refuses to run as root: as root, the server runs as 'postgres'.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

owner() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }

print_env() {
	echo "export PGHOST=$SOCK PGPORT=$PD_PORT PGDATABASE=$PD_DB PGUSER=$(owner)"
}

start() {
	mkdir -p "$PD_SCRATCH"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$PD_SCRATCH"
	if [ ! -f "$DATA/PG_VERSION" ]; then
		as_owner mkdir -p "$SOCK"
		as_owner "$PGBIN/initdb" -D "$DATA" -U "$(owner)" -E UTF8 --locale=C.UTF-8 \
			-A trust >"$PD_SCRATCH/initdb.log" 2>&1 ||
			{ cat "$PD_SCRATCH/initdb.log" >&2; exit 1; }
		cat >>"$DATA/postgresql.conf" <<CONF
# pre_delinquency scratch settings: loopback only, fast and disposable
listen_addresses = '127.0.0.1'
port = $PD_PORT
unix_socket_directories = '$SOCK'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 8GB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
timezone = 'UTC'
CONF
		if [ -n "${PD_EXTRA_CONF:-}" ]; then
			printf '%s\n' "$PD_EXTRA_CONF" >>"$DATA/postgresql.conf"
		fi
	fi
	if as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
		:
	elif ! as_owner env ${PD_SERVER_ENV:-} "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
		tail -20 "$LOG" >&2
		echo "The scratch PostgreSQL did not start (log: $LOG). Is port $PD_PORT taken? Try PD_PORT=<free port>." >&2
		exit 1
	fi
	eval "$(print_env)"
	if ! psql -qAtX -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PD_DB'" | grep -q 1; then
		createdb "$PD_DB"
	fi
}

stop() {
	if [ -f "$DATA/PG_VERSION" ]; then
		as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
destroy) stop; rm -rf "$PD_SCRATCH" ;;
crash) as_owner "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null ;;
env) print_env ;;
*) echo "usage: $0 start|stop|crash|destroy|env" >&2; exit 2 ;;
esac
