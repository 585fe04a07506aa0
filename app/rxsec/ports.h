/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RXSEC_PORTS_H
#define RXSEC_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_mempool.h>

struct rxsec_ports {
	uint16_t wire;		/* received traffic: --wire-port, else the first port */
	uint16_t out;		/* --out-port, else the first other port, else wire */
	uint16_t nb_rxq;	/* on the wire port, one per worker */
	uint16_t nb_txq;	/* on the out port, one per transport */
	uint16_t mtu;		/* --mtu, 0 = the ports' default */
	bool wire_rx_big;	/* no RX scatter for the MTU: receive into `big` */
	bool out_rx_big;
	bool wire_started, out_started;	/* only started ports are stopped */
	unsigned int held_mbufs;	/* fragments reassembly may hold */
	struct rte_mempool *pool;
	struct rte_mempool *big;	/* RXSEC_FRAME_MAX buffers: flattened chains */
};

/* Choose the wire and delivery ports (-1: the defaults) and how they
 * receive frames of this MTU (0: the ports' default); -1 with a message on
 * stderr if a requested port does not exist. */
int rxsec_ports_pick(struct rxsec_ports *p, int wire, int out, uint16_t mtu);

/* Create the mbuf pools on `socket` (an EAL socket or an external heap's),
 * configure and start the picked ports; -1 with a message on stderr. */
int rxsec_ports_init(struct rxsec_ports *p, unsigned int workers, unsigned int transports,
		     int socket);

/* Upper bound of the mbuf pools' memory for these stage counts. */
size_t rxsec_ports_pool_bytes(const struct rxsec_ports *p, unsigned int workers,
			      unsigned int transports);

/* Largest RX queue count of the wire port, TX of the delivery port (for
 * picking defaults). */
uint16_t rxsec_ports_max_rxq(const struct rxsec_ports *p);
uint16_t rxsec_ports_max_txq(const struct rxsec_ports *p);

void rxsec_ports_print_stats(const struct rxsec_ports *p);

/* Stop and close the two ports so their queues give their mbufs back. */
void rxsec_ports_close(struct rxsec_ports *p);

#endif /* RXSEC_PORTS_H */
