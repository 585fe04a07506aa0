/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target: the --control socket (app/rxsec/control.c) as rxsec-ctl
 * meets it. The input is up to 32 steps, split at "\n%%\n", run over real
 * connections to a control socket served by the housekeeping call rxsec's
 * main lcore makes, with an SA table that starts every input holding the
 * SAs below. A step is a request that a client sends whole and ends (shuts
 * down its sending side); then the server is polled until nothing moves.
 *
 * A step may start with a line of words after "@", which lets an input
 * drive up to 12 clients at once (the server serves 8, the others wait in
 * the listen backlog); the rest of the step is its body:
 *   cN       client N (0-11; default: the first without a connection);
 *            it connects if it has no connection, else its body continues
 *            the request it has not ended (a client whose request is ended
 *            takes no more);
 *   part=K   send only the first K bytes of the body now: the rest, and the
 *            end of the request, go at the next step, before its own body;
 *   open     do not end the request after the body;
 *   close    close the client once this step's bytes are sent, without
 *            reading any reply (a request cut short, or a reply unread);
 *   crowd    then poll once more with the clock jumped, as if every client
 *            had been silent 0.5 s: if a client waits while all 8 slots
 *            are taken, the oldest one that has sent nothing is crowded
 *            out and the first waiting client takes its slot.
 * Unknown words are ignored. At the end of an input every client ends its
 * request and the server is polled until all are served; then 8 clients
 * send a byte each, which the server must all take at once.
 *
 * The target keeps a model of the server: its 8 slots, which client each
 * holds since which poll round, what it has read of each, the backlog in
 * connecting order, rebuilt poll by poll the way control.c's poll goes
 * round. The server's clock runs 1000 times slow while it polls, so no
 * deadline or silence passes by itself and what it does follows from what
 * the clients did alone (a "crowd" poll makes the first silence test pass).
 * Invariants, after every poll:
 * - the server has read all a client sent if the model has it in a slot,
 *   nothing if in the backlog (the kernel's count of unread bytes);
 * - a client gets bytes only once the model has served its request (its
 *   end, or its close, reached the server), and then in that same poll;
 *   a served client's connection closes after one reply, which is one
 *   JSON object (json_check.c, strict RFC 8259 and UTF-8) and a newline,
 *   with "ok"; a refusal says why ("error"), or, for add, SA by SA;
 * - a crowded-out client gets exactly the "crowded out" error and its
 *   connection closes; no other client does;
 * - the table changed as the replies say: add gained one SA per "id", a
 *   del that succeeded lost "deleted" SAs, nothing else changed the count;
 *   a request whose reply went unread may only have added (add) or
 *   deleted (del) SAs, and one whose client closed before the server saw
 *   it end none (control.c does not run it);
 * - for a reply to the only request served since its own poll began: the
 *   count changed exactly as it says, list names every live SA once and
 *   every deleted one it still keeps, update-esn queued exactly the
 *   "seq_hi" it reported;
 * - every live SA is found by its key, in its own slot.
 * At the end of an input every client is served and gone, the server
 * holds no slot (8 new clients are all taken in one poll), every SA is
 * removed and reclaimed, and the table freed: a leak shows under ASan.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/sockios.h>

#include <rte_common.h>
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
#define CLIENTS		12	/* 8 served, 4 more waiting */
#define SLOTS		8	/* control.c's CONN_MAX */
#define ROUNDS		8	/* control.c's poll rounds while clients come */
#define CLOCK_SLOW	1000

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

/* Where a client's connection is, in the server as the model has it. */
enum peer_state {
	PEER_WAITING,		/* in the listen backlog */
	PEER_READING,		/* in a slot, its request not ended */
	PEER_REPLYING,		/* served, the reply going out */
	PEER_DONE,		/* out of its slot */
};

/* One connection a client made. */
struct peer {
	int client;
	int fd;			/* -1 once closed: after the reply, or by the input */
	uint8_t *req;		/* the request as given so far */
	size_t len, cap;
	size_t avail;		/* of req, to send now (part= holds the rest) */
	size_t sent;		/* into the socket */
	bool end;		/* shut down the sending side once all is sent */
	bool shut;
	struct reply r;
	size_t got;		/* reply bytes in the last poll */
	bool eof;		/* the server closed the connection */
	/* the model's */
	enum peer_state st;
	unsigned int slot;
	uint64_t since;		/* round of its accept */
	size_t seen;		/* bytes the server has read */
	bool served_now, crowded_now, crowded;
	uint32_t before;	/* SAs when the poll that served it began */
	uint64_t svc0;		/* requests served before that poll */
	int lo, hi;		/* what its request may change the count by, unread */
	bool counted;		/* its reply's change is in `stated` */
};

static struct peer peers[REQUESTS_MAX + SLOTS];	/* steps', then drain()'s */
static unsigned int nb_peers;
static int slot_peer[SLOTS];		/* -1: free */
static int client_peer[CLIENTS];	/* -1: no connection */
static uint64_t tick;			/* poll rounds, as accept times */
static uint64_t changes;		/* of the model, to see a poll move */
static uint64_t services;		/* requests served this input */
static int64_t stated;			/* SAs added less deleted, per the replies */
static uint32_t count0;			/* SAs at the input's start */
/* RXSEC_FUZZ_VERBOSE=1: what the server did, to see what a seed reaches */
static bool verbose;

/* control.c reads the clock rate for its deadlines and its "silent for
 * 0.5 s" test through rte_get_timer_hz(), that is rte_get_tsc_hz(), which
 * this target's link wraps (meson.build). While the target polls the
 * socket the rate is CLOCK_SLOW times the TSC's: 5 s then last over an
 * hour, so no deadline or silence passes within an input however slow it
 * runs. A "crowd" poll makes the next read 1 Hz: the first silence test
 * then needs 0 cycles of silence, every later read is slow again. Reclaim
 * and SA lifetimes keep the TSC's rate. */
static uint64_t poll_hz;		/* 0: the TSC's */
static bool clock_jump;

uint64_t __real_rte_get_tsc_hz(void);
uint64_t __wrap_rte_get_tsc_hz(void);

uint64_t
__wrap_rte_get_tsc_hz(void)
{
	if (clock_jump) {
		clock_jump = false;
		return 1;
	}
	return poll_hz != 0 ? poll_hz : __real_rte_get_tsc_hz();
}

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
	verbose = getenv("RXSEC_FUZZ_VERBOSE") != NULL;
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
	/* two stages, so SAs added at run time meet the nesting placement,
	 * and SAs left for the first receiver to claim (an ESN update pins) */
	sat.claim_on_rx = true;
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

	if (len != 0 && memchr(req, '\0', len) != NULL)
		len = 0;	/* refused as a whole */
	while (n < len && n + 1 < cap && strchr(" \t\n", req[n]) == NULL)
		n++;
	if (n != 0)
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

/* One JSON object and a newline, with "ok", and why when refused. */
static void
reply_json(const char *cmd, const struct reply *r, struct json_top *top)
{
	const char *why;
	size_t off;
	int64_t ok;

	FUZZ_ASSERT(json_check_reply(r->p, r->len, top, &off, &why) == 0,
		    "%s: reply not JSON at byte %zu of %zu (%s): %.*s", cmd, off, r->len, why,
		    (int)(r->len < 400 ? r->len : 400), r->p);
	FUZZ_ASSERT(json_top_get(top, "ok", &ok), "%s: no \"ok\"", cmd);
	FUZZ_ASSERT(ok || top->has_error || strcmp(cmd, "add") == 0,
		    "%s: refused without an error", cmd);
}

/* SAs added less SAs deleted, as the reply says. */
static int64_t
reply_delta(const char *cmd, const struct reply *r, const struct json_top *top)
{
	int64_t ok = 0, v = 0;

	json_top_get(top, "ok", &ok);
	if (strcmp(cmd, "add") == 0)
		return count_str(r, "\",\"id\":");
	if (strcmp(cmd, "del") == 0 && ok) {
		FUZZ_ASSERT(json_top_get(top, "deleted", &v) && v >= 1 && v <= 2,
			    "del: deleted %" PRId64, v);
		return -v;
	}
	return 0;
}

/* What the reply says against the table, which only its request changed
 * since it held `before` SAs. */
static void
check_exact(const char *cmd, const struct reply *r, const struct json_top *top,
	    uint32_t before)
{
	int64_t ok = 0, v, d = reply_delta(cmd, r, top);

	json_top_get(top, "ok", &ok);
	FUZZ_ASSERT((int64_t)sat.count - before == d, "%s: %u SAs before, %u after, reply: %+"
		    PRId64, cmd, before, sat.count, d);
	if (strcmp(cmd, "list") == 0 && ok) {
		FUZZ_ASSERT(count_str(r, "\"state\":\"live\"") == sat.count &&
			    count_str(r, "\"state\":\"deleted\"") == sat.nb_pending + sat.nb_gone,
			    "list: does not name each SA once");
	}
	if (strcmp(cmd, "update-esn") == 0 && ok) {
		unsigned int queued = 0;

		FUZZ_ASSERT(json_top_get(top, "seq_hi", &v), "update-esn: no seq_hi");
		for (uint32_t i = 0; i < sat.capacity; i++)
			queued += sat.slot[i] != NULL && sat.slot[i]->esn_hi_req ==
				  (1ull << 32 | (uint64_t)v);
		FUZZ_ASSERT(queued >= 1, "update-esn: seq_hi %" PRId64 " not queued", v);
	}
}

/* ------------------------------------------------------------------ */
/* Clients                                                              */
/* ------------------------------------------------------------------ */

static void
model_start(void)
{
	nb_peers = 0;
	memset(slot_peer, 0xff, sizeof(slot_peer));
	memset(client_peer, 0xff, sizeof(client_peer));
	services = 0;
	stated = 0;
	count0 = sat.count;
}

/* The first client without a connection, -1 if none. */
static int
client_idle(void)
{
	for (int c = 0; c < CLIENTS; c++)
		if (client_peer[c] < 0)
			return c;
	return -1;
}

/* Client c connects; NULL if the listen backlog is full. */
static struct peer *
peer_connect(int c)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct peer *p;

	FUZZ_ASSERT(fd >= 0 && nb_peers < RTE_DIM(peers), "no socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		FUZZ_ASSERT(errno == EAGAIN, "cannot connect to %s: %s", sun.sun_path,
			    strerror(errno));
		close(fd);
		return NULL;
	}
	p = &peers[nb_peers];
	memset(p, 0, sizeof(*p));
	p->client = c;
	p->fd = fd;
	p->st = PEER_WAITING;
	client_peer[c] = (int)nb_peers++;
	return p;
}

