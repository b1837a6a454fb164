// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the trace-file input path of `irqpath report`.  Each
 * input is written to a memfd and read exactly as a file given on the
 * command line (libtracecmd open, event resolution, record iteration,
 * chain engine, text and JSON report).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <trace-cmd.h>

#include "irqpath.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	devnull = fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct progress pg = { false, 0 };
	struct analysis *an;
	char path[64];
	int fd;

	fd = memfd_create("irqpath-fuzz", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	an = calloc(1, sizeof(*an));
	if (an) {
		an->file = path;
		an->filter = (struct filter){ -1, -1, -1 };
		if (!read_trace(an, &pg) && devnull) {
			report_text(devnull, an);
			report_json_file(devnull, an, true);
		}
		engine_free(an->eng);
		free(an);
	}
	close(fd);
	return 0;
}
