/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "eal_exit.h"
#include "fuzz.h"

void
rxsec_fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken (%s): ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void
rxsec_fuzz_eal_init(const char *vdev)
{
	char prefix[64];
	char *argv[] = { "rxsec-fuzz", "-l", "0", "--no-huge", "-m", "256", "--no-pci",
			 "--file-prefix", prefix, "--no-telemetry", "--log-level", "*:error",
			 vdev != NULL ? "--vdev" : NULL, (char *)vdev, NULL };
	int argc = vdev != NULL ? 14 : 12;

	/* one per process: libFuzzer's -jobs run several at once */
	snprintf(prefix, sizeof(prefix), "rxsec-fuzz-%d", (int)getpid());

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "rxsec-fuzz: EAL init failed: %s\n", rte_strerror(rte_errno));
		exit(2);
	}
	atexit(rxsec_eal_exit);
}
