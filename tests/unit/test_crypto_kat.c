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


/* RFC 7634 appendix A: ChaCha20-Poly1305 ESP example (key || salt a0a1a2a3,
 * SPI 0x01020304, seq 5). */
static const struct esp_vec chacha_vec = {
	.name = "chacha-rfc7634-a",
	.cipher = RXSEC_CIPHER_CHACHA20_POLY1305, .icv_len = 16,
	.ckey = "808182838485868788898a8b8c8d8e8f"
		"909192939495969798999a9b9c9d9e9f a0a1a2a3",
	.packet = "01020304 00000005 1011121314151617"
		  "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
		  "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
		  "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
		  "76aaa8266b7fb0f7b11b369907e1ad43",
	.plain = "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
		 "000736270809 0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		 "202122232425262728292a2b2c2d2e2f303132333435363701020204",
};

/*
 * Block/stream ciphers without integrity (RFC 4303 allows it), wrapped in
 * an ESP header (SPI/seq arbitrary, not covered by anything):
 * RFC 3602 section 4 cases 1 and 2, RFC 3686 section 6 vectors 1 and 2,
 * FIPS 81 appendix C CBC example for DES (and 3DES with K1 = K2 = K3).
 */
static const struct esp_vec cipher_vecs[] = {
	{
		.name = "aes-cbc-rfc3602-case1",
		.cipher = RXSEC_CIPHER_AES_CBC,
		.ckey = "06a9214036b8a15b512e03d534120006",
		.packet = "00001000 00000001 3dafba429d9eb430b422da802c9fac41"
			  "e353779c1079aeb82708942dbe77181a",
		.plain = "53696e676c6520626c6f636b206d7367",
	},
	{
		.name = "aes-cbc-rfc3602-case2",
		.cipher = RXSEC_CIPHER_AES_CBC,
		.ckey = "c286696d887c9aa0611bbb3e2025a45a",
		.packet = "00001000 00000002 562e17996d093d28ddb3ba695a2e6f58"
			  "d296cd94c2cccf8a3a863028b5e1dc0a"
			  "7586602d253cfff91b8266bea6d61ab1",
		.plain = "000102030405060708090a0b0c0d0e0f"
			 "101112131415161718191a1b1c1d1e1f",
	},
	{
		.name = "aes-ctr-rfc3686-tv1",
		.cipher = RXSEC_CIPHER_AES_CTR,
		.ckey = "ae6852f8121067cc4bf7a5765577f39e 00000030",
		.packet = "00001000 00000001 0000000000000000"
			  "e4095d4fb7a7b3792d6175a3261311b8",
		.plain = "53696e676c6520626c6f636b206d7367",
	},
	{
		.name = "aes-ctr-rfc3686-tv2",
		.cipher = RXSEC_CIPHER_AES_CTR,
		.ckey = "7e24067817fae0d743d6ce1f32539163 006cb6db",
		.packet = "00001000 00000001 c0543b59da48d90b"
			  "5104a106168a72d9790d41ee8edad388"
			  "eb2e1efc46da57c8fce630df9141be28",
		.plain = "000102030405060708090a0b0c0d0e0f"
			 "101112131415161718191a1b1c1d1e1f",
	},
	{
		.name = "des-cbc-fips81",
		.cipher = RXSEC_CIPHER_DES_CBC,
		.ckey = "0123456789abcdef",
		.packet = "00001000 00000001 1234567890abcdef"
			  "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6",
		.plain = "4e6f77206973207468652074696d6520666f7220616c6c20",
	},
	{
		.name = "3des-cbc-fips81-k1k2k3-equal",
		.cipher = RXSEC_CIPHER_3DES_CBC,
		.ckey = "0123456789abcdef0123456789abcdef0123456789abcdef",
		.packet = "00001000 00000001 1234567890abcdef"
			  "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6",
		.plain = "4e6f77206973207468652074696d6520666f7220616c6c20",
	},
};

/*
 * MACs. RFC 2202 / RFC 4231 test case 2 (key "Jefe", data "what do ya want
 * for nothing?") and RFC 2202 SHA-1 case 6 (80-byte key, hashed first),
 * RFC 3566 cases 2-4, RFC 4493 examples 2-4. Each is run as an AH op over
 * the data, as ESP-NULL where the data is the ESP header and payload and,
 * with ESN, as ESP-NULL and AH over the data minus its last 4 bytes with
 * those bytes as seq_hi:
 * RFC 4303 2.2.1 / RFC 4302 2.5.1 append seq_hi to the ICV input, so the
 * MAC is still the published one.
 */
