/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of lib/selector.c: SA selectors written in `ip xfrm` syntax
 * (through the SA parser) against hand-built IPv4 and IPv6 packets, with
 * the outcomes Linux's xfrm_selector_match() gives for the same flow:
 * prefixes on and off a byte boundary, protocols, ports, ICMP type and
 * code, the mobility header, IPv6 extension headers, fragments, cut
 * headers, the other IP version. Every packet is also checked at every
 * shorter length from a heap buffer of exactly that size (ASan pass).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_parse.h"
#include "selector.h"
#include "unit_check.h"

#define GCM "aead rfc4106(gcm(aes)) 0x00112233445566778899aabbccddeeff01020304 128"

/* The selector of one SA written with `sel_words` (NULL: none at all). */
static struct rxsec_sa_config
sa_with(const char *sel_words, const char *flags)
{
	struct rxsec_sa_list l = { 0 };
	struct rxsec_sa_parse_error err;
	struct rxsec_sa_config c;
	char text[512];

	snprintf(text, sizeof(text), "ip xfrm state add src 192.0.2.10 dst 192.0.2.20 "
		 "proto esp spi 0x100 mode tunnel %s %s%s " GCM "\n", flags,
		 sel_words ? "sel " : "", sel_words ? sel_words : "");
	if (rxsec_sa_parse_string(text, "inline", &l, &err) != 0 || l.n != 1) {
		char msg[256];

		rxsec_sa_parse_error_format(&err, msg, sizeof(msg));
		printf("parse failed: %s\n", msg);
		exit(1);
	}
	c = l.sa[0];
	rxsec_sa_list_free(&l);
	return c;
}

struct pkt {
	uint8_t b[256];
	uint32_t len;
};

static void
put(struct pkt *p, const void *d, uint32_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

/* IPv4 header (no options) from a.b.c.d-style bytes; fix the length last. */
static struct pkt
v4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t frag)
{
	struct pkt p = { .len = 0 };
	uint8_t h[20] = { 0x45, 0, 0, 0, 0, 1, (uint8_t)(frag >> 8), (uint8_t)frag,
			  64, proto };

	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	put(&p, h, 20);
	return p;
}

static struct pkt
v6(const uint8_t src[16], const uint8_t dst[16], uint8_t nh)
{
	struct pkt p = { .len = 0 };
	uint8_t h[40] = { 0x60, 0, 0, 0, 0, 0, nh, 64 };

	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	put(&p, h, 40);
	return p;
}

/* An 8-byte extension header (hop-by-hop, routing, destination, fragment). */
static void
ext8(struct pkt *p, uint8_t nh, uint8_t b2, uint8_t b3)
{
	uint8_t h[8] = { nh, 0, b2, b3 };

	put(p, h, 8);
}

static void
l4(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t n)
{
	uint8_t h[8] = { (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8),
			 (uint8_t)dport, 0, 8, 0, 0 };

	put(p, h, n);
}

static struct pkt
done(struct pkt p)
{
	if (p.b[0] >> 4 == 4) {
		p.b[2] = (uint8_t)(p.len >> 8);
		p.b[3] = (uint8_t)p.len;
	} else {
		p.b[4] = (uint8_t)((p.len - 40) >> 8);
		p.b[5] = (uint8_t)(p.len - 40);
	}
	return p;
}

/* An IPv4 packet with a transport header of n bytes (ports, or type/code). */
static struct pkt
v4_l4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t frag,
      uint16_t sport, uint16_t dport, uint32_t n)
{
	struct pkt p = v4(src, dst, proto, frag);

	l4(&p, sport, dport, n);
	return done(p);
}

typedef int (*probe_fn)(const struct rxsec_sa_config *c, const uint8_t *b, uint32_t len);

#define CUT_ANY	(-2)

/* probe on p, and at every shorter length, each from an exact-size heap
 * buffer (ASan: nothing read past it); a cut packet must give cut_want
 * (CUT_ANY: anything), else 2. */