/* The body goes after what the client gave before, part of it now. */
static void
peer_give(struct peer *p, const uint8_t *body, size_t len, size_t part, bool open)
{
	if (p->cap - p->len < len) {
		p->cap = p->len + len;
		p->req = realloc(p->req, p->cap);
		if (p->req == NULL)
			abort();
	}
	if (len != 0)
		memcpy(p->req + p->len, body, len);
	p->avail = p->len + (part < len ? part : len);
	p->len += len;
	p->end = !open;
}

/* What the socket takes of what is to go now, then the end if due; how
 * many bytes went. */
static size_t
peer_push(struct peer *p)
{
	size_t before = p->sent;

	while (p->fd >= 0 && p->sent < p->avail) {
		ssize_t n = send(p->fd, p->req + p->sent, p->avail - p->sent, MSG_NOSIGNAL);

		if (n <= 0)
			break;	/* full, or the server closed: the model says which */
		p->sent += (size_t)n;
	}
	if (p->fd >= 0 && p->end && !p->shut && p->sent == p->len)
		p->shut = shutdown(p->fd, SHUT_WR) == 0;
	return p->sent - before;
}

static void
peer_close(struct peer *p)
{
	close(p->fd);
	p->fd = -1;
	client_peer[p->client] = -1;
}

/* What the server sent since the last poll; how many bytes. */
static size_t
peer_read(struct peer *p)
{
	ssize_t n = -1;

	p->got = 0;
	if (p->fd < 0)
		return 0;
	for (;;) {
		reply_room(&p->r);
		n = recv(p->fd, p->r.p + p->r.len, p->r.cap - p->r.len, 0);
		if (n <= 0)
			break;
		p->r.len += (size_t)n;
		p->got += (size_t)n;
	}
	/* reset: the server closed with bytes of ours unread */
	p->eof = n == 0 || errno == ECONNRESET;
	FUZZ_ASSERT(n == 0 || errno == EAGAIN || errno == ECONNRESET,
		    "client %d: recv: %s", p->client, strerror(errno));
	return p->got;
}