struct mac_vec {
	const char *name;
	enum rxsec_auth_alg auth;
	const char *key;	/* hex */
	const char *data;	/* hex */
	const char *mac;	/* hex, full length */
};

#define JEFE	"4a656665"
#define WHAT	"7768617420646f2079612077616e7420666f72206e6f7468696e673f"
#define AA80	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LARGER	"54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a" \
		"65204b6579202d2048617368204b6579204669727374"

#define CMAC_KEY	"2b7e151628aed2a6abf7158809cf4f3c"
#define CMAC_MSG16	"6bc1bee22e409f96e93d7e117393172a"

static const struct mac_vec mac_vecs[] = {
	{ "hmac-md5-rfc2202-tc2", RXSEC_AUTH_HMAC_MD5, JEFE, WHAT,
	  "750c783e6ab0b503eaa86e310a5db738" },
	{ "hmac-sha1-rfc2202-tc2", RXSEC_AUTH_HMAC_SHA1, JEFE, WHAT,
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "hmac-sha1-rfc2202-tc6", RXSEC_AUTH_HMAC_SHA1, AA80, LARGER,
	  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ "hmac-sha256-rfc4231-tc2", RXSEC_AUTH_HMAC_SHA256, JEFE, WHAT,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "hmac-sha384-rfc4231-tc2", RXSEC_AUTH_HMAC_SHA384, JEFE, WHAT,
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
	  "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
	{ "hmac-sha512-rfc4231-tc2", RXSEC_AUTH_HMAC_SHA512, JEFE, WHAT,
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "aes-xcbc-rfc3566-tc2", RXSEC_AUTH_AES_XCBC,
	  "000102030405060708090a0b0c0d0e0f", "000102",
	  "5b376580ae2f19afe7219ceef172756f" },
	{ "aes-xcbc-rfc3566-tc3", RXSEC_AUTH_AES_XCBC,
	  "000102030405060708090a0b0c0d0e0f",
	  "000102030405060708090a0b0c0d0e0f",
	  "d2a246fa349b68a79998a4394ff7a263" },
	{ "aes-xcbc-rfc3566-tc4", RXSEC_AUTH_AES_XCBC,
	  "000102030405060708090a0b0c0d0e0f",
	  "000102030405060708090a0b0c0d0e0f10111213",
	  "47f51b4564966215b8985c63055ed308" },
	/* RFC 4493 section 4 examples 2-4 (RFC 4494: the first 96 bits) */
	{ "aes-cmac-rfc4493-ex2", RXSEC_AUTH_AES_CMAC, CMAC_KEY, CMAC_MSG16,
	  "070a16b46b4d4144f79bdd9dd04a287c" },
	{ "aes-cmac-rfc4493-ex3", RXSEC_AUTH_AES_CMAC, CMAC_KEY,
	  CMAC_MSG16 "ae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411",
	  "dfa66747de9ae63030ca32611497c827" },
	{ "aes-cmac-rfc4493-ex4", RXSEC_AUTH_AES_CMAC, CMAC_KEY,
	  CMAC_MSG16 "ae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411"
	  "e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
	  "51f0bebf7e3b9d92fc49741779363cfe" },
};

/* ICV lengths in use: RFC 2403/2404/3566/4494 96-bit, Linux hmac(sha256) 96-bit,
 * RFC 4868 128/192/256-bit, and the full digest. */
static const unsigned int icv_lens[RXSEC_AUTH_MAX][3] = {
	[RXSEC_AUTH_HMAC_MD5] = { 12, 16, 0 },
	[RXSEC_AUTH_HMAC_SHA1] = { 12, 20, 0 },
	[RXSEC_AUTH_HMAC_SHA256] = { 12, 16, 32 },
	[RXSEC_AUTH_HMAC_SHA384] = { 24, 48, 0 },
	[RXSEC_AUTH_HMAC_SHA512] = { 32, 64, 0 },
	[RXSEC_AUTH_AES_XCBC] = { 12, 0, 0 },
	[RXSEC_AUTH_AES_CMAC] = { 12, 16, 0 },
};

static void
run_ah_mac(const struct mac_vec *v, unsigned int icv, bool esn)
{
	struct esp_vec ev = {
		.name = v->name, .auth = v->auth, .akey = v->key,
		.icv_len = icv, .esn = esn,
	};
	struct rxsec_crypto_sa *csa = make_sa(&ev, RXSEC_PROTO_AH);
	uint8_t data[256], orig[256], mac[64], bad[64];
	struct rxsec_crypto_op op;
	unsigned int len;

	if (csa == NULL)
		return;
	len = unhex(v->data, orig, sizeof(orig));
	unhex(v->mac, mac, sizeof(mac));
	if (esn && len < 8) {	/* too short to lend 4 bytes as seq_hi */
		drv->sa_free(csa);
		return;
	}
	memset(&op, 0, sizeof(op));
	op.csa = csa;
	op.data = data;
	op.len = len;
	if (esn) {
		op.len = len - 4;
		op.seq_hi = (uint32_t)orig[len - 4] << 24 | orig[len - 3] << 16 |
			    orig[len - 2] << 8 | orig[len - 1];
	}
	memcpy(data, orig, len);
	op.icv = mac;
	op.result = 0xff;
	drv->process_burst(lc, &op, 1);
	CHECK(op.result == RXSEC_CRYPTO_OK, "%s AH icv %u esn %d: result %u",
	      v->name, icv, esn, op.result);
	CHECK(memcmp(data, orig, len) == 0, "%s AH: data changed", v->name);

	memcpy(bad, mac, icv);
	bad[icv - 1] ^= 0x40;
	op.icv = bad;
	drv->process_burst(lc, &op, 1);
	CHECK(op.result == RXSEC_CRYPTO_AUTH_FAILED,
	      "%s AH icv %u esn %d: bad ICV result %u", v->name, icv, esn,
	      op.result);
	if (esn) {
		op.icv = mac;
		op.seq_hi ^= 1;
		drv->process_burst(lc, &op, 1);
		CHECK(op.result == RXSEC_CRYPTO_AUTH_FAILED,
		      "%s AH: wrong seq_hi accepted", v->name);
	}
	drv->sa_free(csa);
}

/* ESP-NULL: the MAC'd data must be at least an ESP header (8 bytes) and
 * leave a payload that is a multiple of 4 bytes. */
static void
run_esp_null_mac(const struct mac_vec *v, unsigned int icv, bool esn)
{
	uint8_t data[256], mac[64];
	char pkt[1024], plain[512], name[96];
	unsigned int len, i, plen, o = 0;
	struct esp_vec ev;

	len = unhex(v->data, data, sizeof(data));
	unhex(v->mac, mac, sizeof(mac));
	plen = len - (esn ? 4 : 0);
	if (plen < 8 || (plen - 8) % 4 != 0)
		return;
	for (i = 0; i < plen; i++)
		o += sprintf(pkt + o, "%02x", data[i]);
	for (i = 0; i < icv; i++)
		o += sprintf(pkt + o, "%02x", mac[i]);
	o = 0;
	plain[0] = '\0';
	for (i = 8; i < plen; i++)
		o += sprintf(plain + o, "%02x", data[i]);
	snprintf(name, sizeof(name), "%s esp-null icv %u%s", v->name, icv,
		 esn ? " esn" : "");
	memset(&ev, 0, sizeof(ev));
	ev.name = name;
	ev.cipher = RXSEC_CIPHER_NULL;
	ev.auth = v->auth;
	ev.akey = v->key;
	ev.icv_len = icv;
	ev.esn = esn;
	if (esn)
		ev.seq_hi = (uint32_t)data[len - 4] << 24 |
			    data[len - 3] << 16 | data[len - 2] << 8 |
			    data[len - 1];
	ev.packet = pkt;
	ev.plain = plain;
	run_esp_vec(&ev);
}

static void
test_macs(bool esn)
{
	unsigned int i, j;

	for (i = 0; i < sizeof(mac_vecs) / sizeof(mac_vecs[0]); i++) {
		const struct mac_vec *v = &mac_vecs[i];

		for (j = 0; j < 3 && icv_lens[v->auth][j] != 0; j++) {
			run_ah_mac(v, icv_lens[v->auth][j], esn);
			run_esp_null_mac(v, icv_lens[v->auth][j], esn);
		}
	}
}

/*
 * AES-GMAC in ESP (RFC 4543). No published ESP packet vector was at hand:
 * the tags below were computed with python3-cryptography's AES-GCM (an
 * independent implementation) as GCM over an empty plaintext with AAD =
 * SPI || [seq_hi] || seq || IV || payload, on draft-mcgrew test case 2's
 * key, salt, IV and payload.
 */
static const struct esp_vec gmac_vecs[] = {
	{
		.name = "gmac-aes128-xcheck",
		.cipher = RXSEC_CIPHER_AES_GMAC, .icv_len = 16,
		.ckey = "feffe9928665731c6d6a8f9467308308 cafebabe",
		.packet = "0000a5f80000000afacedbaddecaf888"
			  "4500003e698f000080114dccc0a80102"
			  "c0a801010a980035002a2343b2d00100"
			  "00010000000000000373697009637962"
			  "65726369747902646b00000100010001"
			  "6d4ae638829f7397045f7c6c65ead02d",
		.plain = "4500003e698f000080114dccc0a80102"
			 "c0a801010a980035002a2343b2d00100"
			 "00010000000000000373697009637962"
			 "65726369747902646b00000100010001",
	},
	{
		.name = "gmac-aes128-esn-xcheck",
		.cipher = RXSEC_CIPHER_AES_GMAC, .icv_len = 16,
		.esn = true, .seq_hi = 0x01020304,
		.ckey = "feffe9928665731c6d6a8f9467308308 cafebabe",
		.packet = "0000a5f80000000afacedbaddecaf888"
			  "4500003e698f000080114dccc0a80102"
			  "c0a801010a980035002a2343b2d00100"
			  "00010000000000000373697009637962"
			  "65726369747902646b00000100010001"
			  "82ec1e888d1c758aba8063d17168c8ba",
		.plain = "4500003e698f000080114dccc0a80102"
			 "c0a801010a980035002a2343b2d00100"
			 "00010000000000000373697009637962"
			 "65726369747902646b00000100010001",
	},
};

/*
 * AES-CCM in ESP (RFC 4309). No published vector has its 11-byte nonce
 * (RFC 3610 and SP 800-38C use 13 and 7..13 other lengths with other AAD):
 * these were made with python3-cryptography's AESCCM (OpenSSL, an
 * independent implementation) on RFC 7634 appendix A's SPI, sequence
 * number, IV and plaintext, with salt a0a1a2.
 */
#define CCM_PLAIN "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10" \
		  "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
		  "202122232425262728292a2b2c2d2e2f303132333435363701020204"
/* The same key and nonce give the same ciphertext whatever the ICV length
 * and AAD: only the tag depends on them. */
#define CCM128_KEY "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf a0a1a2"
#define CCM128_CT "66042f6199658a9239775a49bcc2cf39c13d5fd015f41b78c5b0f1d77eac417b" \
		  "375fd24f7969820bc74388bf5d081eb81f73ee9c345d77c3eea9d94e19048d90" \
		  "1a14da11a8bb26c1f84c4d6019e2f4a127f23b4944921a6d"

static const struct esp_vec ccm_vecs[] = {
	{
		.name = "ccm-aes128-icv8-xcheck",
		.cipher = RXSEC_CIPHER_AES_CCM, .icv_len = 8,
		.ckey = CCM128_KEY,
		.packet = "01020304 00000005 1011121314151617"
			  CCM128_CT
			  "44f85cb13a22cb1d",
		.plain = CCM_PLAIN,
	},
	{
		.name = "ccm-aes256-icv16-esn-xcheck",
		.cipher = RXSEC_CIPHER_AES_CCM, .icv_len = 16,
		.esn = true, .seq_hi = 0x01020304,
		.ckey = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
			" a0a1a2",
		.packet = "01020304 00000005 1011121314151617"
			  "7756d150a9ceb29be43a431d2d5175cc6723904af08a1c77605dcedc16c14eb2"
			  "7cbf4e051edf4277886faec4b74d46201626e3f7aa67ee32c7060be20ee8a723"
			  "944aca143ea26ef816a5d3e25f6428fd94cb6b68c99a903d"
			  "a987197b4fba384e9bc49342f01e5981",
		.plain = CCM_PLAIN,
	},
	{
		.name = "ccm-aes128-icv12-esn-xcheck",
		.cipher = RXSEC_CIPHER_AES_CCM, .icv_len = 12,
		.esn = true, .seq_hi = 0x01020304,
		.ckey = CCM128_KEY,
		.packet = "01020304 00000005 1011121314151617"
			  CCM128_CT
			  "a1017ddc5cabea0066d9c315",
		.plain = CCM_PLAIN,
	},
};

/* RFC 7634 appendix A inputs with ESN (seq_hi 0x01020304): tag from
 * python3-cryptography (cross-check, not a published value). */
static const struct esp_vec chacha_esn_vec = {
	.name = "chacha-esn-xcheck",
	.cipher = RXSEC_CIPHER_CHACHA20_POLY1305, .icv_len = 16,
	.esn = true, .seq_hi = 0x01020304,
	.ckey = "808182838485868788898a8b8c8d8e8f"
		"909192939495969798999a9b9c9d9e9f a0a1a2a3",
	.packet = "01020304 00000005 1011121314151617"
		  "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
		  "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
		  "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
		  "bc2f8f1754bc75824713ccd3a776497b",
	.plain = "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
		 "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		 "202122232425262728292a2b2c2d2e2f303132333435363701020204",
};

static void
test_ciphers(void)
{
	unsigned int i;

	run_esp_vec(&chacha_vec);
	for (i = 0; i < sizeof(cipher_vecs) / sizeof(cipher_vecs[0]); i++)
		run_esp_vec(&cipher_vecs[i]);
	for (i = 0; i < sizeof(gmac_vecs) / sizeof(gmac_vecs[0]); i++)
		if (!gmac_vecs[i].esn)
			run_esp_vec(&gmac_vecs[i]);
	for (i = 0; i < sizeof(ccm_vecs) / sizeof(ccm_vecs[0]); i++)
		if (!ccm_vecs[i].esn)
			run_esp_vec(&ccm_vecs[i]);
}

static void
test_aead_esn_more(void)
{
	unsigned int i;

	run_esp_vec(&chacha_esn_vec);
	for (i = 0; i < sizeof(gmac_vecs) / sizeof(gmac_vecs[0]); i++)
		if (gmac_vecs[i].esn)
			run_esp_vec(&gmac_vecs[i]);
	for (i = 0; i < sizeof(ccm_vecs) / sizeof(ccm_vecs[0]); i++)
		if (ccm_vecs[i].esn)
			run_esp_vec(&ccm_vecs[i]);
}

/*
 * One burst of 150 ops (more than one internal chunk) cycling through SAs
 * of every kind, every fifth op with a corrupted ICV: each result must be
 * right and map to its own op, whatever order the library completes in.
 */
#define BURST_N	150

static void
test_mixed_burst(void)
{
	static const struct esp_vec *kinds[] = {
		&gcm_vecs[0], &gcm_vecs[1], &chacha_vec, &gmac_vecs[0],
		&gcm_esn_vecs[0], &gmac_vecs[1], &chacha_esn_vec, &ccm_vecs[0], &ccm_vecs[1],
	};
	enum { NK = sizeof(kinds) / sizeof(kinds[0]) };
	static uint8_t pkts[BURST_N][512], origs[NK][512], plains[NK][512];
	struct rxsec_crypto_sa *sas[NK + 2];
	struct rxsec_crypto_op ops[BURST_N];
	unsigned int lens[NK], plens[NK], i;
	/* an HMAC ESP-NULL ESN SA and an AH SA join in (RFC 4231 tc2) */
	struct esp_vec hv = {
		.name = "burst-sha256-esn", .cipher = RXSEC_CIPHER_NULL,
		.auth = RXSEC_AUTH_HMAC_SHA256, .akey = JEFE, .icv_len = 16,
		.esn = true,
	};
	struct esp_vec av = {
		.name = "burst-ah-sha1", .auth = RXSEC_AUTH_HMAC_SHA1,
		.akey = JEFE, .icv_len = 12,
	};
	uint8_t what[64], sha256[32], sha1[20];
	unsigned int wlen;

	wlen = unhex(WHAT, what, sizeof(what));
	unhex(mac_vecs[3].mac, sha256, sizeof(sha256));
	unhex(mac_vecs[1].mac, sha1, sizeof(sha1));
	for (i = 0; i < NK; i++) {
		sas[i] = make_sa(kinds[i], RXSEC_PROTO_ESP);
		lens[i] = unhex(kinds[i]->packet, origs[i], sizeof(origs[i]));
		plens[i] = unhex(kinds[i]->plain, plains[i], sizeof(plains[i]));
	}
	sas[NK] = make_sa(&hv, RXSEC_PROTO_ESP);
	sas[NK + 1] = make_sa(&av, RXSEC_PROTO_AH);
	for (i = 0; i < NK + 2; i++)
		if (sas[i] == NULL)
			return;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < BURST_N; i++) {
		unsigned int k = i % (NK + 2);

		ops[i].result = 0xff;
		ops[i].csa = sas[k];
		ops[i].data = pkts[i];
		if (k < NK) {
			memcpy(pkts[i], origs[k], lens[k]);
			ops[i].len = lens[k];
			ops[i].seq_hi = kinds[k]->seq_hi;
		} else if (k == NK) {
			/* what[0..24) || ICV, seq_hi = what[24..28) */
			memcpy(pkts[i], what, 24);
			memcpy(pkts[i] + 24, sha256, 16);
			ops[i].len = 40;
			ops[i].seq_hi = 0x696e673f;	/* "ing?" */
		} else {
			memcpy(pkts[i], what, wlen);
			ops[i].len = wlen;
			ops[i].icv = sha1;
		}
		if (i % 5 == 4)
			pkts[i][k == NK + 1 ? 0 : ops[i].len - 1] ^= 0x01;
	}
	drv->process_burst(lc, ops, BURST_N);
	for (i = 0; i < BURST_N; i++) {
		unsigned int k = i % (NK + 2);
		uint8_t want = i % 5 == 4 ? RXSEC_CRYPTO_AUTH_FAILED :
					    RXSEC_CRYPTO_OK;

		CHECK(ops[i].result == want, "burst op %u (kind %u): %u != %u",
		      i, k, ops[i].result, want);
		if (k < NK && want == RXSEC_CRYPTO_OK) {
			unsigned int hdr = 8 + rxsec_crypto_iv_len(kinds[k]->cipher);

			CHECK(memcmp(pkts[i] + hdr, plains[k], plens[k]) == 0,
			      "burst op %u: plaintext", i);
		}
	}
	for (i = 0; i < NK + 2; i++)
		drv->sa_free(sas[i]);
}

