/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target: the --control socket (app/rxsec/control.c) as rxsec-ctl
 * meets it. The input is up to 32 requests, split at "\n%%\n"; each goes
 * over a real connection to a control socket served by the housekeeping
 * call rxsec's main lcore makes, with an SA table that starts every input
 * holding the SAs below. Invariants, after every request:
 * - the reply is one JSON object (json_check.c, strict RFC 8259 and UTF-8)
 *   and a newline, with "ok"; a refusal says why ("error"), or, for add,
 *   SA by SA;
 * - the table changed as the reply says: add gained one SA per "id", a del
 *   that succeeded lost "deleted" SAs, nothing else changed the count;
 * - list names every live SA once and every deleted one it still keeps;
 * - update-esn queued exactly the "seq_hi" it reported;
 * - every live SA is found by its key, in its own slot.
 * At the end of an input every SA is removed and reclaimed, and the table
 * freed: a leak shows under ASan.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_spinlock.h>

#include "control.h"
#include "fuzz.h"
#include "json_check.h"
#include "rxsec_crypto.h"
#include "sa_parse.h"
#include "sa_table.h"

#define TABLE_SAS	16
#define REQUESTS_MAX	32
#define SEPARATOR	"\n%%\n"
#define POLLS_MAX	100000

/* The sample's SAs, an ESN one, and the outbound half of SPI 0x1000's pair. */
static const char preload[] =
	"src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x1000 reqid 1 mode tunnel "
	"replay-window 32 aead \"rfc4106(gcm(aes))\" "
	"0xa54dca182530bb1d6d132cded6237b2ed91e3f72 128\n"
	"src 192.0.2.20 dst 192.0.2.10 proto esp spi 0x1001 reqid 1 mode tunnel "
	"aead \"rfc4106(gcm(aes))\" 0x0102030405060708090a0b0c0d0e0f1011121314 128\n"
	"src 2001:db8:0:1::10 dst 2001:db8:0:1::20 proto esp spi 0x2000 reqid 2 "
	"mode transport replay-window 1024 flag esn enc \"cbc(aes)\" "
	"0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
	"auth-trunc \"hmac(sha256)\" "
	"0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f 128\n"
	"src 192.0.2.10 dst 192.0.2.20 proto ah spi 0x4000 reqid 4 mode transport "
	"replay-window 32 auth \"hmac(sha1)\" 0xb7c2764d2a5a4d767706f85d8690024ad6bda340\n";

static struct rxsec_sa_table sat;
static rte_spinlock_t sat_lock = RTE_SPINLOCK_INITIALIZER;
static struct rxsec_control_ctx ctx = { .sat = &sat, .lock = &sat_lock, .replay_window = -1 };
static struct rxsec_control *ctl;
static struct sockaddr_un sun = { .sun_family = AF_UNIX };

struct reply {
	char *p;
	size_t len, cap;
};

static void
control_close(void)
{
	rxsec_control_close(ctl);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rxsec_fuzz_eal_init(NULL);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/rxsec-fuzz-ctl-%d.sock",
		 (int)getpid());
	ctl = rxsec_control_open(sun.sun_path, &ctx);
	if (ctl == NULL)
		abort();
	atexit(control_close);
	return 0;
}

static void
table_start(void)
{
	struct rxsec_sa_list list = {0};
	struct rxsec_sa_parse_error err;
	char why[256];

	if (rxsec_sa_table_create(&sat, "fuzz_ctl", TABLE_SAS, (int)rte_socket_id(),
				  &rxsec_crypto_ipsec_mb) != 0 ||
	    rxsec_sa_parse_string(preload, "preload", &list, &err) != 0)
		abort();
	for (unsigned int i = 0; i < list.n; i++)
		FUZZ_ASSERT(rxsec_sa_table_add(&sat, &list.sa[i], why, sizeof(why)) >= 0,
			    "preloaded SA %u: %s", i, why);
	rxsec_sa_list_free(&list);
	/* two stages, so SAs added at run time meet the nesting placement */
	rxsec_sa_table_assign_transports(&sat, 2);
}

static void
table_end(void)
{
	for (uint32_t i = 0; i < sat.capacity; i++)
		if (sat.slot[i] != NULL)
			FUZZ_ASSERT(rxsec_sa_table_remove(&sat, i) != NULL, "slot %u", i);
	/* no reader registered: every removed SA is free at once */
	rxsec_sa_table_reclaim(&sat);
	FUZZ_ASSERT(sat.count == 0 && sat.nb_pending == 0, "%u SAs left, %u pending",
		    sat.count, sat.nb_pending);
	rxsec_sa_table_free(&sat);
}

static void
reply_room(struct reply *r)
{
	if (r->cap - r->len >= 4096)
		return;
	r->cap = r->cap ? r->cap * 2 : 16384;
	r->p = realloc(r->p, r->cap);
	if (r->p == NULL)
		abort();
}

/* One request over a fresh connection, served by housekeeping polls as on
 * rxsec's main lcore; the whole reply, read until the server closes. */
