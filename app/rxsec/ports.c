/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "flatten.h"
#include "pcap_loop.h"
#include "pkt_meta.h"
#include "ports.h"

#define RX_DESC		1024
#define TX_DESC		1024
#define POOL_CACHE	256
#define BIG_CACHE	32
#define BIG_BUF_SIZE	(RTE_PKTMBUF_HEADROOM + RXSEC_FRAME_MAX)

uint16_t
rxsec_ports_max_rxq(const struct rxsec_ports *p)
{
	struct rte_eth_dev_info info;

	return rte_eth_dev_info_get(p->wire, &info) == 0 ? RTE_MAX(info.max_rx_queues, 1) : 1;
}

uint16_t
rxsec_ports_max_txq(const struct rxsec_ports *p)
{
	struct rte_eth_dev_info info;

	return rte_eth_dev_info_get(p->out, &info) == 0 ? RTE_MAX(info.max_tx_queues, 1) : 1;
}

/* "0 (net_null0), 1 (net_pcap1)" for error messages. */
static void
ports_list(char *buf, size_t len)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t used = 0;
	uint16_t port;

	buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(port) {
		if (rte_eth_dev_get_name_by_port(port, name) != 0)
			snprintf(name, sizeof(name), "?");
		used += snprintf(buf + used, len - used, "%s%u (%s)",
				 used ? ", " : "", port, name);
		if (used >= len)
			break;
	}
}

static int
port_pick(const char *opt, int req, uint16_t *port)
{
	char list[256];

	if (rte_eth_dev_is_valid_port((uint16_t)req)) {
		*port = (uint16_t)req;
		return 0;
	}
	ports_list(list, sizeof(list));
	fprintf(stderr, "rxsec: --%s %d: no such port (ports: %s)\n", opt, req, list);
	return -1;
}

/* EAL carries on when a --vdev's driver fails (a pcap file it cannot
 * open): rxsec would run on the other ports, or say no port was given. */
static int
vdevs_created(void)
{
	struct rte_devargs *da;
	uint16_t port;

	RTE_EAL_DEVARGS_FOREACH("vdev", da) {
		/* not an ethdev: a crypto or event vdev; net_vdev_netvsc probes
		 * other devices and makes no port of its own name */
		if ((strncmp(da->name, "net_", 4) != 0 && strncmp(da->name, "eth_", 4) != 0) ||
		    strncmp(da->name, "net_vdev_netvsc", 15) == 0)
			continue;
		if (rte_eth_dev_get_port_by_name(da->name, &port) != 0) {
			fprintf(stderr, "rxsec: --vdev %s%s%s: no port was created "
				"(the driver's message above says why)\n", da->name,
				da->args != NULL && da->args[0] ? "," : "",
				da->args != NULL ? da->args : "");
			return -1;
		}
	}
	return 0;
}

static int
ports_pick(struct rxsec_ports *p, int wire, int out)
{
	uint16_t port;

	if (vdevs_created() != 0 || rxsec_pcap_loops_check() != 0)
		return -1;
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "rxsec: no DPDK port: give one with --vdev (e.g. "
			"--vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap) or a NIC\n");
		return -1;
	}
	if (wire >= 0) {
		if (port_pick("wire-port", wire, &p->wire) != 0)
			return -1;
	} else {
		p->wire = (uint16_t)rte_eth_find_next(0);
	}
	if (out >= 0)
		return port_pick("out-port", out, &p->out);
	p->out = p->wire;
	RTE_ETH_FOREACH_DEV(port)
		if (port != p->wire) {
			p->out = port;
			break;
		}
	return 0;
}

/* The longest frame a port receives at this MTU: two VLAN tags and the CRC. */
static uint32_t
mtu_frame(uint16_t mtu)
{
	return (uint32_t)mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN;
}

/* Frames longer than a pool buffer: a port with RX scatter chains them
 * (the engine flattens the chain), one without receives into large buffers. */
static bool
mtu_exceeds_buffer(uint16_t mtu)
{
	return mtu != 0 && mtu_frame(mtu) > RTE_MBUF_DEFAULT_DATAROOM;
}

static bool
port_rx_big(uint16_t port, uint16_t mtu)
{
	struct rte_eth_dev_info info;

	if (!mtu_exceeds_buffer(mtu) || rte_eth_dev_info_get(port, &info) != 0)
		return false;
	return !(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER);
}

int
rxsec_ports_pick(struct rxsec_ports *p, int wire, int out, uint16_t mtu)
{
	memset(p, 0, sizeof(*p));
	if (ports_pick(p, wire, out) != 0)
		return -1;
	p->mtu = mtu;
	p->wire_rx_big = port_rx_big(p->wire, mtu);
	p->out_rx_big = p->out != p->wire && port_rx_big(p->out, mtu);
	return 0;
}

/* The bytes of a frame around its MTU, as ethdev counts them when it
 * checks an MTU against the port's largest frame. */
static uint32_t
port_frame_overhead(const struct rte_eth_dev_info *info)
{
	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		return info->max_rx_pktlen - info->max_mtu;
	return RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
}

