/* SPDX-License-Identifier: BSD-3-Clause
 *
 * An SA as described by `ip xfrm state`: what the SA file parser produces and
 * what the SA table and the crypto drivers consume. No DPDK types here.
 */
#ifndef RXSEC_SA_CONFIG_H
#define RXSEC_SA_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define RXSEC_PROTO_ESP	50
#define RXSEC_PROTO_AH	51

#define RXSEC_LIMIT_INF	UINT64_MAX

enum rxsec_sa_mode {
	RXSEC_MODE_TRANSPORT = 0,
	RXSEC_MODE_TUNNEL = 1,
};

/* Encryption part; AEAD algorithms also authenticate (auth is then NONE). */
enum rxsec_cipher_alg {
	RXSEC_CIPHER_NONE = 0,		/* AH SA: no encryption at all */
	RXSEC_CIPHER_NULL,		/* ecb(cipher_null), RFC 2410 */
	RXSEC_CIPHER_AES_CBC,		/* cbc(aes), RFC 3602 */
	RXSEC_CIPHER_AES_CTR,		/* rfc3686(ctr(aes)), key ends with 4-byte nonce */
	RXSEC_CIPHER_DES_CBC,		/* cbc(des) */
	RXSEC_CIPHER_3DES_CBC,		/* cbc(des3_ede) */
	RXSEC_CIPHER_AES_GCM,		/* rfc4106(gcm(aes)), AEAD, key ends with salt */
	RXSEC_CIPHER_AES_GMAC,		/* rfc4543(gcm(aes)), auth only, key ends with salt */
	RXSEC_CIPHER_CHACHA20_POLY1305,	/* rfc7539esp(chacha20,poly1305), RFC 7634 */
	RXSEC_CIPHER_AES_CCM,		/* rfc4309(ccm(aes)), AEAD, 3-byte salt at the end */
	RXSEC_CIPHER_MAX
};

enum rxsec_auth_alg {
	RXSEC_AUTH_NONE = 0,		/* AEAD SA, or ESP without integrity */
	RXSEC_AUTH_HMAC_MD5,
	RXSEC_AUTH_HMAC_SHA1,
	RXSEC_AUTH_HMAC_SHA256,
	RXSEC_AUTH_HMAC_SHA384,
	RXSEC_AUTH_HMAC_SHA512,
	RXSEC_AUTH_AES_XCBC,		/* xcbc(aes), RFC 3566 */
	RXSEC_AUTH_AES_CMAC,		/* cmac(aes), RFC 4494 */
	RXSEC_AUTH_MAX
};

/* Flags as `ip xfrm state` prints them. */
#define RXSEC_SA_FLAG_NOECN		(1u << 0)
#define RXSEC_SA_FLAG_DECAP_DSCP	(1u << 1)
#define RXSEC_SA_FLAG_NOPMTUDISC	(1u << 2)
#define RXSEC_SA_FLAG_WILDRECV		(1u << 3)
#define RXSEC_SA_FLAG_ICMP		(1u << 4)
#define RXSEC_SA_FLAG_AF_UNSPEC		(1u << 5)
#define RXSEC_SA_FLAG_ALIGN4		(1u << 6)
#define RXSEC_SA_FLAG_ESN		(1u << 7)

struct rxsec_addr {
	uint8_t family;		/* 4 or 6; 0 = unset */
	uint8_t bytes[16];	/* network order; IPv4 uses the first 4 bytes, rest zero */
};

#define RXSEC_KEY_MAX	128

/* A dump's anti-replay bitmap: words kept, enough for a 4096-packet window. */
#define RXSEC_SA_BMP_WORDS	128
enum {
	RXSEC_SA_BMP_NONE,
	RXSEC_SA_BMP_WORD,	/* `anti-replay context: ... bitmap 0x...` */
	RXSEC_SA_BMP_RING,	/* `anti-replay esn context:` words */
};

/* An SA's direction (XFRMA_SA_DIR). Linux drops a received packet whose SA
 * is outbound (XfrmInStateDirError), and an outbound SA takes no replay
 * window, ESN or not. */
