/*
 * pd_simulate.c
 *    The seed system's simulator in C: sends COUNT transaction events as
 *    JSON to Kafka (transactions-stream), DELAY_MS apart, keyed by
 *    customer_id, through an idempotent producer with acks=all. Live events
 *    continue the customers of a database plausibly; --replay streams the
 *    stored history instead; --bad-fraction mixes in malformed events.
 *
 * Owns the command line, pacing, producing and the summary; the customers'
 * behaviour is sim_bank.c's, the JSON sim_events.c's, the database reads
 * sim_db.c's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "sim_bank.h"
#include "sim_db.h"
#include "sim_events.h"
#include "tool_util.h"

#define DEFAULT_TOPIC   "transactions-stream"
#define DEFAULT_BROKERS "127.0.0.1:9092"

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: pd_simulate [OPTIONS] COUNT DELAY_MS\n"
	    "\n"
	    "Sends COUNT transaction events (JSON, key = customer_id) to Kafka, "
	    "DELAY_MS\n"
	    "milliseconds apart (0: as fast as possible, batched), through an "
	    "idempotent\n"
	    "producer (acks=all), waits for every delivery report and prints a "
	    "one-line\n"
	    "summary. Exit status 0 if every event was delivered, 1 if not, 2 "
	    "for usage.\n"
	    "\n"
	    "  COUNT      events to send; 0: until Ctrl-C (with --replay: every "
	    "row)\n"
	    "  DELAY_MS   pause between events in milliseconds, fractions "
	    "allowed\n"
	    "             (0.2: 5000 events/s); the schedule is absolute, so "
	    "the rate holds\n"
	    "\n"
	    "Options:\n"
	    "  --brokers LIST       bootstrap servers (default $PD_BROKERS, "
	    "else " DEFAULT_BROKERS ")\n"
	    "  --topic NAME         topic (default " DEFAULT_TOPIC ")\n"
	    "  --dsn CONNINFO       read the customers of this database "
	    "(pre_delinquency\n"
	    "                       schema); \"\" uses the PG* environment. "
	    "Without it the\n"
	    "                       customers are made up (ingest will "
	    "dead-letter them).\n"
	    "  --customers N        customers to simulate: a sample of the "
	    "database's\n"
	    "                       chosen by the seed (default 10000, 0: all), "
	    "or N made\n"
	    "                       up ones (default 1000)\n"
	    "  --seed N             seed of every choice (default: random, "
	    "printed); event\n"
	    "                       ids are fresh uuids on every run\n"
	    "  --stress-fraction F  share of customers behaving stressed: more "
	    "cash,\n"
	    "                       failed autodebits, late or short salaries, "
	    "less\n"
	    "                       discretionary spending (default 0.1)\n"
	    "  --bad-fraction F     share of events sent malformed, evenly "
	    "spread, kinds in\n"
	    "                       turn: truncated JSON, wrong type, unknown "
	    "customer,\n"
	    "                       negative amount, unknown category, missing "
	    "field,\n"
	    "                       binary garbage (header pd-bad names the "
	    "kind; default 0)\n"
	    "  --replay FROM TO     instead of new events, stream the stored "
	    "transactions\n"
	    "                       with txn_time in [FROM, TO) in time order, "
	    "with their\n"
	    "                       event_id (needs --dsn; dates are UTC days; a "
	    "row whose\n"
	    "                       slot --bad-fraction takes is sent malformed "
	    "instead)\n"
	    "  -X KEY=VALUE         a librdkafka producer property (repeatable), "
	    "e.g.\n"
	    "                       -X security.protocol=SASL_SSL\n"
	    "  -h, --help           this help\n"
	    "\n"
	    "Live events happen now (txn_time = event_time = the time sent): "
	    "salaries near\n"
	    "each customer's salary_day, bills, everyday spending at the "
	    "customer's own\n"
	    "merchants (M000123-style ids), transfers and refunds, in the mix of "
	    "the\n"
	    "synthetic bank. Partitioner murmur2_random (Java's), lz4 "
	    "compression.\n");
}

/* ------------------------------------------------------------------------
 * Delivery reports and signals
 * ------------------------------------------------------------------------
 */
typedef struct Deliveries
{
	long ok;
	long failed;
	char first_error[256];
} Deliveries;

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void) sig;
	stop_requested++;
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	Deliveries *d = opaque;

	(void) rk;
	if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		d->ok++;
	else
	{
		if (d->failed++ == 0)
			snprintf(d->first_error, sizeof(d->first_error), "%s",
			         rd_kafka_err2str(msg->err));
	}
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	static int reported;
	char fatal[256];

	(void) opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		tool_warn("fatal producer error: %s", fatal);
		stop_requested = 2;
		return;
	}
	/* brokers down and the like: say it a few times, not thousands */
	if (reported++ < 5)
		tool_warn("kafka: %s", reason);
}

