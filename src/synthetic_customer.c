/*
 * synthetic_customer.c
 *    Drawing one synthetic customer (FEATURES.md): income and bracket, the
 *    account, what they owe each month, their everyday spending and
 *    merchant pools, and the parameters of the stress episode some go
 *    through.
 *
 * Everything is drawn from the customer's own stream before the first day
 * is simulated; how the customer then lives through the window, and what
 * gets paid, is synthetic_model.c's.
 */
#include "postgres.h"

#include <math.h>

#include "pd_util.h"
#include "synthetic_customer.h"

/* Everyday spending: how often, how much and where, per category. */
const SpendSpec pd_spend_specs[] = {
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

StaticAssertDecl(lengthof(pd_spend_specs) == N_SPEND,
                 "N_SPEND must count pd_spend_specs");

/* What each kind of episode does at full intensity. */
const EpisodeEffect pd_episode_effects[] = {
    [EP_JOB_LOSS] = {1.0, 0.3, 12.0, 0.0, 0.0},
    [EP_INCOME_CUT] = {0.4, 0.6, 8.0, 0.0, 0.0},
    [EP_MEDICAL] = {0.25, 0.4, 4.0, 4.0, 3.0},
    [EP_FAMILY] = {0.1, 0.1, 3.0, 0.0, 2.5},
};

/* ------------------------------------------------------------------------
 * Who they are, what they owe each month, how they spend
 * ------------------------------------------------------------------------
 */
static int32
draw_merchant(Rng *r, int category, int universe)
{
	/* popular merchants are shared by many customers */
	double u = pd_rng_unit(r);

	/*
	 * a block of 40000 ids per category, the blocks in FEATURES.md's order
	 * of the categories (credits first, unlike categories.h), so the ids are
	 * those the generator has always made
	 */
	return (NUM_CATEGORIES - NUM_DEBIT_CATEGORIES + category) * 40000 +
	       (int32) (universe * u * u * u);
}

/* cents rounded to whole multiples of 'step' rupees, at least one step */
int64
pd_round_rupees(double cents, int step)
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
	double u = pd_rng_unit(r);

	p->bracket = u < 0.5 ? BR_LOW : (u < 0.85 ? BR_MIDDLE : BR_HIGH);
	/* log-uniform inside the bracket, whole hundreds of rupees */
	p->income = pd_round_rupees(
	    100.0 * income_lo[p->bracket] *
	        pow(income_hi[p->bracket] / income_lo[p->bracket], pd_rng_unit(r)),
	    100);

	u = pd_rng_unit(r);
	p->salary_day = u < 0.25 ? 1 : (u < 0.35 ? 28 : pd_rng_int(r, 1, 28));

	u = pd_rng_unit(r);
	p->account = u < 0.55 ? AT_SALARY : (u < 0.9 ? AT_SAVINGS : AT_CURRENT);
	p->salary_varies = p->account == AT_CURRENT;
	if (p->account == AT_SALARY)
		p->min_balance = 0;
	else if (p->account == AT_CURRENT)
		p->min_balance = RUPEES(10000);
	else
		p->min_balance = RUPEES(p->bracket == BR_LOW ? 1000 : 5000);
	if (p->account == AT_CURRENT || pd_rng_chance(r, 0.04))
		p->overdraft =
		    pd_round_rupees(p->income * pd_rng_range(r, 0.2, 0.5), 1000);

	/* most accounts are years old; about one in ten opened in the window */
	p->opened_inside = pd_rng_chance(r, 0.1);
	if (p->opened_inside)
		p->opened_at = window_start + (int64) (pd_rng_unit(r) * 0.8 * days *
		                                       PD_USECS_PER_DAY);
	else
		p->opened_at = window_start - (int64) ((45 + pd_rng_unit(r) * 2900) *
		                                       PD_USECS_PER_DAY);
	p->opened_at -= p->opened_at % USECS_PER_SEC;

	if (p->opened_inside)
		p->opening_balance = RUPEES(pd_rng_int(r, 5, 100) * 100);
	else
		p->opening_balance = p->min_balance + pd_rng_int(r, 0, 99) +
		                     (int64) (buffer_months[p->bracket] *
		                              exp(0.9 * pd_rng_normal(r)) * p->income);
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
	p->loan_day = (p->salary_day - 1 + pd_rng_int(r, 1, 8)) % 28 + 1;
	p->emi = pd_round_rupees(income * (pd_rng_chance(r, 0.15)
	                                       ? pd_rng_range(r, 0.3, 0.4)
	                                       : pd_rng_range(r, 0.08, 0.28)),
	                         1);

	p->rents = pd_rng_chance(r, p->bracket == BR_HIGH ? 0.3 : 0.6);
	p->insured = !p->rents || pd_rng_chance(r, 0.3);
	p->card = pd_rng_chance(r, p->bracket == BR_LOW      ? 0.2
	                           : p->bracket == BR_MIDDLE ? 0.4
	                                                     : 0.6);
	p->school = pd_rng_chance(r, p->bracket == BR_LOW ? 0.1 : 0.3);

	p->rent_day = pd_rng_int(r, 1, 7);
	if (p->rents)
		p->rent = pd_round_rupees(income * pd_rng_range(r, 0.15, 0.28), 500);
	p->rent_autodebit = pd_rng_chance(r, 0.1);
	p->utility_day = pd_rng_int(r, 5, 25);
	p->utility =
	    (int64) pd_clamp(income * pd_rng_range(r, 0.02, 0.04), 60000, 600000);
	p->utility_autodebit = pd_rng_chance(r, 0.4);
	p->insurance_day = pd_rng_int(r, 1, 28);
	if (p->insured)
		p->insurance =
		    pd_round_rupees(income * pd_rng_range(r, 0.02, 0.05), 1);
	p->insurance_autodebit = pd_rng_chance(r, 0.8);
	p->card_day = pd_rng_int(r, 1, 28);
	if (p->card)
		p->card_bill = (int64) (income * pd_rng_range(r, 0.05, 0.2));
	p->school_day = pd_rng_int(r, 1, 10);
	if (p->school)
		p->school_fee =
		    pd_round_rupees(income * pd_rng_range(r, 0.04, 0.1), 100);
	p->phone_day = pd_rng_int(r, 1, 28);
	p->phone_bill = RUPEES(pd_rng_int(r, 199, 999));

	/* nobody commits more than 80% of their income up front */
	committed = monthly_commitments(p);
	if (committed > 0.8 * income)
		p->emi =
		    Max(RUPEES(500), p->emi - (committed - (int64) (0.8 * income)));

	p->autodebit_minute = pd_rng_int(r, 30, 150);
	p->salary_minute = pd_rng_int(r, 210, 520);
	p->pay_lead = pd_rng_int(r, 0, 4);
	p->forgetful = pd_rng_range(r, 0.005, 0.05);
	p->partial_after = pd_rng_int(r, 6, 20);
	p->tries_declined = pd_rng_range(r, 0.2, 0.6);
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
	double saving = pd_clamp(0.08 + 0.07 * pd_rng_normal(r), -0.04, 0.3);
	double budget =
	    Max(0.12 * income, income * (1.0 - saving) - monthly_commitments(p));

	for (int i = 0; i < N_SPEND; i++)
	{
		const SpendSpec *s = &pd_spend_specs[i];
		double per_month;

		p->rate[i] = s->rate * volume[p->bracket] * pd_rng_range(r, 0.7, 1.3);
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

void
pd_draw_profile(Profile *p, Rng *r, TimestampTz window_start, int days)
{
	draw_identity(p, r, window_start, days);
	draw_commitments(p, r);
	draw_spending(p, r);
}

/* ------------------------------------------------------------------------
 * The stress episode
 * ------------------------------------------------------------------------
 */
void
pd_draw_episode(Episode *e, Rng *r, DateADT first_day, DateADT last_day)
{
	double u;

	/* about a third of customers go through one */
	e->active = pd_rng_chance(r, 0.32);
	u = pd_rng_unit(r);
	e->type = u < 0.3   ? EP_JOB_LOSS
	          : u < 0.6 ? EP_INCOME_CUT
	          : u < 0.8 ? EP_MEDICAL
	                    : EP_FAMILY;
	e->severity = 0.2 + 0.8 * pow(pd_rng_unit(r), 0.8);
	/* some began before the window, still going on */
	e->onset = first_day - 60 +
	           (DateADT) (pd_rng_unit(r) * Max(1, last_day - first_day + 30));
	e->ramp_days = pd_rng_int(r, 10, 45);
	e->recovers = pd_rng_chance(r, 0.45);
	e->recovery_start = e->onset + e->ramp_days + pd_rng_int(r, 30, 150);
	e->recovery_days = pd_rng_int(r, 20, 60);
}

double
pd_episode_intensity(const Episode *e, DateADT d)
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
