/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "control.h"
#include "lifetime.h"
#include "sa_parse.h"
#include "selector.h"

#include "log.h"

/* Clients served at once; more wait in the listen backlog. */
#define CONN_MAX		8
/* A client has this long to send its request, and again to read the reply. */
#define CONN_TIMEOUT_S		5
/* While every slot is taken and a client waits, one that has sent nothing
 * for this long gives its slot up (rxsec-ctl sends at once). */
#define CONN_SILENT_MS		500

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

struct conn {
	int fd;				/* -1: free slot */
	int replying;			/* request read, out being sent */
	uint64_t since;			/* timer cycles at accept */
	uint64_t deadline;		/* timer cycles */
	struct sbuf req;
	struct sbuf out;
	size_t sent;			/* of out */
};

struct rxsec_control {
	int lfd;
	struct conn conn[CONN_MAX];
	struct rxsec_control_ctx *ctx;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;			/* the socket file we made, so that */
	ino_t ino;			/* close removes no other */
};

static void __rte_format_printf(2, 3)
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *p = realloc(b->p, cap);

		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* ------------------------------------------------------------------ */
/* Counters                                                             */
/* ------------------------------------------------------------------ */

void
rxsec_control_totals(const struct rxsec_control_ctx *ctx, struct rxsec_engine_stats *es,
		     struct rxsec_transport_stats *ts)
{
	memset(es, 0, sizeof(*es));
	memset(ts, 0, sizeof(*ts));
	for (unsigned int i = 0; i < ctx->nb_eng; i++)
		rxsec_engine_stats_add(es, &ctx->eng[i]->stats);
	for (unsigned int i = 0; i < ctx->nb_tr; i++)
		rxsec_transport_stats_add(ts, &ctx->tr[i]->stats);
}

typedef void (*json_stage_fn)(struct sbuf *b, const struct rxsec_control_ctx *ctx,
			      unsigned int i);

/* ",NAME":[...] with one object per stage, written by one(). */
static void
json_stage_array(struct sbuf *b, const char *name, unsigned int n, json_stage_fn one,
		 const struct rxsec_control_ctx *ctx)
{
	sb_printf(b, ",\"%s\":[", name);
	for (unsigned int i = 0; i < n; i++) {
		sb_printf(b, "%s", i ? "," : "");
		one(b, ctx, i);
	}
	sb_printf(b, "]");
}

/* Each stage reassembles the fragments hashed to it: its own counters. */
static void
json_reassembly_stage(struct sbuf *b, const struct rxsec_control_ctx *ctx, unsigned int i)
{
	const struct rxsec_transport_stats *s = &ctx->tr[i]->stats;

	sb_printf(b, "{\"held\":%" PRIu64 ",\"datagrams\":%" PRIu64 ",\"discarded\":%" PRIu64
		  ",\"waiting\":%" PRIu64 ",\"handed_over\":%" PRIu64 ",\"early\":%" PRIu64 "}",
		  s->frag.held, s->frag.datagrams, s->frag.discarded, s->frag.waiting,
		  s->handed_over, s->frag.early);
}

/* Per worker and per transport stage: how evenly the load spreads. */
static void
json_engine_worker(struct sbuf *b, const struct rxsec_control_ctx *ctx, unsigned int i)
{
	const struct rxsec_engine_stats *s = &ctx->eng[i]->stats;

	sb_printf(b, "{\"rx\":%" PRIu64 ",\"crypto_done\":%" PRIu64 ",\"unprocessed\":%" PRIu64
		  ",\"backpressure\":%" PRIu64 "}",
		  s->rx, s->crypto_done, s->unprocessed, s->ring_full);
}

static void
json_transport_stage(struct sbuf *b, const struct rxsec_control_ctx *ctx, unsigned int i)
{
	const struct rxsec_transport_stats *s = &ctx->tr[i]->stats;

	sb_printf(b, "{\"rx\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"delivered_bytes\":%" PRIu64
		  ",\"dropped\":%" PRIu64 ",\"software\":%" PRIu64 ",\"nested_handed\":%" PRIu64
		  "}", s->rx, s->delivered, s->delivered_bytes, rxsec_transport_dropped(s),
		  s->software, s->nested_handed);
}

