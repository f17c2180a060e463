/*
 * synthetic_model.c
 *    The behavioural model of the synthetic bank (FEATURES.md): who each
 *    customer is, what they owe, how they spend, the stress episode some go
 *    through, and a day-by-day simulation of their money in which every
 *    payment outcome follows from the simulated balance.
 *
 * Two parts, top to bottom: a seeded PRNG and uuid scheme (same arguments,
 * same bytes); then one customer's simulation, from first draw to last row.
 * Rows go out through the bulk writer (bulk_writer.c); the SQL entry point,
 * its arguments and the summary are synthetic.c's. Knows nothing about
 * features or models.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"

#include "bulk_writer.h"
#include "pd_util.h"
#include "synthetic_model.h"

#define MAX_EVENTS   128 /* one customer's events of one day */
#define MAX_POOL     12  /* merchants per category and customer */
#define USECS_MINUTE INT64CONST(60000000)
#define USECS_SECOND INT64CONST(1000000)
#define RUPEES(x)    (100 * (int64) (x))
#define NO_DATE      DATEVAL_NOBEGIN

/* ------------------------------------------------------------------------
 * PRNG: xoshiro256** seeded through splitmix64. One stream per customer,
 * derived from (seed, customer number), so a customer's history does not
 * depend on how many customers come before it.
 * ------------------------------------------------------------------------
 */
typedef struct Rng
{
	uint64 s[4];
} Rng;

