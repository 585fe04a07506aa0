/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target: the receive path as rxsec runs it, engine then transport
 * stage, on frames described by the input. Most of what a mutated frame
 * holds fails its ICV; so records may also name an SA whose key the target
 * knows, and the target seals the fuzzer's bytes with it (AES-GCM or
 * ChaCha20-Poly1305 through IPsec-MB's direct calls, which rxsec does not
 * use for them; AES-CCM in an encrypting job, MAC first; AES-CBC through a
 * cipher-only job, AES-CMAC through a hash-only one, and HMAC-SHA-256 from
 * IPsec-MB's one-shot SHA-256, for ESP and for AH with its mutable fields
 * zeroed as RFC 4302 says): the code after verification (trailer checks,
 * replay, ESN, nesting, fragments, decapsulation, selectors, lifetimes)
 * meets them too.
 *
 * Input: a set-up byte, then records [op][len hi][len lo][len bytes], up to
 * FRAMES_MAX frames. The set-up byte:
 *   1: two transport stages, transport-mode SAs added after the tunnels
 *      were placed (as `rxsec-ctl add` would): tunnels on either stage may
 *      carry them, and hand such packets to the other stage;
 *   2: --no-offload: the transport stage's software path decrypts;
 *   4: a narrower engine: no IPv4 options, IPv6 extension headers or ESP
 *      in UDP, and AES-GCM only (--offload-algs);
 *   8: --frag-flows 0: no reassembly;
 *  16: with 1, --sa-placement receiver: SAs that nest with none are claimed
 *      by the first stage to meet them (the engine's, or a stage
 *      reassembling or unwrapping them);
 *  32: with 16, the engine's own stage is stage 1, not 0.
 * Records:
 *   op & 3: 0 the bytes are a frame as received; 1 the bytes are the
 *           plaintext of an ESP packet of sealable SA (op >> 2) & 7 (for
 *           the AH SA the payload, ESP's trailer taken off to give its
 *           next header; all of it, next header IPv4, if it has none);
 *           2 the plaintext of SA 4, inside tunnel SA 1 if op & 0x10,
 *           else 0 (nested);
 *           3 as 1, then sent as two IP fragments.
 *   op & 0x20: the first 4 bytes are the sequence number (else 1, 2, ...),
 *              for an ESN SA the next 4 its high half (else 0)
 *   op & 0x40: the target adds the ESP trailer (for transport mode the
 *              first byte is the next header); else the bytes carry it
 *   op & 0x80: an 802.1Q tag; for fragments, the second one goes first
 *
 * Every input starts from the same state (a new SA table and reassembly
 * table). Invariants: every mbuf is back in its pool, each frame was
 * counted once by the engine and once by the transport, every reason
 * adds up, and what is delivered is a well-formed mbuf. A packet a
 * sealable tunnel delivers must be, byte for byte, an inner packet the
 * target sealed with that SA in this input (its DS field as the SA's
 * flags allow; nested packets excepted); one a sealable transport-mode SA
 * delivers, a payload sealed with it in this input, nested ones included,
 * behind the IP header its frame had, with the next header as protocol.
 */
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "capability.h"
#include "engine.h"
#include "flatten.h"
#include "fuzz.h"
#include "pkt_meta.h"
#include "reason.h"
#include "rxsec_crypto.h"
#include "rxsec_result.h"
#include "sa_parse.h"
#include "sa_table.h"
#include "transport.h"

#define FRAMES_MAX	96
#define RING_SIZE	1024	/* as rxsec's */
#define SEALABLE	8
#define NB_MBUFS	2048
#define NB_BIG		256
#define BIG_ROOM	(RTE_PKTMBUF_HEADROOM + RXSEC_FRAME_MAX)
#define GCM_KEY_LEN	16
#define CHACHA_KEY_LEN	32
#define CBC_KEY_LEN	16
#define HMAC_KEY_LEN	32
#define CMAC_KEY_LEN	16
#define SALT_LEN	4	/* GCM's and ChaCha20's; CCM's is 3 */
#define CCM_SALT_LEN	3
#define ICV_LEN		16	/* the AEADs', and HMAC-SHA-256 and CMAC at 128 bits */
#define ESP_HDR_LEN	8
#define ESP_IV_LEN	8	/* the AEADs' */
#define CBC_IV_LEN	16

/*
 * SAs 0-7 are sealable: AES-GCM-128 (key 16 bytes of 0x10 + i, salt 4 of
 * 0xa0 + i), but AES-CCM-128 with a 16-byte ICV for 2 (the same key, salt
 * 3 of 0xa0 + i), ChaCha20-Poly1305 for 3 (key 32 bytes of 0x10 + i, salt
 * as GCM's), AES-128-CBC with HMAC-SHA-256-128 for 6 and with AES-CMAC-128
 * for 5 (keys 16 bytes of 0x10 + i and 32, for CMAC 16, of 0x30 + i), and 7
 * is AH with HMAC-SHA-256-128 (key 32 bytes of 0x30 + i); the others only
 * meet frames as received. 4 is
 * the transport-mode SA that tunnels 0 and 1 may carry (nested records);
 * with two stages, tunnels 0 and 1 are placed on different ones.
 */
static const char *const sa_lines[] = {
	/* 0 */ "src 10.0.0.1 dst 192.0.2.1 proto esp spi 0x100 mode tunnel replay-window 64",
	/* 1 */ "src 10.0.0.9 dst 192.0.2.1 proto esp spi 0x101 mode tunnel replay-window 128 "
		"encap espinudp 4500 4500 0.0.0.0 sel src 172.16.0.0/12 dst 0.0.0.0/0",
	/* 2 */ "src 10.0.0.1 dst 192.0.2.1 proto esp spi 0x102 mode transport "
		"replay-window 0 flag icmp",
	/* 3 */ "src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x103 mode tunnel "
		"replay-window 32 flag esn sel src 2001:db8:1::/48 dst 2001:db8:2::/48",
	/* 4 */ "src 10.9.9.9 dst 198.51.100.7 proto esp spi 0x104 mode transport "
		"replay-window 64",
	/* 5 */ "src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x105 mode transport "
		"replay-window 32 limit packet-soft 4 limit packet-hard 8",
	/* 6 */ "src 10.0.0.2 dst 192.0.2.1 proto esp spi 0x106 mode tunnel replay-window 32 "
		"flag decap-dscp flag nopmtudisc sel src 0.0.0.0/0 dst 0.0.0.0/0 proto tcp",
	/* 7 */ "src 10.0.0.3 dst 192.0.2.1 proto ah spi 0x107 mode tunnel replay-window 4096 "
		"flag esn flag noecn limit byte-hard 4000",
};

