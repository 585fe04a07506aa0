/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "telemetry.h"

/* NULL once the stages are gone; tel_lock keeps them while a call runs. */
static struct rxsec_control_ctx *tel_ctx;
static rte_spinlock_t tel_lock = RTE_SPINLOCK_INITIALIZER;

typedef int (*tel_fn)(struct rxsec_control_ctx *ctx, const char *params,
		      struct rte_tel_data *d);

/* DPDK's telemetry thread calls in at any time, also during shutdown. */
static int
tel_guarded(tel_fn fn, const char *params, struct rte_tel_data *d)
{
	int rc = -ENODEV;

	rte_spinlock_lock(&tel_lock);
	if (tel_ctx != NULL)
		rc = fn(tel_ctx, params, d);
	rte_spinlock_unlock(&tel_lock);
	return rc;
}

static int
tel_stats(struct rxsec_control_ctx *ctx, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	const struct rxsec_sa_table *t = ctx->sat;
	struct rxsec_engine_stats es;
	struct rxsec_transport_stats ts;

	rxsec_control_totals(ctx, &es, &ts);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "engine_rx", es.rx);
	rte_tel_data_add_dict_u64(d, "engine_crypto_done", es.crypto_done);
	rte_tel_data_add_dict_u64(d, "engine_unprocessed", es.unprocessed);
	rte_tel_data_add_dict_u64(d, "engine_sa_delete_req", es.sa_delete_req);
	rte_tel_data_add_dict_u64(d, "engine_backpressure", es.ring_full);
	for (int k = 0; k < RXSEC_CRYPTO_STATUS_MAX; k++)
		rte_tel_data_add_dict_u64(d, rxsec_crypto_status_name((enum rxsec_crypto_status)k),
					  es.status[k]);
	rte_tel_data_add_dict_u64(d, "rx", ts.rx);
	rte_tel_data_add_dict_u64(d, "delivered", ts.delivered);
	rte_tel_data_add_dict_u64(d, "delivered_bytes", ts.delivered_bytes);
	rte_tel_data_add_dict_u64(d, "dropped", rxsec_transport_dropped(&ts));
	rte_tel_data_add_dict_u64(d, "software", ts.software);
	rte_tel_data_add_dict_u64(d, "sa_deleted", ts.sa_deleted);
	rte_tel_data_add_dict_u64(d, "nested_handed", ts.nested_handed);
	rte_tel_data_add_dict_u64(d, "frag_datagrams", ts.frag.datagrams);
	rte_tel_data_add_dict_u64(d, "frag_discarded", ts.frag.discarded);
	rte_tel_data_add_dict_u64(d, "frag_waiting", ts.frag.waiting);
	rte_tel_data_add_dict_u64(d, "frag_handed_over", ts.handed_over);
	rte_tel_data_add_dict_u64(d, "frag_early", ts.frag.early);
	rte_tel_data_add_dict_u64(d, "frag_early_joined", ts.frag.early_joined);
	rte_tel_data_add_dict_u64(d, "frag_early_dropped", ts.frag.early_dropped);
	/* Drop reasons under their one-table names ("ok" is delivered). */
	for (int r = RXSEC_REASON_OK + 1; r < RXSEC_REASON_MAX; r++)
		rte_tel_data_add_dict_u64(d, rxsec_reason_name((enum rxsec_reason)r), ts.reason[r]);
	rte_tel_data_add_dict_u64(d, "sa_live", t->count);
	rte_tel_data_add_dict_u64(d, "sa_added", t->added);
	rte_tel_data_add_dict_u64(d, "sa_removed", t->removed);
	rte_tel_data_add_dict_u64(d, "sa_reclaimed", t->reclaimed);
	rte_tel_data_add_dict_u64(d, "soft_expired", ctx->soft_expired);
	rte_tel_data_add_dict_u64(d, "hard_expired", ctx->hard_expired);
	rte_tel_data_add_dict_u64(d, "esn_reverified",
				  __atomic_load_n(&t->esn_reverified, __ATOMIC_RELAXED));
	return 0;
}

static void
tel_worker(struct rte_tel_data *w, const struct rxsec_control_ctx *ctx, unsigned int i)
{
	const struct rxsec_engine_stats *s = &ctx->eng[i]->stats;

	rte_tel_data_add_dict_u64(w, "rx", s->rx);
	rte_tel_data_add_dict_u64(w, "crypto_done", s->crypto_done);
	rte_tel_data_add_dict_u64(w, "unprocessed", s->unprocessed);
	rte_tel_data_add_dict_u64(w, "backpressure", s->ring_full);
}

