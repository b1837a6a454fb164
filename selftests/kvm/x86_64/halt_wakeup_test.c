// SPDX-License-Identifier: GPL-2.0-only
/*
 * halt_wakeup_test
 *
 * Wakeup of a blocked vCPU by each kind of interrupt source.  The target
 * vCPU halts with interrupts enabled, halt polling is off, and the host
 * sends the next interrupt only once KVM reports the target blocked (its
 * "blocking" stat), one source at a time, round after round:
 *
 *  - an IPI from the other vCPU (fixed, physical destination), which
 *    spins waiting for the host's word to send it;
 *  - KVM_SIGNAL_MSI from a host thread;
 *  - an irqfd on an MSI route, signalled by a host thread;
 *  - the target's own LAPIC timer (TSC-deadline when the vCPU's CPUID has
 *    it, one-shot otherwise), armed just before it halts.
 *
 * Each source has its own vector.  The target's handler counts, per
 * source, the interrupts it took and the wakeups among them: an interrupt
 * is a wakeup when it is the first one taken since the target entered HLT.
 * For every source, received == sent and wakeups == sent must hold exactly,
 * on the target only; an interrupt taken while the target was not halted
 * is an error.  The latency from the send (the timer's deadline) to the
 * handler's entry is printed per source, on the guest's TSC.
 *
 * Under QEMU's TCG a nested guest's interrupt is sometimes delivered with
 * the saved RIP still on the HLT: the handler runs (that is the wakeup),
 * then the vCPU halts again without running the code after the HLT.  The
 * handler sees this in its saved RIP and counts it.  The target would then
 * not arm its next timer, so while the host waits for a timer interrupt it
 * wakes a target that sits blocked without having armed it with a
 * "watchdog" vector, which is counted apart from the sources; the test
 * prints how often it was needed.
 *
 * On a VMX host with APICv, a blocked vCPU's posted-interrupt descriptor
 * points at KVM's wakeup vector.  IPI virtualization (enable_ipiv) posts
 * guest IPIs in hardware, so each IPI that wakes the sleeping target must
 * come through the wakeup handler; the software paths (KVM_SIGNAL_MSI,
 * irqfd, the timer, IPIs without IPIv) wake the vCPU directly.  The test
 * checks this with the pi_wakeup stat against KVM's halt_wakeup stat.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define SENDER_ID		0
#define TARGET_ID		1
#define NR_VCPUS		2

enum source { SRC_IPI, SRC_MSI, SRC_IRQFD, SRC_TIMER, NR_SOURCES };

static const char * const source_name[] = {
	[SRC_IPI] = "IPI from vCPU 0",
	[SRC_MSI] = "KVM_SIGNAL_MSI",
	[SRC_IRQFD] = "irqfd (MSI route)",
	[SRC_TIMER] = "LAPIC timer",
};

#define SOURCE_VECTOR(s)	(0xa0 + (s))
/*
 * Below the sources' priority class: should a watchdog interrupt and a
 * source's be pending at once, the source's is taken first.
 */
#define WATCHDOG_VECTOR		0x90

#define IRQFD_GSI		24

#define MAX_ROUNDS		2000
#define DEFAULT_ROUNDS		250
#define DEFAULT_TIMER_US	3000

/* The host fails a wait after this long, or the whole test after 50 s... */
#define WAIT_TIMEOUT_S		10
#define TEST_TIMEOUT_S		50
/* ...and kicks a blocked target whose timer count did not move for this long. */
#define WATCHDOG_MS		100
/* How often the host looks at the target (the TSC dates the interrupts). */
#define POLL_US			200

/* Guest memory shared by the vCPUs and the host. */
static bool use_tscdeadline;
static uint64_t timer_tsc;		/* the target's timer, in TSC cycles */
static uint64_t send_tsc;		/* IPI, MSI, irqfd: when it was sent */
static uint64_t timer_deadline;
static uint64_t arm_seq;		/* host: arm the timer before halting */
static uint64_t armed_seq;		/* target: the last arm_seq it acted on */
static bool in_hlt;			/* target: no interrupt since HLT entry */
static uint64_t received[NR_SOURCES];
static uint64_t woke[NR_SOURCES];
static uint64_t on_hlt[NR_SOURCES];	/* delivered with the saved RIP on HLT */
static uint64_t not_halted[NR_SOURCES];
static int64_t latency[NR_SOURCES][MAX_ROUNDS];
static uint64_t watchdog_irqs;
static uint64_t watchdog_wakes;
static uint64_t misrouted;
static uint64_t ipi_req;		/* host: vCPU 0, send IPI number ipi_req */
static uint64_t ipis_sent;
static uint64_t loop_wakeups;		/* target: returns from its HLT */
static bool vcpu_ready[NR_VCPUS];
static bool test_done;

