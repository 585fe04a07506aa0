/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sa_config.h"
#include "rxsec_crypto.h"

void
rxsec_sa_config_init(struct rxsec_sa_config *c)
{
	memset(c, 0, sizeof(*c));
	c->packet_soft = c->packet_hard = RXSEC_LIMIT_INF;
	c->byte_soft = c->byte_hard = RXSEC_LIMIT_INF;
	c->add_soft_sec = c->add_hard_sec = RXSEC_LIMIT_INF;
	c->use_soft_sec = c->use_hard_sec = RXSEC_LIMIT_INF;
}

static const char *const cipher_names[RXSEC_CIPHER_MAX] = {
	[RXSEC_CIPHER_NONE] = "none",
	[RXSEC_CIPHER_NULL] = "ecb(cipher_null)",
	[RXSEC_CIPHER_AES_CBC] = "cbc(aes)",
	[RXSEC_CIPHER_AES_CTR] = "rfc3686(ctr(aes))",
	[RXSEC_CIPHER_DES_CBC] = "cbc(des)",
	[RXSEC_CIPHER_3DES_CBC] = "cbc(des3_ede)",
	[RXSEC_CIPHER_AES_GCM] = "rfc4106(gcm(aes))",
	[RXSEC_CIPHER_AES_GMAC] = "rfc4543(gcm(aes))",
	[RXSEC_CIPHER_CHACHA20_POLY1305] = "rfc7539esp(chacha20,poly1305)",
	[RXSEC_CIPHER_AES_CCM] = "rfc4309(ccm(aes))",
};

static const char *const auth_names[RXSEC_AUTH_MAX] = {
	[RXSEC_AUTH_NONE] = "none",
	[RXSEC_AUTH_HMAC_MD5] = "hmac(md5)",
	[RXSEC_AUTH_HMAC_SHA1] = "hmac(sha1)",
	[RXSEC_AUTH_HMAC_SHA256] = "hmac(sha256)",
	[RXSEC_AUTH_HMAC_SHA384] = "hmac(sha384)",
	[RXSEC_AUTH_HMAC_SHA512] = "hmac(sha512)",
	[RXSEC_AUTH_AES_XCBC] = "xcbc(aes)",
	[RXSEC_AUTH_AES_CMAC] = "cmac(aes)",
};

const char *
rxsec_cipher_alg_name(enum rxsec_cipher_alg a)
{
	return (unsigned int)a < RXSEC_CIPHER_MAX ? cipher_names[a] : "?";
}

const char *
rxsec_auth_alg_name(enum rxsec_auth_alg a)
{
	return (unsigned int)a < RXSEC_AUTH_MAX ? auth_names[a] : "?";
}

const char *
rxsec_sa_dir_name(enum rxsec_sa_dir d)
{
	return d == RXSEC_SA_DIR_IN ? "in" : d == RXSEC_SA_DIR_OUT ? "out" : NULL;
}

static const uint8_t auth_full_len[RXSEC_AUTH_MAX] = {
	[RXSEC_AUTH_HMAC_MD5] = 16,
	[RXSEC_AUTH_HMAC_SHA1] = 20,
	[RXSEC_AUTH_HMAC_SHA256] = 32,
	[RXSEC_AUTH_HMAC_SHA384] = 48,
	[RXSEC_AUTH_HMAC_SHA512] = 64,
	[RXSEC_AUTH_AES_XCBC] = 16,
	[RXSEC_AUTH_AES_CMAC] = 16,
};

unsigned int
rxsec_auth_full_len(enum rxsec_auth_alg a)
{
	return (unsigned int)a < RXSEC_AUTH_MAX ? auth_full_len[a] : 0;
}

const char *
rxsec_addr_str(const struct rxsec_addr *a, char *buf, unsigned int len)
{
	if (a->family == 6)
		inet_ntop(AF_INET6, a->bytes, buf, len);
	else if (a->family == 4)
		inet_ntop(AF_INET, a->bytes, buf, len);
	else
		snprintf(buf, len, "-");
	return buf;
}

int
rxsec_addr_parse(const char *s, struct rxsec_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, s, a->bytes) == 1)
		a->family = 6;
	else
		return -1;
	return 0;
}

unsigned int
rxsec_crypto_iv_len(enum rxsec_cipher_alg a)
{
	switch (a) {
	case RXSEC_CIPHER_AES_CBC:
		return 16;
	case RXSEC_CIPHER_AES_CTR:
	case RXSEC_CIPHER_DES_CBC:
	case RXSEC_CIPHER_3DES_CBC:
	case RXSEC_CIPHER_AES_GCM:
	case RXSEC_CIPHER_AES_GMAC:
	case RXSEC_CIPHER_CHACHA20_POLY1305:
	case RXSEC_CIPHER_AES_CCM:
		return 8;
	default:
		return 0;
	}
}

/* Always a power of two: the data path masks instead of dividing. */
unsigned int
rxsec_crypto_block_len(enum rxsec_cipher_alg a)
{
	switch (a) {
	case RXSEC_CIPHER_AES_CBC:
		return 16;
	case RXSEC_CIPHER_DES_CBC:
	case RXSEC_CIPHER_3DES_CBC:
		return 8;
	default:
		return 4;	/* RFC 4303 2.4: trailer ends on a 4-byte boundary */
	}
}