enum rxsec_sa_dir {
	RXSEC_SA_DIR_ANY,	/* not given */
	RXSEC_SA_DIR_IN,
	RXSEC_SA_DIR_OUT,
};

struct rxsec_sa_config {
	/* identity: (spi, dst, proto) is the lookup key */
	uint32_t spi;			/* host order */
	uint8_t proto;			/* RXSEC_PROTO_ESP or RXSEC_PROTO_AH */
	enum rxsec_sa_mode mode;
	struct rxsec_addr src, dst;
	uint32_t reqid;
	uint32_t flags;			/* RXSEC_SA_FLAG_* */
	bool esn;			/* flag esn, and nothing else, means ESN */
	uint32_t replay_window;		/* packets; 0 = no anti-replay */
	enum rxsec_sa_dir dir;		/* `dir in|out`, Linux 6.10 */

	/* algorithms; key lengths in bytes, salt/nonce included as written */
	enum rxsec_cipher_alg cipher;
	uint8_t cipher_key[RXSEC_KEY_MAX];
	uint16_t cipher_key_len;
	enum rxsec_auth_alg auth;
	uint8_t auth_key[RXSEC_KEY_MAX];
	uint16_t auth_key_len;
	uint16_t icv_len;		/* bytes: AEAD ICV or truncated HMAC length */

	/* RFC 3948 UDP encapsulation */
	bool encap;
	uint16_t encap_sport, encap_dport;	/* host order, as written */
	struct rxsec_addr encap_oa;

	/* traffic selector, checked on delivery (selector.h); af-unspec SAs
	 * have none, which like a /0 one matches everything */
	bool has_sel;
	struct rxsec_addr sel_src, sel_dst;
	uint8_t sel_src_len, sel_dst_len;
	uint8_t sel_proto;		/* 0 = any */
	uint16_t sel_sport, sel_dport;	/* ICMP type and code live here too */
	uint16_t sel_sport_mask, sel_dport_mask;	/* 0xffff once given */

	/* lifetimes; RXSEC_LIMIT_INF when unset */
	uint64_t packet_soft, packet_hard;
	uint64_t byte_soft, byte_hard;
	uint64_t add_soft_sec, add_hard_sec;
	uint64_t use_soft_sec, use_hard_sec;

	/* initial sequence state from a dump's anti-replay context (0 if none) */
	uint32_t seq, seq_hi;
	/* ... and which numbers below seq it had received, in the kernel's two
	 * layouts: one 32-bit word, bit i for seq - i (xfrm_replay_state), or
	 * the ESN block's ring, bit (n - 1) % window for n (xfrm_replay_state_esn) */
	uint8_t replay_bmp_layout;	/* RXSEC_SA_BMP_* */
	uint32_t replay_bmp_window;	/* the ring's window */
	uint32_t replay_bmp[RXSEC_SA_BMP_WORDS];

	/* where it came from, for messages */
	char origin[96];		/* "file:line" */
};

/* Set every field to its default (limits infinite, everything else zero). */
void rxsec_sa_config_init(struct rxsec_sa_config *c);

/* Names as iproute2 writes them, e.g. "rfc4106(gcm(aes))", "hmac(sha256)". */
const char *rxsec_cipher_alg_name(enum rxsec_cipher_alg a);
const char *rxsec_auth_alg_name(enum rxsec_auth_alg a);
/* "in", "out", or NULL for an SA of no direction */
const char *rxsec_sa_dir_name(enum rxsec_sa_dir d);
/* The algorithm's whole digest in bytes (Linux: icv_fullbits / 8). */
unsigned int rxsec_auth_full_len(enum rxsec_auth_alg a);

/* Format an address as text (inet_ntop); returns buf. */
const char *rxsec_addr_str(const struct rxsec_addr *a, char *buf, unsigned int len);
/* An IPv4 or IPv6 address from text (inet_pton); 0, or -1 if s is neither. */
int rxsec_addr_parse(const char *s, struct rxsec_addr *a);

#endif /* RXSEC_SA_CONFIG_H */
