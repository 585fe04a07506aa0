/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA files in `ip xfrm state` syntax (spec section 5). Two forms, detected per
 * SA and freely mixed in one file:
 *   - `ip xfrm state add ...` commands, shell-like: prefix optional, `#`
 *     comments, backslash continuation, quoted words ("" is an empty key);
 *   - the dump printed by `ip xfrm state` and `ip -s xfrm state`: a column-0
 *     `src A dst B` line, then one tab-indented line per attribute, with
 *     deeper-indented sub-lines for the anti-replay esn context, the lifetime
 *     blocks and the stats block.
 * The dump format traps are listed in shared/linux-xfrm/README.md; the one
 * that matters most: an `anti-replay esn context:` block carries the real
 * window, while the first line then says `replay-window 0`. ESN is decided
 * by `flag esn` alone.
 *
 * Start-up code: allocation is fine, no DPDK calls, usable before EAL init.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_parse.h"

#define SA_WINDOW_MAX	4096	/* spec 4: windows at least up to 4096 */
#define SA_BITMAP_MAX	(1u << 16)	/* sanity bound on bitmap-length */

/* ------------------------------------------------------------------ */
/* Tokens and logical lines                                            */

struct tok {
	const char *s;
	unsigned int line;	/* physical 1-based line */
};

/* One logical line: physical lines joined by backslash continuation. */
struct lline {
	struct tok *tok;
	unsigned int n;
	unsigned int line;	/* first physical line */
	unsigned int indent;	/* leading blanks of the first physical line */
	char *buf;
};

struct lines {
	struct lline *l;
	unsigned int n, cap;
};

struct pctx {
	const char *file;
	struct rxsec_sa_parse_error *err;
	unsigned int last_line;
};

