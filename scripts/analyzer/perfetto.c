// SPDX-License-Identifier: GPL-2.0
/*
 * Perfetto / Chrome trace-event JSON, written while the trace is read.
 *
 * Tracks: one process "pCPUs" with a thread per physical CPU, one process
 * per VM with a thread per vCPU (tid: the vCPU thread's pid).  Each hop of
 * a chain is a 1 ns slice on the track where it happened (source,
 * injection and kick on the pCPU, VM-entry and EOI on the vCPU), joined by
 * flow events (ph "s", "t", "f") with the chain's id; guest mode
 * (kvm_entry -> kvm_exit) is a slice on the vCPU track.  Timestamps are
 * microseconds with nanosecond decimals.  Several input files get separate
 * pid ranges (file index * 1000000).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "irqpath.h"

#define MAX_EVENTS	4000000u	/* the file stays loadable in the UI */
#define MAX_CPU_NAMES	4096
#define MAX_NAMED	4096

struct named {
	unsigned int file;
	int pid;
};

struct perfetto {
	FILE *f;
	char *buf;
	u64 events;
	u64 dropped;
	unsigned int file_idx;
	u8 cpu_named[MAX_CPU_NAMES / 8];
	struct named named[MAX_NAMED];	/* vCPU threads and VM processes named */
	unsigned int nnamed;
};

struct perfetto *perfetto_open(const char *path)
{
	struct perfetto *pf = calloc(1, sizeof(*pf));

	if (!pf)
		return NULL;
	pf->f = fopen(path, "w");
	if (!pf->f) {
		free(pf);
		return NULL;
	}
	pf->buf = malloc(1 << 20);
	if (pf->buf)
		setvbuf(pf->f, pf->buf, _IOFBF, 1 << 20);
	fprintf(pf->f, "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n");
	/* A first element so that every later one starts with a comma. */
	fprintf(pf->f, "{\"ph\": \"M\", \"pid\": 0, \"tid\": 0, \"name\": \"process_name\", "
		"\"args\": {\"name\": \"irqpath\"}}");
	return pf;
}

int perfetto_close(struct perfetto *pf)
{
	int ret;

	if (!pf)
		return 0;
	fprintf(pf->f, "\n], \"metadata\": {\"irqpath_events_dropped\": %" PRIu64 "}}\n", pf->dropped);
	ret = ferror(pf->f) ? -1 : 0;
	if (fclose(pf->f))
		ret = -1;
	free(pf->buf);
	if (pf->dropped)
		fprintf(stderr, "irqpath: perfetto: %" PRIu64 " events beyond the first %u not written\n",
			pf->dropped, MAX_EVENTS);
	free(pf);
	return ret;
}

static bool room(struct perfetto *pf, unsigned int n)
{
	if (pf->events + n > MAX_EVENTS) {
		pf->dropped += n;
		return false;
	}
	pf->events += n;
	return true;
}