/* ------------------------------------------------------------------ */
/* The server, as the model has it                                      */
/* ------------------------------------------------------------------ */

/* The first client in the listen backlog (connecting order), -1 if none. */
static int
waiting_next(void)
{
	for (unsigned int i = 0; i < nb_peers; i++)
		if (peers[i].st == PEER_WAITING)
			return (int)i;
	return -1;
}

static unsigned int
slots_free(void)
{
	unsigned int n = 0;

	for (unsigned int s = 0; s < SLOTS; s++)
		n += slot_peer[s] < 0;
	return n;
}

static void
model_open(unsigned int s, int i, uint64_t now)
{
	slot_peer[s] = i;
	peers[i].st = PEER_READING;
	peers[i].slot = s;
	peers[i].since = now;
	changes++;
}

static void
model_free(struct peer *p)
{
	slot_peer[p->slot] = -1;
	p->st = PEER_DONE;
	changes++;
}

/* The client that has sent nothing for longest (accepted first, then the
 * lower slot), as control.c's conn_silent() picks it once silence needs no
 * time; -1 if none. */
static int
model_silent(void)
{
	int v = -1;

	for (unsigned int s = 0; s < SLOTS; s++) {
		int i = slot_peer[s];

		if (i < 0 || peers[i].st != PEER_READING || peers[i].seen != 0)
			continue;
		if (v < 0 || peers[i].since < peers[v].since)
			v = i;
	}
	return v;
}

