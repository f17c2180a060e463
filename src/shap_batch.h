/*
 * shap_batch.h
 *    XGBoost's exact TreeSHAP contributions for many rows at once, without
 *    XGBoost's per-row recursion for every row (see shap_batch.c).
 */
#ifndef PD_SHAP_BATCH_H
#define PD_SHAP_BATCH_H

#include "postgres.h"

#include <xgboost/c_api.h>

/*
 * The contributions pd_contributions() would return for these nrow rows of
 * the active model's booster (PD_NUM_FEATURES + 1 floats a row, the bias
 * last), bit for bit. 'generation' identifies the booster's load (see
 * pd_booster_generation()): what is remembered about one model is dropped
 * when it changes.
 */
extern void pd_batch_contributions(BoosterHandle booster, uint64 generation,
                                   const float *rows, int nrow,
                                   float *contributions);

/*
 * Reads the model now, so that every later batch of this booster is
 * grouped: for a process that will compute many (the ingest worker).
 */
extern void pd_prepare_batch_contributions(BoosterHandle booster,
                                           uint64 generation);

#endif
