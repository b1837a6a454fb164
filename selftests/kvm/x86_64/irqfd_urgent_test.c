// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqfd_urgent_test
 *
 * KVM_IRQFD_FLAG_URGENT: an urgent irqfd's interrupt must reach a target
 * vCPU that is preempted (runnable, but its pCPU runs another task) without
 * waiting for the vCPU's next time slice.
 *
 * Part 1, the ABI: KVM_CAP_IRQFD_URGENT is advertised; the flag is accepted
 * on assignment; urgent together with deassign or resample, an unknown
 * flag, and any irqfd on a VM without an in-kernel irqchip fail with
 * EINVAL; an urgent irqfd deassigns like any other.
 *
 * Part 2, latency: the target vCPU spins in the guest with interrupts
 * enabled, writing a heartbeat to memory.  Its thread shares pCPU A with a
 * busy host thread of the same priority (nice 0 by default) that also
 * writes a heartbeat, and the fair scheduler alternates them.  A sender on
 * pCPU B waits until the vCPU's heartbeat has stood still for the wait
 * (-w) while the busy thread's moves, i.e. until the busy thread has held
 * pCPU A for that long, then signals a plain or an urgent MSI irqfd, each
 * routed to its own vector, and measures the time until the guest has
 * counted the interrupt.  Every interrupt must arrive exactly once.
 *
 * Without urgency the interrupt waits until the busy thread's slice ends.
 * With it, KVM's directed yield makes the vCPU the next buddy of pCPU A's
 * runqueue, and the scheduler runs it at once if it is eligible, i.e. owed
 * CPU time (its EEVDF lag is not negative): urgency cannot, and must not,
 * give it more than its share.  So the test sends when the vCPU is owed
 * enough time to take the interrupt:
 *
 * - As a VMM would for a latency-sensitive vCPU, the vCPU thread gets a
 *   short slice (sched_attr.sched_runtime, -s).  The scheduler then takes
 *   pCPU A from it at the first tick after it has used up its share, not at
 *   the end of a long slice; it has overrun its share by up to a tick.
 * - The busy thread stands for a throughput job and gets a long slice (-b,
 *   20 ms by default): that is the wait urgency removes.  Once it has held
 *   pCPU A for longer than the vCPU's overrun, the vCPU is owed time again,
 *   and it is owed as much more as the busy thread runs on.
 * - The wait defaults to 3/10 of the busy slice (6 ms): longer than a
 *   tick at HZ=1000 or HZ=250, and not a divisor of the slice.  An urgent
 *   interrupt ends the busy thread's run early, and the busy thread later
 *   resumes with the rest of its slice; with a wait that divides the slice
 *   (5 ms of 20), about every fourth urgent send came as that rest ran out,
 *   when the scheduler switched to the vCPU anyway and the yield found it
 *   running.  Waiting 0.5 ms instead failed the ratio in 2 of 12 lab runs
 *   (QEMU TCG, nested SVM, 1 ms tick): a quarter of the urgent interrupts
 *   found the vCPU not yet owed time, and another quarter ran it for only
 *   0.1-0.3 ms before the next tick took pCPU A back, too short for an
 *   emulated VM entry.
 *
 * For the same reason all plain interrupts are measured first, then all
 * urgent ones: a plain interrupt sent while the busy thread runs the rest
 * of a slice would wait for that rest only.
 *
 * Asserted: every interrupt arrives exactly once; at least 3 in 4 urgent
 * interrupts found the vCPU preempted (urgent_kick) and had the directed
 * yield queue it as the next buddy (urgent_yield); and, when the busy
 * thread's slice is at least RATIO_MIN_BUSY_SLICE_US, the median plain
 * latency is at least MIN_SPEEDUP times the median urgent one.
 *
 * Measured in the lab (QEMU TCG, nested SVM, 1 ms tick) with the defaults,
 * 24 runs of 40 interrupts each: plain p50 15.2 ms, urgent p50 0.47-0.53
 * ms, a ratio of 28.5-32.5; urgent_kick 39-40 and urgent_yield 38-40.
 * With 10 ms busy slices (-b 10000, 3 runs) the ratio was 17.3-19.3.  With
 * the default slice of a 2-CPU guest (-b 0, 1.5 ms) it was 2.2-2.3: there
 * is little left of the slice to save once the vCPU is known to be
 * preempted, so that case is reported, not asserted.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <linux/sched/types.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "apic.h"