static void
exchange(const uint8_t *req, size_t len, struct reply *r)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	size_t sent = 0;
	bool shut = false, closed = false;

	FUZZ_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
		    "cannot connect to %s", sun.sun_path);
	r->len = 0;
	for (unsigned int i = 0; i < POLLS_MAX && !closed; i++) {
		ssize_t n;

		if (sent < len) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			sent += n > 0 ? (size_t)n : 0;
		}
		if (sent == len && !shut)
			shut = shutdown(fd, SHUT_WR) == 0;
		rxsec_control_housekeeping(&ctx, ctl);
		reply_room(r);
		while ((n = recv(fd, r->p + r->len, r->cap - r->len, 0)) > 0) {
			r->len += (size_t)n;
			reply_room(r);
		}
		closed = n == 0;
	}
	close(fd);
	FUZZ_ASSERT(closed, "no reply to a %zu-byte request after %u polls", len, POLLS_MAX);
}

static unsigned int
count_str(const struct reply *r, const char *s)
{
	size_t n = strlen(s);
	unsigned int k = 0;

	for (const char *p = r->p; (p = memmem(p, r->len - (size_t)(p - r->p), s, n)) != NULL;
	     p += n)
		k++;
	return k;
}

/* The request's command word, as the server reads it (none: ""). */
static void
command_of(const uint8_t *req, size_t len, char *cmd, size_t cap)
{
	size_t n = 0;

	if (memchr(req, '\0', len) != NULL)
		len = 0;	/* refused as a whole */
	while (n < len && n + 1 < cap && strchr(" \t\n", req[n]) == NULL)
		n++;
	memcpy(cmd, req, n);
	cmd[n] = '\0';
}

static void
check_table(void)
{
	uint32_t live = 0;

	for (uint32_t i = 0; i < sat.capacity; i++) {
		struct rxsec_sa *sa = sat.slot[i];

		if (sa == NULL)
			continue;
		live++;
		FUZZ_ASSERT(sa->id == i && rxsec_sa_table_find(&sat, &sa->key) == sa,
			    "SA spi 0x%08x in slot %u not found by its key", sa->spi, i);
	}
	FUZZ_ASSERT(live == sat.count, "%u SAs in slots, count %u", live, sat.count);
}

/* What the reply says against what the table did. */
static void
check_reply(const char *cmd, const struct reply *r, uint32_t before)
{
	int64_t ok, v;
	struct json_top top;
	const char *why;
	size_t off;

	FUZZ_ASSERT(json_check_reply(r->p, r->len, &top, &off, &why) == 0,
		    "%s: reply not JSON at byte %zu of %zu (%s): %.*s", cmd, off, r->len, why,
		    (int)(r->len < 400 ? r->len : 400), r->p);
	FUZZ_ASSERT(json_top_get(&top, "ok", &ok), "%s: no \"ok\"", cmd);
	FUZZ_ASSERT(ok || top.has_error || strcmp(cmd, "add") == 0,
		    "%s: refused without an error", cmd);
	if (strcmp(cmd, "add") == 0) {
		FUZZ_ASSERT(sat.count - before == count_str(r, "\",\"id\":"),
			    "add: %u SAs more, %u ids", sat.count - before,
			    count_str(r, "\",\"id\":"));
	} else if (strcmp(cmd, "del") == 0 && ok) {
		FUZZ_ASSERT(json_top_get(&top, "deleted", &v) && v >= 1 &&
			    before - sat.count == v, "del: %u SAs fewer", before - sat.count);
	} else {
		FUZZ_ASSERT(sat.count == before, "%s: %u SAs before, %u after", cmd, before,
			    sat.count);
	}
	if (strcmp(cmd, "list") == 0 && ok) {
		FUZZ_ASSERT(count_str(r, "\"state\":\"live\"") == sat.count &&
			    count_str(r, "\"state\":\"deleted\"") == sat.nb_pending + sat.nb_gone,
			    "list: does not name each SA once");
	}
	if (strcmp(cmd, "update-esn") == 0 && ok) {
		unsigned int queued = 0;

		FUZZ_ASSERT(json_top_get(&top, "seq_hi", &v), "update-esn: no seq_hi");
		for (uint32_t i = 0; i < sat.capacity; i++)
			queued += sat.slot[i] != NULL && sat.slot[i]->esn_hi_req ==
				  (1ull << 32 | (uint64_t)v);
		FUZZ_ASSERT(queued >= 1, "update-esn: seq_hi %" PRId64 " not queued", v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *req = data;
	struct reply r = {0};

	table_start();
	for (unsigned int i = 0; i < REQUESTS_MAX && req <= end; i++) {
		const uint8_t *sep = memmem(req, (size_t)(end - req), SEPARATOR,
					    strlen(SEPARATOR));
		size_t len = (size_t)((sep != NULL ? sep : end) - req);
		uint32_t before = sat.count;
		char cmd[16];

		command_of(req, len, cmd, sizeof(cmd));
		exchange(req, len, &r);
		check_reply(cmd, &r, before);
		check_table();
		if (sep == NULL)
			break;
		req = sep + strlen(SEPARATOR);
	}
	free(r.p);
	table_end();
	return 0;
}
