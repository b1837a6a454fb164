// SPDX-License-Identifier: GPL-2.0
/*
 * The report: a text summary per path (counts, per-hop latency
 * percentiles, waits, incomplete chains) and the same numbers as JSON
 * (schema in SCHEMA.md).
 */
#include <inttypes.h>
#include <string.h>

#include "irqpath.h"

#define SCHEMA_VERSION 1

static const char *dur(char *buf, size_t n, u64 ns)
{
	if (ns < 1000)
		snprintf(buf, n, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, n, "%.2fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, n, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, n, "%.3fs", (double)ns / 1e9);
	return buf;
}

static u64 path_incomplete(const struct path_stats *ps)
{
	u64 n = 0;
	int i;

	for (i = 0; i < INC_NR; i++)
		n += ps->incomplete[i];
	return n;
}

static bool path_empty(const struct path_stats *ps)
{
	return !ps->sources && !ps->chains && !ps->suppressed && !ps->coalesced &&
	       !path_incomplete(ps);
}

struct vcpu_list {
	FILE *f;
	bool json;
	bool first;
};

static void print_vcpu(void *priv, int vm, int vcpu_id, int pid, u64 entries, u64 chains)
{
	struct vcpu_list *l = priv;

	if (l->json) {
		fprintf(l->f, "%s\n        {\"vm\": %d, \"vcpu_id\": %d, \"pid\": %d, \"entries\": %" PRIu64
			", \"chains\": %" PRIu64 "}", l->first ? "" : ",", vm, vcpu_id, pid,
			entries, chains);
	} else {
		fprintf(l->f, "%s vm%d/vcpu%d (pid %d: %" PRIu64 " entries, %" PRIu64 " chains)",
			l->first ? "  vCPUs:" : ",", vm, vcpu_id, pid, entries, chains);
	}
	l->first = false;
}

void report_text(FILE *f, struct analysis *an)
{
	char b[5][32];
	struct vcpu_list vl = { f, false, true };
	int p, h, i;

	fprintf(f, "irqpath report: %s\n", an->file);
	fprintf(f, "  %" PRIu64 " events (%" PRIu64 " used), %d CPUs, %s of trace; %d VM(s), %d vCPU(s)\n",
		an->events, an->used, an->nr_cpus,
		dur(b[0], sizeof(b[0]), an->last_ts - an->first_ts),
		engine_vm_count(an->eng), engine_vcpu_count(an->eng));
	engine_for_each_vcpu(an->eng, print_vcpu, &vl);
	if (!vl.first)
		fputc('\n', f);
	if (an->buffers_note[0])
		fprintf(f, "  buffers: top (host) buffer analysed; %s\n", an->buffers_note);
	if (an->filter.path >= 0 || an->filter.vcpu >= 0 || an->filter.vector >= 0)
		fprintf(f, "  filter: path %s, vcpu %d, vector %d (-1: any)\n",
			an->filter.path >= 0 ? path_name[an->filter.path] : "any",
			an->filter.vcpu, an->filter.vector);
	if (!an->have[EV_INJ_VIRQ])
		fprintf(f, "  no kvm_inj_virq in the recording: the next VM-entry counts as delivery\n");
	for (p = 0; p < P_NR; p++) {
		const struct path_stats *ps = &an->ps[p];

		if (path_empty(ps))
			continue;
		fprintf(f, "\n%s\n", path_title[p]);
		fprintf(f, "  sources %" PRIu64 ", chains %" PRIu64 ", delivered %" PRIu64
			" (EOI seen %" PRIu64 "), coalesced %" PRIu64 ", suppressed %" PRIu64 "\n",
			ps->sources, ps->chains, ps->delivered, ps->eoi, ps->coalesced,
			ps->suppressed);
		fprintf(f, "  waited on a preempted vCPU: %" PRIu64 " chains, %s; on a blocked vCPU: %"
			PRIu64 " chains, %s\n",
			ps->wait_n[W_PREEMPTED], dur(b[0], sizeof(b[0]), ps->wait_ns[W_PREEMPTED]),
			ps->wait_n[W_BLOCKED], dur(b[1], sizeof(b[1]), ps->wait_ns[W_BLOCKED]));
		fprintf(f, "  %-15s %8s %10s %10s %10s %10s\n", "hop", "count", "p50", "p90",
			"p99", "max");
		for (h = 0; h < H_NR; h++) {
			const struct hist *hi = &ps->hop[h];

			if (!hi->count)
				continue;
			fprintf(f, "  %-15s %8" PRIu64 " %10s %10s %10s %10s\n", hop_name[h],
				hi->count, dur(b[0], sizeof(b[0]), hist_quantile(hi, 0.5)),
				dur(b[1], sizeof(b[1]), hist_quantile(hi, 0.9)),
				dur(b[2], sizeof(b[2]), hist_quantile(hi, 0.99)),
				dur(b[3], sizeof(b[3]), hi->max));
		}
		if (path_incomplete(ps)) {
			fprintf(f, "  incomplete: %" PRIu64 "\n", path_incomplete(ps));
			for (i = 0; i < INC_NR; i++)
				if (ps->incomplete[i])
					fprintf(f, "    %-70s %" PRIu64 "\n", inc_name[i],
						ps->incomplete[i]);
		}
	}
	if (an->irte_posted || an->pi_irte_updates)
		fprintf(f, "\nP3 posted IRTEs configured: %" PRIu64 " (irte_posted), kvm_pi_irte_update: %"
			PRIu64 "; posted device interrupts bypass the host and have no per-interrupt events\n",
			an->irte_posted, an->pi_irte_updates);
	fprintf(f, "\nchains in flight at most: %" PRIu64 "; source slots evicted: %" PRIu64 "\n",
		an->chains_in_flight_max, an->evicted_slots);
}

void report_json_begin(FILE *f)
{
	fprintf(f, "{\n  \"schema_version\": %d,\n  \"tool\": \"irqpath\",\n  \"files\": [", SCHEMA_VERSION);
}

void report_json_end(FILE *f)
{
	fprintf(f, "\n  ]\n}\n");
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_hist(FILE *f, const struct hist *h)
{
	fprintf(f, "{\"count\": %" PRIu64 ", \"min_ns\": %" PRIu64 ", \"mean_ns\": %" PRIu64
		", \"p50_ns\": %" PRIu64 ", \"p90_ns\": %" PRIu64 ", \"p99_ns\": %" PRIu64
		", \"max_ns\": %" PRIu64 "}",
		h->count, h->min, h->count ? h->sum / h->count : 0, hist_quantile(h, 0.5),
		hist_quantile(h, 0.9), hist_quantile(h, 0.99), h->max);
}

void report_json_file(FILE *f, struct analysis *an, bool first)
{
	struct vcpu_list vl = { f, true, true };
	bool firstev = true;
	int p, h, i;

	fprintf(f, "%s\n    {\n      \"file\": ", first ? "" : ",");
	json_str(f, an->file);
	fprintf(f, ",\n      \"events\": %" PRIu64 ",\n      \"events_used\": %" PRIu64
		",\n      \"cpus\": %d,\n      \"first_ts_ns\": %" PRIu64 ",\n      \"last_ts_ns\": %" PRIu64
		",\n      \"duration_ns\": %" PRIu64 ",\n      \"vms\": %d,\n      \"buffers\": ",
		an->events, an->used, an->nr_cpus, an->first_ts, an->last_ts,
		an->last_ts - an->first_ts, engine_vm_count(an->eng));
	json_str(f, an->buffers_note);
	fprintf(f, ",\n      \"events_present\": [");
	for (i = 1; i < EV_NR; i++)
		if (an->have[i]) {
			fprintf(f, "%s", firstev ? "" : ", ");
			json_str(f, event_type_name((enum ev_type)i));
			firstev = false;
		}
	fprintf(f, "],\n      \"filter\": {\"path\": ");
	if (an->filter.path >= 0)
		json_str(f, path_name[an->filter.path]);
	else
		fprintf(f, "null");
	fprintf(f, ", \"vcpu\": ");
	if (an->filter.vcpu >= 0)
		fprintf(f, "%d", an->filter.vcpu);
	else
		fprintf(f, "null");
	fprintf(f, ", \"vector\": ");
	if (an->filter.vector >= 0)
		fprintf(f, "%d", an->filter.vector);
	else
		fprintf(f, "null");
	fprintf(f, "},\n      \"vcpus\": [");
	engine_for_each_vcpu(an->eng, print_vcpu, &vl);
	fprintf(f, "%s],\n      \"paths\": {", vl.first ? "" : "\n      ");
	for (p = 0; p < P_NR; p++) {
		const struct path_stats *ps = &an->ps[p];

		fprintf(f, "%s\n        \"%s\": {\n          \"title\": ", p ? "," : "", path_name[p]);
		json_str(f, path_title[p]);
		fprintf(f, ",\n          \"sources\": %" PRIu64 ", \"chains\": %" PRIu64
			", \"delivered\": %" PRIu64 ", \"eoi\": %" PRIu64 ", \"coalesced\": %" PRIu64
			", \"suppressed\": %" PRIu64 ",\n", ps->sources, ps->chains, ps->delivered,
			ps->eoi, ps->coalesced, ps->suppressed);
		fprintf(f, "          \"wait\": {\"preempted\": {\"chains\": %" PRIu64 ", \"total_ns\": %"
			PRIu64 "}, \"blocked\": {\"chains\": %" PRIu64 ", \"total_ns\": %" PRIu64 "}},\n",
			ps->wait_n[W_PREEMPTED], ps->wait_ns[W_PREEMPTED], ps->wait_n[W_BLOCKED],
			ps->wait_ns[W_BLOCKED]);
		fprintf(f, "          \"incomplete\": {");
		for (i = 0; i < INC_NR; i++)
			fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", inc_key[i], ps->incomplete[i]);
		fprintf(f, "},\n          \"hops\": {");
		for (h = 0; h < H_NR; h++) {
			fprintf(f, "%s\n            \"%s\": ", h ? "," : "", hop_name[h]);
			json_hist(f, &ps->hop[h]);
		}
		fprintf(f, "\n          }\n        }");
	}
	fprintf(f, "\n      },\n      \"posted_irtes\": %" PRIu64 ",\n      \"pi_irte_updates\": %" PRIu64
		",\n      \"chains_in_flight_max\": %" PRIu64 ",\n      \"source_slots_evicted\": %" PRIu64
		"\n    }", an->irte_posted, an->pi_irte_updates, an->chains_in_flight_max,
		an->evicted_slots);
}