/* config/sample/sa.conf, whose in.pcap is among the seeds, and a few more */
static const char extra_sas[] =
	"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x00001000 reqid 1 mode tunnel "
	"replay-window 32 aead rfc4106(gcm(aes)) 0xa54dca182530bb1d6d132cded6237b2ed91e3f72 128\n"
	"src 2001:db8:0:1::10 dst 2001:db8:0:1::20 proto esp spi 0x00002000 reqid 2 "
	"mode transport replay-window 64 aead rfc4106(gcm(aes)) "
	"0x1fcb1971174494d6493c9d5c3460be31201e69fedaa0eee8b9997f5c7c2999fdafe59325 128\n"
	"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x00003000 reqid 3 mode tunnel "
	"replay-window 32 enc cbc(aes) 0x3cd654af4dfad71427a0aeb3fee9232f auth-trunc hmac(sha256) "
	"0x8af2211f9ee491c5b10becb5563bfc1e6f93427ecbc8fe2955e5cd8e46dc8ed4 128\n"
	"src 192.0.2.10 dst 192.0.2.20 proto ah spi 0x00004000 reqid 4 mode transport "
	"replay-window 32 auth hmac(sha1) 0xb7c2764d2a5a4d767706f85d8690024ad6bda340\n"
	"src 10.0.0.1 dst 192.0.2.1 proto ah spi 0x200 mode transport replay-window 32 "
	"auth hmac(sha1) 0x0102030405060708090a0b0c0d0e0f1011121314\n"
	"src 10.0.0.1 dst 192.0.2.1 proto esp spi 0x201 mode tunnel replay-window 32 "
	"enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f "
	"auth-trunc hmac(sha256) "
	"0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f 128\n"
	"src 2001:db8::1 dst 2001:db8::2 proto ah spi 0x202 mode tunnel replay-window 32 "
	"auth-trunc hmac(sha256) "
	"0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f 128\n"
	"src 10.0.0.1 dst 192.0.2.1 proto esp spi 0x203 mode tunnel replay-window 32 "
	"aead rfc7539esp(chacha20,poly1305) "
	"0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f00010203 128\n"
	"src 10.0.0.1 dst 192.0.2.1 proto esp spi 0x204 mode tunnel replay-window 32 "
	"aead rfc4309(ccm(aes)) 0x000102030405060708090a0b0c0d0e0fa0a1a2 64\n"
	"src 10.0.0.1 dst 192.0.2.1 proto ah spi 0x205 mode transport replay-window 32 "
	"auth cmac(aes) 0x000102030405060708090a0b0c0d0e0f\n"
	/* outbound, as Linux 6.10 keeps it: received packets find no SA */
	"src 10.0.0.1 dst 192.0.2.1 proto esp spi 0x206 mode tunnel dir out flag esn "
	"aead rfc4106(gcm(aes)) 0xa54dca182530bb1d6d132cded6237b2ed91e3f72 128\n";

enum seal_kind { SEAL_GCM, SEAL_CCM, SEAL_CHACHA, SEAL_CBC, SEAL_CBC_CMAC, SEAL_AH };

static enum seal_kind
seal_kind_of(unsigned int i)
{
	static const enum seal_kind kind[SEALABLE] = {
		SEAL_GCM, SEAL_GCM, SEAL_CCM, SEAL_CHACHA,
		SEAL_GCM, SEAL_CBC_CMAC, SEAL_CBC, SEAL_AH,
	};

	return kind[i];
}

static bool
seal_is_cbc(enum seal_kind k)
{
	return k == SEAL_CBC || k == SEAL_CBC_CMAC;
}

struct seal_sa {
	const struct rxsec_sa_config *c;
	enum seal_kind kind;
	/* AES-CBC's or AES-CCM's round keys; CMAC's own */
	uint8_t aes_enc[11 * 16] __attribute__((aligned(16)));
	uint8_t aes_dec[11 * 16] __attribute__((aligned(16)));
	uint8_t cmac_enc[11 * 16] __attribute__((aligned(16)));
	uint8_t cmac_dec[11 * 16] __attribute__((aligned(16)));
	uint8_t cmac_sk1[16], cmac_sk2[16];
	/* intel-ipsec-mb.h aligns it only when LINUX is defined */
	struct gcm_key_data key __attribute__((aligned(64)));
	uint32_t next_seq;
};

static struct {
	struct rte_mempool *pool, *big;
	struct rte_ring *ring[2];
	IMB_MGR *mb;
	struct rxsec_sa_list list;
	struct seal_sa seal[SEALABLE];
	struct rxsec_caps caps, caps_narrow;
	struct rxsec_sa_table sat;
	rte_spinlock_t sat_lock;
	struct rxsec_engine *e;
	struct rxsec_transport *t[2];
	uint16_t nb_tr;
	void *eng_cctx, *tr_cctx[2];
	uint64_t next_n;
	uint64_t delivered;	/* seen by the TX callback */
	bool verbose;
	uint8_t frame[RXSEC_FRAME_MAX + 64];
	uint8_t scratch[RXSEC_FRAME_MAX + 64];
	uint8_t scratch2[RXSEC_FRAME_MAX + 64];	/* what an AH ICV covers */
} f;

static void expect_check(struct rte_mbuf *m);

static uint16_t
tx_check(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	(void)port;
	(void)queue;
	(void)arg;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i], *s;
		uint32_t sum = 0;
		uint16_t segs = 0;

		for (s = m; s != NULL; s = s->next, segs++) {
			FUZZ_ASSERT((uint32_t)s->data_off + s->data_len <= s->buf_len,
				    "segment past its buffer: %u + %u > %u", s->data_off,
				    s->data_len, s->buf_len);
			sum += s->data_len;
		}
		FUZZ_ASSERT(segs == m->nb_segs && sum == m->pkt_len,
			    "%u segments of %u bytes, mbuf says %u of %u", segs, sum, m->nb_segs,
			    m->pkt_len);
		/* frames that are not IPsec pass as they came, runts too */
		FUZZ_ASSERT(m->pkt_len <= RXSEC_FRAME_MAX, "delivered %u bytes", m->pkt_len);
		expect_check(pkts[i]);
	}
	f.delivered += n;
	return n;
}

static void
port_start(void)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	/* a TX queue per transport stage, as rxsec gives them */
	if (rte_eth_dev_count_avail() != 1 || rte_eth_dev_configure(0, 1, 2, &conf) != 0 ||
	    rte_eth_rx_queue_setup(0, 0, 64, 0, NULL, f.pool) != 0 ||
	    rte_eth_tx_queue_setup(0, 0, 64, 0, NULL) != 0 ||
	    rte_eth_tx_queue_setup(0, 1, 64, 0, NULL) != 0 || rte_eth_dev_start(0) != 0 ||
	    rte_eth_add_tx_callback(0, 0, tx_check, NULL) == NULL ||
	    rte_eth_add_tx_callback(0, 1, tx_check, NULL) == NULL) {
		fprintf(stderr, "rxsec-fuzz: cannot start net_null0\n");
		exit(2);
	}
}

