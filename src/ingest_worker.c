/*
 * ingest_worker.c
 *    The ingest background worker: consumes transactions-stream with a
 *    librdkafka consumer group and applies each batch (ingest.c) in one
 *    transaction together with the next offsets in kafka_offsets, so every
 *    event has its effect exactly once. On assignment it seeks to the stored
 *    offsets; after commit it commits the same offsets to Kafka, only as a
 *    mirror for lag tools.
 *
 * pre_delinquency.ingest_workers of them run side by side, each a member of
 * the group (or owning every Nth owned partition in static mode), each
 * committing its own partitions' offsets: a partition is only ever applied
 * by the worker it is assigned to, because a revocation drops the events of
 * the revoked partitions that were polled but not yet applied.
 *
 * Crash-only: an unexpected error ends the worker, the postmaster starts it
 * again, and it resumes from the offsets of the last committed batch.
 * librdkafka's threads never call Postgres: rebalance callbacks are served
 * on this thread, inside rd_kafka_consumer_poll.
 */
#include "postgres.h"

#include <librdkafka/rdkafka.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

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
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ingest.h"
#include "partitions.h"
#include "pd_util.h"
#include "pipeline.h"
#include "scoring.h"
#include "shap_batch.h"

/* static mode: how often partitions missing from the topic are looked for */
#define METADATA_RECHECK_MS 30000
#define METADATA_RETRY_MS   5000
#define METADATA_TIMEOUT_MS 5000

static volatile sig_atomic_t got_sigterm = false;
static bool assignment_failed = false;
/* the batch poll_batch() is filling: a revocation takes events out of it */
static rd_kafka_message_t **pending = NULL;
static int n_pending = 0;
/* static mode: when to read the topic's metadata again (0: never) */
static TimestampTz next_metadata_check = 0;

static int
compare_int32(const void *a, const void *b)
{
	int32 x = *(const int32 *) a, y = *(const int32 *) b;

	return x < y ? -1 : x > y;
}

