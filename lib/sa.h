/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A live inbound SA: the parsed configuration plus everything the data path
 * derives from it once at load time. Engines read it; one transport stage
 * (transport_id) owns its replay window and its counters.
 */
#ifndef RXSEC_SA_H
#define RXSEC_SA_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "reason.h"
#include "replay.h"
#include "sa_config.h"

struct rxsec_crypto_sa;
struct rxsec_crypto_driver;

/* Lookup key (spec section 3, rule 3): SPI, destination, protocol. 32
 * bytes, for rte_hash's vector key compare; the classifier writes it in
 * whole 8-byte words, so that reading it back is forwarded from the stores. */
struct rxsec_sa_key {
	uint32_t spi;		/* network order, as on the wire */
	uint8_t proto;
	uint8_t family;		/* 4 or 6 */
	uint16_t zero;
	uint8_t dst[16];	/* IPv4: first 4 bytes, rest zero */
	uint64_t pad;		/* zero; RXSEC_SA_KEY_OUTBOUND in an outbound SA's */
};

/* An outbound SA's key in the table carries this in pad, so that no
 * received packet's key (pad 0) finds it: Linux 6.10's xfrm_input drops a
 * packet whose SA is outbound. rxsec_sa_table_find() finds it either way. */
#define RXSEC_SA_KEY_OUTBOUND	1

/* A packet carries its SA's handle: the slot id plus the slot's generation,
 * so a packet still queued when its SA is deleted and the slot reused later
 * never meets the new SA (it becomes no_sa). */
#define RXSEC_SA_SLOT_BITS	24
#define RXSEC_SA_SLOT_MASK	((1u << RXSEC_SA_SLOT_BITS) - 1)

/* What a tunnel SA's decapsulation does to the inner DS field (RFC 2474,
 * RFC 3168; decap.h): by default what Linux's xfrm tunnel mode does. */
#define RXSEC_DS_ECN	(1u << 0)	/* outer CE marks an ECN-capable inner packet CE */
#define RXSEC_DS_DSCP	(1u << 1)	/* outer DSCP replaces the inner one (decap-dscp) */

struct rxsec_sa {
	/* read by engines on every packet */
	uint32_t id;			/* slot */
	uint32_t handle;		/* generation << RXSEC_SA_SLOT_BITS | slot */
	uint32_t spi;			/* host order */
	uint8_t proto;
	uint8_t mode;			/* enum rxsec_sa_mode */
	uint8_t esn;
	uint8_t offload;		/* inside the advertised capabilities */
	uint8_t iv_len;
	uint8_t icv_len;
	uint8_t icv_full_len;		/* AH: the untruncated digest, bytes */
	uint8_t block_len;
	uint8_t transport_id;		/* RXSEC_TRANSPORT_UNSET: rxsec_sa_owner() */
	uint8_t has_hard_limit;
	uint8_t auth_failed_status;	/* CryptoStatus for an ICV failure */
	uint8_t sel_check;		/* a selector narrower than "any" (selector.h) */
	uint8_t ds_mode;		/* tunnel decap: RXSEC_DS_* */
	uint8_t udp_encap;		/* encap espinudp: takes ESP in UDP only */
	uint8_t inner_nh;		/* tunnel: the inner IP version its selector's
					 * family allows (4 or 41), 0 = either */
	uint32_t window;
	struct rxsec_crypto_sa *csa;
	uint64_t packet_hard, byte_hard;
	uint64_t packet_soft, byte_soft;

	/* lifetime accounting, written by the SA's transport stage once the
	 * window moved (only SAs with limits pay for it; lifetime.h) */
	uint64_t life_packets __rte_cache_aligned;
	uint64_t life_bytes;

	/* Owned by the SA's transport stage. A delivered packet writes this
	 * line only: its counters, the window's head and first buckets. */
	uint64_t delivered __rte_cache_aligned;
	uint64_t delivered_bytes;
	struct rxsec_replay replay;
	uint64_t drops[RXSEC_REASON_MAX];	/* by reason; [OK] stays 0 */
	uint8_t deleted;
	uint8_t soft_expired;
	uint8_t by_control;		/* added over the control socket, not from a file */

	/* control plane (main lcore): lifetimes in seconds, NDIS UPDATE_SA */
	uint64_t add_time;		/* rte_get_timer_cycles() when added */
	uint64_t first_use;		/* first time packets were seen, 0 = unused */
	uint64_t esn_hi_req;		/* (1 << 32 | hi) while an update is pending */
	uint8_t hard_expired;
	uint16_t natt_port;		/* an encap port it holds (natt_ports.h), 0 if none */

	struct rxsec_sa_config cfg;
	struct rxsec_sa_key key;
};

/*
 * An SA that may not nest with another has no stage until its first packet:
 * the engine that receives it claims its own lcore's stage, so that with
 * RSS keeping an SA on one queue its packets never cross lcores. One atomic
 * claim, never changed after: the window keeps one writer, and an SA's
 * packets keep their order. The loser of a race takes the winner's stage.
 */
#define RXSEC_TRANSPORT_UNSET	UINT8_MAX

static inline uint8_t
rxsec_sa_owner(struct rxsec_sa *sa, uint8_t want)
{
	uint8_t cur = __atomic_load_n(&sa->transport_id, __ATOMIC_RELAXED);

	if (likely(cur != RXSEC_TRANSPORT_UNSET))
		return cur;
	if (__atomic_compare_exchange_n(&sa->transport_id, &cur, want, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return want;
	return cur;
}

#endif /* RXSEC_SA_H */
