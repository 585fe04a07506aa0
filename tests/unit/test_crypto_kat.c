/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Known-answer tests of the IPsec-MB crypto driver. Every expected value
 * comes from a published document (cited per vector), never from this
 * driver: draft-mcgrew-gcm-test-01 (RFC 4106/4543 ESP packets), RFC 3602,
 * RFC 3686, RFC 7634, RFC 2202, RFC 4231, RFC 3566.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxsec_crypto.h"

static const struct rxsec_crypto_driver *drv = &rxsec_crypto_ipsec_mb;
static void *lc;
static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

/* Hex with any whitespace in between; returns the byte count. */
static unsigned int
unhex(const char *s, uint8_t *out, unsigned int max)
{
	unsigned int n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (isspace((unsigned char)*s))
			continue;
		v = isdigit((unsigned char)*s) ? *s - '0' :
		    tolower((unsigned char)*s) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			if (n >= max)
				abort();
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		abort();
	return n;
}

struct esp_vec {
	const char *name;
	enum rxsec_cipher_alg cipher;
	enum rxsec_auth_alg auth;
	const char *ckey;	/* salt/nonce included, as ip xfrm writes it */
	const char *akey;
	unsigned int icv_len;
	bool esn;
	uint32_t seq_hi;
	const char *packet;	/* SPI, seq, IV, ciphertext, ICV */
	const char *plain;	/* expected plaintext of the ciphertext part */
};

static struct rxsec_crypto_sa *
make_sa(const struct esp_vec *v, uint8_t proto)
{
	struct rxsec_sa_config c;
	struct rxsec_crypto_sa *csa = NULL;
	char why[160] = "";
	int rc;

	rxsec_sa_config_init(&c);
	c.proto = proto;
	c.cipher = v->cipher;
	c.auth = v->auth;
	c.esn = v->esn;
	c.icv_len = v->icv_len;
	if (v->ckey != NULL)
		c.cipher_key_len = unhex(v->ckey, c.cipher_key, RXSEC_KEY_MAX);
	if (v->akey != NULL)
		c.auth_key_len = unhex(v->akey, c.auth_key, RXSEC_KEY_MAX);
	rc = drv->sa_create(&c, &csa, why, sizeof(why));
	CHECK(rc == 0 && csa != NULL, "%s: sa_create %d (%s)", v->name, rc, why);
	return rc == 0 ? csa : NULL;
}

static uint8_t
run_one(struct rxsec_crypto_sa *csa, uint8_t *pkt, uint32_t len,
	uint32_t seq_hi)
{
	struct rxsec_crypto_op op = {
		.csa = csa, .data = pkt, .len = len, .seq_hi = seq_hi,
		.result = 0xff,
	};

	drv->process_burst(lc, &op, 1);
	return op.result;
}

/* Decrypt a published packet; then check that a flipped ICV byte, a
 * flipped ciphertext byte and (ESN) a wrong seq_hi are each rejected with
 * the ESP header, IV and ICV left exactly as received. */
