/*
 * scoring.h
 *    The active model of this backend and the predictions it makes.
 */
#ifndef PD_SCORING_H
#define PD_SCORING_H

#include "postgres.h"

#include <xgboost/c_api.h>

#include "features.h"

/* pre_delinquency.xgboost_nthread */
extern int pd_xgboost_nthread;

/*
 * The active model's booster, loaded (or reloaded, when another model was
 * activated or the row changed) on demand. Sets *model_id. ERRORs if no model
 * is active or it cannot be loaded.
 */
extern BoosterHandle pd_active_booster(int *model_id);

/*
 * Which load of the booster pd_active_booster() last returned: changes
 * whenever it was (re)loaded, so caches about a booster know when to forget.
 */
extern uint64 pd_booster_generation(void);

/*
 * A new booster from a model's UBJ or JSON bytes, checked to take
 * PD_NUM_FEATURES features, nthread from the GUC. The caller frees it.
 * ERRORs (data_corrupted) if the bytes are no model; 'model_id' is for the
 * message.
 */
extern BoosterHandle pd_load_booster(int model_id, bytea *bytes);

/* Probabilities for nrow rows of PD_NUM_FEATURES features. */
extern void pd_predict(BoosterHandle booster, const float *rows, int nrow,
                       float *probabilities);

/*
 * Exact TreeSHAP contributions for nrow rows: PD_NUM_FEATURES + 1 values a
 * row (the last is the bias), in margin (log-odds) units.
 */
extern void pd_contributions(BoosterHandle booster, const float *rows,
                             int nrow, float *contributions);

/* double features -> the float32 row XGBoost reads */
extern void pd_features_to_row(const double *features, float *row);

#endif