static void
tel_transport(struct rte_tel_data *w, const struct rxsec_control_ctx *ctx, unsigned int i)
{
	const struct rxsec_transport_stats *s = &ctx->tr[i]->stats;

	rte_tel_data_add_dict_u64(w, "rx", s->rx);
	rte_tel_data_add_dict_u64(w, "delivered", s->delivered);
	rte_tel_data_add_dict_u64(w, "delivered_bytes", s->delivered_bytes);
	rte_tel_data_add_dict_u64(w, "dropped", rxsec_transport_dropped(s));
	rte_tel_data_add_dict_u64(w, "software", s->software);
	rte_tel_data_add_dict_u64(w, "nested_handed", s->nested_handed);
	rte_tel_data_add_dict_u64(w, "frag_held", s->frag.held);
	rte_tel_data_add_dict_u64(w, "frag_datagrams", s->frag.datagrams);
	rte_tel_data_add_dict_u64(w, "frag_discarded", s->frag.discarded);
	rte_tel_data_add_dict_u64(w, "frag_waiting", s->frag.waiting);
	rte_tel_data_add_dict_u64(w, "frag_handed_over", s->handed_over);
	rte_tel_data_add_dict_u64(w, "frag_early", s->frag.early);
}

typedef void (*tel_stage_fn)(struct rte_tel_data *w, const struct rxsec_control_ctx *ctx,
			     unsigned int i);

/* One dict "KIND_N" per stage, filled by fill(); d owns each once added. */
static int
tel_add_stages(struct rte_tel_data *d, const char *kind, unsigned int n, tel_stage_fn fill,
	       const struct rxsec_control_ctx *ctx)
{
	for (unsigned int i = 0; i < n; i++) {
		struct rte_tel_data *w = rte_tel_data_alloc();
		char name[32];

		if (w == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(w);
		fill(w, ctx, i);
		snprintf(name, sizeof(name), "%s_%u", kind, i);
		if (rte_tel_data_add_dict_container(d, name, w, 0) != 0) {
			rte_tel_data_free(w);
			return -ENOSPC;
		}
	}
	return 0;
}

/* One dict per worker ("worker_N") and per transport stage
 * ("transport_N"): telemetry nests containers one level deep only. */
static int
tel_stages(struct rxsec_control_ctx *ctx, const char *params __rte_unused,
	   struct rte_tel_data *d)
{
	int rc;

	rte_tel_data_start_dict(d);
	rc = tel_add_stages(d, "worker", ctx->nb_eng, tel_worker, ctx);
	return rc != 0 ? rc : tel_add_stages(d, "transport", ctx->nb_tr, tel_transport, ctx);
}

static int
tel_sa_list(struct rxsec_control_ctx *ctx, const char *params __rte_unused,
	    struct rte_tel_data *d)
{
	const struct rxsec_sa_table *t = ctx->sat;
	unsigned int n = 0;

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	rte_spinlock_lock(ctx->lock);
	for (uint32_t i = 0; i < t->capacity && n < RTE_TEL_MAX_ARRAY_ENTRIES; i++) {
		const struct rxsec_sa *sa = t->slot[i];
		char s[RTE_TEL_MAX_STRING_LEN], dst[64];

		if (sa == NULL)
			continue;
		snprintf(s, sizeof(s), "0x%08x %s %s", sa->spi,
			 sa->proto == RXSEC_PROTO_AH ? "ah" : "esp",
			 rxsec_addr_str(&sa->cfg.dst, dst, sizeof(dst)));
		rte_tel_data_add_array_string(d, s);
		n++;
	}
	rte_spinlock_unlock(ctx->lock);
	return 0;
}

static void
tel_sa(struct rte_tel_data *d, const struct rxsec_sa *sa)
{
	uint64_t top = rxsec_replay_top(&sa->replay);
	char buf[64];

	rte_tel_data_start_dict(d);
	snprintf(buf, sizeof(buf), "0x%08x", sa->spi);
	rte_tel_data_add_dict_string(d, "spi", buf);
	rte_tel_data_add_dict_string(d, "proto", sa->proto == RXSEC_PROTO_AH ? "ah" : "esp");
	rte_tel_data_add_dict_string(d, "src", rxsec_addr_str(&sa->cfg.src, buf, sizeof(buf)));
	rte_tel_data_add_dict_string(d, "dst", rxsec_addr_str(&sa->cfg.dst, buf, sizeof(buf)));
	rte_tel_data_add_dict_u64(d, "reqid", sa->cfg.reqid);
	if (rxsec_sa_dir_name(sa->cfg.dir) != NULL)	/* absent: no direction */
		rte_tel_data_add_dict_string(d, "dir", rxsec_sa_dir_name(sa->cfg.dir));
	rte_tel_data_add_dict_string(d, "enc", rxsec_cipher_alg_name(sa->cfg.cipher));
	rte_tel_data_add_dict_string(d, "auth", rxsec_auth_alg_name(sa->cfg.auth));
	rte_tel_data_add_dict_u64(d, "icv_bits", sa->cfg.icv_len * 8u);
	rte_tel_data_add_dict_u64(d, "esn", sa->esn);
	rte_tel_data_add_dict_u64(d, "replay_window", sa->window);
	rte_tel_data_add_dict_u64(d, "seq", top);
	rte_tel_data_add_dict_u64(d, "seq_hi", top >> 32);
	rte_tel_data_add_dict_u64(d, "life_packets", sa->life_packets);
	rte_tel_data_add_dict_u64(d, "life_bytes", sa->life_bytes);
	rte_tel_data_add_dict_u64(d, "soft_expired", sa->soft_expired);
	rte_tel_data_add_dict_u64(d, "delivered", sa->delivered);
	rte_tel_data_add_dict_u64(d, "delivered_bytes", sa->delivered_bytes);
	for (int r = RXSEC_REASON_OK + 1; r < RXSEC_REASON_MAX; r++)
		rte_tel_data_add_dict_u64(d, rxsec_reason_name((enum rxsec_reason)r), sa->drops[r]);
}

/* "SPI[,DST][,esp|ah]": the protocol is part of an SA's identity (RFC 4301
 * 4.1), so an ESP and an AH SA may share SPI and destination; it may be
 * named, as in rxsec-ctl's "stats spi N dst ADDR proto ah". */
struct tel_sa_ref {
	uint32_t spi;
	uint8_t proto;			/* 0: either */
	struct rxsec_addr dst;		/* family 0: any */
};

static int
tel_sa_ref_parse(const char *params, struct tel_sa_ref *r)
{
	char p[128], *rest = p, *w, *end;
	unsigned long spi;

	memset(r, 0, sizeof(*r));
	if (params == NULL || strlen(params) >= sizeof(p))
		return -EINVAL;
	snprintf(p, sizeof(p), "%s", params);
	w = strsep(&rest, ",");
	errno = 0;
	spi = strtoul(w, &end, 0);
	if (errno != 0 || end == w || *end != '\0' || w[0] == '-' || spi > UINT32_MAX)
		return -EINVAL;
	r->spi = (uint32_t)spi;
	/* strsep, not strtok: an empty field ("0x1,,ah") is an error */
	while ((w = strsep(&rest, ",")) != NULL) {
		if (r->proto == 0 && strcmp(w, "esp") == 0)
			r->proto = RXSEC_PROTO_ESP;
		else if (r->proto == 0 && strcmp(w, "ah") == 0)
			r->proto = RXSEC_PROTO_AH;
		else if (r->dst.family != 0 || rxsec_addr_parse(w, &r->dst) != 0)
			return -EINVAL;
	}
	return 0;
}

static bool
tel_sa_ref_match(const struct tel_sa_ref *r, const struct rxsec_sa *sa)
{
	return sa->spi == r->spi && (r->proto == 0 || sa->proto == r->proto) &&
		(r->dst.family == 0 || memcmp(&r->dst, &sa->cfg.dst, sizeof(r->dst)) == 0);
}

/* Without a protocol ESP is preferred, as rxsec-ctl's default is esp; the
 * reply names the protocol of the SA it describes. */
static int
tel_sa_stats(struct rxsec_control_ctx *ctx, const char *params, struct rte_tel_data *d)
{
	const struct rxsec_sa_table *t = ctx->sat;
	const struct rxsec_sa *found = NULL;
	struct tel_sa_ref r;
	int rc = tel_sa_ref_parse(params, &r);

	if (rc != 0)
		return rc;
	rte_spinlock_lock(ctx->lock);
	for (uint32_t i = 0; i < t->capacity; i++) {
		const struct rxsec_sa *sa = t->slot[i];

		if (sa == NULL || !tel_sa_ref_match(&r, sa))
			continue;
		if (found == NULL || sa->proto == RXSEC_PROTO_ESP)
			found = sa;
		if (found->proto == RXSEC_PROTO_ESP)
			break;
	}
	if (found != NULL)
		tel_sa(d, found);
	rte_spinlock_unlock(ctx->lock);
	return found != NULL ? 0 : -ENOENT;
}

static int
tel_cmd_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	return tel_guarded(tel_stats, params, d);
}