static void
sas_parse(void)
{
	char text[8192], *p = text;
	struct rxsec_sa_parse_error err;

	for (unsigned int i = 0; i < SEALABLE; i++) {
		enum seal_kind kind = seal_kind_of(i);
		unsigned int klen = kind == SEAL_CHACHA ? CHACHA_KEY_LEN : GCM_KEY_LEN;
		unsigned int slen = kind == SEAL_CCM ? CCM_SALT_LEN : SALT_LEN;
		bool cmac = kind == SEAL_CBC_CMAC;

		if (seal_is_cbc(kind) || kind == SEAL_AH) {
			p += sprintf(p, "%s", sa_lines[i]);
			if (seal_is_cbc(kind)) {
				p += sprintf(p, " enc cbc(aes) 0x");
				for (unsigned int k = 0; k < CBC_KEY_LEN; k++)
					p += sprintf(p, "%02x", 0x10 + i);
			}
			p += sprintf(p, " auth-trunc %s 0x", cmac ? "cmac(aes)" : "hmac(sha256)");
			for (unsigned int k = 0; k < (cmac ? CMAC_KEY_LEN : HMAC_KEY_LEN); k++)
				p += sprintf(p, "%02x", 0x30 + i);
			p += sprintf(p, " 128\n");
			continue;
		}
		p += sprintf(p, "%s aead %s 0x", sa_lines[i],
			     kind == SEAL_CHACHA ? "rfc7539esp(chacha20,poly1305)" :
			     kind == SEAL_CCM ? "rfc4309(ccm(aes))" : "rfc4106(gcm(aes))");
		for (unsigned int k = 0; k < klen + slen; k++)
			p += sprintf(p, "%02x", k < klen ? 0x10 + i : 0xa0 + i);
		p += sprintf(p, " 128\n");
	}
	strcpy(p, extra_sas);
	if (rxsec_sa_parse_string(text, "fuzz", &f.list, &err) != 0) {
		rxsec_sa_parse_error_format(&err, text, sizeof(text));
		fprintf(stderr, "rxsec-fuzz: %s\n", text);
		exit(2);
	}
	for (unsigned int i = 0; i < SEALABLE; i++) {
		f.seal[i].c = &f.list.sa[i];
		f.seal[i].kind = seal_kind_of(i);
		if (f.seal[i].kind == SEAL_GCM)
			IMB_AES128_GCM_PRE(f.mb, f.list.sa[i].cipher_key, &f.seal[i].key);
		else if (f.seal[i].kind != SEAL_CHACHA && f.seal[i].kind != SEAL_AH)
			IMB_AES_KEYEXP_128(f.mb, f.list.sa[i].cipher_key, f.seal[i].aes_enc,
					   f.seal[i].aes_dec);
		if (f.seal[i].kind == SEAL_CBC_CMAC) {
			IMB_AES_KEYEXP_128(f.mb, f.list.sa[i].auth_key, f.seal[i].cmac_enc,
					   f.seal[i].cmac_dec);
			IMB_AES_CMAC_SUBKEY_GEN_128(f.mb, f.seal[i].cmac_enc, f.seal[i].cmac_sk1,
						    f.seal[i].cmac_sk2);
		}
	}
}

static void
at_exit(void)
{
	rte_eth_dev_stop(0);
	rxsec_crypto_ipsec_mb.lcore_free(f.eng_cctx);
	rte_free(f.e);
	for (int i = 0; i < 2; i++) {
		rte_ring_free(f.ring[i]);
		rxsec_crypto_ipsec_mb.lcore_free(f.tr_cctx[i]);
		rte_free(f.t[i]);
	}
	free_mb_mgr(f.mb);
	rxsec_sa_list_free(&f.list);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[128];

	(void)argc;
	(void)argv;
	rxsec_fuzz_eal_init("net_null0,no-rx=1");
	f.mb = alloc_mb_mgr(0);
	f.pool = rte_pktmbuf_pool_create("fuzz_mbufs", NB_MBUFS, 0, RXSEC_PKT_PRIV_SIZE,
					 RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	f.big = rte_pktmbuf_pool_create("fuzz_big", NB_BIG, 0, RXSEC_PKT_PRIV_SIZE, BIG_ROOM,
					(int)rte_socket_id());
	f.e = rte_zmalloc("fuzz_eng", sizeof(*f.e), RTE_CACHE_LINE_SIZE);
	f.eng_cctx = rxsec_crypto_ipsec_mb.lcore_create();
	for (int i = 0; i < 2; i++) {
		char name[16];

		snprintf(name, sizeof(name), "fuzz_tr%d", i);
		f.ring[i] = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
		f.t[i] = rte_zmalloc("fuzz_tr", sizeof(*f.t[i]), RTE_CACHE_LINE_SIZE);
		f.tr_cctx[i] = rxsec_crypto_ipsec_mb.lcore_create();
		if (f.ring[i] == NULL || f.t[i] == NULL || f.tr_cctx[i] == NULL)
			f.e = NULL;
	}
	if (f.mb == NULL || f.pool == NULL || f.big == NULL || f.e == NULL ||
	    f.eng_cctx == NULL || rxsec_result_register() != 0) {
		fprintf(stderr, "rxsec-fuzz: set-up failed\n");
		exit(2);
	}
	init_mb_mgr_auto(f.mb, NULL);
	port_start();
	sas_parse();
	rxsec_caps_init(&f.caps, 2);
	f.caps_narrow = f.caps;
	f.caps_narrow.excluded_flags |= RXSEC_PKT_F_IPV4_OPTS | RXSEC_PKT_F_IPV6_EXT |
					RXSEC_PKT_F_UDP_ENCAP;
	if (rxsec_caps_restrict_algs(&f.caps_narrow, "rfc4106(gcm(aes))", why, sizeof(why)) != 0) {
		fprintf(stderr, "rxsec-fuzz: %s\n", why);
		exit(2);
	}
	rte_spinlock_init(&f.sat_lock);
	f.verbose = getenv("RXSEC_FUZZ_VERBOSE") != NULL;
	atexit(at_exit);
	return 0;
}

enum {
	SETUP_TWO_STAGES = 1,
	SETUP_NO_OFFLOAD = 2,
	SETUP_NARROW = 4,
	SETUP_NO_REASSEMBLY = 8,
	SETUP_CLAIM = 16,	/* two stages: SAs go to the stage that first sees them */
	SETUP_HOME_1 = 32,	/* ... and the engine's is stage 1 */
};

static void
sa_add(unsigned int i, const struct rxsec_caps *caps)
{
	char why[256];
	int id = rxsec_sa_table_add(&f.sat, &f.list.sa[i], why, sizeof(why));

	FUZZ_ASSERT(id >= 0, "SA %u: %s", i, why);
	f.sat.slot[id]->offload = rxsec_caps_sa_offloadable(caps, &f.list.sa[i]);
}

static void
transport_fresh(uint16_t id, bool reassembly)
{
	struct rxsec_transport *t = f.t[id];

	memset(t, 0, sizeof(*t));
	t->id = id;
	t->tx_queue = id;
	t->ring = f.ring[id];
	t->sat = &f.sat;
	t->sat_lock = &f.sat_lock;
	t->drv = &rxsec_crypto_ipsec_mb;
	t->cctx = f.tr_cctx[id];
	t->rings = f.ring;
	t->nb_rings = f.nb_tr;
	if (reassembly && rxsec_reassembly_init(&t->reasm, 8, 1000, f.big, (int)rte_socket_id(),
						&t->stats.frag) != 0)
		abort();
}

/* A new SA table, reassembly tables, engine and transport stages, as
 * rxsec's main sets them up for the options the set-up byte names. */
static void
state_fresh(uint8_t setup)
{
	const struct rxsec_caps *caps = setup & SETUP_NARROW ? &f.caps_narrow : &f.caps;
	bool late = setup & SETUP_TWO_STAGES;

	f.nb_tr = setup & SETUP_TWO_STAGES ? 2 : 1;
	if (rxsec_sa_table_create(&f.sat, "fuzz_sa", 64, (int)rte_socket_id(),
				  &rxsec_crypto_ipsec_mb) != 0)
		abort();
	f.sat.caps = caps;
	f.sat.nb_transports = f.nb_tr;
	f.sat.claim_on_rx = setup & SETUP_CLAIM;
	for (unsigned int i = 0; i < f.list.n; i++)
		if (!late || f.list.sa[i].mode != RXSEC_MODE_TRANSPORT)
			sa_add(i, caps);
	rxsec_sa_table_assign_transports(&f.sat, f.nb_tr);
	for (unsigned int i = 0; late && i < f.list.n; i++)
		if (f.list.sa[i].mode == RXSEC_MODE_TRANSPORT)
			sa_add(i, caps);
	if (rxsec_sa_table_reader_register(&f.sat, rte_lcore_id()) != 0)
		abort();
	for (unsigned int i = 0; i < SEALABLE; i++)
		f.seal[i].next_seq = 1;
	for (uint16_t i = 0; i < f.nb_tr; i++)
		transport_fresh(i, !(setup & SETUP_NO_REASSEMBLY));

	memset(f.e, 0, sizeof(*f.e));
	f.e->offload = !(setup & SETUP_NO_OFFLOAD);
	f.e->excluded_flags = caps->excluded_flags;
	f.e->nb_rings = f.nb_tr;
	f.e->home_ring = setup & SETUP_HOME_1 ? (uint16_t)(f.nb_tr - 1) : 0;
	f.e->ring_reserve = rxsec_engine_ring_reserve(f.nb_tr, RING_SIZE);
	for (uint16_t i = 0; i < f.nb_tr; i++)
		f.e->ring[i] = f.ring[i];
	f.e->sat = &f.sat;
	f.e->big_pool = f.big;
	f.e->drv = &rxsec_crypto_ipsec_mb;
	f.e->cctx = f.eng_cctx;
	f.e->next_n = &f.next_n;
	f.e->cache_handle = RXSEC_SA_NONE;
	f.next_n = 0;
	f.delivered = 0;
}

/* ---- frames ---------------------------------------------------------- */

static uint32_t
put_l2(uint8_t *b, bool vlan, bool v6)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint32_t off = 12;

	memcpy(b, macs, sizeof(macs));
	if (vlan) {
		b[off++] = 0x81, b[off++] = 0x00, b[off++] = 0x00, b[off++] = 0x07;
	}
	b[off++] = v6 ? 0x86 : 0x08;
	b[off++] = v6 ? 0xdd : 0x00;
	return off;
}

