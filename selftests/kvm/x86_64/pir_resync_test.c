// SPDX-License-Identifier: GPL-2.0-only
/*
 * pir_resync_test
 *
 * Interrupts for a vCPU whose task is preempted and migrated.  With posted
 * interrupts, a vCPU that is scheduled out while runnable has its
 * descriptor's "suppress notification" bit set: a sender posts the vector
 * in the PIR and sends no notification, and the vCPU must pick the vector
 * up when it is scheduled in again (on whichever pCPU), before it next
 * enters the guest.  Without posting, KVM sets the bit in the vAPIC's IRR
 * and kicks the vCPU; the same must hold.  A vector that is lost at
 * sched-in stays pending until some later interrupt or VM-exit, or forever.
 *
 * The target, vCPU 0, spins with interrupts enabled (and now and then
 * halts) while its task shares a pCPU with a busy host thread, so that it
 * is preempted over and over in guest mode; in the second sub-test both
 * tasks are also moved between two pCPUs every few milliseconds.
 * Meanwhile the other vCPUs send it IPIs, and host threads send it MSIs
 * through irqfds, each source with its own vector.  Each source waits
 * until the target has counted its previous interrupt before it sends the
 * next one, so several vectors are pending at once but none can be
 * coalesced: the target's count of each vector must equal what was sent,
 * exactly, and no other vector may arrive anywhere.
 *
 * The test prints the interrupt mechanism in use (VMX posted interrupts,
 * with or without IPI virtualization; AVIC; or injection through the IRR),
 * how often the target's task was preempted and moved, and the vCPU's
 * posted-interrupt stats where the kernel has them.  The pi_resync stat
 * (a PIR found non-empty at sched-in) is checked only where something can
 * post while the notification is suppressed: on VMX with IPI
 * virtualization.
 *
 * When an interrupt is overdue, the test describes the target before it
 * fails: its guest loop's progress, its task's state and CPU, every vCPU
 * stat that moved in 200 ms, the host CPUs' timer and reschedule interrupt
 * counts, and the target's ISR, IRR and PPR, which the target reads itself
 * on request, so that the loop under test makes no APIC accesses otherwise.
 * A target whose guest code stands still while nearly every exit injects a
 * page fault is stuck on one faulting instruction, not waiting for an
 * interrupt: the test says "emulator artefact: endless fault loop", for
 * the target and for each IPI sender, and whether the overdue IPI was sent
 * at all.  A
 * host CPU whose timer interrupt count stood still for 200 ms is named as
 * stuck: whatever vCPU it runs makes no progress either.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "apic.h"

#define TARGET			0
#define MAX_IPI_VCPUS		3
#define DEFAULT_IPI_VCPUS	2
#define MAX_IRQFDS		4
#define DEFAULT_IRQFDS		2
#define DEFAULT_NR_IRQS		800
#define DEFAULT_MIGRATE_MS	5

#define IPI_VECTOR(v)		(0x60 + (v))	/* from vCPU v */
#define MSI_VECTOR(i)		(0x80 + (i))	/* from irqfd i */
#define WAKE_VECTOR		0xf0
#define MSI_GSI(i)		(32 + (i))

#define ARRIVAL_TIMEOUT_S	10
/* Longer, so that the host describes the target before a guest times out. */
#define GUEST_TIMEOUT_S		15
#define DUMP_IDLE_S		8
#define WATCHDOG_IDLE_S		30
/* The target halts once every HALT_EVERY iterations of its spin loop. */
#define HALT_EVERY		64

/* Guest memory shared with the host. */
static uint64_t received[MAX_IPI_VCPUS + 1][256];
static uint64_t ipis_sent[MAX_IPI_VCPUS + 1];
static uint64_t ipi_cycles_sum[MAX_IPI_VCPUS + 1], ipi_cycles_max[MAX_IPI_VCPUS + 1];
static uint64_t nr_irqs_guest;
static uint64_t spins, halts;
/*
 * On the host's request (when an interrupt is overdue), the target's ISR
 * and IRR for vectors 0x60-0x9f and its PPR: read only then, so that the
 * APIC accesses do not change the timing of the loop under test.
 */
static bool apic_dump_request, apic_dump_done;
static uint32_t apic_isr[2], apic_irr[2], apic_ppr;

#define APIC_ISR		0x100
static bool vcpu_ready[MAX_IPI_VCPUS + 1];
static bool go[MAX_IPI_VCPUS + 1];	/* per round, set by the host */
static bool test_done;

