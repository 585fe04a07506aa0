/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ESP inbound (RFC 4303): layout checks before the crypto, trailer checks
 * after it. Used by the engine and by the transport's software path;
 * inline, as they run for every packet.
 */
#ifndef RXSEC_ESP_INB_H
#define RXSEC_ESP_INB_H

#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "pkt_meta.h"
#include "replay.h"
#include "rxsec_crypto.h"
#include "rxsec_result.h"
#include "sa.h"

#define RXSEC_ESP_HDR_LEN	8
#define RXSEC_ESP_TRAILER_LEN	2	/* pad length, next header */
#define RXSEC_NH_IPV4		4
#define RXSEC_NH_IPV6		41
#define RXSEC_NH_NONE		59	/* RFC 4303 2.6 dummy packet */

/* Linux decapsulates a tunnel in the mode of its selector's family: an
 * inner packet of the other IP version fails there (XfrmInStateModeError),
 * and a layer inside it is never seen. A TFC dummy has no inner packet. */
static inline bool
rxsec_sa_refuses_inner(const struct rxsec_sa *sa, uint8_t next_proto)
{
	return sa->inner_nh != 0 && next_proto != sa->inner_nh && next_proto != RXSEC_NH_NONE;
}

/* Check lengths against the SA, infer ESN high bits, fill the crypto job. */
static inline enum rxsec_crypto_status
rxsec_esp_inb_prepare(struct rte_mbuf *m, struct rxsec_pkt_meta *md,
		      const struct rxsec_sa *sa, struct rxsec_crypto_op *op)
{
	uint8_t *esp = rte_pktmbuf_mtod_offset(m, uint8_t *, md->ipsec_off);
	uint32_t len = md->ip_end - md->ipsec_off;
	uint32_t fixed = RXSEC_ESP_HDR_LEN + sa->iv_len + sa->icv_len;
	uint32_t ct_len, seq;

	/* RFC 4303 2: header, IV, at least the trailer, ICV; cipher-aligned. */
	if (len < fixed + RXSEC_ESP_TRAILER_LEN)
		return RXSEC_CRYPTO_INVALID_PACKET_SYNTAX;
	ct_len = len - fixed;
	if ((ct_len & (sa->block_len - 1u)) != 0)	/* a power of two */
		return RXSEC_CRYPTO_INVALID_PACKET_SYNTAX;

	seq = rxsec_rd_be32(esp + 4);
	md->seq_hi = sa->esn ?
		rxsec_esn_infer_hi(rxsec_replay_top(&sa->replay), sa->window, seq) : 0;
	op->csa = sa->csa;
	op->data = esp;
	op->len = len;
	op->seq_hi = md->seq_hi;
	op->icv = NULL;
	op->result = RXSEC_CRYPTO_ERROR;
	return RXSEC_CRYPTO_SUCCESS;
}

/* RFC 4303 2.4: pad bytes are 1, 2, 3, ... when the default scheme is used.
 * Pads of up to 8 bytes (all but deliberate padding) are checked with one
 * load when 8 bytes precede the trailer: the word ending at the pad's end
 * must hold 1, 2, ..., pad_len in its top pad_len bytes. A table gives the
 * mask and the expected bytes: a shift by a variable count cost more. */
static inline int
esp_pad_valid(const uint8_t *pad, uint32_t pad_len, uint32_t room)
{
	static const uint64_t top[9] = {
		0, 0xff00000000000000ull, 0xffff000000000000ull, 0xffffff0000000000ull,
		0xffffffff00000000ull, 0xffffffffff000000ull, 0xffffffffffff0000ull,
		0xffffffffffffff00ull, 0xffffffffffffffffull,
	};
	/* 1, 2, ..., k in the top k bytes */
	static const uint64_t seq[9] = {
		0x0000000000000000ull,
		0x0100000000000000ull,
		0x0201000000000000ull,
		0x0302010000000000ull,
		0x0403020100000000ull,
		0x0504030201000000ull,
		0x0605040302010000ull,
		0x0706050403020100ull,
		0x0807060504030201ull,
	};

	if (pad_len <= 8 && room >= 8) {
		uint64_t w;

		memcpy(&w, pad + pad_len - 8, 8);
		w = rte_le_to_cpu_64(w);
		return (w & top[pad_len]) == seq[pad_len];
	}
	for (uint32_t i = 0; i < pad_len; i++)
		if (pad[i] != (uint8_t)(i + 1))
			return 0;
	return 1;
}

static inline int
esp_next_header_valid(const struct rxsec_sa *sa, uint8_t nh)
{
	if (nh == RXSEC_NH_NONE)
		return 1;
	if (sa->mode == RXSEC_MODE_TUNNEL)
		return nh == RXSEC_NH_IPV4 || nh == RXSEC_NH_IPV6;
	return nh != 0;	/* hop-by-hop options can only follow an IPv6 header */
}

/* Tunnel mode: the plaintext starts with a whole IP header of the version
 * the next header announces (4 or 41), and its length fits in len. */
static inline int
rxsec_inner_ip_valid(const uint8_t *p, uint32_t len, uint8_t nh)
{
	if (nh == RXSEC_NH_IPV4) {
		if (len < 20 || (p[0] >> 4) != 4 || (p[0] & 0xf) < 5)
			return 0;
		uint32_t tot = (uint32_t)p[2] << 8 | p[3];
		return tot >= (p[0] & 0xfu) * 4 && tot <= len;
	}
	if (nh == RXSEC_NH_IPV6) {
		if (len < 40 || (p[0] >> 4) != 6)
			return 0;
		return 40u + ((uint32_t)p[4] << 8 | p[5]) <= len;
	}
	return 1;
}

/* After a verified decryption: pad, pad length and next header checks. */
static inline enum rxsec_crypto_status
rxsec_esp_inb_finish(struct rte_mbuf *m, struct rxsec_pkt_meta *md,
		     const struct rxsec_sa *sa)
{
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t pl_off = md->ipsec_off + RXSEC_ESP_HDR_LEN + sa->iv_len;
	uint32_t tr_off = md->ip_end - sa->icv_len - RXSEC_ESP_TRAILER_LEN;
	uint32_t pad_len = base[tr_off];
	uint8_t nh = base[tr_off + 1];

	if (pad_len > tr_off - pl_off)
		return RXSEC_CRYPTO_INVALID_PACKET_SYNTAX;
	if (!esp_pad_valid(base + tr_off - pad_len, pad_len, tr_off))
		return RXSEC_CRYPTO_INVALID_PACKET_SYNTAX;
	if (!esp_next_header_valid(sa, nh))
		return RXSEC_CRYPTO_INVALID_PROTOCOL;
	md->payload_off = (uint16_t)pl_off;
	md->payload_end = (uint16_t)(tr_off - pad_len);
	md->next_proto = nh;
	if (sa->mode == RXSEC_MODE_TUNNEL &&
	    !rxsec_inner_ip_valid(base + pl_off, md->payload_end - pl_off, nh))
		return RXSEC_CRYPTO_INVALID_PACKET_SYNTAX;
	return RXSEC_CRYPTO_SUCCESS;
}

#endif /* RXSEC_ESP_INB_H */