/* An IP header from src to dst carrying len bytes of proto. */
static uint32_t
put_ip(uint8_t *b, const struct rxsec_addr *src, const struct rxsec_addr *dst, uint8_t proto,
       uint32_t len)
{
	if (dst->family == 6) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)b;

		memset(h, 0, sizeof(*h));
		h->vtc_flow = rte_cpu_to_be_32(6u << 28);
		h->payload_len = rte_cpu_to_be_16((uint16_t)len);
		h->proto = proto;
		h->hop_limits = 64;
		memcpy(h->src_addr, src->bytes, 16);
		memcpy(h->dst_addr, dst->bytes, 16);
		return sizeof(*h);
	}
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)b;

	memset(h, 0, sizeof(*h));
	h->version_ihl = 0x45;
	h->total_length = rte_cpu_to_be_16((uint16_t)(len + sizeof(*h)));
	h->packet_id = rte_cpu_to_be_16(0x1234);
	h->time_to_live = 64;
	h->next_proto_id = proto;
	memcpy(&h->src_addr, src->bytes, 4);
	memcpy(&h->dst_addr, dst->bytes, 4);
	h->hdr_checksum = rte_ipv4_cksum(h);
	return sizeof(*h);
}

/* Pad (1, 2, 3, ...) to align bytes, pad length, next header. */
static uint32_t
put_trailer(uint8_t *pt, uint32_t len, uint8_t nh, uint32_t align)
{
	uint8_t pad = (uint8_t)((align - (len + 2) % align) % align);

	for (uint8_t i = 0; i < pad; i++)
		pt[len++] = i + 1;
	pt[len++] = pad;
	pt[len++] = nh;
	return len;
}

static uint32_t
seal_iv_len(const struct seal_sa *s)
{
	return seal_is_cbc(s->kind) ? CBC_IV_LEN : ESP_IV_LEN;
}

/* A job with one AES-128 key schedule, src and dst, the cipher and the
 * hash over the same len bytes from their start (cipher or hash NULL). */
static IMB_JOB *
seal_job(IMB_CIPHER_MODE cipher, IMB_HASH_ALG hash, const uint8_t *keys,
	 const uint8_t *src, uint8_t *dst, uint32_t len)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(f.mb);

	job->cipher_mode = cipher;
	job->hash_alg = hash;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	/* CCM's MAC covers the plaintext, so it goes first */
	job->chain_order = cipher == IMB_CIPHER_CBC ? IMB_ORDER_CIPHER_HASH :
						      IMB_ORDER_HASH_CIPHER;
	job->enc_keys = keys;
	job->dec_keys = keys;	/* encryption only */
	job->key_len_in_bytes = keys != NULL ? 16 : 0;
	job->src = src;
	job->dst = dst;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = cipher == IMB_CIPHER_NULL ? 0 : len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = hash == IMB_AUTH_NULL ? 0 : len;
	job->auth_tag_output = NULL;
	job->auth_tag_output_len_in_bytes = 0;
	return job;
}

static void
seal_job_run(IMB_JOB *job, const char *what)
{
	job = IMB_SUBMIT_JOB(f.mb);
	if (job == NULL)
		job = IMB_FLUSH_JOB(f.mb);
	if (job == NULL || job->status != IMB_STATUS_COMPLETED) {
		fprintf(stderr, "rxsec-fuzz: %s job failed\n", what);
		exit(2);
	}
}

/* AES-CBC of pt's whole blocks into ct, through a cipher-only job; a
 * partial last block is copied as it is (rxsec must refuse that length). */
static void
seal_cbc(struct seal_sa *s, const uint8_t *iv, const uint8_t *pt, uint32_t len, uint8_t *ct)
{
	uint32_t whole = len & ~15u;
	IMB_JOB *job;

	memcpy(ct + whole, pt + whole, len - whole);
	if (whole == 0)
		return;
	job = seal_job(IMB_CIPHER_CBC, IMB_AUTH_NULL, s->aes_enc, pt, ct, whole);
	job->iv = iv;
	job->iv_len_in_bytes = CBC_IV_LEN;
	seal_job_run(job, "AES-CBC");
}

/* AES-CMAC-128 (RFC 4494) of msg, not truncated, at icv. */
static void
seal_cmac(struct seal_sa *s, const uint8_t *msg, uint32_t len, uint8_t *icv)
{
	IMB_JOB *job = seal_job(IMB_CIPHER_NULL, IMB_AUTH_AES_CMAC, NULL, msg, icv, len);

	job->u.CMAC._key_expanded = s->cmac_enc;
	job->u.CMAC._skey1 = s->cmac_sk1;
	job->u.CMAC._skey2 = s->cmac_sk2;
	job->auth_tag_output = icv;
	job->auth_tag_output_len_in_bytes = ICV_LEN;
	seal_job_run(job, "AES-CMAC");
}

/* AES-CCM-128 (RFC 4309) of pt into ct, the ICV behind it: nonce is salt
 * || IV (11 bytes, so CCM's length field takes 4). */
static void
seal_ccm(struct seal_sa *s, const uint8_t *nonce, const uint8_t *aad, uint32_t aad_len,
	 const uint8_t *pt, uint32_t len, uint8_t *ct)
{
	IMB_JOB *job = seal_job(IMB_CIPHER_CCM, IMB_AUTH_AES_CCM, s->aes_enc, pt, ct, len);

	job->iv = nonce;
	job->iv_len_in_bytes = CCM_SALT_LEN + ESP_IV_LEN;
	job->u.CCM.aad = aad;
	job->u.CCM.aad_len_in_bytes = aad_len;
	job->auth_tag_output = ct + len;
	job->auth_tag_output_len_in_bytes = ICV_LEN;
	seal_job_run(job, "AES-CCM");
}

