/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The offload engine ("the NIC", spec section 3): receive a burst, classify,
 * look up SAs in bulk, decrypt/verify, write the result record, and hand
 * every packet to its transport stage. The engine never drops.
 */
#ifndef RXSEC_ENGINE_H
#define RXSEC_ENGINE_H

#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ipsec_inb.h"
#include "rxsec_crypto.h"
#include "sa_table.h"
#include "stage_cycles.h"

#define RXSEC_TRANSPORT_MAX	16

/* Per-engine SA cache: two ways per set, a set per cache line, sets chosen
 * by SPI. Two ways, because IKE picks SPIs at random: 1024 random SPIs in a
 * direct-mapped cache of 2048 entries missed on 21% of packets. */
#define RXSEC_ENGINE_SA_CACHE_SETS	2048
#define RXSEC_ENGINE_SA_CACHE_WAYS	2

struct rxsec_sa_cache_way {
	/* The lookup key but its last 8 bytes, which are always zero. */
	uint64_t key[3];
	uint32_t handle;		/* checked against the table on every hit */
	uint32_t epoch;			/* the table's remove_epoch when cached */
};

struct rxsec_sa_cache_set {
	struct rxsec_sa_cache_way way[RXSEC_ENGINE_SA_CACHE_WAYS];	/* [0]: newest */
} __rte_cache_aligned;

struct rxsec_engine_stats {
	uint64_t rx;
	uint64_t unprocessed;		/* indicated with CryptoDone=0 */
	uint64_t crypto_done;
	uint64_t status[RXSEC_CRYPTO_STATUS_MAX];
	uint64_t sa_delete_req;
	uint64_t ring_full;		/* enqueue retries (back-pressure) */
	struct rxsec_stage_cycles cyc;	/* --stage-cycles */
};

#define RXSEC_ENGINE_NO_HOME	UINT16_MAX	/* no stage on its lcore */

struct rxsec_engine {
	uint16_t port;
	uint16_t queue;
	uint8_t offload;		/* offload enabled on the port */
	uint8_t excluded_flags;		/* RXSEC_PKT_F_* outside the capabilities */
	bool stage_cycles;		/* count cycles by stage (stage_cycles.h) */
	uint16_t nb_rings;
	uint16_t home_ring;		/* the stage unclaimed SAs it receives get (sa.h) */
	/* Slots of each ring the engine leaves free for what one stage hands
	 * another (reassembled datagrams, nested packets' second layers),
	 * which cannot wait for room as the engine does. */
	uint16_t ring_reserve;
	struct rte_ring *ring[RXSEC_TRANSPORT_MAX];	/* one per transport stage */
	/* Run while a ring is full: the transport stages of the engine's own
	 * lcore. Another lcore's engine may fill the ring of one of them, which
	 * only this lcore drains; waiting with rte_pause() alone would then
	 * never end. NULL when the lcore runs no transport stage. */
	void (*ring_full_wait)(void *arg);
	void *ring_full_arg;
	struct rxsec_sa_table *sat;
	struct rte_mempool *big_pool;	/* for flattening chains; may be NULL */
	const struct rxsec_crypto_driver *drv;
	void *cctx;
	uint64_t *next_n;		/* shared receive index */
	uint32_t cache_handle;		/* one-entry SA cache; RXSEC_SA_NONE when empty */
	uint32_t cache_epoch;		/* remove_epoch both caches are valid for */
	struct rxsec_sa_key cache_key;
	struct rxsec_engine_stats stats;
	/* Zeroed entries never match: a packet's key has a family. An entry
	 * holds only while no SA was removed since it was cached: a handle's
	 * 8-bit generation alone could come round again on a reused slot. */
	struct rxsec_sa_cache_set sa_cache[RXSEC_ENGINE_SA_CACHE_SETS];
};

/* The ring_reserve for nb_rings rings of ring_size slots: a burst's room
 * per other stage, at most half a ring. */
static inline uint16_t
rxsec_engine_ring_reserve(unsigned int nb_rings, unsigned int ring_size)
{
	return (uint16_t)RTE_MIN(RXSEC_BURST_MAX * (nb_rings - 1), ring_size / 2);
}

/* Add one engine's counters to a sum (reports read them while engines run). */
void rxsec_engine_stats_add(struct rxsec_engine_stats *sum,
			    const struct rxsec_engine_stats *s);

/* Receive one burst and process it; returns the number of packets received. */
uint16_t rxsec_engine_poll(struct rxsec_engine *e);

/* Process packets already received (also used by tests). */
void rxsec_engine_process(struct rxsec_engine *e, struct rte_mbuf **pkts, uint16_t n);

#endif /* RXSEC_ENGINE_H */
