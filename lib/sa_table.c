/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "capability.h"
#include "natt_ports.h"
#include "rxsec_crypto.h"
#include "sa_table.h"
#include "selector.h"

static void
table_release(struct rxsec_sa_table *t)
{
	rte_free(t->slot);
	rte_free(t->slot_busy);
	rte_free(t->slot_gen);
	rte_free(t->gone);
	rte_free(t->pending);
	rte_free(t->qsbr);
	rte_hash_free(t->hash);
	memset(t, 0, sizeof(*t));
}

int
rxsec_sa_table_create(struct rxsec_sa_table *t, const char *name,
		      uint32_t capacity, int socket,
		      const struct rxsec_crypto_driver *drv)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = capacity < 8 ? 8 : capacity,
		.key_len = sizeof(struct rxsec_sa_key),
		.hash_func = rte_hash_crc,	/* SSE4.2 CRC32: a few cycles per key */
		.socket_id = socket,
		/* Engines read while the control plane adds and deletes; key
		 * slots are freed by us after the RCU grace period. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	size_t qsz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);

	memset(t, 0, sizeof(*t));
	if (capacity > RXSEC_SA_SLOT_MASK)
		return -EINVAL;
	t->hash = rte_hash_create(&p);
	if (t->hash == NULL)	/* rte_errno is not always set on a failed allocation */
		return rte_errno == EEXIST ? -EEXIST : -ENOMEM;
	t->slot = rte_zmalloc_socket("rxsec_sa_slots", sizeof(*t->slot) * capacity, 0, socket);
	t->slot_busy = rte_zmalloc_socket("rxsec_sa_busy", capacity, 0, socket);
	t->slot_gen = rte_zmalloc_socket("rxsec_sa_gen", capacity, 0, socket);
	t->gone = rte_zmalloc_socket("rxsec_sa_gone", sizeof(*t->gone) * RXSEC_SA_GONE_MAX,
				     0, socket);
	t->pending = rte_zmalloc_socket("rxsec_sa_pending", sizeof(*t->pending) * capacity,
					0, socket);
	t->qsbr = rte_zmalloc_socket("rxsec_sa_qsbr", qsz, RTE_CACHE_LINE_SIZE, socket);
	if (t->slot == NULL || t->slot_busy == NULL || t->slot_gen == NULL ||
	    t->gone == NULL || t->pending == NULL || t->qsbr == NULL ||
	    rte_rcu_qsbr_init(t->qsbr, RTE_MAX_LCORE) != 0) {
		table_release(t);
		return -ENOMEM;
	}
	t->capacity = capacity;
	t->socket = socket;
	t->nb_transports = 1;
	t->nest_transport = -1;
	t->drv = drv;
	return 0;
}

int
rxsec_sa_table_reader_register(struct rxsec_sa_table *t, unsigned int lcore)
{
	if (rte_rcu_qsbr_thread_register(t->qsbr, lcore) != 0)
		return -1;
	rte_rcu_qsbr_thread_online(t->qsbr, lcore);
	return 0;
}

void
rxsec_sa_table_reader_unregister(struct rxsec_sa_table *t, unsigned int lcore)
{
	rte_rcu_qsbr_thread_offline(t->qsbr, lcore);
	rte_rcu_qsbr_thread_unregister(t->qsbr, lcore);
}

void
rxsec_sa_destroy(struct rxsec_sa_table *t, struct rxsec_sa *sa)
{
	if (sa == NULL)
		return;
	if (sa->csa != NULL)
		t->drv->sa_free(sa->csa);
	rxsec_natt_port_release(sa->natt_port);
	explicit_bzero(&sa->cfg, sizeof(sa->cfg));	/* keys */
	rte_free(sa);
}

