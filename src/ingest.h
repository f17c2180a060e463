/*
 * ingest.h
 *    Applying a batch of raw transaction events to the database, the same
 *    way for the Kafka ingest worker and for SQL (ingest_events,
 *    replay_dead_letters).
 */
#ifndef PD_INGEST_H
#define PD_INGEST_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* One raw message, as it came off a topic (or out of dead_letters). */
typedef struct PdIngestMessage
{
	const char *topic;
	int32 partition;
	int64 offset;
	const char *key; /* may be NULL */
	size_t key_len;
	const char *payload; /* may be NULL (a tombstone) */
	size_t payload_len;
	int64 dead_letter_id; /* > 0 when replaying that dead letter */
} PdIngestMessage;

typedef struct PdIngestStats
{
	int64 inserted;      /* new transactions */
	int64 duplicates;    /* event_id already there */
	int64 dead_letters;  /* new (or still failing) dead letters */
	int64 replayed;      /* dead letters that went in this time */
	int64 assessed;      /* customers re-assessed */
	int64 interventions; /* interventions created */
} PdIngestStats;

/*
 * Applies the messages in the current transaction: valid events become
 * transactions (a repeated event_id is a no-op), bad ones dead letters with
 * their reason, and the customers the score_triggers rules pick are
 * re-assessed. Never ERRORs for a bad event; an event the database still
 * refuses is isolated in a subtransaction and dead-lettered.
 */
extern void pd_ingest_apply(const PdIngestMessage *messages, int n,
                            PdIngestStats *stats);

/*
 * SPI_execute_plan of sql through a plan prepared on first use and kept
 * for the backend's life in *plan (NULL at first); for statements run on
 * every batch.
 */
/* A hash table for one batch, in the current memory context (HASH_BLOBS). */
struct HTAB;
extern struct HTAB *pd_batch_hash(const char *name, Size keysize,
                                  Size entrysize, long nelem);

/*
 * While pd_ingest_apply re-assesses its batch: the earliest event_time among
 * the customer's new events, where end-to-end latency starts. False outside
 * a batch, or if none of them had an event_time.
 */
extern bool pd_source_event_time_of(const pg_uuid_t *customer_id,
                                    TimestampTz *t);

#endif
