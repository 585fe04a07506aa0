/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The UDP ports ESP arrives on encapsulated (RFC 3948): 4500, and the
 * destination port of every SA written `encap espinudp SPORT DPORT` with
 * another one (an IKE daemon may take its NAT-T port elsewhere, as
 * strongSwan's port_nat_t does; Linux then hears ESP on that socket).
 * The control plane adds and drops ports as SAs come and go; classifiers
 * read them without locks.
 */
#ifndef RXSEC_NATT_PORTS_H
#define RXSEC_NATT_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#define RXSEC_NATT_PORT		4500
#define RXSEC_NATT_PORTS_MAX	8	/* other ports at once */

extern uint16_t rxsec_natt_ports[RXSEC_NATT_PORTS_MAX];	/* 0: free */
extern uint32_t rxsec_natt_ports_used;

/* Does ESP in UDP arrive on destination port `port` (host order)? */
static inline bool
rxsec_natt_port(uint16_t port)
{
	if (port == RXSEC_NATT_PORT)
		return true;
	if (__atomic_load_n(&rxsec_natt_ports_used, __ATOMIC_RELAXED) == 0)
		return false;
	for (unsigned int i = 0; i < RXSEC_NATT_PORTS_MAX; i++)
		if (__atomic_load_n(&rxsec_natt_ports[i], __ATOMIC_RELAXED) == port)
			return true;
	return false;
}

/* An SA listens on `port`: 0, or -1 when RXSEC_NATT_PORTS_MAX other ports
 * are taken already. Counted: every hold is matched by a release. */
int rxsec_natt_port_hold(uint16_t port);
void rxsec_natt_port_release(uint16_t port);

#endif /* RXSEC_NATT_PORTS_H */