/* ------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------
 */
typedef struct Options
{
	long count;
	double delay_ms;
	const char *brokers;
	const char *topic;
	const char *dsn; /* NULL: made-up customers */
	long customers;  /* -1: the default */
	uint64_t seed;
	bool seed_given;
	double stress_fraction;
	double bad_fraction;
	const char *replay_from; /* NULL: live events */
	const char *replay_to;
	const char *props[64];
	int nprops;
} Options;

static void
parse_options(int argc, char **argv, Options *o)
{
	const char *positional[2];
	int npositional = 0;
	const char *env = getenv("PD_BROKERS");

	memset(o, 0, sizeof(*o));
	o->brokers = env && *env ? env : DEFAULT_BROKERS;
	o->topic = DEFAULT_TOPIC;
	o->customers = -1;
	o->stress_fraction = 0.1;

	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		long l;
		unsigned long long ull;
		char *end;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		{
			usage(stdout);
			exit(0);
		}
		else if (tool_is_option(arg, "--brokers"))
			o->brokers = tool_option_value(argc, argv, &i);
		else if (tool_is_option(arg, "--topic"))
			o->topic = tool_option_value(argc, argv, &i);
		else if (tool_is_option(arg, "--dsn"))
			o->dsn = tool_option_value(argc, argv, &i);
		else if (tool_is_option(arg, "--customers"))
		{
			if (!tool_parse_long(tool_option_value(argc, argv, &i), 0,
			                     100000000, &l))
				tool_die(TOOL_EXIT_USAGE, "--customers: a number >= 0");
			o->customers = l;
		}
		else if (tool_is_option(arg, "--seed"))
		{
			const char *v = tool_option_value(argc, argv, &i);

			ull = strtoull(v, &end, 10);
			if (*v == '\0' || *v == '-' || *end != '\0')
				tool_die(TOOL_EXIT_USAGE, "--seed: a number >= 0");
			o->seed = ull;
			o->seed_given = true;
		}
		else if (tool_is_option(arg, "--stress-fraction"))
		{
			if (!tool_parse_double(tool_option_value(argc, argv, &i), 0, 1,
			                       &o->stress_fraction))
				tool_die(TOOL_EXIT_USAGE,
				         "--stress-fraction: a number from 0 to 1");
		}
		else if (tool_is_option(arg, "--bad-fraction"))
		{
			if (!tool_parse_double(tool_option_value(argc, argv, &i), 0, 1,
			                       &o->bad_fraction))
				tool_die(TOOL_EXIT_USAGE,
				         "--bad-fraction: a number from 0 to 1");
		}
		else if (strcmp(arg, "--replay") == 0)
		{
			if (i + 2 >= argc)
				tool_die(TOOL_EXIT_USAGE,
				         "--replay needs FROM and TO (see --help)");
			o->replay_from = argv[++i];
			o->replay_to = argv[++i];
		}
		else if (strncmp(arg, "-X", 2) == 0)
		{
			const char *v =
			    arg[2] ? arg + 2 : tool_option_value(argc, argv, &i);

			if (o->nprops == (int) (sizeof(o->props) / sizeof(o->props[0])))
				tool_die(TOOL_EXIT_USAGE, "too many -X options");
			o->props[o->nprops++] = v;
		}
		else if (arg[0] == '-' && arg[1] != '\0' &&
		         !(arg[1] >= '0' && arg[1] <= '9'))
			tool_die(TOOL_EXIT_USAGE, "unknown option \"%s\" (see --help)",
			         arg);
		else if (npositional < 2)
			positional[npositional++] = arg;
		else
			tool_die(TOOL_EXIT_USAGE,
			         "unexpected argument \"%s\" (see --help)", arg);
	}
	if (npositional != 2)
		tool_die(TOOL_EXIT_USAGE,
		         "usage: pd_simulate [OPTIONS] COUNT DELAY_MS (see --help)");
	if (!tool_parse_long(positional[0], 0, 1000000000000L, &o->count))
		tool_die(TOOL_EXIT_USAGE, "COUNT: a number of events >= 0");
	if (!tool_parse_double(positional[1], 0, 86400000.0, &o->delay_ms))
		tool_die(TOOL_EXIT_USAGE,
		         "DELAY_MS: milliseconds >= 0 (fractions allowed: 0.2 is "
		         "5000 events/s)");
	if (o->replay_from != NULL && o->dsn == NULL)
		tool_die(TOOL_EXIT_USAGE,
		         "--replay reads the stored history: give --dsn too");
	if (!o->seed_given)
		o->seed = tool_random_seed() >> 16; /* short enough to retype */
}

/* ------------------------------------------------------------------------
 * Producing
 * ------------------------------------------------------------------------
 */
