/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of lib/reassembly.c on hand-built IPv4 and IPv6 fragments of
 * ESP datagrams, with the clock in the test's hands:
 *  1. in order, out of order, with Ethernet padding: the datagram's bytes,
 *     lengths, IPv4 checksum, cleared fragment bits, classified as ESP;
 *  2. IPv6: the fragment header removed, payload length and next header;
 *  3. a fragment header behind hop-by-hop options is refused;
 *  4. timeout: a fragment older than the timeout does not complete a
 *     datagram, and expire() discards it;
 *  5. a full table discards; overlapping fragments never complete;
 *  6. a datagram longer than 9216 bytes stays a chain (too_long);
 *  7. accounting: held, datagrams, discarded and waiting add up, and every
 *     mbuf is back in its pool after rxsec_reassembly_free();
 *  8. ESP in UDP: later fragments join only a datagram whose first fragment
 *     was ESP in UDP; copies of later fragments ahead of their first join
 *     it when it comes, and are freed for plain UDP or after the timeout;
 *  9. the same for IPv6 whose fragment header names destination options,
 *     with ESP (or TCP) behind them in the first fragment;
 * 10. the transport stage each fragment goes to (rxsec_reassembly_stage_of):
 *     one for every fragment of a datagram, all stages used.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "classify.h"
#include "eal_exit.h"
#include "flatten.h"
#include "pkt_meta.h"
#include "reassembly.h"
#include "rxsec_result.h"

#define TIMEOUT_MS	100

static unsigned int n_pass, n_fail;
static struct rte_mempool *pool, *big;

#define CHECK(c, ...) check((c), __LINE__, __VA_ARGS__)

static bool
check(bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass++;
		return true;
	}
	printf("FAIL test_reassembly.c:%d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	n_fail++;
	return false;
}

/* The datagram's payload: an ESP header (SPI 0x4000) then a pattern. */
static uint8_t
payload_byte(uint32_t i)
{
	static const uint8_t esp[8] = { 0, 0, 0x40, 0, 0, 0, 0, 1 };

	return i < 8 ? esp[i] : (uint8_t)(i * 7 + 3);
}

static void
put_eth(uint8_t *f, uint16_t type)
{
	memset(f, 0x02, 12);
	f[12] = type >> 8;
	f[13] = type & 0xff;
}

/* One IPv4 fragment: payload bytes [off, off + len) of datagram `id`. */
static struct rte_mbuf *
frag4(uint16_t id, uint32_t off, uint32_t len, bool more, uint32_t pad)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + len + pad));
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);

	put_eth(f, RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)((off / 8) | (more ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->time_to_live = 64;
	ip->next_proto_id = 50;
	ip->src_addr = rte_cpu_to_be_32(0xc0000201);
	ip->dst_addr = rte_cpu_to_be_32(0xc0000202);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	for (uint32_t i = 0; i < len; i++)
		f[34 + i] = payload_byte(off + i);
	memset(f + 34 + len, 0, pad);
	return m;
}

/* One IPv6 fragment; hbh bytes (a multiple of 8) of hop-by-hop options
 * before the fragment header, none if 0. */
static struct rte_mbuf *
frag6(uint32_t id, uint32_t off, uint32_t len, bool more, uint32_t hbh)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 40 + hbh + 8 + len));
	uint8_t *fh = f + 54 + hbh;

	put_eth(f, RTE_ETHER_TYPE_IPV6);
	memset(f + 14, 0, 40 + hbh);
	f[14] = 0x60;
	f[18] = (uint8_t)((hbh + 8 + len) >> 8);
	f[19] = (uint8_t)(hbh + 8 + len);
	f[20] = hbh ? 0 : 44;
	f[21] = 64;
	f[14 + 8 + 15] = 1;
	f[14 + 24 + 15] = 2;
	if (hbh) {
		f[54] = 44;
		f[55] = (uint8_t)(hbh / 8 - 1);
		f[56] = 1;	/* PadN over the rest */
		f[57] = (uint8_t)(hbh - 4);
	}
	fh[0] = 50;
	fh[1] = 0;
	fh[2] = (uint8_t)(off >> 8);
	fh[3] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
	fh[4] = (uint8_t)(id >> 24);
	fh[5] = (uint8_t)(id >> 16);
	fh[6] = (uint8_t)(id >> 8);
	fh[7] = (uint8_t)id;
	for (uint32_t i = 0; i < len; i++)
		fh[8 + i] = payload_byte(off + i);
	return m;
}

/* What the engine does before the transport sees a fragment. */
static struct rte_mbuf *
classified(struct rte_mbuf *m, uint32_t n)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);
	struct rxsec_sa_key key;

	*rxsec_result_ptr(m) = 0;
	p->n = n;
	p->nest = RXSEC_NEST_NONE;
	rxsec_classify_frame(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			     &p->outer, &key);
	return m;
}

static enum rxsec_reassembly_result
add(struct rxsec_reassembly *r, struct rte_mbuf *m, uint64_t now, struct rte_mbuf **out,
    struct rxsec_sa_key *key)
{
	static uint32_t n;

	classified(m, n++);
	CHECK(rxsec_pkt_meta(m)->kind == RXSEC_PKT_FRAGMENT, "classified as a fragment (kind %d)",
	      rxsec_pkt_meta(m)->kind);
	*out = NULL;
	return rxsec_reassembly_add(r, m, now, out, key);
}

static bool
payload_is(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != payload_byte(i))
			return false;
	return true;
}