void
rxsec_sa_table_free(struct rxsec_sa_table *t)
{
	for (uint32_t i = 0; i < t->capacity && t->slot != NULL; i++)
		rxsec_sa_destroy(t, t->slot[i]);
	for (uint32_t i = 0; i < t->nb_pending; i++)
		rxsec_sa_destroy(t, t->pending[i].sa);
	for (uint32_t i = 0; i < t->nb_gone; i++)
		rxsec_sa_destroy(t, t->gone[i]);
	table_release(t);
}

void
rxsec_sa_key_from_config(struct rxsec_sa_key *k, const struct rxsec_sa_config *c)
{
	memset(k, 0, sizeof(*k));
	k->spi = rte_cpu_to_be_32(c->spi);
	k->proto = c->proto;
	k->family = c->dst.family;
	memcpy(k->dst, c->dst.bytes, sizeof(k->dst));
	if (c->dir == RXSEC_SA_DIR_OUT)
		k->pad = RXSEC_SA_KEY_OUTBOUND;
}

/* Did the dump's bitmap record number top - d as received? */
static bool
dump_bmp_seen(const struct rxsec_sa_config *c, uint64_t top, uint32_t d)
{
	uint32_t pos;

	if (c->replay_bmp_layout == RXSEC_SA_BMP_WORD)
		return d < 32 && (c->replay_bmp[0] >> d & 1u);
	if (c->replay_bmp_layout != RXSEC_SA_BMP_RING || d >= c->replay_bmp_window)
		return false;
	pos = ((uint32_t)(top - d) - 1u) % c->replay_bmp_window;	/* the kernel's u32 */
	return c->replay_bmp[pos >> 5] >> (pos & 31) & 1u;
}

/* An SA taken over from a live kernel SA (a dump with its anti-replay
 * context) keeps what that SA had received: the numbers its bitmap marks,
 * its top among them, stay replays here, else the handover would accept up
 * to a window's worth of replayed packets. A top the bitmap does not mark
 * (replay-seq in an add line) is not one, as in Linux. */
static void
sa_replay_import(struct rxsec_replay *r, const struct rxsec_sa_config *c)
{
	uint64_t top = r->top;

	RTE_BUILD_BUG_ON(RXSEC_SA_BMP_WORDS * 32 < RXSEC_REPLAY_WINDOW_MAX);
	if (r->window == 0 || top == 0)
		return;
	for (uint32_t d = 0; d < r->window && d < top; d++)
		if (dump_bmp_seen(c, top, d))
			rxsec_replay_update(r, top - d);
}

static void
sa_derive(struct rxsec_sa *sa, const struct rxsec_sa_config *c)
{
	/* whole, padding too: rxsec_sa_table_sync compares configs bytewise */
	memcpy(&sa->cfg, c, sizeof(sa->cfg));
	sa->spi = c->spi;
	sa->proto = c->proto;
	sa->mode = c->mode;
	sa->esn = c->esn;
	sa->offload = 1;
	sa->iv_len = rxsec_crypto_iv_len(c->cipher);
	sa->icv_len = c->icv_len;
	sa->icv_full_len = (uint8_t)rxsec_auth_full_len(c->auth);
	sa->block_len = rxsec_crypto_block_len(c->cipher);
	sa->window = c->replay_window > RXSEC_REPLAY_WINDOW_MAX ?
		RXSEC_REPLAY_WINDOW_MAX : c->replay_window;
	sa->packet_hard = c->packet_hard;
	sa->byte_hard = c->byte_hard;
	sa->packet_soft = c->packet_soft;
	sa->byte_soft = c->byte_soft;
	sa->has_hard_limit = c->packet_hard != RXSEC_LIMIT_INF ||
		c->byte_hard != RXSEC_LIMIT_INF ||
		c->packet_soft != RXSEC_LIMIT_INF ||
		c->byte_soft != RXSEC_LIMIT_INF ||
		c->use_soft_sec != RXSEC_LIMIT_INF ||
		c->use_hard_sec != RXSEC_LIMIT_INF;	/* first use is seen by counting */
	if (c->proto == RXSEC_PROTO_AH)
		sa->auth_failed_status = c->mode == RXSEC_MODE_TUNNEL ?
			RXSEC_CRYPTO_TUNNEL_AH_AUTH_FAILED :
			RXSEC_CRYPTO_TRANSPORT_AH_AUTH_FAILED;
	else
		sa->auth_failed_status = c->mode == RXSEC_MODE_TUNNEL ?
			RXSEC_CRYPTO_TUNNEL_ESP_AUTH_FAILED :
			RXSEC_CRYPTO_TRANSPORT_ESP_AUTH_FAILED;
	rxsec_replay_init(&sa->replay, sa->window, c->esn,
			  ((uint64_t)c->seq_hi << 32) | c->seq);
	sa_replay_import(&sa->replay, c);
	sa->sel_check = !rxsec_selector_is_wild(c);
	/* Linux decapsulates with the mode of the selector's family: an inner
	 * packet of the other version fails (XfrmInStateModeError), /0 or not.
	 * flag af-unspec leaves the selector without a family. */
	if (c->mode == RXSEC_MODE_TUNNEL && c->has_sel)
		sa->inner_nh = c->sel_src.family == 6 ? 41 : 4;
	sa->ds_mode = (c->flags & RXSEC_SA_FLAG_NOECN ? 0 : RXSEC_DS_ECN) |
		(c->flags & RXSEC_SA_FLAG_DECAP_DSCP ? RXSEC_DS_DSCP : 0);
	rxsec_sa_key_from_config(&sa->key, c);
}

