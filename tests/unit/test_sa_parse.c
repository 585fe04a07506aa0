/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the `ip xfrm state` SA parser (lib/sa_parse.c and beside it):
 *  1. every real dump / capture sa.conf equals its `ip xfrm state add` file,
 *     SA by SA, field by field; known values read from the files by hand;
 *  2. error cases: line, token and message;
 *  3. inline strings: continuation, comments, quotes, mixed forms, ip -s;
 *  4. robustness: truncated and mutated inputs never crash.
 *
 * Usage: test_sa_parse [LINUX_XFRM_DIR]  (or env RXSEC_XFRM_DIR); the dir is
 * shared/linux-xfrm with dumps/ and captures/.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sa_parse.h"

static unsigned int n_pass, n_fail;

static bool
check(bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", ok ? "ok  " : "FAIL", n_pass + n_fail + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf("   [test_sa_parse.c:%d]", line);
	printf("\n");
	if (ok)
		n_pass++;
	else
		n_fail++;
	return ok;
}

#define CHECK(cond, ...) check((cond), __LINE__, __VA_ARGS__)

static char xfrm_dir[1024];

static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
addr_eq(const struct rxsec_addr *a, const struct rxsec_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* The first field that differs, or NULL. */
static const char *
sa_diff(const struct rxsec_sa_config *a, const struct rxsec_sa_config *b,
	bool limits)
{
#define F(f) do { if (a->f != b->f) return #f; } while (0)
	F(spi); F(proto); F(mode); F(reqid); F(flags); F(esn);
	F(replay_window);
	if (!addr_eq(&a->src, &b->src))
		return "src";
	if (!addr_eq(&a->dst, &b->dst))
		return "dst";
	F(cipher); F(cipher_key_len);
	if (memcmp(a->cipher_key, b->cipher_key, a->cipher_key_len) != 0)
		return "cipher_key";
	F(auth); F(auth_key_len);
	if (memcmp(a->auth_key, b->auth_key, a->auth_key_len) != 0)
		return "auth_key";
	F(icv_len);
	F(encap); F(encap_sport); F(encap_dport);
	if (!addr_eq(&a->encap_oa, &b->encap_oa))
		return "encap_oa";
	F(has_sel);
	if (!addr_eq(&a->sel_src, &b->sel_src))
		return "sel_src";
	if (!addr_eq(&a->sel_dst, &b->sel_dst))
		return "sel_dst";
	F(sel_src_len); F(sel_dst_len); F(sel_proto); F(sel_sport);
	F(sel_dport); F(sel_sport_mask); F(sel_dport_mask); F(seq); F(seq_hi);
	if (limits) {
		F(packet_soft); F(packet_hard); F(byte_soft); F(byte_hard);
		F(add_soft_sec); F(add_hard_sec); F(use_soft_sec);
		F(use_hard_sec);
	}
#undef F
	return NULL;
}

static const struct rxsec_sa_config *
find_sa(const struct rxsec_sa_list *l, const struct rxsec_sa_config *c)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (l->sa[i].spi == c->spi && l->sa[i].proto == c->proto &&
		    addr_eq(&l->sa[i].dst, &c->dst))
			return &l->sa[i];
	return NULL;
}

static bool
parse_path(const char *path, struct rxsec_sa_list *l)
{
	struct rxsec_sa_parse_error err;
	char msg[600];

	if (rxsec_sa_parse_file(path, l, &err) == 0)
		return CHECK(true, "parse %s (%u SAs)", path, l->n);
	rxsec_sa_parse_error_format(&err, msg, sizeof(msg));
	return CHECK(false, "parse %s: %s", path, msg);
}

/* Both files parse to the same SAs, in any order. */
static void
compare_files(const char *add_path, const char *dump_path, bool limits)
{
	struct rxsec_sa_list a = { 0 }, d = { 0 };
	const struct rxsec_sa_config *m;
	const char *diff;
	unsigned int i;

	if (!parse_path(add_path, &a) || !parse_path(dump_path, &d))
		goto out;
	CHECK(a.n == d.n && a.n > 0, "%s: %u SAs in add form, %u in dump",
	      dump_path, a.n, d.n);
	for (i = 0; i < a.n; i++) {
		m = find_sa(&d, &a.sa[i]);
		if (!CHECK(m != NULL, "%s: SA spi 0x%08x of %s is in the dump",
			   dump_path, a.sa[i].spi, a.sa[i].origin))
			continue;
		diff = sa_diff(&a.sa[i], m, limits);
		CHECK(diff == NULL, "%s vs %s: spi 0x%08x field-for-field%s%s",
		      a.sa[i].origin, m->origin, a.sa[i].spi,
		      diff ? ", differs in " : "", diff ? diff : "");
		/* only the lifetime pair (0xd0d014xx) has limits */
		if (!limits && (a.sa[i].spi & 0xffffff00) != 0xd0d01400)
			CHECK(a.sa[i].packet_hard == RXSEC_LIMIT_INF &&
			      a.sa[i].byte_hard == RXSEC_LIMIT_INF &&
			      a.sa[i].add_hard_sec == RXSEC_LIMIT_INF,
			      "%s: no limits", a.sa[i].origin);
	}
out:
	rxsec_sa_list_free(&a);
	rxsec_sa_list_free(&d);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a directory (ending in suffix, if given). */
static unsigned int
list_dir(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	unsigned int n = 0;

	*out = NULL;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name), sl = suffix ? strlen(suffix) : 0;

		if (e->d_name[0] == '.')
			continue;
		if (suffix && (l <= sl || strcmp(e->d_name + l - sl, suffix)))
			continue;
		char **grown = realloc(v, (n + 1) * sizeof(*v));

		/* a shorter list would test fewer files without saying so */
		if (grown == NULL || (grown[n] = strdup(e->d_name)) == NULL) {
			fprintf(stderr, "list_dir %s: out of memory\n", dir);
			abort();
		}
		v = grown;
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	return n;
}

static void
free_names(char **v, unsigned int n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

static void
test_real_files(void)
{
	char dir[1100], a[1400], d[1400];
	char **names;
	unsigned int n, i, pairs = 0;

	snprintf(dir, sizeof(dir), "%s/dumps", xfrm_dir);
	n = list_dir(dir, ".add", &names);
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]) - 4;

		snprintf(a, sizeof(a), "%s/%s", dir, names[i]);
		snprintf(d, sizeof(d), "%s/%.*s.dump", dir, (int)l, names[i]);
		if (!file_exists(d))
			continue;
		compare_files(a, d, false);
		pairs++;
	}
	free_names(names, n);
	CHECK(pairs >= 27, "dumps/: %u add/dump pairs compared", pairs);

	snprintf(a, sizeof(a), "%s/esp_tun4_aesgcm128_lifetime.add", dir);
	snprintf(d, sizeof(d), "%s/esp_tun4_aesgcm128_lifetime.stats", dir);
	compare_files(a, d, true);

	snprintf(dir, sizeof(dir), "%s/captures", xfrm_dir);
	n = list_dir(dir, NULL, &names);
	pairs = 0;
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "%s/%s/sa.add", dir, names[i]);
		snprintf(d, sizeof(d), "%s/%s/sa.conf", dir, names[i]);
		if (!file_exists(a) || !file_exists(d))
			continue;
		compare_files(a, d, false);
		pairs++;
	}
	free_names(names, n);
	CHECK(pairs >= 4, "captures/: %u sa.add/sa.conf pairs compared", pairs);
}

/* ------------------------------------------------------------------ */
/* Known values, read from the files by hand                           */

static bool
load(const char *rel, struct rxsec_sa_list *l)
{
	char path[1400];

	snprintf(path, sizeof(path), "%s/%s", xfrm_dir, rel);
	return parse_path(path, l);
}

