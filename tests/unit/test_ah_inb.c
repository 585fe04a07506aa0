/* SPDX-License-Identifier: BSD-3-Clause
 *
 * lib/ah_inb.c through the inbound batch (lib/ipsec_inb.h) with the real
 * crypto driver: an AH packet whose ICV fails leaves with every byte as it
 * came, however prepare saved what it zeroed (a whole IPv4 header; of IPv6
 * the fixed fields and the mutable option data, in the packet's scratch or
 * alone with a frame-sized one), and prepare leaves a packet it refuses
 * unchanged. That the ICV holds where it should is the e2e tests' part
 * (i3_hdrs_v6_long, i3_ah_full), against scapy.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "ah_inb.h"
#include "classify.h"
#include "ipsec_inb.h"
#include "pkt_meta.h"
#include "sa.h"
#include "unit_check.h"

#define NPKT	6

struct fake_mbuf {
	struct rte_mbuf m;
	uint8_t priv[RXSEC_PKT_PRIV_SIZE];
} __rte_cache_aligned;

static struct fake_mbuf fm[NPKT];
static uint8_t frames[NPKT][RXSEC_FRAME_MAX];
static uint8_t sent[NPKT][RXSEC_FRAME_MAX];
static uint32_t lens[NPKT];
static struct rxsec_sa sa;
static const struct rxsec_crypto_driver *drv = &rxsec_crypto_ipsec_mb;
static void *lc;

static uint32_t
put_eth(uint8_t *f, uint16_t type)
{
	memset(f, 0x02, 12);
	f[12] = type >> 8;
	f[13] = type & 0xff;
	return 14;
}

/* A hop-by-hop or destination options header of 8 * (units + 1) bytes:
 * one option of type `type` filling it (data length hlen - 4), the rest
 * of any odd room a PadN. Data bytes count up from `seed`. */
static uint32_t
put_opts(uint8_t *h, uint8_t nh, uint8_t units, uint8_t type, uint8_t seed)
{
	uint32_t hlen = (units + 1u) * 8, dlen = hlen - 4;

	h[0] = nh;
	h[1] = units;
	h[2] = type;
	h[3] = (uint8_t)dlen;
	for (uint32_t i = 0; i < dlen; i++)
		h[4 + i] = (uint8_t)(seed + i);
	return hlen;
}

/* IPv6 / n option headers (hop-by-hop first) / AH (HMAC-SHA-256-128,
 * sized for the 32-byte digest when full) / 40 bytes of UDP-ish payload.
 * mutable_units: each header's size; type 0x3e (may change) or 0x1e. */
static uint32_t
build_v6(uint8_t *f, unsigned int n, uint8_t units, uint8_t type, bool full)
{
	uint32_t off = put_eth(f, 0x86dd), l3 = off, ahlen = full ? 48 : 32;

	f[off] = 0x6b;
	f[off + 1] = 0x81;
	f[off + 2] = 0x23;
	f[off + 3] = 0x45;
	f[off + 6] = n ? 0 : RXSEC_PROTO_AH;
	f[off + 7] = 61;
	memset(f + off + 8, 0x20, 32);
	off += 40;
	for (unsigned int i = 0; i < n; i++)
		off += put_opts(f + off, i + 1 < n ? 60 : RXSEC_PROTO_AH, units, type,
				(uint8_t)(i * 16));
	f[off] = 17;
	f[off + 1] = (uint8_t)(ahlen / 4 - 2);
	f[off + 7] = 0x10;			/* SPI 0x10 */
	f[off + 11] = 1;			/* seq 1 */
	for (uint32_t i = 12; i < ahlen; i++)
		f[off + i] = (uint8_t)(0xa0 + i);	/* an ICV that fails */
	off += ahlen;
	for (uint32_t i = 0; i < 40; i++)
		f[off + i] = (uint8_t)i;
	off += 40;
	f[l3 + 4] = (uint8_t)((off - l3 - 40) >> 8);
	f[l3 + 5] = (uint8_t)(off - l3 - 40);
	return off;
}

