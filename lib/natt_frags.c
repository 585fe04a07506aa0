/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "natt_frags.h"

/* Open addressing: a datagram lives in one of PROBE slots from its hash. */
#define PROBE	8

struct rxsec_natt_slot {
	struct rxsec_natt_dgram d;
	uint64_t expire;	/* TSC; 0: free */
};

int
rxsec_natt_frags_init(struct rxsec_natt_frags *s, uint32_t datagrams, int socket)
{
	uint32_t n = rte_align32pow2(RTE_MAX(datagrams, (uint32_t)PROBE));

	s->slot = rte_zmalloc_socket("rxsec_natt_frags", sizeof(*s->slot) * n, 0, socket);
	s->mask = n - 1;
	return s->slot == NULL ? -1 : 0;
}

void
rxsec_natt_frags_free(struct rxsec_natt_frags *s)
{
	rte_free(s->slot);
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

void
rxsec_natt_frags_remember(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
			  uint64_t now, uint64_t expire)
{
	uint32_t h = dgram_hash(d);
	struct rxsec_natt_slot *e = natt_find(s, h, d);

	/* else the first free or expired slot, or the one closest to expiring */
	if (e == NULL) {
		e = &s->slot[h & s->mask];
		for (uint32_t i = 1; i < PROBE && e->expire > now; i++) {
			struct rxsec_natt_slot *c = &s->slot[(h + i) & s->mask];

			if (c->expire < e->expire)
				e = c;
		}
	}
	e->d = *d;
	e->expire = RTE_MAX(expire, (uint64_t)1);
}

bool
rxsec_natt_frags_known(const struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
		       uint64_t now)
{
	const struct rxsec_natt_slot *e = natt_find(s, dgram_hash(d), d);

	return e != NULL && e->expire > now;
}

void
rxsec_natt_frags_forget(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d)
{
	struct rxsec_natt_slot *e = natt_find(s, dgram_hash(d), d);

	if (e != NULL)
		e->expire = 0;
}