static const struct rxsec_sa_config *
by_spi(const struct rxsec_sa_list *l, uint32_t spi)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (l->sa[i].spi == spi)
			return &l->sa[i];
	return NULL;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), sl = strlen(suffix);

	return l >= sl && strcmp(s + l - sl, suffix) == 0;
}

static bool
addr_is(const struct rxsec_addr *a, const char *text)
{
	struct rxsec_addr b;

	memset(&b, 0, sizeof(b));
	if (inet_pton(AF_INET, text, b.bytes) == 1)
		b.family = 4;
	else if (inet_pton(AF_INET6, text, b.bytes) == 1)
		b.family = 6;
	return addr_eq(a, &b);
}

static void
test_known_values(void)
{
	static const uint8_t esn64_key[20] = {
		0x14, 0x68, 0xd9, 0xf6, 0x4d, 0xea, 0x43, 0x52, 0xc2, 0xb7,
		0x3c, 0xd6, 0x7e, 0xc9, 0xa3, 0x7b, 0x01, 0x3b, 0xbf, 0xed,
	};
	struct rxsec_sa_list l = { 0 };
	const struct rxsec_sa_config *c;

	if (!load("dumps/all.dump", &l))
		return;
	CHECK(l.n == 54, "all.dump holds 54 SAs (got %u)", l.n);

	c = by_spi(&l, 0xd0d00e01);	/* esp_tun4_aesgcm128_esn64 */
	if (CHECK(c != NULL, "esn64 SA present")) {
		CHECK(c->replay_window == 64 && c->esn &&
		      c->flags == RXSEC_SA_FLAG_ESN,
		      "esn64: window 64 (from the esn context), esn, flag esn");
		CHECK(c->cipher == RXSEC_CIPHER_AES_GCM &&
		      c->cipher_key_len == 20 &&
		      memcmp(c->cipher_key, esn64_key, 20) == 0 &&
		      c->icv_len == 16 && c->auth == RXSEC_AUTH_NONE,
		      "esn64: rfc4106 key of 20 bytes as written, ICV 16");
		CHECK(c->reqid == 114 && c->mode == RXSEC_MODE_TUNNEL &&
		      c->proto == RXSEC_PROTO_ESP &&
		      addr_is(&c->src, "192.0.2.10") &&
		      addr_is(&c->dst, "192.0.2.20"),
		      "esn64: reqid 114, tunnel, esp, 192.0.2.10 -> .20");
	}
	c = by_spi(&l, 0xd0d01001);	/* w64: not ESN */
	CHECK(c && c->replay_window == 64 && !c->esn && c->flags == 0,
	      "w64: window 64, esn false");
	c = by_spi(&l, 0xd0d01101);	/* w0 */
	CHECK(c && c->replay_window == 0 && !c->esn, "w0: window 0");
	c = by_spi(&l, 0xd0d01501);
	CHECK(c && c->replay_window == 4096 && c->esn, "esn4096: window 4096");
	c = by_spi(&l, 0xd0d00f01);	/* esn128, af-unspec, no sel line */
	CHECK(c && c->replay_window == 128 && c->esn && !c->has_sel &&
	      c->flags == (RXSEC_SA_FLAG_ESN | RXSEC_SA_FLAG_AF_UNSPEC) &&
	      c->cipher == RXSEC_CIPHER_AES_CBC && c->cipher_key_len == 16 &&
	      c->auth == RXSEC_AUTH_HMAC_SHA256 && c->icv_len == 16,
	      "esn128: window 128, af-unspec esn, no selector, cbc+sha256-128");
	c = by_spi(&l, 0xd0d00701);	/* auth96 */
	CHECK(c && c->auth == RXSEC_AUTH_HMAC_SHA256 && c->icv_len == 12 &&
	      c->auth_key_len == 32, "auth96: hmac(sha256), icv_len 12");
	c = by_spi(&l, 0xd0d01901);
	CHECK(c && c->auth == RXSEC_AUTH_HMAC_SHA384 && c->icv_len == 24 &&
	      c->auth_key_len == 48 && c->cipher_key_len == 24,
	      "sha384: icv 24, key 48, cbc(aes) key 24");
	c = by_spi(&l, 0xd0d01801);
	CHECK(c && c->cipher == RXSEC_CIPHER_AES_CTR &&
	      c->cipher_key_len == 36 && c->auth == RXSEC_AUTH_HMAC_SHA512 &&
	      c->icv_len == 32, "aesctr: key 36 bytes, sha512 icv 32");
	c = by_spi(&l, 0xd0d00801);
	CHECK(c && c->cipher == RXSEC_CIPHER_NULL && c->cipher_key_len == 0 &&
	      c->mode == RXSEC_MODE_TRANSPORT && c->icv_len == 16,
	      "null enc: key len 0, transport, icv 16");
	c = by_spi(&l, 0xd0d00d01);
	CHECK(c && c->encap && c->encap_sport == 61234 &&
	      c->encap_dport == 4500 && addr_is(&c->encap_oa, "0.0.0.0"),
	      "udpencap inbound: sport 61234 dport 4500 oa 0.0.0.0");
	c = by_spi(&l, 0xd0d00d02);
	CHECK(c && c->encap && c->encap_sport == 4500 &&
	      c->encap_dport == 61234, "udpencap outbound: sport 4500");
	c = by_spi(&l, 0xd0d01301);
	CHECK(c && c->has_sel && addr_is(&c->sel_src, "192.0.2.10") &&
	      c->sel_src_len == 32 && addr_is(&c->sel_dst, "192.0.2.20") &&
	      c->sel_dst_len == 32 && c->sel_proto == 17 &&
	      c->sel_dport == 9000 && c->sel_dport_mask == 0xffff &&
	      c->sel_sport == 0 && c->sel_sport_mask == 0,
	      "sel: 192.0.2.10/32 -> 192.0.2.20/32 udp dport 9000");
	c = by_spi(&l, 0xd0d00101);
	CHECK(c && c->has_sel && c->sel_src.family == 4 &&
	      c->sel_src_len == 0 && c->sel_proto == 0,
	      "gcm128: selector 0.0.0.0/0");
	c = by_spi(&l, 0xd0d00b01);
	CHECK(c && addr_is(&c->dst, "2001:db8:0:1::20") &&
	      c->sel_dst.family == 6, "tun6: IPv6 dst, ::/0 selector");
	c = by_spi(&l, 0xd0d00a01);
	CHECK(c && c->proto == RXSEC_PROTO_AH &&
	      c->cipher == RXSEC_CIPHER_NONE && c->auth == RXSEC_AUTH_HMAC_SHA1 &&
	      c->icv_len == 12 && c->mode == RXSEC_MODE_TUNNEL,
	      "ah_tun4_sha1: AH, sha1, icv 12, tunnel");
	c = by_spi(&l, 0xd0d00401);
	CHECK(c && c->cipher == RXSEC_CIPHER_CHACHA20_POLY1305 &&
	      c->cipher_key_len == 36 && c->icv_len == 16, "chacha: key 36");
	c = by_spi(&l, 0xd0d01601);
	CHECK(c && c->cipher_key_len == 28 && c->icv_len == 8,
	      "gcm192_icv64: key 28, icv 8");
	c = by_spi(&l, 0xd0d00301);
	CHECK(c && c->cipher == RXSEC_CIPHER_AES_GMAC && c->icv_len == 16,
	      "gmac: rfc4543, icv 16");
	c = by_spi(&l, 0xd0d01a01);
	CHECK(c && c->cipher == RXSEC_CIPHER_3DES_CBC &&
	      c->auth == RXSEC_AUTH_HMAC_MD5 && c->icv_len == 12,
	      "3des/md5: icv 12");
	c = by_spi(&l, 0xd0d01b01);
	CHECK(c && c->cipher == RXSEC_CIPHER_DES_CBC &&
	      c->cipher_key_len == 8 && c->auth == RXSEC_AUTH_AES_XCBC &&
	      c->icv_len == 12, "des/xcbc: key 8, icv 12");
	rxsec_sa_list_free(&l);

	if (!load("dumps/esp_tun4_aesgcm128_esn64.add", &l))
		return;
	c = by_spi(&l, 0xd0d00e01);
	CHECK(c && ends_with(c->origin, "esp_tun4_aesgcm128_esn64.add:3"),
	      "origin of an add SA is file:first line (%s)", c ? c->origin : "");
	rxsec_sa_list_free(&l);
	if (!load("dumps/esp_tun4_aesgcm128_esn64.dump", &l))
		return;
	c = by_spi(&l, 0xd0d00e01);
	CHECK(c && ends_with(c->origin, "esp_tun4_aesgcm128_esn64.dump:10"),
	      "origin of a dump SA is its src line (%s)", c ? c->origin : "");
	rxsec_sa_list_free(&l);

	if (!load("dumps/esp_tun4_aesgcm128_lifetime.stats", &l))
		return;
	c = by_spi(&l, 0xd0d01401);
	CHECK(c && c->packet_soft == 800 && c->packet_hard == 1000 &&
	      c->byte_soft == 750000 && c->byte_hard == 1000000 &&
	      c->add_soft_sec == 3000 && c->add_hard_sec == 3600 &&
	      c->use_soft_sec == 1500 && c->use_hard_sec == 1800 &&
	      c->reqid == 120 && c->replay_window == 32,
	      "lifetime .stats: limits 800/1000 pkts, 750000/1000000 bytes, "
	      "3000/3600 s, 1500/1800 s");
	rxsec_sa_list_free(&l);
	if (!load("dumps/esp_tun4_aesgcm128_lifetime.dump", &l))
		return;
	c = by_spi(&l, 0xd0d01401);
	CHECK(c && c->packet_hard == RXSEC_LIMIT_INF &&
	      c->byte_soft == RXSEC_LIMIT_INF,
	      "lifetime .dump: no limits shown, all infinite");
	rxsec_sa_list_free(&l);

	if (!load("captures/esp_trans6_aescbc256_sha256/sa.conf", &l))
		return;
	c = by_spi(&l, 0xcafe0b01);
	CHECK(c && c->replay_window == 128 && !c->esn &&
	      c->cipher_key_len == 32 && c->icv_len == 16,
	      "capture trans6: window 128 without ESN");
	rxsec_sa_list_free(&l);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

#define GCM_KEY "0x1468d9f64dea4352c2b73cd67ec9a37b013bbfed"
#define SHA256_KEY \
	"0xe0aabf1f58ade4ee69b74bef670eb7a74ae8b1e2a69bb90cbc959031ac9d113f"
#define ID "src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x100 "
#define GCM " aead \"rfc4106(gcm(aes))\" " GCM_KEY " 128"
#define CCM_KEY "0x1468d9f64dea4352c2b73cd67ec9a37b013bbf"
/* a dump's first lines, for the cases about the lines after them (line 4) */
#define DUMP_HEAD "src 192.0.2.10 dst 192.0.2.20\n" \
	"\tproto esp spi 0x00000100 reqid 2 mode tunnel\n" \
	"\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"

struct err_case {
	const char *name;
	const char *text;
	unsigned int line;
	const char *token;
	const char *msg;	/* substring */
};

static const struct err_case err_cases[] = {
	{ "unknown algorithm", ID "aead \"rfc9999(foo)\" " GCM_KEY " 128",
	  1, "rfc9999(foo)", "unknown aead algorithm (rxsec takes rfc4106(gcm(aes)), "
	  "rfc4543(gcm(aes)), rfc7539esp(chacha20,poly1305), rfc4309(ccm(aes)))" },
	{ "Linux cipher IPsec-MB lacks", ID "enc cbc(camellia) 0x000102030405060708090a0b0c0d0e0f",
	  1, "cbc(camellia)", "unknown enc algorithm (rxsec takes cbc(aes), rfc3686(ctr(aes)), "
	  "cbc(des), cbc(des3_ede), ecb(cipher_null))" },
	{ "Linux auth IPsec-MB lacks", ID "enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f "
	  "auth hmac(rmd160) 0x00010203040506070809101112131415161718", 1, "hmac(rmd160)",
	  "unknown auth algorithm (rxsec takes hmac(md5), hmac(sha1), hmac(sha256), "
	  "hmac(sha384), hmac(sha512), xcbc(aes), cmac(aes))" },
	{ "auth name used as enc", ID "enc hmac(sha1) 0x00",
	  1, "hmac(sha1)", "is an auth algorithm" },
	{ "aead alg given as enc", ID "enc rfc4106(gcm(aes)) " GCM_KEY,
	  1, "rfc4106(gcm(aes))", "is an AEAD algorithm" },
	{ "bad hex key", ID "aead rfc4106(gcm(aes)) 0x1468zz 128",
	  1, "0x1468zz", "bad hex key" },
	{ "odd hex key", ID "aead rfc4106(gcm(aes)) 0x146 128",
	  1, "0x146", "odd number of hex digits" },
	{ "wrong key length", ID "aead rfc4106(gcm(aes)) "
	  "0x1468d9f64dea4352c2b73cd67ec9a37b013bbf 128",
	  1, "0x1468d9f64dea4352c2b73cd67ec9a37b013bbf",
	  "wrong key length for rfc4106(gcm(aes)): 19 bytes" },
	{ "wrong hmac key length", ID "enc cbc(aes) "
	  "0x000102030405060708090a0b0c0d0e0f auth hmac(sha256) 0x0011",
	  1, "0x0011", "wrong key length for hmac(sha256)" },
	{ "cipher_null with a key", ID "enc ecb(cipher_null) 0x00 auth "
	  "hmac(sha256) " SHA256_KEY, 1, "0x00", "wrong key length" },
	{ "bad ICV", ID "aead rfc4106(gcm(aes)) " GCM_KEY " 100",
	  1, "100", "ICV length 100 bits not allowed" },
	{ "gmac ICV 64", ID "aead rfc4543(gcm(aes)) " GCM_KEY " 64",
	  1, "64", "ICV length 64 bits not allowed" },
	{ "ccm key with a GCM salt", ID "aead rfc4309(ccm(aes)) " GCM_KEY " 128",
	  1, GCM_KEY, "wrong key length for rfc4309(ccm(aes)): 20 bytes, want 19, 27 or 35" },
	{ "ccm ICV 32", ID "aead rfc4309(ccm(aes)) " CCM_KEY " 32",
	  1, "32", "ICV length 32 bits not allowed for rfc4309(ccm(aes)) (want 64, 96 or 128)" },
	{ "cmac truncation 64", ID "enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f "
	  "auth-trunc cmac(aes) 0x000102030405060708090a0b0c0d0e0f 64",
	  1, "64", "truncation 64 bits not allowed" },
	{ "extra-flag unknown", ID "mode tunnel extra-flag dont-encap-ecn" GCM,
	  1, "dont-encap-ecn", "unknown extra flag (want dont-encap-dscp, oseq-may-wrap" },
	{ "dir unknown", ID "mode tunnel dir both" GCM, 1, "both", "dir must be in or out" },
	{ "esn without window, dir in", ID "mode tunnel dir in flag esn" GCM, 1, "esn",
	  "esn flag set without replay-window" },
	{ "dir in and out", ID "mode tunnel dir in dir out" GCM, 1, "out",
	  "dir given twice, as in and as out" },
	{ "offload dir against the SA's", ID "mode tunnel dir in offload dev eth0 dir out" GCM,
	  1, "out", "offload dir out does not match the SA's dir in" },
	{ "offload without dev", ID "mode tunnel offload dir in" GCM, 1, "dir",
	  "offload wants [crypto|packet] dev DEV dir in|out" },
	{ "offload mode unknown", ID "mode tunnel offload turbo dev eth0 dir in" GCM, 1, "turbo",
	  "offload wants [crypto|packet] dev DEV dir in|out" },
	{ "offload without dir", ID "mode tunnel offload dev eth0" GCM, 1, "aead",
	  "offload wants [crypto|packet] dev DEV dir in|out" },
	{ "offload dir unknown", ID "mode tunnel offload dev eth0 dir fwd" GCM, 1, "fwd",
	  "offload dir must be in or out" },
	{ "dump offload mode unknown",
	  DUMP_HEAD "\tcrypto offload parameters: dev eth0 dir in mode full\n",
	  4, "full", "offload mode must be crypto or packet" },
	{ "dump offload dir against the SA's",
	  DUMP_HEAD "\tcrypto offload parameters: dev eth0 dir out mode packet\n\tdir in\n",
	  4, "out", "offload dir out does not match the SA's dir in" },
	{ "dump offload without dir", DUMP_HEAD "\tcrypto offload parameters: dev eth0\n",
	  4, "crypto", "offload line without a dir" },
	{ "dump crypto line", DUMP_HEAD "\tcrypto something\n",
	  4, "crypto", "unknown or unsupported line in the dump" },
	{ "dump lastused not a date", DUMP_HEAD "\tlastused yesterday\n",
	  4, "yesterday", "lastused wants a date YYYY-MM-DD HH:MM:SS" },
	{ "dump lastused without time", DUMP_HEAD "\tlastused 2024-05-20\n",
	  4, "", "missing time after '2024-05-20'" },
	{ "dump lastused bad time", DUMP_HEAD "\tlastused 2024-05-20 10:11\n",
	  4, "10:11", "lastused wants a date" },
	{ "dump dir unknown", DUMP_HEAD "\tdir other (3)\n", 4, "other", "dir must be in or out" },
	{ "dump dir line with more", DUMP_HEAD "\tdir in out\n",
	  4, "out", "unexpected word in the dir line" },
	{ "dump proto line dir unknown", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 2 mode tunnel dir fwd\n"
	  "\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n", 2, "fwd", "dir must be in or out" },
	{ "auth-trunc 7", ID "enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f "
	  "auth-trunc hmac(sha256) " SHA256_KEY " 7",
	  1, "7", "truncation 7 bits not allowed" },
	{ "auth-trunc beyond digest", ID "enc cbc(aes) "
	  "0x000102030405060708090a0b0c0d0e0f auth-trunc hmac(sha256) "
	  SHA256_KEY " 512", 1, "512", "want 96, 128 or 256" },
	{ "missing spi", "src 192.0.2.10 dst 192.0.2.20 proto esp reqid 1"
	  GCM, 1, "src", "without spi" },
	{ "missing proto (dump)", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\treplay-window 32 \n"
	  "\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n", 1, "src",
	  "without proto" },
	{ "esn without window", ID "flag esn" GCM, 1, "esn",
	  "esn flag set without replay-window" },
	{ "esn without window, dump", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\treplay-window 0 flag esn\n"
	  "\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
	  "\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000\n",
	  3, "esn", "esn flag set without replay-window" },
	{ "window 5000", ID "replay-window 5000" GCM, 1, "5000",
	  "replay window 5000 too large" },
	{ "window 5000 in esn context", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\treplay-window 0 flag esn\n"
	  "\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
	  "\tanti-replay esn context:\n"
	  "\t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x0\n"
	  "\t replay_window 5000, bitmap-length 157\n",
	  7, "5000,", "too large" },
	{ "AH with enc", "src 192.0.2.10 dst 192.0.2.20 proto ah spi 0x100 "
	  "enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f auth hmac(sha256) "
	  SHA256_KEY, 1, "enc", "AH SA takes only auth" },
	{ "AH with aead", "src 192.0.2.10 dst 192.0.2.20 proto ah spi 0x100"
	  GCM, 1, "aead", "AH SA takes only auth" },
	{ "AH without auth", "src 192.0.2.10 dst 192.0.2.20 proto ah spi 0x100",
	  1, "src", "AH SA without an auth" },
	{ "AEAD with auth", ID "auth hmac(sha256) " SHA256_KEY GCM, 1, "auth",
	  "AEAD SA already authenticates" },
	{ "ESP without enc", ID "auth hmac(sha256) " SHA256_KEY, 1, "auth",
	  "without encryption" },
	{ "null enc without auth", ID "enc ecb(cipher_null) \"\"", 1, "enc",
	  "protects nothing" },
	{ "two enc", ID "enc cbc(des) 0x0001020304050607 enc cbc(des) "
	  "0x0001020304050607", 1, "enc", "second encryption" },
	{ "unknown keyword", ID "frobnicate 3" GCM, 1, "frobnicate",
	  "unknown keyword" },
	{ "unsupported keyword", ID "ctx foo" GCM, 1, "ctx",
	  "not supported" },
	{ "mode beet", ID "mode beet" GCM, 1, "beet", "not supported" },
	{ "mode bogus", ID "mode bogus" GCM, 1, "bogus", "unknown mode" },
	{ "truncated line", "src 192.0.2.10 dst", 1, "",
	  "missing value after 'dst'" },
	{ "truncated continuation", "# c\nip xfrm state add " ID "\\\n"
	  "   aead rfc4106(gcm(aes)) " GCM_KEY "\n", 3, "",
	  "missing ICV bits" },
	{ "truncated prefix", "ip xfrm state", 1, "", "line ends early" },
	{ "policy, not state", "ip xfrm policy add src 1.2.3.4", 1, "policy",
	  "want 'ip xfrm state add'" },
	{ "state delete", "ip xfrm state delete " ID, 1, "delete",
	  "only 'ip xfrm state add'" },
	{ "duplicate SA", ID GCM "\n# again\n" ID "reqid 2" GCM, 3, "0x100",
	  "duplicate SA (spi 0x00000100 dst 192.0.2.20 esp)" },
	{ "same spi, other dst is fine, then dup",
	  ID GCM "\nsrc 192.0.2.20 dst 192.0.2.10 proto esp spi 0x100" GCM
	  "\n" ID GCM, 3, "0x100", "first at dup:1" },
	{ "family mismatch", "src 192.0.2.10 dst 2001:db8::1 proto esp spi 1"
	  GCM, 1, "2001:db8::1", "different address families" },
	{ "bad address", "src 192.0.2.300 dst 192.0.2.1 proto esp spi 1" GCM,
	  1, "192.0.2.300", "bad address" },
	{ "spi 0", "src 192.0.2.10 dst 192.0.2.20 proto esp spi 0" GCM, 1,
	  "0", "SPI 0 is reserved" },
	{ "bad spi", "src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x1g" GCM,
	  1, "0x1g", "bad spi" },
	{ "spi after reqid", "src 192.0.2.10 dst 192.0.2.20 proto esp reqid 1 "
	  "spi 0x100" GCM, 1, "spi", "SA ID" },
	{ "limit without repeating the keyword", ID GCM
	  " limit packet-soft 800 packet-hard 1000", 1, "packet-hard",
	  "unknown keyword" },
	{ "unknown limit", ID GCM " limit packets 800", 1, "packets",
	  "unknown limit" },
	{ "unknown flag", ID "replay-window 32 flag bogus" GCM, 1, "bogus",
	  "unknown flag" },
	{ "encap espintcp", ID GCM " encap espintcp 4500 4500 0.0.0.0", 1,
	  "espintcp", "not supported" },
	{ "encap on AH", "src 192.0.2.10 dst 192.0.2.20 proto ah spi 1 auth "
	  "hmac(sha256) " SHA256_KEY " encap espinudp 4500 4500 0.0.0.0", 1,
	  "encap", "ESP only" },
	{ "encap port too big", ID GCM " encap espinudp 70000 4500 0.0.0.0", 1,
	  "70000", "bad port" },
	{ "unterminated quote", ID "aead \"rfc4106(gcm(aes)) " GCM_KEY " 128",
	  1, "\"rfc4106(gcm(aes)) 0x1468d9f64dea4352c2b73cd67ec9a37b013bbfe...",
	  "unterminated quote" },
	{ "unterminated quote, short line", ID "aead 'rfc4106(gcm(aes)\n" GCM,
	  1, "'rfc4106(gcm(aes)", "unterminated quote" },
	{ "sel sport without proto", ID "sel src 1.2.3.4 sport 9" GCM, 1,
	  "sport", "needs a selector proto" },
	{ "bad prefix length", ID "sel src 1.2.3.4/33" GCM, 1, "1.2.3.4/33",
	  "bad prefix length" },
	{ "dump: unknown line", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\treplay-window 32 \n"
	  "\tfrob 1\n", 4, "frob", "unknown or unsupported line" },
	{ "dump: bitmap too short", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\treplay-window 0 flag esn\n"
	  "\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
	  "\tanti-replay esn context:\n"
	  "\t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x0\n"
	  "\t replay_window 64, bitmap-length 2\n"
	  "\t 00000000 \n"
	  "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n", 7, "2",
	  "1 bitmap words, bitmap-length says 2" },
	{ "dump: bitmap too long", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\treplay-window 0 flag esn\n"
	  "\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
	  "\tanti-replay esn context:\n"
	  "\t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x0\n"
	  "\t replay_window 64, bitmap-length 2\n"
	  "\t 00000000 00000000 00000000\n", 8, "00000000",
	  "more bitmap words" },
	{ "dump: spi decoration disagrees", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100(255) reqid 1 mode tunnel\n", 2,
	  "0x00000100(255)", "disagrees" },
	{ "dump: hidden keys", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128\n", 3, "<<Keys",
	  "keys are hidden" },
	{ "dump: key not hex", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\taead rfc4106(gcm(aes)) abcdefghijklmnopqrst 128\n", 3,
	  "abcdefghijklmnopqrst", "0x + hex" },
	{ "dump: flag bits disagree", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\treplay-window 32 seq 0x00000000 flag esn (0x00000000)\n", 3,
	  "(0x00000000)", "disagree" },
	{ "dump: bad lifetime", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\tlifetime config:\n"
	  "\t  limit: soft 12x(bytes), hard (INF)(bytes)\n", 4, "12x(bytes),",
	  "bad lifetime value" },
	{ "dump: indented line without block", "src 192.0.2.10 dst 192.0.2.20\n"
	  "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
	  "\t  limit: soft 1(bytes), hard 2(bytes)\n", 3, "limit:",
	  "unknown or unsupported line" },
};


/* A NUL byte far into a file is reported on its line. */
static void
check_nul_on_line_3(struct rxsec_sa_list *l)
{
	char path[] = "/tmp/rxsec-sa-nul-XXXXXX", buf[600];
	struct rxsec_sa_parse_error err;
	unsigned int n = l->n;
	int fd = mkstemp(path), rc;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!CHECK(f != NULL, "temporary file %s", path))
		return;
	fputs("# one\n# two\n", f);
	for (int i = 0; i < 20000; i++)
		fputc(i == 19000 ? '\0' : 'x', f);
	fclose(f);
	rc = rxsec_sa_parse_file(path, l, &err);
	unlink(path);
	rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
	CHECK(rc == -1 && l->n == n && err.line == 3 && strstr(buf, "NUL byte"),
	      "NUL on line 3, past the first read: %s", buf);
}
/* Many SAs whose identities differ in one part only (SPI, destination,
 * its family, the protocol) are all distinct; the duplicate of one, in a
 * second text, names where the first is. */
