/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Bring a running SA table in line with SA files read again (SIGHUP): an
 * SA the files no longer hold is deleted, a new one added, one whose
 * settings changed replaced; one they hold unchanged keeps its window and
 * counters. SAs added over the control socket are not the files' and stay.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "log.h"
#include "sa.h"
#include "sa_sync.h"

static int
key_cmp(const struct rxsec_sa_config *a, const struct rxsec_sa_config *b)
{
	if (a->spi != b->spi)
		return a->spi < b->spi ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return memcmp(&a->dst, &b->dst, sizeof(a->dst));
}

static int
key_cmp_qsort(const void *a, const void *b)
{
	return key_cmp(a, b);
}

/* Everything but the starting sequence state and the origin: a dump read
 * again carries a later window, which is no reason to restart the SA.
 * Both configs start zeroed (rxsec_sa_config_init) and are copied whole,
 * so their padding compares equal too. */
static bool
config_same(const struct rxsec_sa_config *a, const struct rxsec_sa_config *b)
{
	return memcmp(a, b, offsetof(struct rxsec_sa_config, seq)) == 0;
}

/* What becomes of each SA of the files */
enum sync_fate { SYNC_ADD, SYNC_KEEP, SYNC_REPLACE };

/* The SAs of the files still live in the table: kept when unchanged, else
 * removed (to be added again when the files still hold them). */
static void
sync_existing(struct rxsec_sa_table *t, const struct rxsec_sa_list *l, uint8_t *fate,
	      struct rxsec_sa_sync_counts *n)
{
	for (uint32_t id = 0; id < t->capacity; id++) {
		struct rxsec_sa *sa = t->slot[id];
		const struct rxsec_sa_config *c;

		if (sa == NULL || sa->by_control)
			continue;
		c = bsearch(&sa->cfg, l->sa, l->n, sizeof(*l->sa), key_cmp_qsort);
		if (c != NULL && config_same(c, &sa->cfg)) {
			fate[c - l->sa] = SYNC_KEEP;
			n->kept++;
			continue;
		}
		if (c != NULL)
			fate[c - l->sa] = SYNC_REPLACE;
		else
			n->deleted++;
		RTE_LOG(NOTICE, RXSEC, "SA files: %s SA spi 0x%08x\n",
			c != NULL ? "replacing" : "deleting", sa->spi);
		sa->deleted = 1;
		rxsec_sa_table_remove(t, id);
	}
}

int
rxsec_sa_table_sync(struct rxsec_sa_table *t, struct rxsec_sa_list *l,
		    struct rxsec_sa_sync_counts *n, char *err, size_t errlen)
{
	uint8_t *fate;
	char why[512];

	memset(n, 0, sizeof(*n));
	qsort(l->sa, l->n, sizeof(*l->sa), key_cmp_qsort);
	fate = calloc(l->n ? l->n : 1, sizeof(*fate));	/* SYNC_ADD */
	if (fate == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sync_existing(t, l, fate, n);
	for (unsigned int i = 0; i < l->n; i++) {
		if (fate[i] == SYNC_KEEP)
			continue;
		if (rxsec_sa_table_add(t, &l->sa[i], why, sizeof(why)) < 0) {
			RTE_LOG(ERR, RXSEC, "SA files: %s\n", why);
			n->failed++;
		} else if (fate[i] == SYNC_REPLACE) {
			n->replaced++;
		} else {
			n->added++;
		}
	}
	free(fate);
	return 0;
}