static void
handle_sigterm(SIGNAL_ARGS)
{
	int save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * A stored offset past the partition's end means the log it was stored for
 * is gone: the topic was recreated, or the broker lost its data (pd_broker
 * comes back empty). auto.offset.reset then moves the consumer to the
 * earliest offset, but only in librdkafka's memory: a later rebalance would
 * seek to the stored offset again and, the new log having grown past it by
 * then, skip the events before it without a word (seen in test/stream:
 * 13,000 events). So the earliest offset is stored instead, with a WARNING.
 * Watermarks unknown (the broker unreachable): the stored offset stands.
 */
static int64
offset_in_log(rd_kafka_t *rk, const rd_kafka_topic_partition_t *p,
              int64 stored, Datum *key)
{
	static SPIPlanPtr plan = NULL;
	int64 low, high;

	if (rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &low,
	                                     &high,
	                                     2000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    stored <= high)
		return stored;
	ereport(WARNING,
	        (errmsg("pre_delinquency ingest worker: the stored offset %lld of "
	                "%s [%d] is past the partition's end (%lld); consuming "
	                "from its earliest offset, %lld",
	                (long long) stored, p->topic, p->partition,
	                (long long) high, (long long) low),
	         errdetail("The log the offset was stored for is gone: the topic "
	                   "was recreated or the broker lost its data."),
	         errhint("Events of the old log that were not consumed cannot be "
	                 "read from Kafka any more.")));
	key[3] = Int64GetDatum(low);
	pd_execute_kept(&plan,
	                "UPDATE pre_delinquency.kafka_offsets "
	                "SET next_offset = $4, updated_at = now() "
	                "WHERE consumer_group = $1 AND topic = $2 "
	                "AND kafka_partition = $3",
	                4, (Oid[]){TEXTOID, TEXTOID, INT4OID, INT8OID}, key, NULL,
	                false);
	return low;
}

/*
 * Sets each assigned partition's offset to the one stored in kafka_offsets
 * (see offset_in_log); partitions never consumed get unstored_offset (group
 * mode: RD_KAFKA_OFFSET_INVALID, the group's committed offset or the
 * earliest message; static mode: the beginning). Runs inside a rebalance
 * callback, so it must not throw through librdkafka: errors are caught and
 * flagged.
 */
static void
load_stored_offsets(rd_kafka_t *rk,
                    rd_kafka_topic_partition_list_t *partitions,
                    int64 unstored_offset)
{
	MemoryContext caller = CurrentMemoryContext;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp(); /* now() of this transaction */
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		for (int i = 0; i < partitions->cnt; i++)
		{
			rd_kafka_topic_partition_t *p = &partitions->elems[i];
			Oid types[3] = {TEXTOID, TEXTOID, INT4OID};
			Datum args[4];
			bool isnull;

			args[0] = CStringGetTextDatum(pd_consumer_group);
			args[1] = CStringGetTextDatum(p->topic);
			args[2] = Int32GetDatum(p->partition);
			SPI_execute_with_args(
			    "SELECT next_offset FROM pre_delinquency.kafka_offsets "
			    "WHERE consumer_group = $1 AND topic = $2 AND kafka_partition "
			    "= $3",
			    3, types, args, NULL, true, 1);
			p->offset =
			    SPI_processed == 0
			        ? unstored_offset
			        : offset_in_log(rk, p,
			                        DatumGetInt64(SPI_getbinval(
			                            SPI_tuptable->vals[0],
			                            SPI_tuptable->tupdesc, 1, &isnull)),
			                        args);
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		assignment_failed = true;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
}

/*
 * A revocation arrives inside rd_kafka_consumer_poll, between two events of
 * the batch being polled. The revoked partitions' events in it are dropped:
 * their next owner (another ingest worker, another database of the group,
 * or this worker after the rebalance) starts from the stored offsets, which
 * do not include them, and applying them here too would store an offset
 * behind that owner's back.
 */
static void
drop_pending(const rd_kafka_topic_partition_list_t *revoked)
{
	int kept = 0;

	if (pending == NULL)
		return; /* not polling a batch: nothing unapplied */
	for (int i = 0; i < n_pending; i++)
	{
		rd_kafka_message_t *m = pending[i];

		if (rd_kafka_topic_partition_list_find(
		        revoked, rd_kafka_topic_name(m->rkt), m->partition) != NULL)
			rd_kafka_message_destroy(m);
		else
			pending[kept++] = m;
	}
	n_pending = kept;
}

static void
rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
          rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
	{
		int32 *ids = palloc(sizeof(int32) * Max(partitions->cnt, 1));

		load_stored_offsets(rk, partitions, RD_KAFKA_OFFSET_INVALID);
		rd_kafka_assign(rk, partitions);
		for (int i = 0; i < partitions->cnt; i++)
			ids[i] = partitions->elems[i].partition;
		qsort(ids, partitions->cnt, sizeof(int32), compare_int32);
		pd_stats_assignment(false, pd_transactions_topic, -1, ids,
		                    partitions->cnt, NULL, 0);
		pfree(ids);
		/* more group members than partitions leaves some with none */
		pd_stats_worker_state(PD_WORKER_INGEST,
		                      partitions->cnt > 0
		                          ? "assigned"
		                          : "idle: the group assigned no partition");
	}
	else
	{
		drop_pending(partitions);
		rd_kafka_assign(rk, NULL);
		pd_stats_assignment(false, pd_transactions_topic, -1, NULL, 0, NULL,
		                    0);
	}
}

/*
 * The partition count of the topic, or -1 with the reason in why when the
 * cluster does not answer or does not have the topic.
 */
static int
topic_partition_count(rd_kafka_t *rk, const char *topic, char *why,
                      size_t why_len)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;
	int count;

	if (rkt == NULL)
	{
		snprintf(why, why_len, "%s", rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	err = rd_kafka_metadata(rk, 0, rkt, &md, METADATA_TIMEOUT_MS);
	rd_kafka_topic_destroy(rkt);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		snprintf(why, why_len, "%s", rd_kafka_err2str(err));
		return -1;
	}
	if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		snprintf(why, why_len, "%s",
		         md->topic_cnt != 1 ? "no metadata"
		                            : rd_kafka_err2str(md->topics[0].err));
		count = -1;
	}
	else
		count = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return count;
}