static void guest_irq_handler(struct ex_regs *regs)
{
	uint32_t id = GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID));

	if (id <= MAX_IPI_VCPUS)
		WRITE_ONCE(received[id][regs->vector], received[id][regs->vector] + 1);
	xapic_write_reg(APIC_EOI, 0);
}

static void guest_wake_handler(struct ex_regs *regs)
{
	xapic_write_reg(APIC_EOI, 0);
	if (READ_ONCE(test_done))
		GUEST_DONE();
}

static void target_code(void)
{
	uint64_t i;

	for (i = 0; !READ_ONCE(test_done); i++) {
		WRITE_ONCE(spins, spins + 1);
		if (READ_ONCE(apic_dump_request) && !READ_ONCE(apic_dump_done)) {
			WRITE_ONCE(apic_isr[0], xapic_read_reg(APIC_ISR + 0x30));
			WRITE_ONCE(apic_isr[1], xapic_read_reg(APIC_ISR + 0x40));
			WRITE_ONCE(apic_irr[0], xapic_read_reg(APIC_IRR + 0x30));
			WRITE_ONCE(apic_irr[1], xapic_read_reg(APIC_IRR + 0x40));
			WRITE_ONCE(apic_ppr, xapic_read_reg(APIC_PROCPRI));
			WRITE_ONCE(apic_dump_done, true);
		}
		if (i % HALT_EVERY) {
			asm volatile("sti; pause; cli" ::: "memory");
		} else {
			WRITE_ONCE(halts, halts + 1);
			asm volatile("sti; hlt; cli" ::: "memory");
		}
	}
	GUEST_DONE();
}

/*
 * An IPI sender: each round, send nr_irqs IPIs to the target, each one
 * after the target has counted the previous one.  Times out on the guest
 * side, through a ucall, if an IPI does not arrive.
 */
static void ipi_sender_code(uint32_t id)
{
	uint64_t *count = &received[TARGET][IPI_VECTOR(id)];
	uint64_t i, timeout = GUEST_TIMEOUT_S * guest_tsc_khz * 1000, t0, lat;

	for (;;) {
		while (!READ_ONCE(go[id]))
			cpu_relax();
		WRITE_ONCE(go[id], false);
		if (READ_ONCE(test_done))
			GUEST_DONE();

		for (i = 0; i < READ_ONCE(nr_irqs_guest); i++) {
			uint64_t want = READ_ONCE(*count) + 1;

			xapic_write_reg(APIC_ICR2, SET_APIC_DEST_FIELD(TARGET));
			xapic_write_reg(APIC_ICR, APIC_DEST_PHYSICAL | APIC_DM_FIXED |
				       IPI_VECTOR(id));
			WRITE_ONCE(ipis_sent[id], ipis_sent[id] + 1);
			t0 = rdtsc();
			while (READ_ONCE(*count) < want) {
				__GUEST_ASSERT(rdtsc() - t0 < timeout,
					       "IPI %lu from vCPU %u (vector 0x%x) not counted after %d s: target counted %lu",
					       want, id, IPI_VECTOR(id), GUEST_TIMEOUT_S,
					       READ_ONCE(*count));
				cpu_relax();
			}
			lat = rdtsc() - t0;
			WRITE_ONCE(ipi_cycles_sum[id], ipi_cycles_sum[id] + lat);
			if (lat > ipi_cycles_max[id])
				WRITE_ONCE(ipi_cycles_max[id], lat);
		}
		GUEST_SYNC(i);
	}
}

static void guest_code(uint32_t id)
{
	xapic_enable();
	GUEST_ASSERT_EQ(GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID)), id);
	WRITE_ONCE(vcpu_ready[id], true);
	if (id == TARGET)
		target_code();
	else
		ipi_sender_code(id);
}

/* Host side. */
static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[MAX_IPI_VCPUS + 1];
static int nr_ipi_vcpus = DEFAULT_IPI_VCPUS, nr_irqfds = DEFAULT_IRQFDS;
static uint64_t nr_irqs = DEFAULT_NR_IRQS;
static int migrate_ms = DEFAULT_MIGRATE_MS;
static uint64_t (*g_received)[256];
static pthread_t vcpu_threads[MAX_IPI_VCPUS + 1];
static pid_t target_tid;
static int cpu_a, cpu_b;		/* the two pCPUs; equal if only one */
static bool stop_busy, stop_migrate;
static uint64_t progress;		/* for the watchdog */

struct irqfd_sender {
	pthread_t thread;
	int id;
	int eventfd;
	uint64_t lat_sum_ns, lat_max_ns;
};