static int
every_length(const struct rxsec_sa_config *c, const struct pkt *p, probe_fn probe,
	     int cut_want)
{
	int r = -1;

	for (uint32_t n = 0; n <= p->len; n++) {
		uint8_t *b = malloc(n ? n : 1);
		int m;

		memcpy(b, p->b, n);
		m = probe(c, b, n);
		free(b);
		if (n == p->len)
			r = m;
		else if (cut_want != CUT_ANY && m != cut_want)
			return 2;
	}
	return r;
}

static int
match_at(const struct rxsec_sa_config *c, const uint8_t *b, uint32_t len)
{
	return rxsec_selector_match(c, b, len);
}

/* The match; an IP length beyond the buffer never matches a narrow
 * selector. */
static int
match(const struct rxsec_sa_config *c, const struct pkt *p)
{
	return every_length(c, p, match_at, rxsec_selector_is_wild(c) ? CUT_ANY : 0);
}

static const uint8_t A4[4] = { 10, 1, 2, 3 }, B4[4] = { 10, 9, 0, 1 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20 };

static void
test_wild(void)
{
	struct rxsec_sa_config none = sa_with(NULL, "flag af-unspec");
	struct rxsec_sa_config implied = sa_with(NULL, "");
	struct rxsec_sa_config zero = sa_with("src 0.0.0.0/0 dst 0.0.0.0/0", "");
	struct pkt p4 = v4(A4, B4, 17, 0), p6 = v6(A6, B6, 17);

	l4(&p4, 1, 2, 8);
	l4(&p6, 1, 2, 8);
	p4 = done(p4);
	p6 = done(p6);
	CHECK(rxsec_selector_is_wild(&none) && rxsec_selector_is_wild(&implied) &&
	      rxsec_selector_is_wild(&zero), "no sel, implied sel, /0 sel: no check");
	CHECK(match(&zero, &p4) == 1 && match(&zero, &p6) == 1,
	      "a /0 IPv4 selector takes IPv4 and IPv6");
}

static void
test_prefixes(void)
{
	struct rxsec_sa_config c = sa_with("src 10.0.0.0/15 dst 10.9.0.1/32", "");
	uint8_t in[4] = { 10, 1, 255, 255 }, out[4] = { 10, 2, 0, 0 };
	uint8_t other_dst[4] = { 10, 9, 0, 2 };
	struct pkt p;

	CHECK(!rxsec_selector_is_wild(&c), "narrow");
	p = v4_l4(in, B4, 17, 0, 1, 2, 8);
	CHECK(match(&c, &p) == 1, "10.1.255.255 in 10.0.0.0/15");
	p = v4_l4(out, B4, 17, 0, 1, 2, 8);
	CHECK(match(&c, &p) == 0, "10.2.0.0 outside 10.0.0.0/15");
	p = v4_l4(A4, other_dst, 17, 0, 1, 2, 8);
	CHECK(match(&c, &p) == 0, "dst 10.9.0.2 is not 10.9.0.1/32");
	p = v6(A6, B6, 17);
	l4(&p, 1, 2, 8);
	p = done(p);
	CHECK(match(&c, &p) == 0, "IPv4 prefixes never take an IPv6 packet");

	c = sa_with("src 2001:db8:a::/48 dst ::/0", "");
	CHECK(match(&c, &p) == 1, "2001:db8:a::10 in 2001:db8:a::/48");
	c = sa_with("src 2001:db8:b::/48", "");
	CHECK(match(&c, &p) == 0, "2001:db8:a::10 outside 2001:db8:b::/48...");
	c = sa_with("src 2001:db8:b::/47", "");
	CHECK(match(&c, &p) == 1, "...inside 2001:db8:b::/47 (a and b differ in bit 47)");
}