/* SHA-256 of (key, zero-padded to a block, XOR pad) || msg. */
static void
hmac_half(const uint8_t *key, uint8_t pad, const uint8_t *msg, uint32_t len, uint8_t out[32])
{
	static uint8_t buf[64 + RXSEC_FRAME_MAX + 64];

	memset(buf, pad, 64);
	for (unsigned int k = 0; k < HMAC_KEY_LEN; k++)
		buf[k] ^= key[k];
	memcpy(buf + 64, msg, len);
	IMB_SHA256(f.mb, buf, 64 + len, out);
}

/* HMAC-SHA-256 (RFC 2104) of esp, truncated to ICV_LEN, at icv. */
static void
seal_hmac(const uint8_t *key, const uint8_t *esp, uint32_t len, uint8_t *icv)
{
	uint8_t inner[32], outer[32];

	hmac_half(key, 0x36, esp, len, inner);
	hmac_half(key, 0x5c, inner, sizeof(inner), outer);
	memcpy(icv, outer, ICV_LEN);
}

/* AES-CBC then HMAC-SHA-256 or AES-CMAC over header, IV and ciphertext
 * (no ESN: SAs 5 and 6 have none); esp holds the ESP header. */
static void
seal_cbc_auth(struct seal_sa *s, uint64_t explicit_iv, const uint8_t *pt, uint32_t len,
	      uint8_t *esp)
{
	uint8_t *iv = esp + ESP_HDR_LEN, *ct = iv + CBC_IV_LEN;

	/* a different IV for each sequence number, as RFC 3602 wants */
	memcpy(iv, &explicit_iv, 8);
	memcpy(iv + 8, &explicit_iv, 8);
	iv[15] ^= 0x5a;
	seal_cbc(s, iv, pt, len, ct);
	if (s->kind == SEAL_CBC_CMAC)
		seal_cmac(s, esp, ESP_HDR_LEN + CBC_IV_LEN + len, ct + len);
	else
		seal_hmac(s->c->auth_key, esp, ESP_HDR_LEN + CBC_IV_LEN + len, ct + len);
}

/* AES-GCM, AES-CCM or ChaCha20-Poly1305; esp holds the ESP header. */
static void
seal_aead(struct seal_sa *s, uint64_t seq, uint64_t explicit_iv, const uint8_t *pt,
	  uint32_t len, uint8_t *esp)
{
	const uint8_t *key = s->c->cipher_key;
	uint8_t nonce[SALT_LEN + ESP_IV_LEN], aad[12], *ct = esp + ESP_HDR_LEN + ESP_IV_LEN;
	uint32_t be_hi = rte_cpu_to_be_32((uint32_t)(seq >> 32)), aad_len = 8;
	uint32_t salt_len = s->kind == SEAL_CCM ? CCM_SALT_LEN : SALT_LEN;

	memcpy(esp + ESP_HDR_LEN, &explicit_iv, ESP_IV_LEN);
	/* RFC 4106 4, RFC 4309 4 and RFC 7634 2: nonce = salt (the key's
	 * last bytes) || IV */
	memcpy(nonce, key + (s->kind == SEAL_CHACHA ? CHACHA_KEY_LEN : GCM_KEY_LEN), salt_len);
	memcpy(nonce + salt_len, &explicit_iv, ESP_IV_LEN);
	memcpy(aad, esp, 4);
	if (s->c->esn) {	/* RFC 4106 5, RFC 4309 5, RFC 7634 2.1: SPI, high, low */
		memcpy(aad + 4, &be_hi, 4);
		memcpy(aad + 8, esp + 4, 4);
		aad_len = 12;
	} else {
		memcpy(aad + 4, esp + 4, 4);
	}
	if (s->kind == SEAL_CHACHA) {
		struct chacha20_poly1305_context_data ctx;

		IMB_CHACHA20_POLY1305_INIT(f.mb, key, &ctx, nonce, aad, aad_len);
		IMB_CHACHA20_POLY1305_ENC_UPDATE(f.mb, key, &ctx, ct, pt, len);
		IMB_CHACHA20_POLY1305_ENC_FINALIZE(f.mb, &ctx, ct + len, ICV_LEN);
	} else if (s->kind == SEAL_CCM) {
		seal_ccm(s, nonce, aad, aad_len, pt, len, ct);
	} else {
		struct gcm_context_data ctx;

		IMB_AES128_GCM_ENC(f.mb, &s->key, &ctx, ct, pt, len, nonce, aad, aad_len,
				   ct + len, ICV_LEN);
	}
}

/* ESP header, IV, ciphertext and ICV of pt under s at out; seq's high
 * half only goes into an ESN SA's ICV (RFC 4303 2.2.1). */
static uint32_t
seal_esp(struct seal_sa *s, uint64_t seq, const uint8_t *pt, uint32_t len, uint8_t *out)
{
	uint32_t spi = rte_cpu_to_be_32(s->c->spi), be_seq = rte_cpu_to_be_32((uint32_t)seq);
	uint64_t explicit_iv = rte_cpu_to_be_64(((uint64_t)s->c->spi << 32) | (uint32_t)seq);

	memcpy(out, &spi, 4);
	memcpy(out + 4, &be_seq, 4);
	if (seal_is_cbc(s->kind))
		seal_cbc_auth(s, explicit_iv, pt, len, out);
	else
		seal_aead(s, seq, explicit_iv, pt, len, out);
	return ESP_HDR_LEN + seal_iv_len(s) + len + ICV_LEN;
}

/* A whole frame: L2, IP to the SA's destination, UDP for ESP in UDP,
 * then ESP sealing pt. Returns the frame length, l3 its IP offset. */
static uint32_t
build_esp_frame(uint8_t *b, struct seal_sa *s, uint64_t seq, const uint8_t *pt, uint32_t len,
		bool vlan, uint32_t *l3)
{
	const struct rxsec_sa_config *c = s->c;
	uint32_t off = put_l2(b, vlan, c->dst.family == 6);
	uint32_t esp_len = ESP_HDR_LEN + seal_iv_len(s) + len + ICV_LEN;
	uint32_t udp = c->encap ? sizeof(struct rte_udp_hdr) : 0;

	*l3 = off;
	off += put_ip(b + off, &c->src, &c->dst, c->encap ? IPPROTO_UDP : IPPROTO_ESP,
		      esp_len + udp);
	if (c->encap) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(b + off);

		u->src_port = rte_cpu_to_be_16(c->encap_sport);
		u->dst_port = rte_cpu_to_be_16(c->encap_dport);
		u->dgram_len = rte_cpu_to_be_16((uint16_t)(esp_len + udp));
		u->dgram_cksum = 0;	/* RFC 3948 2.1: none over IPv4 */
		off += udp;
	}
	return off + seal_esp(s, seq, pt, len, b + off);
}

#define AH_HDR_LEN	12	/* next header, length, reserved, SPI, sequence number */

/* An AH frame (RFC 4302) over IPv4: L2, IP to the SA's destination, AH,
 * payload. The ICV is HMAC-SHA-256-128 over the IP header with its mutable
 * fields zeroed (3.3.3.1.1.1: TOS, flags and offset, TTL, checksum), AH
 * with a zero ICV, the payload and, for ESN, the sequence number's high
 * half (2.5.1). Returns the frame length, l3 its IP offset. */