/* IPv4 with a Record Route option (mutable) and Router Alert / AH. */
static uint32_t
build_v4(uint8_t *f)
{
	static const uint8_t opts[] = { 0x94, 4, 0, 0, 7, 11, 4, 1, 2, 3, 4,
					0, 0, 0, 0, 0 };
	uint32_t off = put_eth(f, 0x0800), l3 = off, sum = 0;

	f[off] = 0x45 + sizeof(opts) / 4;
	f[off + 1] = 0x2e;
	f[off + 8] = 64;
	f[off + 9] = RXSEC_PROTO_AH;
	memset(f + off + 12, 0xc0, 8);
	memcpy(f + off + 20, opts, sizeof(opts));
	off += 20 + sizeof(opts);
	f[off] = 17;
	f[off + 1] = 32 / 4 - 2;
	f[off + 7] = 0x10;
	f[off + 11] = 1;
	for (uint32_t i = 12; i < 32; i++)
		f[off + i] = (uint8_t)(0xb0 + i);
	off += 32 + 40;
	f[l3 + 2] = (uint8_t)((off - l3) >> 8);
	f[l3 + 3] = (uint8_t)(off - l3);
	for (uint32_t i = 0; i < 20 + sizeof(opts); i += 2)
		sum += (uint32_t)f[l3 + i] << 8 | f[l3 + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[l3 + 10] = (uint8_t)(~sum >> 8);
	f[l3 + 11] = (uint8_t)~sum;
	return off;
}

static struct rte_mbuf *
load(unsigned int i, uint32_t len)
{
	struct rte_mbuf *m = &fm[i].m;
	struct rxsec_sa_key key;
	enum rxsec_pkt_kind kind;

	memset(fm + i, 0, sizeof(fm[i]));
	m->buf_addr = frames[i];
	m->buf_len = RXSEC_FRAME_MAX;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->nb_segs = 1;
	lens[i] = len;
	memcpy(sent[i], frames[i], len);
	kind = rxsec_classify(frames[i], len, rxsec_pkt_meta(m), &key);
	CHECK(kind == RXSEC_PKT_AH, "frame %u classified %d", i, kind);
	return m;
}

static void
check_as_sent(unsigned int i, const char *what)
{
	CHECK(memcmp(frames[i], sent[i], lens[i]) == 0, "%s: frame %u not as received", what, i);
}

/* A burst mixing packets that fit their scratch and ones verified alone:
 * every ICV fails, every packet comes back as it was sent. */
static void
test_failed_as_received(void)
{
	struct rte_mbuf *m[NPKT];
	struct rxsec_sa *sas[NPKT];
	uint8_t st[NPKT];

	m[0] = load(0, build_v6(frames[0], 0, 0, 0, false));
	m[1] = load(1, build_v6(frames[1], 5, 7, 0x1e, true));	/* 344 bytes, immutable */
	m[2] = load(2, build_v6(frames[2], 3, 31, 0x3e, false));	/* 756 mutable: alone */
	m[3] = load(3, build_v6(frames[3], 6, 3, 0x3e, true));	/* 168 mutable: fits */
	m[4] = load(4, build_v4(frames[4]));
	m[5] = load(5, build_v6(frames[5], 2, 31, 0x3e, true));	/* 504 mutable: alone */
	for (unsigned int i = 0; i < NPKT; i++)
		sas[i] = &sa;
	rxsec_ipsec_inb_burst(drv, lc, m, sas, NPKT, st, 0);
	for (unsigned int i = 0; i < NPKT; i++) {
		CHECK(st[i] == RXSEC_CRYPTO_TRANSPORT_AH_AUTH_FAILED, "frame %u: status %u",
		      i, st[i]);
		check_as_sent(i, "ICV failed");
	}
}

/* What prepare refuses it leaves as it found it. */
static void
test_refused_unchanged(void)
{
	uint8_t scratch[RXSEC_AH_SCRATCH_LEN];
	struct rxsec_crypto_op op;
	struct rte_mbuf *m;
	uint32_t len, last;

	/* mutable data past the scratch: nothing zeroed yet */
	m = load(0, build_v6(frames[0], 3, 31, 0x3e, false));
	op.icv = scratch;
	CHECK(rxsec_ah_inb_prepare(m, rxsec_pkt_meta(m), &sa, &op, sizeof(scratch)) ==
	      RXSEC_AH_SCRATCH_SHORT, "short scratch");
	check_as_sent(0, "short scratch");
	/* the fourth header's option runs past it, after three mutable
	 * options were zeroed: invalid, and they are put back */
	len = build_v6(frames[1], 4, 3, 0x3e, false);
	last = 14 + 40 + 3 * 32;
	frames[1][last + 3] = 40;
	m = load(1, len);
	CHECK(rxsec_ah_inb_prepare(m, rxsec_pkt_meta(m), &sa, &op, sizeof(scratch)) ==
	      RXSEC_CRYPTO_INVALID_PACKET_SYNTAX, "overrun option");
	check_as_sent(1, "overrun option");
	/* an AH of neither length: 12 + 16 + 8 */
	len = build_v6(frames[2], 1, 3, 0x3e, false);
	frames[2][14 + 40 + 32 + 1] = 36 / 4 - 2;
	m = load(2, len);
	CHECK(rxsec_ah_inb_prepare(m, rxsec_pkt_meta(m), &sa, &op, sizeof(scratch)) ==
	      RXSEC_CRYPTO_INVALID_PACKET_SYNTAX, "AH length");
	check_as_sent(2, "AH length");
}

static int
make_sa(void)
{
	struct rxsec_sa_config c;
	char why[160] = "";

	rxsec_sa_config_init(&c);
	c.proto = RXSEC_PROTO_AH;
	c.mode = RXSEC_MODE_TRANSPORT;
	c.auth = RXSEC_AUTH_HMAC_SHA256;
	c.auth_key_len = 32;
	memset(c.auth_key, 0x5c, 32);
	c.icv_len = 16;
	sa.proto = RXSEC_PROTO_AH;
	sa.mode = RXSEC_MODE_TRANSPORT;
	sa.icv_len = 16;
	sa.icv_full_len = (uint8_t)rxsec_auth_full_len(c.auth);
	sa.auth_failed_status = RXSEC_CRYPTO_TRANSPORT_AH_AUTH_FAILED;
	return drv->sa_create(&c, &sa.csa, why, sizeof(why));
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	lc = drv->lcore_create();
	if (lc == NULL || make_sa() != 0) {
		printf("FAIL: crypto driver setup\n");
		return 1;
	}
	test_failed_as_received();
	test_refused_unchanged();
	drv->sa_free(sa.csa);
	drv->lcore_free(lc);
	printf("%d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