/* An AH packet too long for the ESN scratch copy is refused as ERROR, not
 * truncated or overrun. */
static void
test_oversize(void)
{
	struct esp_vec av = {
		.name = "oversize-ah-esn", .auth = RXSEC_AUTH_HMAC_SHA1,
		.akey = JEFE, .icv_len = 12, .esn = true,
	};
	struct rxsec_crypto_sa *csa = make_sa(&av, RXSEC_PROTO_AH);
	struct rxsec_crypto_op op;
	uint8_t icv[12] = { 0 };
	uint8_t *big;

	if (csa == NULL)
		return;
	big = calloc(1, 70000);
	memset(&op, 0, sizeof(op));
	op.csa = csa;
	op.data = big;
	op.len = 70000;
	op.icv = icv;
	op.result = 0xff;
	drv->process_burst(lc, &op, 1);
	CHECK(op.result == RXSEC_CRYPTO_ERROR, "oversize AH ESN: result %u",
	      op.result);
	free(big);
	drv->sa_free(csa);
}

struct bad_cfg {
	const char *name;
	uint8_t proto;
	enum rxsec_cipher_alg cipher;
	unsigned int ckey_len;
	enum rxsec_auth_alg auth;
	unsigned int akey_len;
	unsigned int icv_len;
	int err;
};