static uint32_t
build_ah_frame(uint8_t *b, struct seal_sa *s, uint64_t seq, const uint8_t *pl, uint32_t len,
	       uint8_t nh, bool vlan, uint32_t *l3)
{
	const struct rxsec_sa_config *c = s->c;
	uint32_t ah_len = AH_HDR_LEN + ICV_LEN, off = put_l2(b, vlan, false), hl, n;
	uint32_t be_spi = rte_cpu_to_be_32(c->spi), be_lo = rte_cpu_to_be_32((uint32_t)seq);
	uint32_t be_hi = rte_cpu_to_be_32((uint32_t)(seq >> 32));
	uint8_t *ip = b + off, *ah, *msg = f.scratch2;

	*l3 = off;
	hl = put_ip(ip, &c->src, &c->dst, IPPROTO_AH, ah_len + len);
	ah = ip + hl;
	ah[0] = nh;
	ah[1] = (uint8_t)(ah_len / 4 - 2);	/* 2.2: in 32-bit words, minus 2 */
	ah[2] = ah[3] = 0;
	memcpy(ah + 4, &be_spi, 4);
	memcpy(ah + 8, &be_lo, 4);
	memset(ah + AH_HDR_LEN, 0, ICV_LEN);
	memcpy(ah + ah_len, pl, len);
	n = hl + ah_len + len;
	memcpy(msg, ip, n);
	msg[1] = 0;				/* TOS */
	msg[6] = msg[7] = 0;			/* flags, fragment offset */
	msg[8] = 0;				/* TTL */
	msg[10] = msg[11] = 0;			/* header checksum */
	if (c->esn) {
		memcpy(msg + n, &be_hi, 4);
		n += 4;
	}
	seal_hmac(c->auth_key, msg, n, ah + AH_HDR_LEN);
	return off + hl + ah_len + len;
}

/* ---- what sealable tunnels may deliver ---------------------------------- */

/* The inner packets sealed with tunnel SAs in this input: the plaintext up
 * to its ESP padding, of which rxsec delivers what the inner IP header's
 * length covers (the rest is TFC padding), never other bytes. */
static struct {
	unsigned int n;
	uint8_t seal[FRAMES_MAX];
	uint32_t len[FRAMES_MAX];
	uint8_t bytes[FRAMES_MAX][RXSEC_FRAME_MAX];
	uint8_t frame[RXSEC_FRAME_MAX];		/* a delivered one, flat */
} expect;

/* The source of the inner packet of every nested record: its delivery is
 * the transport-mode SA's, not a tunnel plaintext as sealed. */
static const struct rxsec_addr nested_src = { 4, { 172, 16, 9, 9 } };

/* The transport-mode payloads sealed in this input, up to their ESP
 * padding, with their next header and the source address of the frame's
 * IP header (the SA's, or nested_src). rxsec must deliver the IP header as
 * put_ip() builds it for the payload alone (the next header as protocol,
 * lengths and checksum to match, no fragment fields), then the payload. */
static struct {
	unsigned int n;
	uint8_t seal[FRAMES_MAX], nh[FRAMES_MAX];
	const struct rxsec_addr *src[FRAMES_MAX];
	uint32_t len[FRAMES_MAX];
	uint8_t bytes[FRAMES_MAX][RXSEC_FRAME_MAX];
} expect_tr;

/* The payload's length in a plaintext of n bytes that ends with an ESP
 * trailer (pad, pad length, next header); false if it cannot. */
static bool
payload_len(const uint8_t *pt, uint32_t n, uint32_t *len)
{
	if (n < 2 || pt[n - 2] + 2u > n)
		return false;
	*len = n - 2 - pt[n - 2];
	return true;
}

static void
expect_add_transport(unsigned int seal, const struct rxsec_addr *src, const uint8_t *pt,
		     uint32_t n)
{
	uint32_t len;

	if (expect_tr.n == FRAMES_MAX || !payload_len(pt, n, &len))
		return;
	expect_tr.seal[expect_tr.n] = (uint8_t)seal;
	expect_tr.nh[expect_tr.n] = pt[n - 1];
	expect_tr.src[expect_tr.n] = src;
	expect_tr.len[expect_tr.n] = len;
	memcpy(expect_tr.bytes[expect_tr.n], pt, len);
	expect_tr.n++;
}

/* A tunnel's inner packet, len bytes of which rxsec may deliver. */
static void
expect_add_inner(unsigned int seal, const uint8_t *pt, uint32_t len)
{
	if (expect.n == FRAMES_MAX)
		return;
	expect.seal[expect.n] = (uint8_t)seal;
	expect.len[expect.n] = len;
	memcpy(expect.bytes[expect.n], pt, len);
	expect.n++;
}

static void
expect_add(unsigned int seal, const uint8_t *pt, uint32_t n)
{
	uint32_t len;

	if (f.seal[seal].c->mode != RXSEC_MODE_TUNNEL)
		expect_add_transport(seal, &f.seal[seal].c->src, pt, n);
	else if (payload_len(pt, n, &len))
		expect_add_inner(seal, pt, len);
}

/* The DS field of an IP header (either version), read as RFC 2474 places
 * it rather than through the code under test (pkt_meta.h). */
static uint8_t
ds_get(const uint8_t *ip)
{
	return ip[0] >> 4 == 4 ? ip[1] : (uint8_t)(ip[0] << 4 | ip[1] >> 4);
}

/* A whole IPv4 header in len bytes whose checksum is right. */
static bool
ipv4_cksum_ok(const uint8_t *ip, uint32_t len)
{
	uint32_t hl = (ip[0] & 0xfu) * 4;

	return hl >= 20 && hl <= len && rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip) == 0;
}

/* ip (len bytes, delivered) against inner packet i: as long as its IP
 * header says, and equal but for the DS field, which keeps its ECN bits
 * (every outer header here has ECN 0) and its DSCP unless the SA copies
 * the outer's (0, flag decap-dscp), and an IPv4 checksum that follows a DS
 * change, staying right if it was. */
static bool
expect_match(const uint8_t *ip, uint32_t len, unsigned int i, bool decap_dscp)
{
	const uint8_t *e = expect.bytes[i];
	bool v4 = e[0] >> 4 == 4;
	uint32_t ip_len;
	uint8_t got, want;

	if (len < 2 || expect.len[i] < 6 || (!v4 && e[0] >> 4 != 6) || ip[0] >> 4 != e[0] >> 4)
		return false;
	/* RFC 4303 2.4: the inner header's length ends it, TFC padding goes */
	ip_len = v4 ? rxsec_rd_be16(e + 2) : 40u + rxsec_rd_be16(e + 4);
	if (len != ip_len || len > expect.len[i])
		return false;
	got = ds_get(ip);
	want = ds_get(e);
	if (got != want && !(decap_dscp && got == (want & 0x03)))
		return false;
	for (uint32_t k = 0; k < len; k++) {
		uint8_t mask = 0xff;

		if (v4 && (k == 1 || ((k == 10 || k == 11) && got != want)))
			mask = 0;
		else if (!v4 && k <= 1)
			mask = k == 0 ? 0xf0 : 0x0f;
		if ((ip[k] ^ e[k]) & mask)
			return false;
	}
	return !v4 || got == want || !ipv4_cksum_ok(e, len) || ipv4_cksum_ok(ip, len);
}

/* ip (len bytes, delivered by transport-mode SA seal) against the
 * payloads sealed with it: exactly one of them behind its IP header. */