static void
run_esp_vec(const struct esp_vec *v)
{
	uint8_t pkt[2048], orig[2048], plain[2048];
	struct rxsec_crypto_sa *csa = make_sa(v, RXSEC_PROTO_ESP);
	unsigned int len, plen, hdr, icv;
	uint8_t r;

	if (csa == NULL)
		return;
	len = unhex(v->packet, orig, sizeof(orig));
	plen = unhex(v->plain, plain, sizeof(plain));
	hdr = 8 + rxsec_crypto_iv_len(v->cipher);
	icv = v->icv_len;
	CHECK(hdr + plen + icv == len, "%s: vector lengths", v->name);

	memcpy(pkt, orig, len);
	r = run_one(csa, pkt, len, v->seq_hi);
	CHECK(r == RXSEC_CRYPTO_OK, "%s: result %u", v->name, r);
	CHECK(memcmp(pkt + hdr, plain, plen) == 0, "%s: plaintext", v->name);
	CHECK(memcmp(pkt, orig, hdr) == 0, "%s: header/IV changed", v->name);
	CHECK(memcmp(pkt + len - icv, orig + len - icv, icv) == 0,
	      "%s: ICV changed", v->name);

	if (icv != 0) {
		memcpy(pkt, orig, len);
		pkt[len - 1] ^= 0x01;
		r = run_one(csa, pkt, len, v->seq_hi);
		CHECK(r == RXSEC_CRYPTO_AUTH_FAILED, "%s: bad ICV result %u",
		      v->name, r);
		CHECK(memcmp(pkt, orig, hdr) == 0 &&
		      memcmp(pkt + len - icv, orig + len - icv, icv - 1) == 0 &&
		      pkt[len - 1] == (orig[len - 1] ^ 0x01),
		      "%s: bad ICV: header/IV/ICV not as received", v->name);

		memcpy(pkt, orig, len);
		pkt[hdr] ^= 0x80;
		r = run_one(csa, pkt, len, v->seq_hi);
		CHECK(r == RXSEC_CRYPTO_AUTH_FAILED,
		      "%s: bad ciphertext result %u", v->name, r);
		CHECK(memcmp(pkt, orig, hdr) == 0 &&
		      memcmp(pkt + len - icv, orig + len - icv, icv) == 0,
		      "%s: bad ciphertext: header/IV/ICV not as received",
		      v->name);
	}
	if (v->esn && icv != 0) {
		memcpy(pkt, orig, len);
		r = run_one(csa, pkt, len, v->seq_hi + 1);
		CHECK(r == RXSEC_CRYPTO_AUTH_FAILED,
		      "%s: wrong seq_hi accepted (%u)", v->name, r);
		CHECK(memcmp(pkt, orig, hdr) == 0 &&
		      memcmp(pkt + len - icv, orig + len - icv, icv) == 0,
		      "%s: wrong seq_hi: header/IV/ICV not as received",
		      v->name);
	}
	drv->sa_free(csa);
}

/*
 * draft-mcgrew-gcm-test-01 section 4 (AES-GCM in ESP, RFC 4106). The draft
 * gives key and salt separately; ip xfrm writes key || salt. Cases with a
 * 64-bit sequence number use ESN (12-byte AAD, RFC 4106 section 5).
 */
static const struct esp_vec gcm_vecs[] = {
	{
		.name = "gcm-draft-tc2-aes128",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.ckey = "feffe9928665731c6d6a8f9467308308 cafebabe",
		.packet = "0000a5f80000000afacedbaddecaf888"
			  "deb22cd9b07c72c16e3a65beeb8df304"
			  "a5a5897d33ae530f1ba76d5d114d2a5c"
			  "3de81827c10e9a4f51330d0eec416642"
			  "cfbb85a5b47e48a4ec3b9ba95d918bd1"
			  "83b70d3aa8bc6ee4c309e9d85a41ad4a",
		.plain = "4500003e698f000080114dccc0a80102"
			 "c0a801010a980035002a2343b2d00100"
			 "00010000000000000373697009637962"
			 "65726369747902646b00000100010001",
	},
	{
		.name = "gcm-draft-tc3-aes256",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.ckey = "abbccddef00112233445566778899aab"
			"abbccddef00112233445566778899aab 11223344",
		.packet = "4a2cbfe3000000020102030405060708"
			  "ff425c9b724599df7a3bcd510194e00d"
			  "6a78107f1b0b1cbf06efae9d65a5d763"
			  "748a637985771d347f0545659f14e99d"
			  "ef842d8eb335f4eecfdbf831824b4c49"
			  "15956c96",
		.plain = "4500003069a6400080062690c0a80102"
			 "9389155e0a9e008b2dc57ee000000000"
			 "7002400020bf0000020405b401010402"
			 "01020201",
	},
	{
		.name = "gcm-draft-tc4-aes128-zero",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.ckey = "00000000000000000000000000000000 00000000",
		.packet = "00000000000000010000000000000000"
			  "4688daf2f973a392732909c331d56d60"
			  "f694abaa414b5e7ff5fdcdfff5e9a284"
			  "456476492719ffb64de7d9dca1e1d894"
			  "bc3bd57873ed4d181d19d4d5c8c18af3"
			  "f821d496eeb096e98ad2b69e4799c71d",
		.plain = "4500003c99c500008001cb7a40679318"
			 "010101010800075c0200440061626364"
			 "65666768696a6b6c6d6e6f7071727374"
			 "75767761626364656667686901020201",
	},
	{
		.name = "gcm-draft-tc7-aes192",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.ckey = "feffe9928665731c6d6a8f9467308308"
			"feffe9928665731c cafebabe",
		.packet = "0000a5f80000000afacedbaddecaf888"
			  "a5b1f8066029aea40e598b8122de0242"
			  "0938b3ab33f828e687b8858b5bfbdbd0"
			  "315b27452144cc7795457b9652037f53"
			  "18027b5b4cd7a636",
		.plain = "45000028a4ad4000400678800a01038f"
			 "0a010612802306b8cb712602dd6bb03e"
			 "501016d075680001",
	},
	{
		.name = "gcm-draft-tc12-aes128-tiny",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.ckey = "7d773d00c144c525ac619d18c84a3f47 d9664267",
		.packet = "335467aeffffffff43457e9182443bc6"
			  "437f866bcb3f699fe9b0822bac961c45"
			  "04bef270",
		.plain = "01020201",
	},
};

