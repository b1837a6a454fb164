# SPDX-License-Identifier: GPL-2.0
# Stages shared by `make lab` (scripts/lab.sh) and `make check`
# (scripts/check.sh).  Source after scripts/lib.sh.  Each stage records its
# wall time in $IRQPATH_BUILD/lab/timings.

LAB=$IRQPATH_BUILD/lab
mkdir -p "$LAB"

stage_time() { # NAME SECONDS
	printf '%-28s %5d s\n' "$1" "$2" >>"$LAB/timings"
}

timed() { # NAME CMD... : run CMD, record its time; return its status
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	"$@" || rc=$?
	stage_time "$name" $(( $(date +%s) - t0 ))
	return $rc
}

# The patched tree: pristine base + patches/ (build/linux, branch series).
stage_series() {
	bash "$IRQPATH_ROOT/scripts/series/apply.sh"
}

# Kernel + selftests + initramfs of the patched tree, into $LAB/patched/.
# The patched tree gets the series' own options (its KUnit suites) on top of
# the fragments it shares with the base kernel.
SERIES_FRAGMENTS="$IRQPATH_ROOT/configs/lab.config $IRQPATH_ROOT/configs/debug.config $IRQPATH_ROOT/configs/lab-series.config"

stage_patched_image() {
	mkdir -p "$LAB/patched"
	IRQPATH_FRAGMENTS=$SERIES_FRAGMENTS \
		bash "$IRQPATH_ROOT/scripts/kernel/build.sh" "$IRQPATH_LINUX" bzImage &&
	cp "$IRQPATH_LINUX/arch/x86/boot/bzImage" "$LAB/patched/bzImage" &&
	bash "$IRQPATH_ROOT/scripts/kernel/selftests.sh" "$IRQPATH_LINUX" "$LAB/selftests" &&
	bash "$IRQPATH_ROOT/scripts/lab/initramfs.sh" "$LAB/initramfs.cpio" "$LAB/selftests"
}

# The pristine base kernel (same config), into $LAB/base/bzImage.
stage_base_kernel() {
	local tag tree=$IRQPATH_BUILD/linux-base
	tag=$(bash "$IRQPATH_ROOT/scripts/series/base.sh")
	if [ ! -e "$tree/.git" ]; then
		git -C "$IRQPATH_LINUX" worktree prune
		git -C "$IRQPATH_LINUX" worktree add -q -f --detach "$tree" "$tag"
	fi
	git -C "$tree" checkout -q -f --detach "$tag"
	mkdir -p "$LAB/base"
	bash "$IRQPATH_ROOT/scripts/kernel/build.sh" "$tree" bzImage &&
	cp "$tree/arch/x86/boot/bzImage" "$LAB/base/bzImage"
}

# The upstream tests: those of the Makefile's x86_64 list whose source is
# in the base tree (irqpath's own tests are judged by their own runs).
upstream_tests() {
	local tag t
	tag=$(bash "$IRQPATH_ROOT/scripts/series/base.sh")
	while IFS= read -r t; do
		if git -C "$IRQPATH_LINUX" cat-file -e "$tag:tools/testing/selftests/kvm/x86_64/$t.c" 2>/dev/null ||
		   git -C "$IRQPATH_LINUX" cat-file -e "$tag:tools/testing/selftests/kvm/$t.c" 2>/dev/null; then
			echo "$t"
		fi
	done <"$LAB/selftests/.tests"
}

# "--trace NAME.dat" for each recording the lab plan makes.
trace_args() {
	awk '$1 == "trace" || $1 == "tracesh" { printf "--trace %s.dat ", $2 }' "$IRQPATH_ROOT/scripts/lab/plans/lab.plan"
}