#define PLAIN_VECTOR		0xa0
#define URGENT_VECTOR		0xa1
#define PLAIN_GSI		32
#define URGENT_GSI		33

#define DEFAULT_NR_IRQS		40
#define DEFAULT_NICE		0
#define DEFAULT_SLICE_US	100
#define DEFAULT_BUSY_SLICE_US	20000
#define ARRIVAL_TIMEOUT_S	10
#define MIN_WAIT_US		500
#define BUSY_FRESH_US		50
#define MIN_SPEEDUP		10
#define RATIO_MIN_BUSY_SLICE_US	10000

static uint64_t received[256];
static uint64_t heartbeat;
static bool vcpu_ready;
static bool test_done;

static void guest_irq_handler(struct ex_regs *regs)
{
	WRITE_ONCE(received[regs->vector], received[regs->vector] + 1);
	xapic_write_reg(APIC_EOI, 0);
}

/* Spin, interruptible, so that the vCPU is runnable (never blocked). */
static void guest_code(void)
{
	xapic_enable();
	asm volatile("sti" ::: "memory");
	WRITE_ONCE(vcpu_ready, true);
	while (!READ_ONCE(test_done))
		WRITE_ONCE(heartbeat, heartbeat + 1);
	asm volatile("cli" ::: "memory");
	GUEST_DONE();
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void check_einval(struct kvm_vm *vm, uint32_t gsi, int fd,
			 uint32_t flags, int resamplefd, const char *what)
{
	int ret = __kvm_irqfd(vm, gsi, fd, flags, resamplefd);

	TEST_ASSERT(ret == -1 && errno == EINVAL,
		    "%s: KVM_IRQFD flags 0x%x returned %d (errno %d), want EINVAL",
		    what, flags, ret, errno);
}

static void test_abi(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	int fd = kvm_new_eventfd(), fd2 = kvm_new_eventfd();
	int resamplefd = kvm_new_eventfd();
	int ret;

	/* No in-kernel irqchip: no irqfd at all, urgent or not. */
	check_einval(vm, PLAIN_GSI, fd, KVM_IRQFD_FLAG_URGENT, 0,
		     "VM without an in-kernel irqchip");
	kvm_vm_free(vm);

	vm = vm_create_barebones();
	vm_create_irqchip(vm);
	check_einval(vm, PLAIN_GSI, fd, KVM_IRQFD_FLAG_URGENT | KVM_IRQFD_FLAG_DEASSIGN,
		     0, "urgent with deassign");
	check_einval(vm, PLAIN_GSI, fd, KVM_IRQFD_FLAG_URGENT | KVM_IRQFD_FLAG_RESAMPLE,
		     resamplefd, "urgent with resample");
	check_einval(vm, PLAIN_GSI, fd, KVM_IRQFD_FLAG_URGENT << 1, 0, "unknown flag");

	ret = __kvm_irqfd(vm, URGENT_GSI, fd, KVM_IRQFD_FLAG_URGENT, 0);
	TEST_ASSERT(!ret, "urgent irqfd assignment failed, errno %d", errno);
	/* The eventfd is taken: a second assignment of it must fail. */
	ret = __kvm_irqfd(vm, PLAIN_GSI, fd, KVM_IRQFD_FLAG_URGENT, 0);
	TEST_ASSERT(ret == -1 && errno == EBUSY,
		    "eventfd assigned twice: returned %d (errno %d), want EBUSY", ret, errno);
	ret = __kvm_irqfd(vm, PLAIN_GSI, fd2, 0, 0);
	TEST_ASSERT(!ret, "plain irqfd next to an urgent one failed, errno %d", errno);
	kvm_deassign_irqfd(vm, URGENT_GSI, fd);
	kvm_deassign_irqfd(vm, PLAIN_GSI, fd2);
	kvm_vm_free(vm);
	close(fd);
	close(fd2);
	close(resamplefd);
}

struct latency_test {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint64_t *rx;			/* host view of received[] */
	uint64_t *heartbeat;		/* host view of heartbeat */
	int cpu_a, cpu_b, nice, slice_us, busy_slice_us;
	int wait_us;			/* the busy thread's hold before a send */
	uint64_t stalls_waited_us;
	uint64_t busy_beat;		/* advanced by the busy thread */
	bool stop_busy;
};

/* A SCHED_OTHER time slice of @slice_us for the calling thread (6.12+). */
static void set_slice(int slice_us)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_OTHER,
		.sched_runtime = slice_us * 1000ull,
	};

	TEST_ASSERT(!syscall(SYS_sched_setattr, 0, &attr, 0),
		    "sched_setattr(sched_runtime %d us) failed", slice_us);
}