static void
check_datagram4(struct rte_mbuf *d, const struct rxsec_sa_key *key, uint32_t len,
		const char *what)
{
	const struct rxsec_pkt_meta *md;
	const struct rte_ipv4_hdr *ip;

	if (!CHECK(d != NULL && rte_pktmbuf_is_contiguous(d), "%s: one segment", what))
		return;
	md = rxsec_pkt_meta(d);
	ip = rte_pktmbuf_mtod_offset(d, const struct rte_ipv4_hdr *, 14);
	CHECK(rte_pktmbuf_data_len(d) == 14 + 20 + len, "%s: length %u, want %u", what,
	      rte_pktmbuf_data_len(d), 14 + 20 + len);
	CHECK(rte_be_to_cpu_16(ip->total_length) == 20 + len, "%s: total length", what);
	CHECK((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
						      RTE_IPV4_HDR_OFFSET_MASK)) == 0,
	      "%s: fragment bits cleared", what);
	CHECK(rte_raw_cksum(ip, 20) == 0xffff, "%s: header checksum", what);
	CHECK(payload_is((const uint8_t *)(ip + 1), len), "%s: payload bytes", what);
	CHECK(md->kind == RXSEC_PKT_ESP && key->spi == rte_cpu_to_be_32(0x4000) &&
	      md->flags == 0, "%s: classified as ESP (kind %d flags %x)", what, md->kind,
	      md->flags);
	CHECK(*rxsec_result_ptr(d) == 0, "%s: result record zero", what);
	rte_pktmbuf_free(d);
}

static void
test_ipv4(struct rxsec_reassembly *r)
{
	struct rte_mbuf *d, *m;
	struct rxsec_sa_key key;

	/* in order */
	CHECK(add(r, frag4(1, 0, 1480, true, 0), 0, &d, &key) == RXSEC_REASM_HELD, "v4 held");
	CHECK(add(r, frag4(1, 1480, 1480, true, 0), 0, &d, &key) == RXSEC_REASM_HELD, "v4 held");
	CHECK(add(r, frag4(1, 2960, 100, false, 0), 0, &d, &key) == RXSEC_REASM_DONE, "v4 done");
	check_datagram4(d, &key, 3060, "v4 in order (flattened into a large buffer)");

	/* out of order, the first fragment last; a short last one padded */
	CHECK(add(r, frag4(2, 512, 8, false, 18), 0, &d, &key) == RXSEC_REASM_HELD, "v4 held");
	CHECK(add(r, frag4(2, 256, 256, true, 0), 0, &d, &key) == RXSEC_REASM_HELD, "v4 held");
	CHECK(add(r, frag4(2, 0, 256, true, 0), 0, &d, &key) == RXSEC_REASM_DONE, "v4 done");
	check_datagram4(d, &key, 520, "v4 out of order, padded last fragment");
	/* a damaged header would be rebuilt with a fresh checksum: refused */
	m = frag4(5, 0, 64, true, 0);
	rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 10)[0] ^= 0x40;
	CHECK(add(r, m, 0, &d, &key) == RXSEC_REASM_REFUSED, "v4 bad header checksum refused");
	rte_pktmbuf_free(m);
	rxsec_reassembly_collect(r);
	CHECK(r->stats->held == 4 && r->stats->datagrams == 2 && r->stats->waiting == 0 &&
	      r->stats->discarded == 0, "v4 counters: held %lu datagrams %lu waiting %lu",
	      (unsigned long)r->stats->held, (unsigned long)r->stats->datagrams,
	      (unsigned long)r->stats->waiting);
}

/* A fragment's DS field, as a router on the path left it. */
static struct rte_mbuf *
with_ds(struct rte_mbuf *m, uint8_t ds)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);

	if (ip[0] >> 4 == 4) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

		h->type_of_service = ds;
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
	} else {
		ip[0] = (uint8_t)(0x60 | ds >> 4);
		ip[1] = (uint8_t)((ip[1] & 0x0f) | ds << 4);
	}
	return m;
}

/* Three fragments of a datagram with DS fields ds[0..2] (by offset), sent
 * last first; the datagram's DS field, or -1 if it was discarded. */
static int
ecn_datagram(struct rxsec_reassembly *r, bool v6, uint32_t id, const uint8_t ds[3])
{
	struct rte_mbuf *d = NULL, *f[3];
	struct rxsec_sa_key key;
	enum rxsec_reassembly_result res = RXSEC_REASM_HELD;
	int out;

	for (int k = 0; k < 3; k++)
		f[k] = with_ds(v6 ? frag6(id, 64u * k, 64, k < 2, 0) :
				    frag4((uint16_t)id, 64u * k, 64, k < 2, 0), ds[k]);
	for (int k = 2; k >= 0; k--)
		res = add(r, f[k], 0, &d, &key);
	if (res != RXSEC_REASM_DONE)
		return -1;
	if (!v6)
		CHECK(rte_raw_cksum(rte_pktmbuf_mtod_offset(d, void *, 14), 20) == 0xffff,
		      "ecn v4 %u: header checksum", id);
	CHECK(payload_is(rte_pktmbuf_mtod_offset(d, uint8_t *, v6 ? 54 : 34), 192),
	      "ecn %u: payload bytes", id);
	out = rxsec_ip_dsfield(rte_pktmbuf_mtod_offset(d, uint8_t *, 14));
	rte_pktmbuf_free(d);
	return out;
}