static struct irqfd_sender irqfd_senders[MAX_IRQFDS];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin_tid(pid_t tid, int cpu)
{
	cpu_set_t set;
	int r;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	r = sched_setaffinity(tid, sizeof(set), &set);
	TEST_ASSERT(!r, "sched_setaffinity(%d, CPU %d) failed, errno %d", tid, cpu, errno);
}

static uint64_t guest_u64(uint64_t *gva)
{
	return READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)gva));
}

/*
 * Before failing on a lost interrupt, say what the target was doing: its
 * guest loop's progress, its task's state and its vCPU stats.  Once; a
 * second caller gives the first time to print before failing itself.
 */
#define MAX_STATS		128

/* The first value of each of the target's vCPU stats. */
static int read_all_stats(uint64_t *vals)
{
	struct kvm_vcpu *t = vcpus[TARGET];
	int i, n = t->stats_header.num_desc < MAX_STATS ? t->stats_header.num_desc : MAX_STATS;

	for (i = 0; i < n; i++)
		read_stat_data(t->stats_fd, &t->stats_header,
			       get_stats_descriptor(t->stats_desc, i, &t->stats_header),
			       &vals[i], 1);
	return n;
}

/* The "LOC" (local timer) and "RES" (reschedule IPI) lines of /proc/interrupts. */
static void read_cpu_irqs(char *loc, char *res, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/interrupts", "r");

	*loc = 0;
	*res = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " ");

		if (!strncmp(p, "LOC:", 4))
			snprintf(loc, size, "%.*s", (int)strcspn(p + 4, "\n"), p + 4);
		else if (!strncmp(p, "RES:", 4))
			snprintf(res, size, "%.*s", (int)strcspn(p + 4, "\n"), p + 4);
	}
	if (f)
		fclose(f);
}

/*
 * Name each host CPU whose local timer count did not move between the two
 * "LOC:" lines: such a CPU ran nothing at all for 200 ms, not even its
 * timer interrupt, so whatever it was running (maybe the target) is stuck
 * with it.
 */
static void report_frozen_cpus(const char *loc0, const char *loc1)
{
	const char *p0 = loc0, *p1 = loc1;
	int cpu;

	for (cpu = 0; ; cpu++) {
		char *e0, *e1;
		unsigned long long a = strtoull(p0, &e0, 10), b = strtoull(p1, &e1, 10);

		if (e0 == p0 || e1 == p1)
			break;
		if (a == b)
			pr_info("host CPU %d took no timer interrupt in 200 ms: the CPU itself is stuck\n",
				cpu);
		p0 = e0;
		p1 = e1;
	}
}

/*
 * A vCPU whose guest code stands still while (nearly) every exit injects a
 * page fault is not waiting for anything: it re-executes one faulting
 * instruction forever.  QEMU TCG's emulated SVM does that now and then,
 * when it resumes a nested guest with the L1 host's registers; print a
 * fixed line that a harness can match.
 */
static void report_fault_loop(const char *who, uint64_t exits, uint64_t faults)
{
	if (exits >= 100 && faults * 10 >= exits * 9)
		pr_info("emulator artefact: endless fault loop: %s stopped while %lu of its %lu exits in 200 ms injected a page fault\n",
			who, faults, exits);
}

/* Exits and injected page faults of each IPI-sending vCPU. */
static void read_sender_stats(uint64_t *exits, uint64_t *faults)
{
	int v;

	for (v = 1; v <= nr_ipi_vcpus; v++) {
		__vcpu_get_stat(vcpus[v], "exits", &exits[v], 1);
		__vcpu_get_stat(vcpus[v], "pf_guest", &faults[v], 1);
	}
}