static void ts_us(FILE *f, u64 ns)
{
	fprintf(f, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

static long cpu_pid(unsigned int file)
{
	return (long)file * 1000000 + 1;
}

static long vm_pid(unsigned int file, int vm)
{
	return (long)file * 1000000 + 100 + (vm < 0 ? 99999 : vm);
}

void perfetto_file(struct perfetto *pf, unsigned int idx, const char *name)
{
	pf->file_idx = idx;
	memset(pf->cpu_named, 0, sizeof(pf->cpu_named));
	fprintf(pf->f, ",\n{\"ph\": \"M\", \"pid\": %ld, \"tid\": 0, \"name\": \"process_name\", "
		"\"args\": {\"name\": \"pCPUs (%s)\"}}", cpu_pid(idx), name);
}

static bool seen(struct perfetto *pf, unsigned int file, int pid)
{
	unsigned int i;

	for (i = 0; i < pf->nnamed; i++)
		if (pf->named[i].file == file && pf->named[i].pid == pid)
			return true;
	if (pf->nnamed == MAX_NAMED)
		return true;	/* unnamed beyond the limit */
	pf->named[pf->nnamed].file = file;
	pf->named[pf->nnamed++].pid = pid;
	return false;
}

static void name_cpu(struct perfetto *pf, unsigned int file, int cpu)
{
	if (cpu < 0 || cpu >= MAX_CPU_NAMES || (pf->cpu_named[cpu / 8] & (1u << (cpu % 8))))
		return;
	pf->cpu_named[cpu / 8] |= (u8)(1u << (cpu % 8));
	fprintf(pf->f, ",\n{\"ph\": \"M\", \"pid\": %ld, \"tid\": %d, \"name\": \"thread_name\", "
		"\"args\": {\"name\": \"CPU %d\"}}", cpu_pid(file), cpu, cpu);
}

static void name_vcpu(struct perfetto *pf, unsigned int file, int vm, int pid, int vcpu_id)
{
	if (!seen(pf, file, -1 - vm))
		fprintf(pf->f, ",\n{\"ph\": \"M\", \"pid\": %ld, \"tid\": 0, \"name\": \"process_name\", "
			"\"args\": {\"name\": \"VM %d\"}}", vm_pid(file, vm), vm);
	if (!seen(pf, file, pid))
		fprintf(pf->f, ",\n{\"ph\": \"M\", \"pid\": %ld, \"tid\": %d, \"name\": \"thread_name\", "
			"\"args\": {\"name\": \"vCPU %d (pid %d)\"}}", vm_pid(file, vm), pid, vcpu_id, pid);
}

struct point {
	const char *what;
	u64 ts;
	long pid;
	int tid;
};

void perfetto_chain(struct perfetto *pf, unsigned int file, const struct chain_done *c)
{
	struct point pt[5];
	unsigned int n = 0, i;

	if (c->t.src) {
		pt[n++] = (struct point){ "source", c->t.src, cpu_pid(file), c->src_cpu };
		name_cpu(pf, file, c->src_cpu);
	}
	if (c->t.inj && !(n && c->t.inj == c->t.src && c->inj_cpu == c->src_cpu)) {
		pt[n++] = (struct point){ "inject", c->t.inj, cpu_pid(file), c->inj_cpu };
		name_cpu(pf, file, c->inj_cpu);
	}
	if (c->t.kick && (!c->t.entry || c->t.kick <= c->t.entry)) {
		pt[n++] = (struct point){ "wake", c->t.kick, cpu_pid(file), c->kick_cpu };
		name_cpu(pf, file, c->kick_cpu);
	}
	if (c->vcpu_pid > 0 && (c->t.entry || c->t.eoi))
		name_vcpu(pf, file, c->vm, c->vcpu_pid, c->vcpu_id);
	if (c->t.entry)
		pt[n++] = (struct point){ "entry", c->t.entry, vm_pid(file, c->vm), c->vcpu_pid };
	if (c->t.eoi)
		pt[n++] = (struct point){ "eoi", c->t.eoi, vm_pid(file, c->vm), c->vcpu_pid };
	if (!n || !room(pf, n * (n > 1 ? 2 : 1)))
		return;
	for (i = 0; i < n; i++) {
		fprintf(pf->f, ",\n{\"ph\": \"X\", \"cat\": \"%s\", \"name\": \"%s %s v%d\", \"pid\": %ld, "
			"\"tid\": %d, \"ts\": ", path_name[c->path], path_name[c->path], pt[i].what,
			c->vector, pt[i].pid, pt[i].tid);
		ts_us(pf->f, pt[i].ts);
		fprintf(pf->f, ", \"dur\": 0.001, \"args\": {\"chain\": %" PRIu64 ", \"vector\": %d, "
			"\"vcpu\": %d, \"delivered\": %s}}", c->id, c->vector, c->vcpu_id,
			c->delivered ? "true" : "false");
		if (n < 2)
			continue;
		fprintf(pf->f, ",\n{\"ph\": \"%s\", \"cat\": \"chain\", \"name\": \"%s\", \"id\": %" PRIu64
			", \"pid\": %ld, \"tid\": %d, \"ts\": ", !i ? "s" : i == n - 1 ? "f" : "t",
			path_name[c->path], c->id, pt[i].pid, pt[i].tid);
		ts_us(pf->f, pt[i].ts);
		fprintf(pf->f, "%s}", i == n - 1 ? ", \"bp\": \"e\"" : "");
	}
}

void perfetto_guest_slice(struct perfetto *pf, unsigned int file, int vm, int vcpu_pid,
			  int vcpu_id, u64 entry, u64 exit)
{
	if (!entry || exit < entry || !room(pf, 1))
		return;
	name_vcpu(pf, file, vm, vcpu_pid, vcpu_id);
	fprintf(pf->f, ",\n{\"ph\": \"X\", \"cat\": \"guest\", \"name\": \"guest\", \"pid\": %ld, "
		"\"tid\": %d, \"ts\": ", vm_pid(file, vm), vcpu_pid);
	ts_us(pf->f, entry);
	fprintf(pf->f, ", \"dur\": ");
	ts_us(pf->f, exit - entry);
	fputc('}', pf->f);
}
