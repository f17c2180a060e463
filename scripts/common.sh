# Shared by demo.sh, test.sh and bench.sh: build, install, start the scratch
# cluster and point psql at it. Source it; it changes nothing by itself.

PD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PD_PORT=${PD_PORT:-55432}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Build and install quietly; on failure show the compiler's output.
# The workers' librdkafka settings against the embedded broker (pd_broker).
# librdkafka's mock cluster answers a fetch that finds no data only after the
# consumer's whole fetch.wait.max.ms (10 ms by the ingest worker's default),
# even when data arrives meanwhile (rdkafka_mock_handlers.c: "This isn't
# strictly correct"); a real broker answers as soon as data arrives. 1 ms
# keeps that artefact of the mock out of the latencies make demo and make
# bench print.
PD_MOCK_KAFKA_PROPERTIES='fetch.wait.max.ms=1'

# The ports the scripts listen on, 55430-55499, taken out of the kernel's
# range for outgoing connections' local ports (32768-60999 by default): a
# make test on 2026-11-27 had a cluster and a Kafka broker fail to start with
# "Address already in use", their ports held by the local ends of other
# loopback connections. Only as root; the range stays reserved (nothing else
# is affected but which local ports outgoing connections get).
reserve_listen_ports() {
	local file=/proc/sys/net/ipv4/ip_local_reserved_ports range=55430-55499 current
	[ -w "$file" ] || return 0
	current=$(cat "$file")
	case ",$current," in *",$range,"*) return 0 ;; esac
	echo "${current:+$current,}$range" >"$file" 2>/dev/null || true
}

build_and_install() {
	local log
	log=$(mktemp)
	if ! make -C "$PD_ROOT" -s >"$log" 2>&1 || ! make -C "$PD_ROOT" -s install >>"$log" 2>&1; then
		cat "$log" >&2
		echo "The build failed (output above)." >&2
		rm -f "$log"
		exit 1
	fi
	rm -f "$log"
}

start_scratch() {
	"$PD_ROOT/scripts/pg_scratch.sh" start
	eval "$("$PD_ROOT/scripts/pg_scratch.sh" env)"
}

# A fresh database with the extension: $1 = name.
fresh_database() {
	PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
	psql -qX -d "$1" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pre_delinquency" >/dev/null
}
