/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Datagrams whose first fragment alone says whether they are IPsec. ESP
 * in UDP (RFC 3948): only the first fragment carries the UDP header that
 * says "NAT-T port, ESP", later ones look like any UDP fragment. IPv6 with
 * a destination options header first in the fragmentable part (RFC 8200
 * 4.5): the fragment header of every fragment names that header, and only
 * the first fragment shows ESP or AH behind it. Reassembly remembers what
 * each such datagram's first fragment said, so that later fragments of an
 * IPsec datagram join it while those of any other are delivered unchanged.
 *
 * A later fragment that arrives before its first one cannot be told apart
 * yet: it is delivered unchanged, as any fragment of a datagram that is
 * not IPsec, and a copy of it waits here ("early"). If the first fragment
 * then says IPsec, the copies join the datagram, as Linux reassembles
 * before it reads what the datagram carries; if it says anything else, or
 * never comes, the copies are freed. Holding the fragment itself back
 * would lose it whenever the datagram is not IPsec: it could only leave
 * later, out of receive order and without a verdict of its own.
 */
#ifndef RXSEC_NATT_FRAGS_H
#define RXSEC_NATT_FRAGS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ip_frag.h>
#include <rte_mbuf.h>

/* A datagram: family, addresses and identification (RFC 791, RFC 8200 4.5). */
struct rxsec_natt_dgram {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint32_t family;
};

/* What such a datagram's first fragment said. */
enum rxsec_natt_kind {
	RXSEC_NATT_UNKNOWN = 0,	/* not seen, expired or forgotten */
	RXSEC_NATT_PLAIN,	/* not IPsec */
	RXSEC_NATT_IPSEC,	/* ESP in UDP, or ESP/AH behind destination options */
};

/* Copies a datagram may wait with: all its fragments but the first. */
#define RXSEC_NATT_EARLY_PER_DGRAM	(RTE_LIBRTE_IP_FRAG_MAX_FRAG - 1)

struct rxsec_natt_frags {
	struct rxsec_natt_slot *slot;
	uint32_t mask;
	struct rxsec_natt_early *early;	/* datagrams with early copies */
	uint32_t nb_early;		/* entries in early[] */
	uint32_t early_used;		/* of them in use */
	uint64_t *early_freed;		/* the owner's counter of copies freed unused */
};

/* Datagrams waiting with early copies, for a table of `datagrams`. */
uint32_t rxsec_natt_frags_early_dgrams(uint32_t datagrams);

/* Room for about `datagrams` at once; copies freed unused count into
 * *early_freed. */
int rxsec_natt_frags_init(struct rxsec_natt_frags *s, uint32_t datagrams, int socket,
			  uint64_t *early_freed);
/* Frees every copy still waiting too (counted). */
void rxsec_natt_frags_free(struct rxsec_natt_frags *s);

/* Its first fragment said `kind` (TSC now); forget it after `expire`.
 * When its slots are taken, the entry closest to expiring makes room; a
 * PLAIN entry never takes the place of an IPSEC one. */
void rxsec_natt_frags_remember(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
			       enum rxsec_natt_kind kind, uint64_t now, uint64_t expire);

/* What its first fragment said, if remembered and not expired by `now`. */
enum rxsec_natt_kind rxsec_natt_frags_kind(const struct rxsec_natt_frags *s,
					   const struct rxsec_natt_dgram *d, uint64_t now);

/* The datagram is complete (or gone). */
void rxsec_natt_frags_forget(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d);

/* Keep `copy`, a later fragment of d seen before d's first one, until
 * `expire`. Takes the copy; false if there was no room (it is freed and
 * counted). The datagram waiting longest makes room for a new one. */
bool rxsec_natt_frags_keep_early(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
				 struct rte_mbuf *copy, uint64_t now, uint64_t expire);

/* d's first fragment came: hand over its copies (not expired by `now`)
 * into out[RXSEC_NATT_EARLY_PER_DGRAM]; returns how many. Expired ones
 * are freed and counted. */
uint32_t rxsec_natt_frags_take_early(struct rxsec_natt_frags *s,
				     const struct rxsec_natt_dgram *d, uint64_t now,
				     struct rte_mbuf **out);

/* Free n copies that will not join a datagram (counted). */
void rxsec_natt_frags_discard(struct rxsec_natt_frags *s, struct rte_mbuf **c, uint32_t n);

/* Free the copies of datagrams whose first fragment did not come by `now`. */
void rxsec_natt_frags_expire_early(struct rxsec_natt_frags *s, uint64_t now);

#endif /* RXSEC_NATT_FRAGS_H */
