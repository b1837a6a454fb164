// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio_msi_irq_test
 *
 * MSIs of a real PCI device, assigned with VFIO, into a KVM guest: the
 * device's MSI is enabled with VFIO_DEVICE_SET_IRQS onto an eventfd, and
 * the same eventfd is a KVM irqfd on an MSI route to a vCPU.  On a host
 * without posted interrupts each MSI is a host interrupt, which vfio-pci
 * turns into an eventfd signal, which KVM injects; with VT-d posting the
 * IOMMU posts it to the vCPU directly, the host never sees it.  Either way
 * every MSI the device raises must reach the guest exactly once, with the
 * route's vector, on the route's vCPU.
 *
 * The device is named with -d or IRQPATH_VFIO_DEVICE and must be bound to
 * vfio-pci.  The test raises MSIs only on a device it knows how to: QEMU's
 * edu device (1234:11e8), whose BAR0 register 0x60 raises its MSI on every
 * write.  The program enables bus mastering itself (nothing else does, and
 * the device's MSI writes are dropped without it), raises one MSI at a
 * time, waiting until the guest has counted the previous one so that none
 * can coalesce, and asserts the guest's counts.  The second sub-test moves
 * the route to the other vCPU (KVM_SET_GSI_ROUTING, which for a posted
 * interrupt also rewrites the IRTE) and does the same there.
 *
 * It prints the device-write-to-guest-count latency and how many host
 * interrupts vfio-pci took for the MSIs (from /proc/interrupts), which
 * tells whether they were remapped (one each) or posted (none).
 */
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "apic.h"

#define NR_VCPUS		2
#define DEFAULT_NR_IRQS		1000
#define MSI_VECTOR		0x90
#define WAKE_VECTOR		0xf0
#define MSI_GSI			48

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_ID			0x00
#define EDU_ID_MAGIC		0xed	/* low byte of the identification */
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64

#define TIMEOUT_S		10

/* Guest memory shared with the host. */
static uint64_t received[NR_VCPUS][256];
static bool vcpu_ready[NR_VCPUS];
static bool test_done;

static void guest_irq_handler(struct ex_regs *regs)
{
	uint32_t id = GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID));

	if (id < NR_VCPUS)
		WRITE_ONCE(received[id][regs->vector], received[id][regs->vector] + 1);
	xapic_write_reg(APIC_EOI, 0);
}

/* Ends the test from a handler: see irqfd_delivery_test for why. */
static void guest_wake_handler(struct ex_regs *regs)
{
	xapic_write_reg(APIC_EOI, 0);
	if (READ_ONCE(test_done))
		GUEST_DONE();
}

static void guest_code(uint32_t id)
{
	xapic_enable();
	GUEST_ASSERT_EQ(GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID)), id);
	WRITE_ONCE(vcpu_ready[id], true);
	while (!READ_ONCE(test_done))
		asm volatile("sti; hlt; cli" ::: "memory");
	GUEST_DONE();
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[NR_VCPUS];
static uint64_t (*g_received)[256];
static const char *bdf;
static int container = -1, group = -1, device = -1, msi_fd = -1;
static struct vfio_region_info cfg_region = { .argsz = sizeof(cfg_region) };
static uint32_t *bar0;
static uint64_t expected[NR_VCPUS][256];

static uint32_t edu_read(int reg)
{
	return READ_ONCE(bar0[reg / 4]);
}

