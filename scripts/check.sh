#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - `make check`: every test irqpath has, each counted once.
#
#   series   drift between patches/, series and mirrors; git am onto the
#            pristine base; per patch: checkpatch --strict, W=1 build of
#            the touched directories (scripts/series/check-patches.sh)
#   scripts  unit tests of scripts/ and of the trace analyzer
#            (scripts/tests/: *_test.sh, test_*.py)
#   kernel   the lab kernel of the series and of the base, same config
#   lab      the runner's restart of a guest that stops (restart-check.sh);
#            one boot of the patched kernel: KUnit, the lab scenarios with
#            a trace-cmd recording, and the whole upstream x86 KVM selftest
#            suite; one boot of the base kernel with the same suite (its
#            result is cached per base kernel, test binaries and plan);
#            no kernel report (WARN/BUG/lockdep/KASAN/UBSAN) on either
#            console; no upstream test that passes on base fails on the
#            series; tests failing on both must be listed, with a reason,
#            in scripts/lab/expected-failures.
#
# Ends with "N passed, N failed, N skipped".  A selftest that skips (no VMX
# under TCG, ...) counts as skipped; a listed expected failure counts as
# skipped too, with its reason printed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$IRQPATH_ROOT/scripts/lab/stages.sh"

passed=0 failed=0 skipped=0
pass() { printf 'PASS %s\n' "$*"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }
check() { # NAME CMD... : a test whose verdict is CMD's exit status
	local name=$1; shift
	if timed "$name" "$@"; then pass "$name"; else fail "$name"; return 1; fi
}
finish() {
	echo
	echo "stage timings (this run):"; sed 's/^/  /' "$LAB/timings"
	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}
count_lines() { # verdict lines on stdin (PASS/FAIL ...) -> counters
	local line
	while IFS= read -r line; do
		echo "$line"
		case $line in
		PASS\ *) passed=$((passed + 1)) ;;
		FAIL\ *) failed=$((failed + 1)) ;;
		SKIP\ *) skipped=$((skipped + 1)) ;;
		esac
	done
}

: >"$LAB/timings"
t_start=$(date +%s)
timed "host packages" need_host_pkgs || { fail "host packages"; finish; }

echo "== series"
check "series: patches/, series and mirrors agree" bash "$IRQPATH_ROOT/scripts/series/check-drift.sh"
if ! check "series: build/linux holds the series (git am onto the pristine base)" stage_series; then
	finish
fi
t0=$(date +%s)
cp_rc=0
bash "$IRQPATH_ROOT/scripts/series/check-patches.sh" >"$LAB/check-patches.out" 2>&1 || cp_rc=$?
count_lines < <(grep -E '^(PASS|FAIL) |^    ' "$LAB/check-patches.out")
if [ $cp_rc -ne 0 ] && ! grep -q '^FAIL ' "$LAB/check-patches.out"; then
	fail "series: per-patch checks ran"; tail -n 20 "$LAB/check-patches.out" | sed 's/^/    /'
fi
stage_time "series: per-patch checks" $(( $(date +%s) - t0 ))

echo "== scripts"
t0=$(date +%s)
count_lines < <(python3 -m unittest discover -s "$IRQPATH_ROOT/scripts/tests" -p 'test_*.py' -v 2>&1 |
	sed -nE 's/^(test\w*) \(([^)]*)\).*\.\.\. ok$/PASS scripts: \2/p;
		 s/^(test\w*) \(([^)]*)\).*\.\.\. (FAIL|ERROR)$/FAIL scripts: \2/p')
