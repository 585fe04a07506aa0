/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rxsec-ctl: change SAs and read counters of a running rxsec through its
 * --control socket. One request per connection; the reply is one JSON
 * object, printed as received. Exit 0 when the reply says "ok":true.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_proto.h"

struct buf {
	char *p;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
		char *p = realloc(b->p, cap);

		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* An SA file for add -f: text, and no more than the daemon takes in one
 * request (so /dev/zero or an endless pipe is refused, not read forever). */
static int
buf_add_file(struct buf *b, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	const char *why = NULL;
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "rxsec-ctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (why == NULL && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (memchr(chunk, '\0', n) != NULL)
			why = "NUL byte: not a text file";
		else if (b->len + n >= RXSEC_CONTROL_REQUEST_MAX)
			why = "too large for one request (" RXSEC_CONTROL_REQUEST_MAX_TEXT "): split it";
		else if (buf_add(b, chunk, n) != 0)
			why = "out of memory";
	}
	if (why == NULL && ferror(f))
		why = strerror(errno);
	if (f != stdin)
		fclose(f);
	if (why != NULL)
		fprintf(stderr, "rxsec-ctl: %s: %s\n", path, why);
	return why != NULL ? -1 : 0;
}

static void
usage(FILE *out)
{
	fprintf(out, "Usage: rxsec-ctl --socket PATH COMMAND [ARGS]\n"
	       "\n"
	       "  add -f FILE|-                    add the SAs of an ip xfrm file (or stdin)\n"
	       "  add src A dst B proto esp spi N ... the same, one SA on the command line\n"
	       "  del spi N dst ADDR [proto esp|ah] [pair]\n"
	       "                                   delete an SA (pair: and its outbound SA)\n"
	       "  update-esn spi N dst ADDR [proto P] hi N\n"
	       "                                   set the window top's high 32 bits (UPDATE_SA)\n"
	       "  list                             every SA with its state and counters\n"
	       "  stats [spi N dst ADDR [proto P]] totals, or one SA's counters\n"
	       "\n"
	       "Replies are JSON; exit status 0 when the reply has \"ok\":true.\n");
}

/* The request: the command word, then its arguments (an SA file for add -f). */
static int
build_request(int argc, char **argv, struct buf *req)
{
	const char *cmd = argv[0];

	if (buf_add(req, cmd, strlen(cmd)) != 0)
		return -1;
	if (strcmp(cmd, "add") == 0) {
		if (buf_add(req, "\n", 1) != 0)
			return -1;
		if (argc >= 3 && strcmp(argv[1], "-f") == 0) {
			for (int i = 2; i < argc; i++)
				if (buf_add_file(req, argv[i]) != 0 || buf_add(req, "\n", 1) != 0)
					return -1;
			return 0;
		}
		if (argc < 2 || strcmp(argv[1], "-f") == 0) {
			fprintf(stderr, "rxsec-ctl: add needs -f FILE or an SA\n");
			return -1;
		}
	}
	for (int i = 1; i < argc; i++)
		if (buf_add(req, " ", 1) != 0 || buf_add(req, argv[i], strlen(argv[i])) != 0)
			return -1;
	return buf_add(req, "\n", 1);
}

static int
transact(const char *path, const struct buf *req, struct buf *rep)
{
	static const struct timeval rcv_timeout = { .tv_sec = 30 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t off = 0;
	char chunk[4096];
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "rxsec-ctl: socket path too long\n");
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "rxsec-ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (off < req->len) {
		n = send(fd, req->p + off, req->len - off, MSG_NOSIGNAL);
		if (n <= 0) {
			fprintf(stderr, "rxsec-ctl: send: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);	/* end of request */
	/* rxsec answers within seconds (it gives a client 5 s to read); a
	 * daemon that stopped serving must not hang a script */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv_timeout, sizeof(rcv_timeout));
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		if (buf_add(rep, chunk, (size_t)n) != 0)
			break;
	close(fd);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		fprintf(stderr, "rxsec-ctl: no reply from rxsec within %ld s\n",
			(long)rcv_timeout.tv_sec);
		return -1;
	}
	if (n < 0 || rep->len == 0) {
		fprintf(stderr, "rxsec-ctl: no reply from rxsec\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("RXSEC_CONTROL");
	struct buf req = {0}, rep = {0};
	int c, rc;

	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind >= argc) {
		fprintf(stderr, "rxsec-ctl: %s\n\n", path == NULL ?
			"no socket: give --socket PATH or set RXSEC_CONTROL" : "no command");
		usage(stderr);
		return 2;
	}
	rc = 1;
	if (build_request(argc - optind, argv + optind, &req) == 0 &&
	    transact(path, &req, &rep) == 0) {
		fputs(rep.p, stdout);
		rc = strstr(rep.p, "\"ok\":true") != NULL ? 0 : 1;
	}
	free(req.p);
	free(rep.p);
	return rc;
}
