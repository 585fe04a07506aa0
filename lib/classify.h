/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Frame classification for the engine: Ethernet (one optional VLAN tag),
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

#endif /* RXSEC_CLASSIFY_H */
