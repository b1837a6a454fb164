// SPDX-License-Identifier: GPL-2.0
/*
 * irqpath - follow every interrupt into a KVM guest through a trace-cmd
 * recording.
 *
 *   irqpath report [options] FILE.dat...
 *   irqpath record [-o FILE] -- COMMAND...
 *   irqpath events
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <trace-cmd.h>

#include "irqpath.h"

#define IRQPATH_VERSION "1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: irqpath report [--json FILE|-] [--perfetto FILE] [--svg FILE]\n"
		"                      [--path vhost|user|vfio|timer|ipi|1..5] [--vcpu N] [--vector N]\n"
		"                      [--progress|--no-progress] FILE.dat...\n"
		"       irqpath record [-n] [-o FILE] -- COMMAND [ARG...]\n"
		"       irqpath events\n"
		"\n"
		"report   stitch the recording's events into per-interrupt chains for the\n"
		"         five delivery paths; one report per input file\n"
		"record   run 'trace-cmd record' with the events irqpath uses that this\n"
		"         kernel has (default output: trace.dat; -n: print it, run nothing)\n"
		"events   list those events and whether this kernel has them\n");
}

static int parse_path(const char *s)
{
	int i;

	for (i = 0; i < P_NR; i++)
		if (!strcmp(s, path_name[i]))
			return i;
	if (s[0] >= '1' && s[0] <= '5' && !s[1])
		return s[0] - '1';
	if ((s[0] == 'P' || s[0] == 'p') && s[1] >= '1' && s[1] <= '5' && !s[2])
		return s[1] - '1';
	return -1;
}

static int parse_int(const char *s, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "perfetto", required_argument, NULL, 'P' },
		{ "svg", required_argument, NULL, 's' },
		{ "path", required_argument, NULL, 'p' },
		{ "vcpu", required_argument, NULL, 'c' },
		{ "vector", required_argument, NULL, 'v' },
		{ "progress", no_argument, NULL, 'g' },
		{ "no-progress", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *json = NULL, *perfetto = NULL, *svg = NULL;
	struct filter flt = { -1, -1, -1 };
	struct analysis **an = NULL;
	struct perfetto *pf = NULL;
	struct progress pg = { isatty(STDERR_FILENO), 0 };
	FILE *jf = NULL;
	int c, i, n, njson = 0, ret = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = optarg;
			break;
		case 'P':
			perfetto = optarg;
			break;
		case 's':
			svg = optarg;
			break;
		case 'p':
			flt.path = parse_path(optarg);
			if (flt.path < 0) {
				fprintf(stderr, "irqpath: unknown path '%s' (vhost, user, vfio, timer, ipi or 1..5)\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			if (parse_int(optarg, INT_MAX, &flt.vcpu)) {
				fprintf(stderr, "irqpath: bad vCPU id '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v':
			if (parse_int(optarg, 255, &flt.vector)) {
				fprintf(stderr, "irqpath: bad vector '%s' (0..255)\n", optarg);
				return 2;
			}
			break;
		case 'g':
			pg.enabled = true;
			break;
		case 'G':
			pg.enabled = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	n = argc - optind;
	if (n <= 0) {
		fprintf(stderr, "irqpath: report: no input file\n");
		usage(stderr);
		return 2;
	}
	if (json) {
		jf = strcmp(json, "-") ? fopen(json, "w") : stdout;
		if (!jf) {
			fprintf(stderr, "irqpath: %s: %s\n", json, strerror(errno));
			return 1;
		}
	}
	if (perfetto) {
		pf = perfetto_open(perfetto);
		if (!pf) {
			fprintf(stderr, "irqpath: %s: %s\n", perfetto, strerror(errno));
			ret = 1;
			goto out;
		}
	}
	an = calloc((size_t)n, sizeof(*an));
	if (!an) {
		ret = 1;
		goto out;
	}
	if (jf)
		report_json_begin(jf);
	for (i = 0; i < n; i++) {
		an[i] = calloc(1, sizeof(**an));
		if (!an[i]) {
			fprintf(stderr, "irqpath: out of memory\n");
			ret = 1;
			break;
		}
		an[i]->file = argv[optind + i];
		an[i]->filter = flt;
		an[i]->pf = pf;
		an[i]->pf_file_idx = (unsigned int)i;
		if (pf)
			perfetto_file(pf, (unsigned int)i, an[i]->file);
		if (read_trace(an[i], &pg)) {
			ret = 1;
			continue;
		}
		if (!jf || jf != stdout) {
			if (i)
				putchar('\n');
			report_text(stdout, an[i]);
		}
		if (jf)
			report_json_file(jf, an[i], njson++ == 0);
	}
	if (jf)
		report_json_end(jf);
	if (svg && svg_write(svg, an, n)) {
		fprintf(stderr, "irqpath: %s: %s\n", svg, strerror(errno));
		ret = 1;
	}
out:
	if (pf && perfetto_close(pf)) {
		fprintf(stderr, "irqpath: %s: write error\n", perfetto);
		ret = 1;
	}
	if (jf && jf != stdout && fclose(jf)) {
		fprintf(stderr, "irqpath: %s: write error\n", json);
		ret = 1;
	}
	if (an)
		for (i = 0; i < n; i++)
			if (an[i]) {
				engine_free(an[i]->eng);
				free(an[i]);
			}
	free(an);
	if (fflush(stdout))
		ret = 1;
	return ret;
}

static const char *tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	const char *env = getenv("IRQPATH_TRACEFS");
	char p[PATH_MAX];
	struct stat st;
	unsigned int i;

	if (env)
		return env;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/events", dirs[i]);
		if (!stat(p, &st) && S_ISDIR(st.st_mode))
			return dirs[i];
	}
	return NULL;
}

static bool kernel_has(const char *dir, const struct wanted_event *w)
{
	char p[PATH_MAX];
	struct stat st;

	if (!dir)
		return false;
	snprintf(p, sizeof(p), "%s/events/%s/%s/format", dir, w->system, w->name);
	return !stat(p, &st);
}

static int cmd_events(void)
{
	const char *dir = tracefs_dir();
	unsigned int i, have = 0;

	printf("%-34s %-8s %-9s %s\n", "event", "kernel", "origin", "used for");
	for (i = 0; i < nr_wanted_events; i++) {
		const struct wanted_event *w = &wanted_events[i];
		char name[64];
		bool h = kernel_has(dir, w);

		have += h;
		snprintf(name, sizeof(name), "%s:%s", w->system, w->name);
		printf("%-34s %-8s %-9s %s\n", name, h ? "yes" : "no",
		       w->upstream ? "upstream" : "irqpath", w->why);
	}
	printf("%u of %u events available in %s\n", have, nr_wanted_events,
	       dir ? dir : "(no tracefs found)");
	return 0;
}

static int cmd_record(int argc, char **argv)
{
	const char *out = "trace.dat", *dir = tracefs_dir();
	bool dry = false;
	char **av;
	unsigned int i;
	int c, n = 0, have = 0;

	while ((c = getopt(argc, argv, "+no:h")) != -1) {
		switch (c) {
		case 'n':
			dry = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc) {
		fprintf(stderr, "irqpath: record: no command (irqpath record [-o FILE] -- COMMAND...)\n");
		return 2;
	}
	if (!dir) {
		fprintf(stderr, "irqpath: record: no tracefs (mount -t tracefs nodev /sys/kernel/tracing)\n");
		return 1;
	}
	av = calloc(4 + 2 * nr_wanted_events + (size_t)(argc - optind) + 1, sizeof(*av));
	if (!av)
		return 1;
	av[n++] = "trace-cmd";
	av[n++] = "record";
	av[n++] = "-o";
	av[n++] = (char *)out;
	for (i = 0; i < nr_wanted_events; i++) {
		const struct wanted_event *w = &wanted_events[i];
		size_t len = strlen(w->system) + strlen(w->name) + 2;
		char *e;

		if (!kernel_has(dir, w))
			continue;
		e = malloc(len);
		if (!e)
			return 1;
		snprintf(e, len, "%s:%s", w->system, w->name);
		av[n++] = "-e";
		av[n++] = e;
		have++;
	}
	if (!have) {
		fprintf(stderr, "irqpath: record: this kernel has none of the events irqpath uses\n");
		return 1;
	}
	for (c = optind; c < argc; c++)
		av[n++] = argv[c];
	av[n] = NULL;
	if (dry) {
		for (c = 0; c < n; c++)
			printf("%s%s", c ? " " : "", av[c]);
		putchar('\n');
		return 0;
	}
	fprintf(stderr, "irqpath: recording %d events:", have);
	for (c = 0; c < n; c++)
		fprintf(stderr, " %s", av[c]);
	fputc('\n', stderr);
	execvp("trace-cmd", av);
	fprintf(stderr, "irqpath: record: cannot run trace-cmd: %s\n", strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("irqpath %s\n", IRQPATH_VERSION);
		return 0;
	}
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "record"))
		return cmd_record(argc - 1, argv + 1);
	if (!strcmp(argv[1], "events"))
		return cmd_events();
	fprintf(stderr, "irqpath: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
