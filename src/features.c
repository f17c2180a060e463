/*
 * features.c
 *    The 31 behavioural features of FEATURES.md for one customer as of one
 *    time, and the label.
 *
 * Reads, through direct index range scans: the customer's row, the last 120
 * days of transactions, seven months of salary credits (a partial index),
 * the payments due in the last 180 days, and a few rows of the balance
 * ledger for the balance at a month start. So the cost of a call does not
 * grow with years of history. A PdFeatureReader keeps those five scans open
 * from customer to customer for callers that compute many (assess_all's
 * chunks, the ingest worker's triggered assessments): relations, slots and
 * the index AM's state are set up once per batch, which makes a customer's
 * features about 15 % cheaper. Money is int64 cents and every threshold of
 * features 30-31 is tested on exact integers. Knows nothing about models,
 * Kafka or interventions.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "categories.h"
#include "features.h"
#include "payments.h"
#include "pd_util.h"
#include "schema.h"

#define DAY                   PD_USECS_PER_DAY
#define N_TRANSACTION_COLUMNS 7

const char *const pd_feature_name_list[PD_NUM_FEATURES] = {
    "salary_delay_days",
    "salary_amount_deviation_pct",
    "salary_missed_count_180d",
    "balance_drawdown_7d_pct",
    "balance_drawdown_14d_pct",
    "balance_drawdown_30d_pct",
    "balance_volatility_30d",
    "days_below_min_balance_30d",
    "discretionary_spend_drop_7d_pct",
    "discretionary_spend_drop_30d_pct",
    "essential_spend_increase_pct",
    "total_spend_change_30d_pct",
    "merchant_diversity_drop_pct",
    "avg_txn_size_change_pct",
    "weekend_spend_drop_pct",
    "spend_to_income_ratio_30d",
    "bill_lateness_avg_days_90d",
    "loan_late_count_180d",
    "partial_payment_count_90d",
    "payment_timing_shift_days",
    "payment_undershoot_pct_90d",
    "failed_autodebit_count_30d",
    "failed_txn_count_30d",
    "atm_withdrawal_count_change_pct",
    "atm_withdrawal_size_increase_pct",
    "cash_reliance_ratio_30d",
    "txn_frequency_drop_30d_pct",
    "inactive_days_30d",
    "behavior_consistency_score",
    "financial_stress_composite",
    "behavioral_anomaly_count",
};

/* category_code's answer for a credit category or a name it does not know */
#define CAT_CREDIT_OR_UNKNOWN NUM_DEBIT_CATEGORIES

#define IS_DISCRETIONARY(c)                                                   \
	((c) == CAT_DINING || (c) == CAT_ENTERTAINMENT || (c) == CAT_SHOPPING ||  \
	 (c) == CAT_TRAVEL)
#define IS_ESSENTIAL(c) ((c) <= CAT_HEALTHCARE)

typedef struct MerchantSlot
{
	uint32 hash;
	int len;
	char *name;
} MerchantSlot;

typedef struct MerchantSet
{
	MerchantSlot *slots;
	int capacity; /* a power of two */
	int count;
} MerchantSet;

/* Sums and counts over the transaction windows, filled in one pass. */
typedef struct TxnWindows
{
	int64 disc_r7, disc_7_37, /* [t-37d, t-7d) */
	    disc_r30, disc_b90;
	int64 ess_r30, ess_b90;
	int64 debit_r30, debit_b90, n_debit_r30, n_debit_b90;
	int64 weekend_r30, weekend_b90;
	int64 atm_r30, atm_b90, n_atm_r30, n_atm_b90;
	int64 n_ok_r30, n_ok_b90;
	int64 n_failed_r30, n_failed_autodebit_r30;
	int64 cat_r30[NUM_DEBIT_CATEGORIES], cat_b90[NUM_DEBIT_CATEGORIES];
	bool active_day[30];

	/*
	 * flow_by_reach[k]: net successful flow (cents) of the transactions at or
	 * after the balance anchor that are before exactly k of the 31 times
	 * t - j days, j = 0..30 (k = min(31, ceil((t - txn_time) / 1 day))).
	 */
	int64 flow_by_reach[32];

	/* distinct merchants of debits: R30 and [t-60d, t-30d) */
	MerchantSet merchants_r30;
	MerchantSet merchants_p30;
} TxnWindows;