static int
port_mtu(struct rte_eth_conf *conf, uint16_t port, const struct rte_eth_dev_info *info,
	 uint16_t mtu)
{
	uint32_t overhead = port_frame_overhead(info);
	uint32_t max = info->max_rx_pktlen > overhead ?
		RTE_MIN((uint32_t)info->max_mtu, info->max_rx_pktlen - overhead) : info->max_mtu;

	if (mtu == 0)
		return 0;
	if (mtu < info->min_mtu || mtu > max) {
		fprintf(stderr, "rxsec: --mtu %u: port %u (%s) takes %u to %u\n", mtu, port,
			info->driver_name, info->min_mtu, max);
		return -1;
	}
	conf->rxmode.mtu = mtu;
	if (mtu_exceeds_buffer(mtu) && (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER))
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	return 0;
}

/* Drivers return -errno, or -1 after logging their own reason: -1 is not
 * read as EPERM. */
static void
port_setup_fail(uint16_t port, const struct rte_eth_dev_info *info, const char *step,
		uint16_t nb_rxq, uint16_t nb_txq, int ret)
{
	fprintf(stderr, "rxsec: port %u (%s) with %u RX / %u TX queues: %s failed: ", port,
		info->driver_name, nb_rxq, nb_txq, step);
	if (ret == -1)
		fprintf(stderr, "the driver's reason is logged above\n");
	else
		fprintf(stderr, "%s\n", strerror(-ret));
}

/* The delivery port's RX queues, when it is not the wire: nobody polls
 * them, but some drivers (net_tap) take only as many RX as TX queues. */
static uint16_t
out_idle_rxq(const struct rxsec_ports *p, unsigned int transports)
{
	return p->out == p->wire ? 0 : (uint16_t)transports;
}

/*
 * nb_rxq RX and nb_txq TX queues. Some drivers (net_tap) take only as many
 * TX as RX queues: TX queues nobody uses cost descriptors only, so a port
 * gets at least as many as it has RX queues, within its limits. RX queues
 * are never added to a receiving port (RSS would fill them); the delivery
 * port's, when it is not the wire (idle_rx: out_idle_rxq), nobody polls,
 * and they are cut to what the port has.
 */
static int
port_setup(uint16_t port, uint16_t nb_rxq, uint16_t nb_txq, bool idle_rx, uint16_t mtu,
	   struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = RX_DESC, txd = TX_DESC;
	const char *step;
	uint64_t rss_hf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0) {
		fprintf(stderr, "rxsec: port %u: cannot read device info: %s\n", port, strerror(-ret));
		return -1;
	}
	if (port_mtu(&conf, port, &info, mtu) != 0)
		return -1;
	if (idle_rx)
		nb_rxq = RTE_MAX(RTE_MIN(nb_rxq, info.max_rx_queues), 1);
	nb_txq = RTE_MAX(nb_txq, RTE_MIN(nb_rxq, info.max_tx_queues));
	if (nb_rxq > info.max_rx_queues || nb_txq > info.max_tx_queues) {
		fprintf(stderr, "rxsec: port %u (%s) has %u RX / %u TX queues; %u RX and %u TX needed "
			"(lower --workers / --transports)\n", port, info.driver_name,
			info.max_rx_queues, info.max_tx_queues, nb_rxq, nb_txq);
		return -1;
	}
	/* Spread by outer addresses, and SPI where the port hashes it (many SAs
	 * between two gateways): one SA stays on one queue, in order. A port
	 * that hashes none of these is left as it is rather than asked for an
	 * RSS of no fields. */
	rss_hf = info.flow_type_rss_offloads &
		(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_ESP | RTE_ETH_RSS_AH);
	if (nb_rxq > 1 && rss_hf != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
	}
	step = "configure";
	ret = rte_eth_dev_configure(port, nb_rxq, nb_txq, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	for (uint16_t q = 0; ret == 0 && q < nb_rxq; q++) {
		step = "RX queue setup";
		ret = rte_eth_rx_queue_setup(port, q, rxd, rte_eth_dev_socket_id(port), NULL, pool);
	}
	for (uint16_t q = 0; ret == 0 && q < nb_txq; q++) {
		step = "TX queue setup";
		ret = rte_eth_tx_queue_setup(port, q, txd, rte_eth_dev_socket_id(port), NULL);
	}
	if (ret == 0) {
		step = "start";
		ret = rte_eth_dev_start(port);
	}
	if (ret != 0) {
		port_setup_fail(port, &info, step, nb_rxq, nb_txq, ret);
		return -1;
	}
	rte_eth_promiscuous_enable(port);
	return 0;
}

/* RX rings, transport rings, TX rings, per-lcore caches, bursts in flight;
 * the slack covers one idle RX ring of the delivery port. */
