/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Hot data on transparent huge pages when EAL has no hugepages.
 *
 * With --no-huge, EAL's memory is a memfd mapped with 4 KiB pages: one
 * 64-packet burst then touches more pages (mbuf headers, data, trailers)
 * than the first-level TLB maps, and every pass over the burst pays for
 * it again. Anonymous memory advised MADV_HUGEPAGE gets 2 MiB pages from
 * the kernel instead; DPDK allocates from it like from any socket once it
 * is added as an external malloc heap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "thp_heap.h"

#define THP_PAGE	(2u << 20)
#define THP_HEAP_NAME	"rxsec_thp"

/* Only vdevs can use it: a PCI device would need the memory DMA-mapped. */
bool
rxsec_thp_heap_wanted(void)
{
	return !rte_eal_has_hugepages() && !rte_eal_has_pci();
}

static void
thp_unmap(struct rxsec_thp_heap *h)
{
	munmap(h->map, h->map_len);
	h->map = NULL;
	h->base = NULL;
}

int
rxsec_thp_heap_create(struct rxsec_thp_heap *h, size_t len)
{
	rte_iova_t iova[RXSEC_THP_HEAP_PAGES_MAX];
	unsigned int pages;

	memset(h, 0, sizeof(*h));
	h->socket = -1;
	len = RTE_ALIGN_CEIL(len, THP_PAGE);
	pages = (unsigned int)(len / THP_PAGE);
	if (pages == 0 || pages > RXSEC_THP_HEAP_PAGES_MAX) {
		fprintf(stderr, "rxsec: huge-page heap of %zu bytes is out of range\n", len);
		return -1;
	}
	/* One extra page of address space so the heap starts 2 MiB aligned. */
	h->map_len = len + THP_PAGE;
	h->map = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->map == MAP_FAILED) {
		fprintf(stderr, "rxsec: cannot map %zu bytes: %s\n", h->map_len, strerror(errno));
		h->map = NULL;
		return -1;
	}
	h->base = (void *)RTE_ALIGN_CEIL((uintptr_t)h->map, THP_PAGE);
	h->len = len;
	if (madvise(h->base, len, MADV_HUGEPAGE) != 0) {
		fprintf(stderr, "rxsec: no transparent huge pages (%s): using EAL memory\n",
			strerror(errno));
		thp_unmap(h);
		return -1;
	}
	/* IOVA as VA: the addresses are their own IOVAs; else none are needed. */
	for (unsigned int i = 0; i < pages; i++)
		iova[i] = rte_eal_iova_mode() == RTE_IOVA_VA ?
			(rte_iova_t)(uintptr_t)h->base + (rte_iova_t)i * THP_PAGE : RTE_BAD_IOVA;
	if (rte_malloc_heap_create(THP_HEAP_NAME) != 0 ||
	    rte_malloc_heap_memory_add(THP_HEAP_NAME, h->base, len, iova, pages, THP_PAGE) != 0) {
		fprintf(stderr, "rxsec: cannot add huge-page heap: %s\n", rte_strerror(rte_errno));
		rte_malloc_heap_destroy(THP_HEAP_NAME);
		thp_unmap(h);
		return -1;
	}
	h->socket = rte_malloc_heap_get_socket(THP_HEAP_NAME);
	return h->socket;
}

void
rxsec_thp_heap_destroy(struct rxsec_thp_heap *h)
{
	if (h->base == NULL)
		return;
	/* Fails while anything allocated from it is still in use: then the
	 * mapping must stay, and goes with the process. */
	if (rte_malloc_heap_memory_remove(THP_HEAP_NAME, h->base, h->len) != 0 ||
	    rte_malloc_heap_destroy(THP_HEAP_NAME) != 0) {
		fprintf(stderr, "rxsec: huge-page heap still in use at exit: %s\n",
			rte_strerror(rte_errno));
		return;
	}
	thp_unmap(h);
	h->socket = -1;
}
