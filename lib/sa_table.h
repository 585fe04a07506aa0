/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The inbound SA database: an rte_hash from (SPI, destination, protocol) to
 * the live SA, plus a slot array so packets can carry a small SA handle.
 *
 * Engines and transports read without locks (rte_hash lock-free RW
 * concurrency); writers (control plane, SaDeleteReq) are serialised by the
 * caller. A removed SA is reclaimed with rte_rcu QSBR: its memory, hash key
 * slot and SA slot are reused only after every reader lcore reported a
 * quiescent state. Packets still queued carry a handle whose generation no
 * longer matches, so they see no SA.
 */
#ifndef RXSEC_SA_TABLE_H
#define RXSEC_SA_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "pkt_meta.h"
#include "sa.h"

struct rte_hash;
struct rxsec_caps;

/* Deleted SAs kept (keys wiped) for their counters, most recent last. */
#define RXSEC_SA_GONE_MAX	1024u

#define RXSEC_SA_TABLE_TRANSPORTS_MAX	64u

struct rxsec_sa_pending {
	struct rxsec_sa *sa;
	uint64_t token;		/* rte_rcu_qsbr_start() at removal */
	int32_t key_pos;	/* hash key slot to free after the grace period */
};

struct rxsec_sa_table {
	struct rte_hash *hash;
	struct rxsec_sa **slot;		/* by SA id; NULL when free or pending */
	uint8_t *slot_busy;		/* live or awaiting its grace period */
	uint8_t *slot_gen;		/* generation of each slot's current SA */
	struct rxsec_sa **gone;		/* retired SAs, counters only (ring) */
	struct rxsec_sa_pending *pending;
	struct rte_rcu_qsbr *qsbr;
	uint32_t capacity;
	int socket;			/* SAs are allocated here first */
	uint32_t count;
	uint32_t nb_gone;		/* entries used in gone[] */
	uint32_t gone_next;		/* next gone[] entry to overwrite */
	uint32_t nb_pending;
	uint32_t next_slot;		/* round robin: slots are reused last */
	uint32_t life_cursor;		/* next slot the lifetime sweep checks */
	uint64_t life_scan_time;	/* timer value of the sweep's last call */
	uint32_t nb_transports;		/* transport_id = id % nb_transports, */
	int32_t nest_transport;		/* or this one for SAs that may nest (-1: none), */
	bool claim_on_rx;		/* or, instead of by id, claimed (rxsec_sa_owner) */
	uint32_t remove_epoch;		/* bumped as an SA leaves lookups: caches start over */
	uint64_t esn_req_seq;		/* bumped when an UPDATE_SA is queued */
	uint64_t esn_seen[RXSEC_SA_TABLE_TRANSPORTS_MAX];	/* per transport */
	uint64_t esn_reverified;	/* packets saved by ESN re-verification */
	uint64_t added, removed, reclaimed;
	const struct rxsec_crypto_driver *drv;
	const struct rxsec_caps *caps;	/* decides sa->offload when set */
};

int rxsec_sa_table_create(struct rxsec_sa_table *t, const char *name,
			  uint32_t capacity, int socket,
			  const struct rxsec_crypto_driver *drv);
void rxsec_sa_table_free(struct rxsec_sa_table *t);

/* Build the key of a configured SA (an outbound one's marked: sa.h). */
void rxsec_sa_key_from_config(struct rxsec_sa_key *k, const struct rxsec_sa_config *c);

/*
 * Give every SA its transport stage (the one writer of its window) once the
 * SA files are loaded: SAs that may nest with one another (a transport-mode
 * SA and a tunnel whose selector takes its destination, or transport-mode
 * AH and ESP to one address) share stage 0; the others spread by slot, or
 * with claim_on_rx are left for the engine that first receives them to
 * claim (rxsec_sa_owner). Returns how many share stage 0. An SA added
 * later that may nest with one in the table joins that stage, or that SA's
 * if none shares one yet (rxsec_sa_table_add).
 */
uint32_t rxsec_sa_table_assign_transports(struct rxsec_sa_table *t, uint32_t nb_transports);

/* The SA's stage; one no packet claimed yet is given its slot's (control
 * plane: a window needs an owner to apply an update). */
uint8_t rxsec_sa_table_pin(const struct rxsec_sa_table *t, struct rxsec_sa *sa);

/* Add a configured SA; returns its id (slot), or -1 with a reason in err. */
int rxsec_sa_table_add(struct rxsec_sa_table *t, const struct rxsec_sa_config *c,
		       char *err, size_t errlen);

/* Remove an SA from lookups; it is freed by rxsec_sa_table_reclaim() once
 * every reader passed a quiescent state. NULL if the id is free. */
struct rxsec_sa *rxsec_sa_table_remove(struct rxsec_sa_table *t, uint32_t id);
void rxsec_sa_destroy(struct rxsec_sa_table *t, struct rxsec_sa *sa);

/* Free what no reader can still see; returns how many SAs were reclaimed. */
unsigned int rxsec_sa_table_reclaim(struct rxsec_sa_table *t);

/* Find by key (control plane), an outbound SA too. */
struct rxsec_sa *rxsec_sa_table_find(const struct rxsec_sa_table *t,
				     const struct rxsec_sa_key *k);

/* Find the outbound SA paired with sa: same reqid, swapped addresses. */
struct rxsec_sa *rxsec_sa_table_find_pair(const struct rxsec_sa_table *t,
					  const struct rxsec_sa *sa);

/* Bulk lookup of n <= 64 keys; sas[i] NULL on a miss. */
void rxsec_sa_table_lookup_bulk(const struct rxsec_sa_table *t,
				const struct rxsec_sa_key **keys, uint32_t n,
				struct rxsec_sa **sas);

/* Reader lcores (engines, transports): register once, then report a
 * quiescent state once per loop, when they hold no SA pointer. */
int rxsec_sa_table_reader_register(struct rxsec_sa_table *t, unsigned int lcore);
void rxsec_sa_table_reader_unregister(struct rxsec_sa_table *t, unsigned int lcore);

static inline void
rxsec_sa_table_quiescent(struct rxsec_sa_table *t, unsigned int lcore)
{
	rte_rcu_qsbr_quiescent(t->qsbr, lcore);
}

/* Whatever SA holds the slot a handle names, without checking that it is
 * still the same SA (for prefetching: reads no SA line). */
static inline struct rxsec_sa *
rxsec_sa_table_slot(const struct rxsec_sa_table *t, uint32_t handle)
{
	uint32_t id = handle & RXSEC_SA_SLOT_MASK;

	if (handle == RXSEC_SA_NONE || id >= t->capacity)
		return NULL;
	return __atomic_load_n(&t->slot[id], __ATOMIC_ACQUIRE);
}

/* The SA a packet's handle names, or NULL if it was deleted meanwhile. */
static inline struct rxsec_sa *
rxsec_sa_table_get(const struct rxsec_sa_table *t, uint32_t handle)
{
	struct rxsec_sa *sa = rxsec_sa_table_slot(t, handle);

	return sa != NULL && sa->handle == handle ? sa : NULL;
}

#endif /* RXSEC_SA_TABLE_H */