static inline uint64
splitmix64(uint64 *x)
{
	uint64 z = (*x += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static void
rng_seed(Rng *r, uint32 seed, uint64 stream)
{
	uint64 x =
	    ((uint64) seed << 32) ^ (stream * UINT64CONST(0xD1B54A32D192ED03));

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64
rotl64(uint64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64
rng_next(Rng *r)
{
	uint64 *s = r->s;
	uint64 result = rotl64(s[1] * 5, 7) * 9;
	uint64 t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* uniform in [0, 1) */
static inline double
rng_unit(Rng *r)
{
	return (rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double
rng_range(Rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_unit(r);
}

/* uniform integer in [lo, hi] */
static inline int
rng_int(Rng *r, int lo, int hi)
{
	return lo + (int) ((rng_next(r) >> 33) % (uint64) (hi - lo + 1));
}

static inline bool
rng_chance(Rng *r, double p)
{
	return rng_unit(r) < p;
}

static double
rng_normal(Rng *r)
{
	double u1 = 1.0 - rng_unit(r);
	double u2 = rng_unit(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A positive amount with the given mean and lognormal spread. */
static double
rng_lognormal(Rng *r, double mean, double sigma)
{
	return mean * exp(sigma * rng_normal(r) - 0.5 * sigma * sigma);
}

/* Poisson by inversion: one uniform, fine for the small rates used here. */
static int
rng_poisson(Rng *r, double lambda)
{
	double u, p, cdf;
	int k = 0;

	if (lambda <= 0.0)
		return 0;
	u = rng_unit(r);
	p = exp(-lambda);
	cdf = p;
	while (u > cdf && k < 20)
	{
		k++;
		p *= lambda / k;
		cdf += p;
	}
	return k;
}

/* index into cumulative percentages, e.g. {40, 85, 100} */
static int
rng_pick(Rng *r, const uint8 *cumulative)
{
	int u = rng_int(r, 0, 99);
	int i = 0;

	while (u >= cumulative[i])
		i++;
	return i;
}

static inline double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* ------------------------------------------------------------------------
 * uuids. The seed's 32 bits come first, so two seeds never collide and one
 * seed's rows form one key range (easy to find, easy to delete); then a
 * kind nibble and a 48-bit counter in insertion order, so every primary key
 * and (customer_id, ...) index is appended at its right edge; then hash
 * bits. Version 8 (custom) and the RFC variant are set in their places.
 * ------------------------------------------------------------------------
 */
void
pd_synthetic_uuid(pg_uuid_t *u, uint32 seed, int kind, uint64 n)
{
	uint64 h =
	    ((uint64) seed << 8 | kind) ^ (n * UINT64CONST(0x9E3779B97F4A7C15));
	unsigned char *b = u->data;

	h = splitmix64(&h);
	b[0] = seed >> 24;
	b[1] = seed >> 16;
	b[2] = seed >> 8;
	b[3] = seed;
	b[4] = (kind << 4) | ((n >> 44) & 0x0F);
	b[5] = n >> 36;
	b[6] = 0x80 | ((n >> 32) & 0x0F);
	b[7] = n >> 24;
	b[8] = 0x80 | ((n >> 18) & 0x3F);
	b[9] = n >> 10;
	b[10] = n >> 2;
	b[11] = ((n & 0x03) << 6) | (h & 0x3F);
	b[12] = h >> 8;
	b[13] = h >> 16;
	b[14] = h >> 24;
	b[15] = h >> 32;
}

void
pd_synthetic_customer_range(uint32 seed, pg_uuid_t *lo, pg_uuid_t *hi)
{
	memset(lo->data, 0x00, UUID_LEN);
	memset(hi->data, 0xFF, UUID_LEN);
	for (int i = 0; i < 4; i++)
		lo->data[i] = hi->data[i] = (seed >> (24 - 8 * i)) & 0xFF;
	lo->data[4] = UUID_CUSTOMER << 4;
	hi->data[4] = (UUID_CUSTOMER << 4) | 0x0F;
}

/* ------------------------------------------------------------------------
 * The customer: who they are, what they owe each month, how they spend
 * ------------------------------------------------------------------------
 */

/* Everyday spending, one line per category a customer spends on freely. */
typedef struct SpendSpec
{
	Category category;
	double rate;              /* events per weekday, middle income */
	double weekend;           /* rate multiplier on Saturday and Sunday */
	double share;             /* share of the everyday budget */
	double sigma;             /* spread of amounts */
	int pool;                 /* merchants in a customer's pool, 0: none */
	int minute_lo, minute_hi; /* UTC minutes of the day (IST - 5:30) */
	uint8 channels[4];
	uint8 cumulative[4]; /* channel choice, cumulative percent */
} SpendSpec;

static const SpendSpec spend_specs[] = {
    {CAT_GROCERIES,
     0.26,
     1.3,
     0.26,
     0.6,
     5,
     150,
     990,
     {CH_POS, CH_UPI, CH_CARD},
     {40, 85, 100}},
    {CAT_DINING,
     0.15,
     1.7,
     0.10,
     0.6,
     9,
     390,
     1050,
     {CH_UPI, CH_CARD, CH_POS},
     {50, 80, 100}},
    {CAT_ENTERTAINMENT,
     0.055,
     2.0,
     0.05,
     0.7,
     4,
     510,
     1080,
     {CH_ONLINE, CH_CARD, CH_UPI},
     {60, 85, 100}},
    {CAT_SHOPPING,
     0.10,
     1.6,
     0.15,
     0.9,
     10,
     270,
     1020,
     {CH_ONLINE, CH_CARD, CH_POS, CH_UPI},
     {45, 70, 85, 100}},
    {CAT_TRAVEL,
     0.02,
     1.4,
     0.08,
     0.8,
     4,
     90,
     1020,
     {CH_ONLINE, CH_CARD},
     {70, 100}},
    {CAT_TRANSPORT,
     0.33,
     0.6,
     0.09,
     0.6,
     4,
     60,
     960,
     {CH_UPI, CH_CARD, CH_ONLINE},
     {80, 90, 100}},
    {CAT_HEALTHCARE,
     0.038,
     1.0,
     0.04,
     0.8,
     3,
     210,
     900,
     {CH_POS, CH_UPI, CH_CARD},
     {40, 80, 100}},
    {CAT_ATM, 0.11, 1.1, 0.14, 0.5, 0, 180, 960, {CH_ATM}, {100}},
    {CAT_TRANSFER_OUT,
     0.055,
     1.0,
     0.06,
     0.8,
     0,
     180,
     1020,
     {CH_UPI, CH_NETBANKING},
     {60, 100}},
    {CAT_OTHER,
     0.08,
     1.0,
     0.03,
     0.8,
     5,
     180,
     1020,
     {CH_UPI, CH_ONLINE, CH_POS, CH_BRANCH},
     {50, 70, 90, 100}},
};

#define N_SPEND       ((int) lengthof(spend_specs))
#define SP_HEALTHCARE 6 /* index of CAT_HEALTHCARE in spend_specs */

typedef enum EpisodeType
{
	EP_JOB_LOSS,
	EP_INCOME_CUT,
	EP_MEDICAL,
	EP_FAMILY
} EpisodeType;

/* How each kind of episode hits income and spending at full intensity. */
typedef struct EpisodeEffect
{
	double salary_missing; /* weight of the chance a salary does not come */
	double salary_cut;     /* share of the salary lost */
	double salary_delay;   /* days of delay (times a uniform) */
	double healthcare;     /* extra healthcare rate multiplier */
	double lump;           /* one-off spending in months of income */
} EpisodeEffect;

static const EpisodeEffect episode_effects[] = {
    [EP_JOB_LOSS] = {1.0, 0.3, 12.0, 0.0, 0.0},
    [EP_INCOME_CUT] = {0.4, 0.6, 8.0, 0.0, 0.0},
    [EP_MEDICAL] = {0.25, 0.4, 4.0, 4.0, 3.0},
    [EP_FAMILY] = {0.1, 0.1, 3.0, 0.0, 2.5},
};

typedef struct Episode
{
	bool active;
	EpisodeType type;
	double severity; /* 0.2 .. 1 */
	DateADT onset;
	int ramp_days; /* it sets in over weeks */
	bool recovers;
	DateADT recovery_start;
	int recovery_days;
} Episode;

typedef struct Profile
{
	pg_uuid_t id;
	Bracket bracket;
	AccountType account;
	int64 income; /* cents a month */
	int salary_day;
	bool salary_varies; /* business income on current accounts */
	TimestampTz opened_at;
	bool opened_inside; /* opened inside the window */
	int64 opening_balance;
	int64 min_balance;
	int64 overdraft; /* how far below 0 debits still succeed */

	int loan_day;
	int64 emi;
	bool rents, insured, card, school;
	bool utility_autodebit, insurance_autodebit, rent_autodebit;
	int rent_day, utility_day, insurance_day, card_day, school_day, phone_day;
	int64 rent, utility, insurance, card_bill, school_fee, phone_bill;

	int autodebit_minute; /* the bank runs mandates early */
	int salary_minute;
	int pay_lead;          /* pays manual bills this many days early */
	double forgetful;      /* chance of forgetting a manual bill */
	int partial_after;     /* days late before paying part of a loan */
	double tries_declined; /* chance a short card payment is tried */

	double rate[N_SPEND];
	double mean[N_SPEND]; /* cents */
	int32 merchants[N_SPEND][MAX_POOL];
	int32 biller, insurer, telecom, school_merchant;

	Episode episode;
} Profile;

/* The salary plan: credits fixed up front. */
typedef struct SalaryCredit
{
	DateADT date;
	int64 amount;
} SalaryCredit;

/* State of one customer's simulation. */
typedef struct Sim
{
	Rng rng;
	Profile *p;
	Writer *writer;
	TimestampTz active_from; /* max(window start, opened_at) */
	TimestampTz end_time;
	DateADT first_day, last_day, last_due;
	int64 balance;

	Obligation *obl;
	int nobl, obl_cap, first_open;
	SalaryCredit *salary;
	int nsalary, next_salary;

	int month0; /* year * 12 + month - 1 of first_day */
	int nmonths;
	int64 *month_net; /* ledger: net successful cents per month */
	bool *month_used;

	DateADT refund_date; /* one pending refund at a time */
	DayEvent refund;
	DateADT school_due, phone_due; /* essentials not yet paid */

	DayEvent ev[MAX_EVENTS];
	int nev;
	int64 transactions, failed;
} Sim;

/* ------------------------------------------------------------------------
 * Drawing a customer
 * ------------------------------------------------------------------------
 */
static int32
draw_merchant(Rng *r, int category, int universe)
{
	/* popular merchants are shared by many customers */
	double u = rng_unit(r);

	/*
	 * a block of 40000 ids per category, the blocks in FEATURES.md's order
	 * of the categories (credits first, unlike categories.h), so the ids are
	 * those the generator has always made
	 */
	return (NUM_CATEGORIES - NUM_DEBIT_CATEGORIES + category) * 40000 +
	       (int32) (universe * u * u * u);
}

/* cents rounded to whole multiples of 'step' rupees, at least one step */
static int64
round_rupees(double cents, int step)
{
	int64 r = (int64) (cents / (100.0 * step) + 0.5) * step;

	return RUPEES(Max(r, step));
}

static void
draw_identity(Profile *p, Rng *r, TimestampTz window_start, int days)
{
	static const double income_lo[] = {20000, 45000, 120000};
	static const double income_hi[] = {45000, 120000, 400000};
	static const double buffer_months[] = {0.35, 0.7, 1.2};
	double u = rng_unit(r);

	p->bracket = u < 0.5 ? BR_LOW : (u < 0.85 ? BR_MIDDLE : BR_HIGH);
	/* log-uniform inside the bracket, whole hundreds of rupees */
	p->income = round_rupees(
	    100.0 * income_lo[p->bracket] *
	        pow(income_hi[p->bracket] / income_lo[p->bracket], rng_unit(r)),
	    100);

	u = rng_unit(r);
	p->salary_day = u < 0.25 ? 1 : (u < 0.35 ? 28 : rng_int(r, 1, 28));

	u = rng_unit(r);
	p->account = u < 0.55 ? AT_SALARY : (u < 0.9 ? AT_SAVINGS : AT_CURRENT);
	p->salary_varies = p->account == AT_CURRENT;
	if (p->account == AT_SALARY)
		p->min_balance = 0;
	else if (p->account == AT_CURRENT)
		p->min_balance = RUPEES(10000);
	else
		p->min_balance = RUPEES(p->bracket == BR_LOW ? 1000 : 5000);
	if (p->account == AT_CURRENT || rng_chance(r, 0.04))
		p->overdraft = round_rupees(p->income * rng_range(r, 0.2, 0.5), 1000);

	/* most accounts are years old; about one in ten opened in the window */
	p->opened_inside = rng_chance(r, 0.1);
	if (p->opened_inside)
		p->opened_at = window_start +
		               (int64) (rng_unit(r) * 0.8 * days * PD_USECS_PER_DAY);
	else
		p->opened_at = window_start -
		               (int64) ((45 + rng_unit(r) * 2900) * PD_USECS_PER_DAY);
	p->opened_at -= p->opened_at % USECS_SECOND;

	if (p->opened_inside)
		p->opening_balance = RUPEES(rng_int(r, 5, 100) * 100);
	else
		p->opening_balance = p->min_balance + rng_int(r, 0, 99) +
		                     (int64) (buffer_months[p->bracket] *
		                              exp(0.9 * rng_normal(r)) * p->income);
}

static int64
monthly_commitments(const Profile *p)
{
	return p->emi + p->rent + p->utility + p->insurance + p->card_bill +
	       p->school_fee + p->phone_bill;
}

static void
draw_commitments(Profile *p, Rng *r)
{
	double income = (double) p->income;
	int64 committed;

	/* the instalment falls due a few days after payday */
	p->loan_day = (p->salary_day - 1 + rng_int(r, 1, 8)) % 28 + 1;
	p->emi =
	    round_rupees(income * (rng_chance(r, 0.15) ? rng_range(r, 0.3, 0.4)
	                                               : rng_range(r, 0.08, 0.28)),
	                 1);

	p->rents = rng_chance(r, p->bracket == BR_HIGH ? 0.3 : 0.6);
	p->insured = !p->rents || rng_chance(r, 0.3);
	p->card = rng_chance(r, p->bracket == BR_LOW      ? 0.2
	                        : p->bracket == BR_MIDDLE ? 0.4
	                                                  : 0.6);
	p->school = rng_chance(r, p->bracket == BR_LOW ? 0.1 : 0.3);

	p->rent_day = rng_int(r, 1, 7);
	if (p->rents)
		p->rent = round_rupees(income * rng_range(r, 0.15, 0.28), 500);
	p->rent_autodebit = rng_chance(r, 0.1);
	p->utility_day = rng_int(r, 5, 25);
	p->utility =
	    (int64) clamp(income * rng_range(r, 0.02, 0.04), 60000, 600000);
	p->utility_autodebit = rng_chance(r, 0.4);
	p->insurance_day = rng_int(r, 1, 28);
	if (p->insured)
		p->insurance = round_rupees(income * rng_range(r, 0.02, 0.05), 1);
	p->insurance_autodebit = rng_chance(r, 0.8);
	p->card_day = rng_int(r, 1, 28);
	if (p->card)
		p->card_bill = (int64) (income * rng_range(r, 0.05, 0.2));
	p->school_day = rng_int(r, 1, 10);
	if (p->school)
		p->school_fee = round_rupees(income * rng_range(r, 0.04, 0.1), 100);
	p->phone_day = rng_int(r, 1, 28);
	p->phone_bill = RUPEES(rng_int(r, 199, 999));

	/* nobody commits more than 80% of their income up front */
	committed = monthly_commitments(p);
	if (committed > 0.8 * income)
		p->emi =
		    Max(RUPEES(500), p->emi - (committed - (int64) (0.8 * income)));

	p->autodebit_minute = rng_int(r, 30, 150);
	p->salary_minute = rng_int(r, 210, 520);
	p->pay_lead = rng_int(r, 0, 4);
	p->forgetful = rng_range(r, 0.005, 0.05);
	p->partial_after = rng_int(r, 6, 20);
	p->tries_declined = rng_range(r, 0.2, 0.6);
}

/*
 * What is left of the income after commitments and saving is the everyday
 * budget; each category's mean amount follows from its share and its rate.
 */
static void
draw_spending(Profile *p, Rng *r)
{
	static const double volume[] = {0.85, 1.0, 1.25};
	double income = (double) p->income;
	double saving = clamp(0.08 + 0.07 * rng_normal(r), -0.04, 0.3);
	double budget =
	    Max(0.12 * income, income * (1.0 - saving) - monthly_commitments(p));

	for (int i = 0; i < N_SPEND; i++)
	{
		const SpendSpec *s = &spend_specs[i];
		double per_month;

		p->rate[i] = s->rate * volume[p->bracket] * rng_range(r, 0.7, 1.3);
		per_month = p->rate[i] * 30.0 * (5.0 + 2.0 * s->weekend) / 7.0;
		p->mean[i] = s->share * budget / per_month;
		for (int k = 0; k < s->pool; k++)
			p->merchants[i][k] = draw_merchant(r, s->category, 30000);
	}
	p->biller = draw_merchant(r, CAT_UTILITIES, 300);
	p->telecom = draw_merchant(r, CAT_UTILITIES, 300) + 1000;
	p->insurer = draw_merchant(r, CAT_INSURANCE, 60);
	p->school_merchant = draw_merchant(r, CAT_EDUCATION, 20000);
}

static void
draw_episode(Episode *e, Rng *r, DateADT first_day, DateADT last_day)
{
	double u;

	/* about a third of customers go through one */
	e->active = rng_chance(r, 0.32);
	u = rng_unit(r);
	e->type = u < 0.3   ? EP_JOB_LOSS
	          : u < 0.6 ? EP_INCOME_CUT
	          : u < 0.8 ? EP_MEDICAL
	                    : EP_FAMILY;
	e->severity = 0.2 + 0.8 * pow(rng_unit(r), 0.8);
	/* some began before the window, still going on */
	e->onset = first_day - 60 +
	           (DateADT) (rng_unit(r) * Max(1, last_day - first_day + 30));
	e->ramp_days = rng_int(r, 10, 45);
	e->recovers = rng_chance(r, 0.45);
	e->recovery_start = e->onset + e->ramp_days + rng_int(r, 30, 150);
	e->recovery_days = rng_int(r, 20, 60);
}

static double
episode_intensity(const Episode *e, DateADT d)
{
	double ramp, fade = 1.0;

	if (!e->active || d < e->onset)
		return 0.0;
	ramp = Min(1.0, (double) (d - e->onset + 1) / e->ramp_days);
	if (e->recovers && d > e->recovery_start)
	{
		fade = 1.0 - (double) (d - e->recovery_start) / e->recovery_days;
		if (fade <= 0.0)
			return 0.0;
	}
	return e->severity * ramp * fade;
}

/* ------------------------------------------------------------------------
 * Plans: salary credits and obligations over the window, fixed up front
 * (the episode is outside the customer's control); what gets paid is not.
 * ------------------------------------------------------------------------
 */
static void
plan_salary(Sim *s)
{
	Profile *p = s->p;
	const EpisodeEffect *fx = &episode_effects[p->episode.type];
	DateADT opened = pd_utc_date(p->opened_at);
	int y, m, d;

	pd_date_parts(pd_add_months(s->first_day, -1), &y, &m, &d);
	s->salary = palloc(sizeof(SalaryCredit) * (s->nmonths + 2));
	s->nsalary = 0;
	for (int k = 0; k < s->nmonths + 2; k++, m++)
	{
		DateADT nominal;
		double i, amount;
		int delay;

		if (m > 12)
		{
			m = 1;
			y++;
		}
		nominal = pd_make_date(y, m, p->salary_day);
		if (nominal > s->last_day || (p->opened_inside && nominal <= opened))
			continue;
		i = episode_intensity(&p->episode, nominal);
		/* the usual jitter, an employer's odd slip, then the episode */
		delay = rng_chance(&s->rng, 0.6) ? 0 : rng_int(&s->rng, 1, 2);
		if (rng_chance(&s->rng, 0.03))
			delay += rng_int(&s->rng, 3, 6);
		delay += (int) (i * fx->salary_delay * rng_unit(&s->rng));
		if (rng_chance(&s->rng,
		               clamp(fx->salary_missing * (2.0 * i - 0.2), 0.0, 1.0)))
			continue;
		amount = p->income * (1.0 - fx->salary_cut * i);
		if (p->salary_varies)
			amount *= rng_range(&s->rng, 0.85, 1.15);
		s->salary[s->nsalary].date = nominal + delay;
		s->salary[s->nsalary].amount = Max(RUPEES(100), (int64) amount);
		s->nsalary++;
	}
	s->next_salary = 0;
}

static void
add_obligation(Sim *s, PayKind kind, DateADT due, int64 amount)
{
	Obligation *o;

	if (due > s->last_due || due <= s->first_day || amount <= 0)
		return;
	if (s->nobl == s->obl_cap)
	{
		s->obl_cap *= 2;
		s->obl = repalloc(s->obl, sizeof(Obligation) * s->obl_cap);
	}
	o = &s->obl[s->nobl++];
	memset(o, 0, sizeof(Obligation));
	o->due = due;
	o->amount = amount;
	o->kind = kind;
	o->give_up = due + (kind == PK_LOAN ? 30 : 45);
	o->retry[0] = o->retry[1] = NO_DATE;
}

static bool
is_autodebit(const Profile *p, PayKind kind)
{
	switch (kind)
	{
		case PK_LOAN:
			return true;
		case PK_UTILITY:
			return p->utility_autodebit;
		case PK_RENT:
			return p->rent_autodebit;
		case PK_INSURANCE:
			return p->insurance_autodebit;
		default:
			return false;
	}
}

/*
 * When a manual bill will first be looked at: a few days early out of habit,
 * later if forgotten (more often under stress), and under stress anything
 * but rent is put off a little.
 */
static DateADT
first_manual_try(Sim *s, const Obligation *o)
{
	double i = episode_intensity(&s->p->episode, o->due);
	DateADT d = o->due - s->p->pay_lead;

	if (rng_chance(&s->rng, s->p->forgetful + 0.3 * i))
		d = o->due + rng_int(&s->rng, 1, 12);
	if (o->kind != PK_RENT)
		d += (int) (i * 8.0 * rng_unit(&s->rng));
	return d;
}

static int
compare_obligations(const void *a, const void *b)
{
	const Obligation *x = a;
	const Obligation *y = b;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return (int) x->kind - (int) y->kind;
}

static void
plan_obligations(Sim *s)
{
	Profile *p = s->p;
	DateADT opened = pd_utc_date(p->opened_at);
	int y, m, d;

	s->obl_cap = 8 * (s->nmonths + 1);
	s->obl = palloc(sizeof(Obligation) * s->obl_cap);
	s->nobl = 0;
	pd_date_parts(s->first_day, &y, &m, &d);
	for (int k = 0; k < s->nmonths + 1; k++, m++)
	{
		DateADT card_due;
		double season;

		if (m > 12)
		{
			m = 1;
			y++;
		}
		/* a new customer's loan starts a few weeks after opening */
		if (!p->opened_inside || pd_make_date(y, m, p->loan_day) > opened + 25)
			add_obligation(s, PK_LOAN, pd_make_date(y, m, p->loan_day),
			               p->emi);
		/* electricity: more in the summer months */
		season = 1.0 + 0.25 * sin((m - 2) * M_PI / 6.0);
		add_obligation(
		    s, PK_UTILITY, pd_make_date(y, m, p->utility_day),
		    (int64) (p->utility * season * rng_range(&s->rng, 0.85, 1.15)));
		if (p->rents)
			add_obligation(s, PK_RENT, pd_make_date(y, m, p->rent_day),
			               p->rent);
		if (p->insured)
			add_obligation(s, PK_INSURANCE,
			               pd_make_date(y, m, p->insurance_day), p->insurance);
		/* the statement grows when a stressed customer lives on credit */
		card_due = pd_make_date(y, m, p->card_day);
		if (p->card)
			add_obligation(
			    s, PK_CREDIT_CARD, card_due,
			    (int64) (p->card_bill *
			             (1.0 + episode_intensity(&p->episode, card_due)) *
			             exp(0.4 * rng_normal(&s->rng) - 0.08)));
	}
	qsort(s->obl, s->nobl, sizeof(Obligation), compare_obligations);

	/*
	 * How each will be paid: by mandate, or by hand. Now and then a mandate
	 * is not presented at all and the customer notices days later.
	 */
	for (int k = 0; k < s->nobl; k++)
	{
		Obligation *o = &s->obl[k];

		if (is_autodebit(p, o->kind) && !rng_chance(&s->rng, 0.012))
			o->state = OBL_SCHEDULED;
		else
		{
			o->state = OBL_OPEN;
			o->next_try = is_autodebit(p, o->kind)
			                  ? o->due + rng_int(&s->rng, 1, 14)
			                  : first_manual_try(s, o);
		}
	}
	s->first_open = 0;
}

/* ------------------------------------------------------------------------
 * One day of one customer: plan the day's events, sort them by time, and
 * let each meet the balance as it is at that moment.
 * ------------------------------------------------------------------------
 */
static DayEvent *
add_event(Sim *s, DateADT day, int minute, EventKind kind, Category category,
          Channel channel, int32 merchant, int64 amount)
{
	DayEvent *e;

	if (s->nev == MAX_EVENTS || amount <= 0)
		return NULL;
	e = &s->ev[s->nev++];
	e->time = pd_date_start(day) + minute * USECS_MINUTE +
	          rng_int(&s->rng, 0, 59) * USECS_SECOND;
	e->kind = kind;
	e->category = category;
	e->channel = channel;
	e->merchant = merchant;
	e->amount = amount;
	e->obligation = -1;
	return e;
}

static Channel
manual_channel(Sim *s, PayKind kind)
{
	int u = rng_int(&s->rng, 0, 99);

	switch (kind)
	{
		case PK_LOAN:
			return u < 60 ? CH_NETBANKING : (u < 85 ? CH_BRANCH : CH_UPI);
		case PK_RENT:
			return u < 50 ? CH_NETBANKING : CH_UPI;
		case PK_UTILITY:
			return u < 60 ? CH_UPI : CH_ONLINE;
		case PK_INSURANCE:
			return u < 50 ? CH_ONLINE : CH_NETBANKING;
		default:
			return u < 70 ? CH_NETBANKING : CH_UPI;
	}
}

static const Category kind_category[N_KINDS] = {
    CAT_LOAN_PAYMENT, CAT_UTILITIES, CAT_RENT, CAT_INSURANCE, CAT_OTHER};

static int32
kind_merchant(const Profile *p, PayKind kind)
{
	if (kind == PK_UTILITY)
		return p->biller;
	if (kind == PK_INSURANCE)
		return p->insurer;
	return -1;
}

/* Mandates, retries and manual attempts due today; expired ones are missed. */
static void
plan_obligations_today(Sim *s, DateADT day)
{
	const Profile *p = s->p;

	while (s->first_open < s->nobl && s->obl[s->first_open].state >= OBL_PAID)
		s->first_open++;
	for (int k = s->first_open; k < s->nobl && s->obl[k].due <= day + 5; k++)
	{
		Obligation *o = &s->obl[k];
		Category cat = kind_category[o->kind];
		DayEvent *e = NULL;

		if (o->state >= OBL_PAID)
			continue;
		if (day > o->give_up)
		{
			o->state = OBL_MISSED;
			continue;
		}
		if ((o->state == OBL_SCHEDULED && day == o->due) ||
		    (o->state == OBL_OPEN &&
		     (day == o->retry[0] || day == o->retry[1])))
			e = add_event(s, day, p->autodebit_minute, EV_AUTODEBIT, cat,
			              CH_AUTODEBIT, kind_merchant(p, o->kind), o->amount);
		if (e)
			e->obligation = k;
		if (o->state == OBL_OPEN && day >= o->next_try)
		{
			e = add_event(s, day, rng_int(&s->rng, 540, 990), EV_MANUAL, cat,
			              manual_channel(s, o->kind),
			              kind_merchant(p, o->kind), o->amount);
			if (e)
				e->obligation = k;
		}
	}
}

static void
plan_income_today(Sim *s, DateADT day, double intensity)
{
	const Profile *p = s->p;
	double cushion = (double) (s->balance - p->min_balance) / p->income;
	bool in_need = intensity > 0.0 && cushion < 0.2;

	while (s->next_salary < s->nsalary && s->salary[s->next_salary].date < day)
		s->next_salary++;
	while (s->next_salary < s->nsalary &&
	       s->salary[s->next_salary].date == day)
	{
		int64 amount = s->salary[s->next_salary++].amount;
		int minute = p->salary_minute + rng_int(&s->rng, 0, 20);

		add_event(s, day, minute, EV_CREDIT, CAT_SALARY, CH_NETBANKING, -1,
		          amount);
		/* in trouble, people take the salary out in cash before the
		 * mandates can sweep it */
		if (intensity > 0.3 && rng_chance(&s->rng, intensity))
			add_event(s, day, minute + rng_int(&s->rng, 60, 240), EV_SPEND,
			          CAT_ATM, CH_ATM, -1,
			          round_rupees(amount * intensity * 0.5, 500));
	}

	/* family and friends send money, more so to someone in trouble */
	if (rng_chance(&s->rng, 0.02 + (in_need ? 0.03 * intensity : 0.0)))
	{
		double amount =
		    p->income * (in_need ? rng_range(&s->rng, 0.05, 0.3)
		                         : rng_lognormal(&s->rng, 0.05, 0.8));
		int u = rng_int(&s->rng, 0, 99);

		add_event(s, day, rng_int(&s->rng, 240, 900), EV_CREDIT,
		          CAT_TRANSFER_IN,
		          u < 60 ? CH_UPI : (u < 90 ? CH_NETBANKING : CH_BRANCH), -1,
		          round_rupees(amount, 1));
	}
	if (s->refund_date == day)
	{
		add_event(s, day, rng_int(&s->rng, 300, 840), EV_CREDIT, CAT_REFUND,
		          s->refund.channel, s->refund.merchant, s->refund.amount);
		s->refund_date = NO_DATE;
	}
}

/* School fees and the phone bill: paid on the day, or as soon as possible. */
static void
plan_essentials_today(Sim *s, DateADT day, int dom)
{
	const Profile *p = s->p;

	if (p->school && dom == p->school_day)
		s->school_due = day;
	if (dom == p->phone_day)
		s->phone_due = day;
	if (s->school_due != NO_DATE && day - s->school_due > 10)
		s->school_due = NO_DATE;
	if (s->phone_due != NO_DATE && day - s->phone_due > 5)
		s->phone_due = NO_DATE;
	if (s->school_due != NO_DATE)
		add_event(s, day, rng_int(&s->rng, 240, 720), EV_ESSENTIAL,
		          CAT_EDUCATION,
		          rng_chance(&s->rng, 0.7) ? CH_NETBANKING : CH_BRANCH,
		          p->school_merchant, p->school_fee);
	if (s->phone_due != NO_DATE)
		add_event(s, day, rng_int(&s->rng, 120, 1000), EV_ESSENTIAL,
		          CAT_UTILITIES, rng_chance(&s->rng, 0.7) ? CH_UPI : CH_ONLINE,
		          p->telecom, p->phone_bill);
}

/*
 * Everyday spending. A stressed customer cuts discretionary spending, uses
 * more cash and fewer merchants, and after a medical shock spends on
 * healthcare; anyone whose balance runs low cuts discretionary spending too.
 */
static void
plan_spending_today(Sim *s, DateADT day, double i, bool weekend)
{
	const Profile *p = s->p;
	const EpisodeEffect *fx = &episode_effects[p->episode.type];
	double cushion = (double) (s->balance - p->min_balance) / p->income;
	double discretionary = (1.0 - 0.7 * i) * clamp(cushion / 0.4, 0.1, 1.0);
	double essential = clamp(cushion / 0.15, 0.5, 1.0);

	for (int k = 0; k < N_SPEND; k++)
	{
		const SpendSpec *sp = &spend_specs[k];
		double rate = p->rate[k] * (weekend ? sp->weekend : 1.0);
		double mean = p->mean[k];
		int pool;
		int n;

		switch (sp->category)
		{
			case CAT_DINING:
			case CAT_ENTERTAINMENT:
			case CAT_SHOPPING:
			case CAT_TRAVEL:
				rate *= discretionary;
				mean *= 1.0 - 0.3 * i;
				break;
			case CAT_GROCERIES:
				rate *= essential;
				break;
			case CAT_HEALTHCARE:
				rate *= 1.0 + fx->healthcare * i;
				mean *= 1.0 + fx->healthcare * 0.5 * i;
				break;
			case CAT_ATM:
				rate *= 1.0 + 1.5 * i;
				mean *= 1.0 + 0.5 * i;
				break;
			case CAT_TRANSPORT:
				rate *= 1.0 - 0.3 * i;
				break;
			case CAT_TRANSFER_OUT:
			case CAT_OTHER:
				rate *= (1.0 - 0.5 * i) * clamp(cushion / 0.3, 0.3, 1.0);
				break;
			default:
				break;
		}
		pool = Max(1, (int) ceil(sp->pool * (1.0 - 0.6 * i)));
		n = rng_poisson(&s->rng, rate);
		for (int j = 0; j < n; j++)
		{
			Channel ch = sp->channels[rng_pick(&s->rng, sp->cumulative)];
			int32 merchant =
			    sp->pool == 0
			        ? -1
			        : p->merchants[k]
			                      [(int) (pool * pow(rng_unit(&s->rng), 1.7))];
			double amount = rng_lognormal(&s->rng, mean, sp->sigma);
			int64 cents =
			    sp->category == CAT_ATM
			        ? round_rupees(amount, p->bracket == BR_LOW ? 100 : 500)
			        : round_rupees(amount, 1);

			add_event(s, day, rng_int(&s->rng, sp->minute_lo, sp->minute_hi),
			          EV_SPEND, sp->category, ch, merchant, cents);
		}
	}

	/* the big bills of a medical shock or a family emergency as it sets in */
	if (fx->lump > 0.0 && i > 0.0 &&
	    day < p->episode.onset + p->episode.ramp_days &&
	    rng_chance(&s->rng, 1.0 / 6.0))
	{
		double amount = p->episode.severity * p->income * fx->lump *
		                rng_range(&s->rng, 0.5, 1.5) * 6.0 /
		                p->episode.ramp_days;
		bool medical = p->episode.type == EP_MEDICAL;

		add_event(s, day, rng_int(&s->rng, 200, 900), EV_SPEND,
		          medical ? CAT_HEALTHCARE : CAT_TRANSFER_OUT,
		          medical ? CH_CARD : CH_NETBANKING,
		          medical ? p->merchants[SP_HEALTHCARE][0] : -1,
		          round_rupees(amount, 100));
	}
}

/* Insertion sort by time: a day has a handful of events. */
static void
sort_events(DayEvent *ev, int n)
{
	for (int k = 1; k < n; k++)
	{
		DayEvent e = ev[k];
		int j = k - 1;

		while (j >= 0 && (ev[j].time > e.time ||
		                  (ev[j].time == e.time && ev[j].kind > e.kind)))
		{
			ev[j + 1] = ev[j];
			j--;
		}
		ev[j + 1] = e;
	}
}

/* A transaction happens: written out, and (unless failed) moves the money. */
static void
record(Sim *s, const DayEvent *e, bool failed)
{
	int64 net = CAT_IS_CREDIT(e->category) ? e->amount : -e->amount;
	int y, m, d;
	int month;

	pd_write_transaction(s->writer, &s->p->id, e, failed);
	s->transactions++;
	if (failed)
	{
		s->failed++;
		return;
	}
	s->balance += net;
	pd_date_parts(pd_utc_date(e->time), &y, &m, &d);
	month = y * 12 + m - 1 - s->month0;
	Assert(month >= 0 && month < s->nmonths);
	s->month_net[month] += net;
	s->month_used[month] = true;
}

static void
settle(Obligation *o, const DayEvent *e, int64 paid)
{
	o->paid_date = pd_utc_date(e->time);
	o->paid = paid;
	o->state = paid < o->amount ? OBL_PARTIAL : OBL_PAID;
}

/*
 * The bank presents a mandate: paid if the money is there, else it fails;
 * a failed loan mandate is presented twice more.
 */
static void
run_autodebit(Sim *s, DayEvent *e, DateADT day)
{
	Obligation *o = &s->obl[e->obligation];

	if (o->state >= OBL_PAID)
		return;
	if (s->balance + s->p->overdraft >= o->amount)
	{
		record(s, e, false);
		settle(o, e, o->amount);
		return;
	}
	record(s, e, true);
	if (o->state == OBL_SCHEDULED)
	{
		o->state = OBL_OPEN;
		o->next_try = day + 1;
		if (o->kind == PK_LOAN)
		{
			o->retry[0] = day + 3;
			o->retry[1] = day + 7;
		}
	}
}

/*
 * The customer pays a bill by hand if the balance allows, keeping back
 * what a stressed household needs to live on. Short of money: a credit card
 * gets at least its minimum, a loan or a bill late enough gets what can be
 * spared, anything else waits for another day.
 */
static void
run_manual(Sim *s, DayEvent *e, DateADT day, double i)
{
	const Profile *p = s->p;
	Obligation *o = &s->obl[e->obligation];
	int64 keep = (int64) (i * 0.5 * p->income) + p->min_balance / 2;
	int64 spare = s->balance + p->overdraft - keep;
	int late_after = o->kind == PK_LOAN ? p->partial_after : 10;
	int64 part;

	if (o->state >= OBL_PAID)
		return;
	if (spare >= o->amount)
		part = o->amount;
	else if (o->kind == PK_CREDIT_CARD && spare >= o->amount / 20)
		part = Max(o->amount / 20, spare * 4 / 5);
	else if (day - o->due >= late_after && spare >= o->amount / 5)
		part = spare * 4 / 5;
	else
		return;
	/* a part is whole hundreds of rupees */
	if (part < o->amount)
		part = Max(RUPEES(100), part / RUPEES(100) * RUPEES(100));
	part = Min(part, o->amount);
	e->amount = part;
	record(s, e, false);
	settle(o, e, part);
}

/*
 * Card, UPI and ATM spending meets the balance: groceries and medicine are
 * cut to what is there, cash is taken in what the account still holds, and
 * anything else is declined (sometimes tried, so a failed transaction is
 * recorded) or not attempted.
 */
static void
run_spend(Sim *s, DayEvent *e)
{
	const Profile *p = s->p;
	int64 available = s->balance + p->overdraft;

	if (available >= e->amount)
	{
		record(s, e, false);
		if (e->category == CAT_SHOPPING && s->refund_date == NO_DATE &&
		    rng_chance(&s->rng, 0.04))
		{
			s->refund = *e;
			s->refund.amount = e->amount * rng_int(&s->rng, 30, 100) / 100;
			if (e->channel == CH_POS)
				s->refund.channel = CH_CARD;
			s->refund_date = pd_utc_date(e->time) + rng_int(&s->rng, 3, 15);
		}
		return;
	}
	if ((e->category == CAT_GROCERIES || e->category == CAT_HEALTHCARE) &&
	    available >= RUPEES(200))
	{
		e->amount = available * 9 / 10 / 100 * 100;
		record(s, e, false);
	}
	else if (e->category == CAT_ATM && available >= RUPEES(500))
	{
		e->amount = available / RUPEES(100) * RUPEES(100);
		record(s, e, false);
	}
	else if (rng_chance(&s->rng, p->tries_declined))
		record(s, e, true);
}

static void
run_essential(Sim *s, DayEvent *e)
{
	if (s->balance + s->p->overdraft < e->amount)
		return;
	record(s, e, false);
	if (e->category == CAT_EDUCATION)
		s->school_due = NO_DATE;
	else
		s->phone_due = NO_DATE;
}

static void
simulate_day(Sim *s, DateADT day)
{
	double i = episode_intensity(&s->p->episode, day);
	int weekday = (int) (((day % 7) + 13) % 7); /* 0 = Sunday */
	int y, m, dom;

	pd_date_parts(day, &y, &m, &dom);
	s->nev = 0;
	plan_obligations_today(s, day);
	plan_income_today(s, day, i);
	plan_essentials_today(s, day, dom);
	plan_spending_today(s, day, i, weekday == 0 || weekday == 6);
	sort_events(s->ev, s->nev);

	for (int k = 0; k < s->nev; k++)
	{
		DayEvent *e = &s->ev[k];

		if (e->time < s->active_from || e->time >= s->end_time)
			continue;
		switch (e->kind)
		{
			case EV_CREDIT:
				record(s, e, false);
				break;
			case EV_SPEND:
				run_spend(s, e);
				break;
			case EV_AUTODEBIT:
				run_autodebit(s, e, day);
				break;
			case EV_MANUAL:
				run_manual(s, e, day, i);
				break;
			case EV_ESSENTIAL:
				run_essential(s, e);
				break;
		}
	}
}

/* ------------------------------------------------------------------------
 * One customer from first draw to last row
 * ------------------------------------------------------------------------
 */
static int
month_index(DateADT d)
{
	int y, m, dom;

	pd_date_parts(d, &y, &m, &dom);
	return y * 12 + m - 1;
}

/* What happened to whom, for looking into the model (DEBUG2). */
static void
log_episode(int number, const Episode *e)
{
	static const char *const names[] = {"job loss", "income cut",
	                                    "medical shock", "family emergency"};

	elog(DEBUG2,
	     "generate_synthetic: customer %d: %s of severity %.2f from %s over "
	     "%d days%s%s",
	     number, names[e->type], e->severity,
	     DatumGetCString(
	         DirectFunctionCall1(date_out, DateADTGetDatum(e->onset))),
	     e->ramp_days, e->recovers ? ", recovering from " : ", no recovery",
	     e->recovers ? DatumGetCString(DirectFunctionCall1(
	                       date_out, DateADTGetDatum(e->recovery_start)))
	                 : "");
}

void
pd_simulate_customer(Writer *w, const Window *win, int number,
                     CustomerOutcome *out)
{
	Profile p;
	Sim s;

	memset(&p, 0, sizeof(Profile));
	memset(&s, 0, sizeof(Sim));
	rng_seed(&s.rng, win->seed, (uint64) number);
	pd_synthetic_uuid(&p.id, win->seed, UUID_CUSTOMER, (uint64) number);
	draw_identity(&p, &s.rng, win->start, win->days);
	draw_commitments(&p, &s.rng);
	draw_spending(&p, &s.rng);

	s.p = &p;
	s.writer = w;
	s.active_from = Max(win->start, p.opened_at);
	s.end_time = win->end;
	s.first_day = pd_utc_date(s.active_from);
	s.last_day = pd_utc_date(win->end - 1);
	s.last_due = pd_utc_date(win->end);
	s.balance = p.opening_balance;
	s.refund_date = s.school_due = s.phone_due = NO_DATE;
	draw_episode(&p.episode, &s.rng, s.first_day, s.last_day);

	s.month0 = month_index(s.first_day);
	s.nmonths = month_index(s.last_due) - s.month0 + 1;
	s.month_net = palloc0(sizeof(int64) * s.nmonths);
	s.month_used = palloc0(sizeof(bool) * s.nmonths);
	plan_salary(&s);
	plan_obligations(&s);

	pd_write_customer(w, &p.id, p.income, p.salary_day, p.bracket, p.account,
	                  p.opened_at, p.opening_balance, p.min_balance);
	for (DateADT day = s.first_day; day <= s.last_day; day++)
		simulate_day(&s, day);
	for (int k = 0; k < s.nobl; k++)
		pd_write_payment(w, &p.id, &s.obl[k]);
	pd_write_ledger_rows(w, &p.id, s.month0, s.nmonths, s.month_net,
	                     s.month_used);

	if (p.episode.active && message_level_is_interesting(DEBUG2))
		log_episode(number, &p.episode);
	out->transactions = s.transactions;
	out->failed = s.failed;
	out->episode = p.episode.active;
	out->obligations = s.obl;
	out->nobligations = s.nobl;
}
