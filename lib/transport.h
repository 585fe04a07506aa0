/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The transport stage (spec section 4): read each packet's result record,
 * run the software path for packets the engine left unprocessed, check and
 * move the replay window, decapsulate and deliver, or drop and count why.
 */
#ifndef RXSEC_TRANSPORT_H
#define RXSEC_TRANSPORT_H

#include <stdio.h>
#include <stdint.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "ipsec_inb.h"
#include "reason.h"
#include "reassembly.h"
#include "sa_table.h"
#include "stage_cycles.h"

struct rxsec_transport_stats {
	uint64_t rx;
	uint64_t delivered;
	uint64_t delivered_bytes;
	uint64_t software;		/* decrypted here, outside the capabilities */
	uint64_t reason[RXSEC_REASON_MAX];
	uint64_t sa_deleted;
	uint64_t soft_expired;
	uint64_t handed_over;		/* reassembled for another transport's SA */
	uint64_t nested_handed;		/* first layer done, second to its SA's stage */
	struct rxsec_reassembly_stats frag;	/* written by this stage's reasm */
	struct rxsec_stage_cycles cyc;	/* --stage-cycles */
};

struct rxsec_transport {
	uint16_t id;
	uint16_t tx_port;
	uint16_t tx_queue;
	struct rte_ring *ring;
	struct rxsec_sa_table *sat;
	rte_spinlock_t *sat_lock;	/* serialises SA table writers */
	const struct rxsec_crypto_driver *drv;
	void *cctx;
	FILE *verdicts;			/* JSON Lines, or NULL */
	bool stage_cycles;		/* count cycles by stage (stage_cycles.h) */
	uint64_t stage_tsc;		/* this burst's last stage end */
	struct rxsec_transport_stats stats;
	/* The fragments of a datagram come to the stage its identity hashes
	 * to (they carry no SPI): a datagram whose SA another transport owns
	 * goes to that one's ring. */
	struct rte_ring *const *rings;	/* every transport's, by id */
	uint16_t nb_rings;
	struct rxsec_reassembly reasm;	/* reasm.tbl NULL: fragments dropped */
};

/* Packets dropped: neither delivered nor held for reassembly. */
static inline uint64_t
rxsec_transport_dropped(const struct rxsec_transport_stats *s)
{
	return s->rx - s->delivered - s->reason[RXSEC_REASON_REASSEMBLY];
}

/* Add one transport stage's counters to a sum. */
void rxsec_transport_stats_add(struct rxsec_transport_stats *sum,
			       const struct rxsec_transport_stats *s);

/* Dequeue one burst and handle it; returns the number of packets handled. */
uint16_t rxsec_transport_poll(struct rxsec_transport *t);

/* Handle packets already dequeued (also used by tests). */
void rxsec_transport_process(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n);

/* At exit: discard the fragments still waiting for reassembly, counted. */
void rxsec_transport_flush_fragments(struct rxsec_transport *t);

#endif /* RXSEC_TRANSPORT_H */
