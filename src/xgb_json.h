/*
 * xgb_json.h
 *    Reading XGBoost's JSON dump of a model with json-c. Separate from
 *    xgb_util.h: json-c's json_object type clashes with PostgreSQL's
 *    json_object() in utils/builtins.h, so only files that do not include
 *    that may include this.
 */
#ifndef PD_XGB_JSON_H
#define PD_XGB_JSON_H

#include "postgres.h"

#include <json-c/json.h>

/* The member 'key' of object o; NULL if o is NULL or has none. */
extern json_object *pd_json_member(json_object *o, const char *key);

/* Whether o's member 'key' is there with the text 'value'. */
extern bool pd_json_member_is(json_object *o, const char *key,
                              const char *value);

/* The int array element i; -1 if absent. */
extern int pd_json_int_at(json_object *array, int i);

#endif