/*
 * A nested packet moves two windows: its tunnel's (or AH's) and its
 * transport-mode inner SA's. Both must have one writer, so SAs that may
 * nest with one another share a stage, nest_transport; the others spread
 * by slot, or each takes the stage of the engine that first receives it
 * (claim_on_rx, rxsec_sa_owner). One added later may nest in an SA of
 * another stage: the outer layer's stage then hands such packets to the
 * inner SA's (transport.c), which costs a ring trip and moves the outer
 * window first, as Linux does.
 */

/* Might a packet of `carrier` hold a layer of `inner` (spec rule 5)? The
 * inner layer is a transport-mode SA, in a tunnel's inner packet or, for
 * ESP, right behind transport-mode AH under one IP header. Either way the
 * packet delivered goes to the inner SA's destination, which a tunnel's
 * selector must take (transport_selectors_match) unless the inner SA's
 * flag icmp may rescue an ICMP error. Host-to-host ESP never nests. */
static bool
sa_may_carry(const struct rxsec_sa *carrier, const struct rxsec_sa *inner)
{
	uint8_t family = inner->key.family;

	if (inner->mode != RXSEC_MODE_TRANSPORT || carrier == inner)
		return false;
	if (carrier->mode == RXSEC_MODE_TRANSPORT)
		return carrier->proto == RXSEC_PROTO_AH && inner->proto == RXSEC_PROTO_ESP &&
			carrier->key.family == family &&
			memcmp(carrier->key.dst, inner->key.dst, sizeof(inner->key.dst)) == 0;
	if (carrier->inner_nh != 0 && carrier->inner_nh != (family == 6 ? 41 : 4))
		return false;
	return (inner->cfg.flags & RXSEC_SA_FLAG_ICMP) ||
		rxsec_selector_dst_admits(&carrier->cfg, family, inner->key.dst);
}

static bool
sa_is_carrier(const struct rxsec_sa *sa)
{
	return sa->mode == RXSEC_MODE_TUNNEL || sa->proto == RXSEC_PROTO_AH;
}

/* Beyond this many carrier/inner pairs, loading would take seconds: every
 * transport-mode SA and every carrier is taken to nest. */
#define SA_NEST_PAIRS_MAX	(1u << 24)

/* Mark (mark[id] = 1) every SA that may carry or be carried by another,
 * checking transport-mode SAs against carriers only; ids has room for
 * twice the capacity. */
