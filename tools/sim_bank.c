/*
 * sim_bank.c
 *    How pd_simulate's customers live, one event at a time: everyday
 *    spending by category with each customer's own merchants, monthly
 *    bills (some by autodebit), the salary around salary_day, transfers
 *    and refunds; a stressed share of customers draws more cash, cuts
 *    discretionary spending, has autodebits fail and salaries come late,
 *    short or not at all (FEATURES.md, "The synthetic bank").
 *
 * The rates and amounts follow the extension's generator (synthetic_*.c)
 * closely enough that live events look like the stored history; this is a
 * stream of plausible events, not a second simulation of the money: no
 * balances are tracked, so outcomes are drawn, not derived.
 */
#include "sim_bank.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USEC_PER_DAY (INT64_C(86400) * 1000000)

/* What a customer does, one line per kind of event. */
typedef struct Kind
{
	const char *category;
	bool credit;
	double rate;        /* events a day, unstressed */
	double amount;      /* mean amount, share of the monthly income */
	double sigma;       /* lognormal spread of the amount */
	int rounding;       /* amounts in multiples of this many rupees */
	double s_rate;      /* rate multiplier when stressed */
	double s_amount;    /* amount multiplier when stressed */
	double autodebit;   /* chance a payment of it is an autodebit mandate */
	int merchant_block; /* FEATURES.md position of the category for the
	                     * generator's merchant ids, -1: no merchant */
	int merchant_range; /* how many merchants of the block are in use */
	int pool;           /* merchants one customer uses for it */
	const char *channels[4];
	double cumulative[4]; /* channel choice, cumulative weights */
} Kind;

#define KIND(cat, credit, rate, amount, sigma, rounding, s_rate, s_amount,    \
             autodebit, block, range, pool, ...)                              \
	{                                                                         \
		cat, credit, rate, amount, sigma, rounding, s_rate, s_amount,         \
		    autodebit, block, range, pool, __VA_ARGS__                        \
	}

/*
 * Everyday spending: rate and share of an everyday budget of 45% of the
 * income as in synthetic_customer.c (mean = share * 0.45 / (30 * rate)),
 * with its pools of merchants.
 */
#define EVERYDAY(cat, rate, share, sigma, s_rate, s_amount, block, pool, ...) \
	KIND(cat, false, rate, 0.45 * (share) / (30.0 * (rate)), sigma, 1,        \
	     s_rate, s_amount, 0.0, block, 30000, pool, __VA_ARGS__)

static const Kind kinds[] = {
    EVERYDAY("groceries", 0.26, 0.26, 0.6, 0.9, 1.0, 3, 5,
             {"pos", "upi", "card"}, {40, 85, 100}),
    EVERYDAY("dining", 0.15, 0.10, 0.6, 0.3, 0.8, 8, 9, {"upi", "card", "pos"},
             {50, 80, 100}),
    EVERYDAY("entertainment", 0.055, 0.05, 0.7, 0.3, 0.8, 9, 4,
             {"online", "card", "upi"}, {60, 85, 100}),
    EVERYDAY("shopping", 0.10, 0.15, 0.9, 0.3, 0.8, 10, 10,
             {"online", "card", "pos", "upi"}, {45, 70, 85, 100}),
    EVERYDAY("travel", 0.02, 0.08, 0.8, 0.2, 0.8, 11, 4, {"online", "card"},
             {70, 100}),
    EVERYDAY("transport", 0.33, 0.09, 0.6, 0.7, 1.0, 12, 4,
             {"upi", "card", "online"}, {80, 90, 100}),
    EVERYDAY("healthcare", 0.038, 0.04, 0.8, 1.5, 1.3, 7, 3,
             {"pos", "upi", "card"}, {40, 80, 100}),
    EVERYDAY("atm", 0.11, 0.14, 0.5, 2.5, 1.5, -1, 0, {"atm"}, {100}),
    EVERYDAY("transfer_out", 0.055, 0.06, 0.8, 0.6, 1.0, -1, 0,
             {"upi", "netbanking"}, {60, 100}),
    EVERYDAY("other", 0.08, 0.03, 0.8, 0.6, 1.0, 17, 5,
             {"upi", "online", "pos", "branch"}, {50, 70, 90, 100}),
    /* monthly bills: the manual channels; autodebit by the chance given */
    KIND("utilities", false, 2.0 / 30, 0.02, 0.3, 1, 1.0, 1.0, 0.4, 4, 300, 2,
         {"upi", "online"}, {60, 100}),
    KIND("rent", false, 1.0 / 30, 0.2, 0.05, 500, 1.0, 1.0, 0.1, -1, 0, 0,
         {"netbanking", "upi"}, {50, 100}),
    KIND("insurance", false, 0.5 / 30, 0.035, 0.2, 1, 1.0, 1.0, 0.8, 6, 60, 1,
         {"online", "netbanking"}, {50, 100}),
    KIND("education", false, 0.25 / 30, 0.07, 0.2, 100, 1.0, 1.0, 0.0, 13,
         20000, 1, {"netbanking", "branch"}, {70, 100}),
    KIND("loan_payment", false, 1.0 / 30, 0.18, 0.0, 1, 1.0, 1.0, 0.9, -1, 0,
         0, {"netbanking", "upi"}, {70, 100}),
    /* credits besides the salary: family and friends send more to someone
     * in trouble; refunds go back to one of the shopping merchants */
    KIND("transfer_in", true, 0.02, 0.05, 0.8, 1, 2.5, 2.0, 0.0, -1, 0, 0,
         {"upi", "netbanking", "branch"}, {60, 90, 100}),
    KIND("refund", true, 0.01, 0.01, 0.8, 1, 1.0, 1.0, 0.0, 10, 30000, 0,
         {"card", "online"}, {50, 100}),
};