/* RFC 3168 5.3 with Linux's table (ip_frag_ecn_table). */
static void
test_ecn(struct rxsec_reassembly *r)
{
	static const struct {
		uint8_t ds[3];
		int want;
	} t[] = {
		{ { 0x02, 0x02, 0x03 }, 0x03 },	/* CE on a later fragment marks it */
		{ { 0xb9, 0x03, 0x01 }, 0xbb },	/* ... under the first one's DSCP */
		{ { 0x03, 0x02, 0x02 }, 0x03 },
		{ { 0x01, 0x02, 0x01 }, 0x01 },	/* ECT(1) and ECT(0): the first's */
		{ { 0x03, 0x03, 0x03 }, 0x03 },
		{ { 0xb8, 0x00, 0x00 }, 0xb8 },	/* all Not-ECT: unchanged */
		{ { 0x00, 0x03, 0x00 }, -1 },	/* Not-ECT with CE: invalid */
		{ { 0x02, 0x02, 0x00 }, -1 },	/* Not-ECT with ECT(0): invalid */
	};
	uint64_t discarded = r->stats->discarded;
	uint32_t bad = 0;

	for (uint32_t v6 = 0; v6 < 2; v6++)
		for (uint32_t i = 0; i < RTE_DIM(t); i++) {
			int got = ecn_datagram(r, v6, 0xec00 + i, t[i].ds);

			CHECK(got == t[i].want, "ecn v%d case %u: DS %d, want %d", v6 ? 6 : 4, i,
			      got, t[i].want);
			bad += t[i].want < 0;
		}
	CHECK(r->stats->discarded - discarded == 3 * bad && r->stats->waiting == 0,
	      "ecn: every fragment of an invalid datagram discarded (%lu)",
	      (unsigned long)(r->stats->discarded - discarded));
}

static void
test_ipv6(struct rxsec_reassembly *r)
{
	struct rte_mbuf *d, *m;
	struct rxsec_sa_key key;
	const uint8_t *f;

	CHECK(add(r, frag6(7, 600, 200, false, 0), 0, &d, &key) == RXSEC_REASM_HELD, "v6 held");
	CHECK(add(r, frag6(7, 0, 600, true, 0), 0, &d, &key) == RXSEC_REASM_DONE, "v6 done");
	if (CHECK(d != NULL && rte_pktmbuf_is_contiguous(d), "v6: one segment")) {
		f = rte_pktmbuf_mtod(d, const uint8_t *);
		CHECK(rte_pktmbuf_data_len(d) == 14 + 40 + 800, "v6: length %u",
		      rte_pktmbuf_data_len(d));
		CHECK(f[20] == 50 && (f[18] << 8 | f[19]) == 800,
		      "v6: next header %u payload length %u", f[20], f[18] << 8 | f[19]);
		CHECK(payload_is(f + 54, 800), "v6: payload bytes");
		CHECK(rxsec_pkt_meta(d)->kind == RXSEC_PKT_ESP &&
		      key.spi == rte_cpu_to_be_32(0x4000), "v6: classified as ESP");
		rte_pktmbuf_free(d);
	}
	/* hop-by-hop options before the fragment header (RFC 8200 4.5): the
	 * datagram keeps the first fragment's, whatever later ones carry */
	m = frag6(8, 64, 100, false, 8);
	rte_pktmbuf_mtod(m, uint8_t *)[54 + 4] = 0x55;	/* PadN data differs */
	CHECK(add(r, m, 0, &d, &key) == RXSEC_REASM_HELD, "v6 behind hop-by-hop: held");
	CHECK(add(r, frag6(8, 0, 64, true, 8), 0, &d, &key) == RXSEC_REASM_DONE,
	      "v6 behind hop-by-hop: done");
	if (CHECK(d != NULL && rte_pktmbuf_is_contiguous(d), "v6 hop-by-hop: one segment")) {
		f = rte_pktmbuf_mtod(d, const uint8_t *);
		CHECK(rte_pktmbuf_data_len(d) == 14 + 40 + 8 + 164 &&
		      (f[18] << 8 | f[19]) == 8 + 164, "v6 hop-by-hop: length %u",
		      rte_pktmbuf_data_len(d));
		CHECK(f[20] == 0 && f[54] == 50 && f[56] == 1 && f[57] == 4 && f[58] == 0,
		      "v6 hop-by-hop: the first fragment's header, next header ESP");
		CHECK(f[8] == 0x02 && f[14 + 8 + 15] == 1 && f[14 + 24 + 15] == 2,
		      "v6 hop-by-hop: Ethernet and addresses kept");
		CHECK(payload_is(f + 62, 164), "v6 hop-by-hop: payload bytes");
		CHECK(rxsec_pkt_meta(d)->kind == RXSEC_PKT_ESP &&
		      (rxsec_pkt_meta(d)->flags & RXSEC_PKT_F_IPV6_EXT) &&
		      key.spi == rte_cpu_to_be_32(0x4000), "v6 hop-by-hop: classified as ESP");
		rte_pktmbuf_free(d);
	}
	/* more extension headers than kept: refused */
	m = frag6(9, 0, 64, true, 128);
	CHECK(add(r, m, 0, &d, &key) == RXSEC_REASM_REFUSED && d == NULL,
	      "v6 behind 128 bytes of hop-by-hop: refused");
	rte_pktmbuf_free(m);
}