static void
json_totals(struct sbuf *b, const struct rxsec_control_ctx *ctx)
{
	const struct rxsec_sa_table *t = ctx->sat;
	struct rxsec_engine_stats es;
	struct rxsec_transport_stats ts;

	rxsec_control_totals(ctx, &es, &ts);
	sb_printf(b, "\"engine\":{\"rx\":%" PRIu64 ",\"crypto_done\":%" PRIu64
		  ",\"unprocessed\":%" PRIu64 ",\"sa_delete_req\":%" PRIu64
		  ",\"backpressure\":%" PRIu64 ",\"status\":{",
		  es.rx, es.crypto_done, es.unprocessed, es.sa_delete_req, es.ring_full);
	for (int k = 0; k < RXSEC_CRYPTO_STATUS_MAX; k++)
		sb_printf(b, "%s\"%s\":%" PRIu64, k ? "," : "",
			  rxsec_crypto_status_name((enum rxsec_crypto_status)k), es.status[k]);
	sb_printf(b, "}");
	json_stage_array(b, "workers", ctx->nb_eng, json_engine_worker, ctx);
	sb_printf(b, "},\"transport\":{\"rx\":%" PRIu64 ",\"delivered\":%" PRIu64
		  ",\"delivered_bytes\":%" PRIu64 ",\"dropped\":%" PRIu64
		  ",\"software\":%" PRIu64 ",\"sa_deleted\":%" PRIu64 ",\"nested_handed\":%" PRIu64
		  ",\"reassembly\":{\"datagrams\":%" PRIu64 ",\"discarded\":%" PRIu64
		  ",\"waiting\":%" PRIu64 ",\"handed_over\":%" PRIu64 ",\"early\":%" PRIu64
		  ",\"early_joined\":%" PRIu64 ",\"early_dropped\":%" PRIu64,
		  ts.rx, ts.delivered, ts.delivered_bytes, rxsec_transport_dropped(&ts),
		  ts.software, ts.sa_deleted, ts.nested_handed, ts.frag.datagrams,
		  ts.frag.discarded, ts.frag.waiting, ts.handed_over, ts.frag.early,
		  ts.frag.early_joined, ts.frag.early_dropped);
	json_stage_array(b, "stages", ctx->nb_tr, json_reassembly_stage, ctx);
	sb_printf(b, "}");
	json_stage_array(b, "stages", ctx->nb_tr, json_transport_stage, ctx);
	sb_printf(b, ",\"reasons\":{");
	for (int r = 0; r < RXSEC_REASON_MAX; r++)
		sb_printf(b, "%s\"%s\":%" PRIu64, r ? "," : "",
			  rxsec_reason_name((enum rxsec_reason)r), ts.reason[r]);
	sb_printf(b, "}},\"sa\":{\"live\":%u,\"added\":%" PRIu64 ",\"removed\":%" PRIu64
		  ",\"reclaimed\":%" PRIu64 ",\"pending_reclaim\":%u,\"soft_expired\":%" PRIu64
		  ",\"hard_expired\":%" PRIu64 ",\"esn_reverified\":%" PRIu64 "}",
		  t->count, t->added, t->removed, t->reclaimed, t->nb_pending,
		  ctx->soft_expired, ctx->hard_expired,
		  __atomic_load_n(&t->esn_reverified, __ATOMIC_RELAXED));
}