typedef struct SalaryCredit
{
	TimestampTz time;
	int64 cents;
} SalaryCredit;

/*
 * The threshold tests of feature 31 that involve a ratio, decided on the
 * exact integers rather than on the rounded float8 values (FEATURES.md:
 * a value exactly on a threshold stays on it).
 */
typedef struct ExactTests
{
	bool drawdown_30d_over_30;
	bool discretionary_drop_30d_over_30;
	bool essential_increase_over_20;
	bool frequency_drop_over_30;
	bool cash_reliance_over_0_3;
	bool bill_lateness_over_5;
} ExactTests;

/* change_pct(r, b/den) and drop_pct(r, b/den), with the base scaled. */
static double
change_pct_scaled(int64 r, int64 base, int64 den)
{
	return pd_pct((__int128) r * den - base, base);
}

static double
drop_pct_scaled(int64 r, int64 base, int64 den)
{
	return pd_pct((__int128) base - (__int128) r * den, base);
}

/* change_pct of two averages sum/count, an empty average being 0. */
static double
change_pct_of_averages(int64 sum_r, int64 n_r, int64 sum_b, int64 n_b)
{
	if (n_b == 0 || sum_b <= 0)
		return 0.0;
	if (n_r == 0)
		return -100.0;
	return pd_pct((__int128) sum_r * n_b - (__int128) sum_b * n_r,
	              (__int128) sum_b * n_r);
}

static inline double
clip01(double x)
{
	return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

static Category
category_code(const char *s, int len)
{
	int guess;

	/* The first letter and the length tell the 15 debit categories apart. */
	switch (s[0])
	{
		case 'g':
			guess = CAT_GROCERIES;
			break;
		case 'u':
			guess = CAT_UTILITIES;
			break;
		case 'r':
			guess = CAT_RENT;
			break;
		case 'i':
			guess = CAT_INSURANCE;
			break;
		case 'h':
			guess = CAT_HEALTHCARE;
			break;
		case 'd':
			guess = CAT_DINING;
			break;
		case 'e':
			guess = len == 9 ? CAT_EDUCATION : CAT_ENTERTAINMENT;
			break;
		case 's':
			guess = CAT_SHOPPING;
			break;
		case 't':
			guess = len == 6   ? CAT_TRAVEL
			        : len == 9 ? CAT_TRANSPORT
			                   : CAT_TRANSFER_OUT;
			break;
		case 'l':
			guess = CAT_LOAN_PAYMENT;
			break;
		case 'a':
			guess = CAT_ATM;
			break;
		case 'o':
			guess = CAT_OTHER;
			break;
		default:
			return CAT_CREDIT_OR_UNKNOWN;
	}
	if ((int) strlen(pd_category_names[guess]) == len &&
	    memcmp(pd_category_names[guess], s, len) == 0)
		return (Category) guess;
	return CAT_CREDIT_OR_UNKNOWN;
}

/*
 * The first UTC month start at or after 'x': the balance anchor. Chosen at
 * or after t - 120 days, it is before t - 89 days, so every transaction
 * between it and t is in the 120-day scan.
 */
static DateADT
month_start_at_or_after(TimestampTz x)
{
	DateADT d = pd_utc_date(x);
	int year, month, day;

	pd_date_parts(d, &year, &month, &day);
	if (day == 1 && pd_date_start(d) == x)
		return d;
	return pd_add_months(pd_make_date(year, month, 1), 1);
}

/*
 * Net successful flow before month 'anchor', from the ledger. Exact either
 * way; summing from the end (the total minus the months since) reads fewer
 * rows when 'anchor' is recent, which is the usual case.
 */
static int64
ledger_flow_before(PdRangeScan *rs, const PdSchema *s,
                   const pg_uuid_t *customer_id, DateADT anchor,
                   TimestampTz opened_at)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	bool from_end =
	    (now - pd_date_start(anchor)) <= (pd_date_start(anchor) - opened_at);
	int64 sum = 0;
	int64 total = 0;

	if (from_end)
		pd_range_scan_rescan(rs, customer_id, F_DATE_GE,
		                     DateADTGetDatum(anchor), InvalidOid, 0);
	else
		pd_range_scan_rescan(rs, customer_id, InvalidOid, 0, F_DATE_LT,
		                     DateADTGetDatum(anchor));
	while (pd_range_scan_next(rs))
	{
		bool isnull;
		DateADT month =
		    DatumGetDateADT(slot_getattr(rs->slot, s->ledger_month, &isnull));
		int64 net = DatumGetInt64(
		    slot_getattr(rs->slot, s->ledger_net_cents, &isnull));

		if (DATE_NOT_FINITE(month))
			total = net;
		else
			sum = pd_add_money(sum, net);
	}
	return from_end ? total - sum : sum;
}