static void
test_ports(void)
{
	struct rxsec_sa_config c = sa_with("src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport 9000", "");
	struct rxsec_sa_config any_port = sa_with("src 0.0.0.0/0 dst 0.0.0.0/0 proto udp "
						  "sport 0 dport 0", "");
	struct pkt p;

	p = v4_l4(A4, B4, 17, 0, 40000, 9000, 8);
	CHECK(match(&c, &p) == 1, "UDP to 9000");
	CHECK(match(&any_port, &p) == 1 && any_port.sel_sport_mask == 0,
	      "sport 0 / dport 0 mean any port, as iproute2 reads them");
	p = v4_l4(A4, B4, 17, 0, 40000, 9001, 8);
	CHECK(match(&c, &p) == 0, "UDP to 9001");
	CHECK(match(&any_port, &p) == 1, "UDP to 9001, any port");
	p = v4_l4(A4, B4, 6, 0, 40000, 9000, 8);
	CHECK(match(&c, &p) == 0, "TCP to 9000: protocol differs");
	CHECK(match(&any_port, &p) == 0, "TCP: protocol differs, any port");
	p = v4(A4, B4, 17, 0x2000);	/* MF */
	l4(&p, 40000, 9000, 8);
	p = done(p);
	CHECK(match(&c, &p) == 0, "a first fragment has no ports for the check");
	CHECK(match(&any_port, &p) == 1, "a fragment passes a port-less UDP selector");
	p = v4_l4(A4, B4, 17, 0, 40000, 9000, 3);
	CHECK(match(&c, &p) == 0, "3 bytes of UDP header: ports 0");

	c = sa_with("src 0.0.0.0/0 dst 0.0.0.0/0 proto dccp sport 5", "");
	p = v4_l4(A4, B4, 33, 0, 5, 6, 8);
	CHECK(match(&c, &p) == 0, "DCCP ports are not read (Linux reads them as 0)");
	c = sa_with("src 0.0.0.0/0 dst 0.0.0.0/0 proto sctp sport 5", "");
	p = v4_l4(A4, B4, 132, 0, 5, 6, 8);
	CHECK(match(&c, &p) == 1, "SCTP source port 5");
}

static void
test_icmp(void)
{
	struct rxsec_sa_config c = sa_with("src 0.0.0.0/0 dst 0.0.0.0/0 proto icmp type 8", "");
	struct rxsec_sa_config reply = sa_with("src 0.0.0.0/0 dst 0.0.0.0/0 proto icmp "
					       "type 0 code 0", "");
	struct pkt p;

	CHECK(reply.sel_sport_mask == 0xffff && reply.sel_dport_mask == 0xffff,
	      "type 0 code 0 are exact, unlike port 0");
	p = v4(A4, B4, 1, 0);
	l4(&p, 8 << 8, 0, 8);	/* type 8 code 0, then a checksum */
	p = done(p);
	CHECK(match(&c, &p) == 1 && match(&reply, &p) == 0, "echo request");
	p = v4_l4(A4, B4, 1, 0, 0, 0, 8);
	CHECK(match(&c, &p) == 0 && match(&reply, &p) == 1, "echo reply");
	p = v4(A4, B4, 1, 0);
	l4(&p, 0 << 8 | 1, 0, 8);	/* type 0 code 1 */
	p = done(p);
	CHECK(match(&reply, &p) == 0, "type 0 code 1 is not code 0");

	c = sa_with("src ::/0 dst ::/0 proto ipv6-icmp type 128", "");
	p = v6(A6, B6, 58);
	l4(&p, 128 << 8, 0, 8);
	p = done(p);
	CHECK(match(&c, &p) == 1, "ICMPv6 echo request");
	c = sa_with("src ::/0 dst ::/0 proto mobility-header type 5", "");
	p = v6(A6, B6, 135);
	l4(&p, 59 << 8, 5 << 8, 8);	/* MH: next header, length, type 5 */
	p = done(p);
	CHECK(match(&c, &p) == 1, "mobility header type 5");
}

