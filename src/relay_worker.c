/*
 * relay_worker.c
 *    The relay background worker: sends outbox rows, oldest first, to their
 *    topics (predictions-stream, interventions-stream) with an idempotent
 *    producer (acks=all), key = customer_id, and deletes a row only after its
 *    delivery report succeeded. At least once, with stable event ids.
 *
 * Broker down: deliveries fail after message.timeout.ms, the rows stay,
 * the relay backs off and retries; the outbox grows and nothing else stops.
 * A row the producer refuses for good (larger than message.max.bytes, say)
 * stays too, reported, but holds nothing back: no back-off for it, and it
 * sits out the batches for a minute at a time. Delivery reports are served
 * on this thread by rd_kafka_poll.
 */
#include "postgres.h"

#include <librdkafka/rdkafka.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pd_util.h"
#include "pipeline.h"

#define RELAY_BATCH    5000
#define MAX_BACKOFF_MS 5000

static volatile sig_atomic_t got_sigterm = false;

/* One outbox row in flight. */
typedef struct OutboxRow
{
	int64 outbox_id;
	char *topic;
	char *key;
	char *payload;
	TimestampTz source_event_time; /* 0: unknown */
	TimestampTz acked_at;          /* when the delivery report came */
	bool done;
	bool delivered;
	bool refused; /* for good: too large or malformed, not an outage */
} OutboxRow;

static int pending = 0;