static void
test_timeout(struct rxsec_reassembly *r)
{
	const uint64_t late = r->timeout + 1;
	uint64_t before = r->stats->discarded;
	struct rte_mbuf *d;
	struct rxsec_sa_key key;

	CHECK(add(r, frag4(3, 0, 800, true, 0), 1, &d, &key) == RXSEC_REASM_HELD, "held");
	/* the rest arrives after the timeout: the first part is gone */
	CHECK(add(r, frag4(3, 800, 800, false, 0), 1 + late, &d, &key) == RXSEC_REASM_HELD,
	      "late fragment does not complete an expired datagram");
	rxsec_reassembly_collect(r);
	CHECK(r->stats->discarded == before + 1, "expired fragment discarded (%lu)",
	      (unsigned long)(r->stats->discarded - before));
	rxsec_reassembly_expire(r, 2 + 2 * late);
	CHECK(r->stats->discarded == before + 2 && r->stats->waiting == 0,
	      "expire(): discarded %lu, waiting %lu", (unsigned long)(r->stats->discarded - before),
	      (unsigned long)r->stats->waiting);
}

static void
test_full_and_overlap(struct rxsec_reassembly *r, uint32_t flows)
{
	uint64_t before = r->stats->discarded, now = 10 * r->timeout;
	struct rte_mbuf *d;
	struct rxsec_sa_key key;
	unsigned int done = 0;

	for (uint32_t i = 0; i <= flows; i++)
		add(r, frag4((uint16_t)(100 + i), 0, 64, true, 0), now, &d, &key);
	rxsec_reassembly_collect(r);
	CHECK(r->stats->discarded > before, "a full table discards (%lu)",
	      (unsigned long)(r->stats->discarded - before));
	rxsec_reassembly_expire(r, now + 2 * r->timeout);

	/* overlapping pieces, then a duplicate last one */
	now += 4 * r->timeout;
	done += add(r, frag4(200, 0, 64, true, 0), now, &d, &key) == RXSEC_REASM_DONE;
	done += add(r, frag4(200, 32, 64, true, 0), now, &d, &key) == RXSEC_REASM_DONE;
	done += add(r, frag4(200, 96, 16, false, 0), now, &d, &key) == RXSEC_REASM_DONE;
	done += add(r, frag4(200, 96, 16, false, 0), now, &d, &key) == RXSEC_REASM_DONE;
	if (d != NULL)
		rte_pktmbuf_free(d);
	CHECK(done == 0, "overlapping fragments never make a datagram");
	rxsec_reassembly_expire(r, now + 2 * r->timeout);
	CHECK(r->stats->waiting == 0, "nothing waits after expire()");
}

static void
test_too_long(struct rxsec_reassembly *r)
{
	uint64_t now = 100 * r->timeout;
	struct rte_mbuf *d;
	struct rxsec_sa_key key;
	enum rxsec_reassembly_result res = RXSEC_REASM_HELD;

	for (uint32_t i = 0; i < 7; i++)
		res = add(r, frag4(300, i * 1480, 1480, i < 6, 0), now, &d, &key);
	CHECK(res == RXSEC_REASM_DONE && d != NULL, "10360-byte datagram completes");
	if (d != NULL) {
		CHECK(!rte_pktmbuf_is_contiguous(d) &&
		      rxsec_pkt_meta(d)->kind == RXSEC_PKT_MALFORMED &&
		      (rxsec_pkt_meta(d)->flags & RXSEC_PKT_F_TOO_LONG),
		      "longer than %u bytes: a chain, kind malformed, too_long", RXSEC_FRAME_MAX);
		rte_pktmbuf_free(d);
	}
}

/* A fragment of a UDP datagram to port dport whose payload is
 * payload_byte(): ESP in UDP on 4500 (RFC 3948). */
static struct rte_mbuf *
frag4_udp(uint16_t id, uint16_t dport, uint32_t off, uint32_t len, bool more, uint32_t total)
{
	struct rte_mbuf *m = frag4(id, off == 0 ? 0 : off + 8, off == 0 ? len + 8 : len, more, 0);
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);

	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (off == 0) {
		const uint8_t udp[8] = { 0x11, 0x94, dport >> 8, dport & 0xff,
					 (uint8_t)((total + 8) >> 8), (uint8_t)(total + 8), 0, 0 };

		memmove(f + 34 + 8, f + 34, len);
		memcpy(f + 34, udp, 8);
		for (uint32_t i = 0; i < len; i++)
			f[42 + i] = payload_byte(i);
	} else {
		for (uint32_t i = 0; i < len; i++)
			f[34 + i] = payload_byte(off + i);
	}
	return m;
}

/* What the transport does with a UDP fragment; -1: not reassembly's. */
static int
add_udp(struct rxsec_reassembly *r, struct rte_mbuf *m, uint64_t now, struct rte_mbuf **out,
	struct rxsec_sa_key *key)
{
	static uint32_t n = 1000;
	struct rxsec_pkt_meta *md = rxsec_pkt_meta(classified(m, n++));
	enum rxsec_reassembly_result res;

	*out = NULL;
	if (md->kind != RXSEC_PKT_FRAGMENT && md->kind != RXSEC_PKT_UDP_FRAGMENT)
		return -1;
	res = rxsec_reassembly_add(r, m, now, out, key);
	return res == RXSEC_REASM_PASS ? -1 : (int)res;
}

/* Fragmented ESP in UDP: only the first fragment shows the NAT-T port;
 * later ones join a datagram whose first fragment did, others pass. */