static void
test_many_ids(void)
{
	struct rxsec_sa_parse_error err;
	struct rxsec_sa_list l = { 0 };
	size_t cap = 4000 * 200, len = 0;
	char *text = malloc(cap), buf[600];
	int rc;

	if (!CHECK(text != NULL, "memory for 4000 SAs"))
		return;
	for (unsigned int i = 0; i < 1000; i++) {
		len += snprintf(text + len, cap - len,
				"src 192.0.2.10 dst 192.0.2.20 proto esp spi %u" GCM "\n"
				"src 192.0.2.10 dst 10.0.%u.%u proto esp spi 7" GCM "\n"
				"src ::1 dst ::%x proto esp spi 7" GCM "\n"
				"src 192.0.2.10 dst 192.0.2.20 proto ah spi %u "
				"auth \"hmac(sha256)\" " SHA256_KEY "\n",
				1000 + i, i >> 8, i & 255, i, 1000 + i);
	}
	rc = rxsec_sa_parse_string(text, "many", &l, &err);
	CHECK(rc == 0 && l.n == 4000, "4000 SAs differing in one part each: %u (%s)",
	      l.n, err.msg);
	rc = rxsec_sa_parse_string("src ::5 dst ::2b7 proto esp spi 7" GCM "\n",
				   "again", &l, &err);
	rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
	CHECK(rc == -1 && l.n == 4000 && strstr(buf, "first at many:2783"),
	      "a duplicate of line 2783 in a later text: %s", buf);
	rxsec_sa_list_free(&l);
	free(text);
}

