/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "pkt_meta.h"
#include "selector.h"

/* What a selector is compared with: the flow Linux decodes from a packet. */
struct sel_flow {
	uint8_t family;
	const uint8_t *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t l4;		/* offset of the transport header */
	uint32_t end;		/* of the datagram */
	bool piece;		/* of a datagram: no whole ICMP message to read */
};

/* An ICMP message's own header, before the packet it quotes. */
#define ICMP_HDR_LEN	8

bool
rxsec_selector_is_wild(const struct rxsec_sa_config *c)
{
	return !c->has_sel ||
		(c->sel_src_len == 0 && c->sel_dst_len == 0 && c->sel_proto == 0 &&
		 c->sel_sport_mask == 0 && c->sel_dport_mask == 0);
}

/* Ports, or what stands for them, of the transport header l4[0..room). */
static void
flow_ports(struct sel_flow *f, const uint8_t *l4, uint32_t room)
{
	switch (f->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		if (room >= 4) {
			f->sport = rxsec_rd_be16(l4);
			f->dport = rxsec_rd_be16(l4 + 2);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (room >= 2) {
			f->sport = l4[0];	/* type */
			f->dport = l4[1];	/* code */
		}
		break;
	case IPPROTO_MH:
		if (f->family == 6 && room >= 3)
			f->sport = l4[2];	/* MH type */
		break;
	default:
		break;
	}
}

/* quoted: the header an ICMP error quotes, whose datagram is cut short. */
static bool
flow_ipv4(struct sel_flow *f, const uint8_t *ip, uint32_t len, bool quoted)
{
	uint32_t hl, tot;

	if (len < 20)
		return false;
	hl = (ip[0] & 0xfu) * 4;
	tot = rxsec_rd_be16(ip + 2);
	if (quoted && tot > len)
		tot = len;
	if (hl < 20 || tot < hl || tot > len)
		return false;
	f->family = 4;
	f->src = ip + 12;
	f->dst = ip + 16;
	f->proto = ip[9];
	f->l4 = hl;
	f->end = tot;
	/* MF or an offset: ports only in the reassembled datagram */
	f->piece = (rxsec_rd_be16(ip + 6) & 0x3fff) != 0;
	if (!f->piece)
		flow_ports(f, ip + hl, tot - hl);
	return true;
}

/* Behind the extension headers Linux skips, reading two bytes of each
 * header before it looks at it: a fragment header means no ports, and a
 * chain cut short leaves the protocol 0. */
static bool
flow_ipv6(struct sel_flow *f, const uint8_t *ip, uint32_t len, bool quoted)
{
	uint32_t off = 40, end;
	bool fragment = false, piece = false;
	uint8_t nh;

	if (len < 40)
		return false;
	nh = ip[6];
	end = 40 + rxsec_rd_be16(ip + 4);
	if (quoted && end > len)
		end = len;
	if (end > len)
		return false;
	f->family = 6;
	f->src = ip + 8;
	f->dst = ip + 24;
	for (;;) {
		if (end < off + 2)
			return true;
		if (!rxsec_ipv6_is_ext(nh))
			break;
		if (nh == IPPROTO_FRAGMENT) {
			fragment = true;
			/* RFC 6946: an atomic fragment is a whole datagram */
			piece |= end < off + 4 || (rxsec_rd_be16(ip + off + 2) & 0xfff9) != 0;
		}
		nh = ip[off];
		off += ((uint32_t)ip[off + 1] + 1) * 8;
	}
	f->proto = nh;
	f->l4 = off;
	f->end = end;
	f->piece = piece;
	if (!fragment)
		flow_ports(f, ip + off, end - off);
	return true;
}

static bool
flow_of(struct sel_flow *f, const uint8_t *ip, uint32_t len, bool quoted)
{
	return len >= 1 && ((ip[0] >> 4 == 4 && flow_ipv4(f, ip, len, quoted)) ||
			    (ip[0] >> 4 == 6 && flow_ipv6(f, ip, len, quoted)));
}

/* The first `bits` bits of a and b (network order) are equal. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ b[whole]) & (0xff00u >> rest)) == 0;
}

static bool
addr_match(const struct rxsec_addr *sel, uint8_t sel_len, uint8_t family,
	   const uint8_t *addr)
{
	if (sel_len == 0)
		return true;
	return sel->family == family && prefix_equal(sel->bytes, addr, sel_len);
}

static bool
flow_match(const struct rxsec_sa_config *c, const struct sel_flow *f)
{
	return addr_match(&c->sel_src, c->sel_src_len, f->family, f->src) &&
		addr_match(&c->sel_dst, c->sel_dst_len, f->family, f->dst) &&
		(c->sel_proto == 0 || c->sel_proto == f->proto) &&
		((f->sport ^ c->sel_sport) & c->sel_sport_mask) == 0 &&
		((f->dport ^ c->sel_dport) & c->sel_dport_mask) == 0;
}

bool
rxsec_selector_dst_admits(const struct rxsec_sa_config *c, uint8_t family, const uint8_t *dst)
{
	return !c->has_sel || addr_match(&c->sel_dst, c->sel_dst_len, family, dst);
}

bool
rxsec_selector_match(const struct rxsec_sa_config *c, const uint8_t *ip, uint32_t len)
{
	struct sel_flow f = { 0 };

	return flow_of(&f, ip, len, false) && flow_match(c, &f);
}

bool
rxsec_selector_quoted(const uint8_t *ip, uint32_t len, uint32_t *off, uint32_t *qlen)
{
	struct sel_flow f = { 0 };

	if (!flow_of(&f, ip, len, false) || f.piece ||
	    f.proto != (f.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		return false;
	*off = f.l4 + ICMP_HDR_LEN;
	/* icmp_rcv and icmpv6_rcv first pull the quoted fixed IP header */
	if (*off + (f.family == 4 ? 20u : 40u) > f.end)
		return false;
	*qlen = f.end - *off;
	return true;
}

