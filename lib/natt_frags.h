/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fragmented ESP in UDP (RFC 3948). Only a datagram's first fragment
 * carries the UDP header that says "NAT-T port, ESP": its later fragments
 * look like any UDP fragment. Reassembly remembers which datagrams began
 * as ESP in UDP, so that their later fragments join them while every other
 * UDP fragment is delivered unchanged. A later fragment that arrives
 * before its first one cannot be told apart and is delivered unchanged.
 */
#ifndef RXSEC_NATT_FRAGS_H
#define RXSEC_NATT_FRAGS_H

#include <stdbool.h>
#include <stdint.h>

/* A datagram: family, addresses and identification (RFC 791, RFC 8200 4.5). */
struct rxsec_natt_dgram {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint32_t family;
};

struct rxsec_natt_frags {
	struct rxsec_natt_slot *slot;
	uint32_t mask;
};

/* Room for about `datagrams` at once. */
int rxsec_natt_frags_init(struct rxsec_natt_frags *s, uint32_t datagrams, int socket);
void rxsec_natt_frags_free(struct rxsec_natt_frags *s);

/* Its first fragment was ESP in UDP (TSC now); forget it after `expire`.
 * When its slots are taken, the entry closest to expiring makes room. */
void rxsec_natt_frags_remember(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
			       uint64_t now, uint64_t expire);

/* Was it remembered, and not expired by `now`? */
bool rxsec_natt_frags_known(const struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d,
			    uint64_t now);

/* The datagram is complete (or gone). */
void rxsec_natt_frags_forget(struct rxsec_natt_frags *s, const struct rxsec_natt_dgram *d);

#endif /* RXSEC_NATT_FRAGS_H */
