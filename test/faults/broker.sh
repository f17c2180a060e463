# The broker under test, for test/faults/run.sh: the real Apache Kafka
# (scripts/kafka.sh, single-node KRaft, data kept across kill and restart) or,
# for developing the harness only, bin/pd_broker (in memory: a restart loses
# every message, no quotas, 5 MB per partition). Source it; set
# PD_FAULTS_BROKER (kafka | pd_broker), kafka_port and work first.
# Sets $brokers (bootstrap servers).

broker_pid=
broker_kind=${PD_FAULTS_BROKER:-kafka}

broker_start() {
	case $broker_kind in
	kafka)
		brokers=$(scripts/kafka.sh start "$work/kafka" "$kafka_port" 2>"$work/kafka.err" |
			sed -n 's/^bootstrap.servers=//p' | tail -1)
		[ -n "$brokers" ] || { echo "Apache Kafka did not start:"; tail -20 "$work/kafka.err"; return 1; } ;;
	pd_broker)
		bin/pd_broker --partitions 6 --port "$kafka_port" >"$work/broker.out" 2>"$work/broker.err" &
		broker_pid=$!
		for _ in $(seq 50); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
		brokers=$(head -1 "$work/broker.out" | sed 's/^bootstrap.servers=//')
		[ -n "$brokers" ] || { echo "pd_broker did not start:"; cat "$work/broker.err"; return 1; } ;;
	*) echo "PD_FAULTS_BROKER must be kafka or pd_broker, not $broker_kind"; return 1 ;;
	esac
}

# The three topics, transactions-stream with room for 10 MB messages.
broker_topics() {
	[ "$broker_kind" = kafka ] || return 0
	bin/pd_topics --brokers "$brokers" --partitions 6 --config max.message.bytes=16777216 \
		transactions-stream >/dev/null &&
		bin/pd_topics --brokers "$brokers" --partitions 3 predictions-stream interventions-stream >/dev/null
}

broker_kill() { # SIGKILL
	case $broker_kind in
	kafka) scripts/kafka.sh kill "$work/kafka" >/dev/null 2>&1 ;;
	pd_broker) kill -9 "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; broker_pid= ;;
	esac
}

broker_stop() {
	case $broker_kind in
	kafka) scripts/kafka.sh stop "$work/kafka" >/dev/null 2>&1 ;;
	pd_broker) [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; broker_pid= ;;
	esac
}

# Can the broker come back with its messages after a kill?
broker_keeps_data() { [ "$broker_kind" = kafka ]; }

# A produce quota on the relay's client id (pre_delinquency-relay): the broker
# delays its acknowledgements (throttle) so that deliveries are in flight for
# a long time. $1 = bytes per second, or "off".
broker_throttle_relay() {
	[ "$broker_kind" = kafka ] || return 0
	local change
	if [ "$1" = off ]; then change=(--delete-config producer_byte_rate); else change=(--add-config "producer_byte_rate=$1"); fi
	scripts/kafka.sh run org.apache.kafka.tools.ConfigCommand --bootstrap-server "$brokers" --alter \
		--entity-type clients --entity-name pre_delinquency-relay "${change[@]}" >"$work/quota.log" 2>&1 ||
		{ echo "could not set the relay's quota:"; tail -5 "$work/quota.log"; return 1; }
}
