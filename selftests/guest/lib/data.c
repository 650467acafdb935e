// SPDX-License-Identifier: GPL-2.0
/*
 * Test library: the seeded pseudo-random byte stream nc_gen(), the random
 * choices of struct nc_rng and the streaming hash nc_hash (see nc_net.h).
 */
#include "nc_lib.h"

#define NC_GOLDEN 0x9e3779b97f4a7c15ULL

/* splitmix64's output function */
static uint64_t nc_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t nc_word(uint64_t seed, uint64_t k)
{
	return nc_mix64(seed + (k + 1) * NC_GOLDEN);
}

void nc_gen(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t k = off >> 3, w;
	unsigned int sh = off & 7;

	if (sh && len) {
		w = nc_word(seed, k++);
		for (; sh < 8 && len; sh++, len--)
			*p++ = (uint8_t)(w >> (8 * sh));
	}
	for (; len >= 8; len -= 8, p += 8) {
		w = nc_word(seed, k++);
		memcpy(p, &w, 8);
	}
	if (len) {
		w = nc_word(seed, k);
		for (sh = 0; sh < len; sh++)
			*p++ = (uint8_t)(w >> (8 * sh));
	}
}

uint64_t nc_rnd64(struct nc_rng *r)
{
	return nc_mix64(r->s += NC_GOLDEN);
}

uint32_t nc_rnd(struct nc_rng *r, uint32_t n)
{
	return n ? (uint32_t)(nc_rnd64(r) % n) : 0;
}

uint32_t nc_rnd_in(struct nc_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + nc_rnd(r, hi - lo + 1);
}

bool nc_chance(struct nc_rng *r, double p)
{
	return (double)(nc_rnd64(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

#define NC_H_P1 0x9E3779B185EBCA87ULL
#define NC_H_P2 0xC2B2AE3D27D4EB4FULL
#define NC_H_P3 0x165667B19E3779F9ULL
#define NC_H_P4 0x85EBCA77C2B2AE63ULL

uint64_t nc_rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

void nc_hash_init(struct nc_hash *h)
{
	h->acc = NC_H_P3 ^ 0x4e6574436861ULL;
	h->len = 0;
	h->pend = 0;
	h->npend = 0;
}

void nc_hash_word(struct nc_hash *h, uint64_t w)
{
	h->acc ^= nc_rotl64(w * NC_H_P2, 31) * NC_H_P1;
	h->acc = nc_rotl64(h->acc, 27) * NC_H_P1 + NC_H_P4;
}

void nc_hash_update(struct nc_hash *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t w;

	h->len += len;
	if (h->npend) {
		for (; h->npend < 8 && len; h->npend++, len--)
			h->pend |= (uint64_t)*p++ << (8 * h->npend);
		if (h->npend < 8)
			return;
		nc_hash_word(h, h->pend);
		h->pend = 0;
		h->npend = 0;
	}
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		nc_hash_word(h, w);
	}
	for (; len; len--)
		h->pend |= (uint64_t)*p++ << (8 * h->npend++);
}

uint64_t nc_hash_final(const struct nc_hash *h)
{
	uint64_t a = h->acc + h->len;

	if (h->npend) {
		a ^= (h->pend | ((uint64_t)h->npend << 56)) * NC_H_P1;
		a = nc_rotl64(a, 23) * NC_H_P2 + NC_H_P3;
	}
	a ^= a >> 33;
	a *= NC_H_P2;
	a ^= a >> 29;
	a *= NC_H_P3;
	a ^= a >> 32;
	return a;
}

uint64_t nc_hash_buf(const void *buf, size_t len)
{
	struct nc_hash h;

	nc_hash_init(&h);
	nc_hash_update(&h, buf, len);
	return nc_hash_final(&h);
}

uint64_t nc_gen_hash(uint64_t seed, uint64_t len)
{
	static uint8_t buf[65536];
	struct nc_hash h;
	uint64_t off;
	size_t n;

	nc_hash_init(&h);
	for (off = 0; off < len; off += n) {
		n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		nc_gen(seed, off, buf, n);
		nc_hash_update(&h, buf, n);
	}
	return nc_hash_final(&h);
}
