/*
 * parallel_features.h
 *    The features of many customers at once, with parallel workers.
 */
#ifndef PD_PARALLEL_FEATURES_H
#define PD_PARALLEL_FEATURES_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* pre_delinquency.assess_parallel_workers */
extern int pd_assess_parallel_workers;

/*
 * pd_compute_features for ids[0..n) as of 'as_of' into 'features'
 * (PD_NUM_FEATURES doubles a customer), by this backend and up to
 * pd_assess_parallel_workers parallel workers. The caller must be able to
 * enter parallel mode (no writes until it returns; it returns in the mode it
 * was called in).
 */
extern void pd_compute_features_many(const pg_uuid_t *ids, TimestampTz as_of,
                                     int n, double *features);

#endif