for t in "$IRQPATH_ROOT"/scripts/tests/*_test.sh; do
	[ -e "$t" ] || continue
	if bash "$t" >"$IRQPATH_BUILD/$(basename "$t").log" 2>&1; then
		pass "scripts: $(basename "$t")"
	else
		fail "scripts: $(basename "$t")"; tail -n 15 "$IRQPATH_BUILD/$(basename "$t").log" | sed 's/^/    /'
	fi
done
stage_time "scripts: unit tests" $(( $(date +%s) - t0 ))

echo "== kernel"
check "kernel: lab kernel, selftests and image of the series" stage_patched_image || finish
check "kernel: lab kernel of the pristine base" stage_base_kernel || finish
# The series' documentation (interrupt-delivery.rst, api.rst) builds with
# Sphinx without a warning the base tree does not have.
check "docs: Documentation/virt builds without new warnings" \
	bash "$IRQPATH_ROOT/scripts/docs-check.sh" "$IRQPATH_LINUX" "$IRQPATH_BUILD/linux-base"

echo "== lab"
upstream_tests >"$LAB/upstream-tests"
bash "$IRQPATH_ROOT/scripts/lab/plan.sh" "$LAB/upstream-tests" >"$LAB/suite.plan"
awk '$1 == "test" { print $2 }' "$LAB/suite.plan" >"$LAB/suite-tests"
# The patched boot: the lab scenarios, then the suite (less the tests the
# scenarios already ran).
{
	cat "$IRQPATH_ROOT/scripts/lab/plans/lab.plan"
	awk 'NR == FNR { if ($1 == "test" || $1 == "trace" || $1 == "tracesh") seen[$2] = 1; next }
	     !($1 == "test" && seen[$2])' "$IRQPATH_ROOT/scripts/lab/plans/lab.plan" "$LAB/suite.plan"
} >"$LAB/check.plan"
# The lab's own safety net first: a guest that stops is restarted at the
# step it stopped in (scripts/lab/run.sh), on the base kernel.
check "lab: a guest that stops making progress is restarted where it stopped" \
	bash "$IRQPATH_ROOT/scripts/lab/restart-check.sh" "$LAB/base/bzImage" \
	"$LAB/initramfs.cpio" "$LAB/restart-check"
limit=${IRQPATH_SUITE_TIMEOUT:-1800}
log "lab: patched kernel, $(grep -c '^test\|^trace' "$LAB/check.plan") steps (console: $LAB/check-patched/console.log)"
if timed "lab: boot + suite, patched" bash "$IRQPATH_ROOT/scripts/lab/run.sh" "$LAB/patched/bzImage" \
		"$LAB/initramfs.cpio" "$LAB/check.plan" "$LAB/check-patched" "$limit"; then
	pass "lab: patched kernel booted and reported"
else
	fail "lab: patched kernel booted and reported"; finish
fi

# The base run is a pure function of the base kernel, the test binaries,
# the guest's scripts, run.sh and the plan: reuse it when none of them
# changed.
# (Not the initramfs itself: cpio records mtimes, which every build renews.)
key=$( { sha1sum "$LAB/base/bzImage" "$LAB/suite.plan" | cut -d' ' -f1
	 (cd "$LAB/selftests" && find . -type f -print0 | sort -z | xargs -0 sha1sum)
	 (cd "$IRQPATH_ROOT/scripts/lab/guest" && find . -type f -print0 | sort -z | xargs -0 sha1sum)
	 sha1sum "$IRQPATH_ROOT/scripts/lab/run.sh" | cut -d' ' -f1
       } | sha1sum | cut -c1-16)
cached=$IRQPATH_CACHE/base-runs/$key
if [ -f "$cached/tap.txt" ]; then
	log "lab: base kernel run reused from $cached (same kernel, tests and plan)"
	rm -rf "$LAB/check-base"; cp -a "$cached" "$LAB/check-base"
	pass "lab: base kernel booted and reported (cached run $key)"
else
	log "lab: base kernel (console: $LAB/check-base/console.log)"
	if timed "lab: boot + suite, base" bash "$IRQPATH_ROOT/scripts/lab/run.sh" "$LAB/base/bzImage" \
			"$LAB/initramfs.cpio" "$LAB/suite.plan" "$LAB/check-base" "$limit"; then
		pass "lab: base kernel booted and reported"
		# A step the guest froze in twice is the emulator's verdict, not
		# the base kernel's: such a run is not kept for later runs.
		if ! grep -q '# TIMEOUT the guest stopped' "$LAB/check-base/tap.txt"; then
			mkdir -p "$IRQPATH_CACHE/base-runs"; rm -rf "$cached"; cp -a "$LAB/check-base" "$cached"
		fi
	else
		fail "lab: base kernel booted and reported"
	fi
fi

python3 "$IRQPATH_ROOT/scripts/lab/report.py" summary "$LAB/check-patched" --allow-fail \
	$(trace_args) --require-trace --json "$LAB/check-patched/summary.json" \
	>"$LAB/check-patched/summary.txt"
sed 's/^/  /' "$LAB/check-patched/summary.txt"
# Verdicts per selftest of the patched run.
xfail=$IRQPATH_ROOT/scripts/lab/expected-failures
# Tests the suite does not run (scripts/lab/suite.conf "skip", each with
# its measured reason) are counted as skipped, with the reason.
count_lines < <(sed -n 's/^# not run: \([^:]*\): \(.*\)$/SKIP selftest \1: not run in the lab: \2/p' "$LAB/suite.plan")
report=$IRQPATH_ROOT/scripts/lab/report.py
count_lines < <(python3 "$report" verdicts "$LAB/check-patched" "$LAB/check-base" "$xfail")

# The irqpath events of each scenario: counts and field values
# (scripts/lab/event-checks); VMX/VT-d-only events must be compiled in.
erc=0
python3 "$report" events "$LAB/check-patched" "$IRQPATH_ROOT/scripts/lab/event-checks" \
	>"$LAB/check-patched/events.txt" 2>&1 || erc=$?
count_lines <"$LAB/check-patched/events.txt"
if [ $erc -ne 0 ] && ! grep -q '^FAIL ' "$LAB/check-patched/events.txt"; then
	fail "event checks: report.py events exited $erc"
fi
check "lab: upstream suite, no regression against the base kernel" \
	python3 "$report" compare "$LAB/check-base" "$LAB/check-patched" \
	"$xfail" --tests "$LAB/suite-tests"
for run in check-patched check-base; do
	check "lab: no WARN/BUG/lockdep/KASAN/UBSAN report on the console ($run)" \
		python3 "$report" splats "$LAB/$run"
done
check "lab: KUnit suites at boot" python3 "$report" kunit "$LAB/check-patched"
stage_time "make check (total)" $(( $(date +%s) - t_start ))
finish
