/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of lib/classify.c rxsec_classify() and rxsec_classify_inner()
 * on hand-built frames (no EAL: they take a byte buffer). Every frame is
 * copied into a heap buffer of exactly its length, so under ASan (the
 * build-asan pass of scripts/test.sh) any read past len is reported.
 *
 * Covers: Ethernet, 802.1Q and 802.1ad tags; IPv4 with and without options,
 * fragments (MF, offset); IPv6 with hop-by-hop, routing, fragment and
 * destination-options headers; ESP; AH; UDP 4500 (RFC 3948 2.2: ESP vs
 * NAT-keepalive vs the non-ESP marker) and UDP 500; the lookup key
 * (SPI as on the wire, dst, proto, family) and the offsets; every
 * truncation of a set of frames, with and without the IP length fixed;
 * a random-byte sweep.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "classify.h"
#include "unit_check.h"

/* ---- frame builder ---------------------------------------------------- */

struct fb {
	uint8_t b[2048];
	uint32_t len;
	uint32_t l3;		/* IP header offset */
	uint32_t len_off;	/* IPv4 total length / IPv6 payload length field */
	uint32_t udp;		/* UDP header offset, 0 if none */
	int v6;
};

static const uint8_t SRC4[4] = { 192, 0, 2, 10 }, DST4[4] = { 192, 0, 2, 20 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x10 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x20 };

static void
put(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
put8(struct fb *f, uint8_t v)
{
	f->b[f->len++] = v;
}

static void
put16(struct fb *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put32(struct fb *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

/* Ethernet with tags (TPIDs, 0 = none) then the ethertype. */
static void
eth(struct fb *f, uint16_t tpid1, uint16_t tpid2, uint16_t type)
{
	static const uint8_t macs[12] = { 0, 0, 0x5e, 0, 0x53, 0x14, 0, 0, 0x5e, 0, 0x53, 0x0a };

	memset(f, 0, sizeof(*f));
	put(f, macs, 12);
	if (tpid1) {
		put16(f, tpid1);
		put16(f, 100);
	}
	if (tpid2) {
		put16(f, tpid2);
		put16(f, 200);
	}
	put16(f, type);
	f->l3 = f->len;
}

/* IPv4 header with optlen bytes of options (a multiple of 4). */
static void
ipv4(struct fb *f, uint8_t proto, uint16_t frag, uint32_t optlen)
{
	f->v6 = 0;
	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	f->len_off = f->len;
	put16(f, 0);		/* total length: fix_len() */
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, SRC4, 4);
	put(f, DST4, 4);
	if (optlen) {		/* Router Alert, then NOPs, then EOL if room */
		put8(f, 0x94);
		put8(f, 4);
		put16(f, 0);
		for (uint32_t i = 4; i < optlen; i++)
			put8(f, i + 1 == optlen ? 0 : 1);
	}
}

static void
ipv6(struct fb *f, uint8_t nh)
{
	f->v6 = 1;
	put32(f, 0x60012345);
	f->len_off = f->len;
	put16(f, 0);
	put8(f, nh);
	put8(f, 64);
	put(f, SRC6, 16);
	put(f, DST6, 16);
}

/* An 8-byte-unit extension header (or an 8-byte fragment header). */
static void
ext6(struct fb *f, uint8_t nh, uint8_t units)
{
	put8(f, nh);
	put8(f, units);
	for (uint32_t i = 2; i < (units + 1u) * 8; i++)
		put8(f, i == 2 ? 1 : 0);	/* PadN-ish filler */
}

static void
esp(struct fb *f, uint32_t spi, uint32_t body)
{
	put32(f, spi);
	put32(f, 1);
	for (uint32_t i = 0; i < body; i++)
		put8(f, (uint8_t)(0xa0 + i));
}

static void
ah(struct fb *f, uint8_t nh, uint32_t spi, uint32_t body)
{
	put8(f, nh);
	put8(f, 4);		/* (12 + 12 ICV) / 4 - 2 */
	put16(f, 0);
	put32(f, spi);
	put32(f, 1);
	for (uint32_t i = 0; i < 12 + body; i++)
		put8(f, (uint8_t)(0xb0 + i));
}

static void
udp(struct fb *f, uint16_t sport, uint16_t dport, const void *p, uint32_t n)
{
	f->udp = f->len;
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + n));
	put16(f, 0);
	put(f, p, n);
}

/* Set the IP length field so the datagram ends at f->len. */
static void
fix_len(struct fb *f)
{
	uint32_t v = f->v6 ? f->len - f->l3 - 40 : f->len - f->l3;

	f->b[f->len_off] = (uint8_t)(v >> 8);
	f->b[f->len_off + 1] = (uint8_t)v;
}

/* RFC 791 header checksum of the IPv4 header at f->l3, written byte by
 * byte like udp_sum(). */