/* Counts a wakeup; returns false if the target was not halted. */
static bool account_wakeup(struct ex_regs *regs, uint64_t *on_hlt_count)
{
	if (!in_hlt)
		return false;
	/* With the saved RIP on the HLT, the vCPU will halt again. */
	if (regs->rip == READ_ONCE(guest_hlt_rip))
		(*on_hlt_count)++;
	else
		in_hlt = false;
	return true;
}

static void guest_source_handler(struct ex_regs *regs)
{
	uint64_t now = rdtsc();
	uint32_t src = regs->vector - SOURCE_VECTOR(0);
	uint64_t n;

	if (x2apic_read_reg(APIC_ID) != TARGET_ID) {
		WRITE_ONCE(misrouted, misrouted + 1);
		x2apic_write_reg(APIC_EOI, 0);
		return;
	}
	if (account_wakeup(regs, &on_hlt[src]))
		WRITE_ONCE(woke[src], woke[src] + 1);
	else
		WRITE_ONCE(not_halted[src], not_halted[src] + 1);
	n = received[src];
	if (n < MAX_ROUNDS)
		latency[src][n] = now - (src == SRC_TIMER ? timer_deadline :
						      READ_ONCE(send_tsc));
	WRITE_ONCE(received[src], n + 1);
	x2apic_write_reg(APIC_EOI, 0);
}

/* The host's watchdog, and its wake-ups at the end. */
static void guest_watchdog_handler(struct ex_regs *regs)
{
	uint64_t dummy = 0;

	if (x2apic_read_reg(APIC_ID) == TARGET_ID) {
		if (account_wakeup(regs, &dummy))
			WRITE_ONCE(watchdog_wakes, watchdog_wakes + 1);
		WRITE_ONCE(watchdog_irqs, watchdog_irqs + 1);
	}
	x2apic_write_reg(APIC_EOI, 0);
	if (READ_ONCE(test_done))
		GUEST_DONE();
}

/*
 * vCPU 0 polls for the host's requests rather than halting, so that its
 * own wakeup plays no part in the IPI's.  It opens an interrupt window on
 * each pass, where an interrupt meant for the target would be counted as
 * misrouted.
 */
static void sender_code(void)
{
	uint64_t req;

	while (!READ_ONCE(test_done)) {
		req = READ_ONCE(ipi_req);
		if (req != ipis_sent) {
			GUEST_ASSERT_EQ(req, ipis_sent + 1);
			WRITE_ONCE(send_tsc, rdtsc());
			x2apic_write_reg(APIC_ICR, (uint64_t)TARGET_ID << 32 |
					 APIC_DEST_PHYSICAL | APIC_DM_FIXED |
					 SOURCE_VECTOR(SRC_IPI));
			WRITE_ONCE(ipis_sent, req);
		}
		asm volatile("sti; nop; cli" ::: "memory");
		cpu_relax();
	}
	GUEST_DONE();
}

static void target_arm_timer(void)
{
	uint64_t now = rdtsc();

	WRITE_ONCE(timer_deadline, now + timer_tsc);
	if (use_tscdeadline)
		wrmsr(MSR_IA32_TSC_DEADLINE, timer_deadline);
	else
		x2apic_write_reg(APIC_TMICT, timer_tsc * 1000000 / guest_tsc_khz);
}

