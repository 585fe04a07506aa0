/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "ah_inb.h"
#include "esp_inb.h"

#define AH_FIXED_LEN	12
#define IPV6_SAVED	8	/* class, flow label, hop limit and what lies between */

static inline uint32_t
ah_len(const uint8_t *ah)
{
	return (ah[1] + 2u) * 4;	/* RFC 4302 2.2: 32-bit words minus 2 */
}

/* RFC 4302 2.2, 3.3.3.2.1: AH is its fixed part and the ICV, padded only
 * to 32 bits (IPv4) or 64 bits (IPv6). Linux's ah_input/ah6_input take the
 * SA's truncated ICV or the algorithm's whole digest (icv_full_len), padded
 * to 64 bits (IPv4 to 32 with flag align4); both paddings are taken over
 * IPv4, as RFC 4302 peers pad to 32. Any other length is refused before
 * the ICV, even when the ICV holds. */
static inline int
ah_len_ok(uint32_t len, const struct rxsec_sa *sa, bool v6)
{
	uint32_t trunc = AH_FIXED_LEN + sa->icv_len;
	uint32_t full = AH_FIXED_LEN + sa->icv_full_len;

	if (len == RTE_ALIGN_CEIL(trunc, 8) || len == RTE_ALIGN_CEIL(full, 8))
		return 1;
	return !v6 && (len == RTE_ALIGN_CEIL(trunc, 4) || len == RTE_ALIGN_CEIL(full, 4));
}

/* RFC 4302 A.1: options that do not change in transit stay in the ICV. */
static inline int
ipv4_opt_immutable(uint8_t type)
{
	return type == 0 || type == 1 || type == 130 || type == 133 ||
	       type == 134 || type == 148 || type == 149;
}

static int
ipv4_zero_opts(uint8_t *ip, uint32_t ihl)
{
	uint32_t off = 20;

	while (off < ihl) {
		uint8_t type = ip[off];
		uint32_t len;

		if (type == 0)
			break;
		if (type == 1) {
			off++;
			continue;
		}
		if (off + 1 >= ihl || ip[off + 1] < 2 || off + ip[off + 1] > ihl)
			return -1;
		len = ip[off + 1];
		if (!ipv4_opt_immutable(type))
			memset(ip + off, 0, len);	/* RFC 4302 A.1: whole option */
		off += len;
	}
	return 0;
}

/* The header is at most 60 bytes: saved whole. */
static int
ipv4_zero_mutable(uint8_t *ip, uint32_t ihl, uint8_t *save)
{
	memcpy(save, ip, ihl);
	ip[1] = 0;			/* DSCP/ECN */
	ip[6] = ip[7] = 0;		/* flags, fragment offset */
	ip[8] = 0;			/* TTL */
	ip[10] = ip[11] = 0;		/* header checksum */
	if (ipv4_zero_opts(ip, ihl) != 0) {
		memcpy(ip, save, ihl);
		return -1;
	}
	return 0;
}

/*
 * RFC 4302 A.2: in a hop-by-hop or destination options header h, the data
 * of each option whose type has the "may change en route" bit, moved to
 * save[*at...] and zeroed, or (back) put back from there. Only option data
 * changes, never a type or length, so walking again finds the same bytes.
 * Returns -1 for a malformed header, -2 when an option's data would pass
 * save[cap] (nothing of it moved).
 */
static int
ipv6_opts_mutable(uint8_t *h, uint32_t hlen, uint8_t *save, uint32_t cap,
		  uint32_t *at, bool back)
{
	uint32_t off = 2;

	while (off < hlen) {
		uint32_t len;

		if (h[off] == 0) {	/* Pad1 */
			off++;
			continue;
		}
		if (off + 2 > hlen || off + 2 + h[off + 1] > hlen)
			return -1;
		len = h[off + 1];
		if (h[off] & 0x20) {
			if (*at + len > cap)
				return -2;
			if (back) {
				memcpy(h + off + 2, save + *at, len);
			} else {
				memcpy(save + *at, h + off + 2, len);
				memset(h + off + 2, 0, len);
			}
			*at += len;
		}
		off += 2 + len;
	}
	return 0;
}

/* Each extension header in the hdrs bytes in front of AH, as above. */
static int
ipv6_ext_mutable(uint8_t *ip, uint32_t hdrs, uint8_t *save, uint32_t cap,
		 uint32_t *at, bool back)
{
	uint32_t off = 40;
	uint8_t nh = ip[6];
	int rc;

	while (off < hdrs) {
		uint32_t hlen = nh == 44 ? 8 : (ip[off + 1] + 1u) * 8;

		if (off + hlen > hdrs)
			return -1;
		if (nh == 0 || nh == 60) {
			rc = ipv6_opts_mutable(ip + off, hlen, save, cap, at, back);
			if (rc != 0)
				return rc;
		}
		nh = ip[off];
		off += hlen;
	}
	return 0;
}

/* Only what is zeroed is saved, so any length of extension headers fits
 * as long as their mutable option data does: -2 otherwise, -1 for a
 * malformed header; either way the packet is as received again. */
static int
ipv6_zero_mutable(uint8_t *ip, uint32_t hdrs, uint8_t *save, uint32_t cap)
{
	uint32_t at = 0, undo;
	int rc;

	memcpy(save, ip, IPV6_SAVED);
	ip[0] &= 0xf0;			/* traffic class, flow label */
	ip[1] = ip[2] = ip[3] = 0;
	ip[7] = 0;			/* hop limit */
	if (hdrs == 40)
		return 0;
	rc = ipv6_ext_mutable(ip, hdrs, save + IPV6_SAVED, cap - IPV6_SAVED, &at, false);
	if (rc != 0) {
		undo = 0;
		ipv6_ext_mutable(ip, hdrs, save + IPV6_SAVED, at, &undo, true);
		memcpy(ip, save, IPV6_SAVED);
	}
	return rc;
}