static int
perr(struct pctx *p, unsigned int line, const char *token, const char *fmt,
     ...)
{
	struct rxsec_sa_parse_error *e = p->err;
	va_list ap;
	size_t tl;

	if (e == NULL)
		return -1;
	snprintf(e->file, sizeof(e->file), "%s", p->file);
	e->line = line;
	if (token == NULL)
		token = "";
	tl = strlen(token);
	if (tl < sizeof(e->token))
		memcpy(e->token, token, tl + 1);
	else
		snprintf(e->token, sizeof(e->token), "%.*s...",
			 (int)sizeof(e->token) - 4, token);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
tok_err(struct pctx *p, const struct tok *t, const char *fmt, ...)
{
	char msg[sizeof(((struct rxsec_sa_parse_error *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return perr(p, t->line, t->s, "%s", msg);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Error whose token is the text [s, e) of a raw line. */
static int
perr_span(struct pctx *p, unsigned int line, const char *s, const char *e,
	  const char *msg)
{
	char tok[sizeof(((struct rxsec_sa_parse_error *)0)->token) + 8];
	size_t n = (size_t)(e - s);

	if (n >= sizeof(tok))
		n = sizeof(tok) - 1;
	memcpy(tok, s, n);
	tok[n] = '\0';
	while (n > 0 && is_blank(tok[n - 1]))
		tok[--n] = '\0';
	return perr(p, line, tok, "%s", msg);
}

/* Growable builder for one logical line. */
struct lbuild {
	char *buf;
	size_t len, cap;
	size_t *off;
	unsigned int *line;
	unsigned int n, ncap;
	unsigned int first_line, indent;
	bool active;
};

static int
lb_putc(struct lbuild *b, char c)
{
	if (b->len + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 256;
		char *nb = realloc(b->buf, ncap);

		if (nb == NULL)
			return -1;
		b->buf = nb;
		b->cap = ncap;
	}
	b->buf[b->len++] = c;
	return 0;
}

static int
lb_start_tok(struct lbuild *b, unsigned int line)
{
	if (b->n == b->ncap) {
		unsigned int ncap = b->ncap ? b->ncap * 2 : 32;
		size_t *no = realloc(b->off, ncap * sizeof(*no));
		unsigned int *nl;

		if (no == NULL)
			return -1;
		b->off = no;
		nl = realloc(b->line, ncap * sizeof(*nl));
		if (nl == NULL)
			return -1;
		b->line = nl;
		b->ncap = ncap;
	}
	b->off[b->n] = b->len;
	b->line[b->n] = line;
	b->n++;
	return 0;
}

static void
lines_free(struct lines *ls)
{
	unsigned int i;

	for (i = 0; i < ls->n; i++) {
		free(ls->l[i].tok);
		free(ls->l[i].buf);
	}
	free(ls->l);
	memset(ls, 0, sizeof(*ls));
}

/* Move the builder's tokens into a new logical line (blank ones dropped). */
static int
lb_finish(struct lbuild *b, struct lines *ls)
{
	struct lline *l;
	unsigned int i;

	b->active = false;
	if (b->n == 0) {
		b->len = 0;
		return 0;
	}
	if (ls->n == ls->cap) {
		unsigned int ncap = ls->cap ? ls->cap * 2 : 64;
		struct lline *nl = realloc(ls->l, ncap * sizeof(*nl));

		if (nl == NULL)
			return -1;
		ls->l = nl;
		ls->cap = ncap;
	}
	l = &ls->l[ls->n];
	memset(l, 0, sizeof(*l));
	l->buf = malloc(b->len ? b->len : 1);
	l->tok = malloc(b->n * sizeof(*l->tok));
	if (l->buf == NULL || l->tok == NULL) {
		free(l->buf);
		free(l->tok);
		return -1;
	}
	memcpy(l->buf, b->buf, b->len);
	for (i = 0; i < b->n; i++) {
		l->tok[i].s = l->buf + b->off[i];
		l->tok[i].line = b->line[i];
	}
	l->n = b->n;
	l->line = b->first_line;
	l->indent = b->indent;
	ls->n++;
	b->n = 0;
	b->len = 0;
	return 0;
}

/*
 * Split one physical line [s, e) into words, shell-like: quotes group (and
 * may make an empty word), `#` at the start of a word comments out the rest,
 * a final backslash continues the logical line. Returns 1 if continued.
 */
static int
lex_line(struct pctx *p, struct lbuild *b, const char *s, const char *e,
	 unsigned int lineno)
{
	const char *q = s;
	const char *last = e;

	while (last > s && is_blank(last[-1]))
		last--;
	if (!b->active) {
		b->active = true;
		b->first_line = lineno;
		b->indent = 0;
		while (q < e && is_blank(*q)) {
			b->indent++;
			q++;
		}
	}
	while (q < e) {
		bool in_tok = false;

		while (q < e && is_blank(*q))
			q++;
		if (q >= e || *q == '#')
			return 0;
		if (*q == '\\' && q + 1 == last)
			return 1;
		while (q < e && !is_blank(*q)) {
			if (*q == '"' || *q == '\'') {
				const char *close = memchr(q + 1, *q, e - q - 1);

				if (close == NULL)
					return perr_span(p, lineno, q, e,
							 "unterminated quote");
				if (!in_tok && lb_start_tok(b, lineno) < 0)
					return perr(p, lineno, "", "out of memory");
				in_tok = true;
				for (q++; q < close; q++)
					if (lb_putc(b, *q) < 0)
						return perr(p, lineno, "",
							    "out of memory");
				q = close + 1;
				continue;
			}
			if (*q == '\\' && q + 1 == last)
				break;
			if (!in_tok && lb_start_tok(b, lineno) < 0)
				return perr(p, lineno, "", "out of memory");
			in_tok = true;
			if (lb_putc(b, *q++) < 0)
				return perr(p, lineno, "", "out of memory");
		}
		if (in_tok && lb_putc(b, '\0') < 0)
			return perr(p, lineno, "", "out of memory");
		if (q < e && *q == '\\' && q + 1 == last)
			return 1;
	}
	return 0;
}

static int
split_lines(struct pctx *p, const char *text, struct lines *ls)
{
	struct lbuild b;
	const char *s = text;
	unsigned int lineno = 0;
	int rc = 0;

	memset(&b, 0, sizeof(b));
	while (*s != '\0') {
		const char *e = strchr(s, '\n');
		int cont;

		if (e == NULL)
			e = s + strlen(s);
		lineno++;
		cont = lex_line(p, &b, s, e, lineno);
		if (cont < 0) {
			rc = -1;
			break;
		}
		if (!cont && lb_finish(&b, ls) < 0) {
			rc = perr(p, lineno, "", "out of memory");
			break;
		}
		s = *e ? e + 1 : e;
	}
	if (rc == 0 && b.active && lb_finish(&b, ls) < 0)
		rc = perr(p, lineno, "", "out of memory");
	p->last_line = lineno ? lineno : 1;
	free(b.buf);
	free(b.off);
	free(b.line);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

/* strtoull with base 0 like iproute2's get_u32/get_u64 (0x hex, 0 octal);
 * an optional trailing ',' (dump lines) when comma is set. */
static int
parse_u64(const char *s, uint64_t max, bool comma, uint64_t *out)
{
	unsigned long long v;
	char *end;

	*out = 0;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return -1;
	if (comma && *end == ',')
		end++;
	if (*end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
tok_u64(struct pctx *p, const struct tok *t, uint64_t max, bool comma,
	const char *what, uint64_t *out)
{
	if (parse_u64(t->s, max, comma, out) < 0)
		return tok_err(p, t, "bad %s (want a number 0..%llu)", what,
			       (unsigned long long)max);
	return 0;
}

static int
tok_u32(struct pctx *p, const struct tok *t, uint32_t max, bool comma,
	const char *what, uint32_t *out)
{
	uint64_t v = 0;

	if (tok_u64(p, t, max, comma, what, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_addr(const char *s, struct rxsec_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = 6;
		return 0;
	}
	return -1;
}

static int
tok_addr(struct pctx *p, const struct tok *t, struct rxsec_addr *a)
{
	if (parse_addr(t->s, a) < 0)
		return tok_err(p, t, "bad address (want IPv4 or IPv6)");
	return 0;
}

/* ADDR or ADDR/LEN; no /LEN means a host prefix, as iproute2's get_prefix. */
static int
tok_prefix(struct pctx *p, const struct tok *t, struct rxsec_addr *a,
	   uint8_t *len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(t->s, '/');
	size_t al = slash ? (size_t)(slash - t->s) : strlen(t->s);
	unsigned int max;
	uint64_t v = 0;

	if (al >= sizeof(buf))
		return tok_err(p, t, "bad address prefix");
	memcpy(buf, t->s, al);
	buf[al] = '\0';
	if (parse_addr(buf, a) < 0)
		return tok_err(p, t, "bad address prefix (want ADDR[/LEN])");
	max = a->family == 4 ? 32 : 128;
	if (slash == NULL) {
		*len = (uint8_t)max;
		return 0;
	}
	if (parse_u64(slash + 1, max, false, &v) < 0)
		return tok_err(p, t, "bad prefix length (0..%u)", max);
	*len = (uint8_t)v;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A key as iproute2 reads ALGO-KEYMAT: `0x` + hex, else the word's bytes
 * (so "" is the empty key of ecb(cipher_null)). Dump keys are always hex.
 */
static int
tok_key(struct pctx *p, const struct tok *t, bool hex_only, uint8_t *key,
	uint16_t *len)
{
	size_t sl = strlen(t->s);
	size_t i;

	if (sl > 2 && t->s[0] == '0' && (t->s[1] == 'x' || t->s[1] == 'X')) {
		if ((sl - 2) % 2 != 0)
			return tok_err(p, t, "bad hex key: odd number of hex digits");
		if ((sl - 2) / 2 > RXSEC_KEY_MAX)
			return tok_err(p, t, "key longer than %u bytes",
				       RXSEC_KEY_MAX);
		for (i = 2; i < sl; i += 2) {
			int hi = hexval(t->s[i]), lo = hexval(t->s[i + 1]);

			if (hi < 0 || lo < 0)
				return tok_err(p, t,
					"bad hex key: '%c' is not a hex digit",
					hi < 0 ? t->s[i] : t->s[i + 1]);
			key[(i - 2) / 2] = (uint8_t)(hi << 4 | lo);
		}
		*len = (uint16_t)((sl - 2) / 2);
		return 0;
	}
	if (hex_only)
		return tok_err(p, t, "bad key (a dump writes keys as 0x + hex)");
	if (sl > RXSEC_KEY_MAX)
		return tok_err(p, t, "key longer than %u bytes", RXSEC_KEY_MAX);
	memcpy(key, t->s, sl);
	*len = (uint16_t)sl;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Algorithms                                                          */

struct cipher_info {
	const char *name;
	const char *alias;	/* kernel compat name, NULL if none */
	enum rxsec_cipher_alg alg;
	bool aead;
	uint8_t keylen[3];	/* allowed key lengths, salt/nonce included */
	unsigned int icv_bits[3];	/* AEAD only */
	const char *keydesc;
};

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

struct auth_info {
	const char *name;
	const char *alias;
	enum rxsec_auth_alg alg;
	uint8_t keylen;		/* RFC 2403/2404/4868 key = output size; RFC 3566 */
	unsigned int def_bits;	/* Linux default truncation for plain `auth` */
	unsigned int bits[3];	/* truncations accepted with auth-trunc */
	const char *bitdesc;
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
};

#define TAB_LEN(t) (sizeof(t) / sizeof((t)[0]))

static bool
name_is(const char *s, const char *name, const char *alias)
{
	return strcmp(s, name) == 0 || (alias != NULL && strcmp(s, alias) == 0);
}

static const struct cipher_info *
cipher_lookup(const char *s)
{
	unsigned int i;

	for (i = 0; i < TAB_LEN(cipher_tab); i++)
		if (name_is(s, cipher_tab[i].name, cipher_tab[i].alias))
			return &cipher_tab[i];
	return NULL;
}

static const struct auth_info *
auth_lookup(const char *s)
{
	unsigned int i;

	for (i = 0; i < TAB_LEN(auth_tab); i++)
		if (name_is(s, auth_tab[i].name, auth_tab[i].alias))
			return &auth_tab[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* One SA under construction                                           */

enum sub_block {
	SUB_NONE = 0,
	SUB_ESN_CTX,		/* anti-replay esn context: */
	SUB_LT_CONFIG,		/* lifetime config: (ip -s) */
	SUB_SKIP,		/* lifetime current:, stats: (ip -s), ignored */
};

struct sa_build {
	struct rxsec_sa_config c;
	const struct tok *first;
	const struct tok *t_dst, *t_proto, *t_spi, *t_esn;
	const struct tok *t_enc, *t_aead, *t_auth, *t_encap;
	bool have_src, have_id;
	bool sel_given;
	unsigned int auth_bits;		/* 0: the algorithm's default */
	unsigned int aead_bits;
	/* dump form */
	enum sub_block sub;
	const struct tok *t_esn_ctx, *t_bitmap_len;
	bool esn_ctx_window;
	uint32_t bitmap_len, bitmap_words;
};

/* Tokens of one add command, or of one dump line. */
struct cursor {
	const struct tok *t;
	unsigned int n, i;
	unsigned int end_line;
};

static const struct tok *
cur_peek(const struct cursor *cu)
{
	return cu->i < cu->n ? &cu->t[cu->i] : NULL;
}

/* Next token, or an error naming what was expected after `after`. */
static const struct tok *
cur_need(struct pctx *p, struct cursor *cu, const char *what,
	 const struct tok *after)
{
	if (cu->i < cu->n)
		return &cu->t[cu->i++];
	perr(p, cu->end_line, "", "line ends early: missing %s after '%s'",
	     what, after->s);
	return NULL;
}

static int
set_cipher(struct pctx *p, struct sa_build *b, const struct tok *kw,
	   const struct tok *name, const struct tok *key,
	   const struct tok *bits, bool dump)
{
	const struct cipher_info *ci = cipher_lookup(name->s);
	bool aead = strcmp(kw->s, "aead") == 0;
	uint64_t v = 0;
	unsigned int i;

	if (ci == NULL) {
		if (auth_lookup(name->s) != NULL)
			return tok_err(p, name,
				"'%s' is an auth algorithm, not %s", name->s,
				kw->s);
		return tok_err(p, name, "unknown %s algorithm", kw->s);
	}
	if (ci->aead != aead)
		return tok_err(p, name, aead ?
			"%s is not an AEAD algorithm (write: enc NAME KEY)" :
			"%s is an AEAD algorithm (write: aead NAME KEY ICVBITS)",
			ci->name);
	if (b->c.cipher != RXSEC_CIPHER_NONE)
		return tok_err(p, kw, "second encryption algorithm in one SA");
	if (key == NULL) {
		b->c.cipher_key_len = 0;
	} else if (tok_key(p, key, dump, b->c.cipher_key,
			   &b->c.cipher_key_len) < 0) {
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (b->c.cipher_key_len == ci->keylen[i] &&
		    (ci->keylen[i] != 0 || i == 0))
			break;
	if (i == 3)
		return perr(p, key ? key->line : kw->line, key ? key->s : "",
			    "wrong key length for %s: %u bytes, want %s",
			    ci->name, b->c.cipher_key_len, ci->keydesc);
	b->c.cipher = ci->alg;
	if (aead)
		b->t_aead = kw;
	else
		b->t_enc = kw;
	if (!aead)
		return 0;
	if (tok_u64(p, bits, UINT32_MAX, false, "ICV length", &v) < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (v != 0 && v == ci->icv_bits[i])
			break;
	if (i == 3)
		return tok_err(p, bits, "ICV length %llu bits not allowed for %s "
			       "(want %s)", (unsigned long long)v, ci->name,
			       ci->alg == RXSEC_CIPHER_AES_GCM ?
			       "64, 96 or 128" : "128");
	b->aead_bits = (unsigned int)v;
	return 0;
}

static int
set_auth(struct pctx *p, struct sa_build *b, const struct tok *kw,
	 const struct tok *name, const struct tok *key,
	 const struct tok *bits, bool dump)
{
	const struct auth_info *ai = auth_lookup(name->s);
	uint64_t v = 0;
	unsigned int i;

	if (ai == NULL) {
		if (cipher_lookup(name->s) != NULL)
			return tok_err(p, name,
				"'%s' is an encryption algorithm, not %s",
				name->s, kw->s);
		return tok_err(p, name, "unknown %s algorithm", kw->s);
	}
	if (b->c.auth != RXSEC_AUTH_NONE)
		return tok_err(p, kw, "second auth algorithm in one SA");
	if (tok_key(p, key, dump, b->c.auth_key, &b->c.auth_key_len) < 0)
		return -1;
	if (b->c.auth_key_len != ai->keylen)
		return tok_err(p, key, "wrong key length for %s: %u bytes, "
			       "want %u", ai->name, b->c.auth_key_len,
			       ai->keylen);
	b->c.auth = ai->alg;
	b->t_auth = kw;
	if (bits == NULL) {
		/* Plain `auth`: Linux's default truncation (README 5). */
		b->auth_bits = ai->def_bits;
		return 0;
	}
	if (tok_u64(p, bits, UINT32_MAX, false, "truncation length", &v) < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (v != 0 && v == ai->bits[i])
			break;
	if (i == 3)
		return tok_err(p, bits, "truncation %llu bits not allowed for "
			       "%s (want %s)", (unsigned long long)v, ai->name,
			       ai->bitdesc);
	b->auth_bits = (unsigned int)v;
	return 0;
}

/* Flags in the kernel's bit order, which is also RXSEC_SA_FLAG_*'s. */
static const char *const flag_names[] = {
	"noecn", "decap-dscp", "nopmtudisc", "wildrecv", "icmp",
	"af-unspec", "align4", "esn",
};

static int
flag_bit(const char *s)
{
	unsigned int i;

	for (i = 0; i < TAB_LEN(flag_names); i++)
		if (strcmp(s, flag_names[i]) == 0)
			return (int)i;
	return -1;
}

static void
add_flag(struct sa_build *b, const struct tok *t, int bit)
{
	b->c.flags |= 1u << bit;
	if ((1u << bit) == RXSEC_SA_FLAG_ESN)
		b->t_esn = t;
}

static int
set_window(struct pctx *p, struct sa_build *b, const struct tok *t,
	   bool comma)
{
	if (tok_u32(p, t, UINT32_MAX, comma, "replay window",
		    &b->c.replay_window) < 0)
		return -1;
	if (b->c.replay_window > SA_WINDOW_MAX)
		return tok_err(p, t, "replay window %u too large (at most %u)",
			       b->c.replay_window, SA_WINDOW_MAX);
	return 0;
}

static int
set_mode(struct pctx *p, struct sa_build *b, const struct tok *t)
{
	if (strcmp(t->s, "transport") == 0)
		b->c.mode = RXSEC_MODE_TRANSPORT;
	else if (strcmp(t->s, "tunnel") == 0)
		b->c.mode = RXSEC_MODE_TUNNEL;
	else if (strcmp(t->s, "beet") == 0 || strcmp(t->s, "ro") == 0 ||
		 strcmp(t->s, "in_trigger") == 0)
		return tok_err(p, t, "mode %s is not supported (only transport "
			       "and tunnel)", t->s);
	else
		return tok_err(p, t, "unknown mode (want transport or tunnel)");
	return 0;
}

static int
set_proto(struct pctx *p, struct sa_build *b, const struct tok *t)
{
	if (strcmp(t->s, "esp") == 0)
		b->c.proto = RXSEC_PROTO_ESP;
	else if (strcmp(t->s, "ah") == 0)
		b->c.proto = RXSEC_PROTO_AH;
	else if (strcmp(t->s, "comp") == 0 || strcmp(t->s, "route2") == 0 ||
		 strcmp(t->s, "hao") == 0)
		return tok_err(p, t, "proto %s is not supported (only esp, ah)",
			       t->s);
	else
		return tok_err(p, t, "unknown proto (want esp or ah)");
	b->t_proto = t;
	return 0;
}

struct ipproto_name {
	const char *name;
	uint8_t num;
};

static const struct ipproto_name ipproto_tab[] = {
	{ "icmp", 1 }, { "ipencap", 4 }, { "tcp", 6 }, { "udp", 17 },
	{ "ipv6", 41 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 },
	{ "ipv6-icmp", 58 }, { "icmpv6", 58 }, { "dccp", 33 },
	{ "sctp", 132 }, { "mobility-header", 135 }, { "ipv6-mh", 135 },
};

static int
tok_ipproto(struct pctx *p, const struct tok *t, uint8_t *out)
{
	unsigned int i;
	uint64_t v = 0;

	for (i = 0; i < TAB_LEN(ipproto_tab); i++)
		if (strcmp(t->s, ipproto_tab[i].name) == 0) {
			*out = ipproto_tab[i].num;
			return 0;
		}
	if (parse_u64(t->s, 255, false, &v) < 0)
		return tok_err(p, t, "unknown selector protocol");
	*out = (uint8_t)v;
	return 0;
}

static bool
proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 33 || proto == 132;
}

static bool
proto_has_type(uint8_t proto)
{
	return proto == 1 || proto == 58 || proto == 135;
}

/*
 * `sel src A/L dst B/L [dev D] [proto P [sport N] [dport N] | [type N]
 * [code N]] [uid N]`. Stops at the first word it does not know (add form).
 * ICMP type and code go where the kernel keeps them: sport and dport.
 */
static int
parse_sel(struct pctx *p, struct sa_build *b, struct cursor *cu,
	  const struct tok *kw)
{
	struct rxsec_sa_config *c = &b->c;
	const struct tok *t, *v;
	uint64_t n = 0;

	b->sel_given = true;
	c->has_sel = true;
	while ((t = cur_peek(cu)) != NULL) {
		if (strcmp(t->s, "src") == 0 || strcmp(t->s, "dst") == 0) {
			bool src = t->s[0] == 's';

			cu->i++;
			v = cur_need(p, cu, "address prefix", t);
			if (v == NULL || tok_prefix(p, v,
					src ? &c->sel_src : &c->sel_dst,
					src ? &c->sel_src_len :
					      &c->sel_dst_len) < 0)
				return -1;
		} else if (strcmp(t->s, "proto") == 0) {
			cu->i++;
			v = cur_need(p, cu, "protocol", t);
			if (v == NULL || tok_ipproto(p, v, &c->sel_proto) < 0)
				return -1;
		} else if (strcmp(t->s, "sport") == 0 ||
			   strcmp(t->s, "dport") == 0 ||
			   strcmp(t->s, "type") == 0 ||
			   strcmp(t->s, "code") == 0) {
			bool port = t->s[1] == 'p';
			bool first = t->s[0] == 's' || t->s[0] == 't';

			cu->i++;
			if (port ? !proto_has_ports(c->sel_proto) :
				   !proto_has_type(c->sel_proto))
				return tok_err(p, t, "'%s' needs a selector "
					       "proto %s first", t->s, port ?
					       "tcp, udp, sctp or dccp" :
					       "icmp, ipv6-icmp or mobility-header");
			v = cur_need(p, cu, "number", t);
			if (v == NULL || tok_u64(p, v, port ? 65535 : 255,
						 false, t->s, &n) < 0)
				return -1;
			*(first ? &c->sel_sport : &c->sel_dport) = (uint16_t)n;
		} else if (strcmp(t->s, "dev") == 0 ||
			   strcmp(t->s, "uid") == 0) {
			/* informational only for rxsec: skip the value */
			cu->i++;
			if (cur_need(p, cu, "value", t) == NULL)
				return -1;
		} else {
			break;
		}
	}
	if (c->sel_src.family == 0 && c->sel_dst.family == 0)
		return 0;
	if (c->sel_src.family != 0 && c->sel_dst.family != 0 &&
	    c->sel_src.family != c->sel_dst.family)
		return tok_err(p, kw, "selector src and dst are of different "
			       "address families");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Final checks, shared by both forms                                  */

static int
check_algs(struct pctx *p, struct sa_build *b)
{
	struct rxsec_sa_config *c = &b->c;

	if (c->proto == RXSEC_PROTO_AH) {
		if (b->t_aead || b->t_enc)
			return tok_err(p, b->t_aead ? b->t_aead : b->t_enc,
				       "an AH SA takes only auth/auth-trunc, "
				       "no encryption");
		if (c->auth == RXSEC_AUTH_NONE)
			return tok_err(p, b->first, "AH SA without an auth "
				       "algorithm");
		c->icv_len = (uint16_t)(b->auth_bits / 8);
		return 0;
	}
	if (b->t_aead) {
		if (b->t_auth)
			return tok_err(p, b->t_auth, "an AEAD SA already "
				       "authenticates: no auth algorithm allowed");
		c->icv_len = (uint16_t)(b->aead_bits / 8);
		return 0;
	}
	if (!b->t_enc)
		return tok_err(p, b->t_auth ? b->t_auth : b->first,
			       "ESP SA without encryption (needs enc or aead)");
	if (c->cipher == RXSEC_CIPHER_NULL && !b->t_auth)
		return tok_err(p, b->t_enc, "ecb(cipher_null) without an auth "
			       "algorithm protects nothing");
	c->icv_len = (uint16_t)(b->auth_bits / 8);
	return 0;
}

/* "file:line"; a long path keeps its tail so the line number survives. */
static void
set_origin(struct rxsec_sa_config *c, const char *file, unsigned int line)
{
	char num[16];
	size_t fl = strlen(file), nl, room;

	nl = (size_t)snprintf(num, sizeof(num), ":%u", line);
	room = sizeof(c->origin) - 1 - nl;
	if (fl <= room)
		snprintf(c->origin, sizeof(c->origin), "%s%s", file, num);
	else
		snprintf(c->origin, sizeof(c->origin), "...%s%s",
			 file + fl - (room - 3), num);
}

static int
finish_sa(struct pctx *p, struct sa_build *b)
{
	struct rxsec_sa_config *c = &b->c;

	if (!b->have_src || !b->t_dst)
		return tok_err(p, b->first, "SA without %s address",
			       b->have_src ? "dst" : "src");
	if (!b->t_proto)
		return tok_err(p, b->first, "SA without proto (esp or ah)");
	if (!b->t_spi)
		return tok_err(p, b->first, "SA without spi");
	if (c->src.family != c->dst.family)
		return tok_err(p, b->t_dst, "src and dst are of different "
			       "address families");
	if (c->spi == 0)
		return tok_err(p, b->t_spi, "SPI 0 is reserved (RFC 4303 2.1)");
	if (check_algs(p, b) < 0)
		return -1;
	c->esn = (c->flags & RXSEC_SA_FLAG_ESN) != 0;
	if (c->esn && c->replay_window == 0)
		return tok_err(p, b->t_esn, "esn flag set without replay-window");
	if (c->encap && c->proto != RXSEC_PROTO_ESP)
		return tok_err(p, b->t_encap, "UDP encapsulation is for ESP only "
			       "(RFC 3948)");
	/* iproute2 fills an unset selector with the SA's family; the kernel
	 * prints none for af-unspec SAs. */
	if (!b->sel_given && !(c->flags & RXSEC_SA_FLAG_AF_UNSPEC))
		c->has_sel = true;
	if (c->has_sel && c->sel_src.family == 0)
		c->sel_src.family = c->sel_dst.family ? c->sel_dst.family :
							c->src.family;
	if (c->has_sel && c->sel_dst.family == 0)
		c->sel_dst.family = c->sel_src.family;
	set_origin(c, p->file, b->first->line);
	return 0;
}

static void
sa_build_init(struct sa_build *b, const struct tok *first)
{
	memset(b, 0, sizeof(*b));
	rxsec_sa_config_init(&b->c);
	b->first = first;
}

/* ------------------------------------------------------------------ */
/* The add form                                                        */

static bool
is_id_word(const char *s)
{
	return strcmp(s, "src") == 0 || strcmp(s, "dst") == 0 ||
	       strcmp(s, "proto") == 0 || strcmp(s, "spi") == 0;
}

/* ID := [src ADDR] [dst ADDR] [proto P] [spi SPI], one contiguous group,
 * as iproute2's xfrm_id_parse reads it. */
static int
add_id(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *t, *v;

	if (b->have_id)
		return tok_err(p, cur_peek(cu), "'%s' belongs to the SA ID "
			       "(src dst proto spi), which must be written in "
			       "one piece", cur_peek(cu)->s);
	b->have_id = true;
	while ((t = cur_peek(cu)) != NULL && is_id_word(t->s)) {
		cu->i++;
		v = cur_need(p, cu, "value", t);
		if (v == NULL)
			return -1;
		if ((t->s[0] == 's' && t->s[1] == 'r' && b->have_src) ||
		    (t->s[0] == 'd' && b->t_dst) ||
		    (t->s[0] == 'p' && b->t_proto) ||
		    (t->s[1] == 'p' && b->t_spi))
			return tok_err(p, t, "'%s' given twice", t->s);
		if (strcmp(t->s, "src") == 0) {
			if (tok_addr(p, v, &b->c.src) < 0)
				return -1;
			b->have_src = true;
		} else if (strcmp(t->s, "dst") == 0) {
			if (tok_addr(p, v, &b->c.dst) < 0)
				return -1;
			b->t_dst = v;
		} else if (strcmp(t->s, "proto") == 0) {
			if (set_proto(p, b, v) < 0)
				return -1;
		} else {
			if (tok_u32(p, v, UINT32_MAX, false, "spi",
				    &b->c.spi) < 0)
				return -1;
			b->t_spi = v;
		}
	}
	return 0;
}

static int
add_flags(struct pctx *p, struct sa_build *b, struct cursor *cu,
	  const struct tok *kw)
{
	const struct tok *t = cur_need(p, cu, "flag name", kw);
	uint64_t v = 0;
	int bit;

	if (t == NULL)
		return -1;
	if (parse_u64(t->s, 255, false, &v) == 0) {
		/* iproute2 also takes the raw flag byte */
		b->c.flags |= (uint32_t)v;
		if (v & RXSEC_SA_FLAG_ESN)
			b->t_esn = t;
		return 0;
	}
	bit = flag_bit(t->s);
	if (bit < 0)
		return tok_err(p, t, "unknown flag");
	add_flag(b, t, bit);
	while ((t = cur_peek(cu)) != NULL && (bit = flag_bit(t->s)) >= 0) {
		add_flag(b, t, bit);
		cu->i++;
	}
	return 0;
}

/* `limit KIND N`, repeated before each value (iproute2 wants it so). */
static int
add_limit(struct pctx *p, struct sa_build *b, struct cursor *cu,
	  const struct tok *kw)
{
	static const char *const kinds[] = {
		"packet-soft", "packet-hard", "byte-soft", "byte-hard",
		"time-soft", "time-hard", "time-use-soft", "time-use-hard",
	};
	struct rxsec_sa_config *c = &b->c;
	uint64_t *dst[] = {
		&c->packet_soft, &c->packet_hard, &c->byte_soft, &c->byte_hard,
		&c->add_soft_sec, &c->add_hard_sec, &c->use_soft_sec,
		&c->use_hard_sec,
	};
	const struct tok *k, *v;
	unsigned int i;

	k = cur_need(p, cu, "limit kind", kw);
	if (k == NULL)
		return -1;
	for (i = 0; i < TAB_LEN(kinds); i++)
		if (strcmp(k->s, kinds[i]) == 0)
			break;
	if (i == TAB_LEN(kinds))
		return tok_err(p, k, "unknown limit (want packet-soft, "
			       "packet-hard, byte-soft, byte-hard, time-soft, "
			       "time-hard, time-use-soft or time-use-hard)");
	v = cur_need(p, cu, "number", k);
	if (v == NULL || tok_u64(p, v, UINT64_MAX, false, "limit", dst[i]) < 0)
		return -1;
	/* Linux: a zero time limit means no limit. */
	if (i >= 4 && *dst[i] == 0)
		*dst[i] = RXSEC_LIMIT_INF;
	return 0;
}

static int
encap_type(struct pctx *p, const struct tok *t)
{
	if (strcmp(t->s, "espinudp") == 0)
		return 0;
	if (strcmp(t->s, "espinudp-nonike") == 0 ||
	    strcmp(t->s, "espintcp") == 0)
		return tok_err(p, t, "encap %s is not supported (only espinudp, "
			       "RFC 3948)", t->s);
	return tok_err(p, t, "unknown encap type (want espinudp)");
}

/* `encap espinudp SPORT DPORT OA` */
static int
add_encap(struct pctx *p, struct sa_build *b, struct cursor *cu,
	  const struct tok *kw)
{
	struct rxsec_sa_config *c = &b->c;
	const struct tok *t;
	uint64_t v = 0;

	if (c->encap)
		return tok_err(p, kw, "'encap' given twice");
	if ((t = cur_need(p, cu, "encap type", kw)) == NULL ||
	    encap_type(p, t) < 0)
		return -1;
	if ((t = cur_need(p, cu, "source port", kw)) == NULL ||
	    tok_u64(p, t, 65535, false, "port", &v) < 0)
		return -1;
	c->encap_sport = (uint16_t)v;
	if ((t = cur_need(p, cu, "destination port", kw)) == NULL ||
	    tok_u64(p, t, 65535, false, "port", &v) < 0)
		return -1;
	c->encap_dport = (uint16_t)v;
	if ((t = cur_need(p, cu, "original address", kw)) == NULL ||
	    tok_addr(p, t, &c->encap_oa) < 0)
		return -1;
	c->encap = true;
	b->t_encap = kw;
	return 0;
}

static int
add_alg(struct pctx *p, struct sa_build *b, struct cursor *cu,
	const struct tok *kw)
{
	bool trunc = strcmp(kw->s, "auth-trunc") == 0;
	bool aead = strcmp(kw->s, "aead") == 0;
	const struct tok *name, *key, *bits = NULL;

	if ((name = cur_need(p, cu, "algorithm name", kw)) == NULL ||
	    (key = cur_need(p, cu, "key", name)) == NULL)
		return -1;
	if ((trunc || aead) &&
	    (bits = cur_need(p, cu, trunc ? "truncation bits" : "ICV bits",
			     key)) == NULL)
		return -1;
	if (aead || strcmp(kw->s, "enc") == 0)
		return set_cipher(p, b, kw, name, key, bits, false);
	return set_auth(p, b, kw, name, key, bits, false);
}

/* A keyword taking one u32 (seq, replay-seq...). */
static int
add_u32_kw(struct pctx *p, struct sa_build *b, struct cursor *cu,
	   const struct tok *kw)
{
	const struct tok *v = cur_need(p, cu, "number", kw);
	uint32_t n;

	if (v == NULL)
		return -1;
	if (strcmp(kw->s, "replay-window") == 0)
		return set_window(p, b, v, false);
	if (tok_u32(p, v, UINT32_MAX, false, kw->s, &n) < 0)
		return -1;
	if (strcmp(kw->s, "reqid") == 0)
		b->c.reqid = n;
	else if (strcmp(kw->s, "replay-seq") == 0)
		b->c.seq = n;
	else if (strcmp(kw->s, "replay-seq-hi") == 0)
		b->c.seq_hi = n;
	/* seq (the ACQUIRE sequence) and replay-oseq* are outbound state */
	return 0;
}

static int
add_mode(struct pctx *p, struct sa_build *b, struct cursor *cu,
	 const struct tok *kw)
{
	const struct tok *v = cur_need(p, cu, "mode", kw);

	return v == NULL ? -1 : set_mode(p, b, v);
}

static int
add_sel(struct pctx *p, struct sa_build *b, struct cursor *cu,
	const struct tok *kw)
{
	if (b->sel_given)
		return tok_err(p, kw, "'sel' given twice");
	return parse_sel(p, b, cu, kw);
}

typedef int (*add_kw_fn)(struct pctx *, struct sa_build *, struct cursor *,
			 const struct tok *);

/*
 * Marks and interface ids steer Linux's policy lookup and routing, and TFC
 * padding is an outbound setting: none changes how an inbound packet is
 * checked, so SAs that strongSwan installs with them are taken as they are.
 * `mark V [mask M]`, `output-mark V [mask M]`, `if_id N`, `tfcpad N`.
 */
static int
add_ignored(struct pctx *p, struct sa_build *b, struct cursor *cu,
	    const struct tok *kw)
{
	const struct tok *v = cur_need(p, cu, "value", kw);
	const struct tok *m;

	(void)b;
	if (v == NULL)
		return -1;
	m = cur_peek(cu);
	if (m != NULL && strcmp(m->s, "mask") == 0 && strstr(kw->s, "mark") != NULL) {
		cu->i++;
		if (cur_need(p, cu, "mask", m) == NULL)
			return -1;
	}
	return 0;
}

static const struct {
	const char *kw;
	add_kw_fn fn;
} add_kw_tab[] = {
	{ "mode", add_mode },
	{ "reqid", add_u32_kw },
	{ "seq", add_u32_kw },
	{ "replay-window", add_u32_kw },
	{ "replay-seq", add_u32_kw },
	{ "replay-oseq", add_u32_kw },
	{ "replay-seq-hi", add_u32_kw },
	{ "replay-oseq-hi", add_u32_kw },
	{ "flag", add_flags },
	{ "sel", add_sel },
	{ "limit", add_limit },
	{ "encap", add_encap },
	{ "enc", add_alg },
	{ "auth", add_alg },
	{ "auth-trunc", add_alg },
	{ "aead", add_alg },
	{ "mark", add_ignored },
	{ "output-mark", add_ignored },
	{ "if_id", add_ignored },
	{ "tfcpad", add_ignored },
};

static const char *const add_unsupported[] = {
	"comp", "coa", "ctx", "extra-flag", "offload",
};


static int
add_keyword(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *kw = cur_peek(cu);
	unsigned int i;

	if (is_id_word(kw->s))
		return add_id(p, b, cu);
	cu->i++;
	for (i = 0; i < TAB_LEN(add_kw_tab); i++)
		if (strcmp(kw->s, add_kw_tab[i].kw) == 0)
			return add_kw_tab[i].fn(p, b, cu, kw);
	for (i = 0; i < TAB_LEN(add_unsupported); i++)
		if (strcmp(kw->s, add_unsupported[i]) == 0)
			return tok_err(p, kw, "'%s' is not supported by rxsec",
				       kw->s);
	return tok_err(p, kw, "unknown keyword");
}

/* `[ip xfrm state add|update] ...`: returns the index after the prefix. */
static int
add_prefix(struct pctx *p, const struct lline *l, unsigned int *start)
{
	static const char *const want[] = { "ip", "xfrm", "state" };
	unsigned int i;

	*start = 0;
	if (strcmp(l->tok[0].s, "ip") != 0)
		return 0;
	for (i = 1; i < 3; i++) {
		if (i >= l->n)
			return perr(p, l->tok[i - 1].line, "", "line ends early: "
				    "want 'ip xfrm state add'");
		if (strcmp(l->tok[i].s, want[i]) != 0)
			return tok_err(p, &l->tok[i], "want 'ip xfrm state add'");
	}
	if (l->n < 4)
		return perr(p, l->tok[2].line, "", "line ends early: want "
			    "'ip xfrm state add'");
	if (strcmp(l->tok[3].s, "add") != 0 &&
	    strcmp(l->tok[3].s, "update") != 0)
		return tok_err(p, &l->tok[3], "only 'ip xfrm state add' (or "
			       "update) can describe an SA");
	*start = 4;
	if (l->n == 4)
		return perr(p, l->tok[3].line, "", "line ends early: nothing "
			    "after '%s'", l->tok[3].s);
	return 0;
}

static int
parse_add(struct pctx *p, const struct lline *l, struct sa_build *b)
{
	struct cursor cu;
	unsigned int start;

	sa_build_init(b, &l->tok[0]);
	if (add_prefix(p, l, &start) < 0)
		return -1;
	cu.t = l->tok;
	cu.n = l->n;
	cu.i = start;
	cu.end_line = l->tok[l->n - 1].line;
	while (cu.i < cu.n)
		if (add_keyword(p, b, &cu) < 0)
			return -1;
	return finish_sa(p, b);
}

/* ------------------------------------------------------------------ */
/* The dump form                                                       */

/* "0xd0d01401" or, from ip -s, "0xd0d01401(3503297537)"; also
 * "120" / "120(0x00000078)". The decoration must agree. */
static int
dump_u32_deco(struct pctx *p, const struct tok *t, const char *what,
	      uint32_t *out)
{
	char buf[64];
	const char *par = strchr(t->s, '(');
	size_t n = par ? (size_t)(par - t->s) : strlen(t->s);
	uint64_t v = 0, d = 0;

	if (n >= sizeof(buf))
		return tok_err(p, t, "bad %s", what);
	memcpy(buf, t->s, n);
	buf[n] = '\0';
	if (parse_u64(buf, UINT32_MAX, false, &v) < 0)
		return tok_err(p, t, "bad %s", what);
	if (par != NULL) {
		size_t pl = strlen(par);

		if (pl < 3 || par[pl - 1] != ')' || pl - 2 >= sizeof(buf))
			return tok_err(p, t, "bad %s", what);
		memcpy(buf, par + 1, pl - 2);
		buf[pl - 2] = '\0';
		if (parse_u64(buf, UINT32_MAX, false, &d) < 0 || d != v)
			return tok_err(p, t, "%s disagrees with the value in "
				       "parentheses", what);
	}
	*out = (uint32_t)v;
	return 0;
}

/* `proto esp spi 0x... reqid N mode tunnel` */
static int
dump_proto(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *k, *v;

	while ((k = cur_peek(cu)) != NULL) {
		cu->i++;
		if ((v = cur_need(p, cu, "value", k)) == NULL)
			return -1;
		if (strcmp(k->s, "proto") == 0 && !b->t_proto) {
			if (set_proto(p, b, v) < 0)
				return -1;
		} else if (strcmp(k->s, "spi") == 0 && !b->t_spi) {
			if (dump_u32_deco(p, v, "spi", &b->c.spi) < 0)
				return -1;
			b->t_spi = v;
		} else if (strcmp(k->s, "reqid") == 0) {
			if (dump_u32_deco(p, v, "reqid", &b->c.reqid) < 0)
				return -1;
		} else if (strcmp(k->s, "mode") == 0) {
			if (set_mode(p, b, v) < 0)
				return -1;
		} else {
			return tok_err(p, k, "unexpected word in the proto line");
		}
	}
	return 0;
}

/* "(0x10100000)" from ip -s: the flag byte as binary digits, MSB first. */
static int
dump_flag_bits(struct pctx *p, struct sa_build *b, const struct tok *t)
{
	unsigned int i, v = 0;

	if (strlen(t->s) != 12 || strncmp(t->s, "(0x", 3) != 0 ||
	    t->s[11] != ')')
		return tok_err(p, t, "bad flag bits (want (0xBBBBBBBB))");
	for (i = 3; i < 11; i++) {
		if (t->s[i] != '0' && t->s[i] != '1')
			return tok_err(p, t, "bad flag bits (binary digits)");
		v = v << 1 | (unsigned int)(t->s[i] - '0');
	}
	if (v != b->c.flags)
		return tok_err(p, t, "flag bits disagree with the flag names");
	return 0;
}

/* `replay-window N [seq 0x..] [flag F...] [(0x........)]` */
static int
dump_replay(struct pctx *p, struct sa_build *b, struct cursor *cu,
	    const struct tok *kw)
{
	const struct tok *t;
	int bit;

	if ((t = cur_need(p, cu, "window", kw)) == NULL ||
	    set_window(p, b, t, false) < 0)
		return -1;
	while ((t = cur_peek(cu)) != NULL) {
		cu->i++;
		if (strcmp(t->s, "seq") == 0) {
			if (cur_need(p, cu, "number", t) == NULL)
				return -1;
		} else if (strcmp(t->s, "flag") == 0) {
			while ((t = cur_peek(cu)) != NULL && t->s[0] != '(') {
				if ((bit = flag_bit(t->s)) < 0)
					return tok_err(p, t, "unknown flag");
				add_flag(b, t, bit);
				cu->i++;
			}
		} else if (t->s[0] == '(') {
			if (dump_flag_bits(p, b, t) < 0)
				return -1;
		} else {
			return tok_err(p, t, "unexpected word in the "
				       "replay-window line");
		}
	}
	return 0;
}

/* Skip "(160" "bits)" from ip -s, checking it against the key length. */
static int
dump_key_bits(struct pctx *p, struct cursor *cu, uint16_t keylen)
{
	const struct tok *t = cur_peek(cu), *u;
	uint64_t v = 0;

	if (t == NULL || t->s[0] != '(')
		return 0;
	cu->i++;
	if ((u = cur_need(p, cu, "'bits)'", t)) == NULL)
		return -1;
	if (parse_u64(t->s + 1, UINT32_MAX, false, &v) < 0 ||
	    strcmp(u->s, "bits)") != 0)
		return tok_err(p, t, "bad key size note (want '(N bits)')");
	if (v != (uint64_t)keylen * 8)
		return tok_err(p, t, "key size note disagrees with the key");
	return 0;
}

/* `aead N K ICV`, `enc N [K]`, `auth-trunc N K BITS`, `auth N K`,
 * each key possibly followed by ip -s's `(N bits)`. */
static int
dump_alg(struct pctx *p, struct sa_build *b, struct cursor *cu,
	 const struct tok *kw)
{
	bool aead = strcmp(kw->s, "aead") == 0;
	bool enc = strcmp(kw->s, "enc") == 0;
	bool trunc = strcmp(kw->s, "auth-trunc") == 0;
	const struct tok *name, *key = NULL, *bits = NULL, *t;
	unsigned int note;
	int rc;

	if ((name = cur_need(p, cu, "algorithm name", kw)) == NULL)
		return -1;
	t = cur_peek(cu);
	if (t != NULL && strncmp(t->s, "<<Keys", 6) == 0)
		return tok_err(p, t, "keys are hidden in this dump");
	/* ecb(cipher_null) prints no key at all */
	if ((!enc || (t != NULL && t->s[0] != '(')) &&
	    (key = cur_need(p, cu, "key", name)) == NULL)
		return -1;
	note = cu->i;
	if ((t = cur_peek(cu)) != NULL && t->s[0] == '(')
		cu->i += 2;
	if ((aead || trunc) &&
	    (bits = cur_need(p, cu, aead ? "ICV bits" : "truncation bits",
			     key)) == NULL)
		return -1;
	if ((t = cur_peek(cu)) != NULL)
		return tok_err(p, t, "unexpected word after the algorithm");
	if (aead || enc)
		rc = set_cipher(p, b, kw, name, key, bits, true);
	else
		rc = set_auth(p, b, kw, name, key, bits, true);
	if (rc < 0)
		return -1;
	cu->i = note;
	return dump_key_bits(p, cu, aead || enc ? b->c.cipher_key_len :
						  b->c.auth_key_len);
}

/* `encap type espinudp sport S dport D addr OA` */
static int
dump_encap(struct pctx *p, struct sa_build *b, struct cursor *cu,
	   const struct tok *kw)
{
	struct rxsec_sa_config *c = &b->c;
	static const char *const keys[] = { "type", "sport", "dport", "addr" };
	const struct tok *k, *v;
	unsigned int i;
	uint64_t n = 0;

	if (c->encap)
		return tok_err(p, kw, "'encap' given twice");
	for (i = 0; i < TAB_LEN(keys); i++) {
		if ((k = cur_need(p, cu, keys[i], i ? cu->t + cu->i - 1 : kw)) ==
		    NULL)
			return -1;
		if (strcmp(k->s, keys[i]) != 0)
			return tok_err(p, k, "want '%s' here", keys[i]);
		if ((v = cur_need(p, cu, "value", k)) == NULL)
			return -1;
		if (i == 0 && encap_type(p, v) < 0)
			return -1;
		if ((i == 1 || i == 2) &&
		    tok_u64(p, v, 65535, false, "port", &n) < 0)
			return -1;
		if (i == 1)
			c->encap_sport = (uint16_t)n;
		if (i == 2)
			c->encap_dport = (uint16_t)n;
		if (i == 3 && tok_addr(p, v, &c->encap_oa) < 0)
			return -1;
	}
	if ((k = cur_peek(cu)) != NULL)
		return tok_err(p, k, "unexpected word in the encap line");
	c->encap = true;
	b->t_encap = kw;
	return 0;
}

/* key/value pairs "seq-hi 0x0, seq 0x0, ..." with trailing commas */
static int
dump_kv(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *k, *v;
	uint64_t n = 0;

	while ((k = cur_peek(cu)) != NULL) {
		cu->i++;
		if ((v = cur_need(p, cu, "number", k)) == NULL ||
		    tok_u64(p, v, UINT32_MAX, true, k->s, &n) < 0)
			return -1;
		if (strcmp(k->s, "seq") == 0)
			b->c.seq = (uint32_t)n;
		else if (strcmp(k->s, "seq-hi") == 0)
			b->c.seq_hi = (uint32_t)n;
		else if (strcmp(k->s, "oseq") != 0 &&
			 strcmp(k->s, "oseq-hi") != 0 &&
			 strcmp(k->s, "bitmap") != 0)
			return tok_err(p, k, "unexpected word in the "
				       "anti-replay context");
	}
	return 0;
}

static bool
tok_is(const struct cursor *cu, unsigned int i, const char *s)
{
	return i < cu->n && strcmp(cu->t[i].s, s) == 0;
}

/* `anti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000` or
 * `anti-replay esn context:` opening the sub-block. */
static int
dump_antireplay(struct pctx *p, struct sa_build *b, struct cursor *cu,
		const struct tok *kw)
{
	if (b->t_esn_ctx != NULL || b->sub != SUB_NONE)
		return tok_err(p, kw, "second anti-replay context");
	if (tok_is(cu, cu->i, "context:")) {
		cu->i++;
		b->t_esn_ctx = kw;	/* marks "seen" */
		return dump_kv(p, b, cu);
	}
	if (tok_is(cu, cu->i, "esn") && tok_is(cu, cu->i + 1, "context:") &&
	    cu->n == cu->i + 2) {
		b->t_esn_ctx = kw;
		b->sub = SUB_ESN_CTX;
		return 0;
	}
	return tok_err(p, kw, "want 'anti-replay context:' or 'anti-replay "
		       "esn context:'");
}

static bool
is_hex_word(const char *s)
{
	unsigned int i;

	for (i = 0; s[i] != '\0'; i++)
		if (hexval(s[i]) < 0)
			return false;
	return i == 8;
}

/* Lines of the esn context: seq-hi..., replay_window N, bitmap-length M,
 * then the bitmap words. The window here is the SA's real window. */
static int
dump_esn_line(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *t = cur_peek(cu), *v;
	uint64_t n = 0;

	if (strcmp(t->s, "seq-hi") == 0)
		return dump_kv(p, b, cu);
	if (strcmp(t->s, "replay_window") == 0) {
		if (b->esn_ctx_window)
			return tok_err(p, t, "replay_window given twice");
		cu->i++;
		if ((v = cur_need(p, cu, "window", t)) == NULL ||
		    set_window(p, b, v, true) < 0)
			return -1;
		if ((t = cur_need(p, cu, "bitmap-length", v)) == NULL)
			return -1;
		if (strcmp(t->s, "bitmap-length") != 0)
			return tok_err(p, t, "want 'bitmap-length'");
		if ((v = cur_need(p, cu, "number", t)) == NULL ||
		    tok_u64(p, v, SA_BITMAP_MAX, false, "bitmap-length", &n) < 0)
			return -1;
		if (n * 32 < b->c.replay_window)
			return tok_err(p, v, "bitmap-length too small for "
				       "replay_window %u", b->c.replay_window);
		b->bitmap_len = (uint32_t)n;
		b->t_bitmap_len = v;
		b->esn_ctx_window = true;
		return 0;
	}
	if (!is_hex_word(t->s))
		return tok_err(p, t, "unexpected word in the esn context");
	if (!b->esn_ctx_window)
		return tok_err(p, t, "bitmap before 'replay_window'");
	for (; cu->i < cu->n; cu->i++) {
		if (!is_hex_word(cu->t[cu->i].s))
			return tok_err(p, &cu->t[cu->i], "bad bitmap word");
		if (++b->bitmap_words > b->bitmap_len)
			return tok_err(p, &cu->t[cu->i], "more bitmap words "
				       "than bitmap-length %u", b->bitmap_len);
	}
	return 0;
}

/* Closing checks when a sub-block ends. */
static int
dump_sub_end(struct pctx *p, struct sa_build *b)
{
	if (b->sub == SUB_ESN_CTX) {
		if (!b->esn_ctx_window)
			return tok_err(p, b->t_esn_ctx, "esn context without "
				       "replay_window");
		if (b->bitmap_words != b->bitmap_len)
			return tok_err(p, b->t_bitmap_len, "esn context has %u "
				       "bitmap words, bitmap-length says %u",
				       b->bitmap_words, b->bitmap_len);
	}
	b->sub = SUB_NONE;
	return 0;
}

/* "750000(bytes)," "(INF)(packets)" "3000(sec)" */
static int
dump_lt_val(struct pctx *p, const struct tok *t, const char *unit,
	    uint64_t *out)
{
	char buf[32];
	const char *u;
	size_t n, ul = strlen(unit);

	if (strncmp(t->s, "(INF)", 5) == 0) {
		*out = RXSEC_LIMIT_INF;
		u = t->s + 5;
	} else {
		u = strchr(t->s, '(');
		if (u == NULL || (size_t)(u - t->s) >= sizeof(buf))
			return tok_err(p, t, "bad lifetime value");
		n = (size_t)(u - t->s);
		memcpy(buf, t->s, n);
		buf[n] = '\0';
		if (parse_u64(buf, UINT64_MAX, false, out) < 0)
			return tok_err(p, t, "bad lifetime value");
	}
	if (strncmp(u, unit, ul) != 0 ||
	    (u[ul] != '\0' && strcmp(u + ul, ",") != 0))
		return tok_err(p, t, "bad lifetime value (want N%s)", unit);
	return 0;
}

/* `limit: soft S(bytes), hard H(bytes)`, `limit: ...(packets)`,
 * `expire add: soft S(sec), hard H(sec)`, `expire use: ...` */
static int
dump_lt_config(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	struct rxsec_sa_config *c = &b->c;
	const struct tok *t = cur_peek(cu), *s, *h, *w;
	uint64_t *soft, *hard;
	const char *unit;

	cu->i++;
	if (strcmp(t->s, "limit:") == 0) {
		/* bytes or packets: the unit of the soft value says */
		bool pk = cu->i + 1 < cu->n &&
			  strstr(cu->t[cu->i + 1].s, "(packets)") != NULL;

		soft = pk ? &c->packet_soft : &c->byte_soft;
		hard = pk ? &c->packet_hard : &c->byte_hard;
		unit = pk ? "(packets)" : "(bytes)";
	} else if (strcmp(t->s, "expire") == 0) {
		if ((w = cur_need(p, cu, "add: or use:", t)) == NULL)
			return -1;
		if (strcmp(w->s, "add:") != 0 && strcmp(w->s, "use:") != 0)
			return tok_err(p, w, "want 'add:' or 'use:'");
		soft = w->s[0] == 'a' ? &c->add_soft_sec : &c->use_soft_sec;
		hard = w->s[0] == 'a' ? &c->add_hard_sec : &c->use_hard_sec;
		unit = "(sec)";
	} else {
		return tok_err(p, t, "unexpected line in 'lifetime config:'");
	}
	if ((w = cur_need(p, cu, "'soft'", t)) == NULL)
		return -1;
	if (strcmp(w->s, "soft") != 0)
		return tok_err(p, w, "want 'soft'");
	if ((s = cur_need(p, cu, "value", w)) == NULL ||
	    dump_lt_val(p, s, unit, soft) < 0)
		return -1;
	if ((w = cur_need(p, cu, "'hard'", s)) == NULL)
		return -1;
	if (strcmp(w->s, "hard") != 0)
		return tok_err(p, w, "want 'hard'");
	if ((h = cur_need(p, cu, "value", w)) == NULL ||
	    dump_lt_val(p, h, unit, hard) < 0)
		return -1;
	if ((w = cur_peek(cu)) != NULL)
		return tok_err(p, w, "unexpected word in the lifetime line");
	/* Linux: a zero time limit means no limit. */
	if (unit[1] == 's') {
		if (*soft == 0)
			*soft = RXSEC_LIMIT_INF;
		if (*hard == 0)
			*hard = RXSEC_LIMIT_INF;
	}
	return 0;
}

/* `lifetime config:` / `lifetime current:` / `stats:` open sub-blocks. */
static int
dump_block_open(struct pctx *p, struct sa_build *b, struct cursor *cu,
		const struct tok *kw)
{
	if (strcmp(kw->s, "stats:") == 0 && cu->i == cu->n) {
		b->sub = SUB_SKIP;
		return 0;
	}
	if (strcmp(kw->s, "lifetime") == 0 && cu->n == cu->i + 1) {
		if (strcmp(cu->t[cu->i].s, "config:") == 0) {
			b->sub = SUB_LT_CONFIG;
			return 0;
		}
		if (strcmp(cu->t[cu->i].s, "current:") == 0) {
			b->sub = SUB_SKIP;
			return 0;
		}
	}
	return tok_err(p, kw, "want 'lifetime config:', 'lifetime current:' "
		       "or 'stats:'");
}

static int
dump_sel(struct pctx *p, struct sa_build *b, struct cursor *cu,
	 const struct tok *kw)
{
	const struct tok *t;

	if (b->sel_given)
		return tok_err(p, kw, "'sel' given twice");
	if (parse_sel(p, b, cu, kw) < 0)
		return -1;
	if ((t = cur_peek(cu)) != NULL)
		return tok_err(p, t, "unexpected word in the sel line");
	return 0;
}

/* One tab-indented attribute line of a dump block. */
static int
dump_top_line(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *kw = cur_peek(cu);

	cu->i++;
	if (strcmp(kw->s, "proto") == 0) {
		if (b->t_proto)
			return tok_err(p, kw, "second proto line");
		cu->i--;
		return dump_proto(p, b, cu);
	}
	if (strcmp(kw->s, "replay-window") == 0)
		return dump_replay(p, b, cu, kw);
	if (strcmp(kw->s, "aead") == 0 || strcmp(kw->s, "enc") == 0 ||
	    strcmp(kw->s, "auth") == 0 || strcmp(kw->s, "auth-trunc") == 0)
		return dump_alg(p, b, cu, kw);
	if (strcmp(kw->s, "encap") == 0)
		return dump_encap(p, b, cu, kw);
	if (strcmp(kw->s, "anti-replay") == 0)
		return dump_antireplay(p, b, cu, kw);
	if (strcmp(kw->s, "sel") == 0)
		return dump_sel(p, b, cu, kw);
	if (strcmp(kw->s, "lifetime") == 0 || strcmp(kw->s, "stats:") == 0)
		return dump_block_open(p, b, cu, kw);
	/* Routing metadata and outbound settings: see add_ignored(). */
	if (strcmp(kw->s, "mark") == 0 || strcmp(kw->s, "output-mark") == 0 ||
	    strcmp(kw->s, "if_id") == 0 || strcmp(kw->s, "tfcpad") == 0) {
		cu->i = cu->n;
		return 0;
	}
	return tok_err(p, kw, "unknown or unsupported line in the dump");
}

static int
dump_sub_line(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	switch (b->sub) {
	case SUB_ESN_CTX:
		return dump_esn_line(p, b, cu);
	case SUB_LT_CONFIG:
		return dump_lt_config(p, b, cu);
	case SUB_SKIP:
		return 0;
	default:
		return tok_err(p, cur_peek(cu), "indented line outside a "
			       "block");
	}
}

static int
dump_line(struct pctx *p, struct sa_build *b, const struct lline *l,
	  unsigned int body_indent)
{
	struct cursor cu = { l->tok, l->n, 0, l->tok[l->n - 1].line };

	if (l->indent > body_indent && b->sub != SUB_NONE)
		return dump_sub_line(p, b, &cu);
	if (dump_sub_end(p, b) < 0)
		return -1;
	return dump_top_line(p, b, &cu);
}

/* `src A dst B` then the body lines [1, n). */
static int
parse_dump(struct pctx *p, const struct lline *ls, unsigned int n,
	   struct sa_build *b)
{
	const struct lline *h = &ls[0];
	unsigned int i;

	sa_build_init(b, &h->tok[0]);
	if (tok_addr(p, &h->tok[1], &b->c.src) < 0 ||
	    tok_addr(p, &h->tok[3], &b->c.dst) < 0)
		return -1;
	b->have_src = true;
	b->have_id = true;
	b->t_dst = &h->tok[3];
	for (i = 1; i < n; i++)
		if (dump_line(p, b, &ls[i], n > 1 ? ls[1].indent : 0) < 0)
			return -1;
	if (dump_sub_end(p, b) < 0)
		return -1;
	return finish_sa(p, b);
}

/* ------------------------------------------------------------------ */
/* Files, lists                                                        */

/* `src A dst B` alone, at column 0 or above deeper-indented lines (a dump
 * pasted with indentation). */
static bool
is_dump_header(const struct lines *ls, unsigned int i)
{
	const struct lline *l = &ls->l[i];

	return l->n == 4 && strcmp(l->tok[0].s, "src") == 0 &&
	       strcmp(l->tok[2].s, "dst") == 0 &&
	       (l->indent == 0 ||
		(i + 1 < ls->n && ls->l[i + 1].indent > l->indent));
}

/* A dump block's body: the lines after its header, indented deeper. */
static unsigned int
dump_block_len(const struct lines *ls, unsigned int i)
{
	unsigned int j = i + 1;

	while (j < ls->n && ls->l[j].indent > ls->l[i].indent &&
	       strcmp(ls->l[j].tok[0].s, "ip") != 0 &&
	       strcmp(ls->l[j].tok[0].s, "src") != 0)
		j++;
	return j - i;
}

static bool
same_sa_id(const struct rxsec_sa_config *a, const struct rxsec_sa_config *b)
{
	return a->spi == b->spi && a->proto == b->proto &&
	       a->dst.family == b->dst.family &&
	       memcmp(a->dst.bytes, b->dst.bytes, sizeof(a->dst.bytes)) == 0;
}

struct sa_vec {
	struct rxsec_sa_config *sa;
	unsigned int n, cap;
};

static int
check_dup(struct pctx *p, const struct rxsec_sa_list *list,
	  const struct sa_vec *v, const struct sa_build *b)
{
	const struct rxsec_sa_config *c = &b->c;
	unsigned int i;
	char a[64];

	for (i = 0; list != NULL && i < list->n; i++)
		if (same_sa_id(&list->sa[i], c))
			goto dup;
	for (i = 0; i < v->n; i++)
		if (same_sa_id(&v->sa[i], c))
			goto dup_new;
	return 0;
dup:
	return tok_err(p, b->t_spi, "duplicate SA (spi 0x%08x dst %s %s), "
		       "first at %s", c->spi, rxsec_addr_str(&c->dst, a, sizeof(a)),
		       c->proto == RXSEC_PROTO_AH ? "ah" : "esp",
		       list->sa[i].origin);
dup_new:
	return tok_err(p, b->t_spi, "duplicate SA (spi 0x%08x dst %s %s), "
		       "first at %s", c->spi, rxsec_addr_str(&c->dst, a, sizeof(a)),
		       c->proto == RXSEC_PROTO_AH ? "ah" : "esp",
		       v->sa[i].origin);
}

static int
vec_push(struct sa_vec *v, const struct rxsec_sa_config *c)
{
	if (v->n == v->cap) {
		unsigned int ncap = v->cap ? v->cap * 2 : 16;
		struct rxsec_sa_config *ns = realloc(v->sa, ncap * sizeof(*ns));

		if (ns == NULL)
			return -1;
		v->sa = ns;
		v->cap = ncap;
	}
	v->sa[v->n++] = *c;
	return 0;
}

static int
parse_records(struct pctx *p, const struct lines *ls,
	      const struct rxsec_sa_list *list, struct sa_vec *v)
{
	struct sa_build *b = malloc(sizeof(*b));
	unsigned int i = 0, n;
	int rc = 0;

	if (b == NULL)
		return perr(p, 0, "", "out of memory");
	while (i < ls->n && rc == 0) {
		if (is_dump_header(ls, i)) {
			n = dump_block_len(ls, i);
			rc = parse_dump(p, &ls->l[i], n, b);
		} else {
			n = 1;
			rc = parse_add(p, &ls->l[i], b);
		}
		if (rc == 0)
			rc = check_dup(p, list, v, b);
		if (rc == 0 && vec_push(v, &b->c) < 0)
			rc = perr(p, ls->l[i].line, "", "out of memory");
		i += n;
	}
	free(b);
	return rc;
}

static int
list_append(struct rxsec_sa_list *list, const struct sa_vec *v)
{
	if (v->n == 0)
		return 0;
	if (list->n + v->n > list->cap) {
		unsigned int ncap = list->cap ? list->cap : 16;
		struct rxsec_sa_config *ns;

		while (ncap < list->n + v->n)
			ncap *= 2;
		ns = realloc(list->sa, ncap * sizeof(*ns));
		if (ns == NULL)
			return -1;
		list->sa = ns;
		list->cap = ncap;
	}
	memcpy(&list->sa[list->n], v->sa, v->n * sizeof(*v->sa));
	list->n += v->n;
	return 0;
}

int
rxsec_sa_parse_string(const char *text, const char *name,
		      struct rxsec_sa_list *list,
		      struct rxsec_sa_parse_error *err)
{
	struct pctx p = { name ? name : "<string>", err, 0 };
	struct lines ls = { NULL, 0, 0 };
	struct sa_vec v = { NULL, 0, 0 };
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (text == NULL || list == NULL)
		return perr(&p, 0, "", "no input");
	rc = split_lines(&p, text, &ls);
	if (rc == 0)
		rc = parse_records(&p, &ls, list, &v);
	if (rc == 0 && list_append(list, &v) < 0)
		rc = perr(&p, 0, "", "out of memory");
	lines_free(&ls);
	free(v.sa);
	return rc;
}

int
rxsec_sa_parse_file(const char *path, struct rxsec_sa_list *list,
		    struct rxsec_sa_parse_error *err)
{
	struct pctx p = { path, err, 0 };
	char *text = NULL;
	size_t len = 0, cap = 0, i;
	unsigned int line = 1;
	FILE *f;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	f = fopen(path, "r");
	if (f == NULL)
		return perr(&p, 0, "", "cannot open: %s", strerror(errno));
	for (;;) {
		size_t r;

		if (cap - len < 4096) {
			char *nt = realloc(text, cap ? cap * 2 : 8192);

			if (nt == NULL) {
				fclose(f);
				free(text);
				return perr(&p, 0, "", "out of memory");
			}
			text = nt;
			cap = cap ? cap * 2 : 8192;
		}
		r = fread(text + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	rc = ferror(f) ? perr(&p, 0, "", "read error") : 0;
	fclose(f);
	text[len] = '\0';
	for (i = 0; rc == 0 && i < len; i++) {
		if (text[i] == '\n')
			line++;
		else if (text[i] == '\0')
			rc = perr(&p, line, "", "NUL byte: not a text file");
	}
	if (rc == 0)
		rc = rxsec_sa_parse_string(text, path, list, err);
	free(text);
	return rc;
}

void
rxsec_sa_parse_error_format(const struct rxsec_sa_parse_error *err,
			    char *buf, unsigned int len)
{
	if (buf == NULL || len == 0)
		return;
	if (err->line == 0)
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	else if (err->token[0] == '\0')
		snprintf(buf, len, "%s:%u: %s", err->file, err->line, err->msg);
	else
		snprintf(buf, len, "%s:%u: near '%s': %s", err->file, err->line,
			 err->token, err->msg);
}

void
rxsec_sa_list_free(struct rxsec_sa_list *list)
{
	if (list == NULL)
		return;
	free(list->sa);
	list->sa = NULL;
	list->n = 0;
	list->cap = 0;
}