static void
test_natt(struct rxsec_reassembly *r)
{
	struct rte_mbuf *d, *m, *later;
	struct rxsec_sa_key key;
	const uint64_t late = r->timeout + 1;

	CHECK(add_udp(r, frag4_udp(40, 4500, 0, 504, true, 1100), 0, &d, &key) ==
	      RXSEC_REASM_HELD, "natt: first fragment held");
	CHECK(add_udp(r, frag4_udp(40, 4500, 504, 512, true, 1100), 0, &d, &key) ==
	      RXSEC_REASM_HELD, "natt: later fragment claimed and held");
	CHECK(add_udp(r, frag4_udp(40, 4500, 1016, 84, false, 1100), 0, &d, &key) ==
	      RXSEC_REASM_DONE, "natt: last fragment completes");
	if (CHECK(d != NULL, "natt: datagram")) {
		const struct rxsec_pkt_meta *md = rxsec_pkt_meta(d);

		CHECK(rte_pktmbuf_data_len(d) == 14 + 20 + 8 + 1100 && md->kind == RXSEC_PKT_ESP &&
		      md->flags == RXSEC_PKT_F_UDP_ENCAP && md->ipsec_off == 42 &&
		      key.spi == rte_cpu_to_be_32(0x4000) &&
		      payload_is(rte_pktmbuf_mtod_offset(d, const uint8_t *, 42), 1100),
		      "natt: ESP in UDP, %u bytes, kind %d flags %x", rte_pktmbuf_data_len(d),
		      md->kind, md->flags);
		rte_pktmbuf_free(d);
	}
	/* a completed datagram is forgotten: a stray copy is plain UDP now
	 * (and waits as an early fragment of a datagram to come) */
	m = frag4_udp(40, 4500, 504, 512, true, 1100);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "natt: completed datagram forgotten");
	rte_pktmbuf_free(m);
	CHECK(r->stats->early == 1 && rxsec_reassembly_pending(r->stats) == 1,
	      "natt: the stray fragment's copy waits");

	/* plain UDP, and IKE-sized UDP on other ports: never claimed */
	m = frag4_udp(41, 53, 0, 504, true, 1100);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "natt: first fragment to port 53 passes");
	rte_pktmbuf_free(m);
	m = frag4_udp(41, 53, 504, 512, true, 1100);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "natt: its later fragment passes");
	rte_pktmbuf_free(m);

	/* a plain first fragment is noted: its later ones pass, no copy kept */
	CHECK(r->stats->early == 1, "natt: no copy of plain UDP fragments in order");

	/* Later fragments ahead of their first pass as plain UDP, and copies
	 * wait: a first fragment of ESP in UDP takes them in (Linux
	 * reassembles before UDP reads the port). */
	later = frag4_udp(42, 4500, 1016, 84, false, 1100);
	CHECK(add_udp(r, later, 0, &d, &key) == -1, "natt: last fragment ahead of its first passes");
	rte_pktmbuf_free(later);
	CHECK(r->stats->early == 2 && rxsec_reassembly_pending(r->stats) == 2,
	      "natt: a copy of it waits");
	CHECK(add_udp(r, frag4_udp(42, 4500, 0, 504, true, 1100), 0, &d, &key) ==
	      RXSEC_REASM_HELD, "natt: first fragment takes the copy in, still incomplete");
	CHECK(r->stats->early_joined == 1, "natt: the copy joined");
	CHECK(add_udp(r, frag4_udp(42, 4500, 504, 512, true, 1100), 0, &d, &key) ==
	      RXSEC_REASM_DONE, "natt: the middle fragment completes");
	if (CHECK(d != NULL, "natt: datagram from an early copy")) {
		CHECK(rte_pktmbuf_data_len(d) == 14 + 20 + 8 + 1100 &&
		      rxsec_pkt_meta(d)->kind == RXSEC_PKT_ESP &&
		      payload_is(rte_pktmbuf_mtod_offset(d, const uint8_t *, 42), 1100),
		      "natt: early copy: ESP in UDP, %u bytes", rte_pktmbuf_data_len(d));
		rte_pktmbuf_free(d);
	}
	/* every later fragment ahead: the first one completes the datagram */
	for (uint32_t off = 504; off < 1100; off += 512) {
		later = frag4_udp(43, 4500, off, off == 504 ? 512 : 84, off == 504, 1100);
		CHECK(add_udp(r, later, 0, &d, &key) == -1, "natt: later fragment %u ahead", off);
		rte_pktmbuf_free(later);
	}
	CHECK(add_udp(r, frag4_udp(43, 4500, 0, 504, true, 1100), 0, &d, &key) ==
	      RXSEC_REASM_DONE, "natt: the first fragment completes from two copies");
	if (CHECK(d != NULL, "natt: datagram from two early copies")) {
		CHECK(rte_pktmbuf_data_len(d) == 14 + 20 + 8 + 1100 &&
		      payload_is(rte_pktmbuf_mtod_offset(d, const uint8_t *, 42), 1100),
		      "natt: two early copies: the datagram's bytes");
		rte_pktmbuf_free(d);
	}
	CHECK(r->stats->early == 4 && r->stats->early_joined == 3 &&
	      r->stats->early_dropped == 0 && r->stats->waiting == 0,
	      "natt: three copies joined (early %lu joined %lu dropped %lu waiting %lu)",
	      (unsigned long)r->stats->early, (unsigned long)r->stats->early_joined,
	      (unsigned long)r->stats->early_dropped, (unsigned long)r->stats->waiting);

	/* ahead of a plain first fragment: the copy is freed when it comes */
	later = frag4_udp(44, 53, 504, 512, true, 1100);
	CHECK(add_udp(r, later, 0, &d, &key) == -1, "natt: plain later fragment ahead passes");
	rte_pktmbuf_free(later);
	m = frag4_udp(44, 53, 0, 504, true, 1100);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "natt: its plain first fragment passes");
	rte_pktmbuf_free(m);
	CHECK(r->stats->early == 5 && r->stats->early_dropped == 1 &&
	      rxsec_reassembly_pending(r->stats) == 1, "natt: the copy freed unused");

	/* a copy older than the timeout does not join; nor does a later
	 * fragment after its first fragment's timeout */
	later = frag4_udp(45, 4500, 504, 512, true, 1100);
	CHECK(add_udp(r, later, 0, &d, &key) == -1, "natt: later fragment ahead, then a pause");
	rte_pktmbuf_free(later);
	CHECK(add_udp(r, frag4_udp(45, 4500, 0, 504, true, 1100), late, &d, &key) ==
	      RXSEC_REASM_HELD, "natt: first fragment after the copy's timeout held alone");
	CHECK(r->stats->early_dropped == 2 && r->stats->early_joined == 3,
	      "natt: the stale copy freed");
	later = frag4_udp(45, 4500, 504, 512, true, 1100);
	CHECK(add_udp(r, later, 2 * late, &d, &key) == -1, "natt: not claimed after the timeout");
	rte_pktmbuf_free(later);
	rxsec_reassembly_expire(r, 3 * late);
	CHECK(rxsec_reassembly_pending(r->stats) == 0,
	      "natt: the lone first fragment and the copy discarded");
}

