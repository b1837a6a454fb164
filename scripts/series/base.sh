#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# base.sh - make $IRQPATH_LINUX (build/linux) a git tree whose tag
# base/<debian-version> is Debian's pristine linux-source-6.12.
#
# The tree is made once per package version: extracted from the tarball,
# committed with a fixed identity and date (so that every machine gets the
# same base commit id), and kept in $IRQPATH_CACHE/linux-base.git.  Later
# calls, and fresh clones of irqpath on the same machine, clone from that
# cache in seconds.  A newer linux-source-6.12 gives a new tag and a new
# base; old tags stay in the cache.
#
# Usage: scripts/series/base.sh            prints the base tag on stdout
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

mkdir -p "$IRQPATH_BUILD" "$IRQPATH_CACHE"
need_pkg "$IRQPATH_SRCPKG" git xz-utils

tag=$(base_tag) || die "cannot read the version of $IRQPATH_SRCPKG"
ver=$(base_pkg_version)
cache=$IRQPATH_CACHE/linux-base.git
tarball=/usr/src/$IRQPATH_SRCPKG.tar.xz
[ -r "$tarball" ] || die "$tarball is missing: reinstall $IRQPATH_SRCPKG"

have_tag() { git -C "$1" rev-parse -q --verify "refs/tags/$tag" >/dev/null 2>&1; }

make_cache() {
	local tmp=$IRQPATH_BUILD/base-extract
	local date upstream
	rm -rf "$tmp"; mkdir -p "$tmp"
	log "extracting $tarball ($ver)"
	tar xJf "$tarball" -C "$tmp"
	local src=$tmp/$IRQPATH_SRCPKG
	upstream=$(make -s -C "$src" kernelversion 2>/dev/null)
	# Debian's tarball ends the top-level .gitignore with a stanza that
	# ignores everything at the top level ("/*" and "!/debian/"): it
	# would hide the whole tree and every new file a patch adds.
	sed '/^# Debian packaging: ignore everything/,$d' "$src/.gitignore" |
		tac | awk 'trail && /^#?$/ { next } { trail = 0; print }' trail=1 |
		tac >"$tmp/gitignore"
	mv "$tmp/gitignore" "$src/.gitignore"
	# The package changelog's date makes the base commit id reproducible.
	date=$(zcat "/usr/share/doc/$IRQPATH_SRCPKG/changelog.Debian.gz" |
		sed -n 's/^ -- .*>  //p' | sed -n 1p)
	log "committing the pristine tree (Linux $upstream)"
	(
		cd "$src"
		git init -q -b base
		git config core.autocrlf false
		git config gc.auto 0
		# -f: the tarball's dot-files (.mailmap, .clang-format, ...) are
		# matched by .gitignore rules but belong to the source.
		git add -A -f .
		GIT_AUTHOR_NAME=irqpath GIT_AUTHOR_EMAIL=irqpath@localhost \
		GIT_COMMITTER_NAME=irqpath GIT_COMMITTER_EMAIL=irqpath@localhost \
		GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
			git commit -q -m "Linux $upstream (Debian $IRQPATH_SRCPKG $ver)" \
				-m "Pristine tree of Debian's $IRQPATH_SRCPKG $ver, less the
Debian stanza of the top-level .gitignore."
		git tag "$tag"
	)
	if [ -d "$cache/objects" ]; then
		# A cache made from another version: add this tag to it.
		git -C "$src" push -q "$cache" "refs/tags/$tag:refs/tags/$tag"
	else
		# First base on this machine: the new repository becomes the
		# cache as it is (loose objects; packing 1.7 GB costs minutes).
		mkdir -p "$(dirname "$cache")"
		mv "$src/.git" "$cache"
		git --git-dir="$cache" config core.bare true
	fi
	rm -rf "$tmp"
}

if [ -d "$IRQPATH_LINUX/.git" ] && have_tag "$IRQPATH_LINUX"; then
	printf '%s\n' "$tag"
	exit 0
fi
have_tag "$cache" 2>/dev/null || make_cache

if [ -d "$IRQPATH_LINUX/.git" ]; then
	log "fetching $tag into the existing $IRQPATH_LINUX"
	git -C "$IRQPATH_LINUX" fetch -q "$cache" "refs/tags/$tag:refs/tags/$tag"
else
	log "cloning the base tree from $cache"
	rm -rf "$IRQPATH_LINUX"
	git clone -q --no-checkout "$cache" "$IRQPATH_LINUX"
	git -C "$IRQPATH_LINUX" checkout -q -B "$IRQPATH_SERIES_BRANCH" "$tag"
fi
printf '%s\n' "$tag"
