/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "lifetime.h"
#include "log.h"

unsigned int
rxsec_sa_delete_pair(struct rxsec_sa_table *t, struct rxsec_sa *sa, const char *why)
{
	struct rxsec_sa *pair;
	char a[64], b[64];

	if (sa->deleted)
		return 0;
	pair = rxsec_sa_table_find_pair(t, sa);
	sa->deleted = 1;
	rxsec_sa_table_remove(t, sa->id);
	RTE_LOG(NOTICE, RXSEC, "%s: deleted inbound SA spi 0x%08x %s -> %s reqid %u\n",
		why, sa->spi, rxsec_addr_str(&sa->cfg.src, a, sizeof(a)),
		rxsec_addr_str(&sa->cfg.dst, b, sizeof(b)), sa->cfg.reqid);
	if (pair == NULL) {
		RTE_LOG(NOTICE, RXSEC, "%s: no outbound SA paired with spi 0x%08x\n",
			why, sa->spi);
		return 1;
	}
	pair->deleted = 1;
	rxsec_sa_table_remove(t, pair->id);
	RTE_LOG(NOTICE, RXSEC, "%s: deleted paired outbound SA spi 0x%08x %s -> %s reqid %u\n",
		why, pair->spi, rxsec_addr_str(&pair->cfg.src, a, sizeof(a)),
		rxsec_addr_str(&pair->cfg.dst, b, sizeof(b)), pair->cfg.reqid);
	return 2;
}

static inline int
age_reached(uint64_t since, uint64_t now, uint64_t hz, uint64_t limit_s)
{
	/* in whole seconds: limit_s * hz would wrap for limits near 2^64 / hz
	 * (an SA with a time limit of centuries would expire at once) */
	return limit_s != RXSEC_LIMIT_INF && since != 0 && (now - since) / hz >= limit_s;
}

static const char *
soft_cause(const struct rxsec_sa *sa, uint64_t p, uint64_t b, uint64_t now, uint64_t hz)
{
	if (p >= sa->packet_soft)
		return "packet-soft";
	if (b >= sa->byte_soft)
		return "byte-soft";
	if (age_reached(sa->add_time, now, hz, sa->cfg.add_soft_sec))
		return "time-soft";
	if (age_reached(sa->first_use, now, hz, sa->cfg.use_soft_sec))
		return "time-use-soft";
	return NULL;
}

static void
sa_check(struct rxsec_sa_table *t, struct rxsec_sa *sa, uint64_t now, uint64_t hz,
	 struct rxsec_lifetime_events *ev)
{
	uint64_t p = __atomic_load_n(&sa->life_packets, __ATOMIC_RELAXED);
	uint64_t b = __atomic_load_n(&sa->life_bytes, __ATOMIC_RELAXED);
	const char *cause;

	/* First use as seen from here: precise to one housekeeping period. */
	if (sa->first_use == 0 && p != 0)
		sa->first_use = now;
	if (!sa->soft_expired && (cause = soft_cause(sa, p, b, now, hz)) != NULL) {
		sa->soft_expired = 1;
		ev->soft_expired++;
		RTE_LOG(NOTICE, RXSEC, "expire (soft, %s): SA spi 0x%08x reqid %u after %"
			PRIu64 " packets, %" PRIu64 " bytes\n",
			cause, sa->spi, sa->cfg.reqid, p, b);
	}
	if (age_reached(sa->add_time, now, hz, sa->cfg.add_hard_sec) ||
	    age_reached(sa->first_use, now, hz, sa->cfg.use_hard_sec)) {
		sa->hard_expired = 1;
		ev->hard_expired++;
		ev->deleted += rxsec_sa_delete_pair(t, sa, "expire (hard, time)");
	}
}

/* Slots due at now: the sweep's share of the time since the last call, so
 * that every slot is seen once per RXSEC_LIFETIME_SWEEP_MS however seldom
 * housekeeping runs (the main lcore's loop comes round late under load). */
static uint32_t
sweep_slots(struct rxsec_sa_table *t, uint64_t now, uint64_t hz)
{
	uint64_t sweep = hz * RXSEC_LIFETIME_SWEEP_MS / 1000;
	uint64_t dt = now - t->life_scan_time;

	t->life_scan_time = now;
	if (dt >= sweep || sweep == 0)
		return t->capacity;
	return (uint32_t)((uint64_t)t->capacity * dt / sweep) + 1;
}

void
rxsec_lifetime_scan(struct rxsec_sa_table *t, uint64_t now, struct rxsec_lifetime_events *ev)
{
	uint64_t hz = rte_get_timer_hz();
	uint32_t slots = sweep_slots(t, now, hz);
	uint32_t i = t->life_cursor;

	for (uint32_t k = 0; k < slots && k < t->capacity; k++) {
		struct rxsec_sa *sa;

		if (i >= t->capacity)
			i = 0;
		sa = t->slot[i++];
		if (sa != NULL && !sa->deleted)
			sa_check(t, sa, now, hz, ev);
	}
	t->life_cursor = i;
}