static void edu_write(int reg, uint32_t val)
{
	WRITE_ONCE(bar0[reg / 4], val);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t cfg_read(int off, int size)
{
	uint32_t val = 0;

	TEST_ASSERT(pread(device, &val, size, cfg_region.offset + off) == size,
		    "%s: config space read at 0x%x failed, errno %d", bdf, off, errno);
	return val;
}

static void cfg_write(int off, int size, uint32_t val)
{
	TEST_ASSERT(pwrite(device, &val, size, cfg_region.offset + off) == size,
		    "%s: config space write at 0x%x failed, errno %d", bdf, off, errno);
}

/* The device's IOMMU group, or a skip saying why there is none. */
static int device_group(void)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		ksft_exit_skip("VFIO device %s: not present or bound to no driver\n", bdf);
	link[n] = 0;
	if (strcmp(basename(link), "vfio-pci"))
		ksft_exit_skip("VFIO device %s is bound to %s, not vfio-pci\n", bdf,
			       basename(link));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		ksft_exit_skip("VFIO device %s has no IOMMU group\n", bdf);
	link[n] = 0;
	return atoi(basename(link));
}

static void open_device(void)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX };
	int grp = device_group(), iommu;
	uint16_t vendor, devid;
	char path[64];
	void *p;

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		ksft_exit_skip("cannot open /dev/vfio/vfio, errno %d\n", errno);
	TEST_ASSERT(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION,
		    "VFIO API version mismatch");
	iommu = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) ?
		VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;

	snprintf(path, sizeof(path), "/dev/vfio/%d", grp);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		ksft_exit_skip("cannot open %s for %s, errno %d\n", path, bdf, errno);
	TEST_ASSERT(!ioctl(group, VFIO_GROUP_GET_STATUS, &status), "VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		ksft_exit_skip("IOMMU group %d of %s is not viable: %s\n", grp, bdf,
			       "bind all its devices to vfio-pci");
	TEST_ASSERT(!ioctl(group, VFIO_GROUP_SET_CONTAINER, &container),
		    "VFIO_GROUP_SET_CONTAINER failed, errno %d", errno);
	TEST_ASSERT(!ioctl(container, VFIO_SET_IOMMU, iommu),
		    "VFIO_SET_IOMMU failed, errno %d (no interrupt remapping?)", errno);
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	TEST_ASSERT(device >= 0, "VFIO_GROUP_GET_DEVICE_FD(%s) failed, errno %d", bdf, errno);

	cfg_region.index = VFIO_PCI_CONFIG_REGION_INDEX;
	TEST_ASSERT(!ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &cfg_region),
		    "VFIO_DEVICE_GET_REGION_INFO(config) failed, errno %d", errno);
	vendor = cfg_read(PCI_VENDOR_ID, 2);
	devid = cfg_read(PCI_DEVICE_ID, 2);
	if (vendor != EDU_VENDOR || devid != EDU_DEVICE)
		ksft_exit_skip("%s is %04x:%04x; %s (%04x:%04x)\n", bdf, vendor, devid,
			       "the test raises MSIs only on QEMU's edu device",
			       EDU_VENDOR, EDU_DEVICE);

	TEST_ASSERT(!ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq) && irq.count >= 1,
		    "%s has no MSI (VFIO_DEVICE_GET_IRQ_INFO: count %u)", bdf, irq.count);
	TEST_ASSERT(!ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &bar),
		    "VFIO_DEVICE_GET_REGION_INFO(BAR0) failed, errno %d", errno);
	TEST_ASSERT(bar.flags & VFIO_REGION_INFO_FLAG_MMAP, "%s: BAR0 cannot be mmapped", bdf);
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, bar.offset);
	TEST_ASSERT(p != MAP_FAILED, "mmap of %s BAR0 failed, errno %d", bdf, errno);
	bar0 = p;

	/* Memory space on, and bus mastering: an MSI is a DMA write. */
	cfg_write(PCI_COMMAND, 2, cfg_read(PCI_COMMAND, 2) |
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	TEST_ASSERT((edu_read(EDU_ID) & 0xff) == EDU_ID_MAGIC,
		    "%s: edu identification register reads 0x%x", bdf, edu_read(EDU_ID));
}