static const struct bad_cfg bad_cfgs[] = {
	{ "gcm key 16 (no salt)", 50, RXSEC_CIPHER_AES_GCM, 16, 0, 0, 16, -EINVAL },
	{ "gcm icv 10", 50, RXSEC_CIPHER_AES_GCM, 20, 0, 0, 10, -EINVAL },
	{ "gcm + hmac", 50, RXSEC_CIPHER_AES_GCM, 20, RXSEC_AUTH_HMAC_SHA1, 20, 16, -EINVAL },
	{ "gmac icv 8", 50, RXSEC_CIPHER_AES_GMAC, 20, 0, 0, 8, -EINVAL },
	{ "chacha key 32", 50, RXSEC_CIPHER_CHACHA20_POLY1305, 32, 0, 0, 16, -EINVAL },
	{ "cbc key 20", 50, RXSEC_CIPHER_AES_CBC, 20, RXSEC_AUTH_HMAC_SHA1, 20, 12, -EINVAL },
	{ "ctr key 16", 50, RXSEC_CIPHER_AES_CTR, 16, 0, 0, 0, -EINVAL },
	{ "3des key 16", 50, RXSEC_CIPHER_3DES_CBC, 16, RXSEC_AUTH_HMAC_MD5, 16, 12, -EINVAL },
	{ "null + none", 50, RXSEC_CIPHER_NULL, 0, 0, 0, 0, -EINVAL },
	{ "esp without cipher", 50, RXSEC_CIPHER_NONE, 0, RXSEC_AUTH_HMAC_SHA1, 20, 12, -EINVAL },
	{ "sha1 icv 24", 50, RXSEC_CIPHER_AES_CBC, 16, RXSEC_AUTH_HMAC_SHA1, 20, 24, -EINVAL },
	{ "xcbc key 20", 50, RXSEC_CIPHER_AES_CBC, 16, RXSEC_AUTH_AES_XCBC, 20, 12, -EINVAL },
	{ "xcbc icv 16", 50, RXSEC_CIPHER_AES_CBC, 16, RXSEC_AUTH_AES_XCBC, 16, 16, -ENOTSUP },
	{ "ccm key 27 (AES-192)", 50, RXSEC_CIPHER_AES_CCM, 27, 0, 0, 16, -ENOTSUP },
	{ "ccm key 20", 50, RXSEC_CIPHER_AES_CCM, 20, 0, 0, 16, -EINVAL },
	{ "ccm icv 4", 50, RXSEC_CIPHER_AES_CCM, 19, 0, 0, 4, -EINVAL },
	{ "ccm + cmac", 50, RXSEC_CIPHER_AES_CCM, 19, RXSEC_AUTH_AES_CMAC, 16, 16, -EINVAL },
	{ "cmac key 32", 50, RXSEC_CIPHER_AES_CBC, 16, RXSEC_AUTH_AES_CMAC, 32, 12, -EINVAL },
	{ "cmac icv 8", 51, RXSEC_CIPHER_NONE, 0, RXSEC_AUTH_AES_CMAC, 16, 8, -EINVAL },
	{ "md5 key 80", 51, RXSEC_CIPHER_NONE, 0, RXSEC_AUTH_HMAC_MD5, 80, 12, -ENOTSUP },
	{ "ah with gmac", 51, RXSEC_CIPHER_AES_GMAC, 20, 0, 0, 16, -ENOTSUP },
	{ "ah without auth", 51, RXSEC_CIPHER_NONE, 0, 0, 0, 0, -EINVAL },
	{ "proto 17", 17, RXSEC_CIPHER_AES_GCM, 20, 0, 0, 16, -EINVAL },
};