/* Waiting clients into free slots, in order; after a clock jump, into the
 * slot of the silent client crowded out. How many were taken. */
static unsigned int
model_accept(uint64_t now, bool jump)
{
	unsigned int taken = 0;
	int i, v;

	for (unsigned int s = 0; s < SLOTS; s++) {
		if (slot_peer[s] >= 0)
			continue;
		i = waiting_next();
		if (i < 0)
			return taken;
		model_open(s, i, now);
		taken++;
	}
	v = jump ? model_silent() : -1;
	i = waiting_next();
	if (v >= 0 && i >= 0) {
		peers[v].st = PEER_DONE;
		peers[v].crowded = peers[v].crowded_now = true;
		if (verbose)
			fprintf(stderr, "client %d crowded out for client %d\n",
				peers[v].client, peers[i].client);
		model_open(peers[v].slot, i, now);
		taken++;
	}
	return taken;
}

/* The table change a request may make while its reply is unknown. */
static void
model_serve(struct peer *p, uint32_t count, uint64_t svc0)
{
	char cmd[16];

	command_of(p->req, p->sent, cmd, sizeof(cmd));
	/* a client that closed before the server saw its request end is
	 * gone by then: its request, cut short or not, is not run */
	p->lo = p->fd >= 0 && strcmp(cmd, "del") == 0 ? -2 : 0;
	p->hi = p->fd >= 0 && strcmp(cmd, "add") == 0 ? TABLE_SAS : 0;
	p->before = count;
	p->svc0 = svc0;
	p->served_now = true;
	p->st = PEER_REPLYING;
	services++;
	if (verbose)
		fprintf(stderr, "client %d served in slot %u: %s (%zu bytes)%s\n", p->client,
			p->slot, cmd, p->sent, p->fd < 0 ? ", reply unread" : "");
	changes++;
}

/* A slot's turn in a round: what the client sent before the poll is read,
 * and served if its end (or close, or the 1 MiB limit) is there; a reply
 * is all out in the round that starts it, or in the next poll's first
 * round, when the client has read it all (p->eof, seen after the poll),
 * else the client is gone and the server's send fails. */
static void
model_conn(struct peer *p, uint32_t count, uint64_t svc0)
{
	if (p->st == PEER_READING && (p->shut || p->fd < 0 ||
				      p->sent + 1 >= RXSEC_CONTROL_REQUEST_MAX)) {
		model_serve(p, count, svc0);
	} else if (p->st == PEER_READING) {
		changes += p->seen != p->sent;
		p->seen = p->sent;
		return;
	}
	if (p->eof || p->fd < 0)
		model_free(p);
}

/* One rxsec_control_poll(), round by round as control.c goes. */
static void
model_poll(bool jump, uint32_t count, uint64_t svc0)
{
	for (unsigned int round = 0; round < ROUNDS; round++) {
		unsigned int taken = model_accept(++tick, jump && round == 0);

		for (unsigned int s = 0; s < SLOTS; s++)
			if (slot_peer[s] >= 0)
				model_conn(&peers[slot_peer[s]], count, svc0);
		if (taken == 0)
			return;
	}
}

/* ------------------------------------------------------------------ */
/* Polls and what they must show                                        */
/* ------------------------------------------------------------------ */

static void
check_crowded(struct peer *p)
{
	struct json_top top;
	int64_t ok = 1;

	FUZZ_ASSERT(p->eof, "client %d: crowded out, connection still open", p->client);
	reply_json("crowded out", &p->r, &top);
	json_top_get(&top, "ok", &ok);
	FUZZ_ASSERT(!ok && memmem(p->r.p, p->r.len, "\"error\":\"crowded out:", 21) != NULL,
		    "client %d: crowded out, but told: %.*s", p->client,
		    (int)(p->r.len < 400 ? p->r.len : 400), p->r.p);
}

