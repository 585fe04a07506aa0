/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ip.h>

#include "ipv6_unfrag.h"

#define IPV6_HLEN	40
#define NH_HOP		0
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_DSTOPTS	60
#define EXT_WALK_MAX	8

/* Kept at the start of a first fragment's buffer; the mbuf's
 * outer_l3_len (unused on receive) says how many bytes it holds. */
struct unfrag_stash {
	uint8_t first_nh;	/* the fixed header's next header */
	uint8_t last_off;	/* the last extension header, within bytes[] */
	uint8_t bytes[RXSEC_IPV6_UNFRAG_MAX];
};

uint8_t *
rxsec_ipv6_frag_header(uint8_t *ip6, uint32_t len, uint32_t *ext_len)
{
	uint32_t off = IPV6_HLEN;
	uint8_t nh = ip6[6];

	for (int i = 0; i < EXT_WALK_MAX &&
	     (nh == NH_HOP || nh == NH_ROUTING || nh == NH_DSTOPTS); i++) {
		if (off + 8 > len)
			return NULL;
		nh = ip6[off];
		off += (ip6[off + 1] + 1u) * 8;
	}
	if (nh != NH_FRAGMENT || off + sizeof(struct rte_ipv6_fragment_ext) > len)
		return NULL;
	*ext_len = off - IPV6_HLEN;
	return ip6 + off;
}

/* Offset of the last extension header in the ext_len bytes at ext. */
static uint8_t
last_ext_off(const uint8_t *ext, uint32_t ext_len)
{
	uint32_t off = 0, last = 0;

	while (off < ext_len) {
		last = off;
		off += (ext[off + 1] + 1u) * 8;
	}
	return (uint8_t)last;
}

int
rxsec_ipv6_unfrag_out(struct rte_mbuf *m, uint16_t l2_len)
{
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *), *ip6 = base + l2_len, *fh;
	uint32_t ext_len = 0;
	struct rte_ipv6_fragment_ext frag;
	uint16_t plen;

	fh = rxsec_ipv6_frag_header(ip6, rte_pktmbuf_data_len(m) - l2_len, &ext_len);
	if (fh == NULL || ext_len > RXSEC_IPV6_UNFRAG_MAX)
		return -1;
	m->outer_l3_len = 0;
	if (ext_len == 0)
		return 0;
	memcpy(&frag, fh, sizeof(frag));
	if ((rte_be_to_cpu_16(frag.frag_data) & 0xfff8) == 0) {
		struct unfrag_stash *s = m->buf_addr;

		/* the stash must end before the frame begins */
		if (rte_pktmbuf_headroom(m) < sizeof(*s))
			return -1;
		s->first_nh = ip6[6];
		memcpy(s->bytes, ip6 + IPV6_HLEN, ext_len);
		s->last_off = last_ext_off(s->bytes, ext_len);
		m->outer_l3_len = ext_len;
	}
	memcpy(&plen, ip6 + 4, 2);
	plen = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(plen) - ext_len));
	memcpy(ip6 + 4, &plen, 2);
	ip6[6] = NH_FRAGMENT;
	memmove(base + ext_len, base, l2_len + IPV6_HLEN);
	rte_pktmbuf_adj(m, (uint16_t)ext_len);
	return 0;
}

void
rxsec_ipv6_unfrag_back(struct rte_mbuf *d, uint16_t l2_len)
{
	const struct unfrag_stash *s = d->buf_addr;
	uint32_t ext_len = d->outer_l3_len;
	uint8_t *base, *ip6;
	uint16_t plen;

	d->outer_l3_len = 0;
	/* The frame only moved later in the buffer since the headers were
	 * taken out, and the stash ends before it: there is room. */
	base = (uint8_t *)rte_pktmbuf_prepend(d, (uint16_t)ext_len);
	if (base == NULL)
		return;
	memmove(base, base + ext_len, l2_len + IPV6_HLEN);
	ip6 = base + l2_len;
	memcpy(ip6 + IPV6_HLEN, s->bytes, ext_len);
	/* the upper protocol, which the library put in the fixed header */
	ip6[IPV6_HLEN + s->last_off] = ip6[6];
	ip6[6] = s->first_nh;
	memcpy(&plen, ip6 + 4, 2);
	plen = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(plen) + ext_len));
	memcpy(ip6 + 4, &plen, 2);
}