static void
test_bad_configs(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(bad_cfgs) / sizeof(bad_cfgs[0]); i++) {
		const struct bad_cfg *b = &bad_cfgs[i];
		struct rxsec_sa_config c;
		struct rxsec_crypto_sa *csa = (void *)1;
		char why[160] = "";
		int rc;

		rxsec_sa_config_init(&c);
		c.proto = b->proto;
		c.cipher = b->cipher;
		c.cipher_key_len = b->ckey_len;
		c.auth = b->auth;
		c.auth_key_len = b->akey_len;
		c.icv_len = b->icv_len;
		rc = drv->sa_create(&c, &csa, why, sizeof(why));
		CHECK(rc == b->err && csa == NULL && why[0] != '\0',
		      "bad config '%s': rc %d csa %p why '%s'", b->name, rc,
		      (void *)csa, why);
	}
}

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
	setvbuf(stdout, NULL, _IOLBF, 0);
	lc = drv->lcore_create();
	if (lc == NULL) {
		printf("FAIL: lcore_create\n");
		return 1;
	}
	/* (1) AES-GCM */
	test_gcm();
	/* (2) the other algorithms, MACs, mixed bursts, config checks */
	test_ciphers();
	test_macs(false);
	test_mixed_burst();
	test_bad_configs();
	/* (3) ESN */
	test_gcm_esn();
	test_aead_esn_more();
	test_macs(true);
	test_oversize();
	drv->lcore_free(lc);
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