static void dump_target(void)
{
	char loc0[256], res0[256], loc1[256], res1[256];
	uint64_t counted0 = 0, counted1 = 0, injected = 0, exits = 0, faults = 0;
	uint64_t sender_exits0[MAX_IPI_VCPUS + 1] = {}, sender_faults0[MAX_IPI_VCPUS + 1] = {};
	uint64_t sender_exits1[MAX_IPI_VCPUS + 1] = {}, sender_faults1[MAX_IPI_VCPUS + 1] = {};
	static uint64_t before[MAX_STATS], after[MAX_STATS];
	static bool dumped;
	uint64_t spins0 = guest_u64(&spins), halts0 = guest_u64(&halts);
	struct kvm_vcpu *t = vcpus[TARGET];
	char path[64], line[256];
	FILE *f;
	int i, n;

	if (__atomic_exchange_n(&dumped, true, __ATOMIC_SEQ_CST)) {
		sleep(5);
		return;
	}
	WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&apic_dump_request), true);
	for (i = 0; i < 256; i++)
		counted0 += READ_ONCE(g_received[TARGET][i]);
	n = read_all_stats(before);
	read_sender_stats(sender_exits0, sender_faults0);
	read_cpu_irqs(loc0, res0, sizeof(loc0));
	usleep(200000);
	read_all_stats(after);
	read_sender_stats(sender_exits1, sender_faults1);
	for (i = 0; i < 256; i++)
		counted1 += READ_ONCE(g_received[TARGET][i]);
	read_cpu_irqs(loc1, res1, sizeof(loc1));
	/* A CPU whose timer count stands still is not taking interrupts at all. */
	pr_info("host timer interrupts per CPU:%s\n  200 ms later:%s\n", loc0, loc1);
	pr_info("host reschedule IPIs per CPU:%s\n  200 ms later:%s\n", res0, res1);
	report_frozen_cpus(loc0, loc1);
	pr_info("target: guest loop %lu spins, %lu halts; 200 ms later %lu spins, %lu halts\n",
		spins0, halts0, guest_u64(&spins), guest_u64(&halts));
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", target_tid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f) && strchr(line, ')')) {
		char *tok = strtok(strchr(line, ')') + 2, " ");
		char state = *tok;

		/* Field 3 is the state, field 39 the CPU it last ran on. */
		for (i = 3; tok && i < 39; i++)
			tok = strtok(NULL, " ");
		pr_info("target task: state %c, last on CPU %s\n", state, tok ? tok : "?");
	}
	if (f)
		fclose(f);
	for (i = 0; i < n; i++) {
		struct kvm_stats_desc *d = get_stats_descriptor(t->stats_desc, i,
								&t->stats_header);

		if (before[i] || after[i])
			pr_info("target vCPU stat %s: %lu, %+ld in 200 ms\n", d->name, after[i],
				(int64_t)(after[i] - before[i]));
		if (!strcmp(d->name, "irq_injections"))
			injected = after[i] - before[i];
		else if (!strcmp(d->name, "exits"))
			exits = after[i] - before[i];
		else if (!strcmp(d->name, "pf_guest"))
			faults = after[i] - before[i];
	}
	if (injected && counted1 == counted0 && guest_u64(&spins) != spins0)
		pr_info("the target ran and KVM injected %lu interrupts into it in 200 ms, but its handler took none: %s\n",
			injected, "the injected events were lost on the way into the guest");
	if (guest_u64(&spins) == spins0)
		report_fault_loop("the target's guest loop", exits, faults);
	/*
	 * A sender counts an IPI as sent once its ICR write has completed:
	 * sent == counted means the next IPI was never sent (the sender is
	 * stuck before or in that write), sent > counted that it was sent
	 * and has not arrived.
	 */
	for (i = 1; i <= nr_ipi_vcpus; i++) {
		char who[32];

		pr_info("vCPU %d: %lu IPIs sent, target counted %lu; %lu exits, %lu page faults injected in 200 ms\n",
			i, guest_u64(&ipis_sent[i]), READ_ONCE(g_received[TARGET][IPI_VECTOR(i)]),
			sender_exits1[i] - sender_exits0[i], sender_faults1[i] - sender_faults0[i]);
		snprintf(who, sizeof(who), "IPI sender vCPU %d", i);
		report_fault_loop(who, sender_exits1[i] - sender_exits0[i],
				  sender_faults1[i] - sender_faults0[i]);
	}
	for (i = 0; i < 256; i++)
		if (READ_ONCE(g_received[TARGET][i]))
			pr_info("target counted %lu of vector 0x%x\n",
				READ_ONCE(g_received[TARGET][i]), i);
	for (i = 0; i < 10 && !*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&apic_dump_done); i++)
		usleep(100000);
	if (!*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&apic_dump_done))
		pr_info("target did not read its APIC state within 1 s\n");
	else
		pr_info("target APIC: ISR 0x60-0x9f %08x %08x, IRR %08x %08x, PPR 0x%x\n",
			*(uint32_t *)addr_gva2hva(vm, (vm_vaddr_t)&apic_isr[0]),
			*(uint32_t *)addr_gva2hva(vm, (vm_vaddr_t)&apic_isr[1]),
			*(uint32_t *)addr_gva2hva(vm, (vm_vaddr_t)&apic_irr[0]),
			*(uint32_t *)addr_gva2hva(vm, (vm_vaddr_t)&apic_irr[1]),
			*(uint32_t *)addr_gva2hva(vm, (vm_vaddr_t)&apic_ppr));
}