static void
test_ipv6_headers(void)
{
	struct rxsec_sa_config c = sa_with("src 2001:db8:a::/48 dst 2001:db8:b::/48 "
					   "proto tcp sport 22", "");
	struct pkt p;

	p = v6(A6, B6, 6);
	l4(&p, 22, 40000, 8);
	p = done(p);
	CHECK(match(&c, &p) == 1, "TCP from port 22");
	p = v6(A6, B6, 0);
	ext8(&p, 60, 1, 4);		/* hop-by-hop, then destination options */
	ext8(&p, 6, 1, 4);
	l4(&p, 22, 40000, 8);
	p = done(p);
	CHECK(match(&c, &p) == 1, "TCP behind hop-by-hop and destination options");
	p = v6(A6, B6, 44);
	ext8(&p, 6, 0, 0);		/* fragment header, offset 0, M clear */
	l4(&p, 22, 40000, 8);
	p = done(p);
	CHECK(match(&c, &p) == 0, "behind a fragment header: no ports");
	p = v6(A6, B6, 0);
	ext8(&p, 6, 1, 4);
	p = done(p);
	CHECK(match(&c, &p) == 0, "nothing behind the hop-by-hop header: no protocol");
	p = v6(A6, B6, 43);
	put(&p, (uint8_t[]){ 6, 3 }, 2);	/* routing header claiming 32 bytes */
	p = done(p);
	CHECK(match(&c, &p) == 0, "cut routing header");
}

static void
test_str(void)
{
	struct rxsec_sa_config c = sa_with("src 10.0.0.0/15 dst 10.9.0.1 proto udp dport 9000", "");
	char b[200];

	CHECK(strcmp(rxsec_selector_str(&c, b, sizeof(b)),
		     "src 10.0.0.0/15 dst 10.9.0.1/32 proto udp dport 9000") == 0, "%s", b);
	c = sa_with("src ::/0 dst 2001:db8::/32 proto icmpv6 type 1 code 4", "");
	CHECK(strcmp(rxsec_selector_str(&c, b, sizeof(b)),
		     "src ::/0 dst 2001:db8::/32 proto ipv6-icmp type 1 code 4") == 0, "%s", b);
	c = sa_with(NULL, "");
	CHECK(strcmp(rxsec_selector_str(&c, b, sizeof(b)), "any") == 0, "%s", b);
	CHECK(strlen(rxsec_selector_str(&c, b, 2)) == 1, "truncated, terminated");
}

/* An ICMP (IPv4) or ICMPv6 message from `from` to `to` of `type`, quoting
 * q (the packet it is about, as sent: cut to qlen bytes). */
static struct pkt
icmp_about(int fam, uint8_t type, const struct pkt *q, uint32_t qlen)
{
	struct pkt p = fam == 4 ? v4(A4, B4, 1, 0) : v6(A6, B6, 58);
	uint8_t h[8] = { type, 3 };

	put(&p, h, 8);
	put(&p, q->b, qlen);
	return done(p);
}

/* Quoted: what this host sent to the peer, from port 9000 to 5555. */
static struct pkt
sent(int fam, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct pkt p = fam == 4 ? v4(B4, A4, proto, 0) : v6(B6, A6, proto);

	l4(&p, sport, dport, 8);
	p = done(p);
	return p;
}

/* 1 if the quoted packet read backwards matches, 0 if not, -1 if none. */
static int
reverse_at(const struct rxsec_sa_config *c, const uint8_t *b, uint32_t len)
{
	uint32_t q, ql;

	if (!rxsec_selector_quoted(b, len, &q, &ql))
		return -1;
	return rxsec_selector_match_reverse(c, b + q, ql);
}

/* Cut shorter, the IP length lies: nothing quoted. */
static int
reverse(const struct rxsec_sa_config *c, const struct pkt *p)
{
	return every_length(c, p, reverse_at, -1);
}

/* flag icmp: the packet an ICMP error quotes, addresses and ports swapped,
 * against the selector (Linux's xfrm4/6_policy_check_reverse). */