static void
test_errors(void)
{
	struct rxsec_sa_parse_error err;
	struct rxsec_sa_list l = { 0 };
	char buf[600];
	unsigned int i;
	int rc;

	/* one good SA in the list: a failed parse must leave it alone */
	rc = rxsec_sa_parse_string("src 192.0.2.99 dst 192.0.2.98 proto esp "
				   "spi 7" GCM, "seed", &l, &err);
	CHECK(rc == 0 && l.n == 1, "seed SA parses");
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *e = &err_cases[i];

		memset(&err, 0x5a, sizeof(err));
		rc = rxsec_sa_parse_string(e->text, "dup", &l, &err);
		rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
		CHECK(rc == -1 && l.n == 1 && err.line == e->line &&
		      strcmp(err.token, e->token) == 0 &&
		      strstr(err.msg, e->msg) != NULL &&
		      strcmp(err.file, "dup") == 0,
		      "error '%s': %s (want line %u near '%s': ...%s...)",
		      e->name, rc == 0 ? "accepted!" : buf, e->line, e->token,
		      e->msg);
	}
	/* duplicate against SAs of an earlier file */
	rc = rxsec_sa_parse_string("src 192.0.2.99 dst 192.0.2.98 proto esp "
				   "spi 7" GCM, "again", &l, &err);
	CHECK(rc == -1 && l.n == 1 && strstr(err.msg, "first at seed:1"),
	      "duplicate of an SA parsed earlier: %s", err.msg);
	rc = rxsec_sa_parse_file("/nonexistent/sa.conf", &l, &err);
	rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
	CHECK(rc == -1 && l.n == 1 && strstr(buf, "cannot open"),
	      "missing file: %s", buf);
	/* Not text: stopped at the first NUL, not read to the end (or ever). */
	rc = rxsec_sa_parse_file("/dev/zero", &l, &err);
	rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
	CHECK(rc == -1 && l.n == 1 && strcmp(buf, "/dev/zero:1: NUL byte: not a text file") == 0,
	      "/dev/zero: %s", buf);
	rc = rxsec_sa_parse_file("/", &l, &err);
	rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
	CHECK(rc == -1 && l.n == 1 && strstr(buf, "read error: Is a directory"),
	      "a directory: %s", buf);
	check_nul_on_line_3(&l);
	rxsec_sa_list_free(&l);
	CHECK(l.n == 0 && l.sa == NULL, "list_free empties the list");
	rxsec_sa_list_free(&l);
}