static void
expect_check_transport(const uint8_t *ip, uint32_t len, unsigned int seal)
{
	uint8_t hdr[sizeof(struct rte_ipv6_hdr)];

	for (unsigned int i = 0; i < expect_tr.n; i++) {
		uint32_t hl, pl = expect_tr.len[i];

		if (expect_tr.seal[i] != seal)
			continue;
		hl = put_ip(hdr, expect_tr.src[i], &f.seal[seal].c->dst, expect_tr.nh[i], pl);
		if (len == hl + pl && memcmp(ip, hdr, hl) == 0 &&
		    memcmp(ip + hl, expect_tr.bytes[i], pl) == 0)
			return;
	}
	FUZZ_ASSERT(false, "transport SA %u delivered %u bytes that it did not seal in this input",
		    seal, len);
}

/* A delivered mbuf: if a sealable SA delivered it, one of its inner
 * packets (tunnel) or payloads behind their header (transport). */
static void
expect_check(struct rte_mbuf *m)
{
	const struct rxsec_sa *sa = rxsec_sa_table_get(&f.sat, rxsec_pkt_meta(m)->sa_id);
	const uint8_t *b;
	uint32_t off = 12, seal;

	if (sa == NULL || sa->proto != RXSEC_PROTO_ESP || sa->spi < 0x100 ||
	    sa->spi >= 0x100 + SEALABLE)
		return;
	seal = sa->spi - 0x100;
	b = rte_pktmbuf_read(m, 0, m->pkt_len, expect.frame);
	FUZZ_ASSERT(b != NULL && m->pkt_len >= 14, "SA %u delivered %u bytes", seal, m->pkt_len);
	while (off + 6 <= m->pkt_len && (rxsec_rd_be16(b + off) == RTE_ETHER_TYPE_VLAN ||
					 rxsec_rd_be16(b + off) == RTE_ETHER_TYPE_QINQ))
		off += 4;
	off += 2;
	if (sa->mode != RXSEC_MODE_TUNNEL) {
		expect_check_transport(b + off, m->pkt_len - off, seal);
		return;
	}
	if (m->pkt_len >= off + 16 && b[off] >> 4 == 4 &&
	    memcmp(b + off + 12, nested_src.bytes, 4) == 0)
		return;
	for (unsigned int i = 0; i < expect.n; i++)
		if (expect.seal[i] == seal &&
		    expect_match(b + off, m->pkt_len - off, i, sa->ds_mode & RXSEC_DS_DSCP))
			return;
	FUZZ_ASSERT(false, "SA %u delivered %u bytes that it did not seal in this input",
		    seal, m->pkt_len - off);
}

/* Room a sealed frame may take beyond its plaintext. */
#define SEAL_ROOM	(18 + 40 + 8 + ESP_HDR_LEN + CBC_IV_LEN + 15 + 2 + ICV_LEN)
#define PT_MAX		(RXSEC_FRAME_MAX - 2 * SEAL_ROOM - 40)

struct frames {
	struct rte_mbuf *m[FRAMES_MAX];
	uint16_t n;
};

/* The frame as one mbuf, or a chain when longer than one buffer holds. */
static void
frames_add(struct frames *fr, const uint8_t *b, uint32_t len)
{
	struct rte_mbuf *head = NULL, *last = NULL;

	if (fr->n == FRAMES_MAX)
		return;
	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(f.pool);
		uint16_t take;

		FUZZ_ASSERT(m != NULL, "pool empty with %u frames", fr->n);
		take = (uint16_t)RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, take), b, take);
		b += take;
		len -= take;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += take;
		}
		last = m;
	} while (len != 0);
	fr->m[fr->n++] = head;
}

/* Next header for a plaintext the target ends: a tunnel's is its inner IP
 * version; a transport SA's is the plaintext's first byte, taken off. */
static uint8_t
auto_next_header(const struct rxsec_sa_config *c, const uint8_t **pt, uint32_t *len)
{
	uint8_t nh;

	if (c->mode == RXSEC_MODE_TUNNEL)
		return *len != 0 && (**pt >> 4) == 6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	if (*len == 0)
		return IPPROTO_UDP;
	nh = **pt;
	(*pt)++;
	(*len)--;
	return nh;
}

/* The plaintext the fuzzer gave, with the trailer added if asked. */
static uint32_t
plaintext(uint8_t *out, const struct rxsec_sa_config *c, const uint8_t *pt, uint32_t len,
	  bool trailer)
{
	uint8_t nh = 0;

	if (trailer)
		nh = auto_next_header(c, &pt, &len);
	len = RTE_MIN(len, (uint32_t)PT_MAX);
	memmove(out, pt, len);
	return trailer ? put_trailer(out, len, nh, c->cipher == RXSEC_CIPHER_AES_CBC ? 16 : 4) : len;
}

static uint32_t
take_be32(const uint8_t **p, uint32_t *len)
{
	uint32_t v = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 |
		(uint32_t)(*p)[2] << 8 | (*p)[3];

	*p += 4;
	*len -= 4;
	return v;
}

static uint64_t
take_seq(struct seal_sa *s, const uint8_t **p, uint32_t *len, bool given)
{
	uint64_t seq;

	if (!given || *len < 4)
		return s->next_seq++;
	seq = take_be32(p, len);
	if (s->c->esn && *len >= 4)
		seq |= (uint64_t)take_be32(p, len) << 32;
	return seq;
}

/* Two IP fragments of the frame b (IP at l3), cut at at/256 of its payload, on 8 bytes;
 * the first fragment goes second when swap. */
static void
frames_add_fragments(struct frames *fr, const uint8_t *b, uint32_t len, uint32_t l3, uint8_t at,
		     bool swap)
{
	bool v6 = (b[l3] >> 4) == 6;
	uint32_t hl = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint32_t payload = len - l3 - hl, cut = RTE_ALIGN_FLOOR(payload * at / 256, 8);
	uint32_t fh = v6 ? 8 : 0, pos[2], size[2];
	uint8_t *o = f.scratch;

	if (cut == 0 || cut >= payload)
		cut = RTE_ALIGN_FLOOR(payload / 2, 8);
	if (cut == 0) {
		frames_add(fr, b, len);
		return;
	}
	pos[0] = 0;
	size[0] = cut;
	pos[1] = cut;
	size[1] = payload - cut;
	for (int k = 0; k < 2; k++) {
		int i = swap ? 1 - k : k;
		uint16_t off_field = (uint16_t)(pos[i] / 8);
		bool more = i == 0;

		memcpy(o, b, l3 + hl);
		memcpy(o + l3 + hl + fh, b + l3 + hl + pos[i], size[i]);
		if (v6) {
			struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)(o + l3);
			uint8_t *fr6 = o + l3 + hl;

			fr6[0] = h->proto;
			fr6[1] = 0;
			fr6[2] = (uint8_t)(off_field >> 5);
			fr6[3] = (uint8_t)((off_field << 3) | more);
			memcpy(fr6 + 4, "\0\0\x12\x34", 4);
			h->proto = IPPROTO_FRAGMENT;
			h->payload_len = rte_cpu_to_be_16((uint16_t)(fh + size[i]));
		} else {
			struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)(o + l3);

			h->fragment_offset = rte_cpu_to_be_16(off_field | (more ? 0x2000 : 0));
			h->total_length = rte_cpu_to_be_16((uint16_t)(hl + size[i]));
			h->hdr_checksum = 0;
			h->hdr_checksum = rte_ipv4_cksum(h);
		}
		frames_add(fr, o, l3 + hl + fh + size[i]);
	}
}

/* AH's payload is the plaintext without ESP's trailer, which names the
 * next header (SA 7 is a tunnel: IPv4 if the trailer is not sound). */