/*
 * Static assignment: this worker's share of the owned partitions (every
 * ingest_workers-th, from its index on) that exist on the topic, each at
 * its stored offset (or the beginning). A listed partition the topic does
 * not have is a configuration mistake, not a reason to stop: it is named in
 * the log and in worker_status, the others are consumed, and the metadata
 * is read again every 30 s in case partitions are added. Called at start
 * and on each recheck, always between batches, when the stored offsets are
 * exactly what has been applied.
 */
static void
assign_owned_partitions(rd_kafka_t *rk)
{
	const PdPartitionList *owned = pd_owned_partitions;
	rd_kafka_topic_partition_list_t *list;
	int32 present[PD_MAX_OWNED_PARTITIONS];
	int32 missing[PD_MAX_OWNED_PARTITIONS];
	int n_present = 0, n_missing = 0;
	char why[256];
	int count =
	    topic_partition_count(rk, pd_transactions_topic, why, sizeof(why));

	next_metadata_check = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
	                                                  METADATA_RECHECK_MS);
	if (count < 0)
	{
		char *msg = psprintf("no metadata for topic %s: %s",
		                     pd_transactions_topic, why);

		/* a topic just created may not be in the metadata yet: retry soon */
		next_metadata_check = TimestampTzPlusMilliseconds(
		    GetCurrentTimestamp(), METADATA_RETRY_MS);

		ereport(WARNING,
		        (errmsg("pre_delinquency ingest worker: %s", msg),
		         errhint("Create the topic or check "
		                 "pre_delinquency.kafka_brokers; the worker tries "
		                 "again every %d s.",
		                 METADATA_RETRY_MS / 1000)));
		pd_stats_worker_error(PD_WORKER_INGEST, msg);
		pd_stats_worker_state(PD_WORKER_INGEST, "waiting for topic metadata");
		return;
	}
	for (int i = pd_ingest_worker_index; i < owned->n; i += pd_ingest_workers)
	{
		if (owned->partition[i] < count)
			present[n_present++] = owned->partition[i];
		else
			missing[n_missing++] = owned->partition[i];
	}
	if (n_missing > 0)
	{
		char *msg = psprintf(
		    "pre_delinquency.partitions lists %s, which topic %s does not "
		    "have (it has %d partitions)",
		    pd_format_partitions(missing, n_missing), pd_transactions_topic,
		    count);

		ereport(WARNING,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("pre_delinquency ingest worker: %s", msg),
		         errhint("Correct pre_delinquency.partitions or add "
		                 "partitions to the topic; the worker consumes the "
		                 "others and looks again every %d s.",
		                 METADATA_RECHECK_MS / 1000)));
		pd_stats_worker_error(PD_WORKER_INGEST, msg);
	}
	else
		next_metadata_check = 0;

	list = rd_kafka_topic_partition_list_new(Max(n_present, 1));
	for (int i = 0; i < n_present; i++)
		rd_kafka_topic_partition_list_add(list, pd_transactions_topic,
		                                  present[i]);
	load_stored_offsets(rk, list, RD_KAFKA_OFFSET_BEGINNING);
	if (!assignment_failed)
		rd_kafka_assign(rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	pd_stats_assignment(true, pd_transactions_topic, count, present, n_present,
	                    missing, n_missing);
	pd_stats_worker_state(PD_WORKER_INGEST,
	                      n_present > 0   ? "assigned"
	                      : n_missing > 0 ? "waiting for owned partitions"
	                                      : "idle: no owned partition left "
	                                        "for this worker");
}