/* ------------------------------------------------------------------ */
/* Inline strings                                                      */

static int
parse_ok(const char *text, struct rxsec_sa_list *l, const char *what)
{
	struct rxsec_sa_parse_error err;
	char buf[600];
	int rc = rxsec_sa_parse_string(text, "inline", l, &err);

	if (rc != 0) {
		rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
		CHECK(false, "%s: %s", what, buf);
	}
	return rc;
}

/* RFC 4309 and RFC 4494 as strongSwan's aes128ccm8 and aescmac proposals
 * install them: a 3-byte salt, CCM's ICV from the aead line, CMAC's default
 * truncation 96 bits as Linux's. */
static void
test_ccm_cmac(void)
{
	static const char text[] =
		ID "mode tunnel aead rfc4309(ccm(aes)) " CCM_KEY " 64\n"
		"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x101 mode tunnel "
		"aead rfc4309(ccm(aes)) 0x" "000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f" "a0a1a2 128\n"
		"src 192.0.2.10 dst 192.0.2.20 proto ah spi 0x102 mode transport "
		"auth cmac(aes) 0x000102030405060708090a0b0c0d0e0f\n"
		"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x103 mode transport "
		"enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f "
		"auth-trunc cmac(aes) 0x000102030405060708090a0b0c0d0e0f 128\n";
	struct rxsec_sa_list l = { 0 };
	const struct rxsec_sa_config *c;

	if (parse_ok(text, &l, "ccm/cmac") != 0)
		return;
	c = by_spi(&l, 0x100);
	CHECK(c && c->cipher == RXSEC_CIPHER_AES_CCM && c->cipher_key_len == 19 &&
	      c->icv_len == 8 && c->auth == RXSEC_AUTH_NONE, "ccm128: key 19, icv 8");
	c = by_spi(&l, 0x101);
	CHECK(c && c->cipher == RXSEC_CIPHER_AES_CCM && c->cipher_key_len == 35 &&
	      c->icv_len == 16, "ccm256: key 35, icv 16");
	c = by_spi(&l, 0x102);
	CHECK(c && c->proto == RXSEC_PROTO_AH && c->auth == RXSEC_AUTH_AES_CMAC &&
	      c->auth_key_len == 16 && c->icv_len == 12, "ah cmac: icv 12 by default");
	c = by_spi(&l, 0x103);
	CHECK(c && c->auth == RXSEC_AUTH_AES_CMAC && c->icv_len == 16,
	      "esp cbc + cmac 128: icv 16");
	rxsec_sa_list_free(&l);
}

