/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "rxsec_crypto.h"
#include "sa_table.h"

int
rxsec_sa_table_create(struct rxsec_sa_table *t, const char *name,
		      uint32_t capacity, int socket,
		      const struct rxsec_crypto_driver *drv)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = capacity < 8 ? 8 : capacity,
		.key_len = sizeof(struct rxsec_sa_key),
		.hash_func = rte_jhash,
		.socket_id = socket,
		/* Engines read while the control plane adds and deletes. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	memset(t, 0, sizeof(*t));
	t->hash = rte_hash_create(&p);
	if (t->hash == NULL)
		return -rte_errno;
	t->slot = rte_zmalloc_socket("rxsec_sa_slots",
				     sizeof(*t->slot) * capacity, 0, socket);
	t->gone = rte_zmalloc_socket("rxsec_sa_gone",
				     sizeof(*t->gone) * capacity, 0, socket);
	if (t->slot == NULL || t->gone == NULL) {
		rte_free(t->slot);
		rte_free(t->gone);
		rte_hash_free(t->hash);
		t->hash = NULL;
		return -ENOMEM;
	}
	t->capacity = capacity;
	t->drv = drv;
	return 0;
}

void
rxsec_sa_destroy(struct rxsec_sa_table *t, struct rxsec_sa *sa)
{
	if (sa == NULL)
		return;
	if (sa->csa != NULL)
		t->drv->sa_free(sa->csa);
	rte_free(sa);
}

void
rxsec_sa_table_free(struct rxsec_sa_table *t)
{
	for (uint32_t i = 0; i < t->capacity && t->slot != NULL; i++)
		rxsec_sa_destroy(t, t->slot[i]);
	for (uint32_t i = 0; i < t->nb_gone; i++)
		rxsec_sa_destroy(t, t->gone[i]);
	rte_free(t->slot);
	rte_free(t->gone);
	rte_hash_free(t->hash);
	memset(t, 0, sizeof(*t));
}

void
rxsec_sa_key_from_config(struct rxsec_sa_key *k, const struct rxsec_sa_config *c)
{
	memset(k, 0, sizeof(*k));
	k->spi = rte_cpu_to_be_32(c->spi);
	k->proto = c->proto;
	k->family = c->dst.family;
	memcpy(k->dst, c->dst.bytes, sizeof(k->dst));
}

static void
sa_derive(struct rxsec_sa *sa, const struct rxsec_sa_config *c)
{
	sa->cfg = *c;
	sa->spi = c->spi;
	sa->proto = c->proto;
	sa->mode = c->mode;
	sa->esn = c->esn;
	sa->offload = 1;
	sa->iv_len = rxsec_crypto_iv_len(c->cipher);
	sa->icv_len = c->icv_len;
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
		c->byte_soft != RXSEC_LIMIT_INF;
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
	rxsec_sa_key_from_config(&sa->key, c);
}

static int
free_slot(const struct rxsec_sa_table *t)
{
	for (uint32_t i = 0; i < t->capacity; i++)
		if (t->slot[i] == NULL)
			return (int)i;
	return -1;
}

int
rxsec_sa_table_add(struct rxsec_sa_table *t, const struct rxsec_sa_config *c,
		   char *err, size_t errlen)
{
	struct rxsec_sa *sa;
	int id, ret;

	id = free_slot(t);
	if (id < 0) {
		snprintf(err, errlen, "%s: SA table full (%u SAs)", c->origin, t->capacity);
		return -1;
	}
	sa = rte_zmalloc("rxsec_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);
	if (sa == NULL) {
		snprintf(err, errlen, "%s: out of memory for SA", c->origin);
		return -1;
	}
	sa_derive(sa, c);
	sa->id = (uint32_t)id;
	if (rte_hash_lookup(t->hash, &sa->key) >= 0) {
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
	t->slot[id] = sa;
	ret = rte_hash_add_key_data(t->hash, &sa->key, sa);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot insert SA: %s", c->origin, strerror(-ret));
		t->slot[id] = NULL;
		rxsec_sa_destroy(t, sa);
		return -1;
	}
	t->count++;
	return id;
}

struct rxsec_sa *
rxsec_sa_table_remove(struct rxsec_sa_table *t, uint32_t id)
{
	struct rxsec_sa *sa = rxsec_sa_table_get(t, id);

	if (sa == NULL)
		return NULL;
	rte_hash_del_key(t->hash, &sa->key);
	__atomic_store_n(&t->slot[id], NULL, __ATOMIC_RELEASE);
	t->count--;
	if (t->nb_gone < t->capacity)
		t->gone[t->nb_gone++] = sa;
	return sa;
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