static void *busy_fn(void *arg)
{
	struct latency_test *t = arg;

	kvm_pin_this_task_to_pcpu(t->cpu_a);
	TEST_ASSERT(!setpriority(PRIO_PROCESS, gettid(), t->nice),
		    "setpriority(%d) failed", t->nice);
	if (t->busy_slice_us)
		set_slice(t->busy_slice_us);
	while (!READ_ONCE(t->stop_busy))
		WRITE_ONCE(t->busy_beat, t->busy_beat + 1);
	return NULL;
}

static void *vcpu_fn(void *arg)
{
	struct latency_test *t = arg;

	kvm_pin_this_task_to_pcpu(t->cpu_a);
	if (t->slice_us)
		set_slice(t->slice_us);
	vcpu_run_expect_done(t->vcpu);
	return NULL;
}

/*
 * Wait until the vCPU has been preempted by the busy thread for t->wait_us:
 * its heartbeat has not moved for that long while the busy thread's has,
 * and the busy thread ran in the last BUSY_FRESH_US.  The two share pCPU A,
 * so that means the busy thread holds it now.  (A stall of the vCPU alone
 * is not enough: the lab's pCPU A is itself an emulated CPU that its host
 * deschedules.)
 */
static void wait_preempted(struct latency_test *t)
{
	uint64_t start = now_ns(), since = start, busy_seen = 0;
	uint64_t last = READ_ONCE(*t->heartbeat), last_busy = READ_ONCE(t->busy_beat);

	for (;;) {
		uint64_t hb = READ_ONCE(*t->heartbeat), bb = READ_ONCE(t->busy_beat);
		uint64_t now = now_ns();

		if (hb != last) {
			last = hb;
			since = now;
		}
		if (bb != last_busy) {
			last_busy = bb;
			busy_seen = now;
		}
		if (now - since >= t->wait_us * 1000ull && busy_seen > since &&
		    now - busy_seen <= BUSY_FRESH_US * 1000ull)
			break;
		TEST_ASSERT(now - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
			    "the vCPU was never preempted in %d s: is the busy thread on its pCPU?",
			    ARRIVAL_TIMEOUT_S);
		cpu_relax();
	}
	t->stalls_waited_us += (now_ns() - start) / 1000;
}

static uint64_t send_one(struct latency_test *t, int fd, uint8_t vector,
			 uint64_t want)
{
	uint64_t start;

	wait_preempted(t);
	start = now_ns();
	kvm_eventfd_signal(fd);
	while (READ_ONCE(t->rx[vector]) < want) {
		TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
			    "vector 0x%x: interrupt %lu lost: received %lu after %d s",
			    vector, want, READ_ONCE(t->rx[vector]), ARRIVAL_TIMEOUT_S);
		cpu_relax();
	}
	return now_ns() - start;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t report(const char *name, uint64_t *lat, int n)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	pr_info("%-7s interrupts to a preempted vCPU: %d, latency us: min %lu p50 %lu p90 %lu max %lu\n",
		name, n, lat[0] / 1000, lat[n / 2] / 1000, lat[n * 9 / 10] / 1000,
		lat[n - 1] / 1000);
	return lat[n / 2];
}

