/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "natt_frags.h"

/* Open addressing: a datagram lives in one of PROBE slots from its hash. */
#define PROBE	8
/* Datagrams waiting with early copies: a few, searched one by one, since
 * a later fragment overtaking its first is rare. */
#define EARLY_DGRAMS_MAX	64

struct rxsec_natt_slot {
	struct rxsec_natt_dgram d;
	uint64_t expire;	/* TSC; 0: free */
	uint8_t kind;		/* enum rxsec_natt_kind */
};

struct rxsec_natt_early {
	struct rxsec_natt_dgram d;
	uint64_t expire;	/* TSC */
	uint32_t n;		/* copies; 0: free */
	struct rte_mbuf *m[RXSEC_NATT_EARLY_PER_DGRAM];
};

uint32_t
rxsec_natt_frags_early_dgrams(uint32_t datagrams)
{
	return RTE_MAX(1u, RTE_MIN(datagrams / 4, (uint32_t)EARLY_DGRAMS_MAX));
}

int
rxsec_natt_frags_init(struct rxsec_natt_frags *s, uint32_t datagrams, int socket,
		      uint64_t *early_freed)
{
	uint32_t n = rte_align32pow2(RTE_MAX(datagrams, (uint32_t)PROBE));

	memset(s, 0, sizeof(*s));
	s->early_freed = early_freed;
	s->nb_early = rxsec_natt_frags_early_dgrams(datagrams);
	s->slot = rte_zmalloc_socket("rxsec_natt_frags", sizeof(*s->slot) * n, 0, socket);
	s->early = rte_zmalloc_socket("rxsec_natt_early", sizeof(*s->early) * s->nb_early, 0,
				      socket);
	s->mask = n - 1;
	if (s->slot == NULL || s->early == NULL) {
		rxsec_natt_frags_free(s);
		return -1;
	}
	return 0;
}

void
rxsec_natt_frags_discard(struct rxsec_natt_frags *s, struct rte_mbuf **c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		rte_pktmbuf_free(c[i]);
	*s->early_freed += n;
}

static void
early_drop(struct rxsec_natt_frags *s, struct rxsec_natt_early *e)
{
	rxsec_natt_frags_discard(s, e->m, e->n);
	e->n = 0;
	s->early_used--;
}

void
rxsec_natt_frags_free(struct rxsec_natt_frags *s)
{
	if (s->early != NULL)
		for (uint32_t i = 0; i < s->nb_early; i++)
			if (s->early[i].n != 0)
				early_drop(s, &s->early[i]);
	rte_free(s->early);
	rte_free(s->slot);
	s->early = NULL;
	s->slot = NULL;
}

static inline uint32_t
dgram_hash(const struct rxsec_natt_dgram *d)
{
	return rte_hash_crc(d, sizeof(*d), 0);
}

static inline bool
dgram_equal(const struct rxsec_natt_dgram *a, const struct rxsec_natt_dgram *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static struct rxsec_natt_slot *
natt_find(const struct rxsec_natt_frags *s, uint32_t h, const struct rxsec_natt_dgram *d)
{
	for (uint32_t i = 0; i < PROBE; i++) {
		struct rxsec_natt_slot *e = &s->slot[(h + i) & s->mask];

		if (e->expire != 0 && dgram_equal(&e->d, d))
			return e;
	}
	return NULL;
}

/* A free or expired slot, else the one closest to expiring that `kind`
 * may take: a datagram that is not IPsec must not push one that is out.
 * NULL if none. */
static struct rxsec_natt_slot *
natt_victim(const struct rxsec_natt_frags *s, uint32_t h, enum rxsec_natt_kind kind,
	    uint64_t now)
{
	struct rxsec_natt_slot *v = NULL;

	for (uint32_t i = 0; i < PROBE; i++) {
		struct rxsec_natt_slot *c = &s->slot[(h + i) & s->mask];

		if (c->expire <= now)
			return c;
		if (kind == RXSEC_NATT_PLAIN && c->kind != RXSEC_NATT_PLAIN)
			continue;
		if (v == NULL || c->expire < v->expire)
			v = c;
	}
	return v;
}

void
rxsec_natt_frags_remember(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
			  enum rxsec_natt_kind kind, uint64_t now, uint64_t expire)
{
	uint32_t h = dgram_hash(d);
	struct rxsec_natt_slot *e = natt_find(s, h, d);

	if (e == NULL)
		e = natt_victim(s, h, kind, now);
	if (e == NULL)
		return;
	e->d = *d;
	e->kind = (uint8_t)kind;
	e->expire = RTE_MAX(expire, (uint64_t)1);
}

enum rxsec_natt_kind
rxsec_natt_frags_kind(const struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
		      uint64_t now)
{
	const struct rxsec_natt_slot *e = natt_find(s, dgram_hash(d), d);

	if (e == NULL || e->expire <= now)
		return RXSEC_NATT_UNKNOWN;
	return (enum rxsec_natt_kind)e->kind;
}

void
rxsec_natt_frags_forget(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d)
{
	struct rxsec_natt_slot *e = natt_find(s, dgram_hash(d), d);

	if (e != NULL)
		e->expire = 0;
}

static struct rxsec_natt_early *
early_find(const struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d)
{
	if (s->early_used == 0)
		return NULL;
	for (uint32_t i = 0; i < s->nb_early; i++)
		if (s->early[i].n != 0 && dgram_equal(&s->early[i].d, d))
			return &s->early[i];
	return NULL;
}

/* A free entry, else the one waiting longest, emptied. */
static struct rxsec_natt_early *
early_new(struct rxsec_natt_frags *s)
{
	struct rxsec_natt_early *v = &s->early[0];

	for (uint32_t i = 0; i < s->nb_early && v->n != 0; i++)
		if (s->early[i].n == 0 || s->early[i].expire < v->expire)
			v = &s->early[i];
	if (v->n != 0)
		early_drop(s, v);
	return v;
}

bool
rxsec_natt_frags_keep_early(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
			    struct rte_mbuf *copy, uint64_t now, uint64_t expire)
{
	struct rxsec_natt_early *e = early_find(s, d);

	if (e != NULL && e->expire <= now)
		early_drop(s, e);	/* a datagram of the same name, long gone */
	if (e == NULL || e->n == 0) {
		e = early_new(s);
		e->d = *d;
		e->expire = expire;
		s->early_used++;
	}
	if (e->n == RXSEC_NATT_EARLY_PER_DGRAM) {
		rxsec_natt_frags_discard(s, &copy, 1);
		return false;
	}
	e->m[e->n++] = copy;
	return true;
}

uint32_t
rxsec_natt_frags_take_early(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
			    uint64_t now, struct rte_mbuf **out)
{
	struct rxsec_natt_early *e = early_find(s, d);
	uint32_t n;

	if (e == NULL)
		return 0;
	if (e->expire <= now) {
		early_drop(s, e);
		return 0;
	}
	n = e->n;
	memcpy(out, e->m, n * sizeof(*out));
	e->n = 0;
	s->early_used--;
	return n;
}

void
rxsec_natt_frags_expire_early(struct rxsec_natt_frags *s, uint64_t now)
{
	for (uint32_t i = 0; i < s->nb_early && s->early_used != 0; i++)
		if (s->early[i].n != 0 && s->early[i].expire <= now)
			early_drop(s, &s->early[i]);
}
