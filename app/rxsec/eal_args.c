/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Options EAL would take but this build of rxsec cannot honour are refused
 * here, with a reason and exit status 2, instead of failing inside EAL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "eal_args.h"

#ifdef RXSEC_STATIC_DPDK
/* EAL's short options that take a value: in "-l0d" the "0d" is the value. */
static const char eal_short_valued[] = "abcdlLmnrsS";

/* EAL's -d (it has no long form), alone or grouped after flags (-vd). */
static bool
asks_driver_load(const char *a)
{
	if (a[0] != '-' || a[1] == '-')
		return false;
	for (const char *c = a + 1; *c != '\0'; c++) {
		if (*c == 'd')
			return true;
		if (strchr(eal_short_valued, *c) != NULL)
			return false;
	}
	return false;
}
#endif

int
rxsec_eal_args_check(int argc, char **argv)
{
#ifdef RXSEC_STATIC_DPDK
	/* A driver built as a shared object brings its own copy of EAL's
	 * libraries, whose start-up aborts the process. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (!asks_driver_load(argv[i]))
			continue;
		fprintf(stderr, "rxsec: %s: this rxsec has every DPDK driver built in (DPDK "
			"linked statically) and cannot load one from a shared object; build "
			"it with -Dstatic_dpdk=false to use EAL's -d\n", argv[i]);
		return -1;
	}
#else
	(void)argc;
	(void)argv;
#endif
	return 0;
}
