/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a packet's cycles go (--stage-cycles): each stage of a burst reads
 * the TSC when it ends, and the cycles since the previous read are that
 * stage's. A few reads per burst of up to 64 packets, only when asked for;
 * otherwise one predictable branch per stage and burst. Printed at exit
 * as cycles per packet, so they add up to the lcore's cost of a packet.
 */
#ifndef RXSEC_STAGE_CYCLES_H
#define RXSEC_STAGE_CYCLES_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>

enum rxsec_stage {
	/* the engine's, per packet received */
	RXSEC_STAGE_RX,			/* rte_eth_rx_burst */
	RXSEC_STAGE_CLASSIFY,		/* parse, one-entry SA cache, job set-up */
	RXSEC_STAGE_LOOKUP,		/* SA cache and rte_hash for the rest */
	RXSEC_STAGE_CRYPTO,		/* the crypto driver's burst */
	RXSEC_STAGE_CHECKS,		/* plaintext checks, result records */
	RXSEC_STAGE_ENQUEUE,		/* to the transports' rings */
	/* the transport's, per packet dequeued */
	RXSEC_STAGE_DECIDE,		/* replay, decapsulation, counters */
	RXSEC_STAGE_TX,			/* rte_eth_tx_burst and what it refused */
	RXSEC_STAGE_MAX
};

#define RXSEC_STAGE_FIRST_TRANSPORT	RXSEC_STAGE_DECIDE

struct rxsec_stage_cycles {
	uint64_t cycles[RXSEC_STAGE_MAX];
};

/* The TSC at a burst's start, or 0 when not counting. */
static __rte_always_inline uint64_t
rxsec_stage_start(bool on)
{
	return unlikely(on) ? rte_rdtsc() : 0;
}

/* Stage s ends now: its cycles since *t, and *t moves on. */
static __rte_always_inline void
rxsec_stage_end(bool on, struct rxsec_stage_cycles *c, enum rxsec_stage s, uint64_t *t)
{
	uint64_t now;

	if (likely(!on))
		return;
	now = rte_rdtsc();
	c->cycles[s] += now - *t;
	*t = now;
}

void rxsec_stage_cycles_add(struct rxsec_stage_cycles *sum, const struct rxsec_stage_cycles *c);

const char *rxsec_stage_name(enum rxsec_stage s);

#endif /* RXSEC_STAGE_CYCLES_H */