/* The same draft's 64-bit sequence number cases: ESN SAs. */
static const struct esp_vec gcm_esn_vecs[] = {
	{
		.name = "gcm-draft-tc1-aes128-esn",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.esn = true, .seq_hi = 0x87654321,
		.ckey = "4c80cdefbb5d10da906ac73c3613a634 2e443b68",
		.packet = "00004321000000004956ed7e3b244cfe"
			  "fecf537e729d5b07dc30df528dd22b76"
			  "8d1b98736696a6fd348509fa13ceac34"
			  "cfa2436f14a3f3cf65925bf1f4a13c5d"
			  "15b21e1884f5ff6247aeabb786b93bce"
			  "61bc17d768fd9732459018148f6cbe72"
			  "2fd04796562dfdb4",
		.plain = "45000048699a000080114db7c0a80102"
			 "c0a801010a9bf15638d3010000010000"
			 "00000000045f736970045f7564700373"
			 "69700963796265726369747902646b00"
			 "0021000101020201",
	},
	{
		.name = "gcm-draft-tc5-aes128-esn",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.esn = true, .seq_hi = 0x10101010,
		.ckey = "3de09874b388e6491988d0c3607eae1f 57690e43",
		.packet = "42f67e3f101010104e280000a2fca1a3"
			  "fba2caa4853cf9f0f22cb10d86dd83b0"
			  "fec75691cf1a04b00d1138ec9c357917"
			  "65acbd8701ad79845bf9fe3fba487bc9"
			  "1755e6662b4c8d0d1f5e22739530320a"
			  "e0d731cc978ecafaeae88f00e80d6e48",
		.plain = "4500003c99c300008001cb7c40679318"
			 "010101010800085c0200430061626364"
			 "65666768696a6b6c6d6e6f7071727374"
			 "75767761626364656667686901020201",
	},
	{
		.name = "gcm-draft-tc9-aes256-esn",
		.cipher = RXSEC_CIPHER_AES_GCM, .icv_len = 16,
		.esn = true, .seq_hi = 0x156f3126,
		.ckey = "abbccddef00112233445566778899aab"
			"abbccddef00112233445566778899aab 73616c74",
		.packet = "17405e67dd0db99b616e640169766563"
			  "f2d69ecdbd5a0d5b8d5ef38bad4da58d"
			  "1f278fde98ef67549d524a3018d9a57f"
			  "f4d3a31ce673119e451626c2415771e3"
			  "b7eebca614c89b35",
		.plain = "45080028732c00004006e9f90a010612"
			 "0a01038f06b88023dd6bafbecb712602"
			 "50101f646d540001",
	},
};

static void
test_gcm(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++)
		run_esp_vec(&gcm_vecs[i]);
}

static void
test_gcm_esn(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(gcm_esn_vecs) / sizeof(gcm_esn_vecs[0]); i++)
		run_esp_vec(&gcm_esn_vecs[i]);
}

int
main(void)
{
	lc = drv->lcore_create();
	if (lc == NULL) {
		printf("FAIL: lcore_create\n");
		return 1;
	}
	test_gcm();
	test_gcm_esn();
	drv->lcore_free(lc);
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
