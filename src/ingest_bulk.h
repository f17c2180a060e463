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

/*
 * Acting as the owner of a relation, from pd_begin_as_owner to
 * pd_end_as_owner (or the end of the (sub)transaction): internal writes (the
 * ledger, the outbox) and row locks run as it, as the SECURITY DEFINER
 * triggers and the foreign key checks do. With 'sql' (statements will run
 * meanwhile) search_path is also pg_catalog, pg_temp until the end, as a
 * SECURITY DEFINER function pins it: our statements name their tables'
 * schema, but their operators and functions are looked up in the search
 * path, where the caller could put one of its own (uuid = uuid, bigint +
 * bigint) ahead of pg_catalog's and have it run as the owner. Not with
 * 'sql' in parallel mode, where no setting may change.
 */
typedef struct PdAsOwner
{
	Oid save_user;
	int save_sec;
	int guc_nestlevel; /* 0: search_path untouched */
} PdAsOwner;

extern void pd_begin_as_owner(Oid relid, bool sql, PdAsOwner *as);
extern void pd_end_as_owner(const PdAsOwner *as);

#endif
