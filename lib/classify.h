/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Frame classification for the engine: Ethernet (up to two VLAN tags),
 * IPv4/IPv6, ESP, AH and UDP-encapsulated ESP (RFC 3948).
 */
#ifndef RXSEC_CLASSIFY_H
#define RXSEC_CLASSIFY_H

#include <stdint.h>

#include "pkt_meta.h"
#include "sa.h"

#define RXSEC_IKE_NATT_PORT	4500	/* RFC 3948 */

/*
 * Parse one frame of len bytes. Fills meta (offsets, kind, flags, spi) and,
 * for ESP/AH, the SA lookup key. Never reads past len.
 */
enum rxsec_pkt_kind rxsec_classify(const uint8_t *frame, uint32_t len,
				   struct rxsec_pkt_meta *meta,
				   struct rxsec_sa_key *key);

/*
 * After the first layer verified: is there a second IPsec layer (spec
 * section 3, rule 5)? A tunnel SA's inner IP packet carrying ESP/AH, or AH
 * directly followed by ESP under one IP header. Fills the inner meta
 * (absolute offsets in the frame) and its lookup key.
 */
enum rxsec_pkt_nest rxsec_classify_inner(const uint8_t *frame,
					 const struct rxsec_pkt_meta *outer,
					 uint8_t outer_mode,
					 struct rxsec_pkt_meta *inner,
					 struct rxsec_sa_key *key);

#endif /* RXSEC_CLASSIFY_H */
