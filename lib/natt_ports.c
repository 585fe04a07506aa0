/* SPDX-License-Identifier: BSD-3-Clause */
#include "natt_ports.h"

uint16_t rxsec_natt_ports[RXSEC_NATT_PORTS_MAX];
uint32_t rxsec_natt_ports_used;
static uint32_t natt_port_refs[RXSEC_NATT_PORTS_MAX];	/* control plane only */

int
rxsec_natt_port_hold(uint16_t port)
{
	int free_at = -1;

	if (port == RXSEC_NATT_PORT || port == 0)
		return 0;
	for (int i = 0; i < RXSEC_NATT_PORTS_MAX; i++) {
		if (rxsec_natt_ports[i] == port) {
			natt_port_refs[i]++;
			return 0;
		}
		if (rxsec_natt_ports[i] == 0 && free_at < 0)
			free_at = i;
	}
	if (free_at < 0)
		return -1;
	natt_port_refs[free_at] = 1;
	__atomic_store_n(&rxsec_natt_ports[free_at], port, __ATOMIC_RELEASE);
	__atomic_add_fetch(&rxsec_natt_ports_used, 1, __ATOMIC_RELEASE);
	return 0;
}

void
rxsec_natt_port_release(uint16_t port)
{
	if (port == RXSEC_NATT_PORT || port == 0)
		return;
	for (int i = 0; i < RXSEC_NATT_PORTS_MAX; i++) {
		if (rxsec_natt_ports[i] != port || --natt_port_refs[i] != 0)
			continue;
		__atomic_store_n(&rxsec_natt_ports[i], 0, __ATOMIC_RELEASE);
		__atomic_sub_fetch(&rxsec_natt_ports_used, 1, __ATOMIC_RELEASE);
		return;
	}
}