/*
 * Distinct merchant ids, exactly: an open-addressing set of (hash, string).
 * Only a merchant's first occurrence is copied out of the buffer page.
 */
static void
merchant_set_init(MerchantSet *set)
{
	set->capacity = 64;
	set->count = 0;
	set->slots = palloc0(set->capacity * sizeof(MerchantSlot));
}

static void
merchant_set_add_slot(MerchantSet *set, uint32 hash, char *name, int len)
{
	uint32 mask = set->capacity - 1;

	for (uint32 i = hash & mask;; i = (i + 1) & mask)
	{
		MerchantSlot *slot = &set->slots[i];

		if (slot->name == NULL)
		{
			slot->hash = hash, slot->name = name, slot->len = len;
			set->count++;
			return;
		}
		if (slot->hash == hash && slot->len == len &&
		    memcmp(slot->name, name, len) == 0)
			return;
	}
}

static void
merchant_set_add(MerchantSet *set, const char *data, int len)
{
	uint32 hash = hash_bytes((const unsigned char *) data, len);
	uint32 mask = set->capacity - 1;

	for (uint32 i = hash & mask;; i = (i + 1) & mask)
	{
		MerchantSlot *slot = &set->slots[i];

		if (slot->name == NULL)
			break;
		if (slot->hash == hash && slot->len == len &&
		    memcmp(slot->name, data, len) == 0)
			return;
	}
	if (2 * (set->count + 1) > set->capacity)
	{
		MerchantSlot *old = set->slots;
		int old_capacity = set->capacity;

		set->capacity *= 2;
		set->count = 0;
		set->slots = palloc0(set->capacity * sizeof(MerchantSlot));
		for (int i = 0; i < old_capacity; i++)
			if (old[i].name != NULL)
				merchant_set_add_slot(set, old[i].hash, old[i].name,
				                      old[i].len);
	}
	merchant_set_add_slot(set, hash, pnstrdup(data, len), len);
}

