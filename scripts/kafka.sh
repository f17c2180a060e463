#!/usr/bin/env bash
# A real Apache Kafka for the tests: fetched with Maven into the build tree,
# run as a single-node KRaft broker (broker and controller in one JVM,
# replication factor 1, loopback only).
#
#   scripts/kafka.sh fetch                      download Kafka into build/kafka/lib (once)
#   scripts/kafka.sh start <dir> <port> [key=value ...]
#                                               format <dir> if new, start, wait until
#                                               ready; prints bootstrap.servers=127.0.0.1:<port>
#                                               (controller on <port>+1; key=value pairs
#                                               override server.properties for this start)
#   scripts/kafka.sh stop <dir>                 clean stop (SIGTERM, wait)
#   scripts/kafka.sh kill <dir>                 SIGKILL; start <dir> <port> restarts on the same data
#   scripts/kafka.sh create-topics <port> <name>:<partitions> ...
#                                               through the Admin API (Kafka's TopicCommand)
#   scripts/kafka.sh run <main class> args...   any Kafka tool class from the cached jars,
#                                               e.g. org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
#
# The broker does not create topics on first use (auto.create.topics.enable
# = false, as on a bank's cluster): create them with create-topics first.
# <dir> holds server.properties, data/, server.log, kafka.out and kafka.pid.
# Env: KAFKA_HEAP (default 512m), KAFKA_START_TIMEOUT (seconds, default 120),
# KAFKA_JAVA_OPTS (more JVM options), KAFKA_FULL_JIT=1 (the C2 compiler too: for
# benchmarks; start-up costs more CPU).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pom=$root/scripts/kafka/pom.xml
cache=$root/build/kafka
lib=$cache/lib
heap=${KAFKA_HEAP:-512m}
archive=$cache/broker.jsa