static void
ipv4_sum(struct fb *f)
{
	uint8_t *ip = f->b + f->l3;
	uint32_t hl = (ip[0] & 0xfu) * 4, sum = 0;

	ip[10] = ip[11] = 0;
	for (uint32_t i = 0; i < hl; i++)
		sum += (uint32_t)ip[i] << (i & 1 ? 0 : 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
}

/* RFC 768 checksum of the UDP datagram at f->udp (its length field says
 * how long), written byte by byte, independently of the code under test;
 * 0 is sent as 0xffff. */
static void
udp_sum(struct fb *f)
{
	const uint8_t *ip = f->b + f->l3;
	uint32_t ulen = (uint32_t)f->b[f->udp + 4] << 8 | f->b[f->udp + 5], sum = 17 + ulen;
	uint32_t a = f->v6 ? 8 : 12, alen = f->v6 ? 32 : 8;

	f->b[f->udp + 6] = f->b[f->udp + 7] = 0;
	for (uint32_t i = 0; i < alen; i++)
		sum += (uint32_t)ip[a + i] << (i & 1 ? 0 : 8);
	for (uint32_t i = 0; i < ulen; i++)
		sum += (uint32_t)f->b[f->udp + i] << (i & 1 ? 0 : 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	if (sum == 0)
		sum = 0xffff;
	f->b[f->udp + 6] = (uint8_t)(sum >> 8);
	f->b[f->udp + 7] = (uint8_t)sum;
}

/* ---- running ---------------------------------------------------------- */

struct res {
	enum rxsec_pkt_kind kind;
	struct rxsec_pkt_meta md;
	struct rxsec_sa_key key;
};

/* Classify the first len bytes from an exact-size heap copy (ASan), with
 * rxsec_classify() and with the full parser alone: the inline common case
 * must write the same bytes, no more, no fewer, for every frame here. */
static struct res
run(const uint8_t *b, uint32_t len)
{
	struct res r, full;
	uint8_t *copy = malloc(len ? len : 1);

	memcpy(copy, b, len);
	memset(&r, 0x5a, sizeof(r));
	memset(&full, 0x5a, sizeof(full));
	r.kind = rxsec_classify(copy, len, &r.md, &r.key);
	full.kind = rxsec_classify_frame(copy, len, &full.md, &full.key);
	CHECK(memcmp(&r, &full, sizeof(r)) == 0,
	      "inline and full classification differ (len %u, kind %d/%d)", len, r.kind,
	      full.kind);
	free(copy);
	return r;
}

static struct res
runf(const struct fb *f)
{
	return run(f->b, f->len);
}

/* Invariants for any result: offsets inside the frame. */
static void
sane(const struct res *r, uint32_t len, const char *what)
{
	CHECK(r->md.kind == r->kind, "%s: meta kind %u vs %u", what, r->md.kind, r->kind);
	if (r->kind != RXSEC_PKT_ESP && r->kind != RXSEC_PKT_AH)
		return;
	CHECK(r->md.ip_end <= len, "%s: ip_end %u > len %u", what, r->md.ip_end, len);
	CHECK(r->md.ipsec_off + (r->kind == RXSEC_PKT_AH ? 8u : 4u) <= r->md.ip_end,
	      "%s: IPsec header at %u does not fit before %u", what, r->md.ipsec_off, r->md.ip_end);
	CHECK(r->md.nh_off < r->md.ipsec_off, "%s: nh_off %u", what, r->md.nh_off);
	CHECK(r->md.l3_off < r->md.ipsec_off, "%s: l3_off %u", what, r->md.l3_off);
	CHECK(r->key.family == 4 || r->key.family == 6, "%s: family %u", what, r->key.family);
	CHECK(r->md.sa_id == RXSEC_SA_NONE, "%s: sa_id set", what);
}

static uint32_t
be32(uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	uint32_t r;

	memcpy(&r, b, 4);
	return r;
}

static void
expect_ipsec(const struct fb *f, enum rxsec_pkt_kind kind, uint32_t spi, uint8_t family,
	     uint32_t ipsec_off, uint32_t nh_off, uint8_t flags, const char *what)
{
	struct res r = runf(f);
	uint8_t dst[16] = { 0 };

	memcpy(dst, family == 4 ? DST4 : DST6, family == 4 ? 4 : 16);
	CHECK(r.kind == kind, "%s: kind %d, want %d", what, r.kind, kind);
	sane(&r, f->len, what);
	if (r.kind != kind)
		return;
	CHECK(r.key.spi == be32(spi), "%s: spi %08x", what, r.key.spi);
	CHECK(r.key.proto == (kind == RXSEC_PKT_AH ? 51 : 50), "%s: proto %u", what, r.key.proto);
	CHECK(r.key.family == family, "%s: family %u", what, r.key.family);
	CHECK(r.key.zero == 0, "%s: key padding %u not zero (hash key)", what, r.key.zero);
	CHECK(memcmp(r.key.dst, dst, 16) == 0, "%s: dst differs", what);
	CHECK(r.md.l3_off == f->l3, "%s: l3_off %u want %u", what, r.md.l3_off, f->l3);
	CHECK(r.md.ipsec_off == ipsec_off, "%s: ipsec_off %u want %u", what, r.md.ipsec_off,
	      ipsec_off);
	CHECK(r.md.nh_off == nh_off, "%s: nh_off %u want %u", what, r.md.nh_off, nh_off);
	CHECK(r.md.ip_end == f->len, "%s: ip_end %u want %u", what, r.md.ip_end, f->len);
	CHECK(r.md.flags == flags, "%s: flags %#x want %#x", what, r.md.flags, flags);
}

static void
expect_kind(const struct fb *f, enum rxsec_pkt_kind kind, const char *what)
{
	struct res r = runf(f);

	CHECK(r.kind == kind, "%s: kind %d, want %d", what, r.kind, kind);
	sane(&r, f->len, what);
}

/* Ethernet, IPv4 (protocol proto, fragment field frag) and 8 bytes of UDP
 * header from sport to dport with an ESP-looking payload: its kind. */
static void
expect_udp4_kind(struct fb *f, uint8_t proto, uint16_t frag, uint16_t sport, uint16_t dport,
		 enum rxsec_pkt_kind kind, const char *what)
{
	eth(f, 0, 0, 0x0800);
	ipv4(f, proto, frag, 0);
	udp(f, sport, dport, (const uint8_t *)"\0\0\x30\0\0\0\0\x01", 8);
	fix_len(f);
	expect_kind(f, kind, what);
}

/* ---- tests ------------------------------------------------------------ */

static int
udp_cksum_ok(const struct fb *f)
{
	struct res r = runf(f);

	return r.kind == RXSEC_PKT_ESP && (r.md.flags & RXSEC_PKT_F_UDP_CSUM) &&
		rxsec_udp_cksum_ok(f->b, &r.md);
}

/* ESP in UDP carries a UDP checksum the caller verifies: the flag says
 * when, rxsec_udp_cksum_ok() sums (RFC 768 pseudo-header, UDP length). */
static void
test_udp_cksum(void)
{
	uint8_t body[64];
	struct fb f;

	for (uint32_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 37 + 1);
	for (int fam = 4; fam <= 6; fam += 2) {
		for (uint32_t n = 9; n <= sizeof(body); n++) {
			uint32_t pos = n * 7 % (8 + n);

			eth(&f, 0x8100, 0, fam == 4 ? 0x0800 : 0x86dd);
			if (fam == 4)
				ipv4(&f, 17, 0, n % 3 * 4);
			else
				ipv6(&f, 17);
			udp(&f, 31337, 4500, body, n);
			fix_len(&f);
			udp_sum(&f);
			CHECK(udp_cksum_ok(&f), "IPv%d, %u bytes: a right checksum", fam, n);
			f.b[f.udp + pos] ^= 0x10;
			CHECK(!udp_cksum_ok(&f), "IPv%d, %u bytes: byte %u changed", fam, n, pos);
			f.b[f.udp + pos] ^= 0x10;
			/* bytes behind the datagram are not summed */
			f.b[f.len++] = 0xee;
			f.b[f.len++] = 0x01;
			fix_len(&f);
			CHECK(udp_cksum_ok(&f), "IPv%d, %u bytes: junk behind it", fam, n);
			/* the pseudo-header's addresses count */
			f.b[f.l3 + (fam == 4 ? 12 : 8)] ^= 1;
			CHECK(!udp_cksum_ok(&f), "IPv%d, %u bytes: source address changed", fam, n);
		}
		/* a sum of zero is sent as 0xffff (RFC 768) */
		eth(&f, 0, 0, fam == 4 ? 0x0800 : 0x86dd);
		if (fam == 4)
			ipv4(&f, 17, 0, 0);
		else
			ipv6(&f, 17);
		udp(&f, 4500, 4500, body, 16);
		fix_len(&f);
		udp_sum(&f);
		/* one payload word takes the checksum's value: the sum becomes 0 */
		{
			uint32_t w = f.udp + 8 + 12, c = (uint32_t)f.b[f.udp + 6] << 8 | f.b[f.udp + 7];
			uint32_t v = ((uint32_t)f.b[w] << 8 | f.b[w + 1]) + c;

			v = (v & 0xffff) + (v >> 16);
			f.b[w] = (uint8_t)(v >> 8);
			f.b[w + 1] = (uint8_t)v;
			udp_sum(&f);
			CHECK(f.b[f.udp + 6] == 0xff && f.b[f.udp + 7] == 0xff && udp_cksum_ok(&f),
			      "IPv%d: checksum 0xffff for a sum of zero", fam);
		}
		/* zero: none over IPv4 (RFC 3948 2.1); refused over IPv6 (RFC 8200 8.1) */
		f.b[f.udp + 6] = f.b[f.udp + 7] = 0;
		if (fam == 4) {
			struct res r = runf(&f);

			CHECK(r.kind == RXSEC_PKT_ESP && !(r.md.flags & RXSEC_PKT_F_UDP_CSUM),
			      "IPv4 checksum 0: ESP, nothing to verify (flags %#x)", r.md.flags);
		} else {
			expect_kind(&f, RXSEC_PKT_MALFORMED, "IPv6 ESP in UDP without a checksum");
		}
		/* IKE and keepalives go to the host, whose UDP checks them */
		eth(&f, 0, 0, fam == 4 ? 0x0800 : 0x86dd);
		if (fam == 4)
			ipv4(&f, 17, 0, 0);
		else
			ipv6(&f, 17);
		udp(&f, 4500, 4500, "\0\0\0\0ike-header", 14);
		fix_len(&f);
		f.b[f.udp + 6] = 0xde;
		expect_kind(&f, RXSEC_PKT_OTHER, "IKE with a wrong checksum");
	}
}

static void
test_ethernet(void)
{
	struct fb f;
	uint8_t tiny[13] = { 0 };

	CHECK(run(tiny, 0).kind == RXSEC_PKT_OTHER, "empty frame");
	CHECK(run(tiny, 13).kind == RXSEC_PKT_OTHER, "13 bytes");
	eth(&f, 0, 0, 0x0806);		/* ARP */
	for (int i = 0; i < 28; i++)
		put8(&f, 0);
	expect_kind(&f, RXSEC_PKT_OTHER, "ARP");

	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 50, 0, 0);
	esp(&f, 0x1000, 32);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_ESP, 0x1000, 4, 34, 14 + 9, 0, "untagged ESP");

	eth(&f, 0x8100, 0, 0x0800);
	ipv4(&f, 50, 0, 0);
	esp(&f, 0x1001, 32);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_ESP, 0x1001, 4, 38, 18 + 9, 0, "802.1Q ESP");

	eth(&f, 0x88a8, 0, 0x86dd);
	ipv6(&f, 50);
	esp(&f, 0x1002, 32);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_ESP, 0x1002, 6, 58, 18 + 6, RXSEC_PKT_F_IPV6,
		     "802.1ad (one tag) ESP v6");

	/* Two tags (802.1ad + 802.1Q, QinQ). */
	eth(&f, 0x88a8, 0x8100, 0x0800);
	ipv4(&f, 50, 0, 0);
	esp(&f, 0x1003, 32);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_ESP, 0x1003, 4, 42, 22 + 9, 0, "QinQ ESP");

	/* Ethernet padding after a short datagram is not part of it. */
	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 50, 0, 0);
	esp(&f, 0x1004, 0);
	fix_len(&f);
	{
		uint32_t ip_end = f.len;
		struct res r;

		for (int i = 0; i < 18; i++)
			put8(&f, 0xee);
		r = runf(&f);
		CHECK(r.kind == RXSEC_PKT_ESP && r.md.ip_end == ip_end,
		      "padded frame: kind %d ip_end %u want %u", r.kind, r.md.ip_end, ip_end);
	}
	/* Ethertype IPv4 with a version 6 header and vice versa. */
	eth(&f, 0, 0, 0x0800);
	ipv6(&f, 50);
	esp(&f, 1, 8);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_MALFORMED, "ethertype IPv4, version 6");
	eth(&f, 0, 0, 0x86dd);
	ipv4(&f, 50, 0, 0);
	esp(&f, 1, 8);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_MALFORMED, "ethertype IPv6, version 4");
}