static unsigned int
pool_mbufs(const struct rxsec_ports *p, unsigned int workers, unsigned int transports)
{
	unsigned int idle = p->out_rx_big ? 0 : out_idle_rxq(p, transports);

	return workers * RX_DESC + transports * (1024 + TX_DESC) +
		(workers + transports + 2) * (POOL_CACHE + 64) + 2048 +
		(idle > 1 ? (idle - 1) * RX_DESC : 0);
}

/* Flattened chains live from the engine to the TX ring: everything after
 * the RX rings, so a stream of jumbo frames never finds the pool empty;
 * plus the RX rings of ports that receive into large buffers. */
static unsigned int
big_mbufs(const struct rxsec_ports *p, unsigned int workers, unsigned int transports)
{
	return transports * (1024 + TX_DESC) + (workers + transports + 2) * (BIG_CACHE + 64) +
		(p->wire_rx_big ? workers * RX_DESC : 0) +
		(p->out_rx_big ? out_idle_rxq(p, transports) * RX_DESC : 0);
}

static size_t
pool_elt_bytes(uint32_t data_room)
{
	/* the mbuf, our private area, the buffer, the mempool's header and trailer */
	return sizeof(struct rte_mbuf) + RXSEC_PKT_PRIV_SIZE + data_room + 2 * RTE_CACHE_LINE_SIZE;
}

size_t
rxsec_ports_pool_bytes(const struct rxsec_ports *p, unsigned int workers,
		       unsigned int transports)
{
	return (pool_mbufs(p, workers, transports) + p->held_mbufs) *
		pool_elt_bytes(RTE_MBUF_DEFAULT_BUF_SIZE) +
		big_mbufs(p, workers, transports) * pool_elt_bytes(BIG_BUF_SIZE) + (2u << 20);
}

/* Out of memory names what it needed and what to change. */
static void
pool_fail(unsigned int n, unsigned int buf_size, const struct rxsec_ports *p)
{
	int err = rte_errno;

	fprintf(stderr, "rxsec: cannot create a pool of %u mbufs of %u bytes: %s", n, buf_size,
		rte_strerror(err));
	if (err == ENOMEM)
		fprintf(stderr, " (%zu MiB; give EAL more with -m%s)",
			((size_t)n * pool_elt_bytes(buf_size) >> 20) + 1,
			p->held_mbufs != 0 ? ", or lower --frag-flows" : "");
	fputc('\n', stderr);
}

int
rxsec_ports_init(struct rxsec_ports *p, unsigned int workers, unsigned int transports,
		 int socket)
{
	unsigned int nb_mbufs = pool_mbufs(p, workers, transports) + p->held_mbufs;
	unsigned int nb_big = big_mbufs(p, workers, transports);

	p->nb_rxq = (uint16_t)workers;
	p->nb_txq = (uint16_t)transports;
	p->pool = rte_pktmbuf_pool_create("rxsec_mbufs", nb_mbufs, POOL_CACHE, RXSEC_PKT_PRIV_SIZE,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (p->pool == NULL) {
		pool_fail(nb_mbufs, RTE_MBUF_DEFAULT_BUF_SIZE, p);
		return -1;
	}
	p->big = rte_pktmbuf_pool_create("rxsec_big", nb_big, BIG_CACHE, RXSEC_PKT_PRIV_SIZE,
					 BIG_BUF_SIZE, socket);
	if (p->big == NULL) {
		pool_fail(nb_big, BIG_BUF_SIZE, p);
		return -1;
	}
	/* One port: it transmits for every transport. Two: the wire receives,
	 * the other transmits (port_setup: the directions nobody uses). */
	if (port_setup(p->wire, p->nb_rxq, p->out == p->wire ? p->nb_txq : 1, false, p->mtu,
		       p->wire_rx_big ? p->big : p->pool) != 0)
		return -1;
	p->wire_started = true;
	if (p->out == p->wire)
		return 0;
	if (port_setup(p->out, out_idle_rxq(p, p->nb_txq), p->nb_txq, true, p->mtu,
		       p->out_rx_big ? p->big : p->pool) != 0)
		return -1;
	p->out_started = true;
	return 0;
}

static void
port_print_stats(uint16_t port)
{
	struct rte_eth_stats s;

	if (rte_eth_stats_get(port, &s) != 0)
		return;
	printf("port %u: rx %" PRIu64 " tx %" PRIu64 " missed %" PRIu64
	       " rx_errors %" PRIu64 " tx_errors %" PRIu64 "\n",
	       port, s.ipackets, s.opackets, s.imissed, s.ierrors, s.oerrors);
}

void
rxsec_ports_print_stats(const struct rxsec_ports *p)
{
	port_print_stats(RTE_MIN(p->wire, p->out));
	if (p->out != p->wire)
		port_print_stats(RTE_MAX(p->wire, p->out));
}

void
rxsec_ports_close(struct rxsec_ports *p)
{
	if (p->wire_started)
		rte_eth_dev_stop(p->wire);
	if (p->out_started)
		rte_eth_dev_stop(p->out);
	rte_eth_dev_close(p->wire);
	if (p->out != p->wire)
		rte_eth_dev_close(p->out);
}
