/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "pkt_meta.h"

int rxsec_pkt_meta_offset = -1;

int
rxsec_pkt_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "rxsec_dynfield_pkt_meta",
		.size = sizeof(struct rxsec_pkt_meta),
		.align = __alignof__(struct rxsec_pkt_meta),
	};
	int off = rte_mbuf_dynfield_register(&desc);

	if (off < 0)
		return -rte_errno;
	rxsec_pkt_meta_offset = off;
	return 0;
}