static void
test_ipv4(void)
{
	struct fb f;

	/* options: flag, IPsec header after them */
	for (uint32_t opt = 4; opt <= 40; opt += 12) {
		eth(&f, 0, 0, 0x0800);
		ipv4(&f, 50, 0, opt);
		esp(&f, 0x2000 + opt, 20);
		fix_len(&f);
		expect_ipsec(&f, RXSEC_PKT_ESP, 0x2000 + opt, 4, 34 + opt, 14 + 9,
			     RXSEC_PKT_F_IPV4_OPTS, "IPv4 options ESP");
	}
	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 51, 0, 8);
	ah(&f, 17, 0xabcdef01, 10);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_AH, 0xabcdef01, 4, 42, 14 + 9, RXSEC_PKT_F_IPV4_OPTS,
		     "IPv4 options AH");
	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 51, 0, 0);
	ah(&f, 4, 0x00000100, 0);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_AH, 0x100, 4, 34, 14 + 9, 0, "AH");

	/* fragments of ESP and AH (MF, offset, both) go to reassembly, their
	 * SPI unread (a later fragment has none); DF alone is not a fragment */
	static const uint16_t fr[] = { 0x2000, 0x0010, 0x2010, 0x1fff, 0x6000 };

	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 50, 0x4000, 0);
	esp(&f, 0x3000, 16);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_ESP, 0x3000, 4, 34, 23, 0, "IPv4 DF");
	for (unsigned int i = 0; i < RTE_DIM(fr); i++) {
		for (uint8_t proto = 50; proto <= 51; proto++) {
			struct res r;

			eth(&f, 0, 0, 0x0800);
			ipv4(&f, proto, fr[i], 0);
			esp(&f, 0x3000, 16);
			fix_len(&f);
			r = runf(&f);
			CHECK(r.kind == RXSEC_PKT_FRAGMENT && r.md.flags == RXSEC_PKT_F_FRAGMENT &&
			      r.md.ip_end == f.len && r.md.l3_off == 14,
			      "IPv4 fragment %04x proto %u: kind %d flags %x", fr[i], proto,
			      r.kind, r.md.flags);
		}
	}
	/* a later UDP fragment holds no UDP header: not read as one (4500);
	 * only reassembly knows whether its datagram began as ESP in UDP */
	expect_udp4_kind(&f, 17, 0x0010, 4500, 4500, RXSEC_PKT_UDP_FRAGMENT,
			 "later IPv4 UDP fragment");
	expect_udp4_kind(&f, 6, 0x0010, 4500, 4500, RXSEC_PKT_OTHER, "later IPv4 TCP fragment");
	/* a first fragment of ESP in UDP is reassembled; one of IKE or any
	 * other UDP is a UDP fragment (delivered unchanged; reassembly notes
	 * that its later fragments are plain UDP) */
	for (int ike = 0; ike <= 1; ike++) {
		static const uint8_t esp_pl[16] = { 0, 0, 0x30, 2, 0, 0, 0, 1 };
		static const uint8_t ike_pl[16] = { 0, 0, 0, 0, 0x11, 0x22 };
		struct res r;

		eth(&f, 0, 0, 0x0800);
		ipv4(&f, 17, 0x2000, 0);
		udp(&f, 4500, 4500, ike ? ike_pl : esp_pl, 16);
		fix_len(&f);
		r = runf(&f);
		if (ike)
			CHECK(r.kind == RXSEC_PKT_UDP_FRAGMENT && !(r.md.flags & RXSEC_PKT_F_UDP_ENCAP),
			      "first fragment of IKE: kind %d flags %x", r.kind, r.md.flags);
		else
			CHECK(r.kind == RXSEC_PKT_FRAGMENT &&
			      r.md.flags == (RXSEC_PKT_F_FRAGMENT | RXSEC_PKT_F_UDP_ENCAP) &&
			      r.md.ipsec_off == 14 + 20 + 8,
			      "first fragment of ESP in UDP: kind %d flags %x", r.kind, r.md.flags);
		sane(&r, f.len, "first UDP fragment");
	}
	expect_udp4_kind(&f, 17, 0x2000, 1234, 53, RXSEC_PKT_UDP_FRAGMENT,
			 "first fragment of UDP to port 53");
	expect_udp4_kind(&f, 17, 0, 1234, 53, RXSEC_PKT_OTHER, "whole UDP datagram to port 53");

	/* header inconsistencies */
	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 50, 0, 0);
	esp(&f, 1, 16);
	fix_len(&f);
	f.b[f.l3] = 0x44;			/* IHL 4 */
	expect_kind(&f, RXSEC_PKT_MALFORMED, "IHL < 5");
	f.b[f.l3] = 0x4f;			/* IHL 15 = 60 bytes, total length 44 */
	f.b[f.len_off] = 0;
	f.b[f.len_off + 1] = 44;
	expect_kind(&f, RXSEC_PKT_MALFORMED, "total length < IHL");
	f.b[f.l3] = 0x45;
	f.b[f.len_off] = 0x10;			/* longer than the frame */
	expect_kind(&f, RXSEC_PKT_MALFORMED, "total length > frame");
	f.b[f.len_off] = 0;
	f.b[f.len_off + 1] = 20;		/* just the header: ESP empty */
	expect_kind(&f, RXSEC_PKT_MALFORMED, "ESP with no bytes inside the datagram");

	/* other protocols */
	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 6, 0, 0);
	esp(&f, 1, 20);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_OTHER, "TCP");
	f.b[f.l3 + 9] = 1;
	expect_kind(&f, RXSEC_PKT_OTHER, "ICMP");
}

