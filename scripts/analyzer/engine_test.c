// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the chain engine on hand-made event sequences, for the
 * paths the lab cannot record yet (vhost, VFIO, LAPIC timer, posted
 * interrupts) and for the bounded tables: each scenario feeds struct ev
 * records and checks counts and exact hop latencies.
 */
#include <stdlib.h>
#include <string.h>

#include "irqpath.h"

static int failures, checks;

/* The reader's comm lookup, for the engine: task 900 is a vhost worker. */
const char *reader_comm(struct analysis *an, int pid)
{
	(void)an;
	return pid == 900 ? "vhost-100" : "task";
}

const char *event_type_name(enum ev_type t)
{
	(void)t;
	return "?";
}

#define CHECK(cond) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "FAILED %s:%d: %s\n", __func__, __LINE__, #cond); \
	}								\
} while (0)

static struct analysis *new_an(void)
{
	struct analysis *an = calloc(1, sizeof(*an));
	int i;

	an->file = "test";
	an->filter = (struct filter){ -1, -1, -1 };
	for (i = 0; i < EV_NR; i++)
		an->have[i] = true;
	an->eng = engine_new(an);
	return an;
}

static void free_an(struct analysis *an)
{
	engine_free(an->eng);
	free(an);
}

static void E(struct analysis *an, enum ev_type t, u64 ts, int cpu, int pid,
	      s64 a, s64 b, s64 c, s64 d)
{
	struct ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	ev.ts = ts;
	ev.cpu = cpu;
	ev.pid = pid;
	ev.a = a;
	ev.b = b;
	ev.c = c;
	ev.d = d;
	if (!an->first_ts)
		an->first_ts = ts;
	an->last_ts = ts;
	engine_event(an, &ev);
}

/* vCPU threads: 101 runs vcpu 0, 102 vcpu 1 (one VM). */
static void vcpus_enter(struct analysis *an, u64 ts)
{
	E(an, EV_ENTRY, ts, 0, 101, 0, 0, 0, 0);
	E(an, EV_EXIT, ts + 1, 0, 101, 0, 0, 0, 0);
	E(an, EV_ENTRY, ts + 2, 1, 102, 1, 0, 0, 0);
	E(an, EV_EXIT, ts + 3, 1, 102, 1, 0, 0, 0);
}

static void test_vhost_blocked(void)
{
	struct analysis *an = new_an();
	struct path_stats *ps = &an->ps[P_VHOST];

	vcpus_enter(an, 1000);
	/* vcpu 0 halts: scheduled out, blocked (prev_state S). */
	E(an, EV_SCHED_SWITCH, 2000, 0, 101, 101, 1, 0, 0);
	E(an, EV_VHOST_NOTIFY, 3000, 1, 900, 0, 0, 0, 0);	/* suppressed */
	E(an, EV_VHOST_NOTIFY, 4000, 1, 900, 1, 0, 0, 0);	/* signal */
	E(an, EV_VHOST_SIGNAL, 4100, 1, 900, 0, 0, 0, 0);
	E(an, EV_MSI_SET_IRQ, 4200, 1, 900, 0xfee00000, 33, 0, 0);
	E(an, EV_ACCEPT_IRQ, 4300, 1, 900, 0, 33, 0, 0);
	E(an, EV_SCHED_WAKEUP, 4400, 1, 900, 101, 0, 0, 0);
	E(an, EV_IRQFD_INJECT, 4500, 1, 900, 40, 0, 1, 0);
	E(an, EV_SCHED_SWITCH, 5000, 0, 0, 0, 0, 101, 0);	/* vcpu 0 in */
	E(an, EV_VCPU_WAKEUP, 5100, 0, 101, 0, 1, 1, 0);
	E(an, EV_INJ_VIRQ, 5200, 0, 101, 33, 0, 0, 0);
	E(an, EV_ENTRY, 5300, 0, 101, 0, 0, 0, 0);
	E(an, EV_EOI, 6300, 0, 101, 0, 33, 0, 0);
	/* vhost_signal traced after the injection it caused. */
	E(an, EV_VHOST_NOTIFY, 6500, 1, 900, 1, 0, 0, 0);
	E(an, EV_MSI_SET_IRQ, 6510, 1, 900, 0xfee00000, 34, 0, 0);
	E(an, EV_ACCEPT_IRQ, 6520, 1, 900, 1, 34, 0, 0);
	E(an, EV_IRQFD_INJECT, 6530, 1, 900, 41, 0, 1, 0);
	E(an, EV_VHOST_SIGNAL, 6540, 1, 900, 0, 0, 0, 0);
	E(an, EV_INJ_VIRQ, 6600, 1, 102, 34, 0, 0, 0);
	E(an, EV_ENTRY, 6700, 1, 102, 1, 0, 0, 0);
	/* Wanted but no call eventfd; then a suppressed one (signal=0). */
	E(an, EV_VHOST_NOTIFY, 7000, 1, 900, 1, 0, 0, 0);
	E(an, EV_VHOST_SIGNAL, 7100, 1, 900, 1, 0, 0, 0);
	E(an, EV_VHOST_NOTIFY, 7200, 1, 900, 0, 0, 0, 0);
	E(an, EV_VHOST_SIGNAL, 7300, 1, 900, 2, 0, 0, 0);
	engine_finish(an);
	CHECK(ps->suppressed == 2);
	CHECK(ps->incomplete[INC_NO_INJECTION] == 1);
	CHECK(ps->sources == 3);
	CHECK(ps->chains == 2 && ps->delivered == 2);
	CHECK(ps->incomplete[INC_TRACE_END_NOT_INJECTED] == 0 && ps->incomplete[INC_SUPERSEDED] == 0);
	CHECK(ps->eoi == 1);
	CHECK(ps->hop[H_SRC_INJ].min == 20 && ps->hop[H_SRC_INJ].max == 300);
	CHECK(ps->hop[H_INJ_KICK].min == 100);
	CHECK(ps->hop[H_KICK_ENTRY].min == 900);
	CHECK(ps->hop[H_INJ_ENTRY].min == 180 && ps->hop[H_INJ_ENTRY].max == 1000);
	CHECK(ps->hop[H_ENTRY_EOI].min == 1000);
	CHECK(ps->hop[H_TOTAL].min == 200 && ps->hop[H_TOTAL].max == 1300);
	CHECK(ps->wait_n[W_BLOCKED] == 1 && ps->wait_ns[W_BLOCKED] == 700);
	CHECK(an->ps[P_USER].chains == 0);
	free_an(an);
}