static rd_kafka_t *
make_producer(const Options *o, Deliveries *d)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	rd_kafka_t *rk;

	tool_kafka_set(conf, "bootstrap.servers", o->brokers);
	tool_kafka_set(conf, "client.id", "pd_simulate");
	tool_kafka_set(conf, "enable.idempotence", "true");
	tool_kafka_set(conf, "acks", "all");
	tool_kafka_set(conf, "partitioner", "murmur2_random");
	tool_kafka_set(conf, "compression.type", "lz4");
	tool_kafka_set(conf, "message.timeout.ms", "30000");
	/*
	 * Paced events wait librdkafka's default 5 ms for company, as a
	 * producer left at its defaults does (0 made a request per event, and a
	 * broker on the same two cores spent a core on them: make bench's end
	 * to end at 5,000 events/s measured the broker); a flood is batched.
	 * The wait counts in the end-to-end latency: event_time is taken
	 * before it.
	 */
	tool_kafka_set(conf, "linger.ms", o->delay_ms > 0 ? "5" : "10");
	tool_kafka_set(conf, "socket.nagle.disable", "true");
	tool_kafka_set(conf, "batch.num.messages", "10000");
	tool_kafka_set(conf, "queue.buffering.max.messages", "1000000");
	tool_kafka_set(conf, "queue.buffering.max.kbytes", "1048576");
	/* errors reach on_error, which keeps them short; no duplicate logs */
	tool_kafka_set(conf, "log_level", "2");
	for (int i = 0; i < o->nprops; i++)
		tool_kafka_set_pair(conf, o->props[i]);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, tool_kafka_log);
	rd_kafka_conf_set_opaque(conf, d);

	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL)
		tool_die(TOOL_EXIT_FAILURE, "cannot create the producer: %s", err);
	return rk;
}

/*
 * Asks for the topic's partitions before the first event: a producer that
 * learns of a topic only when its first message is queued may wait for its
 * next periodic scan (a second) before sending anything. A broker that
 * does not answer is only warned about: the deliveries will tell.
 */
static void
fetch_topic_metadata(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;

	if (rkt == NULL)
		tool_die(TOOL_EXIT_USAGE, "topic \"%s\": %s", topic,
		         rd_kafka_err2str(rd_kafka_last_error()));
	err = rd_kafka_metadata(rk, 0, rkt, &md, 3000);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		tool_warn("no metadata for topic %s yet: %s", topic,
		          rd_kafka_err2str(err));
	else
	{
		if (md->topic_cnt == 1 && md->topics[0].err != 0)
			tool_warn("topic %s: %s", topic,
			          rd_kafka_err2str(md->topics[0].err));
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
}

/* Hands one message to librdkafka, waiting while its queue is full. */
static bool
produce(rd_kafka_t *rk, const char *topic, const Payload *p,
        const char *bad_kind, Deliveries *d)
{
	rd_kafka_resp_err_t err;

	for (;;)
	{
		if (bad_kind != NULL)
			err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
			                        RD_KAFKA_V_KEY(p->key, strlen(p->key)),
			                        RD_KAFKA_V_VALUE(p->data, p->len),
			                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			                        RD_KAFKA_V_HEADER("pd-bad", bad_kind, -1),
			                        RD_KAFKA_V_END);
		else
			err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
			                        RD_KAFKA_V_KEY(p->key, strlen(p->key)),
			                        RD_KAFKA_V_VALUE(p->data, p->len),
			                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			                        RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(rk, 50);
		if (stop_requested > 1)
			break;
	}
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		if (d->failed++ == 0)
			snprintf(d->first_error, sizeof(d->first_error), "%s",
			         rd_kafka_err2str(err));
		return false;
	}
	return true;
}

/* Waits until the monotonic time target, serving delivery reports. */
static void
wait_until(rd_kafka_t *rk, double target)
{
	double left;

	while (!stop_requested && (left = target - tool_monotonic()) > 0)
	{
		if (left > 0.002)
			rd_kafka_poll(rk, (int) (left * 1000) - 1);
		else
		{
			struct timespec ts = {0, (long) (left * 1e9)};

			nanosleep(&ts, NULL);
		}
	}
}