static void
handle_sigterm(SIGNAL_ARGS)
{
	int save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * Whether the message itself is refused, so that sending it again can never
 * succeed (an outage, a leader change or a timeout can pass).
 */
static bool
refused_for_good(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
	       err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
	       err == RD_KAFKA_RESP_ERR_INVALID_MSG ||
	       err == RD_KAFKA_RESP_ERR_INVALID_RECORD ||
	       err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

/* Runs on this thread, inside rd_kafka_poll: only marks the row. */
static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	OutboxRow *row = (OutboxRow *) m->_private;

	row->done = true;
	row->delivered = (m->err == RD_KAFKA_RESP_ERR_NO_ERROR);
	row->refused = refused_for_good(m->err);
	/* a row's latency ends here, not when the round's last report came */
	row->acked_at = GetCurrentTimestamp();
	pending--;
}

static rd_kafka_t *
create_producer(void)
{
	const char *const defaults[][2] = {
	    {"client.id", "pre_delinquency-relay"},
	    /* latency: predictions leave at once; a relay round's rows batch up
	     * while the first ones are in flight */
	    {"linger.ms", "1"},
	    /* latency: with a request per partition in flight, Nagle's
	     * algorithm held every round's last one for the broker's delayed
	     * ACK (40 ms) */
	    {"socket.nagle.disable", "true"},
	    {"message.timeout.ms", "30000"},
	};
	const char *const required[][2] = {
	    {"enable.idempotence", "true"},
	    {"acks", "all"},
	};
	rd_kafka_conf_t *conf = pd_kafka_conf(defaults, lengthof(defaults),
	                                      required, lengthof(required));
	char errstr[512];
	rd_kafka_t *rk;

	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
		ereport(ERROR,
		        (errcode(ERRCODE_CONNECTION_FAILURE),
		         errmsg("could not create the Kafka producer: %s", errstr)));
	return rk;
}

/*
 * Asks the cluster for a topic's partition leaders now, so that the first
 * prediction does not wait for that round trip and the connections it opens.
 * A broker that does not answer within a second is no error here: producing
 * asks again.
 */
static void
learn_leaders(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *metadata = NULL;

	if (rkt == NULL)
		return;
	if (rd_kafka_metadata(rk, 0, rkt, &metadata, 1000) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_metadata_destroy(metadata);
	rd_kafka_topic_destroy(rkt);
}

/*
 * Rows the producer refused for good (set_aside_refused), left out of the
 * batches until RETRY_REFUSED_MS has passed since the first of them: read
 * and refused again in every batch they would cost a slot, and, once the
 * outbox holds nothing else, a busy loop. After that they are tried again
 * (an operator may have shortened them or raised message.max.bytes).
 */
#define MAX_SKIPPED      1024
#define RETRY_REFUSED_MS 60000

static Datum skipped[MAX_SKIPPED];
static int n_skipped = 0;
static TimestampTz skipping_since = 0;

/* The oldest outbox rows, copied out of a short read-only transaction. */
static int
read_outbox(OutboxRow *rows, int limit)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext target = CurrentMemoryContext; /* the batch context */
	int n;

	if (n_skipped > 0 &&
	    TimestampDifferenceExceeds(skipping_since, GetCurrentTimestamp(),
	                               RETRY_REFUSED_MS))
		n_skipped = 0;
	pd_worker_begin();
	pd_execute_kept(&plan,
	                "SELECT outbox_id, topic, message_key, payload::text, "
	                "source_event_time FROM pre_delinquency.outbox "
	                "WHERE outbox_id <> ALL($2) ORDER BY outbox_id LIMIT $1",
	                2, (Oid[]){INT4OID, INT8ARRAYOID},
	                (Datum[]){Int32GetDatum(limit),
	                          PointerGetDatum(construct_array(
	                              skipped, n_skipped, INT8OID, 8,
	                              FLOAT8PASSBYVAL, TYPALIGN_DOUBLE))},
	                NULL, true);
	n = SPI_processed;
	for (int i = 0; i < n; i++)
	{
		HeapTuple t = SPI_tuptable->vals[i];
		TupleDesc d = SPI_tuptable->tupdesc;
		bool isnull;
		Datum when;
		MemoryContext spi = MemoryContextSwitchTo(target);

		rows[i].outbox_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		rows[i].topic = pstrdup(SPI_getvalue(t, d, 2));
		rows[i].key = pstrdup(SPI_getvalue(t, d, 3));
		rows[i].payload = pstrdup(SPI_getvalue(t, d, 4));
		when = SPI_getbinval(t, d, 5, &isnull);
		rows[i].source_event_time = isnull ? 0 : DatumGetTimestampTz(when);
		rows[i].done = rows[i].delivered = rows[i].refused = false;
		MemoryContextSwitchTo(spi);
	}
	pd_worker_commit(target);
	return n;
}

/* Produces the rows and waits for every delivery report. */
static void
produce_rows(rd_kafka_t *rk, OutboxRow *rows, int n)
{
	for (int i = 0; i < n; i++)
	{
		rd_kafka_resp_err_t err;

		for (;;)
		{
			err = rd_kafka_producev(
			    rk, RD_KAFKA_V_TOPIC(rows[i].topic),
			    RD_KAFKA_V_KEY(rows[i].key, strlen(rows[i].key)),
			    RD_KAFKA_V_VALUE(rows[i].payload, strlen(rows[i].payload)),
			    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			    RD_KAFKA_V_OPAQUE(&rows[i]), RD_KAFKA_V_END);
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			rd_kafka_poll(rk, 50);
		}
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			pending++;
		else
		{
			rows[i].done = true;
			rows[i].refused = refused_for_good(err);
			if (!rows[i].refused)
				pd_stats_worker_error(PD_WORKER_RELAY, rd_kafka_err2str(err));
		}
	}
	/* the producer's own message.timeout.ms bounds this wait */
	while (pending > 0)
	{
		rd_kafka_poll(rk, 100);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The rows refused for good: kept in the outbox (nothing is lost; an
 * operator deletes or shortens them), reported (a WARNING the first time a
 * row is seen) and set aside in 'skipped', but no reason to back off: an
 * outage would fail them all, this fails only them, and backing off for it
 * would hold back every row behind it (up to MAX_BACKOFF_MS a batch, for
 * ever). Returns how many were set aside: those that no longer fit in
 * 'skipped' count as failures, so that an outbox holding more than
 * MAX_SKIPPED of them backs off instead of sending them again in a loop.
 */
static int
set_aside_refused(const OutboxRow *rows, int n)
{
	static int64 last_warned = 0;
	int set_aside = 0;

	for (int i = 0; i < n; i++)
	{
		char *message;

		if (!rows[i].refused)
			continue;
		if (n_skipped < MAX_SKIPPED)
		{
			if (n_skipped == 0)
				skipping_since = GetCurrentTimestamp();
			skipped[n_skipped++] = Int64GetDatum(rows[i].outbox_id);
			set_aside++;
		}
		message = psprintf("outbox row %lld (%s, %zu bytes) refused by the "
		                   "producer for good; kept in the outbox",
		                   (long long) rows[i].outbox_id, rows[i].topic,
		                   strlen(rows[i].payload));
		pd_stats_worker_error(PD_WORKER_RELAY, message);
		if (rows[i].outbox_id > last_warned)
		{
			ereport(WARNING,
			        (errmsg("%s", message),
			         errhint("Delete the row from pre_delinquency.outbox, or "
			                 "raise message.max.bytes (producer and topic) "
			                 "if it should go.")));
			last_warned = rows[i].outbox_id;
		}
	}
	return set_aside;
}

/* Deletes the delivered rows; returns how many were delivered. */
static int
delete_delivered(OutboxRow *rows, int n, double *latencies, int *n_latencies)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext batch;
	Datum *ids = palloc(sizeof(Datum) * n);
	int m = 0;

	*n_latencies = 0;
	for (int i = 0; i < n; i++)
		if (rows[i].delivered)
		{
			ids[m++] = Int64GetDatum(rows[i].outbox_id);
			if (rows[i].source_event_time != 0)
				latencies[(*n_latencies)++] =
				    (rows[i].acked_at - rows[i].source_event_time) / 1000.0;
		}
	if (m == 0)
		return 0;
	batch = pd_worker_begin();
	pd_execute_kept(
	    &plan, "DELETE FROM pre_delinquency.outbox WHERE outbox_id = ANY($1)",
	    1, (Oid[]){INT8ARRAYOID},
	    (Datum[]){PointerGetDatum(construct_array(
	        ids, m, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE))},
	    NULL, false);
	pd_worker_commit(batch);
	return m;
}

static void
forget_relay_latch(int code, Datum arg)
{
	pd_pipeline_set_relay_latch(NULL);
}

static void
wait_a_while(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
	                 ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

void
pd_relay_worker_main(Datum arg)
{
	rd_kafka_t *rk;
	OutboxRow *rows;
	double *latencies;
	MemoryContext batch_cxt;
	long backoff_ms = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, handle_sigterm);
	BackgroundWorkerUnblockSignals();
	pd_worker_connect();
	pd_stats_worker_started(PD_WORKER_RELAY);
	pgstat_report_appname("pre_delinquency relay");

	while (!got_sigterm &&
	       (pd_kafka_brokers == NULL || pd_kafka_brokers[0] == '\0'))
	{
		pd_stats_worker_state(PD_WORKER_RELAY,
		                      "waiting for pre_delinquency.kafka_brokers");
		wait_a_while(1000);
		if (ConfigReloadPending && pd_worker_reload_config())
			proc_exit(1);
	}
	if (got_sigterm)
		proc_exit(0);
	rk = create_producer();
	learn_leaders(rk, pd_predictions_topic);
	learn_leaders(rk, pd_interventions_topic);
	pd_pipeline_set_relay_latch(MyLatch);
	before_shmem_exit(forget_relay_latch, 0);
	rows =
	    MemoryContextAlloc(TopMemoryContext, sizeof(OutboxRow) * RELAY_BATCH);
	latencies =
	    MemoryContextAlloc(TopMemoryContext, sizeof(double) * RELAY_BATCH);
	batch_cxt = AllocSetContextCreate(TopMemoryContext, "relay batch",
	                                  ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("pre_delinquency relay worker producing to %s and %s",
	                     pd_predictions_topic, pd_interventions_topic)));

	while (!got_sigterm)
	{
		int n, delivered, set_aside, n_latencies;

		MemoryContextSwitchTo(batch_cxt);
		if (ConfigReloadPending)
		{
			char *brokers = pstrdup(pd_kafka_brokers);
			char *properties = pstrdup(pd_kafka_properties);

			/* restart with the new database, role, cluster or credentials */
			if (pd_worker_reload_config() ||
			    strcmp(brokers, pd_kafka_brokers) != 0 ||
			    strcmp(properties, pd_kafka_properties) != 0)
				break;
		}
		pd_stats_worker_state(PD_WORKER_RELAY, "reading the outbox");
		n = read_outbox(rows, RELAY_BATCH);
		if (n == 0)
		{
			pd_stats_worker_state(PD_WORKER_RELAY, "idle");
			pgstat_report_activity(STATE_IDLE, NULL);
			rd_kafka_poll(rk, 0);
			MemoryContextReset(batch_cxt);
			/* the ingest worker sets our latch when it commits predictions */
			wait_a_while(200);
			continue;
		}
		pgstat_report_activity(STATE_RUNNING,
		                       psprintf("producing %d outbox rows", n));
		pd_stats_worker_state(PD_WORKER_RELAY, "producing");
		produce_rows(rk, rows, n);
		delivered = delete_delivered(rows, n, latencies, &n_latencies);
		set_aside = set_aside_refused(rows, n);
		pd_stats_relay_batch(delivered, n - delivered, latencies, n_latencies);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(batch_cxt);
		if (delivered + set_aside < n)
		{
			/* the broker is down or refusing: back off, keep the rows */
			backoff_ms = Min(MAX_BACKOFF_MS, Max(100, backoff_ms * 2));
			pd_stats_worker_state(PD_WORKER_RELAY,
			                      "backing off: deliveries failing");
			wait_a_while(backoff_ms);
		}
		else
			backoff_ms = 0;
	}
	pd_stats_worker_state(PD_WORKER_RELAY, "stopping");
	rd_kafka_flush(rk, 10000);
	rd_kafka_destroy(rk);
	proc_exit(got_sigterm ? 0 : 1);
}