static void
ipv6_put_back(uint8_t *ip, uint32_t hdrs, const uint8_t *save)
{
	uint32_t at = 0;

	memcpy(ip, save, IPV6_SAVED);
	if (hdrs != 40)
		ipv6_ext_mutable(ip, hdrs, (uint8_t *)(uintptr_t)save + IPV6_SAVED,
				 UINT32_MAX, &at, true);
}

enum rxsec_crypto_status
rxsec_ah_inb_prepare(struct rte_mbuf *m, struct rxsec_pkt_meta *md,
		     const struct rxsec_sa *sa, struct rxsec_crypto_op *op, uint32_t cap)
{
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = base + md->l3_off, *ah = base + md->ipsec_off;
	uint8_t *save = (uint8_t *)(uintptr_t)op->icv;
	uint32_t hdrs = md->ipsec_off - md->l3_off, len;
	bool v6 = md->flags & RXSEC_PKT_F_IPV6;
	int rc;

	if (md->flags & RXSEC_PKT_F_UDP_ENCAP)
		return RXSEC_CRYPTO_INVALID_PROTOCOL;
	len = ah_len(ah);
	if (!ah_len_ok(len, sa, v6) || md->ipsec_off + len > (uint32_t)md->ip_end)
		return RXSEC_CRYPTO_INVALID_PACKET_SYNTAX;
	if (sa->icv_len > RXSEC_AH_ICV_MAX)
		return RXSEC_CRYPTO_GENERIC_ERROR;

	md->seq_hi = sa->esn ? rxsec_esn_infer_hi(rxsec_replay_top(&sa->replay),
		sa->window, rxsec_rd_be32(ah + 8)) : 0;
	/* Linux zeroes and compares the truncated ICV only: the rest of an
	 * ICV field sized for the whole digest is covered as received. */
	memcpy(save, ah + AH_FIXED_LEN, sa->icv_len);
	memset(ah + AH_FIXED_LEN, 0, sa->icv_len);
	save += RXSEC_AH_ICV_MAX;
	rc = v6 ? ipv6_zero_mutable(ip, hdrs, save, cap - RXSEC_AH_ICV_MAX) :
		ipv4_zero_mutable(ip, hdrs, save);
	if (unlikely(rc != 0)) {
		memcpy(ah + AH_FIXED_LEN, op->icv, sa->icv_len);
		return rc == -1 ? RXSEC_CRYPTO_INVALID_PACKET_SYNTAX : RXSEC_AH_SCRATCH_SHORT;
	}
	op->csa = sa->csa;
	op->data = ip;
	op->len = md->ip_end - md->l3_off;
	op->seq_hi = md->seq_hi;
	op->result = RXSEC_CRYPTO_ERROR;
	return RXSEC_CRYPTO_SUCCESS;
}

void
rxsec_ah_inb_restore(struct rte_mbuf *m, const struct rxsec_pkt_meta *md,
		     const struct rxsec_sa *sa, const struct rxsec_crypto_op *op)
{
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = base + md->l3_off;
	uint32_t hdrs = md->ipsec_off - md->l3_off;

	if (op->icv == NULL)
		return;
	if (md->flags & RXSEC_PKT_F_IPV6)
		ipv6_put_back(ip, hdrs, op->icv + RXSEC_AH_ICV_MAX);
	else
		memcpy(ip, op->icv + RXSEC_AH_ICV_MAX, hdrs);
	memcpy(base + md->ipsec_off + AH_FIXED_LEN, op->icv, sa->icv_len);
}

enum rxsec_crypto_status
rxsec_ah_inb_run_alone(const struct rxsec_crypto_driver *drv, void *cctx,
		       struct rte_mbuf *m, struct rxsec_pkt_meta *md,
		       const struct rxsec_sa *sa, struct rxsec_crypto_op *op)
{
	uint8_t scratch[RXSEC_AH_SCRATCH_BIG];
	enum rxsec_crypto_status st;

	op->icv = scratch;
	st = rxsec_ah_inb_prepare(m, md, sa, op, sizeof(scratch));
	if (st == RXSEC_CRYPTO_SUCCESS) {
		drv->process_burst(cctx, op, 1);
		rxsec_ah_inb_restore(m, md, sa, op);
	} else if (st == RXSEC_AH_SCRATCH_SHORT) {
		st = RXSEC_CRYPTO_GENERIC_ERROR;	/* not from a frame rxsec takes */
	}
	op->icv = NULL;
	return st;
}

enum rxsec_crypto_status
rxsec_ah_inb_finish(struct rte_mbuf *m, struct rxsec_pkt_meta *md,
		    const struct rxsec_sa *sa)
{
	const uint8_t *ah = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->ipsec_off);
	uint8_t nh = ah[0];

	if (nh == 0 || (sa->mode == RXSEC_MODE_TUNNEL && nh != RXSEC_NH_IPV4 &&
			nh != RXSEC_NH_IPV6 && nh != RXSEC_NH_NONE))
		return RXSEC_CRYPTO_INVALID_PROTOCOL;
	/* the payload follows the whole header, whichever ICV length it has */
	md->payload_off = (uint16_t)(md->ipsec_off + ah_len(ah));
	md->payload_end = md->ip_end;
	md->next_proto = nh;
	if (sa->mode == RXSEC_MODE_TUNNEL &&
	    !rxsec_inner_ip_valid(ah + ah_len(ah), md->payload_end - md->payload_off, nh))
		return RXSEC_CRYPTO_INVALID_PACKET_SYNTAX;
	return RXSEC_CRYPTO_SUCCESS;
}
