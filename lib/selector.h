/* SPDX-License-Identifier: BSD-3-Clause
 *
 * An SA's traffic selector (`sel src A/L dst B/L [proto P [sport N]
 * [dport N] | [type N] [code N]]`), checked against the packet an SA
 * delivers (RFC 4301 5.2 step 4). Linux does the same before anything
 * else in its inbound policy check, and drops a mismatch as
 * XfrmInStateMismatch: without it, a peer could send, inside its own
 * tunnel, packets for addresses and ports another SA was negotiated for.
 */
#ifndef RXSEC_SELECTOR_H
#define RXSEC_SELECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "sa_config.h"

/* Does the selector accept every packet (no sel, /0 prefixes, no proto)?
 * Only SAs with a narrower one pay for the check. */
bool rxsec_selector_is_wild(const struct rxsec_sa_config *c);

/*
 * Does the IP packet ip[0..len) match c's selector? As Linux reads a
 * packet for it: the protocol behind IPv6 hop-by-hop, routing, fragment
 * and destination options headers; TCP, UDP, UDP-Lite and SCTP ports,
 * ICMP and ICMPv6 type and code in place of ports, the mobility header
 * type as source port; ports 0 for other protocols, for fragments and for
 * a cut transport header. A selector address of the other IP version
 * matches only with prefix length 0. Only SAs whose selector is not wild
 * need the call; a wild one matches any well-formed IP packet anyway.
 */
bool rxsec_selector_match(const struct rxsec_sa_config *c, const uint8_t *ip, uint32_t len);

/* Can c's selector take a packet to dst (of an IP family, 4 or 6)? Its
 * destination prefix alone: the other fields depend on the packet. */
bool rxsec_selector_dst_admits(const struct rxsec_sa_config *c, uint8_t family,
			       const uint8_t *dst);

/*
 * flag icmp (XFRM_STATE_ICMP): an ICMP or ICMPv6 message that fails the
 * selector is still taken, on local delivery, when the packet it quotes,
 * read backwards (addresses and ports swapped), matches the selectors of
 * every SA it came through, as Linux's icmp_rcv and icmpv6_rcv check it.
 * rxsec_selector_quoted() finds the quoted IP header of an unfragmented
 * ICMP message ip[0..len) that holds at least its fixed part (at *off,
 * *qlen bytes to the datagram's end); rxsec_selector_match_reverse()
 * matches the quoted packet, which may be cut anywhere after its fixed
 * header.
 */
bool rxsec_selector_quoted(const uint8_t *ip, uint32_t len, uint32_t *off, uint32_t *qlen);
bool rxsec_selector_match_reverse(const struct rxsec_sa_config *c, const uint8_t *quoted,
				  uint32_t len);

/* "src A/L dst B/L[ proto P[ sport N][ dport N]]", ip xfrm's words (type
 * and code for ICMP), for logs and rxsec-ctl; "any" when it is wild. */
const char *rxsec_selector_str(const struct rxsec_sa_config *c, char *buf, unsigned int len);

#endif /* RXSEC_SELECTOR_H */
