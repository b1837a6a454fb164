#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-patches.sh - series hygiene, patch by patch:
#   - checkpatch.pl --strict (the base tree's own) is clean;
#   - the tree at that patch builds, with W=1, every directory the patch
#     touches (and, for a header under include/ or arch/x86/include/, the
#     KVM, VT-d, vhost and VFIO directories whose C files include it), and
#     adds no W=1 warning that the base tree and the patches before it
#     do not have;
#   - a patch that touches tools/testing/selftests/kvm builds the selftests.
#
# Usage: scripts/series/check-patches.sh
# Prints one "PASS|FAIL <patch>: <check>" line per check; exit 1 on a FAIL.
# Works in its own worktree, build/linux-bisect, so the lab's objects in
# build/linux are left alone.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

tag=$(bash "$IRQPATH_ROOT/scripts/series/base.sh")
tree=$IRQPATH_BUILD/linux-bisect
series=$IRQPATH_ROOT/patches/series
logdir=$IRQPATH_BUILD/check-patches
rm -rf "$logdir"; mkdir -p "$logdir"
fail=0
result() { # STATUS PATCH CHECK
	printf '%s %s: %s\n' "$1" "$2" "$3"
	[ "$1" = PASS ] || fail=1
}

if [ ! -e "$tree/.git" ]; then
	git -C "$IRQPATH_LINUX" worktree prune
	git -C "$IRQPATH_LINUX" worktree add -q -f --detach "$tree" "$tag"
fi
git -C "$tree" am --abort >/dev/null 2>&1 || true
git -C "$tree" checkout -q -f --detach "$tag"
git -C "$tree" clean -q -fd -e '*.o' >/dev/null 2>&1 || true

