/*
 * payments.h
 *    Features 17-21 and the label, read from the payments table.
 */
#ifndef PD_PAYMENTS_H
#define PD_PAYMENTS_H

#include "postgres.h"

#include "utils/date.h"

#include "schema.h"

/* Opens 'rs' on payments_due_idx for pd_compute_payment_features. */
extern void pd_open_payment_scan(PdRangeScan *rs, const PdSchema *s);

/*
 * Fills out[16..20] for the payments due in [today - 180, today), read
 * through 'rs' (pd_open_payment_scan); sets *bill_lateness_over_5 from
 * exact integers (feature 31's threshold).
 */
extern void pd_compute_payment_features(PdRangeScan *rs, const PdSchema *s,
                                        const pg_uuid_t *customer_id,
                                        DateADT today, double *out,
                                        bool *bill_lateness_over_5);

/*
 * The label of FEATURES.md: 1, 0, or -1 when no loan payment is due in
 * [date(as_of), date(as_of) + 30). ERROR if the customer does not exist.
 */
extern int pd_compute_label(const pg_uuid_t *customer_id, TimestampTz as_of);

#endif
