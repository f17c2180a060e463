/*
 * bulk_writer.h
 *    Writing the synthetic bank's rows the way COPY does, for the model
 *    (synthetic_model.c) and the SQL entry point (synthetic.c).
 */
#ifndef PD_BULK_WRITER_H
#define PD_BULK_WRITER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

#include "synthetic_model.h"

typedef struct Writer Writer;

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
