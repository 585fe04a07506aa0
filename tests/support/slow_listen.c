/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Test shim, loaded with LD_PRELOAD: listen() starts only after a delay
 * (RXSEC_TEST_LISTEN_DELAY_MS, default 500), widening the window between
 * bind() and listen() that a client racing the socket file would hit.
 * Unlike holding the call back under strace, it needs no ptrace and keeps
 * LeakSanitizer working in the process.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

typedef int (*listen_fn)(int, int);

static void
delay_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
listen(int fd, int backlog)
{
	listen_fn real = (listen_fn)dlsym(RTLD_NEXT, "listen");
	const char *v = getenv("RXSEC_TEST_LISTEN_DELAY_MS");
	long ms;
	int saved;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	saved = errno;
	ms = v != NULL ? strtol(v, NULL, 10) : 500;
	delay_ms(ms);
	/* the test reads this to know the shim was in the process */
	fprintf(stderr, "slow_listen: listen() held back %ld ms\n", ms);
	errno = saved;
	return real(fd, backlog);
}