#define N_KINDS   ((int) (sizeof(kinds) / sizeof(kinds[0])))
#define KIND_ATM  7
#define KIND_RENT 11
#define KIND_LOAN 14
#define KIND_SHOP 3

/* Choice of a kind: cumulative rates for unstressed and stressed people. */
static double cumulative_rate[2][N_KINDS];

static int
channel_count(const Kind *kd)
{
	int n = 1;

	while (n < 4 && kd->channels[n] != NULL)
		n++;
	return n;
}

static int
kind_of_category(const char *category)
{
	for (int k = 0; k < N_KINDS; k++)
		if (strcmp(kinds[k].category, category) == 0)
			return k;
	return -1;
}

void
sim_bank_init(SimBank *bank, uint64_t seed, double stress_fraction)
{
	memset(bank, 0, sizeof(*bank));
	bank->seed = seed;
	bank->stress_fraction = stress_fraction;
	tool_rng_seed(&bank->rng, seed, 1);
	tool_rng_seed(&bank->ids, tool_random_seed(), 2);

	for (int s = 0; s < 2; s++)
	{
		double sum = 0.0;

		for (int k = 0; k < N_KINDS; k++)
		{
			sum += kinds[k].rate * (s ? kinds[k].s_rate : 1.0);
			cumulative_rate[s][k] = sum;
		}
	}
}

SimCustomer *
sim_bank_add(SimBank *bank, const char *id, double income, int salary_day)
{
	SimCustomer *c;

	if (bank->ncustomers == bank->capacity)
	{
		bank->capacity = bank->capacity ? 2 * bank->capacity : 1024;
		bank->customers =
		    realloc(bank->customers, bank->capacity * sizeof(SimCustomer));
		if (bank->customers == NULL)
			tool_die(TOOL_EXIT_FAILURE, "out of memory");
	}
	c = &bank->customers[bank->ncustomers++];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->income = income;
	c->salary_day = salary_day < 1 ? 1 : (salary_day > 28 ? 28 : salary_day);
	return c;
}

void
sim_bank_add_merchant(SimCustomer *c, const char *category,
                      const char *merchant_id)
{
	int k = kind_of_category(category);
	SimMerchant *m;

	if (k < 0 || kinds[k].merchant_block < 0 ||
	    c->nmerchants == SIM_MAX_MERCHANTS ||
	    strlen(merchant_id) >= sizeof(m->id))
		return;
	m = &c->merchants[c->nmerchants++];
	m->kind = (uint8_t) k;
	strcpy(m->id, merchant_id);
}

