/*
 * categories.h
 *    The transaction categories of FEATURES.md, defined once for the feature
 *    engine (features.c) and the synthetic bank (synthetic_model.c,
 *    bulk_writer.c).
 *
 * The 15 debit categories come first, in FEATURES.md's order, so that a debit
 * category indexes feature 29's vector; the 3 credit categories follow. The
 * names are those the transactions table's CHECK constraint accepts.
 */
#ifndef PD_CATEGORIES_H
#define PD_CATEGORIES_H

typedef enum Category
{
	CAT_GROCERIES,
	CAT_UTILITIES,
	CAT_RENT,
	CAT_INSURANCE,
	CAT_HEALTHCARE,
	CAT_DINING,
	CAT_ENTERTAINMENT,
	CAT_SHOPPING,
	CAT_TRAVEL,
	CAT_TRANSPORT,
	CAT_EDUCATION,
	CAT_LOAN_PAYMENT,
	CAT_ATM,
	CAT_TRANSFER_OUT,
	CAT_OTHER,
	NUM_DEBIT_CATEGORIES,

	CAT_SALARY = NUM_DEBIT_CATEGORIES,
	CAT_TRANSFER_IN,
	CAT_REFUND,
	NUM_CATEGORIES
} Category;

#define CAT_IS_CREDIT(c) ((c) >= CAT_SALARY)

/* The categories' names, indexed by Category. */
extern const char *const pd_category_names[NUM_CATEGORIES];

#endif
