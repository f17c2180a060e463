/*
 * ingest_bulk.h
 *    The fast path of ingest.c: a batch's new transactions written the way
 *    COPY writes rows, with their balance_ledger effect summed per customer
 *    and month.
 */
#ifndef PD_INGEST_BULK_H
#define PD_INGEST_BULK_H

#include "postgres.h"

#include "utils/uuid.h"

#include "event_json.h"

/*
 * Whether the transactions table is as the extension made it, so that the
 * bulk path does everything INSERT would: only the extension's triggers and
 * foreign key, only its columns, no row-level security, and the current
 * user may INSERT. If not, ingest.c uses INSERT.
 */
extern bool pd_ingest_bulk_applicable(void);

/*
 * Inserts the m events (distinct event ids; every customer already locked
 * FOR KEY SHARE by the caller) and adds their successful flows to
 * balance_ledger. ERRORs like INSERT would (a unique violation when an
 * event_id is already there): the caller runs it in a subtransaction.
 */
extern void pd_ingest_bulk_insert(const pg_uuid_t *const *event_ids,
                                  const PdTxnEvent *const *events, int m);

#endif