void
sim_bank_make_up(SimBank *bank, int n)
{
	ToolRng r;

	tool_rng_seed(&r, bank->seed, 3);
	for (int i = 0; i < n; i++)
	{
		char id[TOOL_UUID_LEN];
		double u = tool_rng_unit(&r);
		/* brackets and their incomes as in the generator */
		double lo = u < 0.5 ? 20000 : (u < 0.85 ? 45000 : 120000);
		double hi = u < 0.5 ? 45000 : (u < 0.85 ? 120000 : 400000);
		double income =
		    round(lo * pow(hi / lo, tool_rng_unit(&r)) / 100.0) * 100.0;
		int day;

		u = tool_rng_unit(&r);
		day = u < 0.25 ? 1 : (u < 0.35 ? 28 : (int) tool_rng_int(&r, 1, 28));
		tool_rng_uuid(&r, id);
		sim_bank_add(bank, id, income, day);
	}
}

static int
compare_by_id(const void *a, const void *b)
{
	return strcmp((*(SimCustomer *const *) a)->id,
	              (*(SimCustomer *const *) b)->id);
}

void
sim_bank_finish(SimBank *bank)
{
	ToolRng r;

	/* a stream of its own: who is stressed does not shift other choices */
	tool_rng_seed(&r, bank->seed, 4);
	bank->nstressed = 0;
	for (int i = 0; i < bank->ncustomers; i++)
	{
		SimCustomer *c = &bank->customers[i];

		c->stressed = tool_rng_chance(&r, bank->stress_fraction);
		c->rents = tool_rng_chance(&r, 0.5);
		bank->nstressed += c->stressed;
	}
	free(bank->by_id);
	bank->by_id = malloc((bank->ncustomers + 1) * sizeof(SimCustomer *));
	if (bank->by_id == NULL)
		tool_die(TOOL_EXIT_FAILURE, "out of memory");
	for (int i = 0; i < bank->ncustomers; i++)
		bank->by_id[i] = &bank->customers[i];
	qsort(bank->by_id, bank->ncustomers, sizeof(SimCustomer *), compare_by_id);
}

SimCustomer *
sim_bank_find(SimBank *bank, const char *id)
{
	SimCustomer key;
	SimCustomer *keyp = &key;
	SimCustomer **found;

	snprintf(key.id, sizeof(key.id), "%s", id);
	found = bsearch(&keyp, bank->by_id, bank->ncustomers,
	                sizeof(SimCustomer *), compare_by_id);
	return found ? *found : NULL;
}

/* ------------------------------------------------------------------------
 * Live events
 * ------------------------------------------------------------------------
 */

/* 00:00 UTC of the latest day on or before now whose day is salary_day. */
static int64_t
latest_salary_date(int64_t now_usec, int salary_day)
{
	time_t sec = (time_t) (now_usec / 1000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	if (tm.tm_mday < salary_day)
		tm.tm_mon -= 1; /* timegm normalises a month of -1 */
	tm.tm_mday = salary_day;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t) timegm(&tm) * 1000000;
}

static void
set_amount(SimEvent *ev, double rupees, int rounding)
{
	long long units = llround(rupees / rounding);
	long long cents;

	if (units < 1)
		units = 1;
	cents = units * rounding * 100LL;
	snprintf(ev->buf_amount, sizeof(ev->buf_amount), "%lld.%02lld",
	         cents / 100, cents % 100);
	ev->amount = ev->buf_amount;
}

/*
 * The salary, if it is due: unstressed customers are paid on salary_day or
 * within three days of it; stressed ones late (4 to 12 days), short, or
 * that month not at all. Returns false if no salary is sent now.
 */
static bool
maybe_salary(SimBank *bank, SimCustomer *c, SimEvent *ev, int64_t now_usec)
{
	int64_t d = latest_salary_date(now_usec, c->salary_day);
	double days_late = (double) (now_usec - d) / USEC_PER_DAY;
	double amount;

	if (c->last_salary_usec >= d - 5 * USEC_PER_DAY)
		return false; /* this month's salary came already */
	if (!c->stressed)
	{
		if (days_late > 3.0 || !tool_rng_chance(&bank->rng, 0.7))
			return false;
		amount = c->income * (1.0 + 0.01 * tool_rng_normal(&bank->rng));
	}
	else
	{
		if (days_late < 4.0 || days_late > 12.0 ||
		    !tool_rng_chance(&bank->rng, 0.2))
			return false;
		amount = c->income * tool_rng_range(&bank->rng, 0.4, 0.8);
	}
	c->last_salary_usec = now_usec;
	bank->salaries++;
	ev->txn_type = "credit";
	ev->category = "salary";
	ev->channel = "netbanking";
	ev->merchant_id = NULL;
	ev->is_failed = false;
	set_amount(ev, amount, 1);
	return true;
}

