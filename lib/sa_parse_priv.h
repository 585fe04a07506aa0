/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Inside the SA file parser (sa_parse.h is its interface): the types and
 * functions its files share. Start-up code only.
 */
#ifndef RXSEC_SA_PARSE_PRIV_H
#define RXSEC_SA_PARSE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "sa_parse.h"

#define SA_WINDOW_MAX	4096	/* spec 4: windows at least up to 4096 */
#define SA_BITMAP_MAX	(1u << 16)	/* sanity bound on bitmap-length */

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

struct cipher_info {
	const char *name;
	const char *alias;	/* kernel compat name, NULL if none */
	enum rxsec_cipher_alg alg;
	bool aead;
	uint8_t keylen[3];	/* allowed key lengths, salt/nonce included */
	unsigned int icv_bits[3];	/* AEAD only */
	const char *keydesc;
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

#define TAB_LEN(t) (sizeof(t) / sizeof((t)[0]))

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
	const struct tok *t_offload_dir;	/* offload ... dir in|out */
	enum rxsec_sa_dir offload_dir;
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

/* sa_lex.c: logical lines, tokens, errors */
void sap_lines_free(struct lines *ls);
int sap_perr(struct pctx *p, unsigned int line, const char *token, const char *fmt,
	     ...);
int sap_split_lines(struct pctx *p, const char *text, struct lines *ls);
int sap_tok_err(struct pctx *p, const struct tok *t, const char *fmt, ...);

/* sa_values.c: numbers, addresses, keys */
int sap_hexval(char c);
int sap_parse_u64(const char *s, uint64_t max, bool comma, uint64_t *out);
int sap_tok_addr(struct pctx *p, const struct tok *t, struct rxsec_addr *a);
int sap_tok_key(struct pctx *p, const struct tok *t, bool hex_only, uint8_t *key,
		uint16_t *len);
int sap_tok_prefix(struct pctx *p, const struct tok *t, struct rxsec_addr *a,
		   uint8_t *len);
int sap_tok_u32(struct pctx *p, const struct tok *t, uint32_t max, bool comma,
		const char *what, uint32_t *out);
int sap_tok_u64(struct pctx *p, const struct tok *t, uint64_t max, bool comma,
		const char *what, uint64_t *out);

/* sa_algs.c: algorithm names */
const struct auth_info *sap_auth_lookup(const char *s);
const struct cipher_info *sap_cipher_lookup(const char *s);
void sap_alg_names(const char *kw, char *buf, size_t len);

/* sa_build.c: one SA under construction, final checks */
void sap_add_flag(struct sa_build *b, const struct tok *t, int bit);
const struct tok *sap_cur_need(struct pctx *p, struct cursor *cu, const char *what,
			       const struct tok *after);
const struct tok *sap_cur_peek(const struct cursor *cu);
int sap_finish_sa(struct pctx *p, struct sa_build *b);
int sap_flag_bit(const char *s);
bool sap_extra_flag_known(const char *s);
int sap_set_dir(struct pctx *p, struct sa_build *b, const struct tok *t);
int sap_set_offload(struct pctx *p, struct sa_build *b, const struct tok *mode,
		    const struct tok *dir);
int sap_parse_sel(struct pctx *p, struct sa_build *b, struct cursor *cu,
		  const struct tok *kw);
void sap_sa_build_init(struct sa_build *b, const struct tok *first);
int sap_set_auth(struct pctx *p, struct sa_build *b, const struct tok *kw,
		 const struct tok *name, const struct tok *key,
		 const struct tok *bits, bool dump);
int sap_set_cipher(struct pctx *p, struct sa_build *b, const struct tok *kw,
		   const struct tok *name, const struct tok *key,
		   const struct tok *bits, bool dump);
int sap_set_mode(struct pctx *p, struct sa_build *b, const struct tok *t);
int sap_set_proto(struct pctx *p, struct sa_build *b, const struct tok *t);
int sap_set_window(struct pctx *p, struct sa_build *b, const struct tok *t,
		   bool comma);

/* sa_parse_add.c: `ip xfrm state add` commands */
int sap_add_ignored(struct pctx *p, struct sa_build *b, struct cursor *cu,
		    const struct tok *kw);
int sap_encap_type(struct pctx *p, const struct tok *t);
int sap_parse_add(struct pctx *p, const struct lline *l, struct sa_build *b);

/* sa_parse_dump.c: the `ip xfrm state` dump */
int sap_parse_dump(struct pctx *p, const struct lline *ls, unsigned int n,
		   struct sa_build *b);

#endif /* RXSEC_SA_PARSE_PRIV_H */
