#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-drift.sh - fail when patches/, patches/series and the mirrors
# (selftests/kvm/, Documentation/) disagree.
#
#  1. patches/series lists exactly the patches in patches/ (less the cover
#     letter), in file-name order;
#  2. the series applies to the pristine base (git apply on a scratch index:
#     no work tree is needed, so this takes seconds);
#  3. every file the series adds under tools/testing/selftests/kvm/ or
#     Documentation/ has a byte-identical mirror, and every mirror file is
#     such a file.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

tag=$(bash "$IRQPATH_ROOT/scripts/series/base.sh")
pdir=$IRQPATH_ROOT/patches
fail=0
bad() { printf 'drift: %s\n' "$*" >&2; fail=1; }

[ -f "$pdir/series" ] || die "patches/series is missing"
listed=$(sed 's/#.*//' "$pdir/series" | awk 'NF { print $1 }')
present=$(cd "$pdir" && ls -1 -- *.patch 2>/dev/null | grep -v '^0000-cover-letter.patch$' || true)
[ "$listed" = "$present" ] ||
	bad "patches/series and patches/*.patch differ: $(diff <(echo "$listed") <(echo "$present") | grep '^[<>]' | tr '\n' ' ')"
[ "$listed" = "$(echo "$listed" | sort)" ] || bad "patches/series is not in file-name order"
[ -n "$listed" ] || bad "the series is empty"
[ -f "$pdir/0000-cover-letter.patch" ] || bad "patches/0000-cover-letter.patch is missing"
n=$(echo "$listed" | grep -c . || true)
if [ -f "$pdir/0000-cover-letter.patch" ]; then
	grep -q "^Subject: \[PATCH 0*0/0*$n\]" "$pdir/0000-cover-letter.patch" ||
		bad "the cover letter does not announce $n patches"
fi

# Apply on a scratch index of the base commit.
export GIT_INDEX_FILE
GIT_INDEX_FILE=$(mktemp)
trap 'rm -f "$GIT_INDEX_FILE"' EXIT
git -C "$IRQPATH_LINUX" read-tree "$tag"
added=()
for p in $listed; do
	[ -f "$pdir/$p" ] || continue
	if ! git -C "$IRQPATH_LINUX" apply --cached "$pdir/$p" 2>"$IRQPATH_BUILD/drift-apply.log"; then
		bad "$p does not apply on $tag: $(head -n 3 "$IRQPATH_BUILD/drift-apply.log" | tr '\n' ' ')"
		break
	fi
	while IFS= read -r f; do added+=("$f"); done < <(
		git -C "$IRQPATH_LINUX" apply --numstat --summary "$pdir/$p" |
			sed -n 's/^ create mode [0-7]* //p')
done

declare -A want=()
for f in "${added[@]}"; do
	# A file a later patch deletes again is not mirrored.
	git -C "$IRQPATH_LINUX" cat-file -e ":$f" 2>/dev/null || continue
	case $f in
	tools/testing/selftests/kvm/*) m=selftests/kvm/${f#tools/testing/selftests/kvm/} ;;
	Documentation/*) m=$f ;;
	*) continue ;;
	esac
	want[$m]=1
	if [ ! -f "$IRQPATH_ROOT/$m" ]; then
		bad "$m is missing (the series adds $f)"
	elif ! git -C "$IRQPATH_LINUX" show ":$f" | cmp -s - "$IRQPATH_ROOT/$m"; then
		bad "$m differs from $f in the series"
	fi
done
for d in selftests/kvm Documentation; do
	[ -d "$IRQPATH_ROOT/$d" ] || continue
	while IFS= read -r m; do
		[ -n "${want[$m]:-}" ] || bad "$m is not a file the series adds"
	done < <(cd "$IRQPATH_ROOT" && find "$d" -type f | sort)
done

[ $fail -eq 0 ] || exit 1
echo "drift: patches/, series (${n} patches) and ${#want[@]} mirror file(s) agree on $tag"
