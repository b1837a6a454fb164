#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# export.sh - write the developer's kernel branch back into the repository:
# patches/NNNN-*.patch with a cover letter, the quilt series file, and the
# byte-identical mirrors of every file the series adds under
# tools/testing/selftests/kvm/ (-> selftests/kvm/) and Documentation/
# (-> Documentation/).
#
# Usage: scripts/series/export.sh [BRANCH]      (default: series, in build/linux)
#
# The cover letter's subject and text are kept from the current
# patches/0000-cover-letter.patch; the shortlog, diffstat and base-commit
# are regenerated.  Patches carry an all-zero "From" commit id so that
# exporting the same commits twice gives the same bytes.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

branch=${1:-$IRQPATH_SERIES_BRANCH}
tag=$(bash "$IRQPATH_ROOT/scripts/series/base.sh")
git -C "$IRQPATH_LINUX" rev-parse -q --verify "$branch" >/dev/null ||
	die "no branch $branch in $IRQPATH_LINUX"
count=$(git -C "$IRQPATH_LINUX" rev-list --count "$tag..$branch")
[ "$count" -gt 0 ] || die "$branch has no commits on top of $tag"
git -C "$IRQPATH_LINUX" merge-base --is-ancestor "$tag" "$branch" ||
	die "$branch is not based on $tag"

out=$IRQPATH_ROOT/patches
cover=$out/0000-cover-letter.patch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Subject and blurb of the existing cover letter: the Subject header less
# its "[PATCH 0/N]" prefix, then the body up to the shortlog's first
# "Author Name (count):" line.
if [ -f "$cover" ]; then
	# Headers end at the first empty line; a folded header continues on
	# lines that start with white space.
	awk '/^$/ { exit } { print }' "$cover" |
		awk '/^[ \t]/ { sub(/^[ \t]+/, " "); line = line $0; next }
		     { if (line != "") print line; line = $0 }
		     END { print line }' |
		sed -n 's/^Subject: \[[^]]*\] *//p' >"$tmp/desc"
	awk 'body && /^[^ ].* \([0-9]+\):$/ { exit }
	     body { print }
	     !body && /^$/ { body = 1 }' "$cover" |
		sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$tmp/blurb"
	{ echo; cat "$tmp/blurb"; } >>"$tmp/desc"
else
	printf 'irqpath: observable, provably correct interrupt delivery into KVM guests\n\n(describe the series here)\n' >"$tmp/desc"
fi
git -C "$IRQPATH_LINUX" config "branch.$branch.description" "$(cat "$tmp/desc")"

rm -f "$out"/*.patch
git -C "$IRQPATH_LINUX" format-patch -q --zero-commit --cover-letter \
	--cover-from-description=subject --base="$tag" --no-signature \
	-o "$out" "$tag..$branch"
# The cover letter carries the tip commit's date, not the export's time,
# so that exporting unchanged commits changes no byte.
sed -i "1,/^$/s/^Date: .*/Date: $(git -C "$IRQPATH_LINUX" log -1 --format=%aD "$branch")/" "$out/0000-cover-letter.patch"
# Quilt's series file: the patches in order, the cover letter excluded.
(cd "$out" && ls -1 [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-cover-letter.patch$') >"$out/series"

# Mirrors of the files the series adds.
rm -rf "$IRQPATH_ROOT/selftests/kvm" "$IRQPATH_ROOT/Documentation"
git -C "$IRQPATH_LINUX" diff --name-only --diff-filter=A "$tag" "$branch" -- \
	tools/testing/selftests/kvm Documentation |
while IFS= read -r f; do
	case $f in
	tools/testing/selftests/kvm/*) m=selftests/kvm/${f#tools/testing/selftests/kvm/} ;;
	*) m=$f ;;
	esac
	mkdir -p "$IRQPATH_ROOT/$(dirname "$m")"
	git -C "$IRQPATH_LINUX" show "$branch:$f" >"$IRQPATH_ROOT/$m"
	echo "mirror: $m"
done
log "exported $count patch(es) of $branch on $tag into patches/"