static int
tel_cmd_stages(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	return tel_guarded(tel_stages, params, d);
}

static int
tel_cmd_sa_list(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	return tel_guarded(tel_sa_list, params, d);
}

static int
tel_cmd_sa_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	return tel_guarded(tel_sa_stats, params, d);
}

int
rxsec_telemetry_register(struct rxsec_control_ctx *ctx)
{
	rte_spinlock_lock(&tel_lock);
	tel_ctx = ctx;
	rte_spinlock_unlock(&tel_lock);
	if (rte_telemetry_register_cmd("/rxsec/stats", tel_cmd_stats,
			"rxsec totals: engine, transport, drop reasons, SA table. No parameters") != 0 ||
	    rte_telemetry_register_cmd("/rxsec/stages", tel_cmd_stages,
			"Per worker and per transport stage counters. No parameters") != 0 ||
	    rte_telemetry_register_cmd("/rxsec/sa/list", tel_cmd_sa_list,
			"Live SAs as \"0xSPI proto dst\". No parameters") != 0 ||
	    rte_telemetry_register_cmd("/rxsec/sa/stats", tel_cmd_sa_stats,
			"One SA's counters. Parameters: SPI[,DST][,esp|ah]") != 0)
		return -1;
	return 0;
}

void
rxsec_telemetry_unregister(void)
{
	rte_spinlock_lock(&tel_lock);
	tel_ctx = NULL;
	rte_spinlock_unlock(&tel_lock);
}
