/*
 * synthetic_random.c
 *    The synthetic bank's seeded PRNG (xoshiro256** seeded through
 *    splitmix64) and its uuid scheme: same arguments, same bytes.
 *
 * Owns the draws that are not inline in synthetic_random.h and the layout of
 * the rows' uuids; what is drawn, and when, is the model's
 * (synthetic_customer.c, synthetic_model.c).
 */
#include "postgres.h"

#include <math.h>

#include "synthetic_random.h"

/* ------------------------------------------------------------------------
 * PRNG: xoshiro256** (its step is inline in synthetic_random.h), seeded
 * through splitmix64, which also mixes the uuids' hash bits.
 * ------------------------------------------------------------------------
 */
static inline uint64
splitmix64(uint64 *x)
{
	uint64 z = (*x += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void
pd_rng_seed(Rng *r, uint32 seed, uint64 stream)
{
	uint64 x =
	    ((uint64) seed << 32) ^ (stream * UINT64CONST(0xD1B54A32D192ED03));

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

double
pd_rng_normal(Rng *r)
{
	double u1 = 1.0 - pd_rng_unit(r);
	double u2 = pd_rng_unit(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A positive amount with the given mean and lognormal spread. */
double
pd_rng_lognormal(Rng *r, double mean, double sigma)
{
	return mean * exp(sigma * pd_rng_normal(r) - 0.5 * sigma * sigma);
}

/* Poisson by inversion: one uniform, fine for the small rates used here. */
int
pd_rng_poisson(Rng *r, double lambda)
{
	double u, p, cdf;
	int k = 0;

	if (lambda <= 0.0)
		return 0;
	u = pd_rng_unit(r);
	p = exp(-lambda);
	cdf = p;
	while (u > cdf && k < 20)
	{
		k++;
		p *= lambda / k;
		cdf += p;
	}
	return k;
}

/* index into cumulative percentages, e.g. {40, 85, 100} */
int
pd_rng_pick(Rng *r, const uint8 *cumulative)
{
	int u = pd_rng_int(r, 0, 99);
	int i = 0;

	while (u >= cumulative[i])
		i++;
	return i;
}

/* ------------------------------------------------------------------------
 * uuids. The seed's 32 bits come first, so two seeds never collide and one
 * seed's rows form one key range (easy to find, easy to delete); then a
 * kind nibble and a 48-bit counter in insertion order, so every primary key
 * and (customer_id, ...) index is appended at its right edge; then hash
 * bits. Version 8 (custom) and the RFC variant are set in their places.
 * ------------------------------------------------------------------------
 */
void
pd_synthetic_uuid(pg_uuid_t *u, uint32 seed, int kind, uint64 n)
{
	uint64 h =
	    ((uint64) seed << 8 | kind) ^ (n * UINT64CONST(0x9E3779B97F4A7C15));
	unsigned char *b = u->data;

	h = splitmix64(&h);
	b[0] = seed >> 24;
	b[1] = seed >> 16;
	b[2] = seed >> 8;
	b[3] = seed;
	b[4] = (kind << 4) | ((n >> 44) & 0x0F);
	b[5] = n >> 36;
	b[6] = 0x80 | ((n >> 32) & 0x0F);
	b[7] = n >> 24;
	b[8] = 0x80 | ((n >> 18) & 0x3F);
	b[9] = n >> 10;
	b[10] = n >> 2;
	b[11] = ((n & 0x03) << 6) | (h & 0x3F);
	b[12] = h >> 8;
	b[13] = h >> 16;
	b[14] = h >> 24;
	b[15] = h >> 32;
}

void
pd_synthetic_customer_range(uint32 seed, pg_uuid_t *lo, pg_uuid_t *hi)
{
	memset(lo->data, 0x00, UUID_LEN);
	memset(hi->data, 0xFF, UUID_LEN);
	for (int i = 0; i < 4; i++)
		lo->data[i] = hi->data[i] = (seed >> (24 - 8 * i)) & 0xFF;
	lo->data[4] = UUID_CUSTOMER << 4;
	hi->data[4] = (UUID_CUSTOMER << 4) | 0x0F;
}