/* strongSwan's route-based SAs carry marks and interface ids: taken, ignored. */
static void
test_routing_metadata(void)
{
	static const char text[] =
		ID "reqid 9 mode tunnel mark 0x1 mask 0xffffffff output-mark 7 "
		"if_id 0x5 tfcpad 0" GCM "\n"
		"src 192.0.2.10 dst 192.0.2.30\n"
		"\tproto esp spi 0x00000101 reqid 9 mode tunnel\n"
		"\treplay-window 32 \n"
		"\tmark 0x1/0xffffffff\n"
		"\tif_id 0x5\n"
		"\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
		"\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000\n"
		"\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n";
	struct rxsec_sa_list l = { 0 };
	struct rxsec_sa_parse_error err;
	char msg[512] = "";

	if (rxsec_sa_parse_string(text, "marks", &l, &err) != 0)
		rxsec_sa_parse_error_format(&err, msg, sizeof(msg));
	CHECK(l.n == 2 && l.sa[0].spi == 0x100 && l.sa[0].reqid == 9 &&
	      l.sa[1].spi == 0x101 && l.sa[1].replay_window == 32,
	      "mark/output-mark/if_id/tfcpad accepted in add and dump forms %s", msg);
	rxsec_sa_list_free(&l);
}

/* Outbound settings and the SA's direction: extra-flag (iproute2's add form,
 * and the `extra_flag` of an `ip -s` dump) and Linux 6.10's `dir` (add form). */
static void
test_extra_flags_dir(void)
{
	static const char text[] =
		ID "mode tunnel replay-window 64 extra-flag dont-encap-dscp oseq-may-wrap "
		"flag esn dir in" GCM "\n"
		"src 192.0.2.20 dst 192.0.2.10 proto esp spi 0x102 mode tunnel "
		"extra-flag 0x1 dir out" GCM "\n"
		"src 192.0.2.10 dst 192.0.2.30\n"
		"\tproto esp spi 0x00000101(257) reqid 9(0x00000009) mode tunnel\n"
		"\treplay-window 32 seq 0x00000000 flag af-unspec extra_flag dont-encap-dscp "
		"(0x00100000)\n"
		"\taead rfc4106(gcm(aes)) " GCM_KEY " (160 bits) 128\n"
		"\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000\n"
		/* iproute2 6.10: a dir line after the attributes */
		"src 192.0.2.10 dst 192.0.2.31\n"
		"\tproto esp spi 0x00000103 reqid 2 mode tunnel\n"
		"\treplay-window 32 \n"
		"\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
		"\tanti-replay context: seq 0x7, oseq 0x0, bitmap 0x0000007f\n"
		"\tdir in\n"
		"\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n"
		/* a proposed output: dir at the end of the proto line */
		"src 192.0.2.31 dst 192.0.2.10\n"
		"\tproto esp spi 0x00000104 reqid 2 mode tunnel dir out\n"
		"\treplay-window 0 \n"
		"\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
		/* an outbound ESN SA as Linux 6.10 keeps it: no window */
		"src 192.0.2.31 dst 192.0.2.10\n"
		"\tproto esp spi 0x00000105 reqid 3 mode tunnel\n"
		"\treplay-window 0 flag esn\n"
		"\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
		"\tanti-replay esn context:\n"
		"\t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x2a\n"
		"\t replay_window 0, bitmap-length 0\n"
		"\tdir out\n"
		"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x106 mode tunnel "
		"flag esn dir out" GCM "\n"
		/* NIC offload: rxsec is the offload; the direction must agree */
		"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x107 mode tunnel replay-window 32 "
		"offload dev eth0 dir in" GCM "\n"
		"src 192.0.2.20 dst 192.0.2.10 proto esp spi 0x108 mode tunnel dir out "
		"offload packet dev eth2 dir out" GCM "\n"
		/* as strongSwan installs a packet-offloaded outbound SA */
		"src 192.169.101.2 dst 192.169.101.1\n"
		"\tproto esp spi 0xc88b7652 reqid 1 mode tunnel\n"
		"\treplay-window 0 flag af-unspec esn\n"
		"\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
		"\tanti-replay esn context:\n"
		"\t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x0\n"
		"\t replay_window 1, bitmap-length 1\n"
		"\t 00000000 \n"
		"\tcrypto offload parameters: dev eth2 dir out mode packet\n"
		"\tlastused 2024-05-20 10:11:12\n"
		"src 192.0.2.10 dst 192.0.2.40\n"
		"\tproto esp spi 0x00000109 reqid 4 mode transport\n"
		"\treplay-window 32 \n"
		"\taead rfc4106(gcm(aes)) " GCM_KEY " 128\n"
		"\tcrypto offload parameters: dev eth0 dir in\n"
		"\tlastused -\n"
		"\tdir in\n";
	struct rxsec_sa_list l = { 0 };

	parse_ok(text, &l, "extra-flag and dir");
	CHECK(l.n >= 7 && l.sa[0].spi == 0x100 && l.sa[0].esn &&
	      l.sa[0].replay_window == 64 && l.sa[0].dir == RXSEC_SA_DIR_IN &&
	      l.sa[1].spi == 0x102 && l.sa[1].dir == RXSEC_SA_DIR_OUT &&
	      l.sa[2].spi == 0x101 && (l.sa[2].flags & RXSEC_SA_FLAG_AF_UNSPEC) &&
	      l.sa[2].dir == RXSEC_SA_DIR_ANY &&
	      l.sa[3].spi == 0x103 && l.sa[3].seq == 7 && l.sa[3].replay_window == 32 &&
	      l.sa[3].mode == RXSEC_MODE_TUNNEL && l.sa[3].dir == RXSEC_SA_DIR_IN &&
	      l.sa[4].spi == 0x104 && l.sa[4].dir == RXSEC_SA_DIR_OUT &&
	      l.sa[5].spi == 0x105 && l.sa[5].esn && l.sa[5].replay_window == 0 &&
	      l.sa[5].dir == RXSEC_SA_DIR_OUT && l.sa[6].esn && l.sa[6].dir == RXSEC_SA_DIR_OUT,
	      "extra-flag and dir (add form), extra_flag and dir (dump) accepted; "
	      "outbound ESN SAs need no window");
	CHECK(l.n == 11 && l.sa[7].spi == 0x107 && l.sa[7].dir == RXSEC_SA_DIR_ANY &&
	      l.sa[7].replay_window == 32 && l.sa[8].spi == 0x108 &&
	      l.sa[8].dir == RXSEC_SA_DIR_OUT && l.sa[9].spi == 0xc88b7652 && l.sa[9].esn &&
	      l.sa[9].replay_window == 1 && l.sa[10].spi == 0x109 &&
	      l.sa[10].mode == RXSEC_MODE_TRANSPORT && l.sa[10].dir == RXSEC_SA_DIR_IN,
	      "offload (add form) and crypto offload parameters (dump) accepted");
	rxsec_sa_list_free(&l);
}

