/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA lifetimes off the hot path (RFC 4301 4.4.2.1 "SA lifetime"): the engine
 * only counts packets/bytes and flags the packet that reaches a hard limit
 * (SaDeleteReq); soft limits and the time limits are checked here by the
 * main lcore's housekeeping, and deleting an SA pair is one function shared
 * with the transport's SaDeleteReq handling.
 */
#ifndef RXSEC_LIFETIME_H
#define RXSEC_LIFETIME_H

#include <stdint.h>

#include "pkt_meta.h"
#include "rxsec_result.h"
#include "sa_table.h"

/* Spec section 3, rule 6: a verified packet moves its SA's lifetime, and the
 * packet that reaches a hard limit asks for deletion. Returns the result
 * flag to set on it (RXSEC_RESULT_SA_DELETE_REQ or 0). Engines and the
 * transport's software path count alike. */
static inline uint32_t
rxsec_lifetime_count(struct rxsec_sa *sa, const struct rxsec_pkt_meta *md)
{
	uint64_t p = __atomic_add_fetch(&sa->life_packets, 1, __ATOMIC_RELAXED);
	uint64_t b = __atomic_add_fetch(&sa->life_bytes, (uint64_t)(md->ip_end - md->l3_off),
					__ATOMIC_RELAXED);

	return p >= sa->packet_hard || b >= sa->byte_hard ? RXSEC_RESULT_SA_DELETE_REQ : 0;
}

struct rxsec_lifetime_events {
	uint32_t soft_expired;		/* SAs whose soft limit was reached now */
	uint32_t hard_expired;		/* SAs deleted now for a time limit */
	uint32_t deleted;		/* SAs deleted (pairs included) */
};

/* Delete sa, then the outbound SA paired with it (same reqid, swapped
 * addresses), logging both with why. Caller serialises table writers.
 * Returns the number of SAs deleted (0 if sa was already gone). */
unsigned int rxsec_sa_delete_pair(struct rxsec_sa_table *t, struct rxsec_sa *sa,
				  const char *why);

/* Every live SA is checked at least once per sweep of this length. */
#define RXSEC_LIFETIME_SWEEP_MS 32

/* Soft (packets, bytes, seconds) and hard time limits of the live SAs, at
 * timer value now; caller serialises table writers. Each call checks the
 * slots due since the previous one, round the table: calls a millisecond
 * apart stay short and do not pull every SA line the engines write to the
 * main lcore, and a call after a long pause checks them all. */
void rxsec_lifetime_scan(struct rxsec_sa_table *t, uint64_t now,
			 struct rxsec_lifetime_events *ev);

#endif /* RXSEC_LIFETIME_H */
