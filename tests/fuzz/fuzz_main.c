/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Runs a fuzz target over saved inputs without libFuzzer, so any compiler
 * builds it (the test suite replays the corpus in the release and the
 * ASan/UBSan builds): each argument is a file, or a directory whose files
 * are run in name order. A broken invariant or a sanitizer report stops it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned int nb_run;

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "rxsec-fuzz: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* one byte more, so an empty file is not a NULL buffer */
	buf = malloc((size_t)len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "rxsec-fuzz: %s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	nb_run++;
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_dir(const char *dir)
{
	struct dirent **ent;
	char path[4096];
	int n, ret = 0;

	n = scandir(dir, &ent, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "rxsec-fuzz: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (ent[i]->d_name[0] != '.' && ret == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, ent[i]->d_name);
			ret = run_file(path);
		}
		free(ent[i]);
	}
	free(ent);
	return ret;
}

int
main(int argc, char **argv)
{
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "rxsec-fuzz: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		if ((S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i])) != 0)
			return 2;
	}
	if (nb_run == 0) {
		fprintf(stderr, "rxsec-fuzz: no input to run\n");
		return 2;
	}
	printf("%u inputs run, no invariant broken\n", nb_run);
	return 0;
}