static void
test_inline(void)
{
	static const char mixed[] =
		"# leading comment \\\n"
		"\n"
		"   # indented comment\n"
		"ip xfrm state add src 192.0.2.10 dst 192.0.2.20 \\\n"
		"\tproto esp spi 4096 \\\n"
		"    # a comment line ends the command, as in a shell\n"
		"src 192.0.2.10 dst 192.0.2.21 proto esp spi 0x1001 reqid 0x10 "
		"mode tunnel replay-window 64 flag esn af-unspec \\\n"
		"   enc 'aes' abcdefghijklmnop auth-trunc hmac(sha1) "
		"0x000102030405060708090a0b0c0d0e0f10111213 160 # trailing\r\n"
		"src 192.0.2.20 dst 192.0.2.10\n"
		"\tproto ah spi 0x00001002 reqid 5 mode transport\n"
		"\treplay-window 32 \n"
		"\tauth-trunc hmac(sha256) " SHA256_KEY " 128\n"
		"\tanti-replay context: seq 0x5, oseq 0x0, bitmap 0x0000001f\n"
		"\tsel src 192.0.2.20/32 dst 192.0.2.10/32 proto icmp type 8 "
		"code 0 \n"
		"ip xfrm state update src 2001:db8::1 dst 2001:db8::2 proto esp "
		"spi 0x1003 mode transport replay-window 32 "
		"replay-seq 0x10 replay-seq-hi 2 replay-oseq 5 "
		"enc \"ecb(cipher_null)\" \"\" auth sha512 "
		"0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
		"000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f "
		"sel dst 2001:db8::/32 proto tcp sport 22 "
		"limit time-soft 0 limit byte-hard 0x100\n";
	struct rxsec_sa_list l = { 0 };
	const struct rxsec_sa_config *c;

	/* the command cut by the comment line is incomplete: an error */
	{
		struct rxsec_sa_parse_error err;
		int rc = rxsec_sa_parse_string(mixed, "inline", &l, &err);

		CHECK(rc == -1 && err.line == 4 && strcmp(err.token, "ip") == 0 &&
		      strstr(err.msg, "without"),
		      "comment line ends a continued command (line %u '%s' %s)",
		      err.line, err.token, err.msg);
	}
	if (parse_ok(strstr(mixed, "src 192.0.2.10 dst 192.0.2.21"), &l,
		     "mixed add/dump string") != 0)
		return;
	CHECK(l.n == 3, "mixed string: 3 SAs (got %u)", l.n);
	c = by_spi(&l, 0x1001);
	CHECK(c && c->reqid == 16 && c->mode == RXSEC_MODE_TUNNEL &&
	      c->replay_window == 64 && c->esn && !c->has_sel &&
	      c->cipher == RXSEC_CIPHER_AES_CBC && c->cipher_key_len == 16 &&
	      memcmp(c->cipher_key, "abcdefghijklmnop", 16) == 0 &&
	      c->auth == RXSEC_AUTH_HMAC_SHA1 && c->icv_len == 20,
	      "add with alias 'aes', text key, quotes, sha1-160, af-unspec");
	CHECK(c && strcmp(c->origin, "inline:1") == 0,
	      "origin inline:1 (%s)", c ? c->origin : "");
	c = by_spi(&l, 0x1002);
	CHECK(c && c->proto == RXSEC_PROTO_AH && c->seq == 5 &&
	      c->mode == RXSEC_MODE_TRANSPORT && c->sel_proto == 1 &&
	      c->sel_sport == 8 && c->sel_sport_mask == 0xffff &&
	      c->sel_dport == 0 && c->sel_dport_mask == 0xffff && c->icv_len == 16 &&
	      strcmp(c->origin, "inline:3") == 0,
	      "dump block between add lines: AH, seq 5, icmp type 8 code 0");
	CHECK(c && c->replay_bmp_layout == RXSEC_SA_BMP_WORD && c->replay_bmp[0] == 0x1f,
	      "one-line anti-replay context: its bitmap word kept");
	c = by_spi(&l, 0x1003);
	CHECK(c && c->replay_bmp_layout == RXSEC_SA_BMP_NONE, "add line: no bitmap");
	CHECK(c && c->dst.family == 6 && c->cipher == RXSEC_CIPHER_NULL &&
	      c->auth == RXSEC_AUTH_HMAC_SHA512 && c->icv_len == 32 &&
	      c->seq == 0x10 && c->seq_hi == 2 && c->sel_dst_len == 32 &&
	      c->sel_src.family == 6 && c->sel_src_len == 0 &&
	      c->sel_proto == 6 && c->sel_sport == 22 &&
	      c->add_soft_sec == RXSEC_LIMIT_INF && c->byte_hard == 256 &&
	      c->packet_hard == RXSEC_LIMIT_INF,
	      "update, IPv6, null+sha512 default 256, replay-seq, sel, limits");
	rxsec_sa_list_free(&l);

	/* ip -s form written by hand: flags in binary, null enc note */
	static const char stats[] =
		"src 192.0.2.10 dst 192.0.2.20\n"
		"\tproto esp spi 0x00002001(8193) reqid 7(0x00000007) mode tunnel\n"
		"\treplay-window 0 seq 0x00000000 flag af-unspec esn (0x10100000)\n"
		"\tauth-trunc hmac(sha256) " SHA256_KEY " (256 bits) 128\n"
		"\tenc ecb(cipher_null)  (0 bits)\n"
		"\tanti-replay esn context:\n"
		"\t seq-hi 0x1, seq 0x20, oseq-hi 0x0, oseq 0x0\n"
		"\t replay_window 40, bitmap-length 2\n"
		"\t 00000000 ffffffff \n"
		"\tlifetime config:\n"
		"\t  limit: soft (INF)(bytes), hard (INF)(bytes)\n"
		"\t  limit: soft (INF)(packets), hard 5(packets)\n"
		"\t  expire add: soft 0(sec), hard 0(sec)\n"
		"\t  expire use: soft 0(sec), hard 60(sec)\n"
		"\tlifetime current:\n"
		"\t  0(bytes), 0(packets)\n"
		"\t  add 2026-11-22 03:23:28 use -\n"
		"\tstats:\n"
		"\t  replay-window 0 replay 0 failed 0\n";

	if (parse_ok(stats, &l, "ip -s block") == 0) {
		c = &l.sa[0];
		CHECK(l.n == 1 && c->spi == 0x2001 && c->reqid == 7 &&
		      c->replay_window == 40 && c->esn && c->seq == 0x20 &&
		      c->seq_hi == 1 && c->cipher == RXSEC_CIPHER_NULL &&
		      c->packet_hard == 5 && c->packet_soft == RXSEC_LIMIT_INF &&
		      c->byte_hard == RXSEC_LIMIT_INF &&
		      c->add_hard_sec == RXSEC_LIMIT_INF &&
		      c->use_hard_sec == 60 && !c->has_sel,
		      "ip -s block: decorations, esn context, limits");
		CHECK(c->replay_bmp_layout == RXSEC_SA_BMP_RING && c->replay_bmp_window == 40 &&
		      c->replay_bmp[0] == 0 && c->replay_bmp[1] == 0xffffffffu,
		      "esn context: ring bitmap words and their window kept");
	}
	rxsec_sa_list_free(&l);

	/* a dump pasted with indentation (spaces), then an add line */
	if (parse_ok("  src 192.0.2.10 dst 192.0.2.20\n"
		     "    proto esp spi 0x00003001 reqid 3 mode tunnel\n"
		     "    replay-window 16 \n"
		     "    aead rfc4106(gcm(aes)) " GCM_KEY " 96\n"
		     "    anti-replay context: seq 0x0, oseq 0x0, bitmap 0x0\n"
		     "src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x3002 "
		     "aead rfc4106(gcm(aes)) " GCM_KEY " 64\n", &l,
		     "indented dump") == 0)
		CHECK(l.n == 2 && l.sa[0].replay_window == 16 &&
		      l.sa[0].icv_len == 12 && l.sa[1].icv_len == 8 &&
		      l.sa[0].has_sel && l.sa[0].sel_src.family == 4,
		      "indented dump block, then an add line");
	rxsec_sa_list_free(&l);

	/* a long file name keeps the line number in origin */
	{
		char name[300];
		struct rxsec_sa_parse_error err;

		memset(name, 'd', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		if (rxsec_sa_parse_string("\n\nsrc 192.0.2.10 dst 192.0.2.20 "
					  "proto esp spi 5" GCM, name, &l,
					  &err) == 0)
			CHECK(l.n == 1 && ends_with(l.sa[0].origin, "ddd:3") &&
			      strncmp(l.sa[0].origin, "...", 3) == 0 &&
			      strlen(l.sa[0].origin) < sizeof(l.sa[0].origin),
			      "long file name: origin %s", l.sa[0].origin);
		else
			CHECK(false, "long file name: %s", err.msg);
		rxsec_sa_list_free(&l);
	}

	/* empty input and comment-only input: zero SAs, success */
	CHECK(parse_ok("", &l, "empty") == 0 && l.n == 0, "empty string ok");
	CHECK(parse_ok("# nothing\n\n   \n", &l, "comments") == 0 && l.n == 0,
	      "comment-only string ok");
	CHECK(parse_ok("src 192.0.2.10 dst 192.0.2.20 proto esp spi 9 "
		       "aead rfc4106(gcm(aes)) " GCM_KEY " 128", &l,
		       "no newline at end") == 0 && l.n == 1 &&
	      l.sa[0].mode == RXSEC_MODE_TRANSPORT && l.sa[0].reqid == 0 &&
	      l.sa[0].replay_window == 0 && l.sa[0].has_sel,
	      "minimal add: transport, reqid 0, window 0, default selector");
	rxsec_sa_list_free(&l);
}

/* ------------------------------------------------------------------ */
/* Robustness                                                          */

static char *
read_all(const char *rel)
{
	char path[1400];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", xfrm_dir, rel);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static uint32_t rng = 0x12345678;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Parse, and check the all-or-nothing contract. */
static bool
parse_any(const char *text)
{
	struct rxsec_sa_parse_error err;
	struct rxsec_sa_list l = { 0 };
	char buf[600];
	int rc = rxsec_sa_parse_string(text, "fuzz", &l, &err);
	bool ok = rc == 0 || (rc == -1 && l.n == 0 && err.msg[0] != '\0' &&
			      err.line >= 1);

	rxsec_sa_parse_error_format(&err, buf, sizeof(buf));
	rxsec_sa_list_free(&l);
	return ok;
}

static void
test_robustness(void)
{
	static const char *const files[] = {
		"dumps/all.dump", "dumps/all.add",
		"dumps/esp_tun4_aesgcm128_lifetime.stats",
		"dumps/esp_tun4_aesgcm128_esn4096.dump",
	};
	static const char junk[] = " \t\n\\#\"'()0x:,/-abcdefz019";
	unsigned int f, i, runs = 0, bad = 0;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char *text = read_all(files[f]);
		size_t len;

		if (!CHECK(text != NULL, "read %s", files[f]))
			continue;
		len = strlen(text);
		/* every prefix (a cut file) of the small ones, sampled for all */
		for (i = 0; i < len; i += len > 4000 ? 13 : 1) {
			char *cut = strndup(text, i);

			bad += !parse_any(cut);
			runs++;
			free(cut);
		}
		/* random byte mutations */
		for (i = 0; i < 300; i++) {
			char *m = strdup(text);
			unsigned int k, nm = 1 + rnd() % 8;

			for (k = 0; k < nm; k++)
				m[rnd() % len] = (rnd() & 1) ?
					junk[rnd() % (sizeof(junk) - 1)] :
					(char)(1 + rnd() % 255);
			bad += !parse_any(m);
			runs++;
			free(m);
		}
		free(text);
	}
	for (i = 0; i < 500; i++) {
		char g[512];
		unsigned int k, n = rnd() % (sizeof(g) - 1);

		for (k = 0; k < n; k++)
			g[k] = junk[rnd() % (sizeof(junk) - 1)];
		g[n] = '\0';
		bad += !parse_any(g);
		runs++;
	}
	CHECK(bad == 0, "robustness: %u truncated/mutated/random inputs, %u "
	      "broke the all-or-nothing contract", runs, bad);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("RXSEC_XFRM_DIR");
	char probe[1400];

	if (dir == NULL)
		dir = "../shared/linux-xfrm";
	snprintf(xfrm_dir, sizeof(xfrm_dir), "%s", dir);
	snprintf(probe, sizeof(probe), "%s/dumps/all.dump", xfrm_dir);
	if (CHECK(file_exists(probe), "linux-xfrm samples at %s", xfrm_dir)) {
		test_real_files();
		test_known_values();
	}
	test_errors();
	test_many_ids();
	test_routing_metadata();
	test_ccm_cmac();
	test_extra_flags_dir();
	test_inline();
	if (file_exists(probe))
		test_robustness();
	printf("%u passed, %u failed\n", n_pass, n_fail);
	return n_fail == 0 ? 0 : 1;
}
