/*
 * xgb_util.h
 *    Calling the XGBoost C API from a backend: every return code checked,
 *    XGBoost's own message in the errdetail.
 */
#ifndef PD_XGB_UTIL_H
#define PD_XGB_UTIL_H

#include "postgres.h"

#include <xgboost/c_api.h>

/*
 * ERROR (internal_error) with XGBoost's last message when a call fails.
 * 'what' says what we were doing, for the errmsg.
 */
#define XGB_CHECK(call, what)                                                 \
	do                                                                        \
	{                                                                         \
		if ((call) != 0)                                                      \
			pd_xgb_error(what);                                               \
	} while (0)

extern void pd_xgb_error(const char *what) pg_attribute_noreturn();

/* libgomp's; declared here as clang, which builds the bitcode, has no omp.h */
extern void omp_set_num_threads(int num_threads);

/* XGBoost's last error message, first line only (no stack trace). */
extern char *pd_xgb_last_error(void);

/*
 * A JSON __array_interface__ for a row-major float32 matrix, as the in-place
 * predict functions take it. Returned in palloc'd memory.
 */
extern char *pd_xgb_dense_interface(const float *data, int nrow, int ncol);

/*
 * ERROR unless every tree of the booster, loaded from 'bytes', is one
 * XGBoost can walk without reading out of bounds (see model_check.c).
 */
extern void pd_check_booster(BoosterHandle booster, int model_id,
                             const char *bytes, size_t len);

/*
 * The shared list of checked boosters: its size, requested when preloading,
 * and attaching to it from the shared-memory startup hook (under
 * AddinShmemInitLock).
 */
extern Size pd_model_check_shmem_size(void);
extern void pd_model_check_shmem_attach(void);

#endif
