// SPDX-License-Identifier: GPL-2.0
/*
 * plugin_irqpath.so - libtraceevent print handlers for irqpath's events
 * (see the event contract): every enum is printed as a word, e.g.
 *
 *   kvm_apic_timer_expired: vcpu=0 mode=tsc-deadline timer=sw late_ns=1200 outcome=injected
 *   vhost_notify: ... decision=suppressed(event_idx)
 *   kvm_pi_desc_update: ... nv=wakeup
 *
 * Load it with TRACEEVENT_PLUGIN_DIR=<dir> trace-cmd report, or install it
 * into ~/.local/lib/traceevent/plugins (make install-plugin).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event-parse.h>
#include <trace-seq.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct sym {
	unsigned long long val;
	const char *name;
};

static const struct sym irqfd_stage[] = { { 0, "fast" }, { 1, "defer" }, { 2, "work" } };
static const struct sym timer_mode[] = {
	{ 0, "oneshot" }, { 0x20000, "periodic" }, { 0x40000, "tsc-deadline" },
};
static const struct sym timer_outcome[] = {
	{ 0, "coalesced" }, { 1, "injected" }, { 2, "posted" }, { 3, "pending" },
};
static const struct sym pi_post_outcome[] = {
	{ 0, "ipi" }, { 1, "wake" }, { 2, "none" }, { 3, "coalesced_pir" }, { 4, "coalesced_on" },
};
static const struct sym pi_desc_reason[] = {
	{ 0, "sched_in" }, { 1, "preempted" }, { 2, "blocking" }, { 3, "migrated" },
};
/* arch/x86/include/asm/irq_vectors.h */
static const struct sym pi_vector[] = {
	{ 0xf0, "nested" }, { 0xf1, "wakeup" }, { 0xf2, "notification" },
};
static const struct sym irte_reason[] = {
	{ 0, "posted" }, { 1, "not_single_vcpu" }, { 2, "not_postable" },
	{ 3, "route_removed" }, { 4, "unassigned" },
};
static const struct sym notify_reason[] = {
	{ 0, "event_idx" }, { 1, "no_interrupt" }, { 2, "notify_on_empty" },
	{ 3, "flags" }, { 4, "invalid" }, { 5, "fault" },
};
static const struct sym signal_outcome[] = {
	{ 0, "signalled" }, { 1, "no_call_eventfd" }, { 2, "suppressed" },
};
static const struct sym remap_reason[] = {
	{ 0, "activate" }, { 1, "affinity" }, { 2, "unposted" },
};

static const char *sym(const struct sym *t, size_t n, unsigned long long v, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].val == v)
			return t[i].name;
	snprintf(buf, len, "unknown(%llu)", v);
	return buf;
}

#define SYM(t, v, b) sym(t, ARRAY_SIZE(t), v, b, sizeof(b))

/* A field's value; a field the format lacks reads as ~0 and prints as "?". */
static unsigned long long val(struct tep_record *rec, struct tep_event *ev, const char *name,
			      int *missing)
{
	unsigned long long v;

	if (tep_get_field_val(NULL, ev, name, rec, &v, 0)) {
		(*missing)++;
		return ~0ull;
	}
	return v;
}

static long long sval(struct tep_record *rec, struct tep_event *ev, const char *name, int *missing)
{
	struct tep_format_field *f = tep_find_field(ev, name);
	unsigned long long v = val(rec, ev, name, missing);

	if (!f)
		return -1;
	switch (f->size) {
	case 1:
		return (int8_t)v;
	case 2:
		return (int16_t)v;
	case 4:
		return (int32_t)v;
	default:
		return (long long)v;
	}
}

static int finish(struct trace_seq *s, int missing)
{
	if (missing)
		trace_seq_printf(s, " [%d field(s) missing]", missing);
	return 0;
}

static int vcpu_sched(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	int m = 0;
	unsigned long long in = val(r, e, "sched_in", &m);

	(void)c;
	trace_seq_printf(s, "vcpu=%llu %s cpu=%lld", val(r, e, "vcpu_id", &m), in ? "in" : "out",
			 sval(r, e, "cpu", &m));
	if (!in)
		trace_seq_printf(s, " why=%s", val(r, e, "preempted", &m) ? "preempted" :
				 val(r, e, "blocking", &m) ? "blocking" : "sleep");
	return finish(s, m);
}

static int irqfd_inject(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "gsi=%llu stage=%s ret=%lld resample=%llu", val(r, e, "gsi", &m),
			 SYM(irqfd_stage, (unsigned long long)sval(r, e, "stage", &m), b),
			 sval(r, e, "ret", &m), val(r, e, "resample", &m));
	return finish(s, m);
}

static int timer_expired(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32], b2[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "vcpu=%llu mode=%s timer=%s late_ns=%lld outcome=%s",
			 val(r, e, "vcpu_id", &m), SYM(timer_mode, val(r, e, "mode", &m), b),
			 val(r, e, "hv", &m) ? "hv" : "sw", sval(r, e, "late_ns", &m),
			 SYM(timer_outcome, (unsigned long long)sval(r, e, "outcome", &m), b2));
	return finish(s, m);
}

static int pi_post(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "vcpu=%llu vector=0x%llx outcome=%s urgent=%llu",
			 val(r, e, "vcpu_id", &m), val(r, e, "vector", &m),
			 SYM(pi_post_outcome, (unsigned long long)sval(r, e, "outcome", &m), b),
			 val(r, e, "urgent", &m));
	return finish(s, m);
}