/* Adds one transaction at time 'e' to every window it falls in. */
static void
add_transaction(TxnWindows *w, const PdSchema *s, TupleTableSlot *slot,
                TimestampTz t, TimestampTz anchor)
{
	Datum *values = slot->tts_values;
	bool *nulls = slot->tts_isnull;
	TimestampTz e = DatumGetTimestampTz(values[s->txn_time - 1]);
	int64 cents = pd_numeric_to_cents(values[s->txn_amount - 1]);
	bool failed = DatumGetBool(values[s->txn_is_failed - 1]);
	bool debit = !pd_text_equals(values[s->txn_type - 1], "credit", 6);
	int64 reach = (t - e + DAY - 1) / DAY; /* ceil, e < t */
	bool r30 = e >= t - 30 * DAY;
	bool b90 = !r30; /* the scan starts at t - 120 days */
	Category cat;

	if (r30)
		w->active_day[reach - 1] = true;
	if (failed)
	{
		if (r30)
		{
			w->n_failed_r30++;
			if (pd_text_equals(values[s->txn_channel - 1], "autodebit", 9))
				w->n_failed_autodebit_r30++;
		}
		return;
	}

	if (e >= anchor)
		w->flow_by_reach[Min(reach, 31)] = pd_add_money(
		    w->flow_by_reach[Min(reach, 31)], debit ? -cents : cents);
	if (r30)
		w->n_ok_r30++;
	else
		w->n_ok_b90++;
	if (!debit)
		return;

	{
		struct varlena *c = pg_detoast_datum_packed(
		    (struct varlena *) DatumGetPointer(values[s->txn_category - 1]));

		cat = category_code(VARDATA_ANY(c), VARSIZE_ANY_EXHDR(c));
	}
	if (cat != CAT_CREDIT_OR_UNKNOWN)
	{
		int64 *vec = r30 ? w->cat_r30 : w->cat_b90;

		vec[cat] = pd_add_money(vec[cat], cents);
	}
	if (IS_DISCRETIONARY(cat))
	{
		if (e >= t - 7 * DAY)
			w->disc_r7 += cents;
		else if (e >= t - 37 * DAY)
			w->disc_7_37 += cents;
		if (r30)
			w->disc_r30 += cents;
		else
			w->disc_b90 += cents;
	}
	if (IS_ESSENTIAL(cat))
	{
		if (r30)
			w->ess_r30 += cents;
		else
			w->ess_b90 += cents;
	}
	if (pd_text_equals(values[s->txn_channel - 1], "atm", 3))
	{
		if (r30)
			w->atm_r30 += cents, w->n_atm_r30++;
		else
			w->atm_b90 += cents, w->n_atm_b90++;
	}
	{
		int wd = pd_utc_weekday(e);
		bool weekend = (wd == 0 || wd == 6);

		if (r30)
		{
			w->debit_r30 += cents, w->n_debit_r30++;
			if (weekend)
				w->weekend_r30 += cents;
		}
		else if (b90)
		{
			w->debit_b90 += cents, w->n_debit_b90++;
			if (weekend)
				w->weekend_b90 += cents;
		}
	}
	if (!nulls[s->txn_merchant_id - 1] && e >= t - 60 * DAY)
	{
		struct varlena *m = pg_detoast_datum_packed((
		    struct varlena *) DatumGetPointer(values[s->txn_merchant_id - 1]));

		merchant_set_add(r30 ? &w->merchants_r30 : &w->merchants_p30,
		                 VARDATA_ANY(m), VARSIZE_ANY_EXHDR(m));
	}
}

static AttrNumber
transaction_columns(const PdSchema *s, AttrNumber *columns)
{
	AttrNumber last = 0;

	columns[0] = s->txn_time;
	columns[1] = s->txn_amount;
	columns[2] = s->txn_type;
	columns[3] = s->txn_category;
	columns[4] = s->txn_channel;
	columns[5] = s->txn_merchant_id;
	columns[6] = s->txn_is_failed;
	for (int c = 0; c < N_TRANSACTION_COLUMNS; c++)
		last = Max(last, columns[c]);
	return last;
}

static void
scan_transactions(PdRangeScan *rs, TxnWindows *w, const PdSchema *s,
                  const pg_uuid_t *customer_id, TimestampTz t,
                  TimestampTz anchor)
{
	AttrNumber columns[N_TRANSACTION_COLUMNS];
	AttrNumber last = transaction_columns(s, columns);

	merchant_set_init(&w->merchants_r30);
	merchant_set_init(&w->merchants_p30);
	pd_range_scan_rescan(rs, customer_id, F_TIMESTAMPTZ_GE,
	                     TimestampTzGetDatum(t - 120 * DAY), F_TIMESTAMPTZ_LT,
	                     TimestampTzGetDatum(t));
	while (pd_range_scan_next(rs))
	{
		slot_getsomeattrs(rs->slot, last);
		add_transaction(w, s, rs->slot, t, anchor);
	}
}