/* The client's whole reply: checked, its change counted. */
static void
check_done(struct peer *p)
{
	struct json_top top;
	char cmd[16];

	command_of(p->req, p->sent, cmd, sizeof(cmd));
	reply_json(cmd, &p->r, &top);
	stated += reply_delta(cmd, &p->r, &top);
	p->counted = true;
	if (verbose)
		fprintf(stderr, "client %d: %.*s\n", p->client,
			(int)(p->r.len < 100 ? p->r.len - 1 : 100), p->r.p);
	if (services == p->svc0 + 1)
		check_exact(cmd, &p->r, &top, p->before);
}

/* Whether the server has left bytes of ours unread (the kernel's count
 * of what the socket sent and the other end has not read yet). */
static bool
peer_unread(const struct peer *p)
{
	int n = 0;

	FUZZ_ASSERT(ioctl(p->fd, SIOCOUTQ, &n) == 0, "SIOCOUTQ: %s", strerror(errno));
	return n != 0;
}

/* What the client saw in the last poll against what the model says. */
static void
check_peer(struct peer *p)
{
	bool heard = p->got != 0 || p->eof;
	bool waits = p->st == PEER_WAITING && p->sent != 0;

	if (p->fd < 0)
		return;
	FUZZ_ASSERT(peer_unread(p) == waits, "client %d: the server has %s the %zu bytes "
		    "it sent", p->client, waits ? "read" : "not read all", p->sent);
	if (p->crowded_now) {
		check_crowded(p);
	} else {
		FUZZ_ASSERT(!heard || p->st == PEER_REPLYING || p->st == PEER_DONE,
			    "client %d: %zu reply bytes%s before its request was served",
			    p->client, p->got, p->eof ? " and closed" : "");
		FUZZ_ASSERT(!p->served_now || p->got != 0,
			    "client %d: served, but no reply came", p->client);
		if (p->eof)
			check_done(p);
	}
	if (p->eof)
		peer_close(p);
}

/* The SA count against what the replies said, and what unread ones may
 * have done. */
static void
check_count(void)
{
	int64_t lo = stated, hi = stated, d = (int64_t)sat.count - count0;

	for (unsigned int i = 0; i < nb_peers; i++) {
		const struct peer *p = &peers[i];

		if (p->st >= PEER_REPLYING && !p->crowded && !p->counted) {
			lo += p->lo;
			hi += p->hi;
		}
	}
	FUZZ_ASSERT(d >= lo && d <= hi, "%+" PRId64 " SAs since the input began, the replies "
		    "say %+" PRId64 " (%+" PRId64 " to %+" PRId64 " with those unread)",
		    d, stated, lo, hi);
}

/* One poll as rxsec's main lcore makes it, between what the clients send
 * before and read after; whether anything moved. */
static bool
server_poll(bool jump)
{
	uint64_t changes0 = changes, svc0 = services;
	size_t moved = 0;
	uint32_t count;

	for (unsigned int i = 0; i < nb_peers; i++)
		moved += peer_push(&peers[i]);
	/* reclaim and lifetimes at the TSC's rate, then the socket */
	rxsec_control_housekeeping(&ctx, NULL);
	count = sat.count;
	poll_hz = __real_rte_get_tsc_hz() * CLOCK_SLOW;
	clock_jump = jump;
	rxsec_control_poll(ctl);
	poll_hz = 0;
	clock_jump = false;
	for (unsigned int i = 0; i < nb_peers; i++)
		moved += peer_read(&peers[i]);
	model_poll(jump, count, svc0);
	for (unsigned int i = 0; i < nb_peers; i++) {
		check_peer(&peers[i]);
		peers[i].served_now = peers[i].crowded_now = false;
	}
	check_count();
	check_table();
	return moved != 0 || changes != changes0;
}

/* Poll until a poll moves nothing: the server then waits on the clients. */
static void
settle(void)
{
	unsigned int n = 0;

	while (server_poll(false))
		FUZZ_ASSERT(++n < POLLS_MAX, "still busy after %u polls", POLLS_MAX);
}

/* A client waits and every slot is taken: the poll that would come once
 * silent clients have been silent long enough. */
static void
crowd(void)
{
	if (slots_free() != 0 || waiting_next() < 0)
		return;
	server_poll(true);
	settle();
}