static void
test_icmp_reverse(void)
{
	struct rxsec_sa_config c4 = sa_with("src 10.1.2.3/32 dst 10.9.0.1/32 proto udp dport 9000",
					    "flag icmp");
	struct rxsec_sa_config c6 = sa_with("src 2001:db8:a::/48 dst 2001:db8:b::/48 proto udp "
					    "dport 9000", "flag icmp");
	struct rxsec_sa_config echo = sa_with("src 10.1.2.3/32 dst 10.9.0.1/32 proto icmp type 8",
					      "");

	CHECK(c4.flags & RXSEC_SA_FLAG_ICMP, "flag icmp parsed");
	for (int fam = 4; fam <= 6; fam += 2) {
		const struct rxsec_sa_config *c = fam == 4 ? &c4 : &c6;
		uint32_t ql = fam == 4 ? 28 : 48;
		struct pkt q = sent(fam, 17, 9000, 5555), p = icmp_about(fam, 3, &q, ql);

		CHECK(match(c, &p) == 0, "IPv%d: the ICMP error itself is not UDP 9000", fam);
		CHECK(reverse(c, &p) == 1, "IPv%d: it quotes UDP 9000 -> 5555 we sent", fam);
		q = sent(fam, 17, 9001, 5555);
		p = icmp_about(fam, 3, &q, ql);
		CHECK(reverse(c, &p) == 0, "IPv%d: about UDP from 9001", fam);
		q = sent(fam, 17, 5555, 9000);
		p = icmp_about(fam, 3, &q, ql);
		CHECK(reverse(c, &p) == 0, "IPv%d: ports not swapped back: no match", fam);
		q = sent(fam, 17, 9000, 5555);
		p = icmp_about(fam, 3, &q, ql - 4);
		CHECK(reverse(c, &p) == 1, "IPv%d: 4 bytes of UDP quoted: the ports", fam);
		p = icmp_about(fam, 3, &q, ql - 6);
		CHECK(reverse(c, &p) == 0, "IPv%d: quoted ports cut: ports 0", fam);
		p = icmp_about(fam, 3, &q, ql - 8);
		CHECK(reverse(c, &p) == 0, "IPv%d: quoted header only", fam);
		p = icmp_about(fam, 3, &q, ql - 9);
		CHECK(reverse(c, &p) == -1, "IPv%d: quoted header cut: nothing quoted", fam);
		/* the quoted packet's length says more than is there */
		q.b[fam == 4 ? 2 : 4] = 0x05;
		p = icmp_about(fam, 3, &q, ql);
		CHECK(reverse(c, &p) == 1, "IPv%d: a longer quoted datagram", fam);
		/* the quoted packet of the wrong peer */
		q = sent(fam, 17, 9000, 5555);
		q.b[fam == 4 ? 16 : 24] ^= 0x40;
		p = icmp_about(fam, 3, &q, ql);
		CHECK(reverse(c, &p) == 0, "IPv%d: about a packet to another host", fam);
		/* not ICMP, or ICMP in a fragment: nothing quoted */
		q = sent(fam, 17, 9000, 5555);
		CHECK(reverse(c, &q) == -1, "IPv%d: UDP quotes nothing", fam);
	}
	{
		struct pkt q = sent(4, 17, 9000, 5555), p = icmp_about(4, 3, &q, 28);

		p.b[6] = 0x20;	/* MF */
		CHECK(reverse(&c4, &p) == -1, "an ICMP fragment quotes nothing");
		/* ICMP type stays put when read backwards */
		q = sent(4, 1, 0x0800, 0x1234);
		p = icmp_about(4, 3, &q, 28);
		CHECK(reverse(&echo, &p) == 1, "about an echo request (type 8) we sent");
	}
	{
		/* ICMPv6 behind a destination-options header */
		struct pkt q = sent(6, 17, 9000, 5555), p = v6(A6, B6, 60);
		uint8_t h[8] = { 1, 3 };

		ext8(&p, 58, 1, 4);
		put(&p, h, 8);
		put(&p, q.b, 48);
		p = done(p);
		CHECK(reverse(&c6, &p) == 1, "ICMPv6 behind destination options");
		/* behind a fragment header: atomic (RFC 6946) or a real piece */
		for (int atomic = 0; atomic < 2; atomic++) {
			p = v6(A6, B6, 44);
			ext8(&p, 58, 0, atomic ? 0 : 1);	/* offset 0, M */
			put(&p, h, 8);
			put(&p, q.b, 48);
			p = done(p);
			CHECK(reverse(&c6, &p) == (atomic ? 1 : -1), "ICMPv6 in %s fragment",
			      atomic ? "an atomic" : "a first");
		}
	}
}

int
main(void)
{
	test_str();
	test_wild();
	test_prefixes();
	test_ports();
	test_icmp();
	test_icmp_reverse();
	test_ipv6_headers();
	printf("%d checks, %d failed\n", checks, fails);
	return fails != 0;
}