static void
test_ipsec_header_lengths(void)
{
	/* ESP needs its SPI (4 bytes), AH its SPI at 4..7 (classify.c); shorter
	 * cannot name an SA: malformed. Longer but still truncated headers are
	 * for the SA's checks (INVALID_PACKET_SYNTAX), so they classify. */
	for (int fam = 4; fam <= 6; fam += 2) {
		for (uint32_t k = 0; k <= 12; k++) {
			struct fb f;

			eth(&f, 0, 0, fam == 4 ? 0x0800 : 0x86dd);
			if (fam == 4)
				ipv4(&f, 50, 0, 0);
			else
				ipv6(&f, 50);
			esp(&f, 0x4000, 8);
			f.len = f.l3 + (fam == 4 ? 20 : 40) + k;
			fix_len(&f);
			expect_kind(&f, k < 4 ? RXSEC_PKT_MALFORMED : RXSEC_PKT_ESP, "ESP cut");

			eth(&f, 0, 0, fam == 4 ? 0x0800 : 0x86dd);
			if (fam == 4)
				ipv4(&f, 51, 0, 0);
			else
				ipv6(&f, 51);
			ah(&f, 17, 0x4001, 0);
			f.len = f.l3 + (fam == 4 ? 20 : 40) + k;
			fix_len(&f);
			expect_kind(&f, k < 8 ? RXSEC_PKT_MALFORMED : RXSEC_PKT_AH, "AH cut");
		}
	}
}