/* ------------------------------------------------------------------ */
/* Steps                                                                */
/* ------------------------------------------------------------------ */

struct step {
	int client;		/* -1: the first without a connection */
	size_t part;		/* of the body, to send now */
	bool open, close, crowd;
	const uint8_t *body;
	size_t len;
};

/* A decimal number at w, as far as it goes, saturated. */
static size_t
word_num(const uint8_t *w, size_t n)
{
	size_t v = 0;

	for (size_t i = 0; i < n && w[i] >= '0' && w[i] <= '9'; i++)
		v = v > SIZE_MAX / 10 - 1 ? SIZE_MAX : v * 10 + (size_t)(w[i] - '0');
	return v;
}

static bool
word_is(const uint8_t *w, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(w, s, n) == 0;
}

static void
step_word(struct step *s, const uint8_t *w, size_t n)
{
	if (n >= 2 && w[0] == 'c' && w[1] >= '0' && w[1] <= '9')
		s->client = (int)(word_num(w + 1, n - 1) % CLIENTS);
	else if (n > 5 && memcmp(w, "part=", 5) == 0)
		s->part = word_num(w + 5, n - 5);
	else if (word_is(w, n, "open"))
		s->open = true;
	else if (word_is(w, n, "close"))
		s->close = true;
	else if (word_is(w, n, "crowd"))
		s->crowd = true;
}

/* A step: the body, after a line of words if it starts with "@". */
static void
step_parse(const uint8_t *p, size_t len, struct step *s)
{
	const uint8_t *nl;
	size_t words, i = 1;

	*s = (struct step){ .client = -1, .part = SIZE_MAX, .body = p, .len = len };
	if (len == 0 || p[0] != '@')
		return;
	nl = memchr(p, '\n', len);
	words = nl != NULL ? (size_t)(nl - p) : len;
	s->body = p + (nl != NULL ? words + 1 : len);
	s->len = len - (size_t)(s->body - p);
	while (i < words) {
		size_t n = 0;

		while (i + n < words && p[i + n] != ' ' && p[i + n] != '\t')
			n++;
		step_word(s, p + i, n);
		i += n + 1;
	}
}

static void
step_run(const struct step *s)
{
	int c = s->client >= 0 ? s->client : client_idle();
	struct peer *p = NULL;

	/* what part= held back in the step before goes first */
	for (unsigned int i = 0; i < nb_peers; i++)
		peers[i].avail = peers[i].len;
	if (c >= 0)
		p = client_peer[c] >= 0 ? &peers[client_peer[c]] : peer_connect(c);
	if (p != NULL && !p->end)
		peer_give(p, s->body, s->len, s->part, s->open);
	if (p != NULL && s->close) {
		peer_push(p);
		peer_close(p);
	}
	settle();
	if (s->crowd)
		crowd();
}

/* Every client ends its request; all must be served and gone. */
static void
end_all(void)
{
	for (unsigned int i = 0; i < nb_peers; i++) {
		peers[i].avail = peers[i].len;
		peers[i].end = true;
	}
	settle();
	for (unsigned int i = 0; i < nb_peers; i++)
		FUZZ_ASSERT(peers[i].st == PEER_DONE && peers[i].fd < 0,
			    "client %d: %s at the end", peers[i].client,
			    peers[i].st == PEER_DONE ? "no reply" : "never served");
}

/* Then a client per slot sends a byte, which the server must read at
 * once: it kept no slot of this input's (the next input would meet it,
 * and the fuzzer blame that one). */
static void
drain(void)
{
	end_all();
	for (int c = 0; c < SLOTS; c++) {
		struct peer *p = peer_connect(c);

		FUZZ_ASSERT(p != NULL, "client %d: backlog full at the end", c);
		peer_give(p, (const uint8_t *)"x", 1, SIZE_MAX, true);
	}
	settle();
	end_all();
	for (unsigned int i = 0; i < nb_peers; i++) {
		free(peers[i].req);
		free(peers[i].r.p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *req = data;

	table_start();
	model_start();
	for (unsigned int i = 0; i < REQUESTS_MAX && req <= end; i++) {
		const uint8_t *sep = memmem(req, (size_t)(end - req), SEPARATOR,
					    strlen(SEPARATOR));
		size_t len = (size_t)((sep != NULL ? sep : end) - req);
		struct step s;

		step_parse(req, len, &s);
		step_run(&s);
		if (sep == NULL)
			break;
		req = sep + strlen(SEPARATOR);
	}
	drain();
	table_end();
	return 0;
}