/* Successful salary credits with txn_time in [from, t), oldest first. */
static SalaryCredit *
scan_salary_credits(PdRangeScan *rs, const PdSchema *s,
                    const pg_uuid_t *customer_id, TimestampTz from,
                    TimestampTz t, int *count)
{
	int cap = 16;
	int n = 0;
	SalaryCredit *credits = palloc(cap * sizeof(SalaryCredit));

	pd_range_scan_rescan(rs, customer_id, F_TIMESTAMPTZ_GE,
	                     TimestampTzGetDatum(from), F_TIMESTAMPTZ_LT,
	                     TimestampTzGetDatum(t));
	while (pd_range_scan_next(rs))
	{
		bool isnull;

		if (n == cap)
			credits = repalloc(credits, (cap *= 2) * sizeof(SalaryCredit));
		credits[n].time =
		    DatumGetTimestampTz(slot_getattr(rs->slot, s->txn_time, &isnull));
		credits[n].cents = pd_numeric_to_cents(
		    slot_getattr(rs->slot, s->txn_amount, &isnull));
		n++;
	}
	*count = n;
	return credits;
}

/* Features 1-3. 'd' is the latest date <= date(t) on the salary day. */
static void
compute_salary_features(const PdCustomer *c, const SalaryCredit *credits,
                        int n, TimestampTz t, DateADT d, double *out)
{
	DateADT today = pd_utc_date(t);
	TimestampTz since_d = pd_date_start(d - 5);
	int latest = -1;
	int missed = 0;

	/* 1: the earliest credit in [d - 5 days, t), else the days since d */
	out[0] = today - d;
	for (int i = 0; i < n; i++)
		if (credits[i].time >= since_d)
		{
			out[0] = Max(0, pd_utc_date(credits[i].time) - d);
			break;
		}

	/* 2: the latest credit in [t - 40d, t); equal times: the larger amount */
	for (int i = 0; i < n; i++)
		if (credits[i].time >= t - 40 * DAY &&
		    (latest < 0 || credits[i].time > credits[latest].time ||
		     (credits[i].time == credits[latest].time &&
		      credits[i].cents > credits[latest].cents)))
			latest = i;
	out[1] = latest < 0 ? -100.0
	                    : pd_pct((__int128) credits[latest].cents - c->income,
	                             c->income);

	/* 3: months since opening with no credit dated in [d_k - 5, d_k + 10] */
	for (int k = 1; k <= 6; k++)
	{
		DateADT dk = pd_add_months(d, -k);
		bool paid = false;

		if (dk < pd_utc_date(c->opened_at))
			continue;
		for (int i = 0; i < n && !paid; i++)
		{
			DateADT day = pd_utc_date(credits[i].time);

			paid = day >= dk - 5 && day <= dk + 10;
		}
		if (!paid)
			missed++;
	}
	out[2] = missed;
}

/* The latest date <= 'today' whose day of month is 'salary_day'. */
static DateADT
latest_salary_date(DateADT today, int salary_day)
{
	int year, month, day;

	pd_date_parts(today, &year, &month, &day);
	if (day >= salary_day)
		return pd_make_date(year, month, salary_day);
	return pd_add_months(pd_make_date(year, month, salary_day), -1);
}

