/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RXSEC_THP_HEAP_H
#define RXSEC_THP_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#define RXSEC_THP_HEAP_PAGES_MAX	512	/* 1 GiB */

struct rxsec_thp_heap {
	void *map;		/* what mmap returned */
	size_t map_len;
	void *base;		/* 2 MiB aligned start of the heap */
	size_t len;
	int socket;		/* the heap's socket id for rte_malloc_socket(), or -1 */
};

/* No hugepages and no PCI devices: the case this heap is for. */
bool rxsec_thp_heap_wanted(void);

/* Map len bytes (rounded up to 2 MiB) advised MADV_HUGEPAGE and add them as
 * an external malloc heap. Returns its socket id, or -1 with a message. */
int rxsec_thp_heap_create(struct rxsec_thp_heap *h, size_t len);

/* Remove the heap once everything allocated from it is freed. */
void rxsec_thp_heap_destroy(struct rxsec_thp_heap *h);

#endif /* RXSEC_THP_HEAP_H */
