/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verdict_file.h"

#define STREAM_BUF	(1 << 20)

struct line {
	unsigned long n;
	char *text;
};

static void
part_name(char *buf, size_t len, const char *path, unsigned int i)
{
	snprintf(buf, len, "%s.part%u", path, i);
}

int
rxsec_verdict_files_open(struct rxsec_verdict_files *v, const char *path, unsigned int nb)
{
	char name[4096];

	memset(v, 0, sizeof(*v));
	if (path == NULL)
		return 0;
	v->path = path;
	v->nb = nb;
	for (unsigned int i = 0; i < nb; i++) {
		if (nb == 1)
			snprintf(name, sizeof(name), "%s", path);
		else
			part_name(name, sizeof(name), path, i);
		v->f[i] = fopen(name, "w");
		if (v->f[i] == NULL) {
			fprintf(stderr, "rxsec: --verdicts: cannot create '%s': %s\n", name,
				strerror(errno));
			return -1;
		}
		setvbuf(v->f[i], NULL, _IOFBF, STREAM_BUF);
	}
	return 0;
}

FILE *
rxsec_verdict_files_get(struct rxsec_verdict_files *v, unsigned int i)
{
	return i < v->nb ? v->f[i] : NULL;
}

bool
rxsec_verdict_files_failed(struct rxsec_verdict_files *v)
{
	for (unsigned int i = 0; i < v->nb; i++)
		if (v->f[i] != NULL && ferror(v->f[i]))
			return true;
	return false;
}

static int
by_n(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* Read every part, sort by "n", write the final file. Runs once, at exit. */
static int
merge_parts(struct rxsec_verdict_files *v)
{
	struct line *lines = NULL;
	size_t nb = 0, cap = 0;
	char name[4096];
	int ret = 0;
	FILE *out;

	for (unsigned int i = 0; i < v->nb && ret == 0; i++) {
		char *buf = NULL;
		size_t blen = 0;
		FILE *f;

		part_name(name, sizeof(name), v->path, i);
		f = fopen(name, "r");
		if (f == NULL) {
			ret = -1;
			break;
		}
		while (getline(&buf, &blen, f) > 0) {
			if (nb == cap) {
				struct line *grown;

				cap = cap ? cap * 2 : 1024;
				grown = realloc(lines, cap * sizeof(*lines));
				if (grown == NULL) {
					ret = -1;
					break;
				}
				lines = grown;
			}
			lines[nb].n = strtoul(buf + strlen("{\"n\":"), NULL, 10);
			lines[nb++].text = strdup(buf);
		}
		free(buf);
		fclose(f);
		remove(name);
	}
	out = ret == 0 ? fopen(v->path, "w") : NULL;
	if (out == NULL)
		ret = -1;
	if (ret == 0)
		qsort(lines, nb, sizeof(*lines), by_n);
	for (size_t i = 0; i < nb; i++) {
		if (out != NULL && lines[i].text != NULL)
			fputs(lines[i].text, out);
		free(lines[i].text);
	}
	free(lines);
	if (out != NULL && fclose(out) != 0)
		ret = -1;
	return ret;
}

int
rxsec_verdict_files_close(struct rxsec_verdict_files *v)
{
	int ret = 0;

	for (unsigned int i = 0; i < v->nb; i++)
		if (v->f[i] != NULL && fclose(v->f[i]) != 0)
			ret = -1;
	if (ret == 0 && v->nb > 1)
		ret = merge_parts(v);
	if (ret != 0)
		fprintf(stderr, "rxsec: --verdicts: cannot write '%s': %s\n", v->path,
			strerror(errno));
	memset(v->f, 0, sizeof(v->f));
	v->nb = 0;
	return ret;
}
