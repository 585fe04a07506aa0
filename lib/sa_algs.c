/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA file parser: the algorithm names `ip xfrm` uses, their key lengths and
 * ICV truncations.
 */
#include <stdio.h>
#include <string.h>

#include "sa_parse_priv.h"

static const struct cipher_info cipher_tab[] = {
	{ "rfc4106(gcm(aes))", NULL, RXSEC_CIPHER_AES_GCM, true,
	  { 20, 28, 36 }, { 64, 96, 128 },
	  "20, 28 or 36 bytes (AES key + 4-byte salt, RFC 4106)" },
	{ "rfc4543(gcm(aes))", NULL, RXSEC_CIPHER_AES_GMAC, true,
	  { 20, 28, 36 }, { 128, 0, 0 },
	  "20, 28 or 36 bytes (AES key + 4-byte salt, RFC 4543)" },
	{ "rfc7539esp(chacha20,poly1305)", NULL,
	  RXSEC_CIPHER_CHACHA20_POLY1305, true, { 36, 0, 0 }, { 128, 0, 0 },
	  "36 bytes (32-byte key + 4-byte salt, RFC 7634)" },
	{ "rfc4309(ccm(aes))", NULL, RXSEC_CIPHER_AES_CCM, true,
	  { 19, 27, 35 }, { 64, 96, 128 },
	  "19, 27 or 35 bytes (AES key + 3-byte salt, RFC 4309)" },
	{ "cbc(aes)", "aes", RXSEC_CIPHER_AES_CBC, false, { 16, 24, 32 },
	  { 0 }, "16, 24 or 32 bytes" },
	{ "rfc3686(ctr(aes))", NULL, RXSEC_CIPHER_AES_CTR, false,
	  { 20, 28, 36 }, { 0 },
	  "20, 28 or 36 bytes (AES key + 4-byte nonce, RFC 3686)" },
	{ "cbc(des)", "des", RXSEC_CIPHER_DES_CBC, false, { 8, 0, 0 }, { 0 },
	  "8 bytes" },
	{ "cbc(des3_ede)", "des3_ede", RXSEC_CIPHER_3DES_CBC, false,
	  { 24, 0, 0 }, { 0 }, "24 bytes" },
	{ "ecb(cipher_null)", "cipher_null", RXSEC_CIPHER_NULL, false,
	  { 0, 0, 0 }, { 0 }, "no key (write \"\")" },
};

static const struct auth_info auth_tab[] = {
	{ "hmac(md5)", "md5", RXSEC_AUTH_HMAC_MD5, 16, 96, { 96, 128, 0 },
	  "96 or 128" },
	{ "hmac(sha1)", "sha1", RXSEC_AUTH_HMAC_SHA1, 20, 96, { 96, 160, 0 },
	  "96 or 160" },
	{ "hmac(sha256)", "sha256", RXSEC_AUTH_HMAC_SHA256, 32, 96,
	  { 96, 128, 256 }, "96, 128 or 256" },
	{ "hmac(sha384)", "sha384", RXSEC_AUTH_HMAC_SHA384, 48, 192,
	  { 192, 384, 0 }, "192 or 384" },
	{ "hmac(sha512)", "sha512", RXSEC_AUTH_HMAC_SHA512, 64, 256,
	  { 256, 512, 0 }, "256 or 512" },
	{ "xcbc(aes)", NULL, RXSEC_AUTH_AES_XCBC, 16, 96, { 96, 128, 0 },
	  "96 or 128" },
	{ "cmac(aes)", NULL, RXSEC_AUTH_AES_CMAC, 16, 96, { 96, 128, 0 },
	  "96 or 128" },
};

static bool
name_is(const char *s, const char *name, const char *alias)
{
	return strcmp(s, name) == 0 || (alias != NULL && strcmp(s, alias) == 0);
}

const struct cipher_info *
sap_cipher_lookup(const char *s)
{
	unsigned int i;

	for (i = 0; i < TAB_LEN(cipher_tab); i++)
		if (name_is(s, cipher_tab[i].name, cipher_tab[i].alias))
			return &cipher_tab[i];
	return NULL;
}

const struct auth_info *
sap_auth_lookup(const char *s)
{
	unsigned int i;

	for (i = 0; i < TAB_LEN(auth_tab); i++)
		if (name_is(s, auth_tab[i].name, auth_tab[i].alias))
			return &auth_tab[i];
	return NULL;
}

/* The names an `enc`, `aead` or `auth` keyword takes, for an error message. */
void
sap_alg_names(const char *kw, char *buf, size_t len)
{
	size_t o = 0;
	unsigned int i;

	buf[0] = '\0';
	if (strcmp(kw, "auth") == 0 || strcmp(kw, "auth-trunc") == 0) {
		for (i = 0; i < TAB_LEN(auth_tab) && o < len; i++)
			o += snprintf(buf + o, len - o, "%s%s", o ? ", " : "", auth_tab[i].name);
		return;
	}
	for (i = 0; i < TAB_LEN(cipher_tab) && o < len; i++)
		if (cipher_tab[i].aead == (strcmp(kw, "aead") == 0))
			o += snprintf(buf + o, len - o, "%s%s", o ? ", " : "", cipher_tab[i].name);
}