static rd_kafka_t *
create_consumer(void)
{
	/* the group's tools tell the ingest workers apart by it */
	char *client_id = pd_ingest_worker_name("pre_delinquency-ingest", '-',
	                                        pd_ingest_worker_index);
	const char *const defaults[][2] = {
	    {"client.id", client_id},
	    /* a crashed worker's partitions move on after 10 s, not 45 */
	    {"session.timeout.ms", "10000"},
	    {"heartbeat.interval.ms", "1000"},
	    /* latency: a fetch returns within 10 ms even when little arrived */
	    {"fetch.wait.max.ms", "10"},
	    /* latency: no request waits on the broker's delayed ACK (40 ms) */
	    {"socket.nagle.disable", "true"},
	    /*
	     * memory: librdkafka prefetches up to 64 MB by default, and while
	     * the worker is behind (a backlog, a restart) that all becomes
	     * resident and stays so in malloc's arenas. 16 MB is ~40,000 events
	     * of ~400 bytes, several batches ahead of batch_size: enough to
	     * never wait on a fetch (make soak measures the workers' RSS).
	     */
	    {"queued.max.messages.kbytes", "16384"},
	};
	const char *const required[][2] = {
	    {"group.id", pd_consumer_group},
	    {"enable.auto.commit", "false"},
	    {"enable.auto.offset.store", "false"},
	    {"auto.offset.reset", "earliest"},
	    {"enable.partition.eof", "false"},
	};
	rd_kafka_conf_t *conf = pd_kafka_conf(defaults, lengthof(defaults),
	                                      required, lengthof(required));
	char errstr[512];
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_resp_err_t err;

	rd_kafka_conf_set_rebalance_cb(conf, rebalance);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
		ereport(ERROR,
		        (errcode(ERRCODE_CONNECTION_FAILURE),
		         errmsg("could not create the Kafka consumer: %s", errstr)));
	rd_kafka_poll_set_consumer(rk);
	if (pd_owned_partitions != NULL && pd_owned_partitions->n > 0)
		return rk; /* static: assign_owned_partitions() */
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, pd_transactions_topic,
	                                  RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(rk, topics);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		ereport(ERROR, (errmsg("could not subscribe to %s: %s",
		                       pd_transactions_topic, rd_kafka_err2str(err))));
	rd_kafka_topic_partition_list_destroy(topics);
	return rk;
}

/* assign_owned_partitions() with its messages and lists freed after */
static void
assign_in(rd_kafka_t *rk, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);

	assign_owned_partitions(rk);
	MemoryContextSwitchTo(old);
	MemoryContextReset(cxt);
}

/* Waits, answering SIGHUP and SIGTERM, until kafka_brokers is set. */
static void
wait_for_brokers(void)
{
	while (!got_sigterm &&
	       (pd_kafka_brokers == NULL || pd_kafka_brokers[0] == '\0'))
	{
		pd_stats_worker_state(PD_WORKER_INGEST,
		                      "waiting for pre_delinquency.kafka_brokers");
		pgstat_report_activity(STATE_IDLE,
		                       "waiting for pre_delinquency.kafka_brokers");
		(void) WaitLatch(MyLatch,
		                 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending && pd_worker_reload_config())
			proc_exit(1);
	}
}

/*
 * Leaves the consumer group, waiting at most CLOSE_WAIT_MS. With the
 * brokers unreachable (a wrong address, refused credentials)
 * rd_kafka_consumer_close would wait for ever, and a worker restarting for
 * new settings would hang in it. Not waiting loses nothing: the offsets live
 * in Postgres; the group merely rebalances after session.timeout.ms.
 */
#define CLOSE_WAIT_MS 5000

static void
close_consumer(rd_kafka_t *rk)
{
	rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
	rd_kafka_error_t *error = rd_kafka_consumer_close_queue(rk, queue);
	TimestampTz give_up =
	    TimestampTzPlusMilliseconds(GetCurrentTimestamp(), CLOSE_WAIT_MS);

	if (error != NULL)
		rd_kafka_error_destroy(error);
	else
		while (!rd_kafka_consumer_closed(rk) &&
		       GetCurrentTimestamp() < give_up)
		{
			rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 100);

			/* the revocation of a rebalance, served here while closing */
			if (event != NULL &&
			    rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE)
				rd_kafka_assign(rk, NULL);
			if (event != NULL)
				rd_kafka_event_destroy(event);
		}
	rd_kafka_queue_destroy(queue);
	rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

/*
 * A batch stops growing once its payloads reach this many bytes. A batch
 * costs about four times its payload bytes in memory (librdkafka's copy, the
 * dead letters' bytea, tuples, WAL), and an out-of-memory kill would be
 * fatal twice over: the postmaster restarts the whole cluster, and the
 * worker reads the same batch again. Without the bound, a backlog of 10 MB
 * messages (topics may allow them; they become "oversized" dead letters)
 * makes batches of hundreds of megabytes.
 */