static void
test_udp(void)
{
	static const uint8_t espb[12] = { 0, 0, 0x50, 0, 0, 0, 0, 1, 9, 9, 9, 9 };
	static const uint8_t marker_ike[12] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t keepalive[1] = { 0xff };
	struct fb f;

	for (int fam = 4; fam <= 6; fam += 2) {
		uint32_t ip = fam == 4 ? 20 : 40;
		/* as Linux sends it: no UDP checksum over IPv4, one over IPv6 */
		uint8_t fl = fam == 4 ? 0 : RXSEC_PKT_F_IPV6 | RXSEC_PKT_F_UDP_CSUM;

#define UDP_FRAME(sp, dp, p, n) do {					\
		eth(&f, 0, 0, fam == 4 ? 0x0800 : 0x86dd);		\
		if (fam == 4)						\
			ipv4(&f, 17, 0, 0);				\
		else							\
			ipv6(&f, 17);					\
		udp(&f, sp, dp, p, n);					\
		fix_len(&f);						\
		if (fam == 6)						\
			udp_sum(&f);					\
	} while (0)

		UDP_FRAME(4500, 4500, espb, sizeof(espb));
		expect_ipsec(&f, RXSEC_PKT_ESP, 0x5000, (uint8_t)fam, 14 + ip + 8,
			     fam == 4 ? 23 : 20, fl | RXSEC_PKT_F_UDP_ENCAP, "ESP in UDP 4500");
		UDP_FRAME(31337, 4500, espb, sizeof(espb));	/* NAT: any source port */
		expect_ipsec(&f, RXSEC_PKT_ESP, 0x5000, (uint8_t)fam, 14 + ip + 8,
			     fam == 4 ? 23 : 20, fl | RXSEC_PKT_F_UDP_ENCAP, "ESP in UDP to 4500");
		UDP_FRAME(4500, 4500, keepalive, 1);
		expect_kind(&f, RXSEC_PKT_OTHER, "NAT-keepalive (RFC 3948 2.3)");
		UDP_FRAME(4500, 4500, marker_ike, sizeof(marker_ike));
		expect_kind(&f, RXSEC_PKT_OTHER, "IKE behind the non-ESP marker");
		UDP_FRAME(4500, 4500, marker_ike, 4);
		expect_kind(&f, RXSEC_PKT_OTHER, "bare non-ESP marker");
		UDP_FRAME(500, 500, espb, sizeof(espb));
		expect_kind(&f, RXSEC_PKT_OTHER, "UDP 500 (IKE) is never ESP");
		UDP_FRAME(4500, 9000, espb, sizeof(espb));
		expect_kind(&f, RXSEC_PKT_OTHER, "source port 4500 only");
		UDP_FRAME(4500, 4500, espb, 4);
		expect_kind(&f, RXSEC_PKT_OTHER, "4 bytes on 4500: not ESP (Linux: len <= 8)");
		UDP_FRAME(4500, 4500, espb, 8);
		expect_kind(&f, RXSEC_PKT_OTHER, "8 bytes on 4500: not ESP (Linux: len <= 8)");
		UDP_FRAME(4500, 4500, espb, 9);
		expect_kind(&f, RXSEC_PKT_ESP, "9 bytes on 4500: ESP, checked by its SA");
		/* a UDP header cut short by the IP length: not ESP */
		UDP_FRAME(4500, 4500, espb, sizeof(espb));
		f.len = f.l3 + ip + 6;
		fix_len(&f);
		expect_kind(&f, RXSEC_PKT_OTHER, "UDP header truncated");
		/* the UDP length, as Linux's UDP input reads it */
		for (int d = -1; d <= 1; d += 2) {
			struct res r;
			uint32_t ul = f.l3 + ip + 4;

			UDP_FRAME(4500, 4500, espb, sizeof(espb));
			f.b[ul + 1] = (uint8_t)(f.b[ul + 1] + 2 * d);
			r = runf(&f);
			CHECK(d > 0 ? r.kind == RXSEC_PKT_MALFORMED :
			      r.kind == RXSEC_PKT_ESP && r.md.ip_end == f.len - 2,
			      "UDP length %s the IP payload: kind %d ip_end %u",
			      d > 0 ? "2 beyond" : "2 short of", r.kind, r.md.ip_end);
		}
		UDP_FRAME(4500, 4500, espb, sizeof(espb));
		f.b[f.l3 + ip + 5] = 7;
		expect_kind(&f, RXSEC_PKT_MALFORMED, "UDP length 7");
		/* another NAT-T port, while an SA listens on it (natt_ports.h) */
		UDP_FRAME(4501, 4501, espb, sizeof(espb));
		expect_kind(&f, RXSEC_PKT_OTHER, "4501 without an SA on it");
		CHECK(rxsec_natt_port_hold(4501) == 0 && rxsec_natt_port_hold(4501) == 0,
		      "hold 4501 twice");
		expect_ipsec(&f, RXSEC_PKT_ESP, 0x5000, (uint8_t)fam, 14 + ip + 8,
			     fam == 4 ? 23 : 20, fl | RXSEC_PKT_F_UDP_ENCAP, "ESP in UDP to 4501");
		UDP_FRAME(4501, 4501, marker_ike, sizeof(marker_ike));
		expect_kind(&f, RXSEC_PKT_OTHER, "IKE on 4501");
		UDP_FRAME(4501, 4501, espb, sizeof(espb));
		rxsec_natt_port_release(4501);
		expect_kind(&f, RXSEC_PKT_ESP, "4501 still held once");
		rxsec_natt_port_release(4501);
		expect_kind(&f, RXSEC_PKT_OTHER, "4501 released");
#undef UDP_FRAME
	}
	/* room for RXSEC_NATT_PORTS_MAX other ports; 4500 needs none */
	for (uint16_t p = 0; p < RXSEC_NATT_PORTS_MAX; p++)
		CHECK(rxsec_natt_port_hold(5000 + p) == 0, "hold port %u", 5000 + p);
	CHECK(rxsec_natt_port_hold(6000) == -1 && rxsec_natt_port_hold(4500) == 0,
	      "a ninth port refused, 4500 always there");
	for (uint16_t p = 0; p < RXSEC_NATT_PORTS_MAX; p++)
		rxsec_natt_port_release(5000 + p);
	CHECK(!rxsec_natt_port(5000) && rxsec_natt_ports_used == 0, "all released");
}