static bool test_latency(int nr_irqs, int nice, int slice_us, int busy_slice_us,
			 int wait_us)
{
	struct latency_test t = { .nice = nice, .slice_us = slice_us,
				  .busy_slice_us = busy_slice_us, .wait_us = wait_us };
	struct kvm_irq_routing *routing;
	uint64_t *plain, *urgent, p50_plain, p50_urgent, kicks = 0, yields = 0;
	pthread_t busy, vcpu_thread;
	int plain_fd, urgent_fd, i;
	uint64_t start;
	bool *ready;
	cpu_set_t set;

	TEST_ASSERT(!sched_getaffinity(0, sizeof(set), &set), "sched_getaffinity");
	t.cpu_a = -1;
	t.cpu_b = -1;
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (t.cpu_a < 0)
			t.cpu_a = i;
		else if (t.cpu_b < 0)
			t.cpu_b = i;
	}
	if (t.cpu_b < 0) {
		ksft_test_result_skip("latency: needs two usable CPUs, this task has one\n");
		return true;
	}

	t.vm = vm_create_with_one_vcpu(&t.vcpu, guest_code);
	virt_pg_map(t.vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	vm_install_exception_handler(t.vm, PLAIN_VECTOR, guest_irq_handler);
	vm_install_exception_handler(t.vm, URGENT_VECTOR, guest_irq_handler);
	t.rx = addr_gva2hva(t.vm, (vm_vaddr_t)&received[0]);
	t.heartbeat = addr_gva2hva(t.vm, (vm_vaddr_t)&heartbeat);

	routing = kvm_gsi_routing_create();
	kvm_gsi_routing_msi_add(routing, PLAIN_GSI, 0xfee00000u, PLAIN_VECTOR);
	kvm_gsi_routing_msi_add(routing, URGENT_GSI, 0xfee00000u, URGENT_VECTOR);
	kvm_gsi_routing_write(t.vm, routing);
	plain_fd = kvm_new_eventfd();
	urgent_fd = kvm_new_eventfd();
	kvm_assign_irqfd(t.vm, PLAIN_GSI, plain_fd);
	TEST_ASSERT(!__kvm_irqfd(t.vm, URGENT_GSI, urgent_fd, KVM_IRQFD_FLAG_URGENT, 0),
		    "urgent irqfd assignment failed, errno %d", errno);

	plain = calloc(nr_irqs, sizeof(*plain));
	urgent = calloc(nr_irqs, sizeof(*urgent));
	TEST_ASSERT(plain && urgent, "out of memory");

	kvm_pin_this_task_to_pcpu(t.cpu_b);
	pthread_create(&busy, NULL, busy_fn, &t);
	pthread_create(&vcpu_thread, NULL, vcpu_fn, &t);
	/*
	 * An interrupt sent before the guest has enabled its APIC would be
	 * dropped: wait for it (the vCPU competes with the busy thread).
	 */
	ready = addr_gva2hva(t.vm, (vm_vaddr_t)&vcpu_ready);
	start = now_ns();
	while (!READ_ONCE(*ready)) {
		TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
			    "the vCPU did not enable interrupts in %d s", ARRIVAL_TIMEOUT_S);
		usleep(1000);
	}

	/* Plain first: see the top of the file. */
	for (i = 0; i < nr_irqs; i++)
		plain[i] = send_one(&t, plain_fd, PLAIN_VECTOR, i + 1);
	for (i = 0; i < nr_irqs; i++)
		urgent[i] = send_one(&t, urgent_fd, URGENT_VECTOR, i + 1);

	WRITE_ONCE(t.stop_busy, true);
	pthread_join(busy, NULL);
	WRITE_ONCE(*(bool *)addr_gva2hva(t.vm, (vm_vaddr_t)&test_done), true);
	pthread_join(vcpu_thread, NULL);

	for (i = 0; i < 256; i++) {
		uint64_t want = (i == PLAIN_VECTOR || i == URGENT_VECTOR) ? nr_irqs : 0;

		TEST_ASSERT(t.rx[i] == want,
			    "vector 0x%x: received %lu interrupts, sent %lu", i, t.rx[i], want);
	}

	p50_plain = report("plain", plain, nr_irqs);
	p50_urgent = report("urgent", urgent, nr_irqs);
	__vcpu_get_stat(t.vcpu, "urgent_kick", &kicks, 1);
	__vcpu_get_stat(t.vcpu, "urgent_yield", &yields, 1);
	pr_info("urgent_kick %lu, urgent_yield %lu (stats); median plain/urgent %.2f; sent after %d us of preemption; waited %lu ms\n",
		kicks, yields, (double)p50_plain / p50_urgent, wait_us,
		t.stalls_waited_us / 1000);

	TEST_ASSERT(kicks <= (uint64_t)nr_irqs,
		    "urgent_kick %lu > %d urgent interrupts sent", kicks, nr_irqs);
	TEST_ASSERT(kicks * 4 >= (uint64_t)nr_irqs * 3 && yields <= kicks &&
		    yields * 4 >= (uint64_t)nr_irqs * 3,
		    "%d urgent interrupts to a preempted vCPU: urgent_kick %lu, urgent_yield %lu, want >= 3/4",
		    nr_irqs, kicks, yields);
	if (busy_slice_us >= RATIO_MIN_BUSY_SLICE_US)
		TEST_ASSERT(p50_plain >= MIN_SPEEDUP * p50_urgent,
			    "median latency plain %lu us, urgent %lu us: ratio %.2f < %d",
			    p50_plain / 1000, p50_urgent / 1000,
			    (double)p50_plain / p50_urgent, MIN_SPEEDUP);
	else
		pr_info("speed-up not asserted: the busy thread's slice (%d us) is shorter than %d us\n",
			busy_slice_us, RATIO_MIN_BUSY_SLICE_US);

	kvm_deassign_irqfd(t.vm, PLAIN_GSI, plain_fd);
	kvm_deassign_irqfd(t.vm, URGENT_GSI, urgent_fd);
	close(plain_fd);
	close(urgent_fd);
	free(plain);
	free(urgent);
	kvm_vm_free(t.vm);
	ksft_test_result_pass("preempted target: each once, %lu kicks, %lu yields, ratio %.1f\n",
			      kicks, yields, (double)p50_plain / p50_urgent);
	return true;
}