static void test_vfio_and_ipi_preempted(void)
{
	struct analysis *an = new_an();

	vcpus_enter(an, 1000);
	/* Host MSI of a VFIO device interrupts task 77 on CPU 1. */
	E(an, EV_VFIO_MSI, 2000, 1, 77, 40, 0, 0, 0);
	E(an, EV_MSI_SET_IRQ, 2050, 1, 77, 0xfee01000, 34, 0, 0);
	E(an, EV_ACCEPT_IRQ, 2100, 1, 77, 1, 34, 0, 0);
	E(an, EV_IRQFD_INJECT, 2150, 1, 77, 41, 0, 1, 0);
	E(an, EV_INJ_VIRQ, 2500, 1, 102, 34, 0, 0, 0);
	E(an, EV_ENTRY, 2600, 1, 102, 1, 0, 0, 0);
	/* vcpu 1 sends an IPI to vcpu 0, which is preempted (prev_state R). */
	E(an, EV_SCHED_SWITCH, 2700, 0, 101, 101, 0, 55, 0);
	E(an, EV_APIC_IPI, 3000, 1, 102, 0x4000 | 0xfd, 0, 0, 0);
	E(an, EV_ACCEPT_IRQ, 3010, 1, 102, 0, 0xfd, 0, 0);
	E(an, EV_SCHED_SWITCH, 4000, 0, 55, 55, 0, 101, 0);
	E(an, EV_INJ_VIRQ, 4100, 0, 101, 0xfd, 0, 0, 0);
	E(an, EV_ENTRY, 4200, 0, 101, 0, 0, 0, 0);
	engine_finish(an);
	CHECK(an->ps[P_VFIO].chains == 1 && an->ps[P_VFIO].delivered == 1);
	CHECK(an->ps[P_VFIO].hop[H_TOTAL].min == 600);
	CHECK(an->ps[P_IPI].chains == 1 && an->ps[P_IPI].delivered == 1);
	CHECK(an->ps[P_IPI].wait_n[W_PREEMPTED] == 1 && an->ps[P_IPI].wait_ns[W_PREEMPTED] == 990);
	CHECK(an->ps[P_IPI].hop[H_SRC_INJ].min == 10);
	CHECK(an->ps[P_IPI].hop[H_INJ_KICK].min == 990);	/* preempted: its sched-in */
	CHECK(an->ps[P_USER].chains == 0);
	free_an(an);
}