static void guest_code(uint32_t idx)
{
	uint64_t seq;

	x2apic_enable();
	GUEST_ASSERT_EQ(x2apic_read_reg(APIC_ID), idx);
	WRITE_ONCE(vcpu_ready[idx], true);
	if (idx == SENDER_ID)
		sender_code();

	GUEST_ASSERT(!use_tscdeadline || this_cpu_has(X86_FEATURE_TSC_DEADLINE_TIMER));
	/* One-shot counts at KVM's default 1 GHz APIC bus, divide by 1. */
	x2apic_write_reg(APIC_TDCR, 0xb);
	x2apic_write_reg(APIC_LVTT, SOURCE_VECTOR(SRC_TIMER) |
			 (use_tscdeadline ? APIC_LVT_TIMER_TSCDEADLINE :
					    APIC_LVT_TIMER_ONESHOT));
	for (;;) {
		seq = READ_ONCE(arm_seq);
		if (seq != armed_seq) {
			target_arm_timer();
			WRITE_ONCE(armed_seq, seq);
		}
		in_hlt = true;
		guest_sti_hlt();
		WRITE_ONCE(loop_wakeups, loop_wakeups + 1);
	}
}

struct test {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vcpu *target;
	bool done[NR_VCPUS];
	int eventfd;
	bool has_tsc_offset;
	uint64_t tsc_offset;
	uint64_t kicks;			/* watchdog interrupts sent */
	/* Deltas of the target's stats, per source window. */
	uint64_t halt_wakeup[NR_SOURCES];
	uint64_t pi_wakeup[NR_SOURCES];
	uint64_t pi_post_wake[NR_SOURCES];
	bool has_pi_wakeup, has_pi_post_wake;
};

/* Host pointers to the guest's variables. */
static uint64_t *u64_of(struct test *t, uint64_t *gva)
{
	return addr_gva2hva(t->vm, (vm_vaddr_t)gva);
}

static int64_t *s64_of(struct test *t, int64_t *gva)
{
	return addr_gva2hva(t->vm, (vm_vaddr_t)gva);
}

static bool *bool_of(struct test *t, bool *gva)
{
	return addr_gva2hva(t->vm, (vm_vaddr_t)gva);
}