/* Features 4-8 from the 31 balances bal(t - j days), j = 0..30. */
static void
compute_balance_features(const PdCustomer *c, const TxnWindows *w,
                         int64 balance_at_anchor, double *out,
                         ExactTests *exact)
{
	int64 bal[31];
	int64 running = pd_add_money(balance_at_anchor, w->flow_by_reach[31]);
	long double mean = 0, var = 0;
	int below = 0;
	static const int spans[3] = {7, 14, 30};

	for (int j = 30; j >= 0; j--)
	{
		bal[j] = running;
		running = pd_add_money(running, w->flow_by_reach[j]);
	}

	for (int i = 0; i < 3; i++)
	{
		int64 before = bal[spans[i]];

		out[3 + i] =
		    pd_pct(Max(0, (__int128) before - bal[0]), Max(before, c->income));
	}
	exact->drawdown_30d_over_30 = 100 * Max(0, (__int128) bal[30] - bal[0]) >
	                              30 * (__int128) Max(bal[30], c->income);

	/* two-pass population variance: balances can be large */
	for (int j = 0; j < 30; j++)
		mean += bal[j];
	mean /= 30;
	for (int j = 0; j < 30; j++)
	{
		var += (bal[j] - mean) * (bal[j] - mean);
		if (bal[j] < c->min_balance)
			below++;
	}
	out[6] = (double) (sqrtl(var / 30) / c->income);
	out[7] = below;
}

static double
cosine_similarity(const int64 *a, const int64 *b, int n)
{
	long double dot = 0, na = 0, nb = 0;

	for (int i = 0; i < n; i++)
	{
		dot += (long double) a[i] * b[i];
		na += (long double) a[i] * a[i];
		nb += (long double) b[i] * b[i];
	}
	if (na == 0 && nb == 0)
		return 1.0;
	if (na == 0 || nb == 0)
		return 0.0;
	return (double) Min(1.0L, dot / (sqrtl(na) * sqrtl(nb)));
}

/* Features 9-16 and 22-29. */
static void
compute_activity_features(const PdCustomer *c, TxnWindows *w, double *out,
                          ExactTests *exact)
{
	int inactive = 0;

	/* drop_pct(r, B / 3) > 30  <=>  100 (B - 3r) > 30 B, when B > 0 */
	exact->discretionary_drop_30d_over_30 =
	    w->disc_b90 > 0 &&
	    100 * ((__int128) w->disc_b90 - 3 * (__int128) w->disc_r30) >
	        30 * (__int128) w->disc_b90;
	exact->essential_increase_over_20 =
	    w->ess_b90 > 0 && 100 * (3 * (__int128) w->ess_r30 - w->ess_b90) >
	                          20 * (__int128) w->ess_b90;
	exact->frequency_drop_over_30 =
	    w->n_ok_b90 > 0 &&
	    100 * (w->n_ok_b90 - 3 * w->n_ok_r30) > 30 * w->n_ok_b90;
	exact->cash_reliance_over_0_3 =
	    w->debit_r30 > 0 &&
	    10 * (__int128) w->atm_r30 > 3 * (__int128) w->debit_r30;

	out[8] = drop_pct_scaled(w->disc_r7, 7 * w->disc_7_37, 30);
	out[9] = drop_pct_scaled(w->disc_r30, w->disc_b90, 3);
	out[10] = change_pct_scaled(w->ess_r30, w->ess_b90, 3);
	out[11] = change_pct_scaled(w->debit_r30, w->debit_b90, 3);
	out[12] =
	    drop_pct_scaled(w->merchants_r30.count, w->merchants_p30.count, 1);
	out[13] = change_pct_of_averages(w->debit_r30, w->n_debit_r30,
	                                 w->debit_b90, w->n_debit_b90);
	out[14] = drop_pct_scaled(w->weekend_r30, w->weekend_b90, 3);
	out[15] = (double) ((long double) w->debit_r30 / c->income);

	out[21] = w->n_failed_autodebit_r30;
	out[22] = w->n_failed_r30;
	out[23] = change_pct_scaled(w->n_atm_r30, w->n_atm_b90, 3);
	out[24] = change_pct_of_averages(w->atm_r30, w->n_atm_r30, w->atm_b90,
	                                 w->n_atm_b90);
	out[25] = w->debit_r30 > 0
	              ? (double) ((long double) w->atm_r30 / w->debit_r30)
	              : 0.0;
	out[26] = drop_pct_scaled(w->n_ok_r30, w->n_ok_b90, 3);
	for (int j = 0; j < 30; j++)
		if (!w->active_day[j])
			inactive++;
	out[27] = inactive;
	out[28] = cosine_similarity(w->cat_r30, w->cat_b90, NUM_DEBIT_CATEGORIES);
}

