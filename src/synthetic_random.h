/*
 * synthetic_random.h
 *    The synthetic bank's seeded randomness: a PRNG with one stream per
 *    customer and the draws the model makes from it, and the deterministic
 *    uuids of the rows. Same arguments, same bytes.
 *
 * The draws made for every transaction are inline here; the rest are in
 * synthetic_random.c.
 */
#ifndef PD_SYNTHETIC_RANDOM_H
#define PD_SYNTHETIC_RANDOM_H

#include "postgres.h"

#include "utils/uuid.h"

/* ------------------------------------------------------------------------
 * PRNG: xoshiro256** seeded through splitmix64. One stream per customer,
 * derived from (seed, customer number), so a customer's history does not
 * depend on how many customers come before it.
 * ------------------------------------------------------------------------
 */
typedef struct Rng
{
	uint64 s[4];
} Rng;

/* Stream 'stream' of the seed, e.g. one customer's. */
extern void pd_rng_seed(Rng *r, uint32 seed, uint64 stream);

static inline uint64
pd_rotl64(uint64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64
pd_rng_next(Rng *r)
{
	uint64 *s = r->s;
	uint64 result = pd_rotl64(s[1] * 5, 7) * 9;
	uint64 t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = pd_rotl64(s[3], 45);
	return result;
}

/* uniform in [0, 1) */
static inline double
pd_rng_unit(Rng *r)
{
	return (pd_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double
pd_rng_range(Rng *r, double lo, double hi)
{
	return lo + (hi - lo) * pd_rng_unit(r);
}

/* uniform integer in [lo, hi] */
static inline int
pd_rng_int(Rng *r, int lo, int hi)
{
	return lo + (int) ((pd_rng_next(r) >> 33) % (uint64) (hi - lo + 1));
}

static inline bool
pd_rng_chance(Rng *r, double p)
{
	return pd_rng_unit(r) < p;
}

/* standard normal (Box-Muller, one of the pair) */
extern double pd_rng_normal(Rng *r);

/* A positive amount with the given mean and lognormal spread. */
extern double pd_rng_lognormal(Rng *r, double mean, double sigma);

/* Poisson by inversion: one uniform, fine for the small rates used here. */
extern int pd_rng_poisson(Rng *r, double lambda);

/* index into cumulative percentages, e.g. {40, 85, 100} */
extern int pd_rng_pick(Rng *r, const uint8 *cumulative);

/* x limited to [lo, hi], for the probabilities and amounts drawn */
static inline double
pd_clamp(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/*
 * The rows' uuids: seed, kind and a counter in insertion order (see
 * synthetic_random.c).
 */
#define UUID_CUSTOMER 0x1
#define UUID_EVENT    0x2
#define UUID_PAYMENT  0x3

extern void pd_synthetic_uuid(pg_uuid_t *u, uint32 seed, int kind, uint64 n);

/* The first and last uuid a seed's customers can have. */
extern void pd_synthetic_customer_range(uint32 seed, pg_uuid_t *lo,
                                        pg_uuid_t *hi);

#endif