static void test_timer(void)
{
	struct analysis *an = new_an();
	struct path_stats *ps = &an->ps[P_TIMER];

	vcpus_enter(an, 1000);
	/* hrtimer fires on CPU 0 in some task; injection in the vCPU thread. */
	E(an, EV_TIMER_EXPIRED, 2000, 0, 0, 0, 0x40000, 3, 500);
	E(an, EV_TIMER_EXPIRED, 2100, 0, 0, 0, 0x40000, 0, 600);	/* coalesced */
	E(an, EV_ACCEPT_IRQ, 2500, 0, 101, 0, 236, 0, 0);
	E(an, EV_INJ_VIRQ, 2600, 0, 101, 236, 0, 0, 0);
	E(an, EV_ENTRY, 2700, 0, 101, 0, 0, 0, 0);
	E(an, EV_EOI, 3700, 0, 101, 0, 236, 0, 0);
	/* Posted timer: no accept_irq traced, the next entry delivers it. */
	E(an, EV_TIMER_EXPIRED, 5000, 1, 102, 1, 0, 2, 0);
	E(an, EV_ENTRY, 5400, 1, 102, 1, 0, 0, 0);
	/* Expiry never injected before the trace ends. */
	E(an, EV_TIMER_EXPIRED, 6000, 1, 102, 1, 0, 3, 0);
	engine_finish(an);
	CHECK(ps->sources == 4);
	CHECK(ps->coalesced == 1);
	CHECK(ps->chains == 3 && ps->delivered == 2 && ps->eoi == 1);
	CHECK(ps->hop[H_SRC_INJ].max == 500);
	CHECK(ps->hop[H_TOTAL].min == 400 && ps->hop[H_TOTAL].max == 700);
	CHECK(ps->incomplete[INC_TRACE_END_NOT_INJECTED] == 1);
	free_an(an);
}

/* A device MSI interrupts the vCPU thread while its timer awaits injection. */
static void test_vfio_in_vcpu_thread(void)
{
	struct analysis *an = new_an();

	vcpus_enter(an, 1000);
	E(an, EV_TIMER_EXPIRED, 2000, 0, 101, 0, 0, 3, 0);
	E(an, EV_VFIO_MSI, 2100, 0, 101, 40, 0, 0, 0);
	E(an, EV_MSI_SET_IRQ, 2110, 0, 101, 0xfee00000, 35, 0, 0);
	E(an, EV_ACCEPT_IRQ, 2120, 0, 101, 0, 35, 0, 0);
	E(an, EV_ACCEPT_IRQ, 2300, 0, 101, 0, 236, 0, 0);	/* the timer's */
	E(an, EV_INJ_VIRQ, 2400, 0, 101, 35, 0, 0, 0);
	E(an, EV_INJ_VIRQ, 2400, 0, 101, 236, 0, 0, 0);
	E(an, EV_ENTRY, 2500, 0, 101, 0, 0, 0, 0);
	engine_finish(an);
	CHECK(an->ps[P_VFIO].delivered == 1 && an->ps[P_VFIO].hop[H_TOTAL].min == 400);
	CHECK(an->ps[P_TIMER].delivered == 1 && an->ps[P_TIMER].hop[H_SRC_INJ].min == 300);
	free_an(an);
}

static void test_posted_and_coalesced(void)
{
	struct analysis *an = new_an();
	struct path_stats *ps = &an->ps[P_USER];

	vcpus_enter(an, 1000);
	/* KVM_SIGNAL_MSI, VMX posting: the next entry delivers, no inj_virq. */
	E(an, EV_MSI_SET_IRQ, 2000, 1, 300, 0xfee00000, 50, 0, 0);
	E(an, EV_ACCEPT_IRQ, 2010, 1, 300, 0, 50, 0, 0);
	E(an, EV_PI_POST, 2020, 1, 300, 0, 50, 0, 0);
	E(an, EV_ENTRY, 2500, 0, 101, 0, 0, 0, 0);
	/* Same again but the PIR bit was already set: coalesced. */
	E(an, EV_MSI_SET_IRQ, 3000, 1, 300, 0xfee00000, 51, 0, 0);
	E(an, EV_ACCEPT_IRQ, 3010, 1, 300, 0, 51, 0, 0);
	E(an, EV_PI_POST, 3020, 1, 300, 0, 51, 3, 0);
	/* irqfd with nothing accepted; one delivered outside the LAPIC (Xen). */
	E(an, EV_IRQFD_INJECT, 3500, 1, 301, 7, 0, 0, 0);
	E(an, EV_IRQFD_INJECT, 3600, 1, 303, 8, 0, 1, 0);
	/* Same vector twice before delivery: the second is merged. */
	E(an, EV_MSI_SET_IRQ, 4000, 1, 302, 0xfee00000, 60, 0, 0);
	E(an, EV_ACCEPT_IRQ, 4010, 1, 302, 0, 60, 0, 0);
	E(an, EV_MSI_SET_IRQ, 4100, 1, 302, 0xfee00000, 60, 0, 0);
	E(an, EV_ACCEPT_IRQ, 4110, 1, 302, 0, 60, 0, 0);
	engine_finish(an);
	CHECK(ps->chains == 2);
	CHECK(ps->delivered == 1);
	CHECK(ps->hop[H_INJ_ENTRY].min == 490);
	CHECK(ps->coalesced == 3);
	CHECK(ps->incomplete[INC_NO_INJECTION] == 1);
	CHECK(ps->incomplete[INC_TRACE_END_NOT_ENTERED] == 1);
	free_an(an);
}