/* Features 30 and 31 from the others. */
static void
compute_derived_features(double *out, const ExactTests *exact)
{
	double terms[6] = {
	    out[0] / 10, out[5] / 50,  out[7] / 10,
	    out[21] / 3, out[16] / 15, out[25] / 0.5,
	};
	double sum = 0;
	int anomalies = 0;

	for (int i = 0; i < 6; i++)
		sum += clip01(terms[i]);
	out[29] = sum / 6;

	anomalies += out[0] > 3;  /* salary_delay_days */
	anomalies += out[2] >= 1; /* salary_missed_count_180d */
	anomalies += exact->drawdown_30d_over_30;
	anomalies += exact->discretionary_drop_30d_over_30;
	anomalies += exact->essential_increase_over_20;
	anomalies += out[21] >= 1; /* failed_autodebit_count_30d */
	anomalies += out[7] > 5;   /* days_below_min_balance_30d */
	anomalies += exact->frequency_drop_over_30;
	anomalies += exact->cash_reliance_over_0_3;
	anomalies += exact->bill_lateness_over_5;
	out[30] = anomalies;
}

/*
 * The five index scans a customer's features read, open across customers:
 * the customers pkey, the salary credits, the transactions, the ledger and
 * the payments. 'scratch' holds one customer's allocations (reset for the
 * next); the scans live in 'cxt'.
 */
struct PdFeatureReader
{
	const PdSchema *s;
	MemoryContext cxt;
	MemoryContext scratch;
	PdRangeScan customers;
	PdRangeScan salary;
	PdRangeScan transactions;
	PdRangeScan ledger;
	PdRangeScan payments;
};

PdFeatureReader *
pd_feature_reader_open(void)
{
	const PdSchema *s = pd_schema();
	MemoryContext cxt =
	    AllocSetContextCreate(CurrentMemoryContext, "pre_delinquency features",
	                          ALLOCSET_DEFAULT_SIZES);
	MemoryContext caller = MemoryContextSwitchTo(cxt);
	PdFeatureReader *r = palloc(sizeof(PdFeatureReader));
	AttrNumber salary_columns[] = {s->txn_time, s->txn_amount};
	AttrNumber columns[N_TRANSACTION_COLUMNS];

	pd_check_table_readable(s->customers);
	pd_check_table_readable(s->transactions);
	pd_check_table_readable(s->payments);
	r->s = s;
	r->cxt = cxt;
	r->scratch = AllocSetContextCreate(cxt, "pre_delinquency one customer",
	                                   ALLOCSET_DEFAULT_SIZES);
	pd_range_scan_open(&r->customers, s->customers, s->customers_pkey, 1, NULL,
	                   0);
	pd_range_scan_open(&r->salary, s->transactions, s->transactions_salary_idx,
	                   3, salary_columns, lengthof(salary_columns));
	transaction_columns(s, columns);
	pd_range_scan_open(&r->transactions, s->transactions,
	                   s->transactions_time_idx, 3, columns,
	                   N_TRANSACTION_COLUMNS);
	pd_range_scan_open(&r->ledger, s->ledger, s->ledger_pkey, 2, NULL, 0);
	pd_open_payment_scan(&r->payments, s);
	MemoryContextSwitchTo(caller);
	return r;
}

void
pd_feature_reader_close(PdFeatureReader *r)
{
	pd_range_scan_end(&r->customers);
	pd_range_scan_end(&r->salary);
	pd_range_scan_end(&r->transactions);
	pd_range_scan_end(&r->ledger);
	pd_range_scan_end(&r->payments);
	MemoryContextDelete(r->cxt);
}

