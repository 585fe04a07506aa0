/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What rxsec and rxsec-ctl agree on over the --control socket.
 *
 * Control socket protocol: one request per connection, text, ended by the
 * client closing its sending side (within 5 s of connecting, else an error
 * comes back); one JSON object back, to be read within 5 s, then close.
 *   add\n<ip xfrm state lines>            add SAs (same syntax as --sa files)
 *   del spi N dst ADDR [proto esp|ah] [pair]   delete (pair: and its outbound SA)
 *   update-esn spi N dst ADDR [proto P] hi N   NDIS UPDATE_SA: window top high bits
 *   list                                  every SA, live and deleted
 *   stats [spi N dst ADDR [proto P]]      totals, or one SA's counters
 */
#ifndef RXSEC_CONTROL_PROTO_H
#define RXSEC_CONTROL_PROTO_H

/* A request, text without NUL bytes, is at most this long: about 5000 SAs
 * in `ip xfrm state add` lines. */
#define RXSEC_CONTROL_REQUEST_MAX	(1u << 20)
#define RXSEC_CONTROL_REQUEST_MAX_TEXT	"1 MiB"	/* the same, for messages */

#endif /* RXSEC_CONTROL_PROTO_H */
