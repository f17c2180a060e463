/*
 * tool_util.c
 *    Helpers shared by the command-line tools (pd_broker, pd_simulate,
 *    pd_topics): messages, strict parsing, the PRNG and uuids, UTC time
 *    stamps and librdkafka configuration.
 *
 * Nothing here knows what the tools are for.
 */
#include "tool_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const char *tool_name = "pd_tool";

void
tool_die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

void
tool_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool
tool_is_option(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

const char *
tool_option_value(int argc, char **argv, int *i)
{
	const char *eq = strchr(argv[*i], '=');

	if (eq != NULL && strncmp(argv[*i], "--", 2) == 0)
		return eq + 1;
	if (*i + 1 >= argc)
		tool_die(TOOL_EXIT_USAGE, "%s needs a value (see --help)", argv[*i]);
	return argv[++*i];
}

bool
tool_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool
tool_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

double
tool_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

int64_t
tool_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
tool_format_time(int64_t epoch_usec, char *buf)
{
	/* gmtime_r is the slow part: reuse the last second's calendar (the
	 * tools call this from one thread only) */
	static time_t cached_sec = -1;
	static char cached[24];
	time_t sec = (time_t) (epoch_usec / 1000000);
	long usec = (long) (epoch_usec % 1000000);

	if (usec < 0)
	{
		usec += 1000000;
		sec -= 1;
	}
	if (sec != cached_sec)
	{
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = sec;
	}
	snprintf(buf, TOOL_TIME_LEN, "%s.%06ldZ", cached, usec);
}

void
tool_format_now(char *buf)
{
	tool_format_time(tool_now_usec(), buf);
}

/* ------------------------------------------------------------------------
 * PRNG
 * ------------------------------------------------------------------------
 */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void
tool_rng_seed(ToolRng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t
tool_random_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t) sizeof(seed))
		seed = (uint64_t) tool_now_usec() ^ (uint64_t) clock();
	return seed;
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
tool_rng_next(ToolRng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double
tool_rng_unit(ToolRng *r)
{
	return (tool_rng_next(r) >> 11) * 0x1.0p-53;
}

double
tool_rng_range(ToolRng *r, double lo, double hi)
{
	return lo + (hi - lo) * tool_rng_unit(r);
}

long
tool_rng_int(ToolRng *r, long lo, long hi)
{
	return lo + (long) (tool_rng_unit(r) * (double) (hi - lo + 1));
}

bool
tool_rng_chance(ToolRng *r, double p)
{
	return tool_rng_unit(r) < p;
}

double
tool_rng_normal(ToolRng *r)
{
	double u1 = 1.0 - tool_rng_unit(r);
	double u2 = tool_rng_unit(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double
tool_rng_lognormal(ToolRng *r, double mean, double sigma)
{
	return mean * exp(sigma * tool_rng_normal(r) - 0.5 * sigma * sigma);
}

int
tool_rng_pick(ToolRng *r, const double *cumulative, int n)
{
	double u = tool_rng_unit(r) * cumulative[n - 1];

	for (int i = 0; i < n - 1; i++)
		if (u < cumulative[i])
			return i;
	return n - 1;
}

void
tool_rng_uuid(ToolRng *r, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	uint64_t hi = tool_rng_next(r);
	uint64_t lo = tool_rng_next(r);
	int k = 0;

	for (int i = 0; i < 8; i++)
	{
		b[i] = (uint8_t) (hi >> (8 * i));
		b[8 + i] = (uint8_t) (lo >> (8 * i));
	}
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[k++] = '-';
		buf[k++] = hex[b[i] >> 4];
		buf[k++] = hex[b[i] & 0x0f];
	}
	buf[k] = '\0';
}

/* ------------------------------------------------------------------------
 * librdkafka configuration
 * ------------------------------------------------------------------------
 */
void
tool_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
	char err[512];

	if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK)
		tool_die(TOOL_EXIT_USAGE, "librdkafka property %s: %s", key, err);
}

void
tool_kafka_set_pair(rd_kafka_conf_t *conf, const char *pair)
{
	const char *eq = strchr(pair, '=');
	char key[256];

	if (eq == NULL || eq == pair || (size_t) (eq - pair) >= sizeof(key))
		tool_die(TOOL_EXIT_USAGE,
		         "-X expects key=value (a librdkafka property), not \"%s\"",
		         pair);
	memcpy(key, pair, eq - pair);
	key[eq - pair] = '\0';
	tool_kafka_set(conf, key, eq + 1);
}

void
tool_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
               const char *buf)
{
	(void) rk;
	fprintf(stderr, "%s: kafka %d %s: %s\n", tool_name, level, fac, buf);
}
