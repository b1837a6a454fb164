// SPDX-License-Identifier: GPL-2.0
/*
 * The events irqpath uses: what `irqpath record` enables and `irqpath
 * events` lists.  Keep in step with the decoders in reader.c.
 */
#include "irqpath.h"

const struct wanted_event wanted_events[] = {
	{ "kvm", "kvm_entry", true, "VM-entry: delivery of the injected vector" },
	{ "kvm", "kvm_exit", true, "VM-exit: end of guest mode (vCPU tracks)" },
	{ "kvm", "kvm_msi_set_irq", true, "P2/P1/P3: MSI routed to the LAPIC" },
	{ "kvm", "kvm_set_irq", true, "P2: GSI raised (irqfd, KVM_IRQ_LINE)" },
	{ "kvm", "kvm_ioapic_set_irq", true, "P2: I/O APIC pin raised (vector, coalesced)" },
	{ "kvm", "kvm_apic_accept_irq", true, "injection into the target LAPIC" },
	{ "kvm", "kvm_apicv_accept_irq", true, "injection by APICv/AVIC (posted)" },
	{ "kvm", "kvm_inj_virq", true, "vector written into the VMCB/VMCS" },
	{ "kvm", "kvm_eoi", true, "guest EOI" },
	{ "kvm", "kvm_apic_ipi", true, "P5: IPI sent (ICR write)" },
	{ "kvm", "kvm_vcpu_wakeup", true, "blocked vCPU woken" },
	{ "kvm", "kvm_pi_irte_update", true, "P3: IRTE switched to/from posting" },
	{ "kvm", "kvm_irqfd_inject", false, "P1/P2/P3: irqfd injection (fast/defer/work)" },
	{ "kvm", "kvm_vcpu_sched", false, "vCPU scheduled in/out, preempted/blocking" },
	{ "kvm", "kvm_apic_timer_expired", false, "P4: LAPIC timer expiry and outcome" },
	{ "kvm", "kvm_pi_post", false, "VMX posted interrupt: notification outcome" },
	{ "kvm", "kvm_pi_wakeup", false, "vCPU kicked by the PI wakeup handler" },
	{ "vhost", "vhost_notify", false, "P1: vhost's notify decision (suppressed or not)" },
	{ "vhost", "vhost_signal", false, "P1: call eventfd signalled" },
	{ "vfio_pci", "vfio_pci_msi_handler", false, "P3: host MSI of a VFIO device" },
	{ "intel_iommu", "irte_posted", false, "P3: IRTE in posted mode (VT-d)" },
	{ "sched", "sched_switch", true, "vCPU thread scheduled in/out" },
	{ "sched", "sched_wakeup", true, "vCPU thread woken (kick)" },
};

const unsigned int nr_wanted_events = ARRAY_SIZE(wanted_events);