static void
sa_table_mark_nested(const struct rxsec_sa_table *t, uint32_t *ids, uint8_t *mark)
{
	uint32_t *inner = ids, *carrier = ids + t->capacity, ni = 0, nc = 0;

	for (uint32_t i = 0; i < t->capacity; i++) {
		const struct rxsec_sa *sa = t->slot[i];

		if (sa == NULL)
			continue;
		if (sa->mode == RXSEC_MODE_TRANSPORT)
			inner[ni++] = i;
		if (sa_is_carrier(sa))
			carrier[nc++] = i;
	}
	if ((uint64_t)ni * nc > SA_NEST_PAIRS_MAX) {
		for (uint32_t a = 0; a < ni; a++)
			mark[inner[a]] = 1;
		for (uint32_t b = 0; b < nc; b++)
			mark[carrier[b]] = 1;
		return;
	}
	for (uint32_t a = 0; a < ni; a++)
		for (uint32_t b = 0; b < nc; b++) {
			uint32_t x = inner[a], c = carrier[b];

			if (!(mark[x] && mark[c]) && sa_may_carry(t->slot[c], t->slot[x]))
				mark[x] = mark[c] = 1;
		}
}

static uint8_t
sa_slot_stage(const struct rxsec_sa_table *t, uint32_t slot)
{
	return t->nb_transports > 1 ? (uint8_t)(slot % t->nb_transports) : 0;
}

/* The stage of an SA that nests with none: by slot, or none yet when the
 * engine that first receives it claims one (claim_on_rx). */
static uint8_t
sa_unshared_stage(const struct rxsec_sa_table *t, uint32_t slot)
{
	return t->claim_on_rx && t->nb_transports > 1 ? RXSEC_TRANSPORT_UNSET :
		sa_slot_stage(t, slot);
}

uint8_t
rxsec_sa_table_pin(const struct rxsec_sa_table *t, struct rxsec_sa *sa)
{
	return rxsec_sa_owner(sa, sa_slot_stage(t, sa->id));
}

uint32_t
rxsec_sa_table_assign_transports(struct rxsec_sa_table *t, uint32_t nb_transports)
{
	uint32_t *ids = NULL, n = 0;
	uint8_t *mark = NULL;
	bool share_all = false;

	t->nb_transports = nb_transports;
	t->nest_transport = -1;
	if (nb_transports > 1) {
		ids = calloc(2 * (size_t)t->capacity, sizeof(*ids));
		mark = calloc(t->capacity, sizeof(*mark));
		if (ids != NULL && mark != NULL)
			sa_table_mark_nested(t, ids, mark);
		else
			share_all = true;	/* no memory to tell: the safe placement */
	}
	for (uint32_t i = 0; i < t->capacity; i++) {
		struct rxsec_sa *sa = t->slot[i];

		if (sa == NULL)
			continue;
		if (share_all || (mark != NULL && mark[i])) {
			sa->transport_id = 0;
			n++;
		} else {
			sa->transport_id = sa_unshared_stage(t, i);
		}
	}
	if (n != 0)
		t->nest_transport = 0;
	free(ids);
	free(mark);
	return n;
}

/* The stage an SA added at run time must share with an SA it may nest
 * with: nest_transport, or that SA's if none is shared yet (pinned now if
 * no packet claimed one, racing engines fairly); -1 if none. */
static int32_t
sa_nest_stage_for_added(const struct rxsec_sa_table *t, const struct rxsec_sa *sa)
{
	for (uint32_t i = 0; i < t->capacity && t->nb_transports > 1; i++) {
		struct rxsec_sa *o = t->slot[i];

		if (o == NULL || (!sa_may_carry(o, sa) && !sa_may_carry(sa, o)))
			continue;
		return t->nest_transport >= 0 ? t->nest_transport : rxsec_sa_table_pin(t, o);
	}
	return -1;
}

/* Round robin, so a slot is reused as late as possible. */
static int
free_slot(struct rxsec_sa_table *t)
{
	for (uint32_t k = 0; k < t->capacity; k++) {
		uint32_t i = (t->next_slot + k) % t->capacity;

		if (!t->slot_busy[i]) {
			t->next_slot = (i + 1) % t->capacity;
			return (int)i;
		}
	}
	return -1;
}