/* Byte j of an IPv6 datagram's fragmentable part that begins with an
 * 8-byte destination options header (PadN) naming upper. */
static uint8_t
do_byte(uint32_t j, uint8_t upper)
{
	const uint8_t dstopts[8] = { upper, 0, 1, 4, 0, 0, 0, 0 };

	return j < 8 ? dstopts[j] : payload_byte(j - 8);
}

/* A fragment of such a datagram: its fragment header names destination
 * options, and only the first fragment shows `upper` behind them. */
static struct rte_mbuf *
frag6_do(uint32_t id, uint32_t off, uint32_t len, bool more, uint32_t hbh, uint8_t upper)
{
	struct rte_mbuf *m = frag6(id, off, len, more, hbh);
	uint8_t *fh = rte_pktmbuf_mtod_offset(m, uint8_t *, 54 + hbh);

	fh[0] = 60;
	for (uint32_t i = 0; i < len; i++)
		fh[8 + i] = do_byte(off + i, upper);
	return m;
}

/* A whole datagram of frag6_do() fragments: 8 + len bytes of fragmentable
 * part behind hbh bytes of hop-by-hop options, destination options then ESP. */
static void
check_datagram6_do(struct rte_mbuf *d, const struct rxsec_sa_key *key, uint32_t hbh,
		   uint32_t len, const char *what)
{
	const uint8_t *f, *dst;

	if (!CHECK(d != NULL && rte_pktmbuf_is_contiguous(d), "%s: one segment", what))
		return;
	f = rte_pktmbuf_mtod(d, const uint8_t *);
	dst = f + 54 + hbh;
	CHECK(rte_pktmbuf_data_len(d) == 54 + hbh + 8 + len &&
	      (uint32_t)(f[18] << 8 | f[19]) == hbh + 8 + len, "%s: length %u", what,
	      rte_pktmbuf_data_len(d));
	CHECK((hbh ? f[20] == 0 && f[54] == 60 : f[20] == 60) && dst[0] == 50 && dst[1] == 0,
	      "%s: next header destination options, then ESP", what);
	CHECK(payload_is(dst + 8, len), "%s: payload bytes", what);
	CHECK(rxsec_pkt_meta(d)->kind == RXSEC_PKT_ESP &&
	      rxsec_pkt_meta(d)->ipsec_off == 54 + hbh + 8 &&
	      key->spi == rte_cpu_to_be_32(0x4000), "%s: classified as ESP behind them", what);
	rte_pktmbuf_free(d);
}

/* IPv6 ESP whose fragment header names destination options: later
 * fragments carry no ESP header to see, so they join as later fragments
 * of ESP in UDP do (after their first one, or as copies ahead of it). */
static void
test_ipv6_dstopts(struct rxsec_reassembly *r)
{
	struct rte_mbuf *d, *m;
	struct rxsec_sa_key key;
	uint64_t early = r->stats->early, joined = r->stats->early_joined;
	uint64_t dropped = r->stats->early_dropped;

	/* in order: the first fragment names the datagram ESP */
	CHECK(add_udp(r, frag6_do(50, 0, 64, true, 0, 50), 0, &d, &key) == RXSEC_REASM_HELD,
	      "v6 DO: first fragment held");
	CHECK(add_udp(r, frag6_do(50, 64, 104, false, 0, 50), 0, &d, &key) == RXSEC_REASM_DONE,
	      "v6 DO: later fragment joins and completes");
	check_datagram6_do(d, &key, 0, 160, "v6 DO in order");

	/* the later fragments ahead of the first: passed on, their copies join */
	for (uint32_t off = 64; off <= 128; off += 64) {
		m = frag6_do(51, off, off == 64 ? 64 : 80, off == 64, 8, 50);
		CHECK(add_udp(r, m, 0, &d, &key) == -1, "v6 DO: later fragment %u ahead passes",
		      off);
		rte_pktmbuf_free(m);
	}
	CHECK(r->stats->early - early == 2, "v6 DO: their copies wait (%lu)",
	      (unsigned long)(r->stats->early - early));
	CHECK(add_udp(r, frag6_do(51, 0, 64, true, 8, 50), 0, &d, &key) == RXSEC_REASM_DONE,
	      "v6 DO: the first fragment completes from two copies");
	check_datagram6_do(d, &key, 8, 200, "v6 DO behind hop-by-hop, out of order");
	CHECK(r->stats->early_joined - joined == 2, "v6 DO: both copies joined");

	/* TCP behind the destination options: noted, its fragments pass, a
	 * copy taken ahead of the first is freed when it comes */
	m = frag6_do(52, 64, 64, false, 0, 6);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "v6 DO + TCP: later fragment ahead passes");
	rte_pktmbuf_free(m);
	m = frag6_do(52, 0, 64, true, 0, 6);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "v6 DO + TCP: first fragment passes");
	rte_pktmbuf_free(m);
	m = frag6_do(53, 0, 64, true, 0, 6);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "v6 DO + TCP: another first fragment passes");
	rte_pktmbuf_free(m);
	m = frag6_do(53, 64, 64, false, 0, 6);
	CHECK(add_udp(r, m, 0, &d, &key) == -1, "v6 DO + TCP: its later fragment passes");
	rte_pktmbuf_free(m);
	CHECK(r->stats->early - early == 3 && r->stats->early_dropped - dropped == 1 &&
	      r->stats->waiting == 0 && rxsec_reassembly_pending(r->stats) == 0,
	      "v6 DO + TCP: one copy, freed unused; nothing waits");
}