# Directories with C code that irqpath's headers reach.
SCAN_DIRS="arch/x86/kvm virt/kvm drivers/iommu/intel drivers/vhost drivers/vfio"
dirs_for() { # FILE... -> buildable directories (trailing slash)
	local f d
	for f in "$@"; do
		case $f in
		tools/*|Documentation/*|scripts/*)
			# Not kbuild directories: the selftests are built below.
			;;
		*.c|*.S)
			d=$(dirname "$f")
			while [ "$d" != . ] && [ ! -f "$tree/$d/Makefile" ] && [ ! -f "$tree/$d/Kbuild" ]; do
				d=$(dirname "$d")
			done
			[ "$d" != . ] && echo "$d/" ;;
		include/*.h|arch/x86/include/*.h)
			local inc=${f#include/}
			inc=${inc#arch/x86/include/}
			# shellcheck disable=SC2086
			git -C "$tree" grep -l -F "#include <$inc>" -- $SCAN_DIRS | xargs -r -n1 dirname
			;;
		arch/*/*.h|drivers/*.h|virt/*.h)
			dirname "$f" ;;
		esac
	done | sed 's|/*$|/|' | sort -u | while read -r d; do
		# Only directories the lab config builds.
		[ -n "$(find "$tree/$d" -maxdepth 1 -name '*.c' -print -quit)" ] && echo "$d"
	done
}

warnings() { # LOG -> normalized W=1 warnings (file: text, no line numbers)
	grep -E ': warning: ' "$1" | sed -E 's/:[0-9]+:[0-9]+: warning: /: warning: /' | sort -u || true
}

build_dirs() { # LOG DIRS...
	local logf=$1 opt changed=0; shift
	# A patch may add Kconfig options (the KUnit suites): give them their
	# defaults, then turn on those the lab turns on (configs/lab-series.config)
	# once the tree knows them, so that their code is built here too.  Never
	# let a config prompt read stdin.
	make -C "$tree" olddefconfig </dev/null >"$logf" 2>&1 || return 1
	for opt in $(grep -o '^CONFIG_[A-Z0-9_]*' "$IRQPATH_ROOT/configs/lab-series.config"); do
		if grep -q "^# $opt is not set" "$tree/.config"; then
			"$tree/scripts/config" --file "$tree/.config" --enable "$opt"
			changed=1
		fi
	done
	if [ $changed -eq 1 ]; then
		make -C "$tree" olddefconfig </dev/null >>"$logf" 2>&1 || return 1
	fi
	make -C "$tree" -j"$IRQPATH_JOBS" CC="ccache gcc" HOSTCC="ccache gcc" W=1 "$@" \
		</dev/null >>"$logf" 2>&1
}

# The lab config, so that the checks see the code the lab runs.
bash "$IRQPATH_ROOT/scripts/kernel/build.sh" "$tree" prepare >/dev/null

n=0
# The series is read on fd 3: nothing in the loop may eat the list.
while IFS= read -r p <&3; do
	p=${p%%#*}; p=$(printf '%s' "$p" | awk '{print $1}')
	[ -n "$p" ] || continue
	n=$((n + 1))
	pf=$IRQPATH_ROOT/patches/$p
	files=$(git -C "$tree" apply --numstat "$pf" | cut -f3)

	# checkpatch of the patch file, with the tree it applies to.
	# /usr/bin first: checkpatch runs spdxcheck.py with Debian's python3-ply.
	if (cd "$tree" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --quiet --no-summary "$pf") >"$logdir/$n.checkpatch" 2>&1; then
		result PASS "$p" "checkpatch --strict"
	else
		result FAIL "$p" "checkpatch --strict"; sed 's/^/    /' "$logdir/$n.checkpatch" | head -n 30
	fi

	# shellcheck disable=SC2086
	dirs=$(dirs_for $files)
	# The baseline warnings of these directories, before the patch.
	if [ -n "$dirs" ]; then
		# shellcheck disable=SC2086
		build_dirs "$logdir/$n.before" $dirs || true
	fi
	if ! git -C "$tree" am -q --keep-cr "$pf" >"$logdir/$n.am" 2>&1; then
		result FAIL "$p" "applies with git am on the base and the patches before it"
		head -n 10 "$logdir/$n.am"
		break
	fi
	result PASS "$p" "applies with git am on the base and the patches before it"
	if [ -n "$dirs" ]; then
		# shellcheck disable=SC2086
		if build_dirs "$logdir/$n.build" $dirs; then
			# make prints a warning only when it compiles the file, so
			# the reference is every warning seen so far: at the base
			# (the first W=1 build compiles every file of the
			# directories) and at the patches before this one.
			warnings "$logdir/$n.before" >>"$logdir/known"
			new=$(comm -13 <(sort -u "$logdir/known") <(warnings "$logdir/$n.build"))
			warnings "$logdir/$n.build" >>"$logdir/known"
			if [ -z "$new" ]; then
				result PASS "$p" "builds $(echo $dirs | tr '\n' ' ')with W=1, no new warnings"
			else
				result FAIL "$p" "new W=1 warnings in $(echo $dirs)"
				printf '%s\n' "$new" | sed 's/^/    /' | head -n 20
			fi
		else
			result FAIL "$p" "build of $(echo $dirs) with W=1"
			grep -E -A3 'error:|Error [0-9]' "$logdir/$n.build" | head -n 30 | sed 's/^/    /'
		fi
	fi
	if printf '%s\n' "$files" | grep -q '^tools/testing/selftests/kvm/'; then
		if (make -C "$tree" -s headers && make -C "$tree/tools/testing/selftests/kvm" -j"$IRQPATH_JOBS" \
				CC="ccache gcc") >"$logdir/$n.selftests" 2>&1; then
			# No compiler warning in a file this patch touches.
			touched=$(printf '%s\n' "$files" | sed -n 's|^tools/testing/selftests/kvm/||p')
			sw=$(grep -F -f <(printf '%s\n' "$touched" | sed 's/$/:/') "$logdir/$n.selftests" |
				grep ': warning: ' || true)
			if [ -z "$sw" ]; then
				result PASS "$p" "KVM selftests build, no warning in the files it touches"
			else
				result FAIL "$p" "KVM selftests build warnings"
				printf '%s\n' "$sw" | head -n 20 | sed 's/^/    /'
			fi
		else
			result FAIL "$p" "KVM selftests build"
			grep -E -A3 'error:' "$logdir/$n.selftests" | head -n 30 | sed 's/^/    /'
		fi
	fi
done 3<"$series"
exit $fail
