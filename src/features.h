/*
 * features.h
 *    The 31 behavioural features of FEATURES.md for one customer as of one
 *    time, for callers in C (scoring, assessment) and for SQL.
 */
#ifndef PD_FEATURES_H
#define PD_FEATURES_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

#define PD_NUM_FEATURES 31

extern const char *const pd_feature_name_list[PD_NUM_FEATURES];

/*
 * Computes the features of 'customer_id' as of 'as_of' into 'out'.
 * ERRORs (no_data_found) if the customer does not exist.
 */
extern void pd_compute_features(const pg_uuid_t *customer_id,
                                TimestampTz as_of,
                                double out[PD_NUM_FEATURES]);

/*
 * The same for many customers: the reader opens its index scans once and
 * moves them from customer to customer (for a batch, in the caller's
 * memory context, until closed).
 */
typedef struct PdFeatureReader PdFeatureReader;
extern PdFeatureReader *pd_feature_reader_open(void);
extern void pd_feature_reader_compute(PdFeatureReader *r,
                                      const pg_uuid_t *customer_id,
                                      TimestampTz as_of,
                                      double out[PD_NUM_FEATURES]);
extern void pd_feature_reader_close(PdFeatureReader *r);

#endif
