/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Picking a transport stage for a packet that has no SA to pick it: a
 * hash of outer IP fields every packet of the flow (or every fragment of
 * the datagram) carries, spread over the stages.
 */
#ifndef RXSEC_STAGE_HASH_H
#define RXSEC_STAGE_HASH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

/* CRC32 of the source and destination addresses of the IP header l3. */
static inline uint32_t
rxsec_ip_addrs_hash(const uint8_t *l3, bool ipv6, uint32_t init)
{
	uint64_t a[4];	/* rte_hash_crc loads 8-byte words: aligned copies */

	if (!ipv6) {
		memcpy(a, l3 + 12, 8);
		return rte_hash_crc_8byte(a[0], init);
	}
	memcpy(a, l3 + 8, sizeof(a));
	return rte_hash_crc(a, sizeof(a), init);
}

/* One of nb stages for hash h: its high bits times nb, no division. */
static inline uint16_t
rxsec_stage_of_hash(uint32_t h, uint16_t nb)
{
	return (uint16_t)(((uint64_t)h * nb) >> 32);
}

#endif /* RXSEC_STAGE_HASH_H */
