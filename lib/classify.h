/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Frame classification for the engine: Ethernet (up to two VLAN tags),
 * IPv4/IPv6, ESP, AH and UDP-encapsulated ESP (RFC 3948).
 */
#ifndef RXSEC_CLASSIFY_H
#define RXSEC_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "natt_ports.h"
#include "pkt_meta.h"
#include "sa.h"

/*
 * Parse one frame of len bytes. Fills meta (offsets, kind, flags, spi) and,
 * for ESP/AH, the SA lookup key. Never reads past len. Every frame shape;
 * rxsec_classify() below is the same with the common one inlined.
 */
enum rxsec_pkt_kind rxsec_classify_frame(const uint8_t *frame, uint32_t len,
					 struct rxsec_pkt_meta *meta,
					 struct rxsec_sa_key *key);

/* The UDP checksum of the ESP-in-UDP datagram meta describes: true when
 * there is none to verify (no RXSEC_PKT_F_UDP_CSUM) or it sums to all ones. */
bool rxsec_udp_cksum_ok(const uint8_t *frame, const struct rxsec_pkt_meta *meta);

/* The key's first word: SPI, protocol, family, zero (little endian host). */
static inline void
rxsec_key_set_head(struct rxsec_sa_key *key, const uint8_t *spi, uint8_t proto,
		   uint8_t family)
{
	uint32_t s;
	uint64_t w;

	RTE_BUILD_BUG_ON(offsetof(struct rxsec_sa_key, proto) != 4 ||
			 offsetof(struct rxsec_sa_key, family) != 5 ||
			 offsetof(struct rxsec_sa_key, dst) != 8);
	memcpy(&s, spi, 4);
	w = (uint64_t)s | (uint64_t)proto << 32 | (uint64_t)family << 40;
	memcpy(key, &w, 8);
}

static inline void
rxsec_key_set_dst4(struct rxsec_sa_key *key, const void *addr)
{
	uint32_t a;
	uint64_t w, zero = 0;

	memcpy(&a, addr, 4);
	w = a;
	memcpy(key->dst, &w, 8);
	memcpy(key->dst + 8, &zero, 8);
	key->pad = 0;
}

/*
 * rxsec_classify_frame() with the common frame handled inline: untagged
 * IPv4 without options or fragmentation, carrying an ESP header whose SPI
 * lies inside the datagram. Writes exactly the fields the full parser
 * writes (tests/unit/test_classify.c compares the two).
 */
static inline enum rxsec_pkt_kind
rxsec_classify(const uint8_t *f, uint32_t len, struct rxsec_pkt_meta *meta,
	       struct rxsec_sa_key *key)
{
	const uint32_t l3 = 14, esp = l3 + 20;

	if (likely(len >= esp + 4) && f[12] == 0x08 && f[13] == 0x00 &&
	    f[l3] == 0x45 && f[l3 + 9] == RXSEC_PROTO_ESP &&
	    (f[l3 + 6] & 0x3f) == 0 && f[l3 + 7] == 0) {	/* MF, offset */
		uint32_t tot = (uint32_t)f[l3 + 2] << 8 | f[l3 + 3];

		if (likely(tot >= esp + 4 - l3 && l3 + tot <= len)) {
			meta->sa_id = RXSEC_SA_NONE;
			meta->seq_hi = 0;
			meta->l3_off = l3;
			meta->ipsec_off = esp;
			meta->ip_end = (uint16_t)(l3 + tot);
			meta->nh_off = l3 + 9;
			meta->kind = RXSEC_PKT_ESP;
			meta->flags = 0;
			meta->ip_sum_ok = rxsec_ipv4_sum_ok(f + l3, 20);
			rxsec_key_set_dst4(key, f + l3 + 16);
			rxsec_key_set_head(key, f + esp, RXSEC_PROTO_ESP, 4);
			return RXSEC_PKT_ESP;
		}
	}
	return rxsec_classify_frame(f, len, meta, key);
}

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