bool
rxsec_selector_match_reverse(const struct rxsec_sa_config *c, const uint8_t *quoted,
			     uint32_t len)
{
	struct sel_flow f = { 0 };
	const uint8_t *a;
	uint16_t p;

	if (!flow_of(&f, quoted, len, true))
		return false;
	a = f.src;
	f.src = f.dst;
	f.dst = a;
	/* ports swap; ICMP type and code and the MH type stay */
	if (f.proto != IPPROTO_ICMP && f.proto != IPPROTO_ICMPV6 && f.proto != IPPROTO_MH) {
		p = f.sport;
		f.sport = f.dport;
		f.dport = p;
	}
	return flow_match(c, &f);
}

static const char *
proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMPV6: return "ipv6-icmp";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_MH: return "mobility-header";
	default: return NULL;
	}
}

const char *
rxsec_selector_str(const struct rxsec_sa_config *c, char *buf, unsigned int len)
{
	bool icmp = c->sel_proto == IPPROTO_ICMP || c->sel_proto == IPPROTO_ICMPV6 ||
		c->sel_proto == IPPROTO_MH;
	char src[64], dst[64];
	int n;

	if (rxsec_selector_is_wild(c)) {
		snprintf(buf, len, "any");
		return buf;
	}
	n = snprintf(buf, len, "src %s/%u dst %s/%u", rxsec_addr_str(&c->sel_src, src, sizeof(src)),
		     c->sel_src_len, rxsec_addr_str(&c->sel_dst, dst, sizeof(dst)),
		     c->sel_dst_len);
	if (c->sel_proto != 0 && n >= 0 && (unsigned int)n < len) {
		const char *name = proto_name(c->sel_proto);

		n += name ? snprintf(buf + n, len - n, " proto %s", name) :
			snprintf(buf + n, len - n, " proto %u", c->sel_proto);
	}
	if (c->sel_sport_mask != 0 && n >= 0 && (unsigned int)n < len)
		n += snprintf(buf + n, len - n, " %s %u", icmp ? "type" : "sport", c->sel_sport);
	if (c->sel_dport_mask != 0 && n >= 0 && (unsigned int)n < len)
		snprintf(buf + n, len - n, " %s %u", icmp ? "code" : "dport", c->sel_dport);
	return buf;
}