/* A stand-in for an early fragment's copy. */
static struct rte_mbuf *
copy_of(uint16_t id)
{
	return frag4(id, 8, 8, true, 0);
}

/* The table behind it: lookups, expiry, room made by evicting the entry
 * closest to expiring (never ESP in UDP for plain UDP), early copies. */
static void
test_natt_table(void)
{
	struct rxsec_natt_frags s;
	struct rxsec_natt_dgram d[12];
	struct rte_mbuf *c[RXSEC_NATT_EARLY_PER_DGRAM];
	uint64_t freed = 0;
	uint32_t n, avail = rte_mempool_avail_count(pool);
	bool all = true;

	if (!CHECK(rxsec_natt_frags_init(&s, 8, SOCKET_ID_ANY, &freed) == 0, "natt table"))
		return;
	memset(d, 0, sizeof(d));
	for (uint32_t i = 0; i < RTE_DIM(d); i++) {
		d[i].family = 4;
		d[i].id = i;
		d[i].src[0] = 10;
	}
	for (uint32_t i = 0; i < 8; i++)
		rxsec_natt_frags_remember(&s, &d[i], RXSEC_NATT_IPSEC, 0, 100 + i);
	for (uint32_t i = 0; i < 8; i++)
		all &= rxsec_natt_frags_kind(&s, &d[i], 50) == RXSEC_NATT_IPSEC;
	CHECK(all, "natt table: eight remembered");
	CHECK(rxsec_natt_frags_kind(&s, &d[8], 50) == RXSEC_NATT_UNKNOWN,
	      "natt table: a stranger unknown");
	CHECK(rxsec_natt_frags_kind(&s, &d[0], 100) == RXSEC_NATT_UNKNOWN,
	      "natt table: expired at its time");
	/* full of ESP in UDP: plain UDP finds no room */
	rxsec_natt_frags_remember(&s, &d[10], RXSEC_NATT_PLAIN, 50, 500);
	CHECK(rxsec_natt_frags_kind(&s, &d[10], 50) == RXSEC_NATT_UNKNOWN &&
	      rxsec_natt_frags_kind(&s, &d[0], 50) == RXSEC_NATT_IPSEC,
	      "natt table: plain UDP does not evict ESP in UDP");
	/* full: the ninth takes the slot of the one closest to expiring */
	rxsec_natt_frags_remember(&s, &d[8], RXSEC_NATT_IPSEC, 50, 200);
	CHECK(rxsec_natt_frags_kind(&s, &d[8], 50) == RXSEC_NATT_IPSEC &&
	      rxsec_natt_frags_kind(&s, &d[0], 50) == RXSEC_NATT_UNKNOWN &&
	      rxsec_natt_frags_kind(&s, &d[1], 50) == RXSEC_NATT_IPSEC,
	      "natt table: oldest evicted");
	/* an expired slot is reused before anything live is evicted */
	rxsec_natt_frags_remember(&s, &d[9], RXSEC_NATT_PLAIN, 102, 300);
	CHECK(rxsec_natt_frags_kind(&s, &d[9], 102) == RXSEC_NATT_PLAIN &&
	      rxsec_natt_frags_kind(&s, &d[3], 102) == RXSEC_NATT_IPSEC,
	      "natt table: expired slot reused, kind kept");
	rxsec_natt_frags_forget(&s, &d[9]);
	CHECK(rxsec_natt_frags_kind(&s, &d[9], 102) == RXSEC_NATT_UNKNOWN,
	      "natt table: forgotten");
	/* remembering again refreshes, it does not duplicate */
	rxsec_natt_frags_remember(&s, &d[5], RXSEC_NATT_IPSEC, 102, 400);
	rxsec_natt_frags_forget(&s, &d[5]);
	CHECK(rxsec_natt_frags_kind(&s, &d[5], 102) == RXSEC_NATT_UNKNOWN,
	      "natt table: one entry per datagram");

	/* early copies: up to RXSEC_NATT_EARLY_PER_DGRAM per datagram */
	for (uint32_t i = 0; i <= RXSEC_NATT_EARLY_PER_DGRAM; i++)
		all = rxsec_natt_frags_keep_early(&s, &d[0], copy_of(0), 0, 100);
	CHECK(!all && freed == 1, "natt table: one copy too many freed");
	CHECK(rxsec_natt_frags_take_early(&s, &d[1], 0, c) == 0, "natt table: none for another");
	n = rxsec_natt_frags_take_early(&s, &d[0], 0, c);
	CHECK(n == RXSEC_NATT_EARLY_PER_DGRAM, "natt table: every copy handed over (%u)", n);
	for (uint32_t i = 0; i < n; i++)
		rte_pktmbuf_free(c[i]);
	CHECK(rxsec_natt_frags_take_early(&s, &d[0], 0, c) == 0, "natt table: handed over once");
	/* more datagrams than room: the one waiting longest goes */
	for (uint32_t i = 0; i <= s.nb_early; i++)
		rxsec_natt_frags_keep_early(&s, &d[i], copy_of((uint16_t)i), 0, 100 + i);
	CHECK(freed == 2 && rxsec_natt_frags_take_early(&s, &d[0], 0, c) == 0,
	      "natt table: the oldest datagram's copy freed for room");
	/* expired copies are freed, not handed over */
	CHECK(rxsec_natt_frags_take_early(&s, &d[1], 101, c) == 0 && freed == 3,
	      "natt table: an expired copy is not handed over");
	rxsec_natt_frags_expire_early(&s, 1000);
	CHECK(freed == 2 + s.nb_early && s.early_used == 0, "natt table: expiry frees the rest");
	rxsec_natt_frags_keep_early(&s, &d[3], copy_of(3), 0, 100);
	rxsec_natt_frags_free(&s);
	CHECK(freed == 3 + s.nb_early && rte_mempool_avail_count(pool) == avail,
	      "natt table: free() frees what waits");
}