static void help(const char *name)
{
	printf("usage: %s [-n interrupts of each kind (default %d)]\n"
	       "          [-p nice of the busy thread (default %d)]\n"
	       "          [-s time slice of the vCPU thread in us, 0 for the default (default %d)]\n"
	       "          [-b time slice of the busy thread in us, 0 for the default (default %d)]\n"
	       "          [-w send after the vCPU was preempted for this long, in us\n"
	       "              (default 3/10 of -b, at least %d)]\n",
	       name, DEFAULT_NR_IRQS, DEFAULT_NICE, DEFAULT_SLICE_US, DEFAULT_BUSY_SLICE_US,
	       MIN_WAIT_US);
}

int main(int argc, char *argv[])
{
	int nr_irqs = DEFAULT_NR_IRQS, nice = DEFAULT_NICE, opt;
	int slice_us = DEFAULT_SLICE_US, busy_slice_us = DEFAULT_BUSY_SLICE_US;
	int wait_us = 0;

	while ((opt = getopt(argc, argv, "b:hn:p:s:w:")) != -1) {
		switch (opt) {
		case 'n':
			nr_irqs = atoi_positive("Interrupts of each kind", optarg);
			break;
		case 'p':
			nice = atoi_non_negative("Nice value", optarg);
			break;
		case 's':
			slice_us = atoi_non_negative("Slice", optarg);
			break;
		case 'b':
			busy_slice_us = atoi_non_negative("Busy slice", optarg);
			break;
		case 'w':
			wait_us = atoi_positive("Wait", optarg);
			break;
		case 'h':
			help(argv[0]);
			exit(KSFT_SKIP);
		default:
			help(argv[0]);
			exit(KSFT_FAIL);
		}
	}

	if (!wait_us)
		wait_us = max(busy_slice_us / 10 * 3, MIN_WAIT_US);
	if (busy_slice_us && wait_us >= busy_slice_us) {
		/* The busy thread never holds pCPU A that long. */
		help(argv[0]);
		exit(KSFT_FAIL);
	}

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD_URGENT));

	ksft_print_header();
	ksft_set_plan(2);
	test_abi();
	ksft_test_result_pass("abi: urgent accepted on assignment, invalid uses rejected\n");
	test_latency(nr_irqs, nice, slice_us, busy_slice_us, wait_us);
	ksft_finished();
}