/*
 * One of the customer's merchants for kind k, the most used ones most
 * often; a customer whose pool is not full yet (no history read) gets a new
 * one of the generator's ids. Stressed people stick to fewer merchants.
 */
static void
pick_merchant(SimBank *bank, SimCustomer *c, int k, SimEvent *ev)
{
	int candidates[SIM_MAX_MERCHANTS];
	int n = 0;
	/* the refund of a purchase goes back to a shopping merchant */
	int pool_kind = k == N_KINDS - 1 ? KIND_SHOP : k;
	const Kind *kd = &kinds[pool_kind];
	int pool = kd->pool;
	double u = tool_rng_unit(&bank->rng);

	for (int i = 0; i < c->nmerchants; i++)
		if (c->merchants[i].kind == pool_kind)
			candidates[n++] = i;
	if (c->stressed)
		pool = (int) ceil(pool * 0.4);
	if (n > 0 && (n >= pool || c->nmerchants == SIM_MAX_MERCHANTS))
	{
		int use = n < pool ? n : pool;

		snprintf(ev->buf_merchant, sizeof(ev->buf_merchant), "%s",
		         c->merchants[candidates[(int) (use * pow(u, 1.7))]].id);
	}
	else
	{
		/* a block of 40000 ids per category, popular merchants first */
		snprintf(ev->buf_merchant, sizeof(ev->buf_merchant), "M%06d",
		         kd->merchant_block * 40000 +
		             (int) (kd->merchant_range * u * u * u));
		sim_bank_add_merchant(c, kd->category, ev->buf_merchant); /* if room */
	}
	ev->merchant_id = ev->buf_merchant;
}

void
sim_bank_next_event(SimBank *bank, SimEvent *ev, int64_t now_usec)
{
	SimCustomer *c =
	    &bank->customers[tool_rng_int(&bank->rng, 0, bank->ncustomers - 1)];
	const Kind *kd;
	int k;
	double amount;
	bool autodebit;

	tool_rng_uuid(&bank->ids, ev->buf_event_id);
	ev->event_id = ev->buf_event_id;
	ev->customer_id = c->id;
	tool_format_time(now_usec, ev->buf_txn_time);
	ev->txn_time = ev->buf_txn_time;

	if (maybe_salary(bank, c, ev, now_usec))
		return;

	do
		k = tool_rng_pick(&bank->rng, cumulative_rate[c->stressed], N_KINDS);
	while (k == KIND_RENT && !c->rents);
	kd = &kinds[k];

	ev->txn_type = kd->credit ? "credit" : "debit";
	ev->category = kd->category;
	autodebit =
	    kd->autodebit > 0.0 && tool_rng_chance(&bank->rng, kd->autodebit);
	ev->channel = autodebit
	                  ? "autodebit"
	                  : kd->channels[tool_rng_pick(&bank->rng, kd->cumulative,
	                                               channel_count(kd))];

	if (k == KIND_LOAN && c->emi > 0.0)
		amount = c->emi; /* the instalment the payments table expects */
	else
		amount =
		    tool_rng_lognormal(&bank->rng, kd->amount * c->income, kd->sigma) *
		    (c->stressed ? kd->s_amount : 1.0);
	if (k == KIND_ATM)
		set_amount(ev, amount, c->income < 45000 ? 100 : 500);
	else if (k == KIND_LOAN && c->emi > 0.0)
	{
		snprintf(ev->buf_amount, sizeof(ev->buf_amount), "%.2f", c->emi);
		ev->amount = ev->buf_amount;
	}
	else
		set_amount(ev, amount, kd->rounding);

	ev->merchant_id = NULL;
	if (kd->merchant_block >= 0)
		pick_merchant(bank, c, k, ev);

	/* a mandate bounces when the money is not there: far more often for
	 * stressed customers; a few card and UPI payments are declined */
	if (kd->credit)
		ev->is_failed = false;
	else if (autodebit)
		ev->is_failed = tool_rng_chance(&bank->rng, c->stressed ? 0.45 : 0.02);
	else
		ev->is_failed =
		    tool_rng_chance(&bank->rng, c->stressed ? 0.04 : 0.005);
}

void
sim_bank_free(SimBank *bank)
{
	free(bank->by_id);
	free(bank->customers);
	bank->by_id = NULL;
	bank->customers = NULL;
	bank->ncustomers = bank->capacity = 0;
}
