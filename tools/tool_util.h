/*
 * tool_util.h
 *    What the command-line tools in tools/ share: messages and exits, strict
 *    number parsing, a seeded PRNG with uuids, UTC timestamps, and setting
 *    librdkafka properties (including the user's -X key=value ones).
 *
 * Knows nothing about the bank, the events or the tables.
 */
#ifndef PD_TOOL_UTIL_H
#define PD_TOOL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* Program name used in messages; set once by main(). */
extern const char *tool_name;

/* "tool: message" on stderr, then exit(status). */
void tool_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* "tool: message" on stderr. */
void tool_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit statuses shared by the tools. */
#define TOOL_EXIT_FAILURE 1 /* the work failed (deliveries, broker, db) */
#define TOOL_EXIT_USAGE   2 /* bad command line */

/* Whether arg is the long option name, alone or as name=value. */
bool tool_is_option(const char *arg, const char *name);

/* The value of the option at argv[*i]: after '=', or the next argument. */
const char *tool_option_value(int argc, char **argv, int *i);

/* Strict parsers: the whole string must be a number in [lo, hi]. */
bool tool_parse_long(const char *s, long lo, long hi, long *out);
bool tool_parse_double(const char *s, double lo, double hi, double *out);

/* Seconds on a monotonic clock, for elapsed times and pacing. */
double tool_monotonic(void);

/*
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" for the current time (UTC); buf must hold
 * TOOL_TIME_LEN bytes.
 */
#define TOOL_TIME_LEN 32
void tool_format_now(char *buf);
void tool_format_time(int64_t epoch_usec, char *buf);
int64_t tool_now_usec(void);

/* ------------------------------------------------------------------------
 * PRNG: xoshiro256** seeded through splitmix64. Same seed, same draws.
 * ------------------------------------------------------------------------
 */
typedef struct ToolRng
{
	uint64_t s[4];
} ToolRng;

void tool_rng_seed(ToolRng *r, uint64_t seed, uint64_t stream);
/* A seed from the kernel's entropy, for when the user gives none. */
uint64_t tool_random_seed(void);
uint64_t tool_rng_next(ToolRng *r);
double tool_rng_unit(ToolRng *r); /* [0, 1) */
double tool_rng_range(ToolRng *r, double lo, double hi);
long tool_rng_int(ToolRng *r, long lo, long hi); /* [lo, hi] */
bool tool_rng_chance(ToolRng *r, double p);
double tool_rng_normal(ToolRng *r);
/* A positive amount with the given mean and lognormal spread. */
double tool_rng_lognormal(ToolRng *r, double mean, double sigma);
/* Index into a table of cumulative weights ending with the total. */
int tool_rng_pick(ToolRng *r, const double *cumulative, int n);

/* A version-4 uuid from the PRNG, as 36 characters plus NUL. */
#define TOOL_UUID_LEN 37
void tool_rng_uuid(ToolRng *r, char *buf);

/* ------------------------------------------------------------------------
 * librdkafka configuration
 * ------------------------------------------------------------------------
 */

/* Sets one property or dies naming it. */
void tool_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *value);

/* Sets "key=value" (the -X option of the tools) or dies. */
void tool_kafka_set_pair(rd_kafka_conf_t *conf, const char *pair);

/* Log lines of librdkafka on stderr, prefixed with the tool's name. */
void tool_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
                    const char *buf);

#endif
