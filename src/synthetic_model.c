/*
 * synthetic_model.c
 *    The behavioural model of the synthetic bank (FEATURES.md): a
 *    day-by-day simulation of each customer's money in which every payment
 *    outcome follows from the simulated balance.
 *
 * Top to bottom: the plans fixed up front (salary credits, obligations),
 * one simulated day (its events, then each meeting the balance), and one
 * customer from first draw to last row. Drawing the customer is
 * synthetic_customer.c's, the PRNG and uuids synthetic_random.c's; rows go
 * out through the bulk writer (bulk_writer.c); the SQL entry point, its
 * arguments and the summary are synthetic.c's. Knows nothing about features
 * or models.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"

#include "bulk_writer.h"
#include "pd_util.h"
#include "synthetic_customer.h"
#include "synthetic_model.h"
#include "synthetic_random.h"

#define MAX_EVENTS   128 /* one customer's events of one day */
#define USECS_MINUTE INT64CONST(60000000)
#define USECS_SECOND INT64CONST(1000000)
#define NO_DATE      DATEVAL_NOBEGIN

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
 * Plans: salary credits and obligations over the window, fixed up front
 * (the episode is outside the customer's control); what gets paid is not.
 * ------------------------------------------------------------------------
 */
static void
plan_salary(Sim *s)
{
	Profile *p = s->p;
	const EpisodeEffect *fx = &pd_episode_effects[p->episode.type];
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
		i = pd_episode_intensity(&p->episode, nominal);
		/* the usual jitter, an employer's odd slip, then the episode */
		delay = pd_rng_chance(&s->rng, 0.6) ? 0 : pd_rng_int(&s->rng, 1, 2);
		if (pd_rng_chance(&s->rng, 0.03))
			delay += pd_rng_int(&s->rng, 3, 6);
		delay += (int) (i * fx->salary_delay * pd_rng_unit(&s->rng));
		if (pd_rng_chance(
		        &s->rng,
		        pd_clamp(fx->salary_missing * (2.0 * i - 0.2), 0.0, 1.0)))
			continue;
		amount = p->income * (1.0 - fx->salary_cut * i);
		if (p->salary_varies)
			amount *= pd_rng_range(&s->rng, 0.85, 1.15);
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
	double i = pd_episode_intensity(&s->p->episode, o->due);
	DateADT d = o->due - s->p->pay_lead;

	if (pd_rng_chance(&s->rng, s->p->forgetful + 0.3 * i))
		d = o->due + pd_rng_int(&s->rng, 1, 12);
	if (o->kind != PK_RENT)
		d += (int) (i * 8.0 * pd_rng_unit(&s->rng));
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
		    (int64) (p->utility * season * pd_rng_range(&s->rng, 0.85, 1.15)));
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
			             (1.0 + pd_episode_intensity(&p->episode, card_due)) *
			             exp(0.4 * pd_rng_normal(&s->rng) - 0.08)));
	}
	qsort(s->obl, s->nobl, sizeof(Obligation), compare_obligations);

	/*
	 * How each will be paid: by mandate, or by hand. Now and then a mandate
	 * is not presented at all and the customer notices days later.
	 */
	for (int k = 0; k < s->nobl; k++)
	{
		Obligation *o = &s->obl[k];

		if (is_autodebit(p, o->kind) && !pd_rng_chance(&s->rng, 0.012))
			o->state = OBL_SCHEDULED;
		else
		{
			o->state = OBL_OPEN;
			o->next_try = is_autodebit(p, o->kind)
			                  ? o->due + pd_rng_int(&s->rng, 1, 14)
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
	          pd_rng_int(&s->rng, 0, 59) * USECS_SECOND;
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
	int u = pd_rng_int(&s->rng, 0, 99);

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
			e = add_event(s, day, pd_rng_int(&s->rng, 540, 990), EV_MANUAL,
			              cat, manual_channel(s, o->kind),
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
		int minute = p->salary_minute + pd_rng_int(&s->rng, 0, 20);

		add_event(s, day, minute, EV_CREDIT, CAT_SALARY, CH_NETBANKING, -1,
		          amount);
		/* in trouble, people take the salary out in cash before the
		 * mandates can sweep it */
		if (intensity > 0.3 && pd_rng_chance(&s->rng, intensity))
			add_event(s, day, minute + pd_rng_int(&s->rng, 60, 240), EV_SPEND,
			          CAT_ATM, CH_ATM, -1,
			          pd_round_rupees(amount * intensity * 0.5, 500));
	}

	/* family and friends send money, more so to someone in trouble */
	if (pd_rng_chance(&s->rng, 0.02 + (in_need ? 0.03 * intensity : 0.0)))
	{
		double amount =
		    p->income * (in_need ? pd_rng_range(&s->rng, 0.05, 0.3)
		                         : pd_rng_lognormal(&s->rng, 0.05, 0.8));
		int u = pd_rng_int(&s->rng, 0, 99);

		add_event(s, day, pd_rng_int(&s->rng, 240, 900), EV_CREDIT,
		          CAT_TRANSFER_IN,
		          u < 60 ? CH_UPI : (u < 90 ? CH_NETBANKING : CH_BRANCH), -1,
		          pd_round_rupees(amount, 1));
	}
	if (s->refund_date == day)
	{
		add_event(s, day, pd_rng_int(&s->rng, 300, 840), EV_CREDIT, CAT_REFUND,
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
		add_event(s, day, pd_rng_int(&s->rng, 240, 720), EV_ESSENTIAL,
		          CAT_EDUCATION,
		          pd_rng_chance(&s->rng, 0.7) ? CH_NETBANKING : CH_BRANCH,
		          p->school_merchant, p->school_fee);
	if (s->phone_due != NO_DATE)
		add_event(s, day, pd_rng_int(&s->rng, 120, 1000), EV_ESSENTIAL,
		          CAT_UTILITIES,
		          pd_rng_chance(&s->rng, 0.7) ? CH_UPI : CH_ONLINE, p->telecom,
		          p->phone_bill);
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
	const EpisodeEffect *fx = &pd_episode_effects[p->episode.type];
	double cushion = (double) (s->balance - p->min_balance) / p->income;
	double discretionary = (1.0 - 0.7 * i) * pd_clamp(cushion / 0.4, 0.1, 1.0);
	double essential = pd_clamp(cushion / 0.15, 0.5, 1.0);

	for (int k = 0; k < N_SPEND; k++)
	{
		const SpendSpec *sp = &pd_spend_specs[k];
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
				rate *= (1.0 - 0.5 * i) * pd_clamp(cushion / 0.3, 0.3, 1.0);
				break;
			default:
				break;
		}
		pool = Max(1, (int) ceil(sp->pool * (1.0 - 0.6 * i)));
		n = pd_rng_poisson(&s->rng, rate);
		for (int j = 0; j < n; j++)
		{
			Channel ch = sp->channels[pd_rng_pick(&s->rng, sp->cumulative)];
			int32 merchant =
			    sp->pool == 0
			        ? -1
			        : p->merchants[k][(int) (pool *
			                                 pow(pd_rng_unit(&s->rng), 1.7))];
			double amount = pd_rng_lognormal(&s->rng, mean, sp->sigma);
			int64 cents =
			    sp->category == CAT_ATM
			        ? pd_round_rupees(amount, p->bracket == BR_LOW ? 100 : 500)
			        : pd_round_rupees(amount, 1);

			add_event(s, day,
			          pd_rng_int(&s->rng, sp->minute_lo, sp->minute_hi),
			          EV_SPEND, sp->category, ch, merchant, cents);
		}
	}

	/* the big bills of a medical shock or a family emergency as it sets in */
	if (fx->lump > 0.0 && i > 0.0 &&
	    day < p->episode.onset + p->episode.ramp_days &&
	    pd_rng_chance(&s->rng, 1.0 / 6.0))
	{
		double amount = p->episode.severity * p->income * fx->lump *
		                pd_rng_range(&s->rng, 0.5, 1.5) * 6.0 /
		                p->episode.ramp_days;
		bool medical = p->episode.type == EP_MEDICAL;

		add_event(s, day, pd_rng_int(&s->rng, 200, 900), EV_SPEND,
		          medical ? CAT_HEALTHCARE : CAT_TRANSFER_OUT,
		          medical ? CH_CARD : CH_NETBANKING,
		          medical ? p->merchants[SP_HEALTHCARE][0] : -1,
		          pd_round_rupees(amount, 100));
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
		    pd_rng_chance(&s->rng, 0.04))
		{
			s->refund = *e;
			s->refund.amount = e->amount * pd_rng_int(&s->rng, 30, 100) / 100;
			if (e->channel == CH_POS)
				s->refund.channel = CH_CARD;
			s->refund_date = pd_utc_date(e->time) + pd_rng_int(&s->rng, 3, 15);
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
	else if (pd_rng_chance(&s->rng, p->tries_declined))
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
	double i = pd_episode_intensity(&s->p->episode, day);
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
	pd_rng_seed(&s.rng, win->seed, (uint64) number);
	pd_synthetic_uuid(&p.id, win->seed, UUID_CUSTOMER, (uint64) number);
	pd_draw_profile(&p, &s.rng, win->start, win->days);

	s.p = &p;
	s.writer = w;
	s.active_from = Max(win->start, p.opened_at);
	s.end_time = win->end;
	s.first_day = pd_utc_date(s.active_from);
	s.last_day = pd_utc_date(win->end - 1);
	s.last_due = pd_utc_date(win->end);
	s.balance = p.opening_balance;
	s.refund_date = s.school_due = s.phone_due = NO_DATE;
	pd_draw_episode(&p.episode, &s.rng, s.first_day, s.last_day);

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