static void *vcpu_fn(void *arg)
{
	vcpu_run_expect_done(arg);
	return NULL;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static uint64_t test_start_us;

static void check_test_timeout(struct test *t)
{
	TEST_ASSERT(now_us() - test_start_us < TEST_TIMEOUT_S * 1000000ull,
		    "not done after %d s: received IPI %lu, MSI %lu, irqfd %lu, timer %lu",
		    TEST_TIMEOUT_S, *u64_of(t, &received[SRC_IPI]),
		    *u64_of(t, &received[SRC_MSI]), *u64_of(t, &received[SRC_IRQFD]),
		    *u64_of(t, &received[SRC_TIMER]));
}

static uint64_t target_stat(struct test *t, const char *name)
{
	return vcpu_get_stat(t->target, name);
}

static struct kvm_msi msi_to(uint32_t apic_id, uint8_t vector)
{
	struct kvm_msi msi = {
		.address_lo = APIC_DEFAULT_GPA | apic_id << 12,
		.data = vector,
	};

	return msi;
}

static void signal_msi(struct test *t, uint32_t apic_id, uint8_t vector)
{
	struct kvm_msi msi = msi_to(apic_id, vector);
	int r = __vm_ioctl(t->vm, KVM_SIGNAL_MSI, &msi);

	TEST_ASSERT(r == 1, "KVM_SIGNAL_MSI vector 0x%x to APIC ID %u returned %d",
		    vector, apic_id, r);
}

static void wait_blocked(struct test *t, enum source src, uint64_t round)
{
	uint64_t start = now_us();

	while (!target_stat(t, "blocking")) {
		TEST_ASSERT(now_us() - start < WAIT_TIMEOUT_S * 1000000ull,
			    "round %lu, %s: target not blocked after %d s (%lu HLT returns, %lu watchdog wake-ups)",
			    round, source_name[src], WAIT_TIMEOUT_S,
			    *u64_of(t, &loop_wakeups), *u64_of(t, &watchdog_wakes));
		check_test_timeout(t);
		usleep(POLL_US);
	}
}

/*
 * Wait until the target has taken @want interrupts of @src.  While it
 * waits for the timer, wake the target when it sits blocked without
 * having armed the timer (see the top).  A timer that was armed and does
 * not fire is not helped: that fails the test.
 */
static void wait_received(struct test *t, enum source src, uint64_t want)
{
	uint64_t *count = u64_of(t, &received[src]);
	uint64_t start = now_us(), last_kick = start;

	while (READ_ONCE(*count) < want) {
		TEST_ASSERT(now_us() - start < WAIT_TIMEOUT_S * 1000000ull,
			    "%s interrupt %lu not received in %d s: received %lu, wakeups %lu, not halted %lu, misrouted %lu, %lu watchdog kicks, IPIs sent %lu, target blocked %lu",
			    source_name[src], want, WAIT_TIMEOUT_S, READ_ONCE(*count),
			    *u64_of(t, &woke[src]), *u64_of(t, &not_halted[src]),
			    *u64_of(t, &misrouted), t->kicks, *u64_of(t, &ipis_sent),
			    target_stat(t, "blocking"));
		if (src == SRC_TIMER && now_us() - last_kick > WATCHDOG_MS * 1000 &&
		    READ_ONCE(*u64_of(t, &armed_seq)) != want &&
		    READ_ONCE(*u64_of(t, &watchdog_irqs)) == t->kicks &&
		    target_stat(t, "blocking")) {
			signal_msi(t, TARGET_ID, WATCHDOG_VECTOR);
			t->kicks++;
			last_kick = now_us();
		}
		check_test_timeout(t);
		usleep(POLL_US);
	}
}

static void wait_ipi_sent(struct test *t, uint64_t want)
{
	uint64_t start = now_us();

	while (READ_ONCE(*u64_of(t, &ipis_sent)) < want) {
		TEST_ASSERT(now_us() - start < WAIT_TIMEOUT_S * 1000000ull,
			    "vCPU 0 not back from sending IPI %lu after %d s", want,
			    WAIT_TIMEOUT_S);
		check_test_timeout(t);
		usleep(POLL_US);
	}
}

struct stat_snap {
	uint64_t halt_wakeup, pi_wakeup, pi_post_wake;
};

static void snap(struct test *t, struct stat_snap *s)
{
	s->halt_wakeup = target_stat(t, "halt_wakeup");
	if (t->has_pi_wakeup)
		s->pi_wakeup = target_stat(t, "pi_wakeup");
	if (t->has_pi_post_wake)
		s->pi_post_wake = target_stat(t, "pi_post_wake");
}

static void account(struct test *t, enum source src, struct stat_snap *prev)
{
	struct stat_snap now;

	snap(t, &now);
	t->halt_wakeup[src] += now.halt_wakeup - prev->halt_wakeup;
	t->pi_wakeup[src] += now.pi_wakeup - prev->pi_wakeup;
	t->pi_post_wake[src] += now.pi_post_wake - prev->pi_post_wake;
	*prev = now;
}

/* The host's TSC as the guest sees it, or 0 when the offset is unknown. */
static uint64_t guest_tsc_now(struct test *t)
{
	return t->has_tsc_offset ? rdtsc() + t->tsc_offset : 0;
}

/*
 * One source at a time, each once the target is blocked.  Each source's
 * stats window closes once its sender is done and the target took the
 * interrupt: the sleeping task's wakeup is counted by the waker, and the
 * target may run before the waker has counted it.  Wakeups between the
 * windows are left out.
 */
static void run_rounds(struct test *t, uint64_t rounds)
{
	struct stat_snap prev;
	uint64_t r;

	for (r = 1; r <= rounds; r++) {
		wait_blocked(t, SRC_IPI, r);
		snap(t, &prev);
		WRITE_ONCE(*u64_of(t, &ipi_req), r);
		/* vCPU 0 is back from its ICR write: any kick is done. */
		wait_ipi_sent(t, r);
		wait_received(t, SRC_IPI, r);
		account(t, SRC_IPI, &prev);

		wait_blocked(t, SRC_MSI, r);
		snap(t, &prev);
		WRITE_ONCE(*u64_of(t, &send_tsc), guest_tsc_now(t));
		signal_msi(t, TARGET_ID, SOURCE_VECTOR(SRC_MSI));
		wait_received(t, SRC_MSI, r);
		account(t, SRC_MSI, &prev);

		wait_blocked(t, SRC_IRQFD, r);
		snap(t, &prev);
		/* Taking this interrupt, the target arms its timer. */
		WRITE_ONCE(*u64_of(t, &arm_seq), r);
		WRITE_ONCE(*u64_of(t, &send_tsc), guest_tsc_now(t));
		kvm_eventfd_signal(t->eventfd);
		/*
		 * ...so close the window at once: the timer's window starts
		 * here.  (The irqfd's wakeup is done unless it was deferred.)
		 */
		account(t, SRC_IRQFD, &prev);
		wait_received(t, SRC_IRQFD, r);

		wait_received(t, SRC_TIMER, r);
		account(t, SRC_TIMER, &prev);
	}
}

static void stop_vcpus(struct test *t, pthread_t *threads)
{
	uint64_t start = now_us();
	bool running;
	int v;

	WRITE_ONCE(*bool_of(t, &test_done), true);
	do {
		running = false;
		for (v = 0; v < NR_VCPUS; v++) {
			if (t->done[v])
				continue;
			t->done[v] = !pthread_tryjoin_np(threads[v], NULL);
			if (!t->done[v]) {
				running = true;
				signal_msi(t, v, WATCHDOG_VECTOR);
			}
		}
		TEST_ASSERT(now_us() - start < WAIT_TIMEOUT_S * 1000000ull,
			    "vCPUs still running %d s after the end", WAIT_TIMEOUT_S);
		if (running)
			usleep(1000);
	} while (running);
}

static int cmp_s64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t tsc_to_ns(int64_t cycles)
{
	return cycles * 1000000 / (int64_t)guest_tsc_khz;
}

static void print_latency(const char *what, const int64_t *samples, uint64_t n)
{
	int64_t *s = malloc(n * sizeof(*s));

	TEST_ASSERT(s && n, "no samples for %s", what);
	memcpy(s, samples, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_s64);
	ksft_print_msg("%s: latency of %lu wakeups (ns): min %ld p50 %ld p99 %ld max %ld\n",
		       what, n, tsc_to_ns(s[0]), tsc_to_ns(s[(n - 1) / 2]),
		       tsc_to_ns(s[(n * 99 + 99) / 100 - 1]), tsc_to_ns(s[n - 1]));
	free(s);
}

/* A Y/N module parameter; -1 when it does not exist. */
static int module_param_bool(const char *path)
{
	char c = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == 'Y' || c == 'y' || c == '1';
}

static void print_mechanism(struct test *t, bool halt_poll_off)
{
	uint64_t blocked = 0;
	int s;

	for (s = 0; s < NR_SOURCES; s++)
		blocked += t->halt_wakeup[s];

	if (kvm_cpu_has(X86_FEATURE_VMX))
		ksft_print_msg("mechanism: VMX, enable_apicv=%d enable_ipiv=%d: %s\n",
			       module_param_bool("/sys/module/kvm_intel/parameters/enable_apicv"),
			       module_param_bool("/sys/module/kvm_intel/parameters/enable_ipiv"),
			       "posted interrupts; a blocked vCPU's descriptor names the wakeup vector");
	else
		ksft_print_msg("mechanism: SVM, avic=%d: %s\n",
			       module_param_bool("/sys/module/kvm_amd/parameters/avic"),
			       "the interrupt is set in the target's IRR and kvm_vcpu_kick() wakes its task");
	ksft_print_msg("halt polling %s; %lu wakeups of a sleeping vCPU task (halt_wakeup)\n",
		       halt_poll_off ? "off (KVM_CAP_HALT_POLL 0)" : "not controllable, on",
		       blocked);
}

/*
 * VMX with APICv: IPIs posted by IPI virtualization reach a blocked vCPU
 * through KVM's wakeup vector, one pi_wakeup per wakeup of its sleeping
 * task; nothing else in this test goes through it.  The halt_wakeup stat
 * counts every wakeup of the sleeping task, and the host reads the stats
 * around each source without stopping the vCPU: a wakeup that is not the
 * source's own can fall into the source's window.  Hence at least 90% of
 * the IPI window's wakeups, and never more than all, must be pi_wakeups;
 * the other windows must have none.
 */
static void check_pi_wakeup(struct test *t)
{
	const char *skip = NULL;
	int apicv, ipiv;
	int s;

	apicv = module_param_bool("/sys/module/kvm_intel/parameters/enable_apicv");
	ipiv = module_param_bool("/sys/module/kvm_intel/parameters/enable_ipiv");
	if (!kvm_cpu_has(X86_FEATURE_VMX))
		skip = "SVM host: no VMX posted interrupts, KVM's wakeup vector is not used";
	else if (apicv != 1)
		skip = "kvm_intel.enable_apicv is off: no posted interrupts";
	else if (!t->has_pi_wakeup)
		skip = "pi_wakeup stat not present, kernel lacks irqpath stats";
	if (skip) {
		ksft_test_result_skip("wakeup vector: %s\n", skip);
		return;
	}
	for (s = 0; s < NR_SOURCES; s++) {
		uint64_t max = s == SRC_IPI && ipiv == 1 ? t->halt_wakeup[s] : 0;
		uint64_t min = max * 9 / 10;

		ksft_print_msg("%s: pi_wakeup %lu, halt_wakeup %lu, pi_post_wake %s%lu\n",
			       source_name[s], t->pi_wakeup[s], t->halt_wakeup[s],
			       t->has_pi_post_wake ? "" : "(no stat) ", t->pi_post_wake[s]);
		TEST_ASSERT(t->pi_wakeup[s] >= min && t->pi_wakeup[s] <= max,
			    "%s: pi_wakeup moved by %lu, wanted %lu..%lu (enable_ipiv=%d, %lu sleeping-task wakeups)",
			    source_name[s], t->pi_wakeup[s], min, max, ipiv, t->halt_wakeup[s]);
	}
	if (ipiv == 1)
		ksft_test_result_pass("wakeup vector: used by %lu IPI wakeups, nothing else\n",
				      t->pi_wakeup[SRC_IPI]);
	else
		ksft_test_result_pass("wakeup vector: unused, as it must be without IPIv\n");
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-n rounds (default %d, at most %d)] [-t timer us (default %d)]\n",
	       name, DEFAULT_ROUNDS, MAX_ROUNDS, DEFAULT_TIMER_US);
}