static void
test_ipv6(void)
{
	struct fb f;

	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 50);
	esp(&f, 0x6000, 40);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_ESP, 0x6000, 6, 54, 20, RXSEC_PKT_F_IPV6, "IPv6 ESP");

	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 51);
	ah(&f, 59, 0x6001, 4);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_AH, 0x6001, 6, 54, 20, RXSEC_PKT_F_IPV6, "IPv6 AH");

	/* hop-by-hop (8) + dest-opts (16) + ESP: nh_off is dest-opts' first byte */
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 0);
	ext6(&f, 60, 0);
	ext6(&f, 50, 1);
	esp(&f, 0x6002, 40);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_ESP, 0x6002, 6, 54 + 24, 54 + 8,
		     RXSEC_PKT_F_IPV6 | RXSEC_PKT_F_IPV6_EXT, "IPv6 HBH + DO + ESP");

	/* routing + dest-opts + AH */
	eth(&f, 0x8100, 0, 0x86dd);
	ipv6(&f, 43);
	ext6(&f, 60, 2);
	ext6(&f, 51, 0);
	ah(&f, 6, 0x6003, 0);
	fix_len(&f);
	expect_ipsec(&f, RXSEC_PKT_AH, 0x6003, 6, 58 + 32, 58 + 24,
		     RXSEC_PKT_F_IPV6 | RXSEC_PKT_F_IPV6_EXT, "IPv6 routing + DO + AH");

	/* fragment header: always 8 bytes, whatever its second byte says */
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 44);
	put8(&f, 50);
	put8(&f, 0xff);		/* reserved: must not be read as a length */
	put16(&f, 0x0001);	/* offset 0, M=1 */
	put32(&f, 0x12345678);
	esp(&f, 0x6004, 16);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_FRAGMENT, "IPv6 fragment header, first fragment of ESP");
	/* a later fragment: what follows the fragment header is not parsed;
	 * one naming destination options is IPsec if its first fragment
	 * shows ESP or AH behind them (reassembly decides) */
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 44);
	put8(&f, 60);		/* destination options, in the first fragment */
	put8(&f, 0);
	put16(&f, 0x0008);	/* offset 8 bytes, M=0 */
	put32(&f, 0x12345678);
	esp(&f, 0x6004, 16);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_UDP_FRAGMENT, "IPv6 later fragment, fragment header names DO");
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 44);
	put8(&f, 6);		/* TCP */
	put8(&f, 0);
	put16(&f, 0x0008);
	put32(&f, 0x12345678);
	esp(&f, 0x6004, 16);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_OTHER, "IPv6 later fragment, next header TCP");
	/* first fragments behind DO: ESP and AH are reassembled; another
	 * protocol is noted by reassembly, so its later fragments pass */
	for (int k = 0; k < 3; k++) {
		static const uint8_t upper[3] = { 50, 51, 6 };
		static const enum rxsec_pkt_kind want[3] = {
			RXSEC_PKT_FRAGMENT, RXSEC_PKT_FRAGMENT, RXSEC_PKT_UDP_FRAGMENT
		};

		eth(&f, 0, 0, 0x86dd);
		ipv6(&f, 44);
		put8(&f, 60);
		put8(&f, 0);
		put16(&f, 0x0001);	/* offset 0, M=1 */
		put32(&f, 0x12345678);
		ext6(&f, upper[k], 0);
		if (upper[k] == 51)
			ah(&f, 4, 0x6005, 16);
		else
			esp(&f, 0x6004, 16);	/* or TCP-shaped bytes */
		fix_len(&f);
		expect_kind(&f, want[k], upper[k] == 50 ? "IPv6 first fragment, DO + ESP" :
			    upper[k] == 51 ? "IPv6 first fragment, DO + AH" :
			    "IPv6 first fragment, DO + TCP");
	}
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 44);
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, 0x0008);
	put32(&f, 0x12345678);
	esp(&f, 0x6004, 16);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_UDP_FRAGMENT, "IPv6 later fragment of UDP");
	{
		static const uint8_t esp_pl[16] = { 0, 0, 0x60, 9, 0, 0, 0, 1 };
		struct res r;

		eth(&f, 0, 0, 0x86dd);
		ipv6(&f, 44);
		put8(&f, 17);
		put8(&f, 0);
		put16(&f, 0x0001);	/* offset 0, M=1 */
		put32(&f, 0x12345678);
		udp(&f, 4500, 4500, esp_pl, 16);
		fix_len(&f);
		r = runf(&f);
		CHECK(r.kind == RXSEC_PKT_FRAGMENT && (r.md.flags & RXSEC_PKT_F_UDP_ENCAP),
		      "IPv6 first fragment of ESP in UDP: kind %d flags %x", r.kind, r.md.flags);
	}

	/* dest-opts + UDP-ESP */
	{
		static const uint8_t espb[12] = { 0, 0, 0x60, 5, 0, 0, 0, 1 };

		eth(&f, 0, 0, 0x86dd);
		ipv6(&f, 60);
		ext6(&f, 17, 0);
		udp(&f, 4500, 4500, espb, sizeof(espb));
		fix_len(&f);
		udp_sum(&f);
		expect_ipsec(&f, RXSEC_PKT_ESP, 0x6005, 6, 54 + 8 + 8, 54,
			     RXSEC_PKT_F_IPV6 | RXSEC_PKT_F_IPV6_EXT | RXSEC_PKT_F_UDP_ENCAP |
			     RXSEC_PKT_F_UDP_CSUM, "IPv6 DO + UDP-ESP");
		CHECK(udp_cksum_ok(&f), "IPv6 DO + UDP-ESP: the checksum");
	}

	/* an extension header longer than the datagram */
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 60);
	ext6(&f, 50, 0);
	esp(&f, 1, 8);
	fix_len(&f);
	f.b[54 + 1] = 10;	/* 88 bytes */
	expect_kind(&f, RXSEC_PKT_MALFORMED, "dest-opts past the end");

	/* a chain of nine extension headers: the walk gives up, not IPsec */
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 60);
	for (int i = 0; i < 8; i++)
		ext6(&f, 60, 0);
	ext6(&f, 50, 0);
	esp(&f, 0x6006, 8);
	fix_len(&f);
	{
		struct res r = runf(&f);

		CHECK(r.kind != RXSEC_PKT_ESP && r.kind != RXSEC_PKT_AH,
		      "nine extension headers: kind %d", r.kind);
		sane(&r, f.len, "nine extension headers");
	}

	/* payload length beyond the frame */
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 50);
	esp(&f, 1, 8);
	fix_len(&f);
	f.b[f.len_off + 1] += 1;
	expect_kind(&f, RXSEC_PKT_MALFORMED, "IPv6 payload length > frame");
	eth(&f, 0, 0, 0x86dd);
	ipv6(&f, 58);
	esp(&f, 1, 8);
	fix_len(&f);
	expect_kind(&f, RXSEC_PKT_OTHER, "ICMPv6");
}

/* Every frame of a set, cut at every length: no read past len (ASan), and
 * a cut datagram is never IPsec; then with the IP length following the cut
 * (the datagram itself is short) the offsets stay inside it. */
