#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests of the series workflow on a scratch copy of the repository: the
# drift check accepts the real series and rejects each kind of drift;
# apply.sh names the patch and the base version when a patch fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/lib.sh"
export IRQPATH_LINUX IRQPATH_CACHE IRQPATH_BUILD
scratch=$(mktemp -d)
trap 'git -C "$IRQPATH_LINUX" worktree remove -f "$scratch/tree" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
failures=0

# Change the first context line of the first hunk: the patch no longer
# matches the base.
corrupt_context() {
	awk 'hunk && !done && /^ / { $0 = $0 " (not in the tree)"; done = 1 }
	     /^@@ / { hunk = 1 } { print }' "$1" >"$1.new" && mv "$1.new" "$1"
}

fresh() {
	rm -rf "$scratch/root"; mkdir -p "$scratch/root"
	cp -a "$here/scripts" "$here/patches" "$scratch/root/"
	for d in selftests Documentation; do
		[ -d "$here/$d" ] && cp -a "$here/$d" "$scratch/root/"
	done
	return 0
}
drift() { IRQPATH_ROOT=$scratch/root bash "$scratch/root/scripts/series/check-drift.sh" >"$scratch/out" 2>&1; }
expect_ok() {
	if drift; then echo "ok: $1"; else echo "FAILED: $1"; cat "$scratch/out"; failures=$((failures + 1)); fi
}
expect_drift() { # WHAT PATTERN
	if drift; then
		echo "FAILED: $1 was not detected"; failures=$((failures + 1))
	elif ! grep -q "$2" "$scratch/out"; then
		echo "FAILED: $1: message lacks '$2'"; cat "$scratch/out"; failures=$((failures + 1))
	else
		echo "ok: $1 detected: $(grep -m1 "$2" "$scratch/out")"
	fi
}

fresh; expect_ok "the committed series"
fresh; mkdir -p "$scratch/root/selftests/kvm/x86_64"; echo x >"$scratch/root/selftests/kvm/x86_64/stray.c"
expect_drift "a mirror the series does not add" "is not a file the series adds"
fresh; : >"$scratch/root/patches/series"
expect_drift "an empty series file" "differ"
fresh; first=$(head -n 1 "$scratch/root/patches/series")
corrupt_context "$scratch/root/patches/$first"
expect_drift "a patch that no longer applies" "does not apply"
fresh; sed -i 's/^Subject: \[PATCH 0*\/[0-9]*\]/Subject: [PATCH 0\/99]/' "$scratch/root/patches/0000-cover-letter.patch"
expect_drift "a cover letter with the wrong count" "does not announce"
fresh
mirror=$(cd "$scratch/root" && find selftests Documentation -type f 2>/dev/null | head -n 1 || true)
if [ -n "$mirror" ]; then
	echo "drift" >>"$scratch/root/$mirror"
	expect_drift "an edited mirror ($mirror)" "differs from"
	fresh; rm "$scratch/root/$mirror"
	expect_drift "a missing mirror ($mirror)" "is missing"
fi

# apply.sh on a broken patch, in a scratch worktree.
fresh; first=$(head -n 1 "$scratch/root/patches/series")
corrupt_context "$scratch/root/patches/$first"
if IRQPATH_ROOT=$scratch/root bash "$scratch/root/scripts/series/apply.sh" "$scratch/tree" >"$scratch/out" 2>&1; then
	echo "FAILED: apply.sh accepted a broken patch"; failures=$((failures + 1))
elif grep -q "patch $first does not apply on base/" "$scratch/out"; then
	echo "ok: apply.sh names the patch and base: $(grep -m1 'does not apply' "$scratch/out")"
else
	echo "FAILED: apply.sh message"; cat "$scratch/out"; failures=$((failures + 1))
fi
git -C "$scratch/tree" am --abort >/dev/null 2>&1 || true
git -C "$IRQPATH_LINUX" worktree remove -f "$scratch/tree" >/dev/null 2>&1 || true
git -C "$IRQPATH_LINUX" branch -D tree >/dev/null 2>&1 || true
git -C "$IRQPATH_LINUX" update-ref -d refs/irqpath/prev-tree 2>/dev/null || true

[ $failures -eq 0 ] && echo "series_test: all passed" || { echo "series_test: $failures failed"; exit 1; }
