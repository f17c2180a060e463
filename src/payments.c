/*
 * payments.c
 *    Everything read from the payments table: features 17-21 of FEATURES.md
 *    (lateness, late loans, partial payments, timing shift, undershoot) and
 *    the label.
 *
 * A payment's status is derived as of a time, never stored: paid as of t
 * means paid_date < date(t). The label instead reads the final record.
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/fmgroids.h"
#include "utils/timestamp.h"

#include "payments.h"
#include "pd_util.h"

/* Sums over the payments due in the last 180 days (features 17-21). */
typedef struct PaymentTotals
{
	int64 nonloan_late_days_90, n_nonloan_90;
	int64 n_loan_late_180;
	int64 n_partial_90;
	int64 shift_recent_sum, n_shift_recent;
	int64 shift_prior_sum, n_shift_prior;
	int64 unpaid_90, due_90;
} PaymentTotals;

static void
add_payment(PaymentTotals *p, const PdSchema *s, TupleTableSlot *slot,
            DateADT today)
{
	bool isnull;
	bool loan =
	    pd_text_equals(slot_getattr(slot, s->pay_kind, &isnull), "loan", 4);
	DateADT due =
	    DatumGetDateADT(slot_getattr(slot, s->pay_due_date, &isnull));
	int64 amount_due =
	    pd_numeric_to_cents(slot_getattr(slot, s->pay_amount_due, &isnull));
	Datum paid_datum = slot_getattr(slot, s->pay_paid_date, &isnull);
	bool paid = !isnull && DatumGetDateADT(paid_datum) < today;
	DateADT paid_date = paid ? DatumGetDateADT(paid_datum) : 0;
	int64 paid_as_of_t = paid ? pd_numeric_to_cents(slot_getattr(
	                                slot, s->pay_amount_paid, &isnull))
	                          : 0;
	int64 late_days = Max(0, (paid ? paid_date : today) - due);

	if (due >= today - 90)
	{
		if (!loan)
		{
			p->nonloan_late_days_90 += late_days;
			p->n_nonloan_90++;
		}
		if (paid_as_of_t > 0 && paid_as_of_t < amount_due)
			p->n_partial_90++;
		p->due_90 = pd_add_money(p->due_90, amount_due);
		p->unpaid_90 = pd_add_money(
		    p->unpaid_90, amount_due - Min(paid_as_of_t, amount_due));
	}
	if (loan && (late_days > 5 || paid_as_of_t < amount_due))
		p->n_loan_late_180++;
	if (paid && due >= today - 30)
	{
		p->shift_recent_sum += paid_date - due;
		p->n_shift_recent++;
	}
	else if (paid && due >= today - 120)
	{
		p->shift_prior_sum += paid_date - due;
		p->n_shift_prior++;
	}
}

#define N_PAYMENT_COLUMNS 5

/* The columns both readers use (for index-only reads of the range). */
static const AttrNumber *
payment_columns(const PdSchema *s, AttrNumber *columns)
{
	columns[0] = s->pay_kind;
	columns[1] = s->pay_due_date;
	columns[2] = s->pay_amount_due;
	columns[3] = s->pay_paid_date;
	columns[4] = s->pay_amount_paid;
	return columns;
}

void
pd_open_payment_scan(PdRangeScan *rs, const PdSchema *s)
{
	AttrNumber columns[N_PAYMENT_COLUMNS];

	pd_range_scan_open(rs, s->payments, s->payments_due_idx, 3,
	                   payment_columns(s, columns), N_PAYMENT_COLUMNS);
}

void
pd_compute_payment_features(PdRangeScan *rs, const PdSchema *s,
                            const pg_uuid_t *customer_id, DateADT today,
                            double *out, bool *bill_lateness_over_5)
{
	PaymentTotals p = {0};

	pd_range_scan_rescan(rs, customer_id, F_DATE_GE,
	                     DateADTGetDatum(today - 180), F_DATE_LT,
	                     DateADTGetDatum(today));
	while (pd_range_scan_next(rs))
		add_payment(&p, s, rs->slot, today);

	out[16] =
	    p.n_nonloan_90
	        ? (double) ((long double) p.nonloan_late_days_90 / p.n_nonloan_90)
	        : 0.0;
	out[17] = p.n_loan_late_180;
	out[18] = p.n_partial_90;
	out[19] =
	    (p.n_shift_recent && p.n_shift_prior)
	        ? (double) ((long double) (p.shift_recent_sum * p.n_shift_prior -
	                                   p.shift_prior_sum * p.n_shift_recent) /
	                    (p.n_shift_recent * p.n_shift_prior))
	        : 0.0;
	out[20] = pd_pct(p.unpaid_90, p.due_90);
	*bill_lateness_over_5 =
	    p.n_nonloan_90 > 0 && p.nonloan_late_days_90 > 5 * p.n_nonloan_90;
}

int
pd_compute_label(const pg_uuid_t *customer_id, TimestampTz as_of)
{
	const PdSchema *s = pd_schema();
	DateADT today = pd_utc_date(as_of);
	PdRangeScan rs;
	AttrNumber columns[N_PAYMENT_COLUMNS];
	int label = -1;

	pd_check_as_of(as_of);
	pd_check_table_readable(s->customers);
	pd_check_table_readable(s->payments);
	(void) pd_read_customer(s, customer_id); /* ERROR if unknown */
	pd_range_scan_begin(&rs, s->payments, s->payments_due_idx, customer_id,
	                    F_DATE_GE, DateADTGetDatum(today), F_DATE_LT,
	                    DateADTGetDatum(today + 30),
	                    payment_columns(s, columns), N_PAYMENT_COLUMNS);
	while (pd_range_scan_next(&rs))
	{
		TupleTableSlot *slot = rs.slot;
		bool isnull;
		Datum paid_date;
		DateADT due;

		if (!pd_text_equals(slot_getattr(slot, s->pay_kind, &isnull), "loan",
		                    4))
			continue;
		due = DatumGetDateADT(slot_getattr(slot, s->pay_due_date, &isnull));
		paid_date = slot_getattr(slot, s->pay_paid_date, &isnull);
		/* the final record: missed, more than 5 days late, or short */
		if (isnull || DatumGetDateADT(paid_date) - due > 5 ||
		    pd_numeric_to_cents(
		        slot_getattr(slot, s->pay_amount_paid, &isnull)) <
		        pd_numeric_to_cents(
		            slot_getattr(slot, s->pay_amount_due, &isnull)))
			label = 1;
		else if (label < 0)
			label = 0;
	}
	pd_range_scan_end(&rs);
	return label;
}

PG_FUNCTION_INFO_V1(pd_customer_label);
Datum
pd_customer_label(PG_FUNCTION_ARGS)
{
	int label;

	pd_require_argument(fcinfo, 0, "customer_id");
	pd_require_argument(fcinfo, 1, "as_of");
	label = pd_compute_label(PG_GETARG_UUID_P(0), PG_GETARG_TIMESTAMPTZ(1));
	if (label < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(label);
}