#define BATCH_MAX_BYTES (32 * 1024 * 1024)

/*
 * Polls until the batch is full (batch_size messages or BATCH_MAX_BYTES),
 * no more events are queued, batch_wait has passed since its first event, or
 * SIGTERM; returns 0 after 100 ms without any, so that the main loop sees
 * SIGHUP. Once it holds an event it does not
 * wait for events that have not arrived: while one batch is applied the
 * next one queues up, so batches grow with the rate by themselves and a lone
 * event is applied at once. batch_wait bounds a batch while events keep
 * coming.
 */
static int
poll_batch(rd_kafka_t *rk, rd_kafka_message_t **batch)
{
	size_t bytes = 0;
	TimestampTz deadline = 0;

	/* rebalance() may take events out of the batch while it fills */
	pending = batch;
	n_pending = 0;
	while (n_pending < pd_batch_size && bytes < BATCH_MAX_BYTES &&
	       !got_sigterm)
	{
		rd_kafka_message_t *m;

		if (n_pending > 0 && GetCurrentTimestamp() >= deadline)
			break;
		m = rd_kafka_consumer_poll(rk, n_pending == 0 ? 100 : 0);
		CHECK_FOR_INTERRUPTS();
		/* nothing yet: back to the main loop (reloads, metadata checks) */
		if (m == NULL)
			break;
		if (m->err)
		{
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				pd_stats_worker_error(PD_WORKER_INGEST,
				                      rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			if (n_pending == 0)
				break;
			continue;
		}
		if (n_pending == 0)
			deadline =
			    GetCurrentTimestamp() + (TimestampTz) pd_batch_wait_ms * 1000;
		bytes += m->len + m->key_len;
		batch[n_pending++] = m;
	}
	pending = NULL;
	return n_pending;
}

/*
 * Upserts the next offset of every partition the batch read from, in one
 * statement whose plan is kept (batches are frequent at low rates).
 */
static void
store_offsets(rd_kafka_message_t **batch, int n)
{
	static SPIPlanPtr plan = NULL;
	Datum *topics = palloc(sizeof(Datum) * n);
	Datum *partitions = palloc(sizeof(Datum) * n);
	Datum *offsets = palloc(sizeof(Datum) * n);
	rd_kafka_topic_t **rkts = palloc(sizeof(rd_kafka_topic_t *) * n);
	int m = 0;
	Oid types[4] = {TEXTOID, TEXTARRAYOID, INT4ARRAYOID, INT8ARRAYOID};
	Datum args[4];

	for (int i = 0; i < n; i++)
	{
		int k = 0;

		while (k < m && !(rkts[k] == batch[i]->rkt &&
		                  DatumGetInt32(partitions[k]) == batch[i]->partition))
			k++;
		if (k == m)
		{
			rkts[m] = batch[i]->rkt;
			topics[m] =
			    CStringGetTextDatum(rd_kafka_topic_name(batch[i]->rkt));
			partitions[m] = Int32GetDatum(batch[i]->partition);
			offsets[m++] = Int64GetDatum(batch[i]->offset + 1);
		}
		else if (batch[i]->offset + 1 > DatumGetInt64(offsets[k]))
			offsets[k] = Int64GetDatum(batch[i]->offset + 1);
	}
	args[0] = CStringGetTextDatum(pd_consumer_group);
	args[1] = PointerGetDatum(
	    construct_array(topics, m, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(
	    construct_array(partitions, m, INT4OID, 4, true, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(
	    offsets, m, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	pd_execute_kept(&plan,
	                "INSERT INTO pre_delinquency.kafka_offsets AS k "
	                "(consumer_group, topic, kafka_partition, next_offset) "
	                "SELECT $1, t, p, o FROM unnest($2, $3, $4) AS u(t, p, o) "
	                "ORDER BY t, p "
	                "ON CONFLICT (consumer_group, topic, kafka_partition) "
	                "DO UPDATE SET next_offset = excluded.next_offset, "
	                "updated_at = now()",
	                4, types, args, NULL, false);
}

/* The same offsets to Kafka, after our commit: only a mirror for lag tools. */
static void
mirror_offsets(rd_kafka_t *rk, rd_kafka_message_t **batch, int n)
{
	rd_kafka_topic_partition_list_t *offsets =
	    rd_kafka_topic_partition_list_new(8);

	for (int i = 0; i < n; i++)
	{
		rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(
		    offsets, rd_kafka_topic_name(batch[i]->rkt), batch[i]->partition);

		if (p == NULL)
			p = rd_kafka_topic_partition_list_add(
			    offsets, rd_kafka_topic_name(batch[i]->rkt),
			    batch[i]->partition);
		p->offset = batch[i]->offset + 1;
	}
	/* once per partition, not per message */
	for (int k = 0; k < offsets->cnt; k++)
	{
		rd_kafka_topic_partition_t *p = &offsets->elems[k];
		int64_t low, high;

		if (rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &low,
		                                   &high) ==
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			pd_stats_high_watermark(p->topic, p->partition, high);
	}
	(void) rd_kafka_commit(rk, offsets, 1 /* async */);
	rd_kafka_topic_partition_list_destroy(offsets);
}

static void
apply_batch(rd_kafka_message_t **batch, int n)
{
	MemoryContext batch_cxt;
	PdIngestMessage *messages = palloc(sizeof(PdIngestMessage) * n);
	PdIngestStats stats = {0};

	for (int i = 0; i < n; i++)
	{
		messages[i].topic = rd_kafka_topic_name(batch[i]->rkt);
		messages[i].partition = batch[i]->partition;
		messages[i].offset = batch[i]->offset;
		messages[i].key = batch[i]->key;
		messages[i].key_len = batch[i]->key_len;
		messages[i].payload = batch[i]->payload;
		messages[i].payload_len = batch[i]->len;
		messages[i].dead_letter_id = 0;
	}
	pgstat_report_activity(STATE_RUNNING, psprintf("ingesting %d events", n));
	pd_stats_worker_state(PD_WORKER_INGEST, "ingesting");
	batch_cxt = pd_worker_begin();
	pd_ingest_apply(messages, n, &stats);
	store_offsets(batch, n);
	pd_worker_commit(batch_cxt);
	pgstat_report_stat(false);
	pd_stats_ingest_batch(n, &stats);
	if (stats.assessed > 0)
		pd_pipeline_wake_relay();
	pd_stats_worker_state(PD_WORKER_INGEST, "consuming");
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * The model in memory before the first event, by scoring and explaining a
 * row of zeros: loading the booster and reading its trees for the grouped
 * SHAP took about a second, which the
 * first events after a start used to wait (make demo's p99 was 1.7 s). No
 * active model, or one that does not load, is a warning here: assessment
 * reports it when it runs.
 */
static void
warm_up_model(void)
{
	MemoryContext caller = CurrentMemoryContext;

	pd_stats_worker_state(PD_WORKER_INGEST, "loading the model");
	SetCurrentStatementStartTimestamp(); /* now() of this transaction */
	StartTransactionCommand();
	PG_TRY();
	{
		int model_id;
		BoosterHandle booster;
		float zeros[PD_NUM_FEATURES] = {0};
		float probability;
		float contributions[PD_NUM_FEATURES + 1];

		PushActiveSnapshot(GetTransactionSnapshot());
		booster = pd_active_booster(&model_id);
		pd_predict(booster, zeros, 1, &probability);
		pd_prepare_batch_contributions(booster, pd_booster_generation());
		pd_batch_contributions(booster, pd_booster_generation(), zeros, 1,
		                       contributions);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData *error;

		MemoryContextSwitchTo(caller);
		error = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
		        (errmsg("pre_delinquency ingest worker could not load the "
		                "active model at start: %s",
		                error->message),
		         errdetail("Events are consumed anyway; each batch's "
		                   "assessment tries again and warns if it fails.")));
		FreeErrorData(error);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
}

/*
 * Hands the memory a backlog's batches used back to the system once the
 * worker has caught up. A batch of batch_size events and librdkafka's
 * prefetch ahead of it (both malloc's: the messages, palloc's large
 * blocks) take tens of megabytes; glibc keeps what is freed for the next
 * peak, so a worker that once caught up with 100,000 events held ~70 MB for
 * the rest of its life. Not while busy: the next batch would fault the pages
 * in again.
 */
static void
release_memory_when_idle(int n_batch, bool *used_much)
{
#ifdef __GLIBC__
	if (n_batch >= 1000)
		*used_much = true;
	else if (n_batch == 0 && *used_much)
	{
		malloc_trim(0);
		*used_much = false;
	}
#endif
}

void
pd_ingest_worker_main(Datum arg)
{
	rd_kafka_t *rk;
	rd_kafka_message_t **batch;
	MemoryContext batch_cxt;
	bool used_much = false;

	pd_ingest_worker_index = DatumGetInt32(arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, handle_sigterm);
	BackgroundWorkerUnblockSignals();
	pd_worker_connect();
	pd_stats_worker_started(PD_WORKER_INGEST);
	pgstat_report_appname(MyBgworkerEntry->bgw_name);

	warm_up_model();
	wait_for_brokers();
	if (got_sigterm)
		proc_exit(0);
	rk = create_consumer();
	batch = MemoryContextAlloc(TopMemoryContext,
	                           sizeof(rd_kafka_message_t *) * 100000);
	batch_cxt = AllocSetContextCreate(TopMemoryContext, "ingest batch",
	                                  ALLOCSET_DEFAULT_SIZES);
	pd_stats_worker_state(PD_WORKER_INGEST, "consuming");
	if (pd_owned_partitions != NULL && pd_owned_partitions->n > 0)
	{
		ereport(
		    LOG,
		    (errmsg("%s worker consuming %s of partitions %s of %s (static "
		            "assignment; offsets mirrored to group %s)",
		            MyBgworkerEntry->bgw_name,
		            pd_ingest_workers > 1 ? "its share" : "all",
		            pd_format_partitions(pd_owned_partitions->partition,
		                                 pd_owned_partitions->n),
		            pd_transactions_topic, pd_consumer_group)));
		assign_in(rk, batch_cxt);
	}
	else
		ereport(LOG, (errmsg("%s worker consuming %s as group %s",
		                     MyBgworkerEntry->bgw_name, pd_transactions_topic,
		                     pd_consumer_group)));

	while (!got_sigterm)
	{
		int n;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			char *brokers = pstrdup(pd_kafka_brokers);
			char *topic = pstrdup(pd_transactions_topic);
			char *group = pstrdup(pd_consumer_group);
			char *properties = pstrdup(pd_kafka_properties);
			char *owned = pstrdup(pd_partitions_text);

			/*
			 * a new database, role, cluster, topic, group, credentials or
			 * set of owned partitions: start afresh from the stored offsets
			 */
			if (pd_worker_reload_config() ||
			    strcmp(brokers, pd_kafka_brokers) != 0 ||
			    strcmp(topic, pd_transactions_topic) != 0 ||
			    strcmp(group, pd_consumer_group) != 0 ||
			    strcmp(properties, pd_kafka_properties) != 0 ||
			    strcmp(owned, pd_partitions_text) != 0)
				break;
			pfree(brokers);
			pfree(topic);
			pfree(group);
			pfree(properties);
			pfree(owned);
		}
		if (assignment_failed)
			elog(ERROR,
			     "could not read the stored offsets for a new assignment");
		if (next_metadata_check != 0 &&
		    GetCurrentTimestamp() >= next_metadata_check)
			assign_in(rk, batch_cxt);
		n = poll_batch(rk, batch);
		release_memory_when_idle(n, &used_much);
		if (n == 0)
			continue;
		MemoryContextSwitchTo(batch_cxt);
		apply_batch(batch, n);
		MemoryContextSwitchTo(TopMemoryContext);
		mirror_offsets(rk, batch, n);
		for (int i = 0; i < n; i++)
			rd_kafka_message_destroy(batch[i]);
		MemoryContextReset(batch_cxt);
	}
	pd_stats_worker_state(PD_WORKER_INGEST, "stopping");
	close_consumer(rk);
	/* a configuration change exits non-zero so that the postmaster restarts us
	 */
	proc_exit(got_sigterm ? 0 : 1);
}
