// SPDX-License-Identifier: GPL-2.0
/* ncperf: the log-linear latency histogram (struct hist in ncperf.h). */
#include "ncperf.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

static unsigned int hist_index(uint64_t v)
{
	int e;

	if (v < H_SUB)
		return (unsigned int)v;
	e = 63 - __builtin_clzll(v);
	if (e >= H_MAX_EXP)
		return H_BUCKETS - 1;
	return (unsigned int)(e - H_SUB_BITS + 1) * H_SUB +
	       (unsigned int)((v >> (e - H_SUB_BITS)) & (H_SUB - 1));
}

/* Highest value that falls into bucket idx. */
static uint64_t hist_bucket_high(unsigned int idx)
{
	unsigned int g = idx / H_SUB, sub = idx % H_SUB;
	int shift;

	if (g == 0)
		return sub;
	shift = (int)g - 1;
	return (((uint64_t)(H_SUB + sub)) << shift) + ((uint64_t)1 << shift) - 1;
}

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	for (i = 0; i < H_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* The q-quantile (0 < q <= 1) in ns: upper edge of the bucket holding the
 * ceil(q * count)-th smallest sample, clamped to [min, max]. */
uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, cum = 0, v;
	unsigned int i;

	if (!h->count)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < H_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank)
			break;
	}
	v = hist_bucket_high(i < H_BUCKETS ? i : H_BUCKETS - 1);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

int hist_write_cdf(const struct hist *h, const char *path)
{
	FILE *f = fopen(path, "w");
	uint64_t cum = 0, hi;
	unsigned int i;

	if (!f)
		return -1;
	fprintf(f, "# latency CDF: usec fraction (%" PRIu64 " samples)\n", h->count);
	for (i = 0; i < H_BUCKETS && h->count; i++) {
		if (!h->b[i])
			continue;
		cum += h->b[i];
		hi = hist_bucket_high(i);
		if (hi > h->max)
			hi = h->max;
		fprintf(f, "%.3f %.6f\n", (double)hi / 1e3, (double)cum / (double)h->count);
	}
	return fclose(f);
}
