/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RXSEC_PORTS_H
#define RXSEC_PORTS_H

#include <stddef.h>
#include <stdint.h>
#include <rte_mempool.h>

struct rxsec_ports {
	uint16_t wire;		/* port 0: received traffic */
	uint16_t out;		/* port 1 if present, else port 0 */
	uint16_t nb_ports;
	uint16_t nb_rxq;	/* on the wire port, one per worker */
	uint16_t nb_txq;	/* on the out port, one per transport */
	struct rte_mempool *pool;
};

/* Configure and start the ports, the mbuf pool on `socket` (an EAL socket
 * or an external heap's); -1 with a message on stderr. */
int rxsec_ports_init(struct rxsec_ports *p, unsigned int workers, unsigned int transports,
		     int socket);

/* Upper bound of the mbuf pool's memory for these stage counts. */
size_t rxsec_ports_pool_bytes(unsigned int workers, unsigned int transports);

/* Largest RX queue count of the wire port (for picking defaults). */
uint16_t rxsec_ports_max_rxq(void);

void rxsec_ports_print_stats(const struct rxsec_ports *p);

/* Stop and close every port so their queues give their mbufs back. */
void rxsec_ports_close(struct rxsec_ports *p);

#endif /* RXSEC_PORTS_H */