int
rxsec_sa_table_add(struct rxsec_sa_table *t, const struct rxsec_sa_config *c,
		   char *err, size_t errlen)
{
	struct rxsec_sa *sa;
	int32_t nest;
	int id, ret;

	/* The high bits of an ESN are inferred from the window (RFC 4303
	 * A2.1): Linux refuses an inbound ESN SA without one. Here too, also
	 * when --replay-window 0 would take it away after the SA file's check.
	 * An outbound SA receives nothing: it needs none. */
	if (c->esn && c->replay_window == 0 && c->dir != RXSEC_SA_DIR_OUT) {
		snprintf(err, errlen, "%s: spi 0x%08x: flag esn needs a replay window "
			 "(--replay-window 0 turns anti-replay off)", c->origin, c->spi);
		return -1;
	}
	id = free_slot(t);
	if (id < 0) {
		snprintf(err, errlen, "%s: SA table full (%u SAs)", c->origin, t->capacity);
		return -1;
	}
	sa = rte_zmalloc_socket("rxsec_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE, t->socket);
	if (sa == NULL)		/* the preferred heap is full: any will do */
		sa = rte_zmalloc("rxsec_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);
	if (sa == NULL) {
		snprintf(err, errlen, "%s: out of memory for SA", c->origin);
		return -1;
	}
	sa_derive(sa, c);
	sa->id = (uint32_t)id;
	sa->handle = (uint32_t)(uint8_t)(t->slot_gen[id] + 1) << RXSEC_SA_SLOT_BITS |
		(uint32_t)id;
	nest = sa_nest_stage_for_added(t, sa);
	sa->transport_id = nest >= 0 ? (uint8_t)nest : sa_unshared_stage(t, sa->id);
	if (t->caps != NULL)
		sa->offload = rxsec_caps_sa_offloadable(t->caps, c);
	sa->add_time = rte_get_timer_cycles();
	if (rxsec_sa_table_find(t, &sa->key) != NULL) {
		snprintf(err, errlen, "%s: SA spi 0x%08x already exists", c->origin, c->spi);
		rte_free(sa);
		return -1;
	}
	ret = t->drv->sa_create(c, &sa->csa, err, errlen);
	if (ret < 0) {
		char why[160];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: spi 0x%08x: %s", c->origin, c->spi, why);
		rte_free(sa);
		return -1;
	}
	if (c->encap && rxsec_natt_port_hold(c->encap_dport) != 0) {
		snprintf(err, errlen, "%s: spi 0x%08x: encap port %u: rxsec listens on at most %u "
			 "ports besides %u", c->origin, c->spi, c->encap_dport,
			 RXSEC_NATT_PORTS_MAX, RXSEC_NATT_PORT);
		rxsec_sa_destroy(t, sa);
		return -1;
	}
	sa->natt_port = c->encap ? c->encap_dport : 0;
	sa->udp_encap = c->encap;
	/* Published fully built: the slot first, then the key engines find. */
	t->slot_gen[id] = (uint8_t)(sa->handle >> RXSEC_SA_SLOT_BITS);
	t->slot_busy[id] = 1;
	__atomic_store_n(&t->slot[id], sa, __ATOMIC_RELEASE);
	ret = rte_hash_add_key_data(t->hash, &sa->key, sa);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot insert SA: %s", c->origin, strerror(-ret));
		__atomic_store_n(&t->slot[id], NULL, __ATOMIC_RELEASE);
		t->slot_busy[id] = 0;
		rxsec_sa_destroy(t, sa);
		return -1;
	}
	if (nest >= 0)
		t->nest_transport = nest;
	t->count++;
	t->added++;
	return id;
}

struct rxsec_sa *
rxsec_sa_table_remove(struct rxsec_sa_table *t, uint32_t id)
{
	struct rxsec_sa *sa = id < t->capacity ? t->slot[id] : NULL;
	struct rxsec_sa_pending *p;

	if (sa == NULL)
		return NULL;
	p = &t->pending[t->nb_pending++];
	p->sa = sa;
	p->key_pos = rte_hash_del_key(t->hash, &sa->key);
	__atomic_store_n(&t->slot[id], NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&t->remove_epoch, t->remove_epoch + 1, __ATOMIC_RELEASE);
	/* Readers that saw the SA have not yet reported this token. */
	p->token = rte_rcu_qsbr_start(t->qsbr);
	t->count--;
	t->removed++;
	return sa;
}

/* Keep a reclaimed SA's counters for reports; its keys are wiped. */
static void
sa_retire(struct rxsec_sa_table *t, struct rxsec_sa *sa)
{
	if (sa->csa != NULL)
		t->drv->sa_free(sa->csa);
	sa->csa = NULL;
	memset(sa->cfg.cipher_key, 0, sizeof(sa->cfg.cipher_key));
	memset(sa->cfg.auth_key, 0, sizeof(sa->cfg.auth_key));
	if (t->nb_gone == RXSEC_SA_GONE_MAX)
		rxsec_sa_destroy(t, t->gone[t->gone_next]);
	else
		t->nb_gone++;
	t->gone[t->gone_next] = sa;
	t->gone_next = (t->gone_next + 1) % RXSEC_SA_GONE_MAX;
}

unsigned int
rxsec_sa_table_reclaim(struct rxsec_sa_table *t)
{
	unsigned int done = 0;
	uint32_t keep = 0;

	for (uint32_t i = 0; i < t->nb_pending; i++) {
		struct rxsec_sa_pending *p = &t->pending[i];

		if (rte_rcu_qsbr_check(t->qsbr, p->token, false) != 1) {
			t->pending[keep++] = *p;
			continue;
		}
		if (p->key_pos >= 0)
			rte_hash_free_key_with_position(t->hash, p->key_pos);
		t->slot_busy[p->sa->id] = 0;
		sa_retire(t, p->sa);
		done++;
	}
	t->nb_pending = keep;
	t->reclaimed += done;
	return done;
}

struct rxsec_sa *
rxsec_sa_table_find(const struct rxsec_sa_table *t, const struct rxsec_sa_key *k)
{
	struct rxsec_sa_key in = *k, out = *k;
	void *data;

	in.pad = 0;
	out.pad = RXSEC_SA_KEY_OUTBOUND;
	if (rte_hash_lookup_data(t->hash, &in, &data) >= 0 ||
	    rte_hash_lookup_data(t->hash, &out, &data) >= 0)
		return data;
	return NULL;
}

struct rxsec_sa *
rxsec_sa_table_find_pair(const struct rxsec_sa_table *t, const struct rxsec_sa *sa)
{
	for (uint32_t i = 0; i < t->capacity; i++) {
		struct rxsec_sa *o = t->slot[i];

		if (o == NULL || o == sa || o->cfg.reqid != sa->cfg.reqid ||
		    o->proto != sa->proto)
			continue;
		if (memcmp(&o->cfg.src, &sa->cfg.dst, sizeof(o->cfg.src)) == 0 &&
		    memcmp(&o->cfg.dst, &sa->cfg.src, sizeof(o->cfg.dst)) == 0)
			return o;
	}
	return NULL;
}

void
rxsec_sa_table_lookup_bulk(const struct rxsec_sa_table *t,
			   const struct rxsec_sa_key **keys, uint32_t n,
			   struct rxsec_sa **sas)
{
	uint64_t hits = 0;
	void *data[RTE_HASH_LOOKUP_BULK_MAX];

	if (n == 0)
		return;
	rte_hash_lookup_bulk_data(t->hash, (const void **)keys, n, &hits, data);
	for (uint32_t i = 0; i < n; i++)
		sas[i] = (hits >> i) & 1 ? data[i] : NULL;
}