static void
json_sa(struct sbuf *b, const struct rxsec_sa *sa, const char *state)
{
	uint64_t top = rxsec_replay_top(&sa->replay);
	uint8_t tr = __atomic_load_n(&sa->transport_id, __ATOMIC_RELAXED);
	char src[64], dst[64], sel[192], trs[8] = "null";	/* null: no packet yet */
	char dir[8] = "null";					/* null: not given */

	if (tr != RXSEC_TRANSPORT_UNSET)
		snprintf(trs, sizeof(trs), "%u", tr);
	if (rxsec_sa_dir_name(sa->cfg.dir) != NULL)
		snprintf(dir, sizeof(dir), "\"%s\"", rxsec_sa_dir_name(sa->cfg.dir));

	sb_printf(b, "{\"spi\":\"0x%08x\",\"proto\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\","
		  "\"mode\":\"%s\",\"dir\":%s,\"enc\":\"%s\",\"auth\":\"%s\",\"icv_bits\":%u,"
		  "\"selector\":\"%s\",\"reqid\":%u,\"state\":\"%s\",\"id\":%u,"
		  "\"transport\":%s,"
		  "\"offload\":%s,\"esn\":%s,\"replay_window\":%u,\"seq\":%" PRIu64
		  ",\"seq_hi\":%u,\"life_packets\":%" PRIu64 ",\"life_bytes\":%" PRIu64
		  ",\"soft_expired\":%s,\"delivered\":%" PRIu64 ",\"delivered_bytes\":%" PRIu64
		  ",\"drops\":{",
		  sa->spi, sa->proto == RXSEC_PROTO_AH ? "ah" : "esp",
		  rxsec_addr_str(&sa->cfg.src, src, sizeof(src)),
		  rxsec_addr_str(&sa->cfg.dst, dst, sizeof(dst)),
		  sa->mode == RXSEC_MODE_TUNNEL ? "tunnel" : "transport", dir,
		  rxsec_cipher_alg_name(sa->cfg.cipher), rxsec_auth_alg_name(sa->cfg.auth),
		  sa->cfg.icv_len * 8u,
		  rxsec_selector_str(&sa->cfg, sel, sizeof(sel)), sa->cfg.reqid, state, sa->id,
		  trs, sa->offload ? "true" : "false",
		  sa->esn ? "true" : "false", sa->window, top, (uint32_t)(top >> 32),
		  sa->life_packets, sa->life_bytes, sa->soft_expired ? "true" : "false",
		  sa->delivered, sa->delivered_bytes);
	for (int r = RXSEC_REASON_OK + 1, first = 1; r < RXSEC_REASON_MAX; r++) {
		if (sa->drops[r] == 0)
			continue;
		sb_printf(b, "%s\"%s\":%" PRIu64, first ? "" : ",",
			  rxsec_reason_name((enum rxsec_reason)r), sa->drops[r]);
		first = 0;
	}
	sb_printf(b, "}}");
}