static uint32_t
frame_ah(struct seal_sa *s, unsigned int seal, uint64_t seq, const uint8_t *p, uint32_t len,
	 bool trailer, bool vlan, uint32_t *l3)
{
	uint8_t *pt = f.scratch, nh = IPPROTO_IPIP;
	uint32_t n = plaintext(pt, s->c, p, len, trailer), pl;

	if (payload_len(pt, n, &pl))
		nh = pt[n - 1];
	else
		pl = n;
	expect_add_inner(seal, pt, pl);
	return build_ah_frame(f.frame, s, seq, pt, pl, nh, vlan, l3);
}

/* A record that names an SA: its plaintext sealed, maybe nested, maybe
 * fragmented. */
static void
frames_add_sealed(struct frames *fr, uint8_t op, const uint8_t *p, uint32_t len)
{
	unsigned int seal = (op >> 2) & 7;
	struct seal_sa *s = &f.seal[seal];
	bool vlan = op & 0x80, trailer = op & 0x40;
	uint64_t seq = take_seq(s, &p, &len, op & 0x20);
	uint32_t flen, l3, n;
	uint8_t *pt = f.scratch;

	if ((op & 3) == 2) {
		/* the plaintext is SA 4's; that packet, then the tunnel's */
		struct seal_sa *in = &f.seal[4], *out = &f.seal[(op & 0x10) ? 1 : 0];
		uint32_t ipl;

		n = plaintext(f.frame, in->c, p, len, trailer);
		expect_add_transport(4, &nested_src, f.frame, n);
		ipl = put_ip(pt, &nested_src, &in->c->dst, IPPROTO_ESP,
			     ESP_HDR_LEN + ESP_IV_LEN + n + ICV_LEN);
		n = ipl + seal_esp(in, in->next_seq++, f.frame, n, pt + ipl);
		n = put_trailer(pt, n, IPPROTO_IPIP, 4);
		flen = build_esp_frame(f.frame, out, out->next_seq++, pt, n, vlan, &l3);
	} else if (s->kind == SEAL_AH) {
		flen = frame_ah(s, seal, seq, p, len, trailer, vlan, &l3);
	} else {
		n = plaintext(pt, s->c, p, len, trailer);
		expect_add(seal, pt, n);
		flen = build_esp_frame(f.frame, s, seq, pt, n, vlan, &l3);
	}
	if ((op & 3) == 3)
		frames_add_fragments(fr, f.frame, flen, l3, len != 0 ? p[len - 1] : 128, vlan);
	else
		frames_add(fr, f.frame, flen);
}

static void
frames_parse(struct frames *fr, const uint8_t *d, size_t size)
{
	while (size >= 3 && fr->n < FRAMES_MAX) {
		uint8_t op = d[0];
		uint32_t len = RTE_MIN((uint32_t)(d[1] << 8 | d[2]), (uint32_t)(size - 3));

		d += 3;
		size -= 3;
		if ((op & 3) == 0)
			frames_add(fr, d, RTE_MIN(len, (uint32_t)RXSEC_FRAME_MAX + 16));
		else
			frames_add_sealed(fr, op, d, len);
		d += len;
		size -= len;
	}
}

/* ---- the pipeline ------------------------------------------------------ */

/* Every stage until no ring holds anything: a stage may hand a packet to
 * the other (a reassembled datagram, a nested packet's second layer). */
static void
drain_transports(void)
{
	struct rte_mbuf *pkts[RXSEC_BURST_MAX];
	bool again = true;

	while (again) {
		again = false;
		for (uint16_t i = 0; i < f.nb_tr; i++) {
			unsigned int n = rte_ring_dequeue_burst(f.ring[i], (void **)pkts,
								RXSEC_BURST_MAX, NULL);

			if (n != 0) {
				rxsec_transport_process(f.t[i], pkts, (uint16_t)n);
				again = true;
			}
		}
	}
}

static void
check_counts(uint16_t nb_frames, const struct rxsec_transport_stats *s)
{
	uint64_t reasons = 0;

	for (int k = 0; k < RXSEC_REASON_MAX; k++)
		reasons += s->reason[k];
	FUZZ_ASSERT(f.e->stats.rx == nb_frames, "engine rx %" PRIu64 " of %u frames",
		    f.e->stats.rx, nb_frames);
	FUZZ_ASSERT(f.e->stats.crypto_done + f.e->stats.unprocessed == f.e->stats.rx,
		    "engine: %" PRIu64 " done + %" PRIu64 " unprocessed != %" PRIu64 " rx",
		    f.e->stats.crypto_done, f.e->stats.unprocessed, f.e->stats.rx);
	/* a datagram takes the place of the fragment that completed it, and a
	 * packet handed to another stage is that stage's */
	FUZZ_ASSERT(s->rx == nb_frames, "transport rx %" PRIu64 " of %u frames", s->rx,
		    nb_frames);
	FUZZ_ASSERT(reasons == s->rx, "reasons add up to %" PRIu64 ", rx %" PRIu64, reasons,
		    s->rx);
	FUZZ_ASSERT(s->delivered == f.delivered && s->delivered == s->reason[RXSEC_REASON_OK],
		    "delivered %" PRIu64 ", port sent %" PRIu64 ", ok %" PRIu64, s->delivered,
		    f.delivered, s->reason[RXSEC_REASON_OK]);
}

/* RXSEC_FUZZ_VERBOSE=1: what each input came to, to see what a seed reaches */
static void
print_outcome(uint8_t setup, uint16_t nb_frames, const struct rxsec_transport_stats *s)
{
	printf("set-up %#x, %u frames:", setup, nb_frames);
	for (int k = 0; k < RXSEC_REASON_MAX; k++)
		if (s->reason[k] != 0)
			printf(" %s %" PRIu64, rxsec_reason_name((enum rxsec_reason)k),
			       s->reason[k]);
	printf(" (nested_handed %" PRIu64 ")\n", s->nested_handed);
}

static void
check_mbufs_home(void)
{
	FUZZ_ASSERT(rte_mempool_avail_count(f.pool) == NB_MBUFS, "%u of %u mbufs home",
		    rte_mempool_avail_count(f.pool), NB_MBUFS);
	FUZZ_ASSERT(rte_mempool_avail_count(f.big) == NB_BIG, "%u of %u large mbufs home",
		    rte_mempool_avail_count(f.big), NB_BIG);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frames fr = { .n = 0 };
	struct rxsec_transport_stats sum;
	uint8_t setup = size != 0 ? data[0] : 0;

	state_fresh(setup);
	expect.n = 0;
	expect_tr.n = 0;
	if (size != 0)
		frames_parse(&fr, data + 1, size - 1);
	/* bursts of every size up to the largest, as a port gives them */
	for (uint16_t i = 0, b = 1; i < fr.n; i += b, b = (uint16_t)(b % RXSEC_BURST_MAX + 1)) {
		uint16_t n = (uint16_t)RTE_MIN(b, fr.n - i);

		rxsec_engine_process(f.e, fr.m + i, n);
		drain_transports();
	}
	memset(&sum, 0, sizeof(sum));
	for (uint16_t i = 0; i < f.nb_tr; i++) {
		rxsec_transport_flush_fragments(f.t[i]);
		rxsec_transport_stats_add(&sum, &f.t[i]->stats);
	}
	check_counts(fr.n, &sum);
	if (f.verbose)
		print_outcome(setup, fr.n, &sum);
	rxsec_sa_table_reader_unregister(&f.sat, rte_lcore_id());
	rxsec_sa_table_free(&f.sat);
	check_mbufs_home();
	return 0;
}