static void
test_truncation(void)
{
	static const uint8_t espb[12] = { 0, 0, 0x70, 0, 0, 0, 0, 1, 1, 2, 3, 4 };
	struct fb set[8];
	unsigned int n = 0;

	eth(&set[n], 0, 0, 0x0800);
	ipv4(&set[n], 50, 0, 0);
	esp(&set[n], 0x7000, 24);
	fix_len(&set[n++]);
	eth(&set[n], 0x8100, 0, 0x0800);
	ipv4(&set[n], 51, 0, 12);
	ah(&set[n], 50, 0x7001, 8);
	fix_len(&set[n++]);
	eth(&set[n], 0x88a8, 0, 0x86dd);
	ipv6(&set[n], 0);
	ext6(&set[n], 43, 0);
	ext6(&set[n], 60, 1);
	ext6(&set[n], 50, 0);
	esp(&set[n], 0x7002, 16);
	fix_len(&set[n++]);
	eth(&set[n], 0, 0, 0x86dd);
	ipv6(&set[n], 44);
	put8(&set[n], 51);	/* an atomic fragment (RFC 6946): a whole datagram */
	put8(&set[n], 0);
	put16(&set[n], 0);
	put32(&set[n], 0x0a0b0c0d);
	ah(&set[n], 17, 0x7003, 0);
	fix_len(&set[n++]);
	eth(&set[n], 0, 0, 0x0800);
	ipv4(&set[n], 17, 0, 4);
	udp(&set[n], 4500, 4500, espb, sizeof(espb));
	fix_len(&set[n++]);
	eth(&set[n], 0x8100, 0, 0x86dd);
	ipv6(&set[n], 17);
	udp(&set[n], 4500, 4500, espb, sizeof(espb));
	fix_len(&set[n]);
	udp_sum(&set[n++]);

	for (unsigned int s = 0; s < n; s++) {
		const struct fb *full = &set[s];
		struct res whole = runf(full);

		CHECK(whole.kind == RXSEC_PKT_ESP || whole.kind == RXSEC_PKT_AH,
		      "set %u: the whole frame is IPsec (kind %d)", s, whole.kind);
		for (uint32_t len = 0; len < full->len; len++) {
			struct res r = run(full->b, len);
			struct fb cut = *full;
			char what[64];

			snprintf(what, sizeof(what), "set %u cut at %u", s, len);
			sane(&r, len, what);
			CHECK(r.kind == (len < full->l3 ? RXSEC_PKT_OTHER : RXSEC_PKT_MALFORMED),
			      "%s: kind %d", what, r.kind);

			/* the same, with the IP length matching the cut */
			if (len < full->len_off + 2)
				continue;
			cut.len = len;
			if (!cut.v6 && len < cut.l3 + 20)
				continue;
			if (cut.v6 && len < cut.l3 + 40)
				continue;
			fix_len(&cut);
			r = runf(&cut);
			snprintf(what, sizeof(what), "set %u IP length cut to %u", s, len);
			sane(&r, len, what);
		}
	}
}

/* Random bytes behind each ethertype; the invariants and ASan decide. */
static void
test_random(void)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806 };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t b[256];

	for (int it = 0; it < 200000; it++) {
		uint32_t len;

		for (unsigned int i = 0; i < sizeof(b); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[i] = (uint8_t)x;
		}
		len = (uint32_t)(x >> 40) % sizeof(b);
		b[12] = (uint8_t)(types[it % RTE_DIM(types)] >> 8);
		b[13] = (uint8_t)types[it % RTE_DIM(types)];
		if (it & 1) {	/* plausible headers more often */
			b[14] = (it & 2) ? 0x45 + (uint8_t)((x >> 8) % 4) : 0x60;
			b[16] = 0;
			b[17] = (uint8_t)(len > 14 ? len - 14 : 0);
			b[18] = 0;
			b[19] = (uint8_t)(len > 54 ? len - 54 : 0);
			b[23] = (x & 4) ? 50 : 51;
		}
		struct res r = run(b, len);

		sane(&r, len, "random");
		if (fails > 20)
			return;
	}
}

/* The inline common case against the full parser (run() compares them) at
 * its edges: every byte it reads set to values just inside and just outside
 * its conditions, every IP total length around the frame's, every length. */
static void
test_inline_edges(void)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x04, 0x08, 0x1f, 0x20, 0x32, 0x33,
					0x3f, 0x40, 0x44, 0x45, 0x46, 0x4f, 0x55, 0x80,
					0x86, 0xc0, 0xdd, 0xff };
	struct fb f, g;
	struct res r;

	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 50, 0, 0);
	esp(&f, 0x01020304, 24);
	fix_len(&f);
	for (uint32_t at = 12; at < 42; at++)
		for (unsigned int v = 0; v < RTE_DIM(vals); v++) {
			g = f;
			g.b[at] = vals[v];
			r = runf(&g);
			sane(&r, g.len, "inline edge byte");
		}
	for (uint32_t tot = 0; tot <= f.len - f.l3 + 2; tot++) {
		g = f;
		g.b[f.len_off] = (uint8_t)(tot >> 8);
		g.b[f.len_off + 1] = (uint8_t)tot;
		r = runf(&g);
		sane(&r, g.len, "inline edge length");
	}
	for (uint32_t len = 0; len <= f.len; len++) {
		r = run(f.b, len);
		sane(&r, len, "inline edge truncation");
	}
}

/* rxsec_classify_inner: a tunnel SA's inner IPv4/IPv6 packet in transport
 * ESP/AH, and AH followed by ESP under one header (RFC 4302 3.1). */
