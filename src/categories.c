/*
 * categories.c
 *    The names of the transaction categories of categories.h.
 *
 * Only the table; what a category means to a feature or to the simulated
 * customers is left to features.c and synthetic_model.c.
 */
#include "postgres.h"

#include "categories.h"

const char *const pd_category_names[NUM_CATEGORIES] = {
    [CAT_GROCERIES] = "groceries",
    [CAT_UTILITIES] = "utilities",
    [CAT_RENT] = "rent",
    [CAT_INSURANCE] = "insurance",
    [CAT_HEALTHCARE] = "healthcare",
    [CAT_DINING] = "dining",
    [CAT_ENTERTAINMENT] = "entertainment",
    [CAT_SHOPPING] = "shopping",
    [CAT_TRAVEL] = "travel",
    [CAT_TRANSPORT] = "transport",
    [CAT_EDUCATION] = "education",
    [CAT_LOAN_PAYMENT] = "loan_payment",
    [CAT_ATM] = "atm",
    [CAT_TRANSFER_OUT] = "transfer_out",
    [CAT_OTHER] = "other",
    [CAT_SALARY] = "salary",
    [CAT_TRANSFER_IN] = "transfer_in",
    [CAT_REFUND] = "refund",
};