static void *irqfd_sender_fn(void *arg)
{
	struct irqfd_sender *is = arg;
	uint64_t *count = &g_received[TARGET][MSI_VECTOR(is->id)];
	uint64_t i, want, t0, lat;

	for (i = 0; i < nr_irqs; i++) {
		want = READ_ONCE(*count) + 1;
		t0 = now_ns();
		kvm_eventfd_signal(is->eventfd);
		while (READ_ONCE(*count) < want) {
			if (now_ns() - t0 >= ARRIVAL_TIMEOUT_S * 1000000000ull)
				dump_target();
			TEST_ASSERT(now_ns() - t0 < ARRIVAL_TIMEOUT_S * 1000000000ull,
				    "irqfd %d (vector 0x%x): MSI %lu not counted after %d s: target counted %lu",
				    is->id, MSI_VECTOR(is->id), want, ARRIVAL_TIMEOUT_S,
				    READ_ONCE(*count));
			sched_yield();
		}
		lat = now_ns() - t0;
		is->lat_sum_ns += lat;
		if (lat > is->lat_max_ns)
			is->lat_max_ns = lat;
		WRITE_ONCE(progress, progress + 1);
	}
	return NULL;
}

static void *busy_fn(void *arg)
{
	while (!READ_ONCE(stop_busy))
		cpu_relax();
	return NULL;
}

struct migrate_stats {
	pid_t busy_tid;
	uint64_t moves;
};

static void *migrate_fn(void *arg)
{
	struct migrate_stats *ms = arg;
	int cpu = cpu_a;

	while (!READ_ONCE(stop_migrate)) {
		usleep(migrate_ms * 1000);
		cpu = cpu == cpu_a ? cpu_b : cpu_a;
		pin_tid(target_tid, cpu);
		pin_tid(ms->busy_tid, cpu);
		ms->moves++;
	}
	return NULL;
}

static void *busy_thread_start(void *arg)
{
	pid_t *tid = arg;

	WRITE_ONCE(*tid, gettid());
	return busy_fn(NULL);
}

static void *vcpu_fn(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	if (vcpu->id == TARGET)
		WRITE_ONCE(target_tid, gettid());
	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			WRITE_ONCE(progress, progress + 1);
			continue;
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			dump_target();
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
		}
	}
}

static void *watchdog_fn(void *arg)
{
	uint64_t last = -1ull, now;
	int idle = 0, i;

	for (;;) {
		sleep(1);
		now = READ_ONCE(progress);
		for (i = 0; i < 256; i++)
			now += READ_ONCE(g_received[TARGET][i]);
		idle = now == last ? idle + 1 : 0;
		last = now;
		if (idle == DUMP_IDLE_S)
			dump_target();
		if (idle < WATCHDOG_IDLE_S)
			continue;
		for (i = 1; i <= nr_ipi_vcpus; i++)
			pr_info("vCPU %d: target counted %lu IPIs\n", i,
				READ_ONCE(g_received[TARGET][IPI_VECTOR(i)]));
		for (i = 0; i < nr_irqfds; i++)
			pr_info("irqfd %d: target counted %lu MSIs\n", i,
				READ_ONCE(g_received[TARGET][MSI_VECTOR(i)]));
		dump_target();
		TEST_FAIL("no progress for %d s", idle);
	}
	return NULL;
}

/* voluntary and involuntary context switches of a task of this process */
static void ctxt_switches(pid_t tid, uint64_t *vol, uint64_t *invol)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	TEST_ASSERT(f, "cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "voluntary_ctxt_switches:", 24))
			*vol = strtoull(line + 24, NULL, 10);
		else if (!strncmp(line, "nonvoluntary_ctxt_switches:", 27))
			*invol = strtoull(line + 27, NULL, 10);
	}
	fclose(f);
}

static bool param_is_y(const char *path)
{
	char c = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (fscanf(f, "%c", &c) != 1)
		c = 0;
	fclose(f);
	return c == 'Y' || c == 'y' || c == '1';
}

static bool apicv, ipiv;

static const char *mechanism(void)
{
	if (host_cpu_is_intel) {
		apicv = param_is_y("/sys/module/kvm_intel/parameters/enable_apicv");
		ipiv = apicv && param_is_y("/sys/module/kvm_intel/parameters/enable_ipiv");
		if (ipiv)
			return "VMX posted interrupts, IPI virtualization (hardware posts IPIs)";
		if (apicv)
			return "VMX posted interrupts, software posting (KVM posts and notifies)";
		return "VMX without APICv: IRR injection and kick";
	}
	if (param_is_y("/sys/module/kvm_amd/parameters/avic"))
		return "SVM AVIC: IRR and doorbell";
	return "SVM without AVIC: IRR injection and kick";
}

struct pi_stats {
	bool present;
	uint64_t resync, wakeup, post_ipi, post_wake;
};

