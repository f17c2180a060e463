/*
 * synthetic_customer.h
 *    One synthetic customer as drawn before the simulation starts: who they
 *    are, what they owe each month, how they spend, and the stress episode
 *    some go through. The day-by-day simulation (synthetic_model.c) reads
 *    these; synthetic_customer.c draws them.
 */
#ifndef PD_SYNTHETIC_CUSTOMER_H
#define PD_SYNTHETIC_CUSTOMER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/date.h"
#include "utils/uuid.h"

#include "categories.h"
#include "synthetic_model.h"
#include "synthetic_random.h"

#define MAX_POOL  12 /* merchants per category and customer */
#define RUPEES(x) (100 * (int64) (x))

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

#define N_SPEND       10
#define SP_HEALTHCARE 6 /* index of CAT_HEALTHCARE in pd_spend_specs */

extern const SpendSpec pd_spend_specs[N_SPEND];

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

extern const EpisodeEffect pd_episode_effects[];

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

/*
 * Who customer p->id is, what they owe and how they spend (everything but
 * the episode), drawn from 'r' in that order.
 */
extern void pd_draw_profile(Profile *p, Rng *r, TimestampTz window_start,
                            int days);

/* The episode, drawn whether or not it happens (e->active). */
extern void pd_draw_episode(Episode *e, Rng *r, DateADT first_day,
                            DateADT last_day);

/* How hard the episode hits on day d: 0 (not at all) .. severity. */
extern double pd_episode_intensity(const Episode *e, DateADT d);

/* cents rounded to whole multiples of 'step' rupees, at least one step */
extern int64 pd_round_rupees(double cents, int step);

#endif
