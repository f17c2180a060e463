/*
 * bulk_writer.h
 *    Writing the synthetic bank's rows the way COPY does, for the model
 *    (synthetic_model.c) and the SQL entry point (synthetic.c).
 */
#ifndef PD_BULK_WRITER_H
#define PD_BULK_WRITER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/relcache.h"
#include "utils/uuid.h"

#include "synthetic_model.h"

typedef struct Writer Writer;

/*
 * The CHECK constraints the install script puts on transactions. What they
 * test holds by construction for the generator's rows and after parsing
 * for ingested events, so both check them once per row shape.
 */
extern const char *const pd_known_transaction_checks[];

/*
 * The attribute numbers of rel's columns names[0..n), which must have the
 * given types; false if rel has other columns or lacks one of them.
 */
extern bool pd_map_columns(Relation rel, const char *const *names,
                           const Oid *types, int n, AttrNumber *attnum);

/* Are all of rel's CHECK constraints among known (NULL-terminated)? */
extern bool pd_only_known_checks(Relation rel, const char *const *known);

/*
 * The rows of slots[0..n) into rri's table the way COPY writes them:
 * table_multi_insert, then each row's index entries (unique ones checked);
 * the slots are cleared. Also used by ingest_bulk.c.
 */
struct ResultRelInfo;
struct EState;
struct TupleTableSlot;
struct BulkInsertStateData;
extern void pd_multi_insert(struct ResultRelInfo *rri, struct EState *estate,
                            struct TupleTableSlot **slots, int n,
                            CommandId cid,
                            struct BulkInsertStateData *bistate);

/*
 * Opens customers, transactions, payments and balance_ledger for a load of
 * seed's rows, allocating in the current memory context. ERRORs if the
 * caller may not insert, or a table has a trigger or column the writer
 * would bypass.
 */
extern Writer *pd_writer_open(uint32 seed);

/* Writes what is still queued and closes the tables. */
extern void pd_writer_close(Writer *w);

extern void pd_write_customer(Writer *w, const pg_uuid_t *id, int64 income,
                              int salary_day, Bracket bracket,
                              AccountType account, TimestampTz opened_at,
                              int64 opening_balance, int64 min_balance);
extern void pd_write_transaction(Writer *w, const pg_uuid_t *customer,
                                 const DayEvent *e, bool failed);
extern void pd_write_payment(Writer *w, const pg_uuid_t *customer,
                             const Obligation *o);

/*
 * The balance_ledger rows the statement trigger would have written for one
 * customer: month_net[k] is the net of month month0 + k (year * 12 + month -
 * 1), written where month_used[k], then the running total.
 */
extern void pd_write_ledger_rows(Writer *w, const pg_uuid_t *customer,
                                 int month0, int nmonths,
                                 const int64 *month_net,
                                 const bool *month_used);

#endif