die() {
	echo "kafka.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '5,17p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- fetch -------------------------------------------------------------------
# The cache is complete when lib.stamp holds the checksum of the pom that
# filled it; a changed pom or an interrupted download fetches again.
fetch() {
	command -v java >/dev/null || die "java is missing: run 'make deps' (installs openjdk-17-jre-headless)."
	command -v mvn >/dev/null || die "mvn is missing: run 'make deps' (installs maven)."
	local want log
	want=$(sha256sum "$pom" | cut -d' ' -f1)
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	if [ "$(cat "$cache/lib.stamp" 2>/dev/null)" = "$want" ] && [ -d "$lib" ]; then
		exec 9>&-
		return 0
	fi
	log=$cache/fetch.log
	rm -rf "$lib" "$lib.tmp" "$cache/lib.stamp" "$archive"
	if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
		-DoutputDirectory="$lib.tmp" >"$log" 2>&1; then
		tail -15 "$log" >&2
		die "could not download Apache Kafka with Maven (log above, full log $log).
Maven needs to reach https://repo.maven.apache.org (or a mirror in ~/.m2/settings.xml);
check the network or proxy, then run 'scripts/kafka.sh fetch' again."
	fi
	mv "$lib.tmp" "$lib"
	echo "$want" >"$cache/lib.stamp"
	exec 9>&-
}

# A small, quiet JVM (the machine running the tests also runs Postgres):
# sets the array java_cmd.
java_small() { # heap, log4j2 config
	# shellcheck disable=SC2206 # KAFKA_JAVA_OPTS: several words
	java_cmd=(java "-Xmx$1" -Xms64m -XX:+UseSerialGC -Djava.awt.headless=true
		"-Dlog4j2.configurationFile=$2" -cp "$lib/*" ${KAFKA_JAVA_OPTS:-})
}

# A Kafka tool: short-lived, so the quick-start JIT level.
tool() { # main class, args...
	fetch
	java_small 256m "$root/scripts/kafka/log4j2-tools.properties"
	"${java_cmd[@]}" -XX:TieredStopAtLevel=1 "$@"
}

# --- the broker ----------------------------------------------------------------
# Start-up costs CPU the tests' Postgres needs: on the shared 2-CPU CI machine
# a broker took ~9 CPU seconds to be ready. Two options cut that to ~3.5:
# the C1 compiler only (a test broker never runs long enough for C2 to pay
# off) and a class-data-sharing archive of the broker's classes (no parsing
# and verifying of ~5,000 classes), which the first broker that stops cleanly
# writes and later ones map. A stale archive (new jars, another JVM) is
# refused by the JVM, which then starts the slow way.
start_up_options() { # dir
	# a benchmark's broker runs long enough for C2: KAFKA_FULL_JIT=1
	[ "${KAFKA_FULL_JIT:-0}" = 1 ] || echo -XX:TieredStopAtLevel=1
	if [ -s "$archive" ]; then
		echo "-XX:SharedArchiveFile=$archive"
	else
		echo "-XX:ArchiveClassesAtExit=$1/broker.jsa"
	fi
}

# After a clean stop: keep the archive the broker wrote, if none is kept yet.
keep_archive() { # dir
	if [ -s "$1/broker.jsa" ] && [ ! -s "$archive" ]; then
		cp "$1/broker.jsa" "$archive.$$" && mv -f "$archive.$$" "$archive"
	fi
	rm -f "$archive.$$"
}

# The pid in <dir>/kafka.pid, if that process is still this directory's broker
# (a pid file can outlive its process, and the pid be reused by another).
running_pid() { # dir
	local pid
	pid=$(cat "$1/kafka.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$1/server.properties"
	echo "$pid"
}

write_config() { # dir, port, key=value overrides...
	local dir=$1 port=$2
	shift 2
	cat >"$dir/server.properties" <<-EOF
		# written by scripts/kafka.sh on every start
		process.roles=broker,controller
		node.id=1
		controller.quorum.voters=1@127.0.0.1:$((port + 1))
		listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
		advertised.listeners=PLAINTEXT://127.0.0.1:$port
		controller.listener.names=CONTROLLER
		inter.broker.listener.name=PLAINTEXT
		listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
		log.dirs=$dir/data
		auto.create.topics.enable=false
		num.partitions=1
		default.replication.factor=1
		min.insync.replicas=1
		offsets.topic.replication.factor=1
		transaction.state.log.replication.factor=1
		transaction.state.log.min.isr=1
		share.coordinator.state.topic.replication.factor=1
		share.coordinator.state.topic.min.isr=1
		# 3 s by default, added to a new group's first join, to gather more
		# members; the tests have one (Kafka's sample config says 0 as well)
		group.initial.rebalance.delay.ms=0
	EOF
	local kv
	for kv in "$@"; do
		[[ $kv == *=* ]] || die "'$kv' is not key=value"
		echo "$kv" >>"$dir/server.properties"
	done
}

start() { # dir, port, overrides...
	[ $# -ge 2 ] || usage
	local dir port pid id
	mkdir -p "$1"
	dir=$(cd "$1" && pwd)
	port=$2
	shift 2
	[[ $port =~ ^[0-9]+$ ]] || die "port '$port' is not a number"
	fetch
	if pid=$(running_pid "$dir"); then # already up: say where
		echo "bootstrap.servers=$(sed -n 's|^advertised.listeners=PLAINTEXT://||p' "$dir/server.properties")"
		return 0
	fi
	for p in "$port" $((port + 1)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			die "port $p is in use by another process: choose other ports (broker <port>, controller <port>+1)."
		fi
	done
	write_config "$dir" "$port" "$@"
	if [ ! -f "$dir/data/meta.properties" ]; then
		# A cluster id is a uuid in URL-safe base64: one in 64 starts with
		# '-', which the tool's argument parser takes for an option ("argument
		# --cluster-id: expected one argument": a broker that failed to start
		# now and then). Kafka's own random-uuid never starts with '-'; nor
		# does this one, and '=' passes it as a value whatever it starts with.
		id=$(python3 -c 'import base64, uuid
while True:
    i = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not i.startswith("-"):
        break
print(i)')
		java_small 256m "$root/scripts/kafka/log4j2-tools.properties"
		if ! "${java_cmd[@]}" kafka.tools.StorageTool format "--cluster-id=$id" -c "$dir/server.properties" >"$dir/format.out" 2>&1; then
			cat "$dir/format.out" >&2
			die "could not format $dir/data (output above)."
		fi
	fi
	# server.log keeps the earlier runs (a killed broker's last words); the
	# readiness line must come after this start's first line.
	local from
	touch "$dir/server.log"
	from=$(($(wc -l <"$dir/server.log") + 1))
	# setsid: the broker is not in the caller's process group, so a ^C in a
	# test does not kill it before the test's own clean-up stops it.
	java_small "$heap" "$root/scripts/kafka/log4j2-broker.properties"
	setsid "${java_cmd[@]}" $(start_up_options "$dir") "-Dkafka.logs.dir=$dir" \
		kafka.Kafka "$dir/server.properties" >"$dir/kafka.out" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/kafka.pid"
	local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
	until tail -n "+$from" "$dir/server.log" 2>/dev/null | grep -q 'Kafka Server started'; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/kafka.pid"
			tail -n 20 "$dir/kafka.out" "$dir/server.log" >&2
			die "the broker in $dir exited during start-up (logs above)."
		fi
		if [ $SECONDS -ge $deadline ]; then
			tail -20 "$dir/server.log" >&2
			kill -KILL "$pid" 2>/dev/null
			rm -f "$dir/kafka.pid"
			die "the broker in $dir was not ready after ${KAFKA_START_TIMEOUT:-120} s (log above); killed it."
		fi
		sleep 0.2
	done
	echo "bootstrap.servers=127.0.0.1:$port"
}

wait_gone() { # pid, seconds
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

stop() { # dir
	[ $# -eq 1 ] || usage
	local dir pid
	dir=$(cd "$1" 2>/dev/null && pwd) || return 0
	if pid=$(running_pid "$dir"); then
		kill -TERM "$pid" 2>/dev/null || true
		if wait_gone "$pid" 60; then
			keep_archive "$dir"
		else
			echo "kafka.sh: the broker in $dir did not stop within 60 s; killed it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone "$pid" 10 || true
		fi
	fi
	rm -f "$dir/kafka.pid" "$dir/broker.jsa"
}

kill_broker() { # dir
	[ $# -eq 1 ] || usage
	local dir pid
	dir=$(cd "$1" 2>/dev/null && pwd) || return 0
	if pid=$(running_pid "$dir"); then
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 10 || die "the broker $pid in $dir survived SIGKILL?"
	fi
	rm -f "$dir/kafka.pid"
}

create_topics() { # port, name:partitions...
	[ $# -ge 2 ] || usage
	local port=$1 spec name parts
	shift
	fetch
	for spec in "$@"; do
		name=${spec%%:*}
		parts=${spec#*:}
		[[ $spec == *:* && $parts =~ ^[0-9]+$ ]] || die "'$spec' is not <name>:<partitions>"
		(tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" \
			--create --if-not-exists --topic "$name" --partitions "$parts" \
			--replication-factor 1 >/dev/null) || die "could not create topic $name on 127.0.0.1:$port"
	done
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case $cmd in
fetch) fetch ;;
start) start "$@" ;;
stop) stop "$@" ;;
kill) kill_broker "$@" ;;
create-topics) create_topics "$@" ;;
run)
	[ $# -ge 1 ] || usage
	tool "$@"
	;;
*) usage ;;
esac