static void test_bounded_and_vms(void)
{
	struct analysis *an = new_an();
	int i;

	vcpus_enter(an, 1000);
	/* A second VM: vCPU threads far away in pid space, same vcpu_ids. */
	E(an, EV_ENTRY, 1100, 0, 5001, 0, 0, 0, 0);
	E(an, EV_ENTRY, 1200, 1, 5002, 1, 0, 0, 0);
	CHECK(engine_vm_count(an->eng) == 2);
	/* An IPI inside VM 1 reaches pid 5001, not 101. */
	E(an, EV_APIC_IPI, 2000, 1, 5002, 0xee, 0, 0, 0);
	E(an, EV_ACCEPT_IRQ, 2010, 1, 5002, 0, 0xee, 0, 0);
	E(an, EV_INJ_VIRQ, 2100, 0, 101, 0xee, 0, 0, 0);	/* wrong VM: ignored */
	E(an, EV_ENTRY, 2200, 0, 101, 0, 0, 0, 0);
	CHECK(an->ps[P_IPI].delivered == 0);
	E(an, EV_INJ_VIRQ, 2300, 0, 5001, 0xee, 0, 0, 0);
	E(an, EV_ENTRY, 2400, 0, 5001, 0, 0, 0, 0);
	CHECK(an->ps[P_IPI].delivered == 1);
	/* 40 distinct vectors pending on one vCPU: the table keeps 32. */
	for (i = 0; i < 40; i++) {
		E(an, EV_MSI_SET_IRQ, 3000 + 10 * i, 1, 400, 0xfee00000, 100 + i, 0, 0);
		E(an, EV_ACCEPT_IRQ, 3001 + 10 * i, 1, 400, 1, 100 + i, 0, 0);
	}
	engine_finish(an);
	CHECK(an->ps[P_USER].chains == 40);
	CHECK(an->ps[P_USER].incomplete[INC_EVICTED] == 8);
	CHECK(an->ps[P_USER].incomplete[INC_TRACE_END_NOT_ENTERED] == 32);
	free_an(an);
}

/* trace-cmd agent: the guests' vCPU threads are known from the start. */
static void test_guest_cpumap(void)
{
	struct analysis *an = new_an();
	static const int g0[] = { 3001, 3002 }, g1[] = { 3003, 3004 };

	engine_guest_vcpus(an, 2, g0);
	engine_guest_vcpus(an, 2, g1);
	CHECK(engine_vm_count(an->eng) == 2 && engine_vcpu_count(an->eng) == 4);
	/* Adjacent pids, yet vcpu 0 of the second guest is pid 3003. */
	E(an, EV_APIC_IPI, 1000, 0, 3004, 0xee, 0, 0, 0);
	E(an, EV_ACCEPT_IRQ, 1010, 0, 3004, 0, 0xee, 0, 0);
	E(an, EV_INJ_VIRQ, 1100, 1, 3003, 0xee, 0, 0, 0);
	E(an, EV_ENTRY, 1200, 1, 3003, 0, 0, 0, 0);
	engine_finish(an);
	CHECK(an->ps[P_IPI].delivered == 1);
	free_an(an);
}

static void test_hist(void)
{
	struct hist h;
	u64 v;

	memset(&h, 0, sizeof(h));
	for (v = 1; v <= 1000000; v++)
		hist_add(&h, v);
	CHECK(h.count == 1000000 && h.min == 1 && h.max == 1000000);
	/* Within the 6.25 % bucket width of the true quantiles. */
	CHECK(hist_quantile(&h, 0.5) > 470000 && hist_quantile(&h, 0.5) < 530000);
	CHECK(hist_quantile(&h, 0.99) > 930000 && hist_quantile(&h, 0.99) <= 1000000);
	for (v = 0; v + 1 < HIST_BUCKETS; v++)
		CHECK(hist_bucket_high((unsigned int)v) + 1 == hist_bucket_low((unsigned int)v + 1));
}

int main(void)
{
	test_vhost_blocked();
	test_vfio_and_ipi_preempted();
	test_timer();
	test_vfio_in_vcpu_thread();
	test_posted_and_coalesced();
	test_bounded_and_vms();
	test_guest_cpumap();
	test_hist();
	printf("engine_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