/* The stage a fragment of each kind goes to, out of nb; -1 if two
 * fragments of one datagram disagree. */
static int
stage_pair(struct rte_mbuf *a, struct rte_mbuf *b, uint16_t nb)
{
	uint16_t sa = rxsec_reassembly_stage_of(classified(a, 0), nb);
	uint16_t sb = rxsec_reassembly_stage_of(classified(b, 0), nb);

	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);
	return sa == sb && sa < nb ? sa : -1;
}

/*
 * 10. every fragment of a datagram goes to one stage, first or later, ESP,
 * ESP in UDP, or IPv6 whose fragment header names destination options
 * (behind hop-by-hop); datagrams spread over all stages; each stage's
 * share of --frag-flows.
 */
static void
test_stage_of(void)
{
	static const uint16_t nbs[] = { 2, 3, 4, 16 };

	for (unsigned int k = 0; k < RTE_DIM(nbs); k++) {
		uint16_t nb = nbs[k];
		unsigned int seen[4][16] = {{0}};

		for (uint32_t id = 0; id < 64; id++) {
			int st[4];

			st[0] = stage_pair(frag4((uint16_t)id, 0, 16, true, 0),
					   frag4((uint16_t)id, 16, 16, false, 0), nb);
			st[1] = stage_pair(frag4_udp((uint16_t)id, 4500, 0, 16, true, 32),
					   frag4_udp((uint16_t)id, 4500, 16, 16, false, 32), nb);
			st[2] = stage_pair(frag6(id, 0, 16, true, 0), frag6(id, 16, 16, false, 0),
					   nb);
			st[3] = stage_pair(frag6_do(id, 0, 24, true, 8, 50),
					   frag6_do(id, 24, 16, false, 8, 50), nb);
			for (int i = 0; i < 4; i++) {
				if (!CHECK(st[i] >= 0, "kind %d id %u: fragments on one of %u stages",
					   i, id, nb))
					continue;
				seen[i][st[i]]++;
			}
		}
		for (int i = 0; i < 4; i++)
			for (uint16_t t = 0; t < nb && nb <= 4; t++)
				CHECK(seen[i][t] != 0, "kind %d: 64 datagrams reach stage %u of %u",
				      i, t, nb);
	}
	CHECK(rxsec_reassembly_stage_flows(256, 2) == 128 &&
	      rxsec_reassembly_stage_flows(5, 4) == 2 &&
	      rxsec_reassembly_stage_flows(1, 16) == 1 &&
	      rxsec_reassembly_stage_flows(0, 2) == 0, "a stage's share of --frag-flows");
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-pci", "--log-level=error",
			"--file-prefix", prefix, "-l", "0" };
	const uint32_t flows = 8;
	struct rxsec_reassembly_stats stats;
	struct rxsec_reassembly r;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "reasm%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0 || rxsec_result_register() != 0) {
		printf("FAIL: EAL init\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("t_pool", 1023, 0, RXSEC_PKT_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	big = rte_pktmbuf_pool_create("t_big", 63, 0, RXSEC_PKT_PRIV_SIZE,
				      RXSEC_FRAME_MAX + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (pool == NULL || big == NULL ||
	    rxsec_reassembly_init(&r, flows, TIMEOUT_MS, big, SOCKET_ID_ANY, &stats) != 0) {
		printf("FAIL: pools or table\n");
		return 1;
	}
	test_ipv4(&r);
	test_ipv6(&r);
	test_ecn(&r);
	test_timeout(&r);
	test_full_and_overlap(&r, flows);
	test_too_long(&r);
	test_natt(&r);
	test_ipv6_dstopts(&r);
	test_natt_table();
	test_stage_of();
	rxsec_reassembly_free(&r);
	CHECK(r.stats->waiting == 0 && r.tbl == NULL, "nothing waits, table freed");
	CHECK(rte_mempool_avail_count(pool) == pool->size &&
	      rte_mempool_avail_count(big) == big->size, "every mbuf back (%u of %u, %u of %u)",
	      rte_mempool_avail_count(pool), pool->size, rte_mempool_avail_count(big), big->size);
	printf("reassembly: %u checks, %u failed\n", n_pass + n_fail, n_fail);
	rte_mempool_free(pool);
	rte_mempool_free(big);
	rxsec_eal_exit();
	return n_fail ? 1 : 0;
}
