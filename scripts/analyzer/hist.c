// SPDX-License-Identifier: GPL-2.0
/*
 * Log-linear latency histogram: values below 16 ns get a bucket each;
 * every octave above is split into 16 equal buckets, so a bucket is at
 * most 1/16 (6.25 %) of its value wide.  976 counters cover 0..2^64 ns
 * in fixed memory; min, max, count and sum are kept exactly.
 */
#include "irqpath.h"

static unsigned int bucket_of(u64 v)
{
	unsigned int msb;

	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	return (msb - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned int)((v >> (msb - HIST_SUB_BITS)) - HIST_SUB);
}

u64 hist_bucket_low(unsigned int idx)
{
	unsigned int e;

	if (idx < 2 * HIST_SUB)
		return idx;
	e = idx / HIST_SUB;
	return (u64)(idx % HIST_SUB + HIST_SUB) << (e - 1);
}

u64 hist_bucket_high(unsigned int idx)
{
	if (idx + 1 >= HIST_BUCKETS)
		return UINT64_MAX;
	return hist_bucket_low(idx + 1) - 1;
}

void hist_add(struct hist *h, u64 v)
{
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->bucket[bucket_of(v)]++;
}

/*
 * The q-quantile (0 < q <= 1): the middle of the bucket holding the
 * ceil(q * count)-th smallest value, clamped to the exact min and max.
 */
u64 hist_quantile(const struct hist *h, double q)
{
	u64 rank, seen = 0, lo, hi, mid;
	unsigned int i;

	if (!h->count)
		return 0;
	rank = (u64)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)
		return h->max;
	lo = hist_bucket_low(i);
	hi = hist_bucket_high(i);
	mid = lo + (hi - lo) / 2;
	if (mid < h->min)
		mid = h->min;
	if (mid > h->max)
		mid = h->max;
	return mid;
}
