# SPDX-License-Identifier: GPL-2.0
# irqpath: the two commands, and the workflow pieces they are made of.
#
#   make lab      the main job: series -> lab kernel -> nested-SVM lab run
#   make check    every test, ending with "N passed, N failed, N skipped"
#
# Both install what they need with apt-get on a fresh Debian 12 machine.

SHELL := /bin/bash

.PHONY: lab check overhead base apply export drift check-patches kernel help

lab:
	@bash scripts/lab.sh

check:
	@bash scripts/check.sh

# What the tracepoints and stats cost: base vs patched (events off/on).
overhead:
	@bash scripts/lab/overhead.sh

# Workflow pieces (README, "Developing the series").
base:
	@bash scripts/series/base.sh
apply:
	@bash scripts/series/apply.sh
export:
	@bash scripts/series/export.sh
drift:
	@bash scripts/series/check-drift.sh
check-patches:
	@bash scripts/series/check-patches.sh
kernel:
	@bash scripts/kernel/build.sh build/linux bzImage

help:
	@sed -n 's/^#   //p' Makefile
