# SPDX-License-Identifier: GPL-2.0
"""Unit tests of scripts/lab/report.py: TAP, KTAP and console parsing and
the base-vs-patched regression rule."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lab"))
import report  # noqa: E402


class TapTest(unittest.TestCase):
    def test_statuses(self):
        tap = "\n".join([
            "ok 1 xapic_ipi_test",
            "ok 2 vmx_pmu_caps_test # SKIP - Requirement not met: VMX",
            "# retry 1 of debug_regs: emulator artefact (KVM_EXIT_SHUTDOWN), rc 254",
            "not ok 3 debug_regs # exit 254",
            "not ok 4 rseq_test # TIMEOUT 300s",
            "1..4",
        ])
        res, retries = report.parse_tap(tap)
        self.assertEqual(res["xapic_ipi_test"], ("pass", ""))
        self.assertEqual(res["vmx_pmu_caps_test"][0], "skip")
        self.assertIn("VMX", res["vmx_pmu_caps_test"][1])
        self.assertEqual(res["debug_regs"], ("fail", "exit 254"))
        self.assertEqual(res["rseq_test"], ("fail", "TIMEOUT 300s"))
        self.assertEqual(len(retries), 1)
        self.assertIn("KVM_EXIT_SHUTDOWN", retries[0])

    def test_garbage_is_ignored(self):
        res, _ = report.parse_tap("okay\nnot ok\n# hello\n")
        self.assertEqual(res, {})


class KunitTest(unittest.TestCase):
    def test_totals(self):
        ktap = "\n".join([
            "KTAP version 1",
            "1..3",
            "    ok 1 list_test_list_init",
            "ok 1 list-kunit-test",
            "not ok 2 pi-desc",
            "ok 3 irte # SKIP no VT-d",
        ])
        k = report.parse_kunit(ktap)
        self.assertEqual((k["passed"], k["failed"], k["skipped"]), (1, 1, 1))


class SplatTest(unittest.TestCase):
    def test_reports_are_found(self):
        console = "\n".join([
            "[    1.0] kvm_amd: Nested Paging enabled",
            "[    2.0] WARNING: CPU: 1 PID: 77 at arch/x86/kvm/lapic.c:123 f+0x1/0x2",
            "[    3.0] BUG: KASAN: slab-use-after-free in vmx_vcpu_pi_load",
            "[    4.0] WARNING: possible circular locking dependency detected",
            "[    5.0] UBSAN: shift-out-of-bounds in arch/x86/kvm/lapic.c:9:1",
            "[    6.0] BUG: sleeping function called from invalid context",
        ])
        kinds = [k for _, k, _ in report.find_splats(console)]
        self.assertEqual(kinds, ["WARN", "KASAN", "lockdep", "UBSAN", "BUG"])

    def test_quiet_console(self):
        console = "[ 0.1] DMAR-IR: Enabled IRQ remapping in xapic mode\n" \
                  "irqpath-lab: ok 1 xapic_ipi_test\n"
        self.assertEqual(report.find_splats(console), [])


class EventCountTest(unittest.TestCase):
    def test_report_lines(self):
        text = "\n".join([
            "cpus=2",
            "  xapic_ipi_test-120   [001]   102.345678: kvm_entry:            vcpu 0, rip 0x4021",
            "  xapic_ipi_test-120   [001]   102.345700: kvm_exit:             reason EXIT_HLT",
            "  xapic_ipi_test-121   [000]   102.345800: kvm_apic_ipi:         dst 0 vec 165",
            "  xapic_ipi_test-120   [001]   102.345900: kvm_entry:            vcpu 0, rip 0x4022",
        ])
        self.assertEqual(report.count_events(text),
                         {"kvm_entry": 2, "kvm_exit": 1, "kvm_apic_ipi": 1})


class EventRuleTest(unittest.TestCase):
    EVENTS = [
        ("kvm_irqfd_inject", {"gsi": 33, "stage": 0, "ret": 1}),
        ("kvm_irqfd_inject", {"gsi": 10, "stage": 1, "ret": 0}),
        ("kvm_irqfd_inject", {"gsi": 10, "stage": 2, "ret": 0}),
        ("vfio_pci_msi_handler", {"dev": "0000:00:03.0", "vector": 0}),
    ]

    def check(self, line, stored=()):
        rule, = report.parse_rules(line)
        return report.check_rule(rule, self.EVENTS, set(stored))

    def test_count_and_fields(self):
        self.assertEqual(self.check("t.dat kvm_irqfd_inject ==3 | stage<=2")[0], "PASS")
        self.assertEqual(self.check("t.dat kvm_irqfd_inject >=4")[0], "FAIL")

    def test_filter_counts_a_subset(self):
        self.assertEqual(self.check("t.dat kvm_irqfd_inject[stage==0] ==1 | ret==1")[0],
                         "PASS")
        self.assertEqual(self.check("t.dat kvm_irqfd_inject[gsi==10] ==2 | ret>0")[0],
                         "FAIL")

    def test_one_bad_field_fails_and_is_shown(self):
        status, detail = self.check("t.dat kvm_irqfd_inject >=1 | gsi>10")
        self.assertEqual(status, "FAIL")
        self.assertIn("gsi>10", detail)
        self.assertIn("gsi=10", detail)

    def test_strings_and_missing_fields(self):
        self.assertEqual(self.check("t.dat vfio_pci_msi_handler ==1 | dev==0000:00:03.0")[0],
                         "PASS")
        self.assertEqual(self.check("t.dat vfio_pci_msi_handler ==1 | irq>=0")[0], "FAIL")

    def test_vmx_rule_needs_the_event_compiled_in(self):
        self.assertEqual(self.check("t.dat kvm_pi_post vmx", {"kvm_pi_post"})[0], "VMX")
        self.assertEqual(self.check("t.dat kvm_pi_post vmx")[0], "FAIL")

    def test_bad_rules_are_rejected(self):
        for line in ("t.dat kvm_x 3", "t.dat kvm_x >=1 | a=b", "t.dat"):
            with self.assertRaises(ValueError):
                report.parse_rules(line)

    def test_raw_line(self):
        m = report.RAW_RE.match(" irqfd_delivery_-209   [001]     8.702685: "
                                "kvm_irqfd_inject:     gsi=33 stage=0 ret=-1 resample=0")
        self.assertEqual(m.group(5), "kvm_irqfd_inject")
        fields = dict(report.FIELD_RE.findall(m.group(6)))
        self.assertEqual(report.parse_value(fields["ret"]), -1)


class CompareTest(unittest.TestCase):
    def test_rule(self):
        base = {"a": ("pass", ""), "b": ("fail", "exit 1"), "c": ("fail", "exit 1"),
                "d": ("skip", "VMX"), "e": ("fail", "x")}
        pat = {"a": ("fail", "exit 1"), "b": ("fail", "exit 1"), "c": ("fail", "exit 1"),
               "d": ("skip", "VMX"), "e": ("pass", "")}
        reg, unl, lst, fixed = report.compare(base, pat, {"b": "TCG: no nrip-save"})
        self.assertEqual([n for n, _ in reg], ["a"])
        self.assertEqual([n for n, _ in unl], ["c"])
        self.assertEqual([n for n, _ in lst], ["b"])
        self.assertEqual([n for n, _ in fixed], ["e"])

    def test_missing_patched_result_is_a_regression(self):
        reg, _, _, _ = report.compare({"a": ("pass", "")}, {}, {})
        self.assertEqual([n for n, _ in reg], ["a"])

    def test_verdicts(self):
        pat = {"a": ("pass", ""), "b": ("skip", "no VMX"), "c": ("fail", "exit 254"),
               "d": ("fail", "exit 254"), "e": ("fail", "exit 1")}
        base = {"c": ("fail", "exit 254"), "d": ("pass", ""), "e": ("fail", "exit 1")}
        lines = report.verdicts(pat, base, {"c": "TCG", "d": "TCG"})
        self.assertEqual([line.split(":")[0] for line in lines],
                         ["PASS selftest a", "SKIP selftest b", "SKIP selftest c",
                          "FAIL selftest d", "FAIL selftest e"])

    def test_expected_needs_reason(self):
        self.assertEqual(report.parse_expected("# c\nfoo  # why\n"), {"foo": "why"})
        with self.assertRaises(ValueError):
            report.parse_expected("foo\n")

    def test_compare_command(self):
        with tempfile.TemporaryDirectory() as d:
            for run, tap in (("base", "ok 1 a\nok 2 b\n"), ("pat", "ok 1 a\nnot ok 2 b # exit 1\n")):
                os.mkdir(os.path.join(d, run))
                with open(os.path.join(d, run, "tap.txt"), "w") as f:
                    f.write(tap)
            xf = os.path.join(d, "xf")
            open(xf, "w").close()
            with open(os.devnull, "w") as null:
                old, sys.stdout = sys.stdout, null
                try:
                    rc = report.main(["compare", os.path.join(d, "base"),
                                      os.path.join(d, "pat"), xf])
                finally:
                    sys.stdout = old
            self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()