static void set_msi_eventfd(int fd)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} irqs = {
		.set = {
			.argsz = sizeof(irqs),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSI_IRQ_INDEX,
			.start = 0,
			.count = 1,
		},
		.fd = fd,
	};

	if (fd < 0) {
		irqs.set.argsz = sizeof(irqs.set);
		irqs.set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		irqs.set.count = 0;
	}
	TEST_ASSERT(!ioctl(device, VFIO_DEVICE_SET_IRQS, &irqs),
		    "VFIO_DEVICE_SET_IRQS(MSI, fd %d) failed, errno %d", fd, errno);
}

/* Host interrupts of this device's MSI so far, all CPUs, from /proc/interrupts. */
static uint64_t host_msi_irqs(void)
{
	char line[4096], tag[64], *p, *end;
	uint64_t total = 0, n;
	FILE *f = fopen("/proc/interrupts", "r");

	snprintf(tag, sizeof(tag), "vfio-msi[0](%s)", bdf);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, tag))
			continue;
		p = strchr(line, ':');
		while (p && *++p) {
			n = strtoull(p, &end, 10);
			if (end == p)
				break;
			total += n;
			p = end - 1;
		}
	}
	fclose(f);
	return total;
}

static void route_msi(int target)
{
	struct kvm_irq_routing *routing = kvm_gsi_routing_create();

	kvm_gsi_routing_msi_add(routing, MSI_GSI, 0xfee00000u | (target << 12), MSI_VECTOR);
	kvm_gsi_routing_write(vm, routing);
}

static void run_subtest(int target, uint64_t nr_irqs)
{
	uint64_t *count = &g_received[target][MSI_VECTOR];
	uint64_t i, want, t0, lat, lat_sum = 0, lat_max = 0, host0, host;
	int v, vec;

	route_msi(target);
	host0 = host_msi_irqs();
	for (i = 0; i < nr_irqs; i++) {
		want = READ_ONCE(*count) + 1;
		t0 = now_ns();
		edu_write(EDU_IRQ_RAISE, 1);
		while (READ_ONCE(*count) < want) {
			TEST_ASSERT(now_ns() - t0 < TIMEOUT_S * 1000000000ull,
				    "MSI %lu to vCPU %d not counted after %d s: %lu counted, edu irq status 0x%x, %lu host interrupts",
				    i + 1, target, TIMEOUT_S, READ_ONCE(*count),
				    edu_read(EDU_IRQ_STATUS), host_msi_irqs() - host0);
			sched_yield();
		}
		lat = now_ns() - t0;
		lat_sum += lat;
		lat_max = lat > lat_max ? lat : lat_max;
		edu_write(EDU_IRQ_ACK, 1);
	}
	host = host_msi_irqs() - host0;

	expected[target][MSI_VECTOR] += nr_irqs;
	for (v = 0; v < NR_VCPUS; v++)
		for (vec = 0; vec < 256; vec++)
			TEST_ASSERT(READ_ONCE(g_received[v][vec]) == expected[v][vec],
				    "vCPU %d vector 0x%x: %lu interrupts counted, %lu expected (%lu MSIs raised to vCPU %d)",
				    v, vec, READ_ONCE(g_received[v][vec]), expected[v][vec],
				    nr_irqs, target);
	ksft_print_msg("vCPU %d: %lu MSIs raised, %lu counted\n", target, nr_irqs, nr_irqs);
	ksft_print_msg("  device write to guest count: avg %lu us, max %lu us\n",
		       lat_sum / nr_irqs / 1000, lat_max / 1000);
	ksft_print_msg("  %lu host interrupts of vfio-msi[0](%s): %s\n", host, bdf,
		       host == nr_irqs ? "remapped, one per MSI" :
		       !host ? "none: posted" : "some posted, some remapped");
	ksft_test_result_pass("%lu MSIs from %s to vCPU %d, vector 0x%x\n", nr_irqs, bdf,
			      target, MSI_VECTOR);
}

static void *vcpu_fn(void *arg)
{
	vcpu_run_expect_done(arg);
	return NULL;
}

