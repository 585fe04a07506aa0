/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_pcap with infinite_rx=1 replays its rx_pcap files from memory. In DPDK
 * 22.11 a file without a packet makes every receive burst take a burst of
 * mbufs from the pool and keep them (they are allocated before the driver
 * finds nothing to copy into them): the pool drains, nothing is received,
 * and rxsec would end reporting lost mbufs. Such a vdev is refused at start.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap.h>
#include <rte_devargs.h>
#include <rte_kvargs.h>

#include "pcap_loop.h"

struct loop_vdev {
	const char *name;
	bool infinite;
	int empty;		/* rx_pcap files without a packet */
};

static int
note_infinite(const char *key, const char *value, void *arg)
{
	struct loop_vdev *v = arg;

	(void)key;
	v->infinite = atoi(value) != 0;
	return 0;
}

/* A file the driver could not open was already reported (vdevs_created). */
static int
check_rx_pcap(const char *key, const char *path, void *arg)
{
	struct loop_vdev *v = arg;
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *pc = pcap_open_offline(path, err);

	(void)key;
	if (pc == NULL)
		return 0;
	if (pcap_next_ex(pc, &hdr, &data) != 1) {
		fprintf(stderr, "rxsec: --vdev %s: %s holds no packet to replay with "
			"infinite_rx=1 (net_pcap would take every mbuf and receive nothing)\n",
			v->name, path);
		v->empty++;
	}
	pcap_close(pc);
	return 0;
}

static bool
is_net_pcap(const char *name)
{
	return strncmp(name, "net_pcap", 8) == 0 || strncmp(name, "eth_pcap", 8) == 0;
}

int
rxsec_pcap_loops_check(void)
{
	struct rte_devargs *da;
	int empty = 0;

	RTE_EAL_DEVARGS_FOREACH("vdev", da) {
		struct loop_vdev v = { .name = da->name };
		struct rte_kvargs *kv;

		if (!is_net_pcap(da->name) || da->args == NULL)
			continue;
		kv = rte_kvargs_parse(da->args, NULL);
		if (kv == NULL)
			continue;	/* the driver refused these arguments already */
		rte_kvargs_process(kv, "infinite_rx", note_infinite, &v);
		if (v.infinite)
			rte_kvargs_process(kv, "rx_pcap", check_rx_pcap, &v);
		rte_kvargs_free(kv);
		empty += v.empty;
	}
	return empty != 0 ? -1 : 0;
}