static int pi_desc_update(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32], b2[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "vcpu=%llu reason=%s ndst=0x%llx->0x%llx nv=%s wakeup=%llu sn=%llu on=%llu",
			 val(r, e, "vcpu_id", &m),
			 SYM(pi_desc_reason, (unsigned long long)sval(r, e, "reason", &m), b),
			 val(r, e, "old_ndst", &m), val(r, e, "new_ndst", &m),
			 SYM(pi_vector, val(r, e, "nv", &m), b2), val(r, e, "wakeup", &m),
			 val(r, e, "sn", &m), val(r, e, "on", &m));
	return finish(s, m);
}

static int pi_wakeup(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	int m = 0;

	(void)c;
	trace_seq_printf(s, "cpu=%lld vcpu=%llu", sval(r, e, "cpu", &m), val(r, e, "vcpu_id", &m));
	return finish(s, m);
}

static int pi_sync_pir(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	int m = 0;

	(void)c;
	trace_seq_printf(s, "vcpu=%llu pir_count=%llu max_irr=%lld resync=%llu",
			 val(r, e, "vcpu_id", &m), val(r, e, "pir_count", &m),
			 sval(r, e, "max_irr", &m), val(r, e, "resync", &m));
	return finish(s, m);
}

static int pi_irte_update(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "host_irq=%llu vcpu=%lld gsi=%llu gvec=0x%llx pi_desc=0x%llx %s",
			 val(r, e, "host_irq", &m), sval(r, e, "vcpu_id", &m), val(r, e, "gsi", &m),
			 val(r, e, "gvec", &m), val(r, e, "pi_desc_addr", &m),
			 val(r, e, "set", &m) ? "set" : "unset");
	/* The fields the series adds; an upstream recording has none. */
	if (tep_find_field(e, "reason"))
		trace_seq_printf(s, " urgent=%llu reason=%s", val(r, e, "urgent", &m),
				 SYM(irte_reason, (unsigned long long)sval(r, e, "reason", &m), b));
	return finish(s, m);
}

static int vhost_notify(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "dev=0x%llx vq=%lld used_idx=%llu event_idx=%llu signalled_used=%llu decision=%s(%s)",
			 val(r, e, "dev", &m), sval(r, e, "vq", &m), val(r, e, "used_idx", &m),
			 val(r, e, "event_idx", &m), val(r, e, "signalled_used", &m),
			 val(r, e, "signal", &m) ? "signal" : "suppressed",
			 SYM(notify_reason, (unsigned long long)sval(r, e, "reason", &m), b));
	return finish(s, m);
}

static int vhost_signal(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "dev=0x%llx vq=%lld used_idx=%llu outcome=%s", val(r, e, "dev", &m),
			 sval(r, e, "vq", &m), val(r, e, "used_idx", &m),
			 SYM(signal_outcome, (unsigned long long)sval(r, e, "outcome", &m), b));
	return finish(s, m);
}

static int vfio_msi(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	int m = 0, len = 0;
	const char *dev = tep_get_field_raw(NULL, e, "dev", r, &len, 0);

	(void)c;
	trace_seq_printf(s, "dev=%.*s irq=%lld vector=%lld", dev ? (int)strnlen(dev, (size_t)len) : 1,
			 dev ? dev : "?", sval(r, e, "irq", &m), sval(r, e, "vector", &m));
	return finish(s, m + !dev);
}

static int irte_posted(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	int m = 0;

	(void)c;
	trace_seq_printf(s, "irq=%llu index=%llu gvec=0x%llx urgent=%llu pda=0x%llx",
			 val(r, e, "irq", &m), val(r, e, "index", &m), val(r, e, "vector", &m),
			 val(r, e, "urgent", &m), val(r, e, "pda", &m));
	return finish(s, m);
}

static int irte_remapped(struct trace_seq *s, struct tep_record *r, struct tep_event *e, void *c)
{
	char b[32];
	int m = 0;

	(void)c;
	trace_seq_printf(s, "irq=%llu index=%llu vector=0x%llx dest=0x%llx reason=%s",
			 val(r, e, "irq", &m), val(r, e, "index", &m), val(r, e, "vector", &m),
			 val(r, e, "dest", &m),
			 SYM(remap_reason, (unsigned long long)sval(r, e, "reason", &m), b));
	return finish(s, m);
}

static const struct handler {
	const char *system;
	const char *name;
	tep_event_handler_func func;
} handlers[] = {
	{ "kvm", "kvm_vcpu_sched", vcpu_sched },
	{ "kvm", "kvm_irqfd_inject", irqfd_inject },
	{ "kvm", "kvm_apic_timer_expired", timer_expired },
	{ "kvm", "kvm_pi_post", pi_post },
	{ "kvm", "kvm_pi_desc_update", pi_desc_update },
	{ "kvm", "kvm_pi_wakeup", pi_wakeup },
	{ "kvm", "kvm_pi_sync_pir", pi_sync_pir },
	{ "kvm", "kvm_pi_irte_update", pi_irte_update },
	{ "vhost", "vhost_notify", vhost_notify },
	{ "vhost", "vhost_signal", vhost_signal },
	{ "vfio_pci", "vfio_pci_msi_handler", vfio_msi },
	{ "intel_iommu", "irte_posted", irte_posted },
	{ "intel_iommu", "irte_remapped", irte_remapped },
};

int TEP_PLUGIN_LOADER(struct tep_handle *tep)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(handlers); i++)
		tep_register_event_handler(tep, -1, handlers[i].system, handlers[i].name,
					   handlers[i].func, NULL);
	return 0;
}

void TEP_PLUGIN_UNLOADER(struct tep_handle *tep)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(handlers); i++)
		tep_unregister_event_handler(tep, -1, handlers[i].system, handlers[i].name,
					     handlers[i].func, NULL);
}