static void
test_inner(void)
{
	struct fb f;
	struct rxsec_pkt_meta out, in;
	struct rxsec_sa_key key;
	uint32_t inner_l3;

	/* outer IPv4 ESP, plaintext = IPv6 + AH */
	eth(&f, 0, 0, 0x0800);
	ipv4(&f, 50, 0, 0);
	esp(&f, 0x8000, 8);			/* SPI, seq, 8-byte IV */
	inner_l3 = f.len;
	{
		struct fb g;

		eth(&g, 0, 0, 0x86dd);
		ipv6(&g, 51);
		ah(&g, 17, 0x8001, 0);
		fix_len(&g);
		put(&f, g.b + g.l3, g.len - g.l3);
	}
	for (int i = 0; i < 18; i++)		/* pad, trailer, ICV */
		put8(&f, 0);
	fix_len(&f);
	CHECK(runf(&f).kind == RXSEC_PKT_ESP, "outer");
	out = runf(&f).md;
	out.payload_off = (uint16_t)inner_l3;
	out.payload_end = (uint16_t)(f.len - 18);
	out.next_proto = 41;
	CHECK(rxsec_classify_inner(f.b, &out, RXSEC_MODE_TUNNEL, &in, &key) == RXSEC_NEST_TUNNEL,
	      "tunnel carrying IPv6 AH");
	CHECK(in.kind == RXSEC_PKT_AH && in.l3_off == inner_l3 && in.ipsec_off == inner_l3 + 40 &&
	      key.family == 6 && key.spi == be32(0x8001) && key.proto == 51 &&
	      memcmp(key.dst, DST6, 16) == 0 && in.ip_end == out.payload_end,
	      "inner meta: kind %u l3 %u ipsec %u end %u", in.kind, in.l3_off, in.ipsec_off,
	      in.ip_end);
	CHECK(rxsec_classify_inner(f.b, &out, RXSEC_MODE_TRANSPORT, &in, &key) == RXSEC_NEST_NONE,
	      "transport SA: no tunnel nesting");
	out.next_proto = 4;
	CHECK(rxsec_classify_inner(f.b, &out, RXSEC_MODE_TUNNEL, &in, &key) == RXSEC_NEST_NONE,
	      "next header 4 over an IPv6 packet: not nested");
	out.next_proto = 17;
	CHECK(rxsec_classify_inner(f.b, &out, RXSEC_MODE_TUNNEL, &in, &key) == RXSEC_NEST_NONE,
	      "UDP: not nested");

	/* a tunnel carrying ESP in UDP: nested only if its UDP sum holds, and
	 * (IPv4) its IP header sum: ip_rcv sees the inner packet first */
	for (int fam = 4; fam <= 6; fam += 2) {
		static const uint8_t espb[16] = { 0, 0, 0x80, 2, 0, 0, 0, 1, 7, 7, 7, 7 };

		for (int sum = 0; sum < (fam == 4 ? 4 : 3); sum++) {
			/* right, wrong, zero UDP sum; wrong IPv4 header sum */
			static const char *const what[] = { "right", "wrong", "zero",
							    "right UDP, wrong IPv4 header" };
			struct fb g;
			enum rxsec_pkt_nest want = sum == 1 || sum == 3 || (sum == 2 && fam == 6) ?
				RXSEC_NEST_NONE : RXSEC_NEST_TUNNEL;

			eth(&g, 0, 0, fam == 4 ? 0x0800 : 0x86dd);
			if (fam == 4)
				ipv4(&g, 17, 0, 0);
			else
				ipv6(&g, 17);
			udp(&g, 4500, 4500, espb, sizeof(espb));
			fix_len(&g);
			udp_sum(&g);
			if (fam == 4)
				ipv4_sum(&g);
			if (sum == 1)
				g.b[g.udp + 7] ^= 1;
			if (sum == 2)
				g.b[g.udp + 6] = g.b[g.udp + 7] = 0;
			if (sum == 3)
				g.b[g.l3 + 11] ^= 1;
			eth(&f, 0, 0, 0x0800);
			ipv4(&f, 50, 0, 0);
			esp(&f, 0x8000, 8);
			inner_l3 = f.len;
			put(&f, g.b + g.l3, g.len - g.l3);
			for (int i = 0; i < 18; i++)
				put8(&f, 0);
			fix_len(&f);
			out = runf(&f).md;
			out.payload_off = (uint16_t)inner_l3;
			out.payload_end = (uint16_t)(f.len - 18);
			out.next_proto = fam == 4 ? 4 : 41;
			CHECK(rxsec_classify_inner(f.b, &out, RXSEC_MODE_TUNNEL, &in, &key) == want,
			      "tunnel carrying IPv%d ESP in UDP, %s sum", fam, what[sum]);
		}
	}

	/* AH (transport) over ESP under one IPv4 header */
	eth(&f, 0x8100, 0, 0x0800);
	ipv4(&f, 51, 0, 0);
	ah(&f, 50, 0x8100, 0);
	esp(&f, 0x8101, 24);
	fix_len(&f);
	out = runf(&f).md;
	CHECK(out.kind == RXSEC_PKT_AH, "AH outer");
	out.payload_off = (uint16_t)(out.ipsec_off + 24);
	out.payload_end = (uint16_t)f.len;
	out.next_proto = 50;
	CHECK(rxsec_classify_inner(f.b, &out, RXSEC_MODE_TRANSPORT, &in, &key) == RXSEC_NEST_BUNDLE,
	      "AH over ESP");
	CHECK(in.kind == RXSEC_PKT_ESP && in.ipsec_off == out.payload_off &&
	      in.nh_off == out.ipsec_off && key.spi == be32(0x8101) && key.family == 4 &&
	      memcmp(key.dst, DST4, 4) == 0 && in.l3_off == out.l3_off,
	      "bundle meta: kind %u ipsec %u nh %u", in.kind, in.ipsec_off, in.nh_off);
	/* ESP cut to 3 bytes after AH: no second layer */
	out.payload_end = (uint16_t)(out.payload_off + 3);
	CHECK(rxsec_classify_inner(f.b, &out, RXSEC_MODE_TRANSPORT, &in, &key) == RXSEC_NEST_NONE,
	      "AH over a 3-byte ESP");
}

/* pkt_meta.h's word-wise check against DPDK's 16-bit sum, on headers of
 * every length with right and wrong checksums. */
static void
test_ipv4_header_cksum(void)
{
	uint8_t h[60];
	uint32_t seed = 12345, bad = 0;

	for (int i = 0; i < 20000; i++) {
		uint32_t len = 20 + 4 * (uint32_t)(i % 11);

		for (uint32_t k = 0; k < sizeof(h); k++) {
			seed = seed * 1103515245u + 12345u;
			h[k] = (uint8_t)(seed >> 16);
			/* a third mostly 0xff: carries out of every word size */
			if (i % 3 == 1 && (seed >> 27) != 0)
				h[k] = 0xff;
		}
		h[0] = (uint8_t)(0x40 | len / 4);
		if (i % 2 == 0) {
			h[10] = h[11] = 0;
			uint16_t ck = (uint16_t)~rte_raw_cksum(h, len);

			memcpy(h + 10, &ck, 2);
		}
		if (rxsec_ipv4_sum_ok(h, len) != (rte_raw_cksum(h, len) == 0xffff))
			bad++;
		if (i % 2 == 0 && !rxsec_ipv4_sum_ok(h, len))
			bad++;
	}
	CHECK(bad == 0, "IPv4 header checksum: %u disagreements", bad);
}

int
main(void)
{
	test_ethernet();
	test_ipv4();
	test_ipsec_header_lengths();
	test_udp();
	test_udp_cksum();
	test_ipv6();
	test_truncation();
	test_random();
	test_inline_edges();
	test_inner();
	test_ipv4_header_cksum();
	printf("classify: %d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
