/* SPDX-License-Identifier: BSD-3-Clause
 *
 * IP reassembly of fragmented ESP and AH datagrams for the transport stage.
 * The engine never offloads a fragment (spec section 3, rule 4); a receiver
 * reassembles before IPsec processing (RFC 4303 3.4.1, RFC 4302 3.4.1) and
 * then runs the datagram through the software path like any other packet
 * the engine left unprocessed. Built on DPDK's librte_ip_frag; one table per
 * transport stage, so no locks: the engines send every fragment of a
 * datagram to the one stage a hash of its identity picks.
 */
#ifndef RXSEC_REASSEMBLY_H
#define RXSEC_REASSEMBLY_H

#include <stdint.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "natt_frags.h"
#include "sa_table.h"

/* Fragments one datagram may have (DPDK's build-time limit). */
#define RXSEC_FRAGS_PER_DATAGRAM	RTE_LIBRTE_IP_FRAG_MAX_FRAG

struct rxsec_reassembly_stats {
	uint64_t held;		/* fragments taken in, the completing ones excepted */
	uint64_t datagrams;	/* datagrams completed */
	uint64_t discarded;	/* fragments freed incomplete: expired, invalid, no room */
	uint64_t waiting;	/* fragments in the table now */
	/* Copies of later fragments that came before their first one
	 * (natt_frags.h): kept, joined to an IPsec datagram, freed unused. */
	uint64_t early;
	uint64_t early_joined;
	uint64_t early_dropped;
};

struct rxsec_reassembly {
	struct rte_ip_frag_tbl *tbl;
	struct rte_mempool *big;	/* datagrams longer than one mbuf */
	uint64_t timeout;		/* TSC cycles */
	uint64_t last_expire;
	struct rxsec_reassembly_stats *stats;	/* the owner's, read where it reads the rest */
	struct rxsec_natt_frags natt;	/* what first fragments said (natt_frags.h) */
	struct rte_ip_frag_death_row dr;
};

/* Fragments, and copies of early ones, a table for `flows` may hold. */
uint32_t rxsec_reassembly_mbufs_max(uint32_t flows);

/* One stage's table when `flows` (--frag-flows) is the total over
 * `stages`: its share, rounded up, so that every stage has one. */
uint32_t rxsec_reassembly_stage_flows(uint32_t flows, uint32_t stages);

/*
 * The stage, of nb_stages, that reassembles the datagram fragment m (flag
 * RXSEC_PKT_F_FRAGMENT, classified) belongs to: a hash of what every one
 * of its fragments carries, IPv4 source, destination, protocol and
 * identification (RFC 791), IPv6 source, destination and the fragment
 * header's identification (RFC 8200 4.5). Whatever a fragment header names
 * (ESP, UDP, destination options), first fragment or later, they agree.
 */
uint16_t rxsec_reassembly_stage_of(struct rte_mbuf *m, uint16_t nb_stages);

/* Fragments and early copies waiting. */
static inline uint64_t
rxsec_reassembly_pending(const struct rxsec_reassembly_stats *s)
{
	return s->waiting + s->early - s->early_joined - s->early_dropped;
}

/* A table for `flows` datagrams in progress, each given `timeout_ms`,
 * counting into *stats. */
int rxsec_reassembly_init(struct rxsec_reassembly *r, uint32_t flows, uint32_t timeout_ms,
			  struct rte_mempool *big, int socket,
			  struct rxsec_reassembly_stats *stats);

enum rxsec_reassembly_result {
	RXSEC_REASM_HELD,	/* m is in the table (or was discarded) */
	RXSEC_REASM_DONE,	/* m completed a datagram */
	RXSEC_REASM_REFUSED,	/* m stays as it is: a wrong IPv4 header
				 * checksum, or an IPv6 fragment header
				 * behind more extension headers than
				 * RXSEC_IPV6_UNFRAG_MAX bytes */
	RXSEC_REASM_PASS,	/* m stays as it is: a fragment of a UDP (or
				 * IPv6 destination options) datagram that
				 * did not begin as IPsec here, not IPsec as
				 * far as rxsec can tell (a later one ahead of
				 * its first is kept as a copy too, in case
				 * the first says IPsec) */
};

/*
 * Take fragment m (kind RXSEC_PKT_FRAGMENT, or RXSEC_PKT_UDP_FRAGMENT, which
 * becomes a FRAGMENT when its datagram began as IPsec and PASSes
 * otherwise). When it completes
 * a datagram, *out is the whole datagram as one segment, classified again
 * with its lookup key in *key, result record zeroed, receive index m's; a
 * datagram longer than RXSEC_FRAME_MAX stays a chain (kind MALFORMED,
 * RXSEC_PKT_F_TOO_LONG).
 */
enum rxsec_reassembly_result rxsec_reassembly_add(struct rxsec_reassembly *r,
						  struct rte_mbuf *m, uint64_t now,
						  struct rte_mbuf **out,
						  struct rxsec_sa_key *key);

/* Free what the table gave up on since the last call. */
void rxsec_reassembly_collect(struct rxsec_reassembly *r);

/* Give up on datagrams older than the timeout. */
void rxsec_reassembly_expire(struct rxsec_reassembly *r, uint64_t now);

/* Discard everything still held (at exit) and free the table. */
void rxsec_reassembly_free(struct rxsec_reassembly *r);

#endif /* RXSEC_REASSEMBLY_H */