static void
json_list(struct sbuf *b, const struct rxsec_sa_table *t)
{
	int first = 1;

	sb_printf(b, "\"sas\":[");
	for (uint32_t i = 0; i < t->capacity; i++) {
		if (t->slot[i] == NULL)
			continue;
		sb_printf(b, "%s", first ? "" : ",");
		json_sa(b, t->slot[i], "live");
		first = 0;
	}
	for (uint32_t i = 0; i < t->nb_pending; i++) {
		sb_printf(b, "%s", first ? "" : ",");
		json_sa(b, t->pending[i].sa, "deleted");
		first = 0;
	}
	for (uint32_t i = 0; i < t->nb_gone; i++) {
		sb_printf(b, "%s", first ? "" : ",");
		json_sa(b, t->gone[(t->gone_next + RXSEC_SA_GONE_MAX - t->nb_gone + i) %
			       RXSEC_SA_GONE_MAX], "deleted");
		first = 0;
	}
	sb_printf(b, "]");
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

/* The words a command takes after its name: spi and dst always. */
enum ref_word {
	REF_SPI = 1 << 0,
	REF_DST = 1 << 1,
	REF_PROTO = 1 << 2,
	REF_HI = 1 << 3,
	REF_PAIR = 1 << 4,
};

struct ref_syntax {
	const char *cmd;
	unsigned int words;		/* enum ref_word */
	const char *usage;
};

static const struct ref_syntax del_syntax = {
	"del", REF_SPI | REF_DST | REF_PROTO | REF_PAIR,
	"del spi N dst ADDR [proto esp|ah] [pair]",
};
static const struct ref_syntax update_esn_syntax = {
	"update-esn", REF_SPI | REF_DST | REF_PROTO | REF_HI,
	"update-esn spi N dst ADDR [proto esp|ah] hi N",
};
static const struct ref_syntax stats_syntax = {
	"stats", REF_SPI | REF_DST | REF_PROTO,
	"stats [spi N dst ADDR [proto esp|ah]]",
};

struct sa_ref {
	struct rxsec_sa_key key;
	unsigned int seen;		/* enum ref_word */
	uint64_t hi;
};

static int
parse_u64_any(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno != 0 || end == s || *end != '\0' || s[0] == '-' || *v > max ? -1 : 0;
}

static unsigned int
ref_word(const char *w)
{
	static const struct { const char *name; unsigned int bit; } words[] = {
		{ "spi", REF_SPI }, { "dst", REF_DST }, { "proto", REF_PROTO },
		{ "hi", REF_HI }, { "pair", REF_PAIR },
	};

	for (unsigned int i = 0; i < RTE_DIM(words); i++)
		if (strcmp(w, words[i].name) == 0)
			return words[i].bit;
	return 0;
}

/* One word's value into c or r; -1 if it is not one. */
static int
ref_value(unsigned int bit, const char *val, struct rxsec_sa_config *c, struct sa_ref *r)
{
	uint64_t v;

	switch (bit) {
	case REF_SPI:
		if (parse_u64_any(val, UINT32_MAX, &v) != 0)
			return -1;
		c->spi = (uint32_t)v;
		return 0;
	case REF_DST:
		return rxsec_addr_parse(val, &c->dst);
	case REF_PROTO:
		if (strcmp(val, "esp") != 0 && strcmp(val, "ah") != 0)
			return -1;
		c->proto = val[0] == 'a' ? RXSEC_PROTO_AH : RXSEC_PROTO_ESP;
		return 0;
	case REF_HI:
		return parse_u64_any(val, UINT32_MAX, &r->hi);
	}
	return -1;
}

/* The words after a command that names one SA, as its syntax allows: each
 * at most once, none it does not take (a typo must not act on an SA). */
static int
parse_ref(char *args, const struct ref_syntax *syn, struct sa_ref *r, struct sbuf *why)
{
	struct rxsec_sa_config c;
	char *save = NULL, *w;

	memset(r, 0, sizeof(*r));
	rxsec_sa_config_init(&c);
	c.proto = RXSEC_PROTO_ESP;
	for (w = strtok_r(args, " \t\n", &save); w != NULL; w = strtok_r(NULL, " \t\n", &save)) {
		unsigned int bit = ref_word(w);
		char *val;

		if ((bit & syn->words) == 0) {
			sb_printf(why, "%s does not take '%s' (%s)", syn->cmd, w, syn->usage);
			return -1;
		}
		if (r->seen & bit) {
			sb_printf(why, "%s: '%s' given twice", syn->cmd, w);
			return -1;
		}
		r->seen |= bit;
		if (bit == REF_PAIR)
			continue;
		val = strtok_r(NULL, " \t\n", &save);
		if (val == NULL) {
			sb_printf(why, "'%s' needs a value", w);
			return -1;
		}
		if (ref_value(bit, val, &c, r) != 0) {
			sb_printf(why, "bad '%s %s'", w, val);
			return -1;
		}
	}
	if ((r->seen & (REF_SPI | REF_DST)) != (REF_SPI | REF_DST) ||
	    ((syn->words & REF_HI) && !(r->seen & REF_HI))) {
		sb_printf(why, "usage: %s", syn->usage);
		return -1;
	}
	rxsec_sa_key_from_config(&r->key, &c);
	return 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, surrogates or code points above U+10FFFF), or 0. */
static unsigned int
utf8_len(const unsigned char *s)
{
	unsigned int n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	uint32_t cp = s[0] & (0x7f >> n);

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	for (unsigned int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A JSON string of s: request text quoted in an error may hold any byte,
 * and a byte that is not UTF-8 becomes U+FFFD, so the reply stays JSON. */
static void
json_str(struct sbuf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	sb_printf(b, "\"");
	while (*u) {
		unsigned int n = *u < 0x80 ? 1 : utf8_len(u);

		if (*u == '"' || *u == '\\')
			sb_printf(b, "\\%c", *u);
		else if (*u < 0x20)
			sb_printf(b, "\\u%04x", *u);
		else if (n == 0)
			sb_printf(b, "\\ufffd");
		else
			sb_printf(b, "%.*s", (int)n, (const char *)u);
		u += n ? n : 1;
	}
	sb_printf(b, "\"");
}

static void
reply_error(struct sbuf *out, const char *msg)
{
	sb_printf(out, "{\"ok\":false,\"error\":");
	json_str(out, msg);
	sb_printf(out, "}\n");
}

static void
cmd_add(struct rxsec_control_ctx *ctx, const char *text, struct sbuf *out)
{
	struct rxsec_sa_list list = {0};
	struct rxsec_sa_parse_error perr;
	char msg[512];
	int ok = 1;

	if (rxsec_sa_parse_string(text, "control", &list, &perr) != 0) {
		rxsec_sa_parse_error_format(&perr, msg, sizeof(msg));
		reply_error(out, msg);
		return;
	}
	if (list.n == 0) {
		reply_error(out, "add: no SA in the request");
		rxsec_sa_list_free(&list);
		return;
	}
	sb_printf(out, "{\"added\":[");
	for (unsigned int i = 0; i < list.n; i++) {
		struct rxsec_sa_config *c = &list.sa[i];
		int id;

		if (ctx->replay_window >= 0)
			c->replay_window = (uint32_t)ctx->replay_window;
		rte_spinlock_lock(ctx->lock);
		id = rxsec_sa_table_add(ctx->sat, c, msg, sizeof(msg));
		if (id >= 0)	/* a reload of the SA files leaves it alone */
			ctx->sat->slot[id]->by_control = 1;
		rte_spinlock_unlock(ctx->lock);
		if (id < 0) {
			ok = 0;
			sb_printf(out, "%s{\"spi\":\"0x%08x\",\"error\":", i ? "," : "", c->spi);
			json_str(out, msg);
			sb_printf(out, "}");
			continue;
		}
		RTE_LOG(NOTICE, RXSEC, "control: added SA spi 0x%08x (id %d)\n", c->spi, id);
		sb_printf(out, "%s{\"spi\":\"0x%08x\",\"id\":%d}", i ? "," : "", c->spi, id);
	}
	sb_printf(out, "],\"ok\":%s}\n", ok ? "true" : "false");
	rxsec_sa_list_free(&list);
}

static void
cmd_del(struct rxsec_control_ctx *ctx, char *args, struct sbuf *out)
{
	struct sbuf why = {0};
	struct sa_ref r;
	struct rxsec_sa *sa;
	unsigned int n = 0;

	if (parse_ref(args, &del_syntax, &r, &why) != 0) {
		reply_error(out, why.p ? why.p : "bad request");
		free(why.p);
		return;
	}
	rte_spinlock_lock(ctx->lock);
	sa = rxsec_sa_table_find(ctx->sat, &r.key);
	if (sa != NULL && (r.seen & REF_PAIR)) {
		n = rxsec_sa_delete_pair(ctx->sat, sa, "control");
	} else if (sa != NULL) {
		sa->deleted = 1;
		rxsec_sa_table_remove(ctx->sat, sa->id);
		RTE_LOG(NOTICE, RXSEC, "control: deleted SA spi 0x%08x\n", sa->spi);
		n = 1;
	}
	rte_spinlock_unlock(ctx->lock);
	if (n == 0)
		reply_error(out, "no such SA");
	else
		sb_printf(out, "{\"ok\":true,\"deleted\":%u}\n", n);
}

/* NDIS UPDATE_SA: queued for the SA's transport, the window's only writer. */
static void
cmd_update_esn(struct rxsec_control_ctx *ctx, char *args, struct sbuf *out)
{
	struct sbuf why = {0};
	struct sa_ref r;
	struct rxsec_sa *sa;

	if (parse_ref(args, &update_esn_syntax, &r, &why) != 0) {
		reply_error(out, why.p ? why.p : "bad request");
		free(why.p);
		return;
	}
	rte_spinlock_lock(ctx->lock);
	sa = rxsec_sa_table_find(ctx->sat, &r.key);
	if (sa != NULL && sa->esn) {
		rxsec_sa_table_pin(ctx->sat, sa);	/* its owner applies it */
		__atomic_store_n(&sa->esn_hi_req, 1ull << 32 | r.hi, __ATOMIC_RELEASE);
		__atomic_add_fetch(&ctx->sat->esn_req_seq, 1, __ATOMIC_RELEASE);
	}
	rte_spinlock_unlock(ctx->lock);
	if (sa == NULL)
		reply_error(out, "no such SA");
	else if (!sa->esn)
		reply_error(out, "SA has no ESN (flag esn)");
	else
		sb_printf(out, "{\"ok\":true,\"spi\":\"0x%08x\",\"seq_hi\":%" PRIu64
			  ",\"queued\":true}\n", sa->spi, r.hi);
}

static void
cmd_stats(struct rxsec_control_ctx *ctx, char *args, struct sbuf *out)
{
	struct sbuf why = {0};
	struct sa_ref r;
	struct rxsec_sa *sa;

	rte_spinlock_lock(ctx->lock);
	if (strspn(args, " \t\n") == strlen(args)) {
		sb_printf(out, "{\"ok\":true,");
		json_totals(out, ctx);
		sb_printf(out, "}\n");
	} else if (parse_ref(args, &stats_syntax, &r, &why) != 0) {
		reply_error(out, why.p ? why.p : "bad request");
	} else if ((sa = rxsec_sa_table_find(ctx->sat, &r.key)) == NULL) {
		reply_error(out, "no such SA");
	} else {
		sb_printf(out, "{\"ok\":true,\"sa\":");
		json_sa(out, sa, "live");
		sb_printf(out, "}\n");
	}
	rte_spinlock_unlock(ctx->lock);
	free(why.p);
}

static void
control_handle(struct rxsec_control *c, char *req, struct sbuf *out)
{
	char *args = req + strcspn(req, " \t\n");

	if (*args != '\0')
		*args++ = '\0';
	if (strcmp(req, "add") == 0) {
		cmd_add(c->ctx, args, out);
	} else if (strcmp(req, "del") == 0) {
		cmd_del(c->ctx, args, out);
	} else if (strcmp(req, "update-esn") == 0) {
		cmd_update_esn(c->ctx, args, out);
	} else if (strcmp(req, "list") == 0 && args[strspn(args, " \t\n")] != '\0') {
		reply_error(out, "list takes no words after it");
	} else if (strcmp(req, "list") == 0) {
		rte_spinlock_lock(c->ctx->lock);
		sb_printf(out, "{\"ok\":true,");
		json_list(out, c->ctx->sat);
		sb_printf(out, "}\n");
		rte_spinlock_unlock(c->ctx->lock);
	} else if (strcmp(req, "stats") == 0) {
		cmd_stats(c->ctx, args, out);
	} else {
		reply_error(out, "unknown command (add, del, update-esn, list, stats)");
	}
}

/* ------------------------------------------------------------------ */
/* Socket                                                               */
/* ------------------------------------------------------------------ */

static void
conn_close(struct conn *k)
{
	close(k->fd);
	free(k->req.p);
	free(k->out.p);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

/* The reply goes out as the client reads it, never waiting on the client:
 * until it is all sent or the connection's time is up. */
static void
conn_write(struct conn *k, uint64_t now)
{
	while (k->sent < k->out.len) {
		ssize_t n = send(k->fd, k->out.p + k->sent, k->out.len - k->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			k->sent += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
		    now < k->deadline)
			return;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			RTE_LOG(NOTICE, RXSEC, "control: a client did not read its reply "
				"within %d s: closed\n", CONN_TIMEOUT_S);
		break;
	}
	conn_close(k);
}

/* From here on the connection sends out, with a fresh time allowance. */
static void
conn_reply(struct conn *k, uint64_t now)
{
	if (k->out.oom) {
		k->out.len = 0;
		k->out.oom = 0;
		reply_error(&k->out, "out of memory");
	}
	k->replying = 1;
	k->deadline = now + CONN_TIMEOUT_S * rte_get_timer_hz();
	conn_write(k, now);
}

static void
conn_serve(struct rxsec_control *c, struct conn *k, uint64_t now)
{
	k->req.p[k->req.len] = '\0';
	/* Parsed as a C string, text after a NUL would be ignored unseen. */
	if (memchr(k->req.p, '\0', k->req.len) != NULL)
		reply_error(&k->out, "request holds a NUL byte: not text");
	else
		control_handle(c, k->req.p, &k->out);
	conn_reply(k, now);
}

static void
conn_refuse(struct conn *k, const char *why, uint64_t now)
{
	reply_error(&k->out, why);
	conn_reply(k, now);
}

/* Room for at least 4 KiB more and a NUL; -1 if memory ran out. */
static int
conn_req_room(struct conn *k)
{
	size_t cap;
	char *p;

	if (k->req.cap - k->req.len >= 4096)
		return 0;
	cap = k->req.cap ? k->req.cap * 2 : 8192;
	p = realloc(k->req.p, cap);
	if (p == NULL)
		return -1;
	k->req.p = p;
	k->req.cap = cap;
	return 0;
}

/* A request ends when its client shuts down its sending side and waits for
 * the reply. One whose client closed the connection instead (a killed
 * rxsec-ctl: to recv the kernel's close looks the same) may be cut short,
 * "del spi 0x10" of "del spi 0x1000": it is not run. */
static bool
conn_peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

/* End of the request's bytes: served, unless the client went away. */
static void
conn_ended(struct rxsec_control *c, struct conn *k, uint64_t now)
{
	if (!conn_peer_gone(k->fd)) {
		conn_serve(c, k, now);
		return;
	}
	RTE_LOG(NOTICE, RXSEC, "control: a client closed the connection instead of "
		"ending its request (%zu bytes): not run\n", k->req.len);
	conn_close(k);
}

/* Read what is there; serve once the client closed its sending side. */
static void
conn_read(struct rxsec_control *c, struct conn *k, uint64_t now)
{
	for (;;) {
		ssize_t n;

		if (k->req.len + 1 >= RXSEC_CONTROL_REQUEST_MAX) {
			conn_refuse(k, "request too large (at most "
				    RXSEC_CONTROL_REQUEST_MAX_TEXT ")", now);
			return;
		}
		if (conn_req_room(k) != 0) {
			conn_refuse(k, "out of memory", now);
			return;
		}
		n = recv(k->fd, k->req.p + k->req.len, k->req.cap - k->req.len - 1, MSG_DONTWAIT);
		if (n > 0) {
			k->req.len += (size_t)n;
			continue;
		}
		if (n == 0)
			conn_ended(c, k, now);
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_close(k);
		else if (now >= k->deadline)
			conn_refuse(k, "request not ended within " RTE_STR(CONN_TIMEOUT_S)
				    " s (a request ends when the client shuts down its "
				    "sending side)", now);
		return;
	}
}

/* The slot of the client silent longest, CONN_SILENT_MS at least; NULL if
 * every client sent something or came just now. */
static struct conn *
conn_silent(struct rxsec_control *c, uint64_t now)
{
	uint64_t quiet = CONN_SILENT_MS * rte_get_timer_hz() / 1000;
	struct conn *v = NULL;

	for (unsigned int i = 0; i < CONN_MAX; i++) {
		struct conn *k = &c->conn[i];

		if (k->fd < 0 || k->replying || k->req.len != 0 || now - k->since < quiet)
			continue;
		if (v == NULL || k->since < v->since)
			v = k;
	}
	return v;
}

/* Its error in one try, as the slot is needed now. */
static void
conn_crowd_out(struct conn *k)
{
	reply_error(&k->out, "crowded out: nothing sent within " RTE_STR(CONN_SILENT_MS)
		    " ms while other clients waited");
	/* A client gone or not reading just misses the reason. */
	if (!k->out.oom &&
	    send(k->fd, k->out.p, k->out.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		RTE_LOG(DEBUG, RXSEC, "control: crowded-out client: %s\n", strerror(errno));
	conn_close(k);
}

static void
conn_open(struct conn *k, int fd, uint64_t now)
{
	k->fd = fd;
	k->since = now;
	k->deadline = now + CONN_TIMEOUT_S * rte_get_timer_hz();
}

/* Take waiting connections into free slots, then into the slots of silent
 * clients; how many were taken. */
static unsigned int
control_accept(struct rxsec_control *c, uint64_t now)
{
	unsigned int taken = 0;
	struct conn *k;
	int fd;

	for (unsigned int i = 0; i < CONN_MAX; i++) {
		k = &c->conn[i];
		if (k->fd >= 0)
			continue;
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return taken;
		conn_open(k, fd, now);
		taken++;
	}
	while ((k = conn_silent(c, now)) != NULL) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		conn_crowd_out(k);
		conn_open(k, fd, now);
		taken++;
	}
	return taken;
}

void
rxsec_control_poll(struct rxsec_control *c)
{
	if (c == NULL)
		return;
	/* A few rounds while clients keep coming, so a client's loop of short
	 * requests is not held to one request per housekeeping period. */
	for (int round = 0; round < 8; round++) {
		uint64_t now = rte_get_timer_cycles();
		unsigned int taken = control_accept(c, now);

		for (unsigned int i = 0; i < CONN_MAX; i++) {
			struct conn *k = &c->conn[i];

			if (k->fd < 0)
				continue;
			if (k->replying)
				conn_write(k, now);
			else
				conn_read(c, k, now);
		}
		if (taken == 0)
			return;
	}
}

/* May path be bound? A socket nobody listens on is left by an earlier run
 * and goes; one that answers belongs to a running process (another rxsec
 * on the same path would take it over, and remove it at exit). Any other
 * file stays. Returns 0, or -1 after saying why not. */
static int
control_path_free(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "rxsec: --control %s: exists and is not a socket\n", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	live = fd >= 0 && connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	if (fd >= 0)
		close(fd);
	if (live) {
		fprintf(stderr, "rxsec: --control %s: in use: a running process (another "
			"rxsec?) listens on it\n", path);
		return -1;
	}
	unlink(path);
	return 0;
}

/* The temporary name's ".PID" (a pid has at most 7 digits on Linux). */
#define CONTROL_TMP_SUFFIX 8

/* A listening socket bound to sun (owner only), or -1 with errno set. */
static int
control_listen_at(const struct sockaddr_un *sun)
{
	mode_t old_mask;
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* The socket takes keys and deletes SAs: owner only. */
	old_mask = umask(0077);
	err = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old_mask);
	if (err != 0 || listen(fd, 16) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Bind and listen under a temporary name, then link it to path: the path
 * appears only once connects to it succeed (a client that waits for the
 * file would otherwise meet "Connection refused" between bind and listen),
 * and link, unlike rename, fails if another process made path meanwhile.
 * Returns the socket, or -1 after saying why. */
static int
control_listen(const char *path, struct stat *st)
{
	struct sockaddr_un tmp = { .sun_family = AF_UNIX };
	int fd;

	/* the caller checked that the ".PID" fits */
	snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.%d", path, (int)getpid());
	/* a socket left by a killed process of our pid; any other file stays
	 * and bind fails on it */
	if (lstat(tmp.sun_path, st) == 0 && S_ISSOCK(st->st_mode))
		unlink(tmp.sun_path);
	fd = control_listen_at(&tmp);
	if (fd < 0) {
		fprintf(stderr, "rxsec: --control %s: listening as %s: %s\n",
			path, tmp.sun_path, strerror(errno));
		return -1;
	}
	if (link(tmp.sun_path, path) != 0 || lstat(path, st) != 0) {
		fprintf(stderr, "rxsec: --control %s: %s\n", path, strerror(errno));
		unlink(tmp.sun_path);
		close(fd);
		return -1;
	}
	unlink(tmp.sun_path);
	return fd;
}

struct rxsec_control *
rxsec_control_open(const char *path, struct rxsec_control_ctx *ctx)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	struct rxsec_control *c;
	struct stat st;

	if (len + CONTROL_TMP_SUFFIX >= sizeof(sun.sun_path)) {
		fprintf(stderr, "rxsec: --control: path too long (at most %zu bytes): %s\n",
			sizeof(sun.sun_path) - CONTROL_TMP_SUFFIX - 1, path);
		return NULL;
	}
	memcpy(sun.sun_path, path, len + 1);
	if (control_path_free(path, &sun) != 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->ctx = ctx;
	for (unsigned int i = 0; i < CONN_MAX; i++)
		c->conn[i].fd = -1;
	memcpy(c->path, path, len + 1);
	c->lfd = control_listen(path, &st);
	if (c->lfd < 0) {
		free(c);
		return NULL;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return c;
}

void
rxsec_control_close(struct rxsec_control *c)
{
	struct stat st;

	if (c == NULL)
		return;
	for (unsigned int i = 0; i < CONN_MAX; i++)
		if (c->conn[i].fd >= 0)
			conn_close(&c->conn[i]);
	close(c->lfd);
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}

/* Main lcore housekeeping: reclaim deleted SAs past their grace period,
 * check lifetimes, then serve the control socket. */
void
rxsec_control_housekeeping(struct rxsec_control_ctx *ctx, struct rxsec_control *c)
{
	struct rxsec_lifetime_events ev = {0};

	rte_spinlock_lock(ctx->lock);
	rxsec_sa_table_reclaim(ctx->sat);
	rxsec_lifetime_scan(ctx->sat, rte_get_timer_cycles(), &ev);
	rte_spinlock_unlock(ctx->lock);
	ctx->soft_expired += ev.soft_expired;
	ctx->hard_expired += ev.hard_expired;
	/* Also in the stage counter the final report prints (no stage writes it). */
	if (ev.soft_expired && ctx->nb_tr)
		__atomic_add_fetch(&ctx->tr[0]->stats.soft_expired, ev.soft_expired,
				   __ATOMIC_RELAXED);
	rxsec_control_poll(c);
}