static struct pi_stats read_pi_stats(void)
{
	struct kvm_vcpu *t = vcpus[TARGET];
	struct pi_stats s = {};

	s.present = __vcpu_get_stat(t, "pi_resync", &s.resync, 1);
	s.present &= __vcpu_get_stat(t, "pi_wakeup", &s.wakeup, 1);
	s.present &= __vcpu_get_stat(t, "pi_post_ipi", &s.post_ipi, 1);
	s.present &= __vcpu_get_stat(t, "pi_post_wake", &s.post_wake, 1);
	return s;
}

static void print_pi_delta(struct pi_stats *a, struct pi_stats *b)
{
	ksft_print_msg("  pi_resync +%lu pi_wakeup +%lu pi_post_ipi +%lu pi_post_wake +%lu\n",
		       b->resync - a->resync, b->wakeup - a->wakeup,
		       b->post_ipi - a->post_ipi, b->post_wake - a->post_wake);
}

static uint64_t expected[256];
static struct pi_stats pi_total;
static uint64_t sent_total;

static void run_round(int nr, const char *name, bool migrate)
{
	uint64_t t0, vol0 = 0, invol0 = 0, vol = 0, invol = 0, ms, spins0, halts0;
	struct migrate_stats mstats = {};
	struct pi_stats pi0, pi1;
	pthread_t busy, migrator;
	uint64_t sent = 0;
	int i, v;

	ksft_print_msg("sub-test %d: %s\n", nr, name);
	spins0 = READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&spins));
	halts0 = READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&halts));
	pi0 = read_pi_stats();

	/* The target's task and a busy thread share cpu_a. */
	pin_tid(target_tid, cpu_a);
	WRITE_ONCE(stop_busy, false);
	WRITE_ONCE(stop_migrate, false);
	pthread_create(&busy, NULL, busy_thread_start, &mstats.busy_tid);
	while (!READ_ONCE(mstats.busy_tid))
		sched_yield();
	pin_tid(mstats.busy_tid, cpu_a);
	ctxt_switches(target_tid, &vol0, &invol0);
	if (migrate)
		pthread_create(&migrator, NULL, migrate_fn, &mstats);

	t0 = now_ns();
	for (v = 1; v <= nr_ipi_vcpus; v++)
		WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&go[v]), true);
	for (i = 0; i < nr_irqfds; i++)
		pthread_create(&irqfd_senders[i].thread, NULL, irqfd_sender_fn,
			       &irqfd_senders[i]);
	for (i = 0; i < nr_irqfds; i++)
		pthread_join(irqfd_senders[i].thread, NULL);
	/* The IPI senders report each round's end with a ucall... */
	for (v = 1; v <= nr_ipi_vcpus; v++) {
		uint64_t *n = addr_gva2hva(vm, (vm_vaddr_t)&ipis_sent[v]);

		while (READ_ONCE(*n) < nr * nr_irqs ||
		       READ_ONCE(g_received[TARGET][IPI_VECTOR(v)]) < nr * nr_irqs) {
			TEST_ASSERT(now_ns() - t0 < (WATCHDOG_IDLE_S + 30) * 1000000000ull,
				    "vCPU %d sent %lu IPIs, target counted %lu, wanted %lu",
				    v, READ_ONCE(*n),
				    READ_ONCE(g_received[TARGET][IPI_VECTOR(v)]), nr * nr_irqs);
			usleep(1000);
		}
	}
	ms = (now_ns() - t0) / 1000000;
	if (migrate) {
		WRITE_ONCE(stop_migrate, true);
		pthread_join(migrator, NULL);
	}
	ctxt_switches(target_tid, &vol, &invol);
	WRITE_ONCE(stop_busy, true);
	pthread_join(busy, NULL);
	pin_tid(target_tid, cpu_a);
	pi1 = read_pi_stats();

	/* ...and the counts must be exact. */
	for (v = 1; v <= nr_ipi_vcpus; v++)
		expected[IPI_VECTOR(v)] += nr_irqs;
	for (i = 0; i < nr_irqfds; i++)
		expected[MSI_VECTOR(i)] += nr_irqs;
	for (i = 0; i < 256; i++) {
		TEST_ASSERT(READ_ONCE(g_received[TARGET][i]) == expected[i],
			    "%s: target counted %lu interrupts of vector 0x%x, %lu were sent",
			    name, READ_ONCE(g_received[TARGET][i]), i, expected[i]);
		for (v = 1; v <= nr_ipi_vcpus; v++)
			TEST_ASSERT(!READ_ONCE(g_received[v][i]),
				    "%s: vCPU %d, which nobody sends to, counted %lu of vector 0x%x",
				    name, v, READ_ONCE(g_received[v][i]), i);
		sent += expected[i];
	}
	sent -= sent_total;
	sent_total += sent;

	ksft_print_msg("  %lu interrupts (%d IPI vCPUs, %d irqfds, %lu each), counted in %lu ms\n",
		       sent, nr_ipi_vcpus, nr_irqfds, nr_irqs, ms);
	for (i = 0; i < nr_irqfds; i++) {
		struct irqfd_sender *is = &irqfd_senders[i];

		ksft_print_msg("  irqfd %d: signal to count avg %lu us, max %lu us\n", i,
			       is->lat_sum_ns / nr_irqs / 1000, is->lat_max_ns / 1000);
		is->lat_sum_ns = 0;
		is->lat_max_ns = 0;
	}
	for (v = 1; v <= nr_ipi_vcpus; v++) {
		uint64_t *sum = addr_gva2hva(vm, (vm_vaddr_t)&ipi_cycles_sum[v]);
		uint64_t *max = addr_gva2hva(vm, (vm_vaddr_t)&ipi_cycles_max[v]);

		ksft_print_msg("  IPIs from vCPU %d: ICR write to count avg %lu us, max %lu us\n",
			       v, *sum / nr_irqs * 1000 / guest_tsc_khz,
			       *max * 1000 / guest_tsc_khz);
		*sum = 0;
		*max = 0;
	}
	ksft_print_msg("  target vCPU task: %lu involuntary, %lu voluntary context switches\n",
		       invol - invol0, vol - vol0);
	ksft_print_msg("  %lu forced moves between CPU %d and %d\n", mstats.moves, cpu_a, cpu_b);
	ksft_print_msg("  target guest loop: %lu spins, %lu halts\n",
		       READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&spins)) - spins0,
		       READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&halts)) - halts0);
	TEST_ASSERT(invol > invol0,
		    "%s: the target's task was never preempted: the scenario did not happen", name);
	if (pi0.present && pi1.present) {
		print_pi_delta(&pi0, &pi1);
		pi_total.resync += pi1.resync - pi0.resync;
		/* A notification is at most one per interrupt sent. */
		TEST_ASSERT(pi1.post_ipi - pi0.post_ipi + pi1.post_wake - pi0.post_wake <= sent,
			    "%s: pi_post_ipi +%lu and pi_post_wake +%lu for %lu interrupts",
			    name, pi1.post_ipi - pi0.post_ipi, pi1.post_wake - pi0.post_wake, sent);
	}
	ksft_test_result_pass("%s\n", name);
}

