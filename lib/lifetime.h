/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA lifetimes off the hot path (RFC 4301 4.4.2.1 "SA lifetime"): the
 * transport counts the packets/bytes an SA accepted and flags the packet that
 * reaches a hard limit (SaDeleteReq); soft limits and the time limits are
 * checked here by the main lcore's housekeeping, and deleting an SA pair is
 * one function shared with the transport's SaDeleteReq handling.
 */
#ifndef RXSEC_LIFETIME_H
#define RXSEC_LIFETIME_H

#include <stdint.h>

#include "pkt_meta.h"
#include "rxsec_result.h"
#include "sa_table.h"

/* Spec section 3, rule 6, counted where Linux's xfrm_input adds to curlft:
 * after the replay window moved for the packet, so that replayed or forged
 * packets cannot wear an SA out. The bytes are Linux's skb->len at that
 * point: what follows this layer's header once ESP's header, IV, padding,
 * trailer and ICV (esp_input_done2) or the AH header (ah_input) are gone,
 * i.e. the tunnel's inner packet (with any TFC padding) or the transport
 * payload, never the outer IP header. md is the layer's own meta, so each
 * SA of a nested packet counts its own layer. Only the transport owning
 * sa's window calls it (one writer; housekeeping reads). Returns the result
 * flag for the packet that reaches a hard limit (RXSEC_RESULT_SA_DELETE_REQ
 * or 0). */
static inline uint32_t
rxsec_lifetime_count(struct rxsec_sa *sa, const struct rxsec_pkt_meta *md)
{
	uint64_t p = sa->life_packets + 1;
	uint64_t b = sa->life_bytes + (uint64_t)(md->payload_end - md->payload_off);

	__atomic_store_n(&sa->life_packets, p, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->life_bytes, b, __ATOMIC_RELAXED);
	return p >= sa->packet_hard || b >= sa->byte_hard ? RXSEC_RESULT_SA_DELETE_REQ : 0;
}

/* The engine's part of rule 6: an SA whose accepted packets reached a hard
 * limit stays flagged on every packet until the transport has deleted it. */
static inline uint32_t
rxsec_lifetime_reached(const struct rxsec_sa *sa)
{
	return __atomic_load_n(&sa->life_packets, __ATOMIC_RELAXED) >= sa->packet_hard ||
		__atomic_load_n(&sa->life_bytes, __ATOMIC_RELAXED) >= sa->byte_hard ?
		RXSEC_RESULT_SA_DELETE_REQ : 0;
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
