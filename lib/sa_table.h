/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The inbound SA database: an rte_hash from (SPI, destination, protocol) to
 * the live SA, plus a slot array so packets can carry a small SA id.
 */
#ifndef RXSEC_SA_TABLE_H
#define RXSEC_SA_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "sa.h"

struct rte_hash;

struct rxsec_sa_table {
	struct rte_hash *hash;
	struct rxsec_sa **slot;		/* by SA id; NULL when free */
	struct rxsec_sa **gone;		/* removed, kept until freed (in-flight packets) */
	uint32_t capacity;
	uint32_t count;
	uint32_t nb_gone;
	const struct rxsec_crypto_driver *drv;
};

int rxsec_sa_table_create(struct rxsec_sa_table *t, const char *name,
			  uint32_t capacity, int socket,
			  const struct rxsec_crypto_driver *drv);
void rxsec_sa_table_free(struct rxsec_sa_table *t);

/* Build the key of a configured SA. */
void rxsec_sa_key_from_config(struct rxsec_sa_key *k, const struct rxsec_sa_config *c);

/* Add a configured SA; returns its id, or -1 with a reason in err. */
int rxsec_sa_table_add(struct rxsec_sa_table *t, const struct rxsec_sa_config *c,
		       char *err, size_t errlen);

/* Remove an SA from lookups; its memory stays in `gone` while packets may
 * still point at it. NULL if the id is free. */
struct rxsec_sa *rxsec_sa_table_remove(struct rxsec_sa_table *t, uint32_t id);
void rxsec_sa_destroy(struct rxsec_sa_table *t, struct rxsec_sa *sa);

/* Find the outbound SA paired with sa: same reqid, swapped addresses. */
struct rxsec_sa *rxsec_sa_table_find_pair(const struct rxsec_sa_table *t,
					  const struct rxsec_sa *sa);

/* Bulk lookup of n <= 64 keys; sas[i] NULL on a miss. */
void rxsec_sa_table_lookup_bulk(const struct rxsec_sa_table *t,
				const struct rxsec_sa_key **keys, uint32_t n,
				struct rxsec_sa **sas);

static inline struct rxsec_sa *
rxsec_sa_table_get(const struct rxsec_sa_table *t, uint32_t id)
{
	return id < t->capacity ? t->slot[id] : NULL;
}

#endif /* RXSEC_SA_TABLE_H */
