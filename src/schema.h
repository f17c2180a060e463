/*
 * schema.h
 *    Where the extension's tables, indexes and columns are, for code that
 *    reads them directly instead of through SQL.
 */
#ifndef PD_SCHEMA_H
#define PD_SCHEMA_H

#include "postgres.h"

#include "access/attnum.h"
#include "datatype/timestamp.h"
#include "storage/buf.h"
#include "utils/rel.h"
#include "utils/uuid.h"

typedef struct PdSchema
{
	uint64 generation; /* changes whenever the locations are looked up again */
	Oid namespace_oid;

	Oid customers;
	Oid customers_pkey;
	AttrNumber cust_monthly_income;
	AttrNumber cust_salary_day;
	AttrNumber cust_opened_at;
	AttrNumber cust_opening_balance;
	AttrNumber cust_min_balance;

	Oid transactions;
	Oid transactions_time_idx;   /* (customer_id, txn_time) */
	Oid transactions_salary_idx; /* same, salary credits only */
	AttrNumber txn_time;
	AttrNumber txn_amount;
	AttrNumber txn_type;
	AttrNumber txn_category;
	AttrNumber txn_channel;
	AttrNumber txn_merchant_id;
	AttrNumber txn_is_failed;

	Oid payments;
	Oid payments_due_idx; /* (customer_id, due_date) */
	AttrNumber pay_kind;
	AttrNumber pay_due_date;
	AttrNumber pay_amount_due;
	AttrNumber pay_paid_date;
	AttrNumber pay_amount_paid;

	Oid models;
	Oid models_active_idx; /* (is_active) WHERE is_active */
	AttrNumber model_id;
	AttrNumber model_feature_names;
	AttrNumber model_booster;
	AttrNumber model_is_active;

	Oid risk_scores;
	Oid outbox;
	Oid dead_letters;

	Oid ledger;
	Oid ledger_pkey; /* (customer_id, month) */
	AttrNumber ledger_month;
	AttrNumber ledger_net_cents;
} PdSchema;

/*
 * The current locations, looked up once per backend and again after any
 * relation cache invalidation. ERRORs if the extension is not installed.
 */
extern const PdSchema *pd_schema(void);

/* A customer's terms, money in cents. */
typedef struct PdCustomer
{
	int64 income;
	int salary_day;
	TimestampTz opened_at;
	int64 opening;
	int64 min_balance;
} PdCustomer;

/* Reads a customer's row; ERROR (no_data_found) if there is none. */
extern PdCustomer pd_read_customer(const PdSchema *s,
                                   const pg_uuid_t *customer_id);

/*
 * One customer's range of an index whose leading column is customer_id and
 * whose second column is a time or date. Either bound may be absent
 * (InvalidOid procedure). Rows come back in index order in 'slot'.
 *
 * 'columns' lists the heap columns the caller will read (NULL: any). When
 * the index holds them all (as keys or INCLUDE columns), a row on a heap
 * page the visibility map says is all-visible comes from the index alone,
 * as an index-only scan would, in a virtual slot where only those columns
 * are set; other rows are fetched from the heap as usual.
 *
 * pd_range_scan_begin / _end read one customer's range. A caller reading
 * the same index for many customers opens the scan once
 * (pd_range_scan_open, for the number of keys every range will have: 1 +
 * one per bound) and moves it from range to range with
 * pd_range_scan_rescan, and ends it once (pd_range_scan_end): the
 * relations, slots and the index AM's scan state are set up once, not per
 * customer.
 */
typedef struct PdRangeScan
{
	Relation heap;
	Relation index;
	struct IndexScanDescData *scan;
	struct TupleTableSlot *slot;       /* the current row: one of the two */
	struct TupleTableSlot *heap_slot;  /* rows fetched from the heap */
	struct TupleTableSlot *index_slot; /* rows read from the index, or NULL */
	Buffer vm_buffer;
	MemoryContext cxt; /* where it was opened: the index AM's state */
	int nkeys;
	int ncovered;
	AttrNumber covered_heap_attno[INDEX_MAX_KEYS];
	int covered_index_col[INDEX_MAX_KEYS];
} PdRangeScan;

extern void pd_range_scan_begin(PdRangeScan *rs, Oid heap, Oid index,
                                const pg_uuid_t *customer_id,
                                RegProcedure ge_proc, Datum lower,
                                RegProcedure lt_proc, Datum upper,
                                const AttrNumber *columns, int ncolumns);
extern bool pd_range_scan_next(PdRangeScan *rs);
extern void pd_range_scan_end(PdRangeScan *rs);

extern void pd_range_scan_open(PdRangeScan *rs, Oid heap, Oid index, int nkeys,
                               const AttrNumber *columns, int ncolumns);
extern void pd_range_scan_rescan(PdRangeScan *rs, const pg_uuid_t *customer_id,
                                 RegProcedure ge_proc, Datum lower,
                                 RegProcedure lt_proc, Datum upper);

/* pd_read_customer through 'rs', customers_pkey opened for one key. */
extern PdCustomer pd_read_customer_from(PdRangeScan *rs, const PdSchema *s,
                                        const pg_uuid_t *customer_id);

/* ERROR unless the current user may read the table and it has no RLS. */
extern void pd_check_table_readable(Oid relid);

#endif