int
main(int argc, char **argv)
{
	Options o;
	SimBank bank;
	SimReplay replay = {0};
	PGconn *conn = NULL;
	Deliveries deliveries = {0};
	rd_kafka_t *rk;
	Payload payload = {0};
	ToolRng bad_rng;
	long bad_by_kind[N_BAD_KINDS] = {0};
	long sent = 0;
	long bad = 0;      /* malformed events handed to the producer */
	long bad_made = 0; /* malformed events made, for the kinds' turns */
	double start;
	double elapsed;

	tool_name = "pd_simulate";
	parse_options(argc, argv, &o);

	sim_bank_init(&bank, o.seed, o.stress_fraction);
	tool_rng_seed(&bad_rng, o.seed, 5);
	if (o.dsn != NULL)
		conn = sim_db_connect(o.dsn);
	if (o.replay_from == NULL)
	{
		if (conn != NULL)
		{
			sim_db_load_bank(conn, &bank,
			                 o.customers >= 0 ? o.customers : 10000, o.seed);
			if (bank.ncustomers == 0)
				tool_die(TOOL_EXIT_FAILURE,
				         "pre_delinquency.customers is empty: load customers "
				         "or generate a bank first, e.g. SELECT * FROM "
				         "pre_delinquency.generate_synthetic(1000, 180, 1)");
		}
		else
		{
			sim_bank_make_up(&bank,
			                 o.customers > 0 ? (int) o.customers : 1000);
			sim_bank_finish(&bank);
		}
		fprintf(
		    stderr, "%s: %d customers %s (%d stressed), seed %llu, %s -> %s\n",
		    tool_name, bank.ncustomers,
		    conn ? "from the database" : "made up (no --dsn)", bank.nstressed,
		    (unsigned long long) o.seed, o.brokers, o.topic);
	}
	else
	{
		sim_replay_start(&replay, conn, o.replay_from, o.replay_to, o.count);
		fprintf(stderr, "%s: replaying transactions in [%s, %s), %s -> %s\n",
		        tool_name, o.replay_from, o.replay_to, o.brokers, o.topic);
	}

	rk = make_producer(&o, &deliveries);
	fetch_topic_metadata(rk, o.topic);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	start = tool_monotonic();
	for (long i = 0; (o.count == 0 || i < o.count) && !stop_requested; i++)
	{
		SimEvent ev;
		char event_time[TOOL_TIME_LEN];
		bool is_bad;

		if (o.delay_ms > 0 && i > 0)
			wait_until(rk, start + i * o.delay_ms / 1000.0);
		if (stop_requested)
			break;

		if (o.replay_from != NULL)
		{
			if (!sim_replay_next(&replay, &ev))
				break;
		}
		else
			sim_bank_next_event(&bank, &ev, tool_now_usec());
		tool_format_now(event_time);

		/* exactly round(i * F) bad events among the first i, evenly spread */
		is_bad =
		    o.bad_fraction > 0 && (long) ((i + 1) * o.bad_fraction + 0.5) >
		                              (long) (i * o.bad_fraction + 0.5);
		if (is_bad)
		{
			BadKind kind = (BadKind) (bad_made % N_BAD_KINDS);

			sim_render_bad(&ev, event_time, kind, bad_made / N_BAD_KINDS,
			               &bad_rng, &payload);
			bad_made++;
			if (produce(rk, o.topic, &payload, sim_bad_kind_names[kind],
			            &deliveries))
			{
				bad_by_kind[kind]++;
				bad++;
				sent++;
			}
		}
		else
		{
			sim_render_event(&ev, event_time, &payload);
			if (produce(rk, o.topic, &payload, NULL, &deliveries))
				sent++;
		}
		if (o.delay_ms > 0 || (i & 63) == 0)
			rd_kafka_poll(rk, 0);
	}
	if (o.replay_from != NULL)
		sim_replay_finish(&replay);

	/* every message is delivered or has failed before the summary */
	while (rd_kafka_outq_len(rk) > 0 && stop_requested < 2)
		rd_kafka_flush(rk, 500);
	if (rd_kafka_outq_len(rk) > 0)
	{
		tool_warn("interrupted: %d messages not confirmed",
		          rd_kafka_outq_len(rk));
		rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(rk, 1000);
	}
	elapsed = tool_monotonic() - start;

	/* the one-line summary */
	printf("%s: sent %ld events to %s (%ld valid, %ld bad", tool_name, sent,
	       o.topic, sent - bad, bad);
	for (int k = 0; k < N_BAD_KINDS && bad > 0; k++)
		printf("%s%s %ld", k == 0 ? ": " : ", ", sim_bad_kind_names[k],
		       bad_by_kind[k]);
	printf("), delivered %ld, delivery errors %ld, %.3f s, %.0f events/s, "
	       "seed %llu",
	       deliveries.ok, deliveries.failed, elapsed,
	       elapsed > 0 ? sent / elapsed : 0.0, (unsigned long long) o.seed);
	if (deliveries.failed)
		printf("; first error: %s", deliveries.first_error);
	putchar('\n');
	fflush(stdout);

	rd_kafka_destroy(rk);
	if (conn != NULL)
		PQfinish(conn);
	free(payload.data);
	sim_bank_free(&bank);
	return deliveries.failed > 0 || deliveries.ok < sent ? TOOL_EXIT_FAILURE
	                                                     : 0;
}