static void help(const char *name, int status)
{
	printf("usage: %s [-d PCI device bound to vfio-pci, e.g. 0000:00:03.0]\n"
	       "          [-n MSIs per sub-test (default %d)]\n"
	       "The device defaults to $IRQPATH_VFIO_DEVICE.\n", name, DEFAULT_NR_IRQS);
	exit(status);
}

int main(int argc, char *argv[])
{
	pthread_t threads[NR_VCPUS];
	bool joined[NR_VCPUS] = {}, running;
	uint64_t nr_irqs = DEFAULT_NR_IRQS, start;
	int opt, v, kvm_vfio;

	bdf = getenv("IRQPATH_VFIO_DEVICE");
	while ((opt = getopt(argc, argv, "hd:n:")) != -1) {
		switch (opt) {
		case 'd':
			bdf = optarg;
			break;
		case 'n':
			nr_irqs = atoi_positive("MSIs", optarg);
			break;
		case 'h':
			help(argv[0], KSFT_PASS);
			break;
		default:
			help(argv[0], KSFT_FAIL);
		}
	}
	if (optind != argc)
		help(argv[0], KSFT_FAIL);

	ksft_print_header();
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD));
	if (!bdf || !*bdf)
		ksft_exit_skip("no VFIO device: name one with -d or IRQPATH_VFIO_DEVICE\n");
	open_device();
	ksft_set_plan(NR_VCPUS);

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	for (v = 0; v < NR_VCPUS; v++)
		vcpu_args_set(vcpus[v], 1, v);
	for (v = 0x20; v < 0x100; v++)
		vm_install_exception_handler(vm, v, guest_irq_handler);
	vm_install_exception_handler(vm, WAKE_VECTOR, guest_wake_handler);
	g_received = addr_gva2hva(vm, (vm_vaddr_t)&received[0][0]);

	/* Tell KVM about the assigned device, as a VMM does: it enables posting. */
	kvm_vfio = __kvm_create_device(vm, KVM_DEV_TYPE_VFIO);
	if (kvm_vfio >= 0)
		kvm_device_attr_set(kvm_vfio, KVM_DEV_VFIO_FILE, KVM_DEV_VFIO_FILE_ADD, &group);

	msi_fd = kvm_new_eventfd();
	route_msi(0);
	kvm_assign_irqfd(vm, MSI_GSI, msi_fd);
	set_msi_eventfd(msi_fd);

	for (v = 0; v < NR_VCPUS; v++)
		pthread_create(&threads[v], NULL, vcpu_fn, vcpus[v]);
	for (v = 0; v < NR_VCPUS; v++) {
		bool *ready = addr_gva2hva(vm, (vm_vaddr_t)&vcpu_ready[v]);

		start = now_ns();
		while (!READ_ONCE(*ready)) {
			TEST_ASSERT(now_ns() - start < TIMEOUT_S * 1000000000ull,
				    "vCPU %d did not come up", v);
			sched_yield();
		}
	}

	for (v = 0; v < NR_VCPUS; v++)
		run_subtest(v, nr_irqs);

	WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&test_done), true);
	start = now_ns();
	do {
		running = false;
		for (v = 0; v < NR_VCPUS; v++) {
			struct kvm_msi wake = { .address_lo = 0xfee00000u | (v << 12),
						.data = WAKE_VECTOR };

			if (joined[v])
				continue;
			joined[v] = !pthread_tryjoin_np(threads[v], NULL);
			if (!joined[v]) {
				running = true;
				__vm_ioctl(vm, KVM_SIGNAL_MSI, &wake);
			}
		}
		TEST_ASSERT(now_ns() - start < TIMEOUT_S * 1000000000ull, "vCPUs did not stop");
		if (running)
			usleep(1000);
	} while (running);

	set_msi_eventfd(-1);
	kvm_deassign_irqfd(vm, MSI_GSI, msi_fd);
	close(msi_fd);
	if (kvm_vfio >= 0)
		close(kvm_vfio);
	kvm_vm_free(vm);
	close(device);
	close(group);
	close(container);
	ksft_finished();
}