int main(int argc, char *argv[])
{
	uint64_t rounds = DEFAULT_ROUNDS, timer_us = DEFAULT_TIMER_US, v64;
	uint64_t wd_irqs, wd_wakes;
	struct kvm_irq_routing *routing;
	pthread_t threads[NR_VCPUS];
	struct test t = {};
	bool halt_poll_off;
	int opt, v, s;

	while ((opt = getopt(argc, argv, "hn:t:")) != -1) {
		switch (opt) {
		case 'n':
			rounds = atoi_positive("Rounds", optarg);
			break;
		case 't':
			timer_us = atoi_positive("Timer (us)", optarg);
			break;
		case 'h':
			help(argv[0]);
			exit(KSFT_PASS);
		default:
			help(argv[0]);
			exit(KSFT_FAIL);
		}
	}
	if (optind < argc || rounds > MAX_ROUNDS) {
		help(argv[0]);
		exit(KSFT_FAIL);
	}

	ksft_print_header();
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_X2APIC));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SIGNAL_MSI));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD));
	ksft_set_plan(NR_SOURCES + 1);
	test_start_us = now_us();

	t.vm = vm_create_with_vcpus(NR_VCPUS, guest_code, t.vcpus);
	t.target = t.vcpus[TARGET_ID];
	halt_poll_off = kvm_has_cap(KVM_CAP_HALT_POLL);
	if (halt_poll_off)
		vm_enable_cap(t.vm, KVM_CAP_HALT_POLL, 0);
	use_tscdeadline = kvm_has_cap(KVM_CAP_TSC_DEADLINE_TIMER);
	if (use_tscdeadline)
		vcpu_set_cpuid_feature(t.target, X86_FEATURE_TSC_DEADLINE_TIMER);
	sync_global_to_guest(t.vm, use_tscdeadline);
	timer_tsc = guest_tsc_khz * timer_us / 1000;
	sync_global_to_guest(t.vm, timer_tsc);
	for (v = 0; v < NR_VCPUS; v++)
		vcpu_args_set(t.vcpus[v], 1, v);
	for (s = 0; s < NR_SOURCES; s++)
		vm_install_exception_handler(t.vm, SOURCE_VECTOR(s), guest_source_handler);
	vm_install_exception_handler(t.vm, WATCHDOG_VECTOR, guest_watchdog_handler);

	routing = kvm_gsi_routing_create();
	kvm_gsi_routing_msi_add(routing, IRQFD_GSI, APIC_DEFAULT_GPA | TARGET_ID << 12,
				SOURCE_VECTOR(SRC_IRQFD));
	kvm_gsi_routing_write(t.vm, routing);
	t.eventfd = kvm_new_eventfd();
	kvm_assign_irqfd(t.vm, IRQFD_GSI, t.eventfd);

	/* Open the stats file before the vCPU threads run. */
	target_stat(&t, "blocking");
	t.has_pi_wakeup = __vcpu_get_stat(t.target, "pi_wakeup", &v64, 1);
	t.has_pi_post_wake = __vcpu_get_stat(t.target, "pi_post_wake", &v64, 1);
	t.has_tsc_offset = !__vcpu_has_device_attr(t.target, KVM_VCPU_TSC_CTRL,
						   KVM_VCPU_TSC_OFFSET);
	if (t.has_tsc_offset)
		vcpu_device_attr_get(t.target, KVM_VCPU_TSC_CTRL, KVM_VCPU_TSC_OFFSET,
				     &t.tsc_offset);

	for (v = 0; v < NR_VCPUS; v++)
		pthread_create(&threads[v], NULL, vcpu_fn, t.vcpus[v]);
	for (v = 0; v < NR_VCPUS; v++) {
		uint64_t start = now_us();

		while (!READ_ONCE(*bool_of(&t, &vcpu_ready[v]))) {
			TEST_ASSERT(now_us() - start < WAIT_TIMEOUT_S * 1000000ull,
				    "vCPU %d did not come up", v);
			usleep(1000);
		}
	}

	run_rounds(&t, rounds);
	wd_irqs = *u64_of(&t, &watchdog_irqs);
	wd_wakes = *u64_of(&t, &watchdog_wakes);
	stop_vcpus(&t, threads);

	TEST_ASSERT(!*u64_of(&t, &misrouted),
		    "%lu interrupts for the target were taken by vCPU 0",
		    *u64_of(&t, &misrouted));
	TEST_ASSERT(*u64_of(&t, &ipis_sent) == rounds,
		    "vCPU 0 sent %lu IPIs, wanted %lu", *u64_of(&t, &ipis_sent), rounds);

	print_mechanism(&t, halt_poll_off);
	for (s = 0; s < NR_SOURCES; s++) {
		uint64_t got = *u64_of(&t, &received[s]);
		uint64_t wakeups = *u64_of(&t, &woke[s]);

		TEST_ASSERT(got == rounds,
			    "%s: sent %lu, received %lu", source_name[s], rounds, got);
		TEST_ASSERT(wakeups == rounds && !*u64_of(&t, &not_halted[s]),
			    "%s: sent %lu, wakeups %lu, taken while not halted %lu",
			    source_name[s], rounds, wakeups, *u64_of(&t, &not_halted[s]));
		if ((s != SRC_MSI && s != SRC_IRQFD) || t.has_tsc_offset)
			print_latency(source_name[s], s64_of(&t, latency[s]), got);
		else
			ksft_print_msg("%s: no KVM_VCPU_TSC_OFFSET, latency not measured\n",
				       source_name[s]);
		ksft_print_msg("%s: %lu sleeping-task wakeups in its window, %lu onto HLT\n",
			       source_name[s], t.halt_wakeup[s], *u64_of(&t, &on_hlt[s]));
		ksft_test_result_pass("%s: %lu interrupts, %lu wakeups, exactly once each\n",
				      source_name[s], got, wakeups);
	}
	ksft_print_msg("timer: %s, %lu us; target's returns from HLT: %lu\n",
		       use_tscdeadline ? "TSC-deadline" : "one-shot", timer_us,
		       *u64_of(&t, &loop_wakeups));
	ksft_print_msg("watchdog: %lu sent, %lu taken by the target, %lu of them woke it\n",
		       t.kicks, wd_irqs, wd_wakes);
	check_pi_wakeup(&t);

	kvm_deassign_irqfd(t.vm, IRQFD_GSI, t.eventfd);
	close(t.eventfd);
	kvm_vm_free(t.vm);
	ksft_finished();
}