static void help(const char *name, int status)
{
	printf("usage: %s [-v IPI-sending vCPUs (0-%d, default %d)]\n"
	       "          [-f irqfds (0-%d, default %d)]\n"
	       "          [-n interrupts per source and sub-test (default %d)]\n"
	       "          [-m milliseconds between forced migrations (default %d)]\n",
	       name, MAX_IPI_VCPUS, DEFAULT_IPI_VCPUS, MAX_IRQFDS, DEFAULT_IRQFDS,
	       DEFAULT_NR_IRQS, DEFAULT_MIGRATE_MS);
	exit(status);
}

int main(int argc, char *argv[])
{
	struct kvm_irq_routing *routing;
	char name[128];
	pthread_t watchdog;
	cpu_set_t allowed;
	int opt, v, i, nr_vcpus;
	bool joined[MAX_IPI_VCPUS + 1] = {}, running;
	uint64_t start;

	while ((opt = getopt(argc, argv, "hv:f:n:m:")) != -1) {
		switch (opt) {
		case 'v':
			nr_ipi_vcpus = atoi_non_negative("IPI vCPUs", optarg);
			if (nr_ipi_vcpus > MAX_IPI_VCPUS)
				help(argv[0], KSFT_FAIL);
			break;
		case 'f':
			nr_irqfds = atoi_non_negative("irqfds", optarg);
			if (nr_irqfds > MAX_IRQFDS)
				help(argv[0], KSFT_FAIL);
			break;
		case 'n':
			nr_irqs = atoi_positive("Interrupts per source", optarg);
			break;
		case 'm':
			migrate_ms = atoi_positive("Migration period", optarg);
			break;
		case 'h':
			help(argv[0], KSFT_PASS);
			break;
		default:
			help(argv[0], KSFT_FAIL);
		}
	}
	if (optind != argc || nr_ipi_vcpus + nr_irqfds == 0)
		help(argv[0], KSFT_FAIL);

	ksft_print_header();
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQ_ROUTING));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SIGNAL_MSI));
	TEST_ASSERT(!sched_getaffinity(0, sizeof(allowed), &allowed), "sched_getaffinity");
	cpu_a = -1;
	cpu_b = -1;
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &allowed))
			continue;
		if (cpu_a < 0)
			cpu_a = i;
		else if (cpu_b < 0)
			cpu_b = i;
	}
	ksft_set_plan(3);
	ksft_print_msg("mechanism: %s\n", mechanism());

	nr_vcpus = nr_ipi_vcpus + 1;
	vm = vm_create_with_vcpus(nr_vcpus, guest_code, vcpus);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	for (v = 0; v < nr_vcpus; v++)
		vcpu_args_set(vcpus[v], 1, v);
	for (i = 0x20; i < 0x100; i++)
		vm_install_exception_handler(vm, i, guest_irq_handler);
	vm_install_exception_handler(vm, WAKE_VECTOR, guest_wake_handler);
	g_received = addr_gva2hva(vm, (vm_vaddr_t)&received[0][0]);
	*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&nr_irqs_guest) = nr_irqs;

	routing = kvm_gsi_routing_create();
	for (i = 0; i < nr_irqfds; i++)
		kvm_gsi_routing_msi_add(routing, MSI_GSI(i), 0xfee00000u | (TARGET << 12),
					MSI_VECTOR(i));
	kvm_gsi_routing_write(vm, routing);
	for (i = 0; i < nr_irqfds; i++) {
		irqfd_senders[i].id = i;
		irqfd_senders[i].eventfd = kvm_new_eventfd();
		kvm_assign_irqfd(vm, MSI_GSI(i), irqfd_senders[i].eventfd);
	}

	/*
	 * Open the target's stats file now: KVM_GET_STATS_FD waits for the
	 * vCPU's mutex, which KVM_RUN holds.
	 */
	read_pi_stats();
	for (v = 0; v < nr_vcpus; v++)
		pthread_create(&vcpu_threads[v], NULL, vcpu_fn, vcpus[v]);
	for (v = 0; v < nr_vcpus; v++) {
		bool *ready = addr_gva2hva(vm, (vm_vaddr_t)&vcpu_ready[v]);

		start = now_ns();
		while (!READ_ONCE(*ready) || !READ_ONCE(target_tid)) {
			TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
				    "vCPU %d did not come up", v);
			sched_yield();
		}
	}
	pthread_create(&watchdog, NULL, watchdog_fn, NULL);

	run_round(1, "target shares its pCPU with a busy thread", false);
	if (cpu_b < 0) {
		ksft_test_result_skip("forced migration: only one CPU is available\n");
	} else {
		snprintf(name, sizeof(name),
			 "target and busy thread moved between CPU %d and %d every %d ms",
			 cpu_a, cpu_b, migrate_ms);
		run_round(2, name, true);
	}

	if (!host_cpu_is_intel || !ipiv)
		ksft_test_result_skip("pi_resync: %s: %s\n", mechanism(),
				      "software posting ignores SN; PIR re-sync needs IPI virtualization or VT-d posting");
	else if (!read_pi_stats().present)
		ksft_test_result_skip("pi_resync: the kernel has no pi_* vCPU stats\n");
	else if (!nr_ipi_vcpus)
		ksft_test_result_skip("pi_resync: no IPI-sending vCPUs (-v 0)\n");
	else
		ksft_test_result(pi_total.resync > 0,
				 "pi_resync: %lu re-syncs for %lu interrupts\n",
				 pi_total.resync, sent_total);

	/* Stop: the IPI senders wait for go, the target for the wake vector. */
	WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&test_done), true);
	for (v = 1; v < nr_vcpus; v++)
		WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&go[v]), true);
	start = now_ns();
	do {
		struct kvm_msi wake = { .address_lo = 0xfee00000u | (TARGET << 12),
					.data = WAKE_VECTOR };

		running = false;
		for (v = 0; v < nr_vcpus; v++) {
			if (!joined[v])
				joined[v] = !pthread_tryjoin_np(vcpu_threads[v], NULL);
			running |= !joined[v];
		}
		if (!joined[TARGET])
			__vm_ioctl(vm, KVM_SIGNAL_MSI, &wake);
		TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
			    "vCPUs did not stop");
		if (running)
			usleep(1000);
	} while (running);
	pthread_cancel(watchdog);
	pthread_join(watchdog, NULL);

	for (i = 0; i < nr_irqfds; i++) {
		kvm_deassign_irqfd(vm, MSI_GSI(i), irqfd_senders[i].eventfd);
		close(irqfd_senders[i].eventfd);
	}
	kvm_vm_free(vm);
	ksft_finished();
}
