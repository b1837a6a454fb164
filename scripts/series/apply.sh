#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apply.sh - reset a kernel work tree to the pristine base and `git am` the
# series in the order of patches/series.
#
# Usage: scripts/series/apply.sh [TREE]
#
# TREE defaults to build/linux (branch "series").  Any other TREE is made a
# git worktree of build/linux on a branch named after it.  The branch's
# previous head is kept in refs/irqpath/prev-<branch>, so nothing that was
# not exported is lost.  On failure the tree is left in `git am`'s state
# for inspection, and the failing patch and the base version are named.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

tag=$(bash "$IRQPATH_ROOT/scripts/series/base.sh")
tree=${1:-$IRQPATH_LINUX}
series=$IRQPATH_ROOT/patches/series
[ -f "$series" ] || die "$series is missing"

if [ "$(realpath -m "$tree")" = "$(realpath -m "$IRQPATH_LINUX")" ]; then
	branch=$IRQPATH_SERIES_BRANCH
else
	branch=$(basename "$tree")
	if [ ! -e "$tree/.git" ]; then
		git -C "$IRQPATH_LINUX" worktree prune
		git -C "$IRQPATH_LINUX" worktree add -q -f -B "$branch" "$(realpath -m "$tree")" "$tag"
	fi
fi

cd "$tree"
if [ -d "$(git rev-parse --git-path rebase-apply)" ]; then
	log "aborting the git am left over in $tree"
	git am --abort
fi
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$tree has uncommitted changes: commit and export them (scripts/series/export.sh) or discard them"
# Already there?  When the branch's tree is what the series gives, keep it:
# re-applying would rewrite the patched files and rebuild what depends on
# them.  The expected tree comes from `git apply --cached` on a scratch
# index of the base, which needs no checkout.
expected_tree() {
	local idx p
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git read-tree "$tag"
	while IFS= read -r p; do
		p=${p%%#*}; p=$(printf '%s' "$p" | awk '{print $1}')
		[ -n "$p" ] || continue
		GIT_INDEX_FILE=$idx git apply --cached "$IRQPATH_ROOT/patches/$p" 2>/dev/null ||
			{ rm -f "$idx"; return 1; }
	done <"$series"
	GIT_INDEX_FILE=$idx git write-tree
	rm -f "$idx"
}
if [ "$(git symbolic-ref -q --short HEAD)" = "$branch" ] &&
   [ "$(git rev-list --count "$tag..HEAD" 2>/dev/null)" = "$(sed 's/#.*//' "$series" | awk 'NF' | wc -l)" ] &&
   want=$(expected_tree) && [ "$want" = "$(git rev-parse 'HEAD^{tree}')" ]; then
	log "$tree (branch $branch) already holds the series on $tag"
	exit 0
fi
if git rev-parse -q --verify "refs/heads/$branch" >/dev/null; then
	git update-ref "refs/irqpath/prev-$branch" "refs/heads/$branch"
fi
git checkout -q -B "$branch" "$tag"

n=0
while IFS= read -r p; do
	p=${p%%#*}
	p=$(printf '%s' "$p" | awk '{print $1}')
	[ -n "$p" ] || continue
	f=$IRQPATH_ROOT/patches/$p
	[ -f "$f" ] || die "patches/series names $p, which is not in patches/"
	if ! git am -q --keep-cr "$f" >"$IRQPATH_BUILD/am.log" 2>&1; then
		cat "$IRQPATH_BUILD/am.log" >&2
		die "patch $p does not apply on $tag ($(make -s kernelversion 2>/dev/null || echo '?')); $tree is left in git am's state (git am --show-current-patch=diff)"
	fi
	n=$((n + 1))
done <"$series"
log "applied $n patch(es) on $tag in $tree (branch $branch)"