void
pd_feature_reader_compute(PdFeatureReader *r, const pg_uuid_t *customer_id,
                          TimestampTz t, double out[PD_NUM_FEATURES])
{
	const PdSchema *s = r->s;
	MemoryContext caller;
	PdCustomer c;
	TxnWindows w;
	ExactTests exact;
	DateADT today = pd_utc_date(t);
	DateADT d;
	DateADT anchor_month;
	TimestampTz anchor;
	SalaryCredit *credits;
	int n_credits;

	pd_check_as_of(t);
	MemoryContextReset(r->scratch);
	caller = MemoryContextSwitchTo(r->scratch);
	c = pd_read_customer_from(&r->customers, s, customer_id);
	d = latest_salary_date(today, c.salary_day);

	credits = scan_salary_credits(&r->salary, s, customer_id,
	                              pd_date_start(pd_add_months(d, -6) - 5), t,
	                              &n_credits);
	compute_salary_features(&c, credits, n_credits, t, d, out);

	anchor_month = month_start_at_or_after(t - 120 * DAY);
	anchor = pd_date_start(anchor_month);
	memset(&w, 0, sizeof(w));
	scan_transactions(&r->transactions, &w, s, customer_id, t, anchor);
	compute_balance_features(
	    &c, &w,
	    pd_add_money(c.opening, ledger_flow_before(&r->ledger, s, customer_id,
	                                               anchor_month, c.opened_at)),
	    out, &exact);
	compute_activity_features(&c, &w, out, &exact);
	pd_compute_payment_features(&r->payments, s, customer_id, today, out,
	                            &exact.bill_lateness_over_5);
	compute_derived_features(out, &exact);
	MemoryContextSwitchTo(caller);
}

void
pd_compute_features(const pg_uuid_t *customer_id, TimestampTz t,
                    double out[PD_NUM_FEATURES])
{
	PdFeatureReader *r = pd_feature_reader_open();

	pd_feature_reader_compute(r, customer_id, t, out);
	pd_feature_reader_close(r);
}

/* SQL entry points ------------------------------------------------------- */

PG_FUNCTION_INFO_V1(pd_customer_features);
Datum
pd_customer_features(PG_FUNCTION_ARGS)
{
	double values[PD_NUM_FEATURES];
	Datum datums[PD_NUM_FEATURES];
	bool nulls[PD_NUM_FEATURES] = {0};
	TupleDesc tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;

	pd_require_argument(fcinfo, 0, "customer_id");
	pd_require_argument(fcinfo, 1, "as_of");
	pd_compute_features(PG_GETARG_UUID_P(0), PG_GETARG_TIMESTAMPTZ(1), values);

	if (tupdesc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "customer_features must return a composite type");
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		fcinfo->flinfo->fn_extra = tupdesc;
		MemoryContextSwitchTo(old);
	}
	if (tupdesc->natts != PD_NUM_FEATURES)
		elog(ERROR,
		     "type pre_delinquency.features has %d columns, expected %d",
		     tupdesc->natts, PD_NUM_FEATURES);
	for (int i = 0; i < PD_NUM_FEATURES; i++)
		datums[i] = Float8GetDatum(values[i]);
	PG_RETURN_DATUM(
	    HeapTupleGetDatum(heap_form_tuple(tupdesc, datums, nulls)));
}

PG_FUNCTION_INFO_V1(pd_feature_names);
Datum
pd_feature_names(PG_FUNCTION_ARGS)
{
	Datum names[PD_NUM_FEATURES];

	for (int i = 0; i < PD_NUM_FEATURES; i++)
		names[i] = CStringGetTextDatum(pd_feature_name_list[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, PD_NUM_FEATURES, TEXTOID, -1,
	                                      false, TYPALIGN_INT));
}
